"""Shared API field types."""

from typing import Annotated

import msgspec

# Row ids are 32-bit serials on both databases; larger numbers can name nothing.
MAX_ID = 2**31 - 1
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
