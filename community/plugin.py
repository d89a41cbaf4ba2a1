"""What the community package adds to a Hearth process: routes, event handlers, channels,
demo content."""

from community.demo import DEMO_STEPS, seed_demo
from community.forums import handlers
from community.forums.controllers import CategoryController, PostController, ThreadController

ROUTE_HANDLERS = [CategoryController, ThreadController, PostController]
# Importing handlers registers its outbox handlers and channel rules.
__all__ = ["DEMO_STEPS", "ROUTE_HANDLERS", "handlers", "seed_demo"]
