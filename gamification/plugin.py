"""What the gamification package adds to a Hearth process: routes and event handlers."""

from gamification.ledger import handlers as ledger_handlers
from gamification.ledger.controllers import LedgerAdminController, PointsController

ROUTE_HANDLERS = [PointsController, LedgerAdminController]
# Importing the handler modules registers their outbox handlers.
__all__ = ["ROUTE_HANDLERS", "ledger_handlers"]
