"""API shapes for search results."""

from __future__ import annotations

import datetime as dt

import msgspec

from community.forums.schemas import Author

# Posts waiting or taken out of view, as the staff filter names them; "visible" is the rest.
STATUSES = ("visible", "hidden", "held")


class SearchHit(msgspec.Struct):
    """A post that matched, with its thread's title, as Discourse lists results."""

    post_id: int
    post_number: int
    thread_id: int
    thread_title: str
    category_id: int
    author: Author
    created_at: dt.datetime
    # HTML: the text escaped, with <mark> around the matched words and nothing else.
    title_html: str
    snippet_html: str
    # Why the post is out of view ("flags", "moderator", "held"), for the readers who may
    # still see it (its author and its moderators); None when everyone sees it.
    hidden: str | None = None


class SearchPage(msgspec.Struct):
    items: list[SearchHit]
    page: int
    limit: int
    # Matches counted up to `reach`; `total_exact` is false when there were more.
    total: int
    total_exact: bool
    next_page: int | None
