"""Settings, read once from HEARTH_* environment variables.

Embedded mode is the default. Scaled mode is chosen by pointing HEARTH_DATABASE_URL at
PostgreSQL and setting HEARTH_REDIS_URL; nothing else in the code base decides the mode.

One table, VARIABLES, names every variable: it drives parsing, the error messages and the
README's configuration table (`python -m server.settings` prints that table).
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import msgspec

log = logging.getLogger("hearth.settings")

PREFIX = "HEARTH_"
# The test harness's own variables (HEARTH_TEST_MODE, ...) are not settings.
IGNORED_PREFIX = "HEARTH_TEST_"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
# The points server.outbox calls failpoint() with (a unit test keeps the two in step).
FAILPOINTS = ("after-commit", "mid-dispatch")


class SettingsError(ValueError):
    """A setting has a value Hearth cannot use; the message names the variable."""


class RateLimit(msgspec.Struct, frozen=True):
    limit: int
    window_seconds: int


class Settings(msgspec.Struct, frozen=True):
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    # Namespaces keys, pub/sub channels and the Celery queue, so deployments can share a Redis.
    redis_prefix: str = "hearth"
    session_ttl_seconds: int = 14 * 24 * 3600
    cookie_secure: bool = False
    login_rate_limit: RateLimit = RateLimit(10, 60)
    register_rate_limit: RateLimit = RateLimit(5, 3600)
    write_rate_limit: RateLimit = RateLimit(60, 60)
    # Handle autocomplete asks as the member types.
    lookup_rate_limit: RateLimit = RateLimit(120, 60)
    # Searches by visitors who are not signed in, per address.
    search_rate_limit: RateLimit = RateLimit(30, 60)
    allowed_origins: tuple[str, ...] = ()
    trust_proxy_headers: bool = False
    realtime_history: int = 200
    # How often open websockets re-check their session and each subscription's access.
    realtime_reauth_seconds: float = 30.0
    # How long a websocket ticket (POST /api/realtime/ticket) may wait to be used.
    realtime_ticket_seconds: int = 30
    sweep_interval_seconds: float = 5.0
    # After SIGTERM: how long requests in flight may take before they are cancelled.
    shutdown_grace_seconds: float = 8.0
    # Dispatched outbox events (and their receipts) older than this are pruned.
    outbox_retention_days: int = 7
    log_level: str = "info"
    # Points expiry, program-wide: never, N months after earning, or after last activity.
    points_expiry: str = "never"
    points_expiry_months: int = 12
    # Testing only: crash at the named point (see server.outbox.failpoint).
    failpoint: str = ""
    # Demo data uses this password for every login instead of random ones.
    demo_password: str = ""
    # Testing only: a file holding an offset in seconds added to the clock (server.clock).
    test_clock_file: str = ""
    # Testing only: argon2id at its lightest cost (server.security.use_light_hashes).
    test_light_password_hashes: bool = False
    # Outgoing mail (server.mail): an SMTP server, or else .eml files when embedded.
    smtp_url: str = ""
    mail_from: str = "Hearth <hearth@localhost>"
    # Where members open the web app: links in mail start here (else the request's base URL).
    public_url: str = ""
    password_reset_seconds: int = 3600
    email_change_seconds: int = 86400
    password_reset_rate_limit: RateLimit = RateLimit(5, 3600)
    # New-member limits (community.moderation.gates). A member is new until their account is
    # this many hours old and has this many posts; None means no limit of that kind.
    new_member_hours: int = 24
    new_member_posts: int = 0
    new_member_threads_per_day: int | None = None
    new_member_replies_per_day: int | None = None
    new_member_links_per_post: int | None = None
    new_member_images_per_post: int | None = None
    # The first this many posts of every account (new or not yet) wait for approval.
    new_member_held_posts: int = 0
    # The review queue (community.moderation): a target whose flags' weights add up to this
    # is hidden until a moderator decides.
    flag_hide_threshold: int = 10
    flag_rate_limit: RateLimit = RateLimit(20, 3600)
    review_claim_seconds: int = 600
    # Outbound webhooks (gamification.hooks).
    webhooks_allow_loopback: bool = False
    # Seconds before each retry of a failed delivery (jittered); after the last, dead-letter.
    webhooks_retry_schedule: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    webhooks_disable_after: int = 50
    webhooks_secret_overlap_seconds: int = 86400
    webhooks_timeout_seconds: float = 5.0
    webhooks_retention_days: int = 30
    # Inbound events (orders, reviews...) a brand's API token may post per window.
    inbound_rate_limit: RateLimit = RateLimit(6000, 60)

    @property
    def scaled(self) -> bool:
        return bool(self.redis_url)

    @property
    def mode(self) -> str:
        return "scaled" if self.scaled else "embedded"

    @property
    def sqlite_path(self) -> Path:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "hearth.db"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def celery_log_level(self) -> str:
        # Celery has no TRACE level; uvicorn's trace is debug plus its ASGI messages.
        return "DEBUG" if self.log_level == "trace" else self.log_level.upper()


# A parser turns the raw text into the field's value, or raises SettingsError with a message
# that reads on after the variable's name ("must be a whole number, got 'x'").
Parser = Callable[[str], object]


def text(raw: str) -> str:
    return raw


def path(raw: str) -> Path:
    return Path(raw)


def boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"must be true or false, got {raw!r}")


def integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise SettingsError(f"must be at most {maximum}, got {value}")
        return value

    return parse


def positive_number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"must be a number, got {raw!r}") from None
    if not value > 0:
        raise SettingsError(f"must be above 0, got {raw!r}")
    return value


def rate(raw: str) -> RateLimit:
    """'LIMIT/SECONDS', e.g. '10/60' for ten per minute."""
    limit, sep, window = raw.partition("/")
    if not sep:
        raise SettingsError(f"must look like LIMIT/SECONDS (e.g. 10/60), got {raw!r}")
    return RateLimit(integer(1)(limit), integer(1)(window))


def choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise SettingsError(f"must be one of {', '.join(options)}, got {raw!r}")
        return value

    return parse


def url(*starts: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not raw.startswith(starts):
            shown = ", ".join(starts[:-1]) + f" or {starts[-1]}"
            raise SettingsError(f"must start with {shown}, got {redact_url(raw)!r}")
        return raw

    return parse


def origins(raw: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in raw.split(",") if o.strip())


def prefix(raw: str) -> str:
    if not raw.replace("-", "").replace("_", "").isalnum():
        raise SettingsError(f"must be letters, digits, - or _, got {raw!r}")
    return raw


def sender(raw: str) -> str:
    """A From address: `Name <addr@host>` or `addr@host`, on one line."""
    _, address = parseaddr(raw)
    if any(ord(c) < 32 or ord(c) == 127 for c in raw) or "@" not in address or " " in address:
        raise SettingsError(f"must be an address like 'Hearth <hearth@example.com>', got {raw!r}")
    return raw.strip()


def public_url(raw: str) -> str:
    value = url("http://", "https://")(raw.strip()).rstrip("/")
    parts = urlsplit(value)
    if not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"must be the web app's base URL, like https://forum.example.com, "
                            f"got {raw!r}")
    return value


def schedule(raw: str) -> tuple[float, ...]:
    """Comma-separated seconds, e.g. '5,300,1800'."""
    try:
        values = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise SettingsError(f"must be seconds separated by commas, like 5,300,1800, "
                            f"got {raw!r}") from None
    if any(not value > 0 for value in values):
        raise SettingsError(f"must be seconds above 0, got {raw!r}")
    return values


def password(raw: str) -> str:
    if len(raw) < 10:
        raise SettingsError("must be at least 10 characters")
    return raw


@dataclass(frozen=True)
class Variable:
    env: str
    field: str
    parse: Parser
    default: str  # as the README shows it
    help: str


VARIABLES: tuple[Variable, ...] = (
    Variable("HEARTH_HOST", "host", text, "`127.0.0.1`", "interface `hearth serve` binds"),
    Variable("HEARTH_PORT", "port", integer(1, 65535), "`8000`", "port (`make run` honours it)"),
    Variable("HEARTH_DATA_DIR", "data_dir", path, "`var`", "SQLite file, media, beat schedule"),
    Variable("HEARTH_DATABASE_URL", "database_url", url("postgresql://", "postgres://", "sqlite:///"),
             "SQLite in the data dir", "`postgresql://…` for scaled mode, or `sqlite:///path`"),
    Variable("HEARTH_REDIS_URL", "redis_url", url("redis://", "rediss://"), "unset",
             "`redis://…`; set together with a PostgreSQL URL for scaled mode"),
    Variable("HEARTH_REDIS_PREFIX", "redis_prefix", prefix, "`hearth`",
             "namespace for keys, channels and the Celery queue"),
    Variable("HEARTH_SESSION_TTL_SECONDS", "session_ttl_seconds", integer(60), "`1209600`",
             "session lifetime (14 days)"),
    Variable("HEARTH_COOKIE_SECURE", "cookie_secure", boolean, "`false`",
             "mark cookies Secure (set behind HTTPS)"),
    Variable("HEARTH_LOGIN_RATE_LIMIT", "login_rate_limit", rate, "`10/60`",
             "sign-in attempts per window, per address and per account"),
    Variable("HEARTH_REGISTER_RATE_LIMIT", "register_rate_limit", rate, "`5/3600`",
             "registrations per window per address"),
    Variable("HEARTH_WRITE_RATE_LIMIT", "write_rate_limit", rate, "`60/60`",
             "threads, replies, edits, reactions per window per member (Markdown previews count "
             "apart, under the same limit)"),
    Variable("HEARTH_LOOKUP_RATE_LIMIT", "lookup_rate_limit", rate, "`120/60`",
             "handle autocomplete requests per window per member"),
    Variable("HEARTH_SEARCH_RATE_LIMIT", "search_rate_limit", rate, "`30/60`",
             "searches per window per address by visitors who are not signed in"),
    Variable("HEARTH_TRUST_PROXY_HEADERS", "trust_proxy_headers", boolean, "`false`",
             "take the client address from `X-Forwarded-For` (rightmost entry)"),
    Variable("HEARTH_ALLOWED_ORIGINS", "allowed_origins", origins, "none",
             "extra origins (comma-separated) allowed to open the websocket with cookies"),
    Variable("HEARTH_REALTIME_HISTORY", "realtime_history", integer(1), "`200`",
             "messages kept per channel for reconnect catch-up"),
    Variable("HEARTH_REALTIME_REAUTH_SECONDS", "realtime_reauth_seconds", positive_number, "`30`",
             "how often open websockets re-check their session and each subscription"),
    Variable("HEARTH_REALTIME_TICKET_SECONDS", "realtime_ticket_seconds", integer(1), "`30`",
             "how long a websocket ticket stays usable"),
    Variable("HEARTH_SHUTDOWN_GRACE_SECONDS", "shutdown_grace_seconds", positive_number, "`8`",
             "after SIGTERM, how long `hearth serve` lets requests in flight finish before "
             "cancelling them (below Docker's 10-second stop timeout)"),
    Variable("HEARTH_SWEEP_INTERVAL_SECONDS", "sweep_interval_seconds", positive_number, "`5`",
             "how often a relay looks for events nobody took (after a crash, say)"),
    Variable("HEARTH_OUTBOX_RETENTION_DAYS", "outbox_retention_days", integer(1), "`7`",
             "how long dispatched outbox events are kept before the hourly prune"),
    Variable("HEARTH_SMTP_URL", "smtp_url", url("smtp://", "smtps://", "smtp+starttls://"), "unset",
             "scaled mode: send mail through this SMTP server: "
             "`smtp://[user:password@]host[:port]` (plain, port 25), `smtps://…` (TLS, 465) or "
             "`smtp+starttls://…` (587); unset, none is sent. Embedded mode writes `.eml` files "
             "under the data dir's `mail/` instead (see [Email](#email))"),
    Variable("HEARTH_MAIL_FROM", "mail_from", sender, "`Hearth <hearth@localhost>`",
             "the From address of every mail"),
    Variable("HEARTH_PUBLIC_URL", "public_url", public_url, "unset",
             "the web app's base URL (`https://forum.example.com`) that links in mail start with; "
             "set it in production (unset, links name `HEARTH_HOST` and `HEARTH_PORT`, never the "
             "`Host` a request named)"),
    Variable("HEARTH_PASSWORD_RESET_SECONDS", "password_reset_seconds", integer(60), "`3600`",
             "how long a password reset link works (once)"),
    Variable("HEARTH_EMAIL_CHANGE_SECONDS", "email_change_seconds", integer(60), "`86400`",
             "how long a link confirming a new email address works (once)"),
    Variable("HEARTH_PASSWORD_RESET_RATE_LIMIT", "password_reset_rate_limit", rate, "`5/3600`",
             "password reset requests per window, per client address and per email asked for; "
             "email change requests per window per member"),
    Variable("HEARTH_NEW_MEMBER_HOURS", "new_member_hours", integer(0), "`24`",
             "a member is new (and the limits below apply) until their account is this many "
             "hours old..."),
    Variable("HEARTH_NEW_MEMBER_POSTS", "new_member_posts", integer(0), "`0`",
             "...and has written this many posts (threads and replies)"),
    Variable("HEARTH_NEW_MEMBER_THREADS_PER_DAY", "new_member_threads_per_day", integer(0),
             "unset", "threads a new member may start per UTC day (unset: no limit)"),
    Variable("HEARTH_NEW_MEMBER_REPLIES_PER_DAY", "new_member_replies_per_day", integer(0),
             "unset", "replies a new member may write per UTC day (unset: no limit)"),
    Variable("HEARTH_NEW_MEMBER_LINKS_PER_POST", "new_member_links_per_post", integer(0),
             "unset", "links a new member's post may have (unset: no limit; mentions are no "
             "links)"),
    Variable("HEARTH_NEW_MEMBER_IMAGES_PER_POST", "new_member_images_per_post", integer(0),
             "unset", "images a new member's post may have (unset: no limit)"),
    Variable("HEARTH_NEW_MEMBER_HELD_POSTS", "new_member_held_posts", integer(0), "`0`",
             "the first this many posts of an account wait for a moderator's approval before "
             "anyone else sees them (`0`: none)"),
    Variable("HEARTH_FLAG_HIDE_THRESHOLD", "flag_hide_threshold", integer(1), "`10`",
             "a flagged post, thread or profile whose flags' weights add up to this is hidden "
             "(but from its author and staff) until a moderator decides"),
    Variable("HEARTH_FLAG_RATE_LIMIT", "flag_rate_limit", rate, "`20/3600`",
             "flags per window per member"),
    Variable("HEARTH_REVIEW_CLAIM_SECONDS", "review_claim_seconds", integer(10), "`600`",
             "how long a moderator's claim on a review item keeps others from acting on it"),
    Variable("HEARTH_POINTS_EXPIRY", "points_expiry", choice("never", "earning", "activity"),
             "`never`", "points expiry: `never`, `earning` (each credit expires "
             "HEARTH_POINTS_EXPIRY_MONTHS after it was earned) or `activity` (all a member's "
             "points expire that long after their last earning or spend)"),
    Variable("HEARTH_POINTS_EXPIRY_MONTHS", "points_expiry_months", integer(1, 120), "`12`",
             "months until points expire, when HEARTH_POINTS_EXPIRY is not `never`"),
    Variable("HEARTH_WEBHOOKS_ALLOW_LOOPBACK", "webhooks_allow_loopback", boolean, "`false`",
             "development and tests only: webhook endpoints may be `http://` and on loopback "
             "addresses (private, link-local and other addresses stay refused)"),
    Variable("HEARTH_WEBHOOKS_RETRY_SCHEDULE", "webhooks_retry_schedule", schedule,
             "`5,300,1800,7200,18000,36000,36000`",
             "seconds before each retry of a failed webhook delivery (each jittered by up to "
             "a fifth; about a day in all), after which the delivery is dead-lettered"),
    Variable("HEARTH_WEBHOOKS_DISABLE_AFTER", "webhooks_disable_after", integer(1), "`50`",
             "failed webhook attempts in a row after which an endpoint is disabled and its "
             "brand's staff are notified"),
    Variable("HEARTH_WEBHOOKS_SECRET_OVERLAP_SECONDS", "webhooks_secret_overlap_seconds",
             integer(0), "`86400`",
             "after a webhook secret is rotated, how long deliveries are signed with the old "
             "secret too"),
    Variable("HEARTH_WEBHOOKS_TIMEOUT_SECONDS", "webhooks_timeout_seconds", positive_number,
             "`5`", "connect and read timeout of a webhook delivery (the whole attempt gets "
             "twice that)"),
    Variable("HEARTH_WEBHOOKS_RETENTION_DAYS", "webhooks_retention_days", integer(1), "`30`",
             "webhook deliveries (delivered or dead) and their attempt logs older than this are "
             "pruned hourly; replays reach back this far"),
    Variable("HEARTH_INBOUND_RATE_LIMIT", "inbound_rate_limit", rate, "`6000/60`",
             "inbound events (`POST /api/integrations/events`) per window per API token"),
    Variable("HEARTH_LOG_LEVEL", "log_level", choice(*LOG_LEVELS), "`info`",
             f"log level: {', '.join(f'`{level}`' for level in LOG_LEVELS)}"),
    Variable("HEARTH_DEMO_PASSWORD", "demo_password", password, "random",
             "one password (10+ characters) for every demo login; `make run` then prints the "
             "logins every time"),
    Variable("HEARTH_FAILPOINT", "failpoint", choice(*FAILPOINTS), "unset",
             "testing only: `after-commit` kills the process between commit and dispatch, "
             "`mid-dispatch` after a relay's first handler of a batch"),
    Variable("HEARTH_TEST_CLOCK_FILE", "test_clock_file", text, "unset",
             "testing only: a file holding an offset in seconds added to the clock, shared by a "
             "test stack's processes"),
    Variable("HEARTH_TEST_LIGHT_PASSWORD_HASHES", "test_light_password_hashes", boolean,
             "`false`", "testing only: hash passwords with argon2id at its lightest cost (one "
             "pass over 8 KiB), so a test suite spends no minutes hashing"),
)


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and /health."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _warn_unknown(env: Mapping[str, str]) -> None:
    known = [v.env for v in VARIABLES]
    for name in sorted(env):
        if name.startswith(PREFIX) and not name.startswith(IGNORED_PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            log.warning("%s is not a Hearth setting and is ignored%s", name, hint)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Parse every variable in VARIABLES; an empty value means the default."""
    env = os.environ if env is None else env
    _warn_unknown(env)
    values: dict[str, object] = {}
    for variable in VARIABLES:
        raw = env.get(variable.env, "")
        if not raw:
            continue
        try:
            values[variable.field] = variable.parse(raw)
        except SettingsError as exc:
            raise SettingsError(f"{variable.env} {exc}") from None
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.database_url.startswith(("postgres://", "postgresql://")) != settings.scaled:
        raise SettingsError(
            "scaled mode needs both HEARTH_DATABASE_URL (PostgreSQL) and HEARTH_REDIS_URL; "
            "set both, or neither for embedded mode"
        )
    return settings


def markdown_table() -> str:
    """The README's configuration table."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{v.env}` | {v.default} | {v.help} |" for v in VARIABLES]
    return "\n".join(rows)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


if __name__ == "__main__":
    print(markdown_table())
