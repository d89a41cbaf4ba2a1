"""A wrong setting or an unreachable service stops start-up with a message naming it."""

import pytest

from tests.harness import Server, Stack


@pytest.mark.parametrize(("env", "expected"), [
    ({"HEARTH_DATABASE_URL": "postgresql://hearth@127.0.0.1:1/nowhere",
      "HEARTH_REDIS_URL": "redis://127.0.0.1:6379/0"},
     "cannot reach the database at postgresql://hearth@127.0.0.1:1/nowhere"),
    ({"HEARTH_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/x",
      "HEARTH_REDIS_URL": "redis://127.0.0.1:6379/0"}, "postgresql://u:***@127.0.0.1:1/x"),
    ({"HEARTH_DATABASE_URL": "mysql://x/y"}, "HEARTH_DATABASE_URL must start with postgresql://"),
    ({"HEARTH_REDIS_URL": "redis://127.0.0.1:6379/0"}, "scaled mode needs both"),
    ({"HEARTH_PORT": "eighty"}, "HEARTH_PORT must be a whole number"),
    ({"HEARTH_LOGIN_RATE_LIMIT": "lots"}, "HEARTH_LOGIN_RATE_LIMIT must look like LIMIT/SECONDS"),
    ({"HEARTH_LOG_LEVEL": "loud"}, "HEARTH_LOG_LEVEL must be one of critical, error, warning"),
    ({"HEARTH_FAILPOINT": "before-lunch"}, "HEARTH_FAILPOINT must be one of after-commit"),
])
def test_serve_refuses_to_start_with_a_clear_message(stack: Stack, env: dict, expected: str) -> None:
    clean = {k: "" for k in ("HEARTH_DATABASE_URL", "HEARTH_REDIS_URL")}
    result = stack.run("serve", env={**clean, **env}, check=False, timeout=60)
    assert result.returncode != 0
    assert expected in result.stderr + result.stdout
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_a_misspelt_variable_is_named_at_start_up(stack: Stack) -> None:
    # The bad port stops the command right after settings load, where the warning is logged.
    result = stack.run("serve", env={"HEARTH_REDIS_ULR": "redis://x/0", "HEARTH_PORT": "0"},
                       check=False, timeout=60)
    assert result.returncode != 0
    assert "HEARTH_REDIS_ULR is not a Hearth setting" in result.stderr
    assert "did you mean HEARTH_REDIS_URL?" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "Error: HEARTH_PORT must be at least 1, got 0"


def test_unreachable_redis_is_named(stack: Stack) -> None:
    if stack.mode != "scaled":
        env = {"HEARTH_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
               "HEARTH_REDIS_URL": "redis://127.0.0.1:1/0"}
    else:
        env = {"HEARTH_REDIS_URL": "redis://127.0.0.1:1/0"}
    result = stack.run("serve", env=env, check=False, timeout=60)
    assert result.returncode != 0
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in result.stderr


def test_worker_explains_it_needs_scaled_mode(stack: Stack) -> None:
    result = stack.run("worker", env={"HEARTH_DATABASE_URL": "", "HEARTH_REDIS_URL": ""},
                       check=False)
    assert result.returncode != 0
    assert "scaled mode only" in result.stderr


def test_embedded_mode_refuses_several_workers(stack: Stack) -> None:
    result = stack.run("serve", "--workers", "2",
                       env={"HEARTH_DATABASE_URL": "", "HEARTH_REDIS_URL": ""}, check=False)
    assert result.returncode != 0
    assert "--workers above 1 needs scaled mode" in result.stderr


def test_a_movable_clock_is_announced_at_start_up(server: Server) -> None:
    # Every test stack sets HEARTH_TEST_CLOCK_FILE; a production server that inherited it
    # would say so in its log instead of silently following the file.
    assert "HEARTH_TEST_CLOCK_FILE is set" in server.process.log()
    assert "for tests only" in server.process.log()
