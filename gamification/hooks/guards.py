"""Who manages a brand's webhooks: its staff (and its API tokens, within their scopes) and
admins; nobody else learns whether an endpoint exists."""

from __future__ import annotations

from server.accounts.services import get_brand
from server.auth import Actor
from server.errors import Forbidden, Unauthenticated


async def may_manage(actor: Actor, brand_id: int) -> None:
    if not actor.signed_in:
        raise Unauthenticated("sign in first")
    await get_brand(brand_id)
    if not actor.manages_brand(brand_id):
        raise Forbidden("only this brand's staff or an admin manage its webhooks")
