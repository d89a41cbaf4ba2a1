// The moderator console's review queue: items ranked by score (or age) with each score
// explained, claims, the actions (one at a time or on the ticked items), and live changes
// from the staff channel (moderation:all; a brand's staff follow moderation:<brand id>).
// The item page shows the target in context, every flag and the score line by line.

import { useEffect, useState } from "preact/hooks";
import { call, client, messageOf, type Schemas } from "../../api/client";
import { me } from "../../app/session";
import { useStore } from "../../app/store";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { live } from "../../live/live";
import { applyItem, ACTION_LABELS, type Filters, type Item } from "./queueState";
import "./queue.css";

type Detail = Schemas["ItemDetail"];

const REASON_LABELS: Record<string, string> = {
  spam: "spam", harassment: "harassment", inappropriate: "inappropriate", off_topic: "off topic",
  other: "other", system: "system",
};

function channelFor(member: { role: string; brand_id?: number | null } | null): string | null {
  if (!member) return null;
  if (member.role === "moderator" || member.role === "admin") return "moderation:all";
  if (member.role === "brand_staff" && member.brand_id) return `moderation:${member.brand_id}`;
  return null;
}

async function perform(item: Item, action: string, reason: string): Promise<Item | null> {
  const destructive = action === "agree_delete" || action === "reject" || action === "silence";
  if (destructive && !await confirmAction({
    title: ACTION_LABELS[action] ?? action, message: `${ACTION_LABELS[action] ?? action}: ${item.label}?`,
    confirmLabel: ACTION_LABELS[action] ?? action, danger: true,
  })) return null;
  try {
    return await call(client.POST("/api/moderation/items/{item_id}/actions", {
      params: { path: { item_id: item.id } }, body: { action, reason },
    }));
  } catch (err) {
    toast(messageOf(err));
    return null;
  }
}

function Reasons({ item }: { item: Item }) {
  return (
    <span class="reasons" data-testid="item-reasons">
      {Object.entries(item.reasons).map(([reason, n]) => (
        <span key={reason} class="tag">{REASON_LABELS[reason] ?? reason}{n > 1 ? ` ×${n}` : ""}</span>
      ))}
      {item.source === "held" && <span class="tag">held: {item.held_reason}</span>}
    </span>
  );
}

function Score({ item }: { item: Item }) {
  const over = item.score >= item.threshold;
  return (
    <span class={over ? "score over" : "score"} data-testid="item-score"
      title={`Auto-hide at ${item.threshold}`}>
      {item.score}<span class="muted"> / {item.threshold}</span>
    </span>
  );
}

function Actions({ item, onDone }: { item: Item; onDone: (item: Item) => void }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  async function run(action: string): Promise<void> {
    setBusy(true);
    const done = await perform(item, action, reason);
    setBusy(false);
    if (done) onDone(done);
  }
  if (item.actions.length === 0) {
    return (
      <p class="meta" data-testid="item-outcome">
        {item.status}{item.resolved_by ? ` by @${item.resolved_by.handle}` : ""}
        {item.resolution_reason ? `: ${item.resolution_reason}` : ""}
      </p>
    );
  }
  return (
    <div class="item-actions">
      <label class="visually-hidden" for={`reason-${item.id}`}>Reason told to the flaggers and author</label>
      <input id={`reason-${item.id}`} type="text" maxLength={1000} placeholder="Reason (told to flaggers and author)"
        data-testid="item-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      {item.actions.map((action) => (
        <button key={action} type="button" class={action.startsWith("agree") || action === "reject" || action === "silence" ? "small danger" : "small secondary"}
          data-testid={`item-action-${action}`} disabled={busy}
          onClick={() => void run(action)}>
          {ACTION_LABELS[action] ?? action}
        </button>
      ))}
    </div>
  );
}

