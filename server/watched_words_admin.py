"""The moderators' API for watched words (server.watched_words): the list, its changes, and
a box to try a text against it. Moderators and admins only; API tokens are refused."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post

from server import watched_words
from server.auth import PEOPLE_ONLY_OPT, Actor
from server.watched_words import ScreenIn, ScreenOut, WatchedWordIn, WatchedWordOut, WatchedWordPatch


class WatchedWordController(Controller):
    path = "/api/watched-words"
    tags = ["moderation"]
    opt = {PEOPLE_ONLY_OPT: True}

    @get("/")
    async def list_words(self, actor: Actor) -> list[WatchedWordOut]:
        """Every entry, by pattern."""
        return await watched_words.list_words(actor)

    @post("/", status_code=201)
    async def create_word(self, actor: Actor, data: WatchedWordIn) -> WatchedWordOut:
        """Add a word or phrase. `*` stands for any letters inside a word; a pattern that
        would match too much ("*", "a*") is a 422, and so is a full list. 409 when the
        pattern (ignoring case and spacing) is listed already."""
        return await watched_words.create_word(actor, data)

    @patch("/{entry_id:int}")
    async def update_word(self, actor: Actor, entry_id: int,
                          data: WatchedWordPatch) -> WatchedWordOut:
        """Change an entry's pattern, action or replacement."""
        return await watched_words.update_word(actor, entry_id, data)

    @delete("/{entry_id:int}", status_code=204)
    async def delete_word(self, actor: Actor, entry_id: int) -> None:
        await watched_words.delete_word(actor, entry_id)

    @post("/test", status_code=200)
    async def try_text(self, actor: Actor, data: ScreenIn) -> ScreenOut:
        """What the list would do to this text: the strongest action that matched, what
        matched, and the text with replacements made. Nothing is stored."""
        return await watched_words.try_text(actor, data.text)
