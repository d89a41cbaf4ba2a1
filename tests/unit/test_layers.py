"""Imports point one way (DESIGN.md): community and ugc -> gamification -> server, and inside
gamification ledger <- rules <- badges, tiers, leaderboards <- challenges. The kernel names no
package, and no package reads another's tables. Every import counts, including those inside
functions and `importlib.import_module("...")` calls."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "gamification", "community", "ugc")
# Which top-level packages each one may import (itself included).
MAY_IMPORT = {
    "server": {"server"},
    "gamification": {"server", "gamification"},
    "community": {"server", "gamification", "community"},
    "ugc": {"server", "gamification", "ugc"},
}
# A gamification module imports its own part or lower layers only. badges, tiers and
# leaderboards share a layer and do not import each other: DESIGN.md draws no edge between
# them. The package's own top-level modules (plugin, demo, piccolo_app) assemble the parts.
# inbound records what a brand's systems report with the member's tier on it ("double for
# VIP"), so it reads tiers; rules see its events through server.events only.
GAMIFICATION_LAYERS = {"ledger": 0, "rules": 1, "badges": 2, "tiers": 2, "leaderboards": 2,
                       "challenges": 3, "catalogue": 3, "inbound": 3, "hooks": 4}
ASSEMBLY = 5
# Foreign keys are declared by importing the referenced table: only tables modules (and the
# Piccolo app listing a package's own tables) may import another part's tables.
MAY_IMPORT_TABLES = ("tables", "piccolo_app")
KERNEL_MENTION = re.compile(r"^(community|gamification|ugc)([.:]\w|$)|\b(community|gamification|ugc)\.\w")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the tree, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                yield node.lineno, node.args[0].value


def _part(root: Path, module: str) -> str:
    """The unit a module (or a name in it) belongs to: `server`, a package's sub-package
    (`gamification.badges`), or the package itself for its top-level modules."""
    parts = module.split(".")
    if parts[0] != "server" and len(parts) > 1 and (root / parts[0] / parts[1]).is_dir():
        return ".".join(parts[:2])
    return parts[0]


def _layer(part: str) -> int:
    return GAMIFICATION_LAYERS.get(part.partition(".")[2], ASSEMBLY)


def _tables_of(root: Path, target: str) -> str | None:
    """The part whose tables module the import reaches, if it does."""
    parts = target.split(".")
    if "tables" not in parts:
        return None
    return _part(root, ".".join(parts[: parts.index("tables") + 1]))


def violations(root: Path) -> list[str]:
    found: list[str] = []
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")) if (root / top).is_dir() else []:
            module = _module_name(root, path)
            tree = ast.parse(path.read_text(), filename=str(path))
            own = _part(root, module)
            where = f"{path.relative_to(root)}"
            for line, target in _imports(tree, module, path.name == "__init__.py"):
                target_top = target.split(".")[0]
                if target_top not in PACKAGES:
                    continue
                if target_top not in MAY_IMPORT[top]:
                    found.append(f"{where}:{line}: {top} imports {target}")
                    continue
                other = _part(root, target)
                if top == "gamification" == target_top and other != own \
                        and _layer(other) >= _layer(own):
                    found.append(f"{where}:{line}: {own} imports {target}, which is not in a "
                                 "lower layer")
                    continue
                read = _tables_of(root, target)
                if read is not None and read != own \
                        and module.rpartition(".")[2] not in MAY_IMPORT_TABLES:
                    found.append(f"{where}:{line}: {own} reads {read}'s tables ({target})")
    return found


def kernel_mentions(root: Path) -> list[str]:
    """Strings in server/ that name a package's module ("gamification.piccolo_app")."""
    found = []
    for path in sorted((root / "server").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and KERNEL_MENTION.search(node.value.strip()):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.strip()[:60]!r}")
    return found


def test_imports_point_one_way() -> None:
    assert violations(ROOT) == []


def test_the_kernel_names_no_package() -> None:
    assert kernel_mentions(ROOT) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checker_finds_imports_against_the_direction(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "server/cli.py": "def f():\n    from gamification.leaderboards.services import rebuild\n",
        "gamification/ledger/services.py":
            "def f():\n    from gamification.challenges import services\n",
        "gamification/badges/services.py":
            "from gamification.tiers import services\nfrom gamification.ledger import services\n",
        "gamification/leaderboards/services.py":
            "import importlib\nimportlib.import_module('gamification.challenges.tables')\n",
        "gamification/challenges/services.py":
            "from ..badges import services\nfrom gamification.badges.tables import Activity\n",
        "gamification/challenges/tables.py": "from server.tables import Member\n",
        "community/forums/services.py": "from ugc.contests import services\n",
        "community/plugin.py": "from gamification.ledger import services\n",
        "gamification/plugin.py": "from gamification import demo\nfrom gamification.demo import X\n",
    })
    assert sorted(violations(root)) == [
        "community/forums/services.py:1: community imports ugc.contests.services",
        "gamification/badges/services.py:1: gamification.badges imports "
        "gamification.tiers.services, which is not in a lower layer",
        "gamification/challenges/services.py:2: gamification.challenges reads "
        "gamification.badges's tables (gamification.badges.tables.Activity)",
        "gamification/leaderboards/services.py:2: gamification.leaderboards imports "
        "gamification.challenges.tables, which is not in a lower layer",
        "gamification/ledger/services.py:2: gamification.ledger imports "
        "gamification.challenges.services, which is not in a lower layer",
        "server/cli.py:2: server imports gamification.leaderboards.services.rebuild",
    ]


def test_the_checker_finds_the_kernel_naming_a_package(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "server/piccolo_conf.py": 'APPS = ["server.piccolo_app", "gamification.piccolo_app"]\n',
        "server/runtime.py": 'INSTALLED = ("community",)\n',
        "server/cli.py": '"""Hearth: a community and gamification server."""\n',
        "server/markup.py": 'REL = "nofollow ugc noopener"\n',
    })
    assert kernel_mentions(root) == [
        "server/piccolo_conf.py:1: 'gamification.piccolo_app'",
        "server/runtime.py:1: 'community'",
    ]
