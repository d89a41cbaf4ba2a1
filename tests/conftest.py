"""Session fixtures: one stack (database, Redis namespace, server, and in scaled mode a
Celery worker and beat) per test session, in the mode HEARTH_TEST_MODE names. A module
marked `own_stack` gets a stack of its own instead (replays of every event stay inside it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.harness import (
    ADMIN_HANDLE,
    ADMIN_PASSWORD,
    MODE,
    Client,
    Server,
    Stack,
    build_stack,
    drop_stack,
    services_reachable,
)

SERVICE_TIER = Path(__file__).resolve().parent / "service"


def pytest_report_header() -> str:
    return f"hearth mode: {MODE}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scaled_only: behaviour that exists only in scaled mode")
    config.addinivalue_line("markers", "embedded_only: behaviour that exists only in embedded "
                            "mode (SQLite's write lock, file backups)")
    config.addinivalue_line(
        "markers", "own_stack: the module runs on a stack (database, servers) of its own, "
        "for tests that replay or forget every event")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if MODE != "scaled":
        # Deselected, not skipped: embedded mode has one process, so there is nothing to test.
        dropped = [i for i in items if "scaled_only" in i.keywords]
    else:
        # The service tier runs on SQLite files whatever the mode: once is enough.
        dropped = [i for i in items
                   if SERVICE_TIER in i.path.parents or "embedded_only" in i.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [i for i in items if i not in gone]


@contextmanager
def started_stack(tmp_path_factory: pytest.TempPathFactory,
                  env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A migrated database and, in scaled mode, a Celery worker and beat; dropped after.
    `env`: settings every process of the stack gets (a module's own stack)."""
    if MODE == "scaled":
        missing = services_reachable()
        if missing:
            message = f"scaled mode needs {missing}"
            if os.environ.get("CI"):
                pytest.fail(message + " (CI is set: missing services are a failure)")
            pytest.skip(message)
    stack = build_stack(Path(tmp_path_factory.mktemp("hearth")))
    stack.env.update(env or {})
    try:
        stack.run("migrate")
        if MODE == "scaled":
            stack.start_worker()
            stack.spawn("beat", "beat")
        yield stack
    finally:
        drop_stack(stack)


def signed_in_admin(server: Server, stack: Stack) -> Client:
    """An admin, made the way an operator would: `hearth create-admin`, then signing in."""
    stack.run("create-admin", "--handle", ADMIN_HANDLE, "--email", "root@example.test",
              "--password", ADMIN_PASSWORD)
    client = server.client()
    assert client.login(ADMIN_HANDLE, ADMIN_PASSWORD).status_code == 200
    # The seeded point rules (a point a visit, ten a thread...) would move balances under
    # tests that count points; the rule tests create the rules they need.
    for rule in client.get("/api/gamification/rules").json():
        response = client.patch(f"/api/gamification/rules/{rule['id']}", {"enabled": False})
        assert response.status_code == 200, response.text
    return client


def _own_stack(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("own_stack") is not None


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with started_stack(tmp_path_factory) as stack:
        yield stack


@pytest.fixture(scope="session")
def shared_server(shared_stack: Stack) -> Server:
    return shared_stack.start_server()


@pytest.fixture(scope="session")
def shared_admin(shared_server: Server, shared_stack: Stack) -> Client:
    return signed_in_admin(shared_server, shared_stack)


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    """The session's shared stack, or the module's own when it is marked own_stack."""
    if not _own_stack(request):
        yield request.getfixturevalue("shared_stack")
        return
    with started_stack(tmp_path_factory) as own:
        yield own


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, stack: Stack) -> Server:
    if not _own_stack(request):
        return request.getfixturevalue("shared_server")  # type: ignore[no-any-return]
    return stack.start_server()


@pytest.fixture(scope="module")
def admin(request: pytest.FixtureRequest, server: Server, stack: Stack) -> Client:
    if not _own_stack(request):
        return request.getfixturevalue("shared_admin")  # type: ignore[no-any-return]
    return signed_in_admin(server, stack)


@pytest.fixture
def member(server: Server, admin: Client) -> Client:
    return server.client().register()


@pytest.fixture
def other(server: Server, admin: Client) -> Client:
    return server.client().register()


@pytest.fixture
def anon(server: Server, admin: Client) -> Client:
    return server.client()


@pytest.fixture
def moderator(server: Server, admin: Client) -> Client:
    client = server.client().register()
    response = admin.put(f"/api/members/{client.member['id']}/role", {"role": "moderator"})
    assert response.status_code == 200, response.text
    return client


@pytest.fixture
def category(admin: Client) -> dict:
    import uuid

    slug = "c-" + uuid.uuid4().hex[:8]
    response = admin.post("/api/categories", {"name": "Talk " + slug, "slug": slug})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def thread(member: Client, category: dict) -> dict:
    response = member.post(f"/api/categories/{category['id']}/threads",
                           {"title": "A thread to talk in", "body": "First post **here**"})
    assert response.status_code == 201, response.text
    return response.json()
