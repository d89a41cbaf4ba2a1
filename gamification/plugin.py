"""What the gamification package adds to a Hearth process: routes and event handlers."""

from gamification.ledger import handlers as ledger_handlers
from gamification.ledger.controllers import LedgerAdminController, PointsController
from gamification.rules import handlers as rule_handlers
from gamification.rules.controllers import RuleController

ROUTE_HANDLERS = [PointsController, LedgerAdminController, RuleController]
# Importing the handler modules registers their outbox handlers.
__all__ = ["ROUTE_HANDLERS", "ledger_handlers", "rule_handlers"]
