"""A member's own credentials: password changes and resets, email changes, signing out
everywhere.

Links sent by mail carry a random secret; the account_token row keeps only its sha256, the
purpose, and when it expires. Using one is a single UPDATE that claims it (`used_at` set only
where still null and unexpired), in the transaction that applies the change: two uses at
once cannot both succeed, and a failed change leaves the link usable.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
from typing import Any

from server import auth, clock, db, mail, outbox, ratelimit, realtime, runtime, sessions
from server.accounts.passwords import check_password
from server.errors import Conflict, Forbidden, Invalid
from server.security import hash_password, new_secret, sha256, verify_password
from server.tables import AccountToken, Member

log = logging.getLogger("hearth.accounts")

RESET, EMAIL_CHANGE = "password_reset", "email_change"


async def _member(member_id: int) -> dict[str, Any]:
    rows = await Member.select(Member.id, Member.handle, Member.email, Member.password_hash,
                               Member.is_active).where(Member.id == member_id)
    if not rows:
        raise Forbidden("this account no longer exists")
    return rows[0]


async def _check_current_password(member: dict[str, Any], password: str) -> None:
    """Guessing the current password through these routes is limited as sign-in is."""
    await ratelimit.check("password check", f"member:{member['id']}",
                          runtime.current().settings.login_rate_limit)
    if not await asyncio.to_thread(verify_password, member["password_hash"], password):
        raise Forbidden("the current password is not right",
                        [{"key": "current_password", "message": "wrong password"}])


async def _new_token(member_id: int, purpose: str, seconds: int, new_email: str | None = None
                     ) -> str:
    token = new_secret()
    now = clock.now()
    await AccountToken.insert(AccountToken(
        member=member_id, purpose=purpose, token_hash=sha256(token), new_email=new_email,
        created_at=now, expires_at=now + dt.timedelta(seconds=seconds)))
    return token


async def _use_token(token: str, purpose: str) -> dict[str, Any]:
    """Claim the link in the current transaction, or say why it cannot be used."""
    now = clock.now()
    key = sha256(token)
    rows = await AccountToken.update({AccountToken.used_at: now}).where(
        (AccountToken.token_hash == key) & (AccountToken.purpose == purpose)
        & AccountToken.used_at.is_null() & (AccountToken.expires_at > now)
    ).returning(AccountToken.id, AccountToken.member, AccountToken.new_email)
    if rows:
        return rows[0]
    found = await AccountToken.select(AccountToken.used_at).where(
        (AccountToken.token_hash == key) & (AccountToken.purpose == purpose))
    if not found:
        reason = "this link is not valid"
    elif found[0]["used_at"] is not None:
        reason = "this link has already been used"
    else:
        reason = "this link has expired"
    raise Invalid(f"{reason}: ask for a new one", [{"key": "token", "message": reason}])


async def _check_usable(token: str, purpose: str) -> None:
    """Refuse an unusable link before any costly work (hashing a new password); the claim in
    the transaction (_use_token) still decides."""
    now = clock.now()
    usable = await AccountToken.exists().where(
        (AccountToken.token_hash == sha256(token)) & (AccountToken.purpose == purpose)
        & AccountToken.used_at.is_null() & (AccountToken.expires_at > now))
    if not usable:
        await _use_token(token, purpose)  # raises, saying why


async def _retire_tokens(member_id: int, purpose: str) -> None:
    """The member's other unused links of this purpose stop working."""
    await AccountToken.update({AccountToken.used_at: clock.now()}).where(
        (AccountToken.member == member_id) & (AccountToken.purpose == purpose)
        & AccountToken.used_at.is_null())


async def _signed_out(member_id: int, keys: list[str]) -> None:
    """After the commit that deleted the sessions: every process stops trusting them (this
    one at once, others within auth.ACTOR_CACHE_SECONDS) and their open websockets close
    (at once; at their next periodic re-check should the announcement be lost)."""
    await sessions.forget(keys)
    auth.forget_member(member_id)
    await realtime.announce_sessions_ended(member_id)


# Reset mails being prepared, held until done (the loop keeps only weak references).
_preparing: set[asyncio.Task[None]] = set()


async def request_password_reset(email: str, client_ip: str) -> None:
    """Mail a reset link if an active account has this address. The caller answers the same
    whether or not one does, and as fast: the lookup and the link are made after it has
    answered (a request lost to a crash meanwhile is asked again)."""
    settings = runtime.current().settings
    address = email.strip().lower()
    await ratelimit.check("password reset", f"ip:{client_ip}", settings.password_reset_rate_limit)
    await ratelimit.check("password reset", f"email:{address}", settings.password_reset_rate_limit)
    task = asyncio.get_running_loop().create_task(_mail_reset_link(address),
                                                  context=contextvars.Context())
    _preparing.add(task)
    task.add_done_callback(_preparing.discard)


async def _mail_reset_link(address: str) -> None:
    settings = runtime.current().settings
    try:
        rows = await Member.select(Member.id, Member.handle, Member.email, Member.is_active
                                   ).where(Member.email == address)
        if not rows or not rows[0]["is_active"] or not mail.safe_address(rows[0]["email"]):
            return
        member = rows[0]
        minutes = settings.password_reset_seconds // 60
        async with outbox.unit_of_work():
            token = await _new_token(member["id"], RESET, settings.password_reset_seconds)
            await mail.queue(member["email"], "Reset your Hearth password", (
                f"Hello {member['handle']},\n\n"
                f"Someone (hopefully you) asked to reset the password of your Hearth account.\n"
                f"Choose a new one here within {minutes} minutes; the link works once:\n\n"
                f"{mail.link('reset', token)}\n\n"
                f"If you did not ask, ignore this mail: your password stays as it is.\n"))
    except Exception:
        log.exception("preparing a password reset mail failed")


