// Seasons: named stretches of time, each with a leaderboard of its own.

import { useState } from "preact/hooks";
import { ApiError, call, client } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { absoluteTime } from "../../components/format";
import { staffAction } from "./act";
import { localToIso } from "./time";

export function Seasons() {
  const loaded = useAsync(() => call(client.GET("/api/leaderboards/seasons")), []);
  const [name, setName] = useState("");
  const [starts, setStarts] = useState("");
  const [ends, setEnds] = useState("");
  const [error, setError] = useState<unknown>(null);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const startsAt = localToIso(starts);
    const endsAt = localToIso(ends);
    if (!startsAt || !endsAt) {
      setError(new ApiError(422, "invalid", "Give the season a start and an end."));
      return;
    }
    const out = await staffAction(
      { title: `Create the season “${name}”?`,
        message: "Its board counts points earned between these dates, including points already earned.",
        confirmLabel: "Create season" },
      () => call(client.POST("/api/leaderboards/seasons", { body: { name, starts_at: startsAt, ends_at: endsAt } })),
      setError, "Season created.");
    if (out) {
      loaded.set([...(loaded.value ?? []), out]);
      setName(""); setStarts(""); setEnds("");
    }
  }

  return (
    <div class="stack" data-testid="admin-seasons">
      <PageTitle title="Seasons" testid="admin-title" />
      <div class="card">
        <FormError error={loaded.error} />
        {loaded.value && loaded.value.length === 0 && <p class="muted">No seasons yet.</p>}
        {loaded.value && loaded.value.length > 0 && (
          <table class="admin-table">
            <caption class="visually-hidden">Seasons</caption>
            <thead><tr><th scope="col">Season</th><th scope="col">Starts</th><th scope="col">Ends</th><th scope="col">Board</th></tr></thead>
            <tbody>
              {loaded.value.map((s) => (
                <tr key={s.id} data-testid="admin-season">
                  <th scope="row">{s.name}</th>
                  <td>{absoluteTime(new Date(s.starts_at))}</td>
                  <td>{absoluteTime(new Date(s.ends_at))}</td>
                  <td><code>{s.board}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <form class="card stack" onSubmit={(e) => void submit(e)}>
        <h2>New season</h2>
        <label for="season-name">Name</label>
        <input id="season-name" required maxLength={80} value={name} data-testid="season-name"
          onInput={(e) => setName(e.currentTarget.value)} />
        <label for="season-starts">Starts (your local time)</label>
        <input id="season-starts" type="datetime-local" required value={starts} data-testid="season-starts"
          onInput={(e) => setStarts(e.currentTarget.value)} />
        <label for="season-ends">Ends (your local time)</label>
        <input id="season-ends" type="datetime-local" required value={ends} data-testid="season-ends"
          onInput={(e) => setEnds(e.currentTarget.value)} />
        <FormError error={error} />
        <div class="row"><button type="submit" data-testid="season-create">Create season</button></div>
      </form>
    </div>
  );
}
