"""API shapes for categories, threads, posts and reactions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from server.text import require_plain
from server.types import Id

REACTION_KINDS = ("like", "love", "laugh", "insightful", "thanks")

Title = Annotated[str, msgspec.Meta(min_length=3, max_length=200)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=50_000)]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=80, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Position = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
Visibility = Annotated[str, msgspec.Meta(pattern=r"^(public|members)$")]
ReactionKind = Annotated[str, msgspec.Meta(pattern="^(" + "|".join(REACTION_KINDS) + ")$")]
# Discourse's levels: watching is told of every new post; tracking and normal only of replies
# to them and mentions of them; muted of nothing. A thread's level overrides its category's.
WATCH_LEVELS = ("watching", "tracking", "normal", "muted")
# Why a moderator changed someone else's content: kept with the revision and the staff log.
Reason = Annotated[str, msgspec.Meta(max_length=500)]
WatchLevel = Annotated[str, msgspec.Meta(pattern="^(" + "|".join(WATCH_LEVELS) + ")$")]


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    slug: Slug
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    parent_id: Id | None = None
    position: Position = 0
    visibility: Visibility = "public"
    brand_id: Id | None = None

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class CategoryPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    position: Position | None = None
    visibility: Visibility | None = None

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class CategoryPlace(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    position: Position
    parent_id: Id | None = None


class CategoryOrder(msgspec.Struct, forbid_unknown_fields=True):
    """Where each listed category goes: its parent (none: top level) and its position."""

    items: Annotated[list[CategoryPlace], msgspec.Meta(min_length=1, max_length=500)]


class CategoryOut(msgspec.Struct):
    id: int
    name: str
    slug: str
    description: str
    parent_id: int | None
    position: int
    visibility: str
    brand_id: int | None
    thread_count: int
    # The signed-in member's own level for the category; None for anonymous readers and
    # API tokens.
    watch_level: str | None = None


class Author(msgspec.Struct):
    id: int
    handle: str
    display_name: str


class ThreadIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    body: Body

    def __post_init__(self) -> None:
        require_plain(title=self.title)


class ThreadPatch(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    pinned: bool | None = None
    locked: bool | None = None
    # Moves the thread to this category (moderators).
    category_id: Id | None = None
    # Why, for the staff log (moderators' changes).
    reason: Reason | None = None

    def __post_init__(self) -> None:
        require_plain(title=self.title, reason=self.reason)


class ThreadOut(msgspec.Struct):
    id: int
    category_id: int
    title: str
    author: Author
    pinned: bool
    locked: bool
    created_at: dt.datetime
    last_activity_at: dt.datetime
    post_count: int
    highest_post_number: int
    helpful_post_id: int | None
    # For a signed-in member: posts after the last one they read; None when anonymous.
    unread_count: int | None = None


class ThreadPage(msgspec.Struct):
    items: list[ThreadOut]
    next_cursor: str | None


class PostIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Body
    reply_to_post_id: Id | None = None


class PostPatch(msgspec.Struct, forbid_unknown_fields=True):
    body: Body
    # Required when editing someone else's post; shown in the revision history and told to
    # the author.
    reason: Reason | None = None

    def __post_init__(self) -> None:
        require_plain(reason=self.reason)


class ModerationNote(msgspec.Struct, forbid_unknown_fields=True):
    """Why a moderator acts, for the staff log and whoever is told."""

    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class PostOut(msgspec.Struct):
    id: int
    thread_id: int
    post_number: int
    author: Author
    reply_to_post_id: int | None
    raw: str
    html: str
    revision: int
    created_at: dt.datetime
    edited_at: dt.datetime | None
    reactions: dict[str, int]
    my_reactions: list[str]
    # Set only for readers who may see a post others can't (its author, its moderators): why
    # it is out of view, "flags", "moderator" or "held" (waiting for approval).
    hidden: str | None = None


class Viewer(msgspec.Struct):
    """What a page means to the signed-in member reading it."""

    member_id: int
    # Where their read mark stands after this read.
    last_read_post_number: int
    # The thread takes their replies (it is not locked, or they moderate).
    can_reply: bool
    # They moderate the thread's category (moderators, admins, and brand staff of its
    # brand): they may pin, lock, move, and edit (with a reason) or delete any post.
    can_moderate: bool
    # Posts on this page they may edit (their own, while the thread is open) and delete.
    editable_post_ids: list[int]
    deletable_post_ids: list[int]
    # Posts on this page they bookmarked.
    bookmarked_post_ids: list[int]
    # Their level for the thread (see WatchOut).
    watch_level: str
    watch_source: str


class PostPage(msgspec.Struct):
    thread: ThreadOut
    items: list[PostOut]
    next_cursor: int | None
    # None for anonymous readers and API tokens.
    viewer: Viewer | None = None


class RevisionOut(msgspec.Struct):
    revision: int
    raw: str
    editor: Author
    created_at: dt.datetime
    # Why it was edited ("" when the author gave none).
    reason: str = ""


class ReactionIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: ReactionKind


class ReactionsOut(msgspec.Struct):
    post_id: int
    reactions: dict[str, int]
    my_reactions: list[str]


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Body


class PreviewOut(msgspec.Struct):
    # Rendered and sanitised exactly as a post's body would be.
    html: str


class CreatedThread(msgspec.Struct):
    thread: ThreadOut
    post: PostOut


class WatchIn(msgspec.Struct, forbid_unknown_fields=True):
    level: WatchLevel


class WatchOut(msgspec.Struct):
    """A member's level for a thread or category, and where it comes from: "thread" or
    "category" when set there, "default" (normal) when set nowhere."""

    level: str
    source: str


class BookmarkOut(msgspec.Struct):
    post_id: int
    bookmarked: bool


class BookmarkedPost(msgspec.Struct):
    id: int
    created_at: dt.datetime
    thread_id: int
    thread_title: str
    post: PostOut


class BookmarkPage(msgspec.Struct):
    items: list[BookmarkedPost]
    next_cursor: int | None


class ActivityItem(msgspec.Struct):
    """A post of the member's; `kind` is "thread" for the first post of a thread they
    started, else "post"."""

    kind: str
    post_id: int
    post_number: int
    thread_id: int
    thread_title: str
    category_id: int
    # The post's start as plain text (no markup), on one line.
    excerpt: str
    created_at: dt.datetime


class ActivityPage(msgspec.Struct):
    items: list[ActivityItem]
    # Pass back as `before` for older items; None on the last page.
    next_cursor: int | None
