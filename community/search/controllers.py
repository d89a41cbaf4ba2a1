"""HTTP endpoint for search: parse, rate-limit the anonymous, call the service."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from community.search import services
from community.search.query import MAX_LENGTH
from community.search.schemas import STATUSES, SearchPage
from server import ratelimit, runtime
from server.auth import Actor
from server.types import MAX_ID

Q = Annotated[str, Parameter(max_length=MAX_LENGTH, description="what to search for")]
CategoryId = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="this category and "
                                                                           "its subcategories")]
Handle = Annotated[str | None, Parameter(max_length=40, description="the author's handle")]
Status = Annotated[str | None, Parameter(pattern="^(" + "|".join(STATUSES) + ")$",
                                         description="staff only: visible, hidden or held")]
Day = Annotated[dt.date | None, Parameter(description="a UTC day, YYYY-MM-DD, included")]
Page = Annotated[int, Parameter(ge=1, le=services.REACH, description="from 1")]
Limit = Annotated[int, Parameter(ge=1, le=services.MAX_LIMIT, description="page size, 1 to 50")]


class SearchController(Controller):
    path = "/api/search"
    tags = ["search"]

    @get("/")
    async def search(self, request: Request[Any, Any, Any], actor: Actor, q: Q,
                     category_id: CategoryId = None, author: Handle = None,
                     since: Day = None, until: Day = None,
                     status: Status = None, page: Page = 1, limit: Limit = 20) -> SearchPage:
        """Posts the caller may read that match `q`, best first, with their thread's title
        and a snippet; the HTML fields hold escaped text with `<mark>` around the matches.

        `q`: words (all must match), `"a phrase"`, `-word` to leave out, `pre*` for words
        starting with at least three letters; at most 8 terms and 200 characters. A query
        it cannot read is a 422 saying why. `since` and `until` are days (UTC), both
        included. Matches are ranked and counted up to the newest 1,000 (`total_exact`
        false past that). Anonymous searches are rate-limited per address."""
        if not actor.signed_in:
            await ratelimit.check("search", ratelimit.client_ip(request),
                                  runtime.current().settings.search_rate_limit)
        return await services.search(actor, q, category_id=category_id, author=author,
                                     since=since, until=until, status=status, page=page,
                                     limit=limit)
