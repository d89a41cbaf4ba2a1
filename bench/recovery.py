"""How fast a scaled deployment recovers when a worker, Redis or PostgreSQL dies.

On a private Redis and a private PostgreSQL (tests/faults.py: they are killed and restarted,
the shared ones are never touched), the stack the fault tests use (tests/chaos.py: two app
servers, two Celery workers, beat; members replying in a thread through both servers, a rule
paying one point a reply), four scenarios in one run:

    baseline   both workers stopped (SIGSTOP) while --backlog replies pile up, then let go:
               the time for that backlog to be handled (every reply awarded, outbox empty),
               with no fault
    worker     the same backlog; one worker let go until it holds a claimed batch, then
               kill -9 (with its pool children): the time from its death to every event it
               held being dispatched by the other worker, and to the outbox being drained
    redis      replies streaming; the private Redis killed (kill -9, it keeps nothing) for
               --outage seconds, then started again, empty: the number of 5xx (and of 503,
               and of requests with no answer) during the outage, and the time from Redis
               returning to the outbox being drained (the stream stops when Redis returns)
    postgres   replies streaming; the private PostgreSQL restarted (pg_ctl stop -m fast,
               start): the number of 5xx during the restart and the few seconds after it,
               and the time from PostgreSQL returning to the outbox being drained

Times are measured by polling the database (psql) every 50 ms; they include that and a
loaded machine's slowness. A scenario that does not finish within --timeout says so.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

# The fault helpers start scaled stacks only; the harness reads the mode when imported.
os.environ["HEARTH_TEST_MODE"] = "scaled"

# _common puts the repository on sys.path.
from _common import (
    Deployment,
    Target,
    add_target_options,
    build_stack,
    log,
    machine_note,
    median,
    summary,
    target_of,
)

from tests.chaos import (
    Answer,
    Chaos,
    ReplyStream,
    pending_events,
    populate,
    replies,
    settled,
    signal_tree,
)
from tests.faults import PrivatePostgres, private_redis
from tests.harness import Process, drop_stack

POLL = 0.05


def _until(check: Callable[[], bool], timeout: float, since: float | None = None) -> float | None:
    """Seconds from `since` (default: now) until check() holds; None if it did not within
    timeout seconds of since."""
    start = time.monotonic() if since is None else since
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except AssertionError:
            pass
        time.sleep(POLL)
    return None


def _seconds(value: float | None, timeout: float) -> str:
    return f"{value:6.1f} s" if value is not None else f"NOT within {timeout:g} s"


def _settled(chaos: Chaos, stream: ReplyStream) -> Callable[[], bool]:
    return lambda: settled(chaos.stack, stream.thread_id)


def _server_errors(answers: list[Answer]) -> str:
    fivexx = [a for a in answers if a.status is not None and a.status >= 500]
    plain = [a for a in fivexx if a.status != 503 or a.retry_after is None]
    unanswered = [a for a in answers if a.status is None]
    took = [a.seconds for a in answers]
    return (f"{len(fivexx)} 5xx ({len(plain)} of them not a 503 with Retry-After) and "
            f"{len(unanswered)} without an answer, of {len(answers)} requests (answered in "
            f"p50 {median(took):.2f} s, max {max(took, default=0):.2f} s)")


def _pause(workers: list[Process]) -> None:
    for worker in workers:
        signal_tree(worker.popen.pid, signal.SIGSTOP)


def _resume(workers: list[Process]) -> None:
    for worker in workers:
        signal_tree(worker.popen.pid, signal.SIGCONT)


def _backlog(chaos: Chaos, count: int) -> ReplyStream:
    """`count` replies accepted while no worker runs: events waiting in the outbox."""
    _pause(chaos.workers)
    stream = chaos.stream()
    with stream.running():
        stream.wait_for_replies(count, timeout=300)
    return stream


def _plain_fivexx(answers: list[Answer]) -> str:
    """The 5xx a client could not retry on cue: those that are not a 503 with Retry-After."""
    plain = sum(a.status is not None and a.status >= 500
                and (a.status != 503 or a.retry_after is None) for a in answers)
    return f"{plain} 5xx other than 503+Retry-After"


def baseline(chaos: Chaos, args: argparse.Namespace) -> str:
    stream = _backlog(chaos, args.backlog)
    backlog = pending_events(chaos.stack)
    _resume(chaos.workers)
    took = _until(_settled(chaos, stream), args.timeout)
    print(f"baseline: {len(replies(chaos.stack, stream.thread_id))} replies ({backlog} events) "
          f"handled by two workers in {_seconds(took, args.timeout)}")
    return f"backlog handled in {_seconds(took, args.timeout).strip()}"


def _held(chaos: Chaos) -> list[int]:
    rows = chaos.stack.sql("SELECT id FROM outbox_event WHERE dispatched_at IS NULL "
                           "AND claimed_until > now()")
    return [int(row[0]) for row in rows]


def worker_death(chaos: Chaos, args: argparse.Namespace) -> str:
    stream = _backlog(chaos, args.backlog)
    doomed, other = chaos.workers
    _resume([doomed])
    # Only this worker runs: whatever is claimed, it holds.
    if _until(lambda: bool(_held(chaos)), args.timeout) is None:
        print("worker: the worker never claimed a batch; nothing measured")
        _resume([other])
        return "no batch claimed"
    signal_tree(doomed.popen.pid, signal.SIGKILL)
    died = time.monotonic()
    held = _held(chaos)
    doomed.popen.wait()
    _resume([other])
    match = ", ".join(map(str, held))

    def taken_over() -> bool:
        rows = chaos.stack.sql(f"SELECT COUNT(*) FROM outbox_event WHERE id IN ({match}) "
                               "AND dispatched_at IS NULL")
        return int(rows[0][0]) == 0

    over = _until(taken_over, args.timeout, since=died)
    drained = _until(_settled(chaos, stream), args.timeout, since=died)
    chaos.workers[0] = chaos.stack.start_worker()
    print(f"worker: killed holding {len(held)} claimed events; the other worker had dispatched "
          f"them {_seconds(over, args.timeout)} after its death, and the backlog of "
          f"{args.backlog} replies {_seconds(drained, args.timeout)} after it")
    return f"taken over in {_seconds(over, args.timeout).strip()}"


def redis_outage(chaos: Chaos, args: argparse.Namespace) -> str:
    stream = chaos.stream()
    with stream.running():
        stream.wait_for_replies(20)
        chaos.redis.kill()
        down = time.monotonic()
        time.sleep(args.outage)
        chaos.redis.start()
        back = time.monotonic()
    drained = _until(_settled(chaos, stream), args.timeout, since=back)
    alive = sum(w.popen.poll() is None for w in chaos.workers)
    before = [a for a in stream.answers if a.at < down]
    print(f"redis: before the outage: {_server_errors(before)}")
    print(f"redis: during a {back - down:.0f} s outage: "
          f"{_server_errors([a for a in stream.since(down) if a.at <= back])}; "
          f"outbox drained {_seconds(drained, args.timeout)} after Redis returned "
          f"({pending_events(chaos.stack)} events still pending); workers alive: "
          f"{alive} of {len(chaos.workers)}, beat {'alive' if chaos.beat.popen.poll() is None else 'DEAD'}")
    during = [a for a in stream.since(down) if a.at <= back]
    return f"{_plain_fivexx(during)}, drained {_seconds(drained, args.timeout).strip()} after"


def postgres_restart(chaos: Chaos, postgres: PrivatePostgres, args: argparse.Namespace) -> str:
    stream = chaos.stream()
    with stream.running():
        stream.wait_for_replies(20)
        down = time.monotonic()
        postgres.restart()
        back = time.monotonic()
        stream.wait_for_replies(20, timeout=args.timeout)
    drained = _until(_settled(chaos, stream), args.timeout, since=back)
    print(f"postgres: restart took {back - down:.1f} s; from it until the stream had 20 more "
          f"replies accepted: {_server_errors(stream.since(down))}; outbox drained "
          f"{_seconds(drained, args.timeout)} after PostgreSQL returned")
    return (f"{_plain_fivexx(stream.since(down))}, drained "
            f"{_seconds(drained, args.timeout).strip()} after")


SCENARIOS = ("baseline", "worker", "redis", "postgres")


@contextlib.contextmanager
def private_postgres(target: Target) -> Iterator[PrivatePostgres]:
    """tests.faults.private_postgres, its database named by --database if given (the whole
    private cluster goes at the end all the same)."""
    postgres = PrivatePostgres(database=target.database) if target.database else PrivatePostgres()
    try:
        postgres.init()
        yield postgres
    finally:
        postgres.remove()


@contextlib.contextmanager
def chaos_stack(workdir: Path, writers: int, postgres: PrivatePostgres,
                target: Target) -> Iterator[Chaos]:
    """tests.chaos.chaos_stack (two workers, beat, two servers on a private Redis and
    PostgreSQL, an admin, a reply rule, a category, the writers), with the servers on
    --port and the next port when given, and the keys under --redis-prefix."""
    with private_redis(workdir) as redis:
        # The harness's environment without a database on the shared PostgreSQL: both
        # services are private here.
        stack = build_stack("embedded", workdir)
        stack.mode = "scaled"
        stack.env.update({"HEARTH_DATABASE_URL": postgres.url, "HEARTH_REDIS_URL": redis.url,
                          "HEARTH_REDIS_PREFIX": target.redis_prefix or f"t{uuid.uuid4().hex[:10]}"})
        log(f"private PostgreSQL on port {postgres.port} (database {postgres.database}), "
            f"private Redis on port {redis.port} (prefix {stack.env['HEARTH_REDIS_PREFIX']})")
        try:
            stack.run("migrate")
            workers = [stack.start_worker(), stack.start_worker()]
            beat = stack.spawn("beat", "beat")
            dep = Deployment("scaled", stack, target=target)
            servers = [dep.start_server(), dep.start_server()]
            yield populate(stack, redis, servers, workers, beat, writers)
        finally:
            drop_stack(stack)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--backlog", type=int, default=300,
                        help="replies piled up for the baseline and worker scenarios")
    parser.add_argument("--outage", type=float, default=20.0, help="Redis outage, seconds")
    parser.add_argument("--writers", type=int, default=6, help="members replying at once")
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="per measurement, seconds")
    add_target_options(parser)
    args = parser.parse_args()
    args.backlog = min(max(args.backlog, 10), 10_000)
    args.outage = min(max(args.outage, 1.0), 300.0)
    args.writers = min(max(args.writers, 1), 50)
    args.timeout = min(max(args.timeout, 10.0), 1800.0)
    wanted = SCENARIOS if args.scenario == "all" else (args.scenario,)
    print("recovery: scaled mode, private Redis and PostgreSQL, two servers, two workers, beat")
    print(machine_note())
    log("starting a private PostgreSQL, a private Redis and the stack...")
    target = target_of(args)
    with private_postgres(target) as postgres, \
            chaos_stack(Path(tempfile.mkdtemp(prefix="hearth-bench-recovery-")),
                        args.writers, postgres, target) as chaos:
        outcomes: dict[str, str] = {}
        for name in wanted:
            log(f"scenario {name}...")
            try:
                if name == "baseline":
                    outcomes[name] = baseline(chaos, args)
                elif name == "worker":
                    outcomes[name] = worker_death(chaos, args)
                elif name == "redis":
                    outcomes[name] = redis_outage(chaos, args)
                else:
                    outcomes[name] = postgres_restart(chaos, postgres, args)
            except AssertionError as exc:
                # What an earlier fault broke (sessions lost with Redis, say) is a finding too.
                print(f"{name}: could not be measured: {str(exc)[:300]}")
                outcomes[name] = "not measured"
    print()
    summary("recovery, scaled, two servers and two workers on a private Redis and PostgreSQL",
            "; ".join(f"{name}: {outcome}" for name, outcome in outcomes.items())
            + " [targets: taken over within 15 s; 0 5xx other than 503 with Retry-After]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
