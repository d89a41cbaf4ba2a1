"""Processes and Redis die under load, and nothing a member did is lost or paid twice: two
app servers, two workers and beat on a private Redis, members replying through both
servers, then a worker and an app process killed (kill -9), then Redis killed for 20 s."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos import Chaos, assert_nothing_lost, chaos_stack, settled, signal_tree
from tests.harness import eventually, services_reachable

pytestmark = pytest.mark.scaled_only

WRITERS = 6
# Long enough for a dead worker's claim to lapse and its events to be taken over, and for
# the sweep to drain what piled up meanwhile, on a loaded machine.
SETTLE_SECONDS = 90
OUTAGE_SECONDS = 20


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    missing = services_reachable()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"scaled mode needs {missing} (CI is set: missing services are a failure)")
        pytest.skip(f"scaled mode needs {missing}")
    with chaos_stack(Path(tmp_path_factory.mktemp("chaos")), writers=WRITERS) as stack:
        yield stack


def test_a_worker_and_an_app_process_killed_mid_stream_lose_no_reply_and_no_award(
        chaos: Chaos) -> None:
    stream = chaos.stream()
    with stream.running():
        stream.wait_for_replies(40)
        worker = chaos.workers[0]
        signal_tree(worker.popen.pid, signal.SIGKILL)
        worker.popen.wait()
        doomed = chaos.servers[0]
        signal_tree(doomed.process.popen.pid, signal.SIGKILL)
        doomed.process.popen.wait()
        chaos.replace_server(doomed, stream)
        chaos.workers[0] = chaos.stack.start_worker()
        stream.wait_for_replies(40)

    eventually(lambda: settled(chaos.stack, stream.thread_id), timeout=SETTLE_SECONDS)
    assert_nothing_lost(chaos.stack, stream, stream.thread_id)
    # Only the killed process left requests unanswered; nobody got a server error.
    assert [a for a in stream.answers if a.status is None and a.server != doomed.url] == []
    assert [a for a in stream.answers if a.status is not None and a.status >= 500] == []


def test_a_redis_outage_under_load_loses_nothing_and_answers_no_server_error(
        chaos: Chaos) -> None:
    stream = chaos.stream()
    with stream.running():
        stream.wait_for_replies(20)
        chaos.redis.kill()
        down_at = time.monotonic()
        # A websocket ticket truly needs Redis: refused for now, with when to come back.
        ticket = chaos.writers[0].post(chaos.servers[1].url + "/api/realtime/ticket")
        assert (ticket.status_code, "retry-after" in ticket.headers) == (503, True), ticket.text
        # The outage's length is the scenario itself, not a wait for some state.
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
        chaos.redis.start()
        stream.wait_for_replies(20)

    eventually(lambda: settled(chaos.stack, stream.thread_id), timeout=SETTLE_SECONDS)
    assert_nothing_lost(chaos.stack, stream, stream.thread_id)
    assert [p.popen.poll() for p in [*chaos.workers, chaos.beat]] == [None, None, None], \
        "a worker or beat died with Redis"
    # Replying and reading a thread need only PostgreSQL: they work through the outage.
    failed = [a for a in stream.answers if a.status is None or not 200 <= a.status < 300]
    assert failed == []
