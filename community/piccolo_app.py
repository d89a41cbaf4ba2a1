from pathlib import Path

from piccolo.conf.apps import AppConfig

from community.forums.tables import Category, Post, PostRevision, Reaction, Thread
from community.moderation.tables import Flag, FlaggerRecord, ReviewItem

APP_CONFIG = AppConfig(
    app_name="community",
    migrations_folder_path=Path(__file__).resolve().parent.parent / "migrations" / "community",
    table_classes=[Category, Thread, Post, PostRevision, Reaction, ReviewItem, Flag,
                   FlaggerRecord],
    migration_dependencies=["server.piccolo_app"],
)
