from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.tables import (
    ApiToken,
    Brand,
    HandlerReceipt,
    Member,
    MemberSession,
    Notification,
    OutboxEvent,
    SeedStep,
)

APP_CONFIG = AppConfig(
    app_name="server",
    migrations_folder_path=Path(__file__).resolve().parent.parent / "migrations" / "server",
    table_classes=[Brand, Member, MemberSession, ApiToken, OutboxEvent, HandlerReceipt,
                   Notification, SeedStep],
)
