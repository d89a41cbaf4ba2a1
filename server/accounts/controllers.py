"""HTTP endpoints for accounts, sessions, brands and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import Cookie
from litestar.params import Parameter

from server import auth, ratelimit, realtime, runtime
from server.accounts import credentials, sanctions, services
from server.accounts.schemas import (
    AcceptedOut,
    AppealIn,
    AppealOut,
    AppealPage,
    BrandIn,
    BrandOut,
    DecisionIn,
    EmailChangeIn,
    EmailConfirmIn,
    EmailOut,
    LiftIn,
    LoginIn,
    MemberOut,
    MemberPage,
    MemberSuggestion,
    MeOut,
    PasswordChangeIn,
    ProfileIn,
    ProfileOut,
    RegisterIn,
    ResetIn,
    ResetRequestIn,
    RoleIn,
    SanctionIn,
    SanctionOut,
    SanctionPage,
    SessionOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from server.auth import Actor
from server.errors import Forbidden
from server.types import MAX_ID

# Ranges are checked by the service, so that a page or limit out of range is a 422 naming it.
Search = Annotated[str, Parameter(description="the start of a handle or email, any case; "
                                              "empty: everyone")]
Page = Annotated[int, Parameter(description="from 1; pages end 10,000 matches in")]
Limit = Annotated[int, Parameter(description="members a page, 1 to 100")]
Prefix = Annotated[str, Parameter(description="the start of a handle: 1 to 32 letters, "
                                              "digits or _")]


def _session_cookies(secret: str, csrf: str, max_age: int) -> list[Cookie]:
    secure = runtime.current().settings.cookie_secure
    return [
        Cookie(key=auth.SESSION_COOKIE, value=secret, httponly=True, samesite="lax",
               secure=secure, max_age=max_age, path="/"),
        # Readable by the web app so it can echo it in X-CSRF-Token.
        Cookie(key=auth.CSRF_COOKIE, value=csrf, httponly=False, samesite="lax",
               secure=secure, max_age=max_age, path="/"),
    ]


class SessionController(Controller):
    path = "/api"
    tags = ["accounts"]

    @post("/register", status_code=201)
    async def register(self, request: Request[Any, Any, Any], data: RegisterIn) -> Response[SessionOut]:
        """Create an account and sign in. Rate-limited per client address."""
        settings = runtime.current().settings
        await ratelimit.check("registration", ratelimit.client_ip(request),
                              settings.register_rate_limit)
        member = await services.register(data)
        secret, csrf = await auth.create_session(request, member.id)
        return Response(SessionOut(member=member, csrf_token=csrf), status_code=201,
                        cookies=_session_cookies(secret, csrf, settings.session_ttl_seconds))

    @post("/session", status_code=200)
    async def login(self, request: Request[Any, Any, Any], data: LoginIn) -> Response[SessionOut]:
        """Sign in with handle or email. Rate-limited per client address and per account."""
        settings = runtime.current().settings
        limit = settings.login_rate_limit
        await ratelimit.check("sign-in", ratelimit.client_ip(request), limit)
        await ratelimit.check("sign-in", "login:" + data.login.strip().lower(), limit)
        member = await services.authenticate(data.login, data.password)
        secret, csrf = await auth.create_session(request, member.id)
        return Response(SessionOut(member=member, csrf_token=csrf),
                        cookies=_session_cookies(secret, csrf, settings.session_ttl_seconds))

    @post("/session/logout", status_code=204)
    async def logout(self, actor: Actor) -> Response[None]:
        if actor.via == "token":
            raise Forbidden(auth.NOT_A_PERSON)
        if actor.session_key:
            await auth.end_session(actor.session_key)
            if actor.member_id is not None:
                await realtime.announce_sessions_ended(actor.member_id)
        return Response(None, status_code=204, cookies=_session_cookies("", "", 0))

    @post("/session/logout-all", status_code=204, opt={auth.PEOPLE_ONLY_OPT: True})
    async def logout_everywhere(self, actor: Actor) -> Response[None]:
        """End every session of the signed-in member, this one included, and close their
        open websockets."""
        await credentials.sign_out_everywhere(actor)
        return Response(None, status_code=204, cookies=_session_cookies("", "", 0))

    @get("/me")
    async def me(self, actor: Actor) -> MeOut:
        row = await services.get_member(actor.member())
        return MeOut(member=services.member_out(row), email=row["email"], csrf_token=actor.csrf)

    @patch("/me")
    async def update_me(self, actor: Actor, data: ProfileIn) -> MemberOut:
        return await services.update_profile(actor, data)


RESET_ANSWER = ("if an account has this email address, a link to choose a new password is on "
                "its way there")


class AccountController(Controller):
    """A member's own credentials. API tokens never reach these routes."""

    path = "/api"
    tags = ["accounts"]
    opt = {auth.PEOPLE_ONLY_OPT: True}

    @post("/account/password-reset", status_code=202)
    async def request_reset(self, request: Request[Any, Any, Any], data: ResetRequestIn
                            ) -> AcceptedOut:
        """Mail a single-use link to reset the password. The answer is the same whether or
        not an account has the address. Rate-limited per client address and per email."""
        await credentials.request_password_reset(data.email, ratelimit.client_ip(request))
        return AcceptedOut(RESET_ANSWER)

    @post("/account/password-reset/confirm", status_code=204)
    async def reset(self, request: Request[Any, Any, Any], data: ResetIn) -> None:
        """Set a new password with the link's token (once, before it expires). Every session
        of the member ends; sign in with the new password. Rate-limited per client address
        like signing in (guessing links)."""
        await ratelimit.check("link", ratelimit.client_ip(request),
                              runtime.current().settings.login_rate_limit)
        await credentials.reset_password(data.token, data.password)

    @post("/me/password", status_code=204)
    async def change_password(self, actor: Actor, data: PasswordChangeIn) -> None:
        """Needs the current password (403 when wrong). The member's other sessions end;
        this one stays."""
        await credentials.change_password(actor, data.current_password, data.new_password)

    @post("/me/email", status_code=202)
    async def change_email(self, actor: Actor, data: EmailChangeIn) -> EmailOut:
        """Needs the current password. Mails a single-use link to the new address; the
        address changes only when it is used. 409 when another account has it."""
        return EmailOut(await credentials.request_email_change(
            actor, data.password, data.email))

    @post("/account/email/confirm", status_code=200)
    async def confirm_email(self, request: Request[Any, Any, Any], data: EmailConfirmIn
                            ) -> EmailOut:
        """Apply an email change with the link's token (once, before it expires); the old
        address is told. No sign-in needed: the token is the proof. Rate-limited per client
        address like signing in."""
        await ratelimit.check("link", ratelimit.client_ip(request),
                              runtime.current().settings.login_rate_limit)
        return EmailOut(await credentials.confirm_email_change(data.token))


