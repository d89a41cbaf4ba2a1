"""Forum demo content: categories, threads with replies and reactions."""

from __future__ import annotations

from community.forums import services
from community.forums.schemas import CategoryIn, PostIn, ThreadIn, ThreadPatch
from server.demo import DemoContext

CATEGORIES = [
    ("Announcements", "announcements", "News from the Ember Coffee team.", "public"),
    ("Brewing", "brewing", "Pour-over, espresso, cold brew: share your recipes.", "public"),
    ("Gear", "gear", "Grinders, kettles and the hunt for the perfect scale.", "public"),
    ("Members' Lounge", "lounge", "For signed-in members only.", "members"),
]

THREADS = [
    ("announcements", "admin", "Welcome to the Ember Coffee community!",
     "We built this place for people who care about coffee. **Say hello** below, and "
     "check out the brewing category for recipes.",
     [("alice", "Hello from Lisbon! Happy to be here."), ("bob", "Hi all, long-time lurker.")]),
    ("brewing", "alice", "My go-to V60 recipe",
     "15 g coffee, 250 g water at 94 °C.\n\n1. Bloom 45 s with 40 g\n2. Pour to 150 g\n"
     "3. Pour to 250 g, total time 3:00",
     [("carol", "Tried it this morning: bright and clean."),
      ("dave", "Do you rinse the filter first?"),
      ("alice", "Always, with hot water. It warms the brewer too.")]),
    ("brewing", "bob", "Cold brew ratio?", "What ratio do you use for cold brew concentrate?",
     [("carol", "1:5 for concentrate, 1:8 to drink straight.")]),
    ("gear", "dave", "Best grinder under $200?", "Looking for a grinder that can do pour-over.",
     [("bob", "A good hand grinder beats most electric ones at that price.")]),
    ("lounge", "carol", "What are you drinking today?", "An Ethiopian natural here. Blueberries!",
     [("alice", "Colombian washed, very chocolatey.")]),
]

DEMO_STEPS = len(CATEGORIES) + len(THREADS)


async def seed_demo(ctx: DemoContext) -> None:
    admin = ctx.actors["admin"]
    ids: dict[str, int] = {}
    for position, (name, slug, description, visibility) in enumerate(CATEGORIES):
        category = await services.create_category(admin, CategoryIn(
            name=name, slug=slug, description=description, position=position,
            visibility=visibility, brand_id=ctx.brand_id,
        ))
        ids[slug] = category.id
        ctx.tick(1)
    for slug, author, title, body, replies in THREADS:
        thread, first = await services.create_thread(
            ctx.actors[author], ids[slug], ThreadIn(title=title, body=body)
        )
        for handle, text in replies:
            await services.reply(ctx.actors[handle], thread.id,
                                 PostIn(body=text, reply_to_post_id=first.id))
        await services.add_reaction(ctx.actors[replies[0][0]], first.id, "like")
        ctx.tick(1)
    welcome = await services.list_threads(admin, ids["announcements"], None, 1)
    await services.update_thread(ctx.actors["mod"], welcome.items[0].id,
                                 ThreadPatch(pinned=True))
