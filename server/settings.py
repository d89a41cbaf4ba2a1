"""Settings, read once from HEARTH_* environment variables.

Embedded mode is the default. Scaled mode is chosen by pointing HEARTH_DATABASE_URL at
PostgreSQL and setting HEARTH_REDIS_URL; nothing else in the code base decides the mode.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import msgspec


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
    allowed_origins: tuple[str, ...] = ()
    trust_proxy_headers: bool = False
    realtime_history: int = 200
    # How often open websockets re-check their session and each subscription's access.
    realtime_reauth_seconds: float = 30.0
    sweep_interval_seconds: float = 5.0
    # Dispatched outbox events (and their receipts) older than this are pruned.
    outbox_retention_days: int = 7
    log_level: str = "info"
    # Testing only: crash at the named point (see server.outbox.failpoint).
    failpoint: str = ""
    # Demo data uses this password for every login instead of random ones.
    demo_password: str = ""
    # Testing only: a file holding an offset in seconds added to the clock (server.clock).
    test_clock_file: str = ""

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


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise SettingsError(f"{name} must be above 0, got {raw!r}")
    return value


def _rate(name: str, raw: str) -> RateLimit:
    """Parse 'LIMIT/SECONDS', e.g. '10/60' for ten per minute."""
    limit, sep, window = raw.partition("/")
    if not sep:
        raise SettingsError(f"{name} must look like LIMIT/SECONDS (e.g. 10/60), got {raw!r}")
    return RateLimit(_int(name, limit, 1), _int(name, window, 1))


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and /health."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def load_settings(env: dict[str, str] | os._Environ[str] | None = None) -> Settings:
    env = os.environ if env is None else env
    values: dict[str, object] = {}

    def get(key: str) -> str | None:
        return env.get(f"HEARTH_{key}")

    if (raw := get("HOST")) is not None:
        values["host"] = raw
    if (raw := get("PORT")) is not None:
        port = _int("HEARTH_PORT", raw, 1)
        if port > 65535:
            raise SettingsError(f"HEARTH_PORT must be at most 65535, got {port}")
        values["port"] = port
    if (raw := get("DATA_DIR")) is not None:
        values["data_dir"] = Path(raw)
    database_url = get("DATABASE_URL") or ""
    redis_url = get("REDIS_URL") or ""
    if database_url and not database_url.startswith(("postgres://", "postgresql://", "sqlite:///")):
        raise SettingsError(
            "HEARTH_DATABASE_URL must start with postgresql:// or sqlite:///, "
            f"got {redact_url(database_url)!r}"
        )
    if redis_url and not redis_url.startswith(("redis://", "rediss://")):
        raise SettingsError(f"HEARTH_REDIS_URL must start with redis://, got {redact_url(redis_url)!r}")
    is_postgres = database_url.startswith(("postgres://", "postgresql://"))
    if is_postgres != bool(redis_url):
        raise SettingsError(
            "scaled mode needs both HEARTH_DATABASE_URL (PostgreSQL) and HEARTH_REDIS_URL; "
            "set both, or neither for embedded mode"
        )
    values["database_url"] = database_url
    values["redis_url"] = redis_url
    if (raw := get("REDIS_PREFIX")) is not None:
        if not raw or not raw.replace("-", "").replace("_", "").isalnum():
            raise SettingsError(f"HEARTH_REDIS_PREFIX must be letters, digits, - or _, got {raw!r}")
        values["redis_prefix"] = raw
    if (raw := get("SESSION_TTL_SECONDS")) is not None:
        values["session_ttl_seconds"] = _int("HEARTH_SESSION_TTL_SECONDS", raw, 60)
    if (raw := get("COOKIE_SECURE")) is not None:
        values["cookie_secure"] = _bool("HEARTH_COOKIE_SECURE", raw)
    if (raw := get("LOGIN_RATE_LIMIT")) is not None:
        values["login_rate_limit"] = _rate("HEARTH_LOGIN_RATE_LIMIT", raw)
    if (raw := get("REGISTER_RATE_LIMIT")) is not None:
        values["register_rate_limit"] = _rate("HEARTH_REGISTER_RATE_LIMIT", raw)
    if (raw := get("WRITE_RATE_LIMIT")) is not None:
        values["write_rate_limit"] = _rate("HEARTH_WRITE_RATE_LIMIT", raw)
    if (raw := get("ALLOWED_ORIGINS")) is not None:
        values["allowed_origins"] = tuple(o.strip() for o in raw.split(",") if o.strip())
    if (raw := get("TRUST_PROXY_HEADERS")) is not None:
        values["trust_proxy_headers"] = _bool("HEARTH_TRUST_PROXY_HEADERS", raw)
    if (raw := get("REALTIME_HISTORY")) is not None:
        values["realtime_history"] = _int("HEARTH_REALTIME_HISTORY", raw, 1)
    if (raw := get("REALTIME_REAUTH_SECONDS")) is not None:
        values["realtime_reauth_seconds"] = _positive_float("HEARTH_REALTIME_REAUTH_SECONDS", raw)
    if (raw := get("SWEEP_INTERVAL_SECONDS")) is not None:
        values["sweep_interval_seconds"] = _positive_float("HEARTH_SWEEP_INTERVAL_SECONDS", raw)
    if (raw := get("OUTBOX_RETENTION_DAYS")) is not None:
        values["outbox_retention_days"] = _int("HEARTH_OUTBOX_RETENTION_DAYS", raw, 1)
    if (raw := get("LOG_LEVEL")) is not None:
        values["log_level"] = raw.lower()
    if (raw := get("FAILPOINT")) is not None:
        values["failpoint"] = raw
    if (raw := get("DEMO_PASSWORD")) is not None:
        if raw and len(raw) < 10:
            raise SettingsError("HEARTH_DEMO_PASSWORD must be at least 10 characters")
        values["demo_password"] = raw
    if (raw := get("TEST_CLOCK_FILE")) is not None:
        values["test_clock_file"] = raw
    return Settings(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
