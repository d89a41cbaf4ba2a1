"""What a post must pass before it is written: the watched words (server.watched_words) and
the new-member limits (HEARTH_NEW_MEMBER_* settings).

The forum's write paths call `admit_post` (a new thread or reply) or `admit_edit` (a changed
title or body) first thing inside their unit of work, write what the admission says (the
text with replacements made, held or not), then call `Admission.report` with what they wrote
so that a watched word set to "flag" puts it in the review queue.

New-member limits: a member is new until their account is HEARTH_NEW_MEMBER_HOURS old and
has HEARTH_NEW_MEMBER_POSTS posts. New members have a number of threads and of replies per
UTC day, and of links and images per post; an account's first HEARTH_NEW_MEMBER_HELD_POSTS
posts wait for a moderator's approval. Staff are never gated. The day's posts are counted
with the member's row locked, in the transaction that writes the post, so two concurrent
posts at the limit cannot both pass.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from server import clock, db, events, outbox, watched_words
from server.auth import Actor
from server.errors import Invalid, RateLimited
from server.markup import render
from server.settings import Settings, get_settings

# The thread table's title column: a watched word's replacement can lengthen a title.
TITLE_LENGTH = 200

# nh3 writes every attribute double-quoted: `<a href="...">`, `<img src="...">`.
_LINK = re.compile(r'<a\s[^>]*?href="([^"]*)"')
_IMAGE = re.compile(r"<img\s")
# A mention renders as a link to the member's profile; it is no link in the limit's sense.
_MENTION_HREF = "#/u/"


@dataclass(frozen=True)
class Admission:
    """What to write: the texts with watched words replaced, and why the post waits for
    approval (None: it does not) or why it is to be flagged."""

    body: str
    title: str | None = None
    held_reason: str | None = None
    # A watched word set to "flag", in the title or in the body.
    title_flag: str | None = None
    body_flag: str | None = None

    async def report(self, *, author_id: int, thread_id: int, post_id: int | None,
                     category_id: int, brand_id: int | None) -> None:
        """Inside the unit of work, after the write: the system flags what a watched word
        set to "flag" matched (the thread for its title, the post for its body)."""
        flags = [("thread", thread_id, self.title_flag), ("post", post_id, self.body_flag)]
        for target_type, target_id, reason in flags:
            if reason is None or target_id is None:
                continue
            await outbox.emit(events.ContentAutoFlagged(
                target_type=target_type, target_id=target_id, author_id=author_id,
                reason=reason, thread_id=thread_id, category_id=category_id,
                brand_id=brand_id))


def _because(verdict: watched_words.Verdict) -> str:
    return f"watched word '{verdict.word}'"


async def _screen(text: str, what: str) -> watched_words.Verdict:
    verdict = await watched_words.screen(text)
    if verdict.action == "block":
        raise watched_words.refusal(verdict, what)
    return verdict


async def _screen_title(title: str | None) -> tuple[str | None, watched_words.Verdict | None]:
    if title is None:
        return None, None
    verdict = await _screen(title, "title")
    if len(verdict.text) > TITLE_LENGTH:
        raise Invalid(f"with watched words replaced, the title is longer than {TITLE_LENGTH} "
                      "characters")
    return verdict.text, verdict


async def admit_post(actor: Actor, body: str, title: str | None = None) -> Admission:
    """Inside the unit of work that writes a new reply (title None) or a new thread with its
    first post. Raises 422 for a blocked word or too many links or images, 429 past a day's
    limit; otherwise says what to write."""
    title, title_verdict = await _screen_title(title)
    verdict = await _screen(body, "post")
    staff = actor.is_staff
    held = next((_because(v) for v in (title_verdict, verdict)
                 if v is not None and v.action == "hold" and not staff), None)
    admission = Admission(
        body=verdict.text, title=title, held_reason=held,
        title_flag=_flag(title_verdict, staff), body_flag=_flag(verdict, staff))
    if staff:
        return admission
    settings = get_settings()
    if not _gated(settings):
        return admission
    member_id = actor.member()
    new, approved = await _newness(member_id, settings)
    if new:
        _check_media(verdict.text, settings)
        await _check_daily(member_id, thread=title is not None, settings=settings)
    if held is None and approved < settings.new_member_held_posts:
        count = settings.new_member_held_posts
        held = ("first post of a new account" if count == 1
                else f"one of the first {count} posts of a new account")
        admission = Admission(body=admission.body, title=title, held_reason=held,
                              title_flag=admission.title_flag, body_flag=admission.body_flag)
    return admission


async def admit_edit(actor: Actor, body: str | None = None,
                     title: str | None = None) -> Admission:
    """Inside the unit of work that changes a post's body or a thread's title. An edit is
    never held (the post is out already): a watched word set to "hold" flags it instead. A
    new member's edit keeps to the links and images limits."""
    title, title_verdict = await _screen_title(title)
    verdict = await _screen(body, "post") if body is not None else None
    staff = actor.is_staff
    admission = Admission(body=verdict.text if verdict is not None else "", title=title,
                          title_flag=_flag(title_verdict, staff, edit=True),
                          body_flag=_flag(verdict, staff, edit=True))
    if staff or verdict is None:
        return admission
    settings = get_settings()
    if settings.new_member_links_per_post is None and settings.new_member_images_per_post is None:
        return admission
    new, _ = await _newness(actor.member(), settings, lock=False)
    if new:
        _check_media(verdict.text, settings)
    return admission


