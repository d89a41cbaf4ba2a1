"""Snippets with the matched words marked, as HTML that is safe by construction.

The database marks matches in plain text with two marker strings holding a random nonce
(a post cannot contain what it cannot guess). Here the text is split on the markers, every
piece of the post's own text is HTML-escaped, and only then are <mark> elements added, by us,
always balanced. No user text ever reaches the page as markup.
"""

from __future__ import annotations

import html
import re
import secrets

_NONCE = secrets.token_hex(8)
START = f"hs{_NONCE}"
STOP = f"he{_NONCE}"
_SPACE = re.compile(r"\s+")


def to_html(marked: str) -> str:
    out: list[str] = []
    inside = False
    for i, chunk in enumerate(_SPACE.sub(" ", marked).strip().split(START)):
        parts = chunk.split(STOP)
        for j, part in enumerate(parts):
            if j == 0 and i > 0:
                inside = True
            elif j > 0:
                inside = False
            if not part:
                continue
            text = html.escape(part, quote=True)
            out.append(f"<mark>{text}</mark>" if inside else text)
    return "".join(out)


def plain(text: str) -> str:
    """Text with no match marked, escaped alike."""
    return html.escape(_SPACE.sub(" ", text).strip(), quote=True)
