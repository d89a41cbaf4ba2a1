"""Refuse JSON bodies that no decoder should be handed, before any handler runs: invalid UTF-8,
and nesting deeper than any Hearth schema (msgspec recurses once a level, so a body nested
100,000 deep would end in a RecursionError, i.e. a 500)."""

from __future__ import annotations

import re
from array import array
from itertools import accumulate

from server.errors import BadRequest

MAX_DEPTH = 32

# A string, or an unterminated one running to the end (where the decoder will stop anyway).
# Possessive, and never failing once it starts: a failed match would be retried from every
# later quote, so `"\"\"\"...` (escaped quotes, no closing one) took quadratic time, an
# hour of event loop for a 1 MB body.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
# Opening brackets become +1, closing ones -1 (as signed bytes), everything else goes.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def check_json_body(body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid UTF-8 (byte {exc.start})") from None
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return
    # Brackets inside strings do not nest; the running sum of the rest is the depth.
    steps = array("b", _STRING.sub(b"", body).translate(_STEPS, _NOT_BRACKETS))
    if max(accumulate(steps), default=0) > MAX_DEPTH:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels")
