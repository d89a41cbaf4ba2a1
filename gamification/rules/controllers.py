"""HTTP endpoints for rules (admins; brand staff for their brand's rules)."""

from __future__ import annotations

from litestar import Controller, get, patch, post

from gamification.rules import services
from gamification.rules.schemas import EventTypeOut, RuleIn, RuleOut, RulePatch, RuleTryIn, RuleTryOut
from server.auth import Actor


class RuleController(Controller):
    path = "/api/gamification/rules"
    tags = ["rules"]

    @get("/")
    async def list_rules(self, actor: Actor) -> list[RuleOut]:
        return await services.list_rules(actor)

    @post("/", status_code=201)
    async def create_rule(self, actor: Actor, data: RuleIn) -> RuleOut:
        """event_types from the scorable events; condition and points are safe expressions
        over the event's fields (e.g. `kind == "insightful"`, `5 if post_number > 1 else 10`)."""
        return await services.create_rule(actor, data)

    @post("/try", status_code=200)
    async def try_rule(self, actor: Actor, data: RuleTryIn) -> RuleTryOut:
        """The points a rule (saved or not) would pay for a sample event, and each check that
        decided it. Writes nothing; caps and cooldowns are not applied."""
        return await services.try_rule(actor, data)

    @patch("/{rule_id:int}")
    async def update_rule(self, actor: Actor, rule_id: int, data: RulePatch) -> RuleOut:
        return await services.update_rule(actor, rule_id, data)


class EventTypeController(Controller):
    path = "/api/gamification/event-types"
    tags = ["rules"]

    @get("/")
    async def list_event_types(self, actor: Actor) -> list[EventTypeOut]:
        """Admins and brand staff: the events rules, badges and challenge tasks can count,
        each with its fields and a sample, for writing conditions."""
        return services.event_types(actor)
