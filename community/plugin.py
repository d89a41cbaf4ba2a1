"""What the community package adds to a Hearth process (see server.plugins)."""

from community import demo
from community.forums import services as forums
from community.forums.controllers import CategoryController, PostController, ThreadController
from server.plugins import DemoSteps, Plugin

plugin = Plugin(
    name="community",
    piccolo_app="community.piccolo_app",
    route_handlers=[CategoryController, ThreadController, PostController],
    handler_modules=["community.forums.handlers"],
    register=forums.register,
    demo=DemoSteps(count=demo.DEMO_STEPS, seed=demo.seed_demo),
    # Its demo threads and replies count toward gamification's demo badges and challenge.
    after=["gamification"],
)
