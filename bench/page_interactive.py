"""How soon a thread page is usable: from a cold load in headless Chromium on loopback.

For each mode (embedded: SQLite + in-memory backends; scaled: PostgreSQL + Redis, with a Celery
worker and beat as in the test harness) this starts one server process on a fresh database,
creates over the API a member, a category and a thread of 20 posts (the first plus 19 replies),
then loads `/#/t/<id>` in Debian's Chromium (the browser tests' binary and flags) `--loads`
times (default 10), each in a new browser context, so with an empty cache and no cookies, and
measures the time from navigation start to the moment the page is interactive:
body[data-ready=true] (the app has booted) AND the thread view shows its 20 posts. The moment
is taken inside the page (performance.now(), whose origin is navigation start) by a
MutationObserver added before the page's own scripts run, so polling adds nothing. One load
first warms the server (Python caches, the database) and is not counted.

Prints each load, then the median, min and max (target: median <= 500 ms), and the median of
the document's responseEnd and domContentLoaded for where the time goes. Nothing is asserted.

    .venv/bin/python bench/page_interactive.py [--mode embedded|scaled|both] [--loads 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    MODES,
    ROOT,
    add_target_options,
    deployment,
    log,
    machine_note,
    seed_thread,
    summary,
    target_of,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TARGET_MS = 500.0
POSTS = 20
TIMEOUT_MS = 30_000

# Runs in every new document before its scripts: notes when the page first becomes usable.
WATCH = """(() => {
  const POSTS = POSTS_SHOWN;
  const ready = () => document.body !== null && document.body.dataset.ready === "true"
    && document.querySelectorAll("[data-testid=thread-view] [data-testid=post]").length >= POSTS;
  const observer = new MutationObserver(() => {
    if (window.__interactiveAt === undefined && ready()) {
      window.__interactiveAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true,
    attributeFilter: ["data-ready"] });
})();""".replace("POSTS_SHOWN", str(POSTS))

TIMINGS = """() => {
  const [nav] = performance.getEntriesByType("navigation");
  return { interactive: window.__interactiveAt, responseEnd: nav.responseEnd,
           domContentLoaded: nav.domContentLoadedEventEnd,
           transferred: performance.getEntriesByType("resource")
             .concat([nav]).reduce((sum, e) => sum + (e.transferSize || 0), 0) };
}"""


def chromium() -> tuple[Path, list[str]]:
    """The browser tests' Chromium and flags (tests/e2e/test_browser.py), one list for both."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS
    except BaseException as exc:  # pytest.skip's exception when the browser is missing
        raise SystemExit(f"no browser: {exc}") from None
    return CHROMIUM, CHROMIUM_ARGS


def load_once(browser: Browser, url: str) -> dict[str, float]:
    context = browser.new_context()
    try:
        context.add_init_script(WATCH)
        page = context.new_page()
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__interactiveAt !== undefined", timeout=TIMEOUT_MS)
        timings: dict[str, float] = page.evaluate(TIMINGS)
        return timings
    finally:
        context.close()


def bench_mode(mode: str, args: argparse.Namespace) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    executable, flags = chromium()
    with deployment(mode, servers=1, keep=args.keep, target=target_of(args)) as dep:
        server = dep.servers[0]
        log(f"[{mode}] seeding a thread of {POSTS} posts")
        _, thread = seed_thread(dep, server, replies=POSTS - 1)
        url = f"{server.url}/#/t/{thread['id']}"
        runs: list[dict[str, float]] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(executable), args=flags)
            try:
                load_once(browser, url)  # warms the server; not counted
                for n in range(args.loads):
                    timings = load_once(browser, url)
                    log(f"[{mode}] load {n + 1}: interactive at {timings['interactive']:.0f} ms")
                    runs.append(timings)
            finally:
                browser.close()
        return runs


def report(mode: str, runs: list[dict[str, float]]) -> float:
    interactive = [r["interactive"] for r in runs]
    median = statistics.median(interactive)
    print(f"\n== {mode} mode: {len(runs)} cold loads of a thread of {POSTS} posts")
    print("loads (ms): " + " ".join(f"{v:.0f}" for v in interactive))
    print(f"interactive: median {median:.0f} ms, min {min(interactive):.0f}, max {max(interactive):.0f} "
          f"[target: median <= {TARGET_MS:.0f} ms: {'met' if median <= TARGET_MS else 'MISSED'}]")
    print(f"document responseEnd: median {statistics.median(r['responseEnd'] for r in runs):.0f} ms; "
          f"domContentLoaded: median {statistics.median(r['domContentLoaded'] for r in runs):.0f} ms; "
          f"transferred per load: {statistics.median(r['transferred'] for r in runs) / 1024:.0f} KiB")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--loads", type=int, default=10, help="cold loads measured per mode")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    add_target_options(parser)
    args = parser.parse_args()
    args.loads = min(max(args.loads, 1), 1000)
    print("page_interactive: a thread page's cold load in headless Chromium, to interactive")
    print(machine_note())
    modes = list(MODES) if args.mode == "both" else [args.mode]
    medians: dict[str, float] = {}
    for mode in modes:
        try:
            runs = bench_mode(mode, args)
        except RuntimeError as exc:
            print(f"\n== {mode} mode: skipped: {exc}")
            continue
        medians[mode] = report(mode, runs)
    print()
    summary(f"page_interactive, thread of {POSTS} posts, median of {args.loads} cold loads to "
            "body[data-ready] + posts shown, headless Chromium on loopback", ", ".join(
                f"{m} {v:.0f} ms ({'met' if v <= TARGET_MS else 'MISSED'})" for m, v in medians.items()
            ) + f" [target <= {TARGET_MS:.0f} ms]" if medians else "nothing measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
