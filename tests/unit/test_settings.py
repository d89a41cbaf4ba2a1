import logging
import re
from pathlib import Path

import pytest

from server.settings import (
    FAILPOINTS,
    VARIABLES,
    RateLimit,
    Settings,
    SettingsError,
    Variable,
    load_settings,
    markdown_table,
    redact_url,
)


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
    ({"HEARTH_SMTP_URL": "http://mx:25"}, "HEARTH_SMTP_URL must start with smtp://"),
    ({"HEARTH_MAIL_FROM": "Hearth <a@b.test>\r\nBcc: x@y.test"}, "HEARTH_MAIL_FROM must be an address"),
    ({"HEARTH_MAIL_FROM": "nobody"}, "HEARTH_MAIL_FROM must be an address"),
    ({"HEARTH_PUBLIC_URL": "https://x.test/?a=1"}, "HEARTH_PUBLIC_URL must be the web app's base URL"),
    ({"HEARTH_PUBLIC_URL": "ftp://x.test"}, "HEARTH_PUBLIC_URL must start with http://"),
    ({"HEARTH_PASSWORD_RESET_SECONDS": "10"}, "HEARTH_PASSWORD_RESET_SECONDS must be at least 60"),
])
def test_bad_values_name_the_variable(env: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_mail_settings_are_read() -> None:
    settings = load_settings({"HEARTH_SMTP_URL": "smtps://u:p@mx.test", "HEARTH_MAIL_FROM":
                              "Forum <forum@x.test>", "HEARTH_PUBLIC_URL": "https://x.test/app/"})
    assert settings.smtp_url == "smtps://u:p@mx.test"
    assert settings.mail_from == "Forum <forum@x.test>"
    assert settings.public_url == "https://x.test/app"
    assert settings.mail_dir == Path("var/mail")


def test_redact_url_hides_passwords() -> None:
    assert redact_url("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert redact_url("redis://h:6379/0") == "redis://h:6379/0"


@pytest.mark.parametrize(("env", "message"), [
    ({"HEARTH_LOG_LEVEL": "loud"},
     "HEARTH_LOG_LEVEL must be one of critical, error, warning, info, debug, trace, got 'loud'"),
    ({"HEARTH_FAILPOINT": "before-lunch"}, "HEARTH_FAILPOINT must be one of after-commit"),
    ({"HEARTH_DATABASE_URL": "mysql://u:pw@h/db"}, r"got 'mysql://u:\*\*\*@h/db'"),
    ({"HEARTH_REALTIME_HISTORY": "0"}, "HEARTH_REALTIME_HISTORY must be at least 1"),
    ({"HEARTH_DEMO_PASSWORD": "short"}, "HEARTH_DEMO_PASSWORD must be at least 10 characters"),
])
def test_enumerations_and_limits_are_checked(env: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_known_values_parse() -> None:
    settings = load_settings({"HEARTH_LOG_LEVEL": "TRACE", "HEARTH_FAILPOINT": "after-commit",
                              "HEARTH_ALLOWED_ORIGINS": "https://a.test, https://b.test"})
    assert settings.log_level == "trace" and settings.celery_log_level == "DEBUG"
    assert settings.failpoint == "after-commit"
    assert settings.allowed_origins == ("https://a.test", "https://b.test")


def test_empty_values_mean_the_default() -> None:
    assert load_settings({"HEARTH_PORT": "", "HEARTH_LOG_LEVEL": ""}) == Settings()


def test_unknown_variables_are_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hearth.settings"):
        settings = load_settings({"HEARTH_REDIS_ULR": "redis://r/0", "HEARTH_TEST_MODE": "scaled"})
    assert settings.mode == "embedded"
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["HEARTH_REDIS_ULR is not a Hearth setting and is ignored "
                        "(did you mean HEARTH_REDIS_URL?)"]


def test_every_field_has_one_variable() -> None:
    fields = [v.field for v in VARIABLES]
    assert sorted(fields) == sorted(Settings.__struct_fields__)
    assert len({v.env for v in VARIABLES}) == len(VARIABLES)


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.env)
def test_documented_default_is_the_real_default(variable: Variable) -> None:
    actual = getattr(Settings(), variable.field)
    if variable.default.startswith("`"):
        assert variable.parse(variable.default.strip("`")) == actual
    else:  # "unset", "none", "random", a sentence: the field is empty
        assert not actual


def test_failpoints_are_the_ones_the_outbox_calls() -> None:
    root = Path(__file__).resolve().parents[2]
    called: set[str] = set()
    for source in root.glob("server/**/*.py"):
        called |= set(re.findall(r'\bfailpoint\("([^"]+)"\)', source.read_text()))
    assert called == set(FAILPOINTS)


def test_readme_documents_exactly_the_settings_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    documented = set(re.findall(r"^\| `(HEARTH_[A-Z0-9_]+)` \|", readme, flags=re.M))
    names = {v.env for v in VARIABLES}
    assert documented == names, (
        f"README lacks {sorted(names - documented)}, documents unknown {sorted(documented - names)}"
    )
    assert markdown_table() in readme, "README's table differs: paste `python -m server.settings`"