function Claim({ item, onDone }: { item: Item; onDone: (item: Item) => void }) {
  const viewer = useStore(me);
  if (item.status !== "open") return null;
  const mine = item.claimed_by !== null && item.claimed_by.id === viewer?.id;
  async function toggle(): Promise<void> {
    try {
      const request = { params: { path: { item_id: item.id } } };
      onDone(mine
        ? await call(client.DELETE("/api/moderation/items/{item_id}/claim", request))
        : await call(client.POST("/api/moderation/items/{item_id}/claim", request)));
    } catch (err) {
      toast(messageOf(err));
    }
  }
  if (item.claimed_by && !mine) {
    return <span class="tag" data-testid="item-claimed">claimed by @{item.claimed_by.handle}</span>;
  }
  return (
    <button type="button" class="small secondary" data-testid={mine ? "item-release" : "item-claim"}
      onClick={() => void toggle()}>
      {mine ? "Release" : "Claim"}
    </button>
  );
}

export function ReviewQueue() {
  const viewer = useStore(me);
  const [filters, setFilters] = useState<Filters>({ status: "open", kind: "", sort: "score" });
  const [items, setItems] = useState<Item[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [ticked, setTicked] = useState<Set<number>>(new Set());
  const [bulkAction, setBulkAction] = useState("ignore");
  // Whether the staff channel acknowledged the subscription (tests and the console wait on it).
  const [liveState, setLiveState] = useState<"waiting" | "subscribed" | "refused">("waiting");
  const channel = channelFor(viewer);

  async function load(cursor: string | null = null): Promise<void> {
    try {
      const page = await call(client.GET("/api/moderation/items", { params: { query: {
        status: filters.status, kind: filters.kind || undefined, sort: filters.sort, cursor: cursor ?? undefined, limit: 25,
      } } }));
      setItems((old) => cursor && old ? [...old, ...page.items] : page.items);
      setNext(page.next_cursor);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }

  useEffect(() => {
    setItems(null);
    setTicked(new Set());
    void load();
    if (!channel) return;
    const sub = live.subscribe(channel, {
      onMessage: (frame) => {
        if (frame.event === "review.item") setItems((old) => old && applyItem(old, frame.data as Item, filters));
      },
      onRefetch: () => void load(),
    });
    setLiveState("waiting");
    void sub.ready.then((ok) => setLiveState(ok ? "subscribed" : "refused"));
    return () => sub.close();
  }, [filters.status, filters.kind, filters.sort, channel]);

  const replace = (item: Item) => setItems((old) => old && applyItem(old, item, filters));

  async function bulk(): Promise<void> {
    const ids = [...ticked];
    if (ids.length === 0) return;
    if (!await confirmAction({
      title: `${ACTION_LABELS[bulkAction] ?? bulkAction}: ${ids.length} items`,
      message: "Each item is acted on by itself; those that cannot take the action are listed after.",
      confirmLabel: ACTION_LABELS[bulkAction] ?? bulkAction, danger: bulkAction !== "ignore",
    })) return;
    try {
      const out = await call(client.POST("/api/moderation/items/bulk", { body: { item_ids: ids, action: bulkAction, reason: "" } }));
      for (const result of out.results) if (result.item) replace(result.item);
      const failed = out.results.filter((r) => r.status !== 200);
      toast(failed.length ? `${failed.length} not done: ${failed.map((r) => `#${r.item_id}: ${r.message}`).join("; ")}`
        : `Done on ${out.results.length} items.`);
      setTicked(new Set());
    } catch (err) {
      toast(messageOf(err));
    }
  }

  return (
    <section class="review-queue" data-testid="review-queue" data-live={liveState} aria-labelledby="queue-h">
      <h2 id="queue-h" class="visually-hidden">Review queue</h2>
      <form class="row filters" onSubmit={(e) => e.preventDefault()}>
        <label>Status{" "}
          <select data-testid="queue-status" value={filters.status}
            onChange={(e) => setFilters({ ...filters, status: e.currentTarget.value })}>
            {["open", "agreed", "disagreed", "ignored", "approved", "rejected"].map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Kind{" "}
          <select data-testid="queue-kind" value={filters.kind}
            onChange={(e) => setFilters({ ...filters, kind: e.currentTarget.value })}>
            <option value="">all</option>
            {["post", "thread", "profile"].map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <label>Sort{" "}
          <select data-testid="queue-sort" value={filters.sort}
            onChange={(e) => setFilters({ ...filters, sort: e.currentTarget.value as Filters["sort"] })}>
            <option value="score">highest score</option>
            <option value="age">oldest first</option>
          </select>
        </label>
      </form>
      <FormError error={error} />
      {items === null ? <p class="muted">Loading…</p> : items.length === 0 ? (
        <p class="muted" data-testid="queue-empty">Nothing to review.</p>
      ) : (
        <>
          {filters.status === "open" && (
            <div class="row bulk">
              <label>With the ticked items{" "}
                <select data-testid="bulk-action" value={bulkAction} onChange={(e) => setBulkAction(e.currentTarget.value)}>
                  {["agree_hide", "agree_delete", "disagree", "ignore", "approve", "reject"].map((a) => (
                    <option key={a} value={a}>{ACTION_LABELS[a]}</option>
                  ))}
                </select>
              </label>
              <button type="button" class="small" data-testid="bulk-apply" disabled={ticked.size === 0}
                onClick={() => void bulk()}>Apply to {ticked.size}</button>
            </div>
          )}
          <ul class="card-list queue-items" aria-live="polite">
            {items.map((item) => (
              <li key={item.id} class="card queue-item" data-testid="queue-item" data-item-id={item.id}
                data-target={`${item.target_type}:${item.target_id}`}>
                <div class="queue-item-head">
                  {filters.status === "open" && (
                    <input type="checkbox" aria-label={`Select ${item.label}`} data-testid="item-tick"
                      checked={ticked.has(item.id)} onChange={(e) => {
                        const nextTicked = new Set(ticked);
                        if (e.currentTarget.checked) nextTicked.add(item.id); else nextTicked.delete(item.id);
                        setTicked(nextTicked);
                      }} />
                  )}
                  <Score item={item} />
                  <a href={`#/mod/queue/${item.id}`} data-testid="item-link"><strong>{item.label}</strong></a>
                  {item.hidden_by_flags && <span class="tag" data-testid="item-hidden">hidden by flags</span>}
                  <Reasons item={item} />
                  <span class="meta"><TimeAgo iso={item.created_at} /></span>
                  <Claim item={item} onDone={replace} />
                </div>
                <p class="excerpt">{item.excerpt}</p>
                <Actions item={item} onDone={replace} />
              </li>
            ))}
          </ul>
          {next && <button type="button" class="secondary" data-testid="queue-more" onClick={() => void load(next)}>More</button>}
        </>
      )}
    </section>
  );
}

export function ReviewItemPage({ id }: { id: number }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => call(client.GET("/api/moderation/items/{item_id}", { params: { path: { item_id: id } } }))
    .then((d) => { setDetail(d); setError(null); }, setError);
  useEffect(() => { void load(); }, [id]);
  if (error) return <FormError error={error} />;
  if (!detail) return <p class="muted">Loading…</p>;
  const item = detail.item;
  return (
    <article class="review-item" data-testid="review-item">
      <header class="card">
        <h2>{item.label}</h2>
        <p class="meta">
          {item.author ? <>by <a href={`#/u/${encodeURIComponent(item.author.handle)}`}>@{item.author.handle}</a> · </> : null}
          <a href={item.url} data-testid="item-context">See it in context</a>
          {detail.target_deleted ? " · deleted" : detail.target_hidden ? " · hidden" : ""}
        </p>
        <blockquote class="excerpt">{item.excerpt}</blockquote>
        <Claim item={item} onDone={() => void load()} />
        <Actions item={item} onDone={() => void load()} />
      </header>
      <section class="card" aria-labelledby="score-h">
        <h3 id="score-h">Score {item.score} of {item.threshold} to hide</h3>
        <table data-testid="score-lines">
          <caption class="visually-hidden">Why the item scores what it does, flag by flag</caption>
          <thead><tr><th scope="col">Because</th><th scope="col">Points</th></tr></thead>
          <tbody>
            {detail.score_lines.map((line, n) => (
              <tr key={n}><td>{line.label}</td><td>{line.points > 0 ? `+${line.points}` : line.points}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card" aria-labelledby="flags-h">
        <h3 id="flags-h">Flags</h3>
        <ul class="flags" data-testid="item-flags">
          {detail.flags.map((f) => (
            <li key={f.id}>
              {f.flagger ? `@${f.flagger.handle}` : "system"}: {REASON_LABELS[f.reason] ?? f.reason}
              {f.text ? ` — “${f.text}”` : ""} <span class="meta">(weight {f.weight}, {f.status}, <TimeAgo iso={f.created_at} />)</span>
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}