async def reset_password(token: str, password: str) -> None:
    """Set a new password with a reset link; every session of the member ends."""
    check_password(password)
    await _check_usable(token, RESET)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with outbox.unit_of_work():
        claimed = await _use_token(token, RESET)
        member_id = int(claimed["member"])
        await Member.update({Member.password_hash: password_hash}).where(Member.id == member_id)
        # Whoever asked for those may have had the old password: they start again.
        await _retire_tokens(member_id, RESET)
        await _retire_tokens(member_id, EMAIL_CHANGE)
        keys = await sessions.delete_member_sessions(member_id)
        member = await _member(member_id)
        if mail.safe_address(member["email"]):
            await mail.queue(member["email"], "Your Hearth password was reset", (
                f"Hello {member['handle']},\n\nThe password of your Hearth account was just "
                f"reset with a link sent to this address, and every device was signed out.\n"))
    await _signed_out(member_id, keys)


async def change_password(actor: auth.Actor, current: str, new: str) -> None:
    """Needs the current password; the member's other sessions end, this one stays."""
    member = await _member(actor.member())
    await _check_current_password(member, current)
    check_password(new)
    password_hash = await asyncio.to_thread(hash_password, new)
    async with outbox.unit_of_work():
        await Member.update({Member.password_hash: password_hash}).where(
            Member.id == member["id"])
        # Outstanding links were asked for under the old password.
        await _retire_tokens(member["id"], RESET)
        await _retire_tokens(member["id"], EMAIL_CHANGE)
        keys = await sessions.delete_member_sessions(member["id"], keep=actor.session_key)
        if mail.safe_address(member["email"]):
            await mail.queue(member["email"], "Your Hearth password was changed", (
                f"Hello {member['handle']},\n\nThe password of your Hearth account was just "
                f"changed, and your other devices were signed out. If this was not you, reset "
                f"your password now.\n"))
    await _signed_out(member["id"], keys)


async def _taken(address: str, member_id: int) -> bool:
    return bool(await Member.exists().where((Member.email == address) & (Member.id != member_id)))


async def request_email_change(actor: auth.Actor, password: str, new_email: str) -> str:
    """Mail a confirmation link to the new address; nothing changes until it is used.
    Returns the address it went to."""
    settings = runtime.current().settings
    member = await _member(actor.member())
    await _check_current_password(member, password)
    # Each request mails an address the member names: no more often than reset requests.
    await ratelimit.check("email change", f"member:{member['id']}",
                          settings.password_reset_rate_limit)
    address = new_email.strip().lower()
    if not mail.safe_address(address):
        raise Invalid("this is not an email address mail can be sent to",
                      [{"key": "email", "message": "not a plain address"}])
    if address == member["email"]:
        raise Invalid("this is already your email address", [{"key": "email", "message": "unchanged"}])
    if await _taken(address, member["id"]):
        raise Conflict("an account with this email already exists")
    hours = settings.email_change_seconds // 3600
    async with outbox.unit_of_work():
        # Only the latest request counts.
        await _retire_tokens(member["id"], EMAIL_CHANGE)
        token = await _new_token(member["id"], EMAIL_CHANGE, settings.email_change_seconds,
                                 new_email=address)
        await mail.queue(address, "Confirm your new Hearth email address", (
            f"Hello {member['handle']},\n\nTo make this the email address of your Hearth "
            f"account, open this link within {hours} hours; it works once:\n\n"
            f"{mail.link('verify-email', token)}\n\n"
            f"If you did not ask for this, ignore this mail: nothing changes.\n"))
    return address


async def confirm_email_change(token: str) -> str:
    """Apply the change a link confirms; the old address is told. Returns the new address."""
    try:
        async with outbox.unit_of_work():
            claimed = await _use_token(token, EMAIL_CHANGE)
            member_id, address = int(claimed["member"]), str(claimed["new_email"])
            if await _taken(address, member_id):
                raise Conflict("another account has taken this email address meanwhile")
            member = await _member(member_id)
            await Member.update({Member.email: address}).where(Member.id == member_id)
            # Reset links went to the old address.
            await _retire_tokens(member_id, RESET)
            if mail.safe_address(member["email"]):
                await mail.queue(member["email"], "Your Hearth email address was changed", (
                    f"Hello {member['handle']},\n\nThe email address of your Hearth account "
                    f"was changed from this one to {address}. Mail now goes there.\n\n"
                    f"If this was not you, sign in and change your password at once.\n"))
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict("another account has taken this email address meanwhile") from None
        raise
    return address


async def sign_out_everywhere(actor: auth.Actor) -> None:
    member_id = actor.member()
    async with outbox.unit_of_work():
        keys = await sessions.delete_member_sessions(member_id)
        # Whoever is being shut out may have asked for an email change: it goes too.
        await _retire_tokens(member_id, EMAIL_CHANGE)
    await _signed_out(member_id, keys)
