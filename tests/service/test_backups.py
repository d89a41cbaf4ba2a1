"""A one-off command's runtime holds the embedded data dir: `hearth restore` refuses while it
is up, rather than swap the database under it (its writes would go to the replaced file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import backups, runtime
from server.settings import get_settings
from tests.service.support import Hearth


@pytest.mark.anyio
async def test_a_restore_refuses_while_a_command_runtime_is_up(
        hearth: Hearth, tmp_path: Path) -> None:
    settings = get_settings()
    (tmp_path / "out").mkdir()
    archive = backups.backup(settings, tmp_path / "out" / "hearth.tar").path
    with pytest.raises(backups.BackupError, match="stop it, then restore"):
        backups.restore(settings, archive)
    await runtime.stop()
    backups.restore(settings, archive)
