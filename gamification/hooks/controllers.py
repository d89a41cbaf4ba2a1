"""HTTP endpoints of a brand's outbound webhooks, for its staff, its API tokens and admins."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter

from gamification.hooks import guards, services
from gamification.hooks.schemas import (
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    ReplayIn,
    ReplayOut,
    WebhookTypeOut,
)
from server.auth import Actor
from server.types import MAX_ID

Cursor = Annotated[int, Parameter(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Parameter(ge=1, le=100)]
Status = Literal["pending", "delivered", "dead"]


class WebhookController(Controller):
    path = "/api/gamification/brands/{brand_id:int}/webhooks"
    tags = ["webhooks"]

    @get("/event-types")
    async def event_types(self, actor: Actor, brand_id: int) -> list[WebhookTypeOut]:
        """The webhook event types an endpoint can subscribe to, and whose they are."""
        await guards.may_manage(actor, brand_id)
        return services.webhook_types()

    @get("")
    async def list_endpoints(self, actor: Actor, brand_id: int) -> list[EndpointOut]:
        await guards.may_manage(actor, brand_id)
        return await services.list_endpoints(brand_id)

    @post("", status_code=201)
    async def create(self, actor: Actor, brand_id: int, data: EndpointIn) -> EndpointSecretOut:
        """Registers an https endpoint; the answer holds its signing secret, shown this once.
        422 when the URL is not https or its host resolves to a private, loopback,
        link-local or otherwise non-public address, or an event type is unknown."""
        await guards.may_manage(actor, brand_id)
        return await services.create_endpoint(actor, brand_id, data)

    @get("/{endpoint_id:int}")
    async def get_endpoint(self, actor: Actor, brand_id: int, endpoint_id: int) -> EndpointOut:
        await guards.may_manage(actor, brand_id)
        return await services.get_endpoint(brand_id, endpoint_id)

    @patch("/{endpoint_id:int}")
    async def update(self, actor: Actor, brand_id: int, endpoint_id: int,
                     data: EndpointPatch) -> EndpointOut:
        """Change the URL, event types or description; disable or enable it again (enabling
        clears its failure count and sends what waited)."""
        await guards.may_manage(actor, brand_id)
        return await services.update_endpoint(actor, brand_id, endpoint_id, data)

    @delete("/{endpoint_id:int}", status_code=204)
    async def remove(self, actor: Actor, brand_id: int, endpoint_id: int) -> None:
        """Deletes the endpoint with its deliveries and their log."""
        await guards.may_manage(actor, brand_id)
        await services.delete_endpoint(actor, brand_id, endpoint_id)

    @post("/{endpoint_id:int}/rotate", status_code=200)
    async def rotate(self, actor: Actor, brand_id: int, endpoint_id: int) -> EndpointSecretOut:
        """A new secret, shown this once. For the overlap period deliveries carry two
        signatures, the new secret's and the old one's."""
        await guards.may_manage(actor, brand_id)
        return await services.rotate_secret(actor, brand_id, endpoint_id)

    @post("/{endpoint_id:int}/ping", status_code=202)
    async def ping(self, actor: Actor, brand_id: int, endpoint_id: int) -> DeliveryOut:
        """Sends a signed `webhook.ping` delivery; watch it in the deliveries. 409 when the
        endpoint is disabled."""
        await guards.may_manage(actor, brand_id)
        return await services.ping(actor, brand_id, endpoint_id)

    @get("/{endpoint_id:int}/deliveries")
    async def deliveries(self, actor: Actor, brand_id: int, endpoint_id: int,
                         status: Status | None = None, before: Cursor | None = None,
                         limit: PageSize = 20) -> DeliveryPage:
        """Newest first, with the last attempt's status code, latency and response excerpt;
        pass next_cursor back as `before`."""
        await guards.may_manage(actor, brand_id)
        return await services.deliveries(brand_id, endpoint_id, status, before, limit)

    @get("/{endpoint_id:int}/deliveries/{delivery_id:int}")
    async def delivery(self, actor: Actor, brand_id: int, endpoint_id: int,
                       delivery_id: int) -> DeliveryDetail:
        """One delivery with its body and every attempt."""
        await guards.may_manage(actor, brand_id)
        return await services.delivery(brand_id, endpoint_id, delivery_id)

    @post("/{endpoint_id:int}/deliveries/{delivery_id:int}/replay", status_code=202)
    async def replay(self, actor: Actor, brand_id: int, endpoint_id: int,
                     delivery_id: int) -> DeliveryOut:
        """Sends the delivery again (same webhook-id), from the start of the retry schedule.
        409 when the endpoint is disabled."""
        await guards.may_manage(actor, brand_id)
        return await services.replay(actor, brand_id, endpoint_id, delivery_id)

    @post("/{endpoint_id:int}/replay", status_code=202)
    async def replay_range(self, actor: Actor, brand_id: int, endpoint_id: int,
                           data: ReplayIn) -> ReplayOut:
        """Sends again every delivery created in [since, until) that is not already waiting.
        409 when the endpoint is disabled."""
        await guards.may_manage(actor, brand_id)
        return await services.replay_range(actor, brand_id, endpoint_id, data.since,
                                           data.until)
