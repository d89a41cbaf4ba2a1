"""HTTP endpoints: a brand's systems post inbound events; its staff list them and declare
custom types."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import Parameter

from gamification.inbound import services
from gamification.inbound.schemas import (
    CustomTypeIn,
    CustomTypeOut,
    EventBatchIn,
    EventBatchOut,
    EventIn,
    InboundEventPage,
    InboundOut,
)
from server.auth import TOKEN_SCOPE_OPT, Actor
from server.types import MAX_ID

Cursor = Annotated[int, Parameter(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Parameter(ge=1, le=100)]


class IntegrationEventController(Controller):
    tags = ["integrations"]

    @post("/api/integrations/events", status_code=201, opt={TOKEN_SCOPE_OPT: "events"})
    async def receive(
        self, actor: Actor, data: EventIn,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key",
                                                         required=False)] = None,
    ) -> Response[InboundOut]:
        """An order, refund, review, referral or custom event from the brand's own systems,
        for an API token with the 'events' scope (never a person's session). 201 when
        recorded; the same Idempotency-Key with the same body answers 200 with the first
        outcome (header `Idempotent-Replayed: true`), with another body 409. Points follow
        from the brand's rules once the event is handled."""
        out, replayed = await services.receive(actor, idempotency_key, data)
        if replayed:
            return Response(out, status_code=200, headers={"Idempotent-Replayed": "true"})
        return Response(out, status_code=201)

    @post("/api/integrations/events/batch", status_code=200, opt={TOKEN_SCOPE_OPT: "events"})
    async def receive_batch(self, actor: Actor, data: EventBatchIn) -> EventBatchOut:
        """Up to 500 events in one request, each with its own `idempotency_key` in the body,
        recorded all together or, on any 4xx (naming the event, e.g. `events[3].data.amount`),
        not at all. Each result says whether its key had been recorded before (a replay);
        each event counts against the token's rate limit."""
        return await services.receive_batch(actor, data)


class InboundConsoleController(Controller):
    path = "/api/brands/{brand_id:int}"
    tags = ["integrations"]

    @get("/inbound-events")
    async def list_events(self, actor: Actor, brand_id: int, before: Cursor | None = None,
                          limit: PageSize = 50) -> InboundEventPage:
        """The brand's recent inbound events, newest first, with the points each moved."""
        return await services.list_events(actor, brand_id, before, limit)

    @get("/inbound-types")
    async def list_types(self, actor: Actor, brand_id: int) -> list[CustomTypeOut]:
        return await services.list_types(actor, brand_id)

    @post("/inbound-types", status_code=201)
    async def declare_type(self, actor: Actor, brand_id: int,
                           data: CustomTypeIn) -> CustomTypeOut:
        """Declare a custom event type: a name and up to 20 typed fields."""
        return await services.declare_type(actor, brand_id, data)
