"""User Markdown to safe HTML: markdown-it renders (raw HTML disabled), nh3 sanitises.

An @handle in running text is a mention: it renders as a link to the member's profile page
in the web app (`#/u/<handle>`), and `mentions()` lists the handles a body mentions. Text in
code spans, code blocks, links and image descriptions mentions nobody.
"""

from __future__ import annotations

import html as entities
import re
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# Handles are 3 to 32 of [A-Za-z0-9_] (server.accounts.schemas.Handle). Not after a word
# character, `@` or `/`: an email address or a URL path is not a mention.
MENTION = re.compile(r"(?<![\w@/])@(\w{3,32})(?!\w)", re.ASCII)
# A post notifies at most this many members by mentioning them; the rest are plain links.
MAX_MENTIONS = 10


def _link_mentions(state: StateCore) -> None:
    """Split text tokens at mentions into profile links, and collect the handles (lower-cased,
    first seen first) in env["mentions"] when the caller passed an env."""
    found: list[str] | None = state.env.get("mentions") if isinstance(state.env, dict) else None
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            children += _split(token, found)
        block.children = children


def _split(token: Token, found: list[str] | None) -> list[Token]:
    out: list[Token] = []
    text, at = token.content, 0
    for match in MENTION.finditer(text):
        handle = match[1]
        if found is not None and handle.lower() not in found:
            found.append(handle.lower())
        if match.start() > at:
            out.append(_text(token, text[at:match.start()]))
        link = Token("link_open", "a", 1, attrs={"href": f"#/u/{handle}"})
        out += [link, _text(token, match[0]), Token("link_close", "a", -1)]
        at = match.end()
    if at < len(text):
        out.append(_text(token, text[at:]))
    return out


def _text(like: Token, content: str) -> Token:
    return Token("text", "", 0, content=content, level=like.level)


_markdown = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
# After text_join, so that each run of text is one token.
_markdown.core.ruler.push("mentions", _link_mentions)

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


def mentions(markdown: str) -> list[str]:
    """The lower-cased handles the text mentions, in order, each once, at most MAX_MENTIONS."""
    env: dict[str, Any] = {"mentions": []}
    _markdown.parse(markdown, env)
    found: list[str] = env["mentions"]
    return found[:MAX_MENTIONS]


_SPACE = re.compile(r"\s+")


def excerpt(html: str, length: int) -> str:
    """The start of rendered HTML as plain text, one line, at most `length` characters (an
    ellipsis marks a cut): for lists of posts, where no markup is shown."""
    text = _SPACE.sub(" ", entities.unescape(nh3.clean(html, tags=set()))).strip()
    if len(text) <= length:
        return text
    return text[:length - 1].rstrip() + "…"
