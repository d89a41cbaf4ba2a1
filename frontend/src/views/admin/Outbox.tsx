// The outbox: how much is waiting, and the events that keep failing, with their last error
// and payload. A failing event can be retried now (watched until it is dispatched) or
// discarded.

import { useEffect, useRef, useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { number } from "../../components/format";
import { staffAction } from "./act";

type Status = Schemas["OutboxStatus"];
type Failing = Schemas["FailingEvent"];
type Outcome = Schemas["EventOutcome"];

const WATCH_SECONDS = 30;

export function Outbox() {
  const [status, setStatus] = useState<Status | null>(null);
  const [items, setItems] = useState<Failing[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // What happened to events retried from this page, by id (shown on their row).
  const [outcomes, setOutcomes] = useState<Record<number, string>>({});
  const mounted = useRef(true);
  useEffect(() => () => { mounted.current = false; }, []);

  /** The first page again; `keep`: only the counts, leaving the rows (and their outcomes) shown. */
  async function load(before: number | null = null, keep = false): Promise<void> {
    setBusy(true);
    try {
      const out = await call(client.GET("/api/admin/outbox", {
        params: { query: before === null ? { limit: 20 } : { limit: 20, before } } }));
      if (!mounted.current) return;
      setStatus(out);
      if (!keep) setItems((old) => (before === null ? out.items : [...old, ...out.items]));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => { void load(); }, []);

  const note = (id: number, text: string) => setOutcomes((old) => ({ ...old, [id]: text }));

  /** Poll the event once a second until a relay has dispatched it (or it fails again). */
  async function watch(event: Outcome): Promise<void> {
    for (let second = 0; second < WATCH_SECONDS && mounted.current; second++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let now: Outcome;
      try {
        now = await call(client.GET("/api/admin/outbox/{event_id}", { params: { path: { event_id: event.id } } }));
      } catch (err) {
        setError(err);
        return;
      }
      if (now.dispatched) {
        note(event.id, "Dispatched");
        toast(`Event ${event.id} was dispatched.`, "success");
        void load(null, true);
        return;
      }
      if (now.attempts > 0) {
        note(event.id, `Failed again: ${now.last_error ?? "no error recorded"}`);
        void load();
        return;
      }
    }
    if (mounted.current) note(event.id, "Still waiting for a relay to take it");
  }

  async function retry(item: Failing): Promise<void> {
    const out = await staffAction(
      { title: `Retry event ${item.id}?`,
        message: `The ${item.type} event is handed to its handlers again now; handlers that already handled it are skipped.`,
        confirmLabel: "Retry now" },
      () => call(client.POST("/api/admin/outbox/{event_id}/retry", { params: { path: { event_id: item.id } } })),
      setError);
    if (!out) return;
    note(item.id, "Retrying…");
    await watch(out);
  }

  async function discard(item: Failing): Promise<void> {
    const out = await staffAction(
      { title: `Discard event ${item.id}?`,
        message: `The ${item.type} event will never be handled: whatever it should have caused (points, badges, notifications) will not happen.`,
        confirmLabel: "Discard event", danger: true },
      () => call(client.POST("/api/admin/outbox/{event_id}/discard", { params: { path: { event_id: item.id } } })),
      setError, `Event ${item.id} discarded.`);
    if (out) {
      setItems((old) => old.filter((i) => i.id !== item.id));
      void load();
    }
  }

  return (
    <div class="stack" data-testid="admin-outbox">
      <PageTitle title="Outbox" testid="admin-title" />
      {status && (
        <dl class="admin-figures" data-testid="outbox-counts">
          <div><dt>Waiting</dt><dd data-testid="outbox-pending">{number(status.pending)}</dd></div>
          <div><dt>Failing</dt><dd data-testid="outbox-failing">{number(status.failing)}</dd></div>
          <div><dt>Given up</dt><dd data-testid="outbox-gave-up">{number(status.gave_up)}</dd></div>
          <div><dt>Oldest waiting</dt><dd>{status.oldest_pending_at ? <TimeAgo iso={status.oldest_pending_at} /> : "—"}</dd></div>
        </dl>
      )}
      <FormError error={error} />
      <div class="row">
        <button type="button" class="secondary small" disabled={busy} onClick={() => void load()}>Refresh</button>
      </div>
      {status && items.length === 0 && <p class="muted" data-testid="outbox-empty">No failing events.</p>}
      <ul class="outbox-list" aria-live="polite">
        {items.map((item) => (
          <li key={item.id} class="card outbox-event" data-testid="outbox-event" data-event-id={item.id}>
            <div class="row outbox-head">
              <strong>#{item.id} {item.type}</strong>
              <span class="meta">
                {item.attempts} of {status?.max_attempts ?? "?"} attempts
                {item.gave_up ? " · given up" : item.retry_after ? <> · next try <TimeAgo iso={item.retry_after} /></> : ""}
                {" · created "}<TimeAgo iso={item.created_at} />
              </span>
            </div>
            <pre class="outbox-error" data-testid="outbox-error">{item.last_error ?? "No error recorded."}</pre>
            <details>
              <summary>Payload</summary>
              <pre class="outbox-payload">{JSON.stringify(item.payload, null, 2)}</pre>
            </details>
            <div class="row">
              {outcomes[item.id] !== "Dispatched" && <>
                <button type="button" class="small" data-testid="outbox-retry" onClick={() => void retry(item)}>Retry</button>
                <button type="button" class="small danger" data-testid="outbox-discard" onClick={() => void discard(item)}>Discard</button>
              </>}
              {outcomes[item.id] && <span class="meta" role="status" data-testid="outbox-outcome">{outcomes[item.id]}</span>}
            </div>
          </li>
        ))}
      </ul>
      {status?.next_cursor !== null && status?.next_cursor !== undefined && (
        <button type="button" class="secondary load-more" disabled={busy}
          onClick={() => void load(status.next_cursor ?? null)}>Load older</button>
      )}
    </div>
  );
}