class ProfileController(Controller):
    path = "/api/profiles"
    tags = ["accounts"]

    @get("/{handle:str}")
    async def profile(self, handle: str) -> ProfileOut:
        """A member's public profile by handle (any case); 404 for unknown or suspended
        members. Badges, standing and activity come from their packages' endpoints, by id."""
        return await services.profile(handle)


class MemberController(Controller):
    path = "/api/members"
    tags = ["accounts"]

    @get("/")
    async def list_members(self, actor: Actor, search: Search = "", page: Page = 1,
                           limit: Limit = 20) -> MemberPage:
        """Admins only: members whose handle or email starts with `search` (any case; empty:
        everyone), ordered by handle. `page` from 1 and `limit` from 1 to 100, else 422.
        Matches are counted and paged up to 10,000 (`total_exact` false past that): pages
        beyond are a 422 asking for a narrower search."""
        return await services.search_members(actor, search, page, limit)

    @get("/autocomplete")
    async def autocomplete(self, actor: Actor, prefix: Prefix) -> list[MemberSuggestion]:
        """Signed-in members (not API tokens): up to 8 active members whose handle starts
        with `prefix` (any case), for @mentions. Rate-limited per member."""
        member_id = actor.member()
        await ratelimit.check("lookup", f"member:{member_id}",
                              runtime.current().settings.lookup_rate_limit)
        return await services.suggest_handles(prefix)

    @get("/{member_id:int}")
    async def get_member(self, member_id: int) -> MemberOut:
        return services.member_out(await services.get_member(member_id))

    @put("/{member_id:int}/role")
    async def set_role(self, actor: Actor, member_id: int, data: RoleIn) -> MemberOut:
        """Admins only."""
        return await services.set_role(actor, member_id, data)


