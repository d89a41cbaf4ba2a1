"""Shared API field types."""

import re
from typing import Annotated

import msgspec

# Row ids are 64-bit on both databases (bigserial, SQLite rowids); larger numbers name nothing.
MAX_ID = 2**63 - 1
# Counters kept in 32-bit columns (post numbers): a larger bound would reach PostgreSQL and fail.
MAX_INT32 = 2**31 - 1
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]

_ID_TEXT = re.compile(r"[1-9][0-9]{0,18}")


def parse_id(text: str) -> int | None:
    """A row id written out in text (a channel key, a setting's value), or None. Only ASCII
    digits, no leading zero: str.isdigit() accepts '²', which int() refuses, and ids beyond
    MAX_ID overflow the database's integer columns."""
    if _ID_TEXT.fullmatch(text) is None or int(text) > MAX_ID:
        return None
    return int(text)
