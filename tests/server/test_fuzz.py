"""Schemathesis over every operation in the OpenAPI document, anonymous and as an admin, with
valid and invalid input: no server errors, every 4xx in the one error shape, and every status
one the document lists for that operation (so generated clients can rely on it)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.harness import (
    ADMIN_HANDLE,
    ADMIN_PASSWORD,
    MODE,
    Server,
    build_stack,
    drop_stack,
    services_reachable,
)

# Cases per operation and mode, each sent by both callers: 77 operations x 2 modes x 3 cases
# x 2 callers is ~900 requests, within a minute on a loaded machine. Raise it for a deeper
# search (HEARTH_FUZZ_EXAMPLES=50).
EXAMPLES = int(os.environ.get("HEARTH_FUZZ_EXAMPLES", "3"))
SIGN_OUTS = ("POST /api/session/logout", "POST /api/session/logout-all")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A stack of its own: the run changes the tier ladder, point rules, roles, exclusions and
    more, which the tests sharing the session stack rely on."""
    missing = services_reachable() if MODE == "scaled" else None
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"scaled mode needs {missing} (CI is set: missing services are a failure)")
        pytest.skip(f"scaled mode needs {missing}")
    stack = build_stack(Path(tmp_path_factory.mktemp("fuzz")))
    try:
        stack.run("migrate")
        server = stack.start_server()
        stack.run("create-admin", "--handle", ADMIN_HANDLE, "--email", "root@example.test",
                  "--password", ADMIN_PASSWORD)
        yield server
    finally:
        drop_stack(stack)


@dataclass
class Caller:
    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _admin(server: Server) -> Caller:
    response = requests.post(server.url + "/api/session", timeout=30,
                             json={"login": ADMIN_HANDLE, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    cookies = dict(response.cookies)
    return Caller("admin", cookies, {"X-CSRF-Token": cookies["hearth_csrf"]})


def _problem(response: Any, documented: dict[str, Any]) -> str | None:
    status = response.status_code
    if status >= 500:
        return "server error"
    if str(status) not in documented:
        return f"status {status} is not in the document ({sorted(documented)})"
    if status >= 400:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            return "4xx without the error shape"
        if error.get("status") != status or not error.get("code") or not error.get("message"):
            return "4xx with an incomplete error body"
    return None


def _explore(server: Server, http: requests.Session, operation: Any, mode: GenerationMode,
             callers: list[Caller], documented: dict[str, Any],
             failures: dict[tuple[Any, ...], str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def call(case: schemathesis.Case) -> None:
        for caller in callers:
            http.cookies.clear()  # a sign-in or sign-up must not carry over to the next call
            response = case.call(base_url=server.url, session=http, timeout=30,
                                 headers=caller.headers, cookies=caller.cookies)
            problem = _problem(response, documented)
            if problem:
                key = (caller.name, operation.label, response.status_code, problem)
                failures.setdefault(key, f"{case.as_curl_command()}\n-> {response.text[:300]}")

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: no parameters, no body
        call()


def test_no_operation_answers_with_a_server_error_or_an_undocumented_status(
        fuzz_server: Server) -> None:
    document = requests.get(fuzz_server.url + "/schema/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: op.label in SIGN_OUTS)  # signing out comes last
    assert len(operations) > 50
    http = requests.Session()
    failures: dict[tuple[Any, ...], str] = {}
    callers = [Caller("anonymous"), _admin(fuzz_server)]
    for operation in operations:
        documented = document["paths"][operation.path][operation.method.lower()]["responses"]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _explore(fuzz_server, http, operation, mode, callers, documented, failures)
    assert not failures, "\n\n".join(f"{key}: {example}" for key, example in failures.items())
