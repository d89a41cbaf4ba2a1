from pathlib import Path

import pytest

from server.settings import RateLimit, SettingsError, load_settings, redact_url


def test_defaults_are_embedded() -> None:
    settings = load_settings({})
    assert settings.mode == "embedded"
    assert settings.port == 8000
    assert settings.sqlite_path == Path("var/hearth.db")


def test_scaled_when_both_urls_are_set() -> None:
    settings = load_settings({"HEARTH_DATABASE_URL": "postgresql://h@db/h",
                              "HEARTH_REDIS_URL": "redis://r:6379/0", "HEARTH_PORT": "9000",
                              "HEARTH_LOGIN_RATE_LIMIT": "5/30"})
    assert settings.mode == "scaled" and settings.port == 9000
    assert settings.login_rate_limit == RateLimit(5, 30)


@pytest.mark.parametrize(("env", "message"), [
    ({"HEARTH_PORT": "0"}, "HEARTH_PORT must be at least 1"),
    ({"HEARTH_PORT": "70000"}, "HEARTH_PORT must be at most 65535"),
    ({"HEARTH_COOKIE_SECURE": "maybe"}, "HEARTH_COOKIE_SECURE must be true or false"),
    ({"HEARTH_REDIS_PREFIX": "a b"}, "HEARTH_REDIS_PREFIX"),
    ({"HEARTH_DATABASE_URL": "postgresql://x/y"}, "scaled mode needs both"),
    ({"HEARTH_SWEEP_INTERVAL_SECONDS": "soon"}, "HEARTH_SWEEP_INTERVAL_SECONDS must be a number"),
])
def test_bad_values_name_the_variable(env: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_redact_url_hides_passwords() -> None:
    assert redact_url("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert redact_url("redis://h:6379/0") == "redis://h:6379/0"
