// Each backing service's state, as /health reports it (a 503 still carries the report).

import { useEffect, useState } from "preact/hooks";
import { ApiError, client, errorOf, type Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";

type Report = Schemas["Health"];

const STATUS: Record<string, string> = {
  ok: "Everything is up",
  degraded: "Degraded: the forums work, live updates and background work wait",
  down: "Down: the database cannot be reached",
};

export async function loadHealth(): Promise<Report> {
  let outcome;
  try {
    outcome = await client.GET("/health");
  } catch {
    throw new ApiError(0, "network", "Cannot reach the server. Check your connection and try again.");
  }
  const body = (outcome.data ?? outcome.error) as Report | undefined;
  if (body && typeof body === "object" && "services" in body) return body;
  throw errorOf(outcome.response.status, outcome.error);
}

export function Health() {
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function load(): Promise<void> {
    setBusy(true);
    try {
      setReport(await loadHealth());
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => { void load(); }, []);

  return (
    <div class="stack" data-testid="admin-health">
      <PageTitle title="Service health" testid="admin-title" />
      <div class="row">
        <button type="button" class="secondary small" disabled={busy} onClick={() => void load()}>Check again</button>
      </div>
      <FormError error={error} />
      {report && (
        <div aria-live="polite">
          <p class={`verdict-line ${report.status}`} data-testid="health-status" data-status={report.status}>
            <strong>{STATUS[report.status] ?? report.status}</strong> · {report.mode} mode
          </p>
          <table class="admin-table">
            <caption class="visually-hidden">Backing services</caption>
            <thead><tr><th scope="col">Service</th><th scope="col">Backend</th><th scope="col">State</th><th scope="col">Detail</th></tr></thead>
            <tbody>
              {Object.entries(report.services).map(([name, s]) => (
                <tr key={name} data-testid="health-service" data-service={name} data-ok={String(s.ok)}>
                  <th scope="row">{name}</th>
                  <td>{s.backend}</td>
                  <td class={s.ok ? "state-ok" : "state-bad"}>{s.ok ? "Up" : "Down"}</td>
                  <td class="detail">{s.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {(report.warnings ?? []).length > 0 && (
            <div class="notice" data-testid="health-warnings">
              <h2>Needs attention</h2>
              <ul>{(report.warnings ?? []).map((w) => <li key={w}>{w}</li>)}</ul>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
