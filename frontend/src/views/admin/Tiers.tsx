// The tier ladder: names and thresholds (points earned within the rolling window), the window
// itself and the grace period before a demotion. Saved whole, as the API replaces it.

import { useEffect, useState } from "preact/hooks";
import { ApiError, call, client } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { staffAction } from "./act";
import { ladderBody, type Rung } from "./tiers";

let nextKey = 1;
const rung = (name = "", threshold = ""): Rung => ({ key: nextKey++, name, threshold });

export function Tiers() {
  const loaded = useAsync(() => call(client.GET("/api/gamification/tiers")), []);
  const [rungs, setRungs] = useState<Rung[]>([]);
  const [windowDays, setWindowDays] = useState("365");
  const [graceDays, setGraceDays] = useState("30");
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const ladder = loaded.value;
    if (!ladder) return;
    setRungs(ladder.tiers.map((t) => rung(t.name, String(t.threshold))));
    setWindowDays(String(ladder.window_days));
    setGraceDays(String(ladder.grace_days));
  }, [loaded.value]);

  const edit = (key: number, change: Partial<Rung>) =>
    setRungs(rungs.map((r) => (r.key === key ? { ...r, ...change } : r)));

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const body = ladderBody(rungs, windowDays, graceDays);
    if ("problem" in body) { setError(new ApiError(422, "invalid", body.problem)); return; }
    const out = await staffAction(
      { title: "Replace the tier ladder?",
        message: "The ladder is replaced whole. Members are placed on it when they next earn points or at the periodic review; a demotion waits out the grace period.",
        confirmLabel: "Save ladder" },
      () => call(client.PUT("/api/gamification/tiers", { body })),
      setError, "Tier ladder saved.");
    if (out) loaded.set(out);
  }

  return (
    <form class="stack" onSubmit={(e) => void submit(e)} data-testid="admin-tiers">
      <PageTitle title="Tier ladder" testid="admin-title" />
      <div class="card stack">
        <p class="meta">Thresholds are points earned within the window; they must rise from one tier to the next.</p>
        <FormError error={loaded.error} />
        <table class="admin-table">
          <caption class="visually-hidden">Tiers, lowest first</caption>
          <thead><tr><th scope="col">Tier</th><th scope="col">Threshold (points)</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {rungs.map((r, i) => (
              <tr key={r.key} data-testid="admin-tier">
                <td>
                  <label class="visually-hidden" for={`tier-name-${r.key}`}>Name of tier {i + 1}</label>
                  <input id={`tier-name-${r.key}`} required maxLength={40} value={r.name}
                    data-testid="admin-tier-name" onInput={(e) => edit(r.key, { name: e.currentTarget.value })} />
                </td>
                <td>
                  <label class="visually-hidden" for={`tier-threshold-${r.key}`}>Threshold of tier {i + 1}</label>
                  <input id={`tier-threshold-${r.key}`} required type="number" min={0} step={1} inputMode="numeric"
                    value={r.threshold} data-testid="admin-tier-threshold"
                    onInput={(e) => edit(r.key, { threshold: e.currentTarget.value })} />
                </td>
                <td>
                  <button type="button" class="link-button danger-text" disabled={rungs.length === 1}
                    data-testid="admin-tier-remove" aria-label={`Remove tier ${r.name || i + 1}`}
                    onClick={() => setRungs(rungs.filter((x) => x.key !== r.key))}>Remove</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="row">
          <button type="button" class="secondary small" data-testid="admin-tier-add" disabled={rungs.length >= 20}
            onClick={() => setRungs([...rungs, rung()])}>Add a tier</button>
        </div>
        <div class="row">
          <label for="tier-window">Window (days)</label>
          <input id="tier-window" class="short" type="number" min={1} max={3650} required value={windowDays}
            data-testid="admin-tier-window" onInput={(e) => setWindowDays(e.currentTarget.value)} />
          <label for="tier-grace">Grace before demotion (days)</label>
          <input id="tier-grace" class="short" type="number" min={0} max={365} required value={graceDays}
            data-testid="admin-tier-grace" onInput={(e) => setGraceDays(e.currentTarget.value)} />
        </div>
        <FormError error={error} />
        <div class="row">
          <button type="submit" data-testid="admin-tier-save">Save ladder</button>
          <button type="button" class="secondary" onClick={() => void loaded.reload()}>Discard edits</button>
        </div>
      </div>
    </form>
  );
}
