"""API shapes for members, sessions, brands and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from server.text import require_plain, require_plain_lines
from server.types import Id

Handle = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_]+$")]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
# The upper bound keeps argon2 from being handed megabytes to hash.
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
# Plain text of a few paragraphs: line feeds allowed, no markup is ever rendered from it.
Bio = Annotated[str, msgspec.Meta(max_length=2000)]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=60, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    handle: Handle
    email: Email
    password: Password
    display_name: DisplayName | None = None

    def __post_init__(self) -> None:
        require_plain(handle=self.handle, display_name=self.display_name)


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    display_name: DisplayName | msgspec.UnsetType = msgspec.UNSET
    bio: Bio | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if isinstance(self.bio, str):
            # Windows line ends are line ends; a lone carriage return is refused below.
            self.bio = self.bio.replace("\r\n", "\n")
        require_plain(display_name=self.display_name)
        require_plain_lines(bio=self.bio)


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(pattern=r"^(member|moderator|admin|brand_staff)$")]
    brand_id: Id | None = None


class MemberOut(msgspec.Struct):
    id: int
    handle: str
    display_name: str
    bio: str
    role: str
    brand_id: int | None
    created_at: dt.datetime


class ProfileOut(msgspec.Struct):
    """What anyone may read about a member (their profile page)."""

    id: int
    handle: str
    display_name: str
    bio: str
    role: str
    created_at: dt.datetime
    # A moderator or the flags hid it: display name and bio are left out until restored.
    hidden: bool = False


class MemberAdminOut(msgspec.Struct):
    """A member as the admins' member lookup lists them."""

    id: int
    handle: str
    display_name: str
    email: str
    role: str
    brand_id: int | None
    is_active: bool
    created_at: dt.datetime


class MemberPage(msgspec.Struct):
    items: list[MemberAdminOut]
    # Members matching the search, counted up to 10,000: past that, total is 10,000 and
    # total_exact false (pages end there too; a narrower search finds a member sooner).
    total: int
    total_exact: bool
    page: int
    limit: int
    pages: int


class MemberSuggestion(msgspec.Struct):
    """A handle offered while typing an @mention."""

    id: int
    handle: str
    display_name: str


class MeOut(msgspec.Struct):
    member: MemberOut
    email: str
    csrf_token: str


class SessionOut(msgspec.Struct):
    member: MemberOut
    csrf_token: str


class BrandIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    slug: Slug


class BrandOut(msgspec.Struct):
    id: int
    name: str
    slug: str


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=4)]


class TokenOut(msgspec.Struct):
    id: int
    brand_id: int
    name: str
    scopes: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(msgspec.Struct):
    token: TokenOut
    # Shown once; only its hash is stored.
    secret: str


# The secret of a link sent by mail (server.security.new_secret: URL-safe base64).
LinkToken = Annotated[str, msgspec.Meta(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class ResetRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]


class ResetIn(msgspec.Struct, forbid_unknown_fields=True):
    token: LinkToken
    password: Password


class PasswordChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Password


class EmailChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    email: Email


class EmailConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    token: LinkToken


class AcceptedOut(msgspec.Struct):
    message: str


class EmailOut(msgspec.Struct):
    email: str


# --- sanctions (server.accounts.sanctions) ---------------------------------------------------

SanctionKind = Annotated[str, msgspec.Meta(pattern=r"^(silence|suspend)$")]
# Why, as the member reads it: a sentence or a few, plain text.
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
AppealText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class SanctionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    # Omitted: the escalation ladder decides (README, "Sanctions").
    kind: SanctionKind | None = None
    # Omitted: the ladder's duration for the member's step; else 60 s to 5 years (422).
    duration_seconds: int | None = None
    source: Annotated[str, msgspec.Meta(max_length=100)] = ""

    def __post_init__(self) -> None:
        self.reason = self.reason.strip()
        require_plain_lines(reason=self.reason)
        require_plain(source=self.source)


class LiftIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason

    def __post_init__(self) -> None:
        self.reason = self.reason.strip()
        require_plain_lines(reason=self.reason)


class AppealIn(msgspec.Struct, forbid_unknown_fields=True):
    text: AppealText

    def __post_init__(self) -> None:
        self.text = self.text.replace("\r\n", "\n").strip()
        require_plain_lines(text=self.text)


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Annotated[str, msgspec.Meta(pattern=r"^(upheld|overturned)$")]
    reason: Reason

    def __post_init__(self) -> None:
        self.reason = self.reason.strip()
        require_plain_lines(reason=self.reason)


class AppealOut(msgspec.Struct):
    id: int
    sanction_id: int
    member_id: int
    member_handle: str
    text: str
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by_handle: str | None
    decision_reason: str
    # The sanction's imposer (who may not decide the appeal) and what the appeal is about.
    imposed_by_handle: str | None
    kind: str
    sanction_reason: str
    ends_at: dt.datetime


class SanctionOut(msgspec.Struct):
    id: int
    member_id: int
    member_handle: str
    kind: str
    reason: str
    source: str
    # The member's offence count when imposed (its rung on the escalation ladder).
    step: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    imposed_by_handle: str | None
    lifted_at: dt.datetime | None
    lifted_by_handle: str | None
    lift_reason: str
    # In force now: started, not ended, not lifted.
    active: bool
    appeal: AppealOut | None


class SanctionPage(msgspec.Struct):
    items: list[SanctionOut]
    next_cursor: int | None


class AppealPage(msgspec.Struct):
    items: list[AppealOut]
    next_cursor: int | None
