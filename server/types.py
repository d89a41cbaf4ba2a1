"""Shared API field types."""

from typing import Annotated

import msgspec

# Row ids are 64-bit on both databases (bigserial, SQLite rowids); larger numbers name nothing.
MAX_ID = 2**63 - 1
# Counters kept in 32-bit columns (post numbers): a larger bound would reach PostgreSQL and fail.
MAX_INT32 = 2**31 - 1
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