def _flag(verdict: watched_words.Verdict | None, staff: bool, edit: bool = False) -> str | None:
    if verdict is None or staff:
        return None
    if verdict.action == "flag" or (edit and verdict.action == "hold"):
        return _because(verdict)
    return None


def _gated(settings: Settings) -> bool:
    """Whether any limit is set at all: with none, posting costs no query here."""
    return settings.new_member_held_posts > 0 or any(limit is not None for limit in (
        settings.new_member_threads_per_day, settings.new_member_replies_per_day,
        settings.new_member_links_per_post, settings.new_member_images_per_post))


async def _newness(member_id: int, settings: Settings, lock: bool = True) -> tuple[bool, int]:
    """Whether the member is new, and how many of their posts count (approved, not deleted;
    counted up to the most any setting asks about). `lock` holds the member's row until the
    transaction ends: their concurrent posts then count one after another."""
    if lock:
        rows = await db.lock_rows("member", "id, created_at", [member_id])
    else:
        rows = await db.fetch("SELECT id, created_at FROM member WHERE id = {}", member_id)
    created_at = rows[0]["created_at"]
    if isinstance(created_at, str):
        created_at = dt.datetime.fromisoformat(created_at)
    enough = max(settings.new_member_posts, settings.new_member_held_posts)
    approved = 0
    if enough:
        counted = await db.fetch(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM forum_post WHERE author = {} "
            "AND deleted_at IS NULL AND (hidden_reason IS NULL OR hidden_reason <> 'held') "
            "LIMIT {}) AS p", member_id, enough)
        approved = int(counted[0]["n"])
    young = clock.now() - created_at < dt.timedelta(hours=settings.new_member_hours)
    return young or approved < settings.new_member_posts, approved


def media(html: str) -> tuple[int, int]:
    """Links (not mentions) and images in rendered Markdown."""
    links = sum(1 for href in _LINK.findall(html) if not href.startswith(_MENTION_HREF))
    return links, len(_IMAGE.findall(html))


def _check_media(body: str, settings: Settings) -> None:
    links, images = media(render(body))
    for count, limit, what in ((links, settings.new_member_links_per_post, "link"),
                               (images, settings.new_member_images_per_post, "image")):
        if limit is not None and count > limit:
            allowed = f"no {what}s" if limit == 0 else (
                f"1 {what}" if limit == 1 else f"{limit} {what}s")
            raise Invalid(f"a new member's post may have {allowed}; this one has {count}")


async def _check_daily(member_id: int, *, thread: bool, settings: Settings) -> None:
    limit = (settings.new_member_threads_per_day if thread
             else settings.new_member_replies_per_day)
    if limit is None:
        return
    now = clock.now()
    day = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)
    first = "= 1" if thread else "> 1"
    # Held and deleted posts count too: deleting a post does not buy another.
    rows = await db.fetch(f"SELECT COUNT(*) AS n FROM forum_post WHERE author = {{}} "
                          f"AND created_at >= {{}} AND post_number {first}", member_id, day)
    if int(rows[0]["n"]) < limit:
        return
    one, many = ("thread", "threads") if thread else ("reply", "replies")
    resets = day + dt.timedelta(days=1)
    wait = max(1, int((resets - now).total_seconds()))
    allowed = f"no {many}" if limit == 0 else f"{limit} {one if limit == 1 else many}"
    raise RateLimited(f"while your account is new you may write {allowed} a day; you can "
                      f"write more after 00:00 UTC, in {_duration(wait)}", wait)


def _duration(seconds: int) -> str:
    hours, minutes = divmod((seconds + 59) // 60, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