class BrandController(Controller):
    path = "/api/brands"
    tags = ["brands"]

    @get("/")
    async def list_brands(self) -> list[BrandOut]:
        return await services.list_brands()

    @post("/", status_code=201)
    async def create_brand(self, actor: Actor, data: BrandIn) -> BrandOut:
        """Admins only."""
        return await services.create_brand(actor, data)

    @get("/{brand_id:int}/tokens")
    async def list_tokens(self, actor: Actor, brand_id: int) -> list[TokenOut]:
        return await services.list_tokens(actor, brand_id)

    @post("/{brand_id:int}/tokens", status_code=201)
    async def create_token(self, actor: Actor, brand_id: int, data: TokenIn) -> TokenCreatedOut:
        """The brand's staff or an admin. The secret is returned once."""
        return await services.create_token(actor, brand_id, data)

    @post("/{brand_id:int}/tokens/{token_id:int}/revoke", status_code=200)
    async def revoke_token(self, actor: Actor, brand_id: int, token_id: int) -> TokenOut:
        return await services.revoke_token(actor, brand_id, token_id)


SanctionStatus = Annotated[str, Parameter(
    pattern=r"^(active|ended|all)$",
    description="active: in force now; ended: lifted or run out; all")]
AppealStatus = Annotated[str, Parameter(pattern=r"^(open|upheld|overturned|all)$")]
KindFilter = Annotated[str | None, Parameter(pattern=r"^(silence|suspend)$")]
Before = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="next_cursor of the "
                                                                        "page before")]
PageSize = Annotated[int, Parameter(ge=1, le=sanctions.PAGE_LIMIT)]
MemberFilter = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]


class SanctionController(Controller):
    """Silence and suspension (the moderator's guide in the README). People only: an API
    token is a brand's integration, and neither imposes, lifts, appeals nor decides."""

    path = "/api"
    tags = ["sanctions"]
    opt = {auth.PEOPLE_ONLY_OPT: True}

    @post("/members/{member_id:int}/sanctions", status_code=201)
    async def impose(self, actor: Actor, member_id: int, data: SanctionIn) -> SanctionOut:
        """Moderators and admins. Without `kind` or `duration_seconds` the escalation ladder
        decides them. Moderators cannot sanction staff; nobody sanctions an admin or
        themselves (403). 409 while a sanction of that kind, or a suspension, is in force.
        A suspension ends the member's sessions and closes their websockets at once."""
        return await sanctions.impose(actor, member_id, data.kind, data.reason,
                                      data.duration_seconds, data.source)

    @get("/members/{member_id:int}/sanctions")
    async def member_sanctions(self, actor: Actor, member_id: int) -> list[SanctionOut]:
        """Moderators and admins: the member's sanctions, newest first."""
        return await sanctions.member_sanctions(actor, member_id)

    @get("/sanctions")
    async def list_sanctions(self, actor: Actor, status: SanctionStatus = "active",
                             kind: KindFilter = None, member_id: MemberFilter = None,
                             before: Before = None, limit: PageSize = 20) -> SanctionPage:
        """Moderators and admins: sanctions newest first, filtered."""
        return await sanctions.list_sanctions(actor, status, kind, member_id, before, limit)

    @post("/sanctions/{sanction_id:int}/lift", status_code=200)
    async def lift(self, actor: Actor, sanction_id: int, data: LiftIn) -> SanctionOut:
        """Moderators and admins end a sanction early, with a reason the member is shown.
        409 when it is no longer in force."""
        return await sanctions.lift(actor, sanction_id, data.reason)

    @get("/me/sanctions")
    async def my_sanctions(self, actor: Actor) -> list[SanctionOut]:
        """The signed-in member's sanctions, newest first (`active` marks those in force)."""
        return await sanctions.my_sanctions(actor)

    @post("/sanctions/{sanction_id:int}/appeal", status_code=201)
    async def appeal(self, actor: Actor, sanction_id: int, data: AppealIn) -> AppealOut:
        """The sanctioned member, once per sanction while it is in force (409 after).
        Another member's sanction is a 404."""
        return await sanctions.appeal(actor, sanction_id, data.text)

    @get("/appeals")
    async def list_appeals(self, actor: Actor, status: AppealStatus = "open",
                           before: Before = None, limit: PageSize = 20) -> AppealPage:
        """Moderators and admins: appeals newest first."""
        return await sanctions.list_appeals(actor, status, before, limit)

    @post("/appeals/{appeal_id:int}/decide", status_code=200)
    async def decide(self, actor: Actor, appeal_id: int, data: DecisionIn) -> AppealOut:
        """Moderators and admins other than the sanction's imposer (403). Overturning lifts
        the sanction. 409 when already decided."""
        return await sanctions.decide(actor, appeal_id, data.decision, data.reason)
