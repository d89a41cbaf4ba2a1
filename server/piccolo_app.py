from pathlib import Path

from piccolo.conf.apps import AppConfig

from server.tables import (
    AccountToken,
    ApiToken,
    Brand,
    HandlerReceipt,
    MailMessage,
    Member,
    MemberSanction,
    MemberSession,
    Notification,
    NotificationPreferences,
    OutboxEvent,
    SanctionAppeal,
    SeedStep,
    StaffLogEntry,
)

APP_CONFIG = AppConfig(
    app_name="server",
    migrations_folder_path=Path(__file__).resolve().parent.parent / "migrations" / "server",
    table_classes=[Brand, Member, MemberSession, ApiToken, OutboxEvent, HandlerReceipt,
                   Notification, SeedStep, MailMessage, AccountToken, NotificationPreferences,
                   StaffLogEntry, MemberSanction, SanctionAppeal],
)
