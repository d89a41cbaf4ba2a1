from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T11:03:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "default rules"

# name, event types, condition, points, daily cap
DEFAULT_RULES = [
    ("Started a thread", "thread.created", "", "10", 50),
    ("Posted a reply", "post.created", "post_number > 1", "5", 50),
    ("Received a reaction", "reaction.added", "", '5 if kind == "insightful" else 2', 100),
    ("First visit of the day", "member.visited", "", "1", 1),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def seed_default_rules() -> None:
        import datetime as dt

        from server.db import fetch

        now = dt.datetime.now(dt.timezone.utc)
        for name, event_types, condition, points, cap_day in DEFAULT_RULES:
            await fetch(
                "INSERT INTO gamification_rule (name, event_types, condition, points, cap_day, "
                "cooldown_seconds, enabled, created_at) "
                "VALUES ({}, {}, {}, {}, {}, 0, {}, {})",
                name, event_types, condition, points, cap_day, True, now,
            )

    manager.add_raw(seed_default_rules)
    return manager
