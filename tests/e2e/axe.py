"""axe-core in the browser tests: `assert_accessible(page)` fails on the serious and critical
violations axe finds in what the page shows, and names each with the elements at fault.

The page's CSP (script-src 'self') blocks an inline <script>, so axe is not added as one
(Playwright's add_script_tag(content=...) would be refused and reported as a CSP violation):
page.evaluate runs its source through the DevTools protocol, which the CSP does not govern."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")

_RUN = """async () => {
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\\s+/g, " ")}`),
  }));
}"""


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now, every impact."""
    if not page.evaluate("typeof window.axe === 'object'"):
        assert AXE.exists(), f"{AXE} is missing: run `npm ci` (make does)"
        page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return found


def assert_accessible(page: Any) -> None:
    failing = [v for v in violations(page) if v["impact"] in FAILING_IMPACTS]
    report = "\n".join(f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
                       for v in failing)
    assert not failing, f"accessibility violations on {page.url}:\n{report}"
