"""Names and titles people read: no control or format characters.

Control characters (Unicode category Cc) and format characters (Cf: bidirectional overrides
and isolates, the left-to-right/right-to-left marks, zero-width spaces and joiners, soft
hyphens...) are invisible or reorder what is shown around them, so a title could pose as
another or flip the text that follows it; line and paragraph separators (Zl, Zp) and lone
surrogates (Cs) do not belong in a one-line name either. Post bodies may contain them;
names may not.
"""

from __future__ import annotations

import unicodedata

from server.errors import Invalid

_REFUSED = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def _first_refused(value: str, allowed: str = "") -> str | None:
    return next((c for c in value
                 if unicodedata.category(c) in _REFUSED and c not in allowed), None)


def require_plain(**fields: object) -> None:
    """Raise Invalid (422) naming the first field holding a control or format character.
    Call it from a schema's __post_init__; fields left unset or None are skipped."""
    _require(fields, "")


def require_plain_lines(**fields: object) -> None:
    """require_plain() for text of several lines (a bio): line feeds are allowed."""
    _require(fields, "\n")


def _require(fields: dict[str, object], allowed: str) -> None:
    for name, value in fields.items():
        if not isinstance(value, str):
            continue
        bad = _first_refused(value, allowed)
        if bad is not None:
            raise Invalid(
                f"{name} must not contain control or invisible formatting characters "
                f"(found U+{ord(bad):04X})",
                [{"key": name, "message": f"U+{ord(bad):04X} is not allowed"}])
