"""What the community package adds to a Hearth process (see server.plugins)."""

from community import demo
from community.forums import notices, readmarks, targets
from community.forums import services as forums
from community.forums.controllers import (
    ActivityController,
    BookmarkController,
    CategoryController,
    PostController,
    PreviewController,
    ThreadController,
)
from community.moderation import notices as moderation_notices
from community.moderation.controllers import FlagController, ReviewController
from community.search.controllers import SearchController
from server.plugins import DemoSteps, Plugin


def register() -> None:
    forums.register()
    targets.register()


plugin = Plugin(
    name="community",
    piccolo_app="community.piccolo_app",
    route_handlers=[CategoryController, ThreadController, PostController, BookmarkController,
                    ActivityController, PreviewController, SearchController, FlagController,
                    ReviewController],
    error_statuses={
        "POST /api/categories": frozenset({404, 409}),
        "PUT /api/categories/order": frozenset({404}),
        "POST /api/categories/{category_id}/threads": frozenset({429}),
        "POST /api/threads/{thread_id}/posts": frozenset({429}),
        "PATCH /api/posts/{post_id}": frozenset({409, 429}),
        "POST /api/posts/{post_id}/reactions": frozenset({409, 429}),
        "POST /api/community/preview": frozenset({429}),
        "POST /api/flags": frozenset({404, 409, 429}),
        "GET /api/moderation/items/{item_id}": frozenset({404}),
        "POST /api/moderation/items/{item_id}/claim": frozenset({404, 409}),
        "DELETE /api/moderation/items/{item_id}/claim": frozenset({404, 409}),
        "POST /api/moderation/items/{item_id}/actions": frozenset({404, 409}),
        "POST /api/posts/{post_id}/hide": frozenset({409}),
        "POST /api/posts/{post_id}/unhide": frozenset({409}),
        "GET /api/search": frozenset({404, 429}),
    },
    handler_modules=["community.forums.handlers", "community.moderation.handlers"],
    register=register,
    # Members' read marks are buffered between writes.
    on_stop=[readmarks.stop],
    demo=DemoSteps(count=demo.DEMO_STEPS, seed=demo.seed_demo),
    notification_texts={**notices.TEXTS, **moderation_notices.TEXTS},
    # Its demo threads and replies count toward gamification's demo badges and challenge.
    after=["gamification"],
)
