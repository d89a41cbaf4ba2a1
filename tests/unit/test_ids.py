"""Ids written as text (channel keys, a challenge's badge eligibility) take the same range as
ids in the API: 1 to MAX_ID, ASCII digits, no leading zero."""

from __future__ import annotations

import pytest

from server.types import MAX_ID, parse_id


@pytest.mark.parametrize("text", ["1", "10000000000", str(MAX_ID)])
def test_every_row_id_parses(text: str) -> None:
    assert parse_id(text) == int(text)


@pytest.mark.parametrize("text", ["", "0", "007", "-1", "1.0", "²", "\u0663", str(MAX_ID + 1),
                                  "99999999999999999999"])
def test_anything_else_is_none(text: str) -> None:
    assert parse_id(text) is None
