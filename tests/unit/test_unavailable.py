"""Which failures mean "a backing service is unreachable right now" (a 503 with Retry-After)
and which are bugs (a 500); and the key/value store not paying for a dead Redis per call."""

import asyncio
import errno
from typing import Any

import asyncpg
import pytest
import redis.exceptions

from server.errors import ServiceUnavailable, unavailable
from server.kv import RedisKeyValue


def _caused_by(cause: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("wrapped") from cause
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize("exc", [
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    ConnectionRefusedError(111, "Connection refused"),
    redis.exceptions.ConnectionError("Connection closed by server."),
    redis.exceptions.TimeoutError("Timeout reading from socket"),
    _caused_by(redis.exceptions.ConnectionError("Error 111 connecting")),
    OSError(errno.EHOSTUNREACH, "No route to host"),
    OSError(errno.ENETUNREACH, "Network is unreachable"),
    # asyncio, when every address of a host (localhost: ::1 and 127.0.0.1) refused.
    OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0), "
            "[Errno 111] Connect call failed ('127.0.0.1', 5432)"),
])
def test_unreachable_services_are_503(exc: BaseException) -> None:
    down = unavailable(exc)
    assert down is not None and down.status == 503 and down.retry_after > 0


@pytest.mark.parametrize("exc", [
    asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"),
    asyncpg.UniqueViolationError("duplicate key value"),
    ValueError("a bug"),
    FileNotFoundError("media/missing.png"),
    OSError(errno.ENOSPC, "No space left on device"),
])
def test_bugs_stay_500(exc: BaseException) -> None:
    assert unavailable(exc) is None


class _DeadRedis:
    """Stands in for a client whose every command fails to connect."""

    def __init__(self) -> None:
        self.calls = 0

    async def get(self, key: str) -> Any:
        self.calls += 1
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")


def test_a_dead_redis_is_tried_once_a_second_not_on_every_call() -> None:
    client = _DeadRedis()
    store = RedisKeyValue(client)  # type: ignore[arg-type]

    async def many() -> None:
        for _ in range(50):
            with pytest.raises(ServiceUnavailable):
                await store.get("session:x")

    asyncio.run(many())
    assert client.calls == 1
