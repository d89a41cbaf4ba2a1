"""User Markdown to safe HTML: markdown-it renders (raw HTML disabled), nh3 sanitises."""

from __future__ import annotations

import html as entities
import re

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")

_TAGS = {
    "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def render(markdown: str) -> str:
    html = _markdown.render(markdown)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    )


_SPACE = re.compile(r"\s+")


def excerpt(html: str, length: int) -> str:
    """The start of rendered HTML as plain text, one line, at most `length` characters (an
    ellipsis marks a cut): for lists of posts, where no markup is shown."""
    text = _SPACE.sub(" ", entities.unescape(nh3.clean(html, tags=set()))).strip()
    if len(text) <= length:
        return text
    return text[:length - 1].rstrip() + "…"
