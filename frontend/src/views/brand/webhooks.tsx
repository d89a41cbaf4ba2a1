// Webhooks: the brand's endpoints (a new or rotated secret is shown once), and each one's
// deliveries log with replay, a replay of a time range, and a test ping.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import type { Brand } from "./Frame";

type Endpoint = Schemas["EndpointOut"];
type Delivery = Schemas["DeliveryOut"];

const STATUSES = ["", "pending", "delivered", "dead"] as const;

// A datetime-local value (the browser's zone) as an ISO instant the API accepts.
export function instant(local: string): string {
  return new Date(local).toISOString();
}

export function Webhooks({ brand }: { brand: Brand }) {
  const path = { params: { path: { brand_id: brand.id } } };
  const endpoints = useAsync(() => call(client.GET("/api/gamification/brands/{brand_id}/webhooks", path)), [brand.id]);
  const types = useAsync(() => call(client.GET("/api/gamification/brands/{brand_id}/webhooks/event-types", path)), [brand.id]);
  const [url, setUrl] = useState("");
  const [wanted, setWanted] = useState<string[]>([]);
  const [description, setDescription] = useState("");
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    try {
      const made = await call(client.POST("/api/gamification/brands/{brand_id}/webhooks", {
        ...path, body: { url: url.trim(), event_types: wanted, description: description.trim() } }));
      setSecret({ url: made.url, secret: made.secret });
      setUrl("");
      setWanted([]);
      setDescription("");
      setError(null);
      void endpoints.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const one = (endpoint: Endpoint) => ({ params: { path: { brand_id: brand.id, endpoint_id: endpoint.id } } });

  async function act(what: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await what();
      toast(done, "success");
      setError(null);
      void endpoints.reload();
    } catch (err) {
      setError(err);
    }
  }

  async function rotate(endpoint: Endpoint): Promise<void> {
    const ok = await confirmAction({
      title: "Rotate the signing secret?", confirmLabel: "Rotate",
      message: `A new secret signs deliveries to ${endpoint.url}; the old one keeps signing alongside it for the overlap period, so switch your receiver within it.`,
    });
    if (!ok) return;
    await act(async () => {
      const rotated = await call(client.POST("/api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/rotate", one(endpoint)));
      setSecret({ url: rotated.url, secret: rotated.secret });
    }, "Secret rotated.");
  }

  async function remove(endpoint: Endpoint): Promise<void> {
    const ok = await confirmAction({
      title: "Delete this endpoint?", danger: true, confirmLabel: "Delete",
      message: `${endpoint.url} gets nothing more, and its deliveries log goes with it.`,
    });
    if (!ok) return;
    if (selected === endpoint.id) setSelected(null);
    await act(() => call(client.DELETE("/api/gamification/brands/{brand_id}/webhooks/{endpoint_id}", one(endpoint))), "Endpoint deleted.");
  }

  const list = endpoints.value ?? [];
  const chosen = list.find((e) => e.id === selected) ?? null;
  return (
    <>
      <section class="card" aria-labelledby="new-hook-h">
        <h2 id="new-hook-h">New endpoint</h2>
        {secret ? (
          <div class="notice" data-testid="hook-secret-shown" role="status">
            <p>Signing secret for {secret.url}. Copy it now: it will not be shown again. Verify deliveries with it (Standard Webhooks).</p>
            <code class="secret" data-testid="hook-secret">{secret.secret}</code>
            <button type="button" class="secondary small" onClick={() => setSecret(null)}>I have copied it</button>
          </div>
        ) : (
          <form class="stack" data-testid="hook-form" onSubmit={(e) => void create(e)} noValidate>
            <label for="hook-url">URL (https)</label>
            <input id="hook-url" type="url" value={url} maxLength={2000} data-testid="hook-url" required
              placeholder="https://shop.example.com/hearth-webhooks"
              onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
            <label for="hook-description">Description</label>
            <input id="hook-description" value={description} maxLength={200} data-testid="hook-description"
              onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
            <fieldset>
              <legend>Events</legend>
              {(types.value ?? []).map((t) => (
                <label class="check" key={t.type} title={t.description}>
                  <input type="checkbox" checked={wanted.includes(t.type)} value={t.type} data-testid={`hook-type-${t.type}`}
                    onChange={(e) => setWanted((e.target as HTMLInputElement).checked
                      ? [...wanted, t.type] : wanted.filter((x) => x !== t.type))} />
                  <code>{t.type}</code>
                </label>
              ))}
            </fieldset>
            <div><button type="submit" disabled={busy} data-testid="hook-create">Add endpoint</button></div>
          </form>
        )}
        <FormError error={error} />
      </section>
      <section class="card" aria-labelledby="hooks-h">
        <h2 id="hooks-h">Endpoints</h2>
        <FormError error={endpoints.error} />
        {list.length === 0 ? <p class="muted">No endpoints yet.</p> : (
          <table data-testid="hook-table">
            <caption class="visually-hidden">The brand's webhook endpoints</caption>
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th>
              <th scope="col">Secret</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {list.map((e) => (
                <tr key={e.id} data-testid="hook-row">
                  <td><code>{e.url}</code>{e.description && <p class="meta">{e.description}</p>}</td>
                  <td>{e.event_types.join(", ")}</td>
                  <td data-testid="hook-state">
                    {e.enabled ? <span class="status status-active">enabled</span>
                      : <><span class="status status-cancelled">disabled</span><p class="meta">{e.disabled_reason}</p></>}
                    {e.consecutive_failures > 0 && <p class="meta">{e.consecutive_failures} failures in a row</p>}
                  </td>
                  <td><code>{e.secret_hint}</code>
                    {e.previous_secret_until && <p class="meta">old one signs until <TimeAgo iso={e.previous_secret_until} /></p>}</td>
                  <td>
                    <div class="actions-row">
                      <button type="button" class="secondary small" data-testid="hook-deliveries"
                        aria-pressed={selected === e.id} onClick={() => setSelected(e.id)}>Deliveries</button>
                      <button type="button" class="secondary small" data-testid="hook-ping" disabled={!e.enabled}
                        onClick={() => void act(() => call(client.POST("/api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/ping", one(e))), "Ping sent.")}>Ping</button>
                      <button type="button" class="secondary small" data-testid="hook-rotate" onClick={() => void rotate(e)}>Rotate secret</button>
                      <button type="button" class="secondary small" data-testid="hook-toggle"
                        onClick={() => void act(() => call(client.PATCH("/api/gamification/brands/{brand_id}/webhooks/{endpoint_id}", {
                          ...one(e), body: { enabled: !e.enabled } })), e.enabled ? "Endpoint disabled." : "Endpoint enabled.")}>
                        {e.enabled ? "Disable" : "Enable"}</button>
                      <button type="button" class="link-button danger-text" data-testid="hook-delete" onClick={() => void remove(e)}>Delete</button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {chosen && <Deliveries key={chosen.id} brand={brand} endpoint={chosen} />}
    </>
  );
}

function Deliveries({ brand, endpoint }: { brand: Brand; endpoint: Endpoint }) {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>("");
  const one = { params: { path: { brand_id: brand.id, endpoint_id: endpoint.id } } };
  const page = useAsync(() => call(client.GET("/api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/deliveries", {
    params: { path: one.params.path, query: { limit: 50, ...(status ? { status } : {}) } } })), [endpoint.id, status]);
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [error, setError] = useState<unknown>(null);

  async function replay(delivery: Delivery): Promise<void> {
    try {
      await call(client.POST("/api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay", {
        params: { path: { ...one.params.path, delivery_id: delivery.id } } }));
      toast("Sent again.", "success");
      setError(null);
      void page.reload();
    } catch (err) {
      setError(err);
    }
  }

  async function replayRange(event: Event): Promise<void> {
    event.preventDefault();
    try {
      if (!since || !until) throw new Error("Pick both ends of the range.");
      const out = await call(client.POST("/api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/replay", {
        ...one, body: { since: instant(since), until: instant(until) } }));
      toast(`${out.replayed} deliveries sent again.`, "success");
      setError(null);
      void page.reload();
    } catch (err) {
      setError(err);
    }
  }

  const items = page.value?.items ?? [];
  return (
    <section class="card stack" aria-labelledby="deliveries-h" data-testid="hook-log">
      <h2 id="deliveries-h">Deliveries to {endpoint.url}</h2>
      <div class="actions-row">
        <label for="delivery-status">Status</label>
        <select id="delivery-status" value={status} data-testid="delivery-status"
          onChange={(e) => setStatus((e.target as HTMLSelectElement).value as (typeof STATUSES)[number])}>
          {STATUSES.map((s) => <option key={s} value={s}>{s || "all"}</option>)}
        </select>
        <button type="button" class="secondary small" onClick={() => void page.reload()}>Refresh</button>
      </div>
      <form class="actions-row" data-testid="replay-range" onSubmit={(e) => void replayRange(e)} noValidate>
        <label for="replay-since">From</label>
        <input id="replay-since" type="datetime-local" value={since} onInput={(e) => setSince((e.target as HTMLInputElement).value)} />
        <label for="replay-until">to</label>
        <input id="replay-until" type="datetime-local" value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
        <button type="submit" class="secondary small" data-testid="replay-range-submit">Replay the range</button>
      </form>
      <FormError error={error ?? page.error} />
      {items.length === 0 ? <p class="muted">No deliveries yet.</p> : (
        <table data-testid="delivery-table">
          <caption class="visually-hidden">Deliveries to this endpoint, newest first</caption>
          <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th>
            <th scope="col">Last answer</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id} data-testid="delivery-row">
                <td><code>{d.event_type}</code><p class="meta"><code>{d.message_id}</code></p></td>
                <td data-testid="delivery-status-cell">{d.status}</td>
                <td>{d.attempts}</td>
                <td>
                  {d.last_status_code !== null ? <>HTTP {d.last_status_code}</> : d.last_error || "—"}
                  {d.last_latency_ms !== null && <> · {d.last_latency_ms} ms</>}
                  {d.last_response && <p class="meta"><code>{d.last_response.slice(0, 200)}</code></p>}
                </td>
                <td><TimeAgo iso={d.created_at} /></td>
                <td><button type="button" class="secondary small" data-testid="delivery-replay"
                  disabled={!endpoint.enabled} onClick={() => void replay(d)}>Replay</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
