// The badge catalogue: every badge (admins see disabled and secret ones too), a form to add
// one with the criteria builder, enabling and disabling, and the backfill that grants a new
// badge to everyone who already qualifies, followed live.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { number } from "../../components/format";
import { staffAction } from "./act";
import { slugOf } from "./Categories";
import {
  CRITERIA_TYPES, EVENT_TYPES, buildCriteria, describeCriteria, draftOf, emptyDraft,
  type CriteriaDraft, type CriteriaType,
} from "./criteria";

type Badge = Schemas["BadgeOut"];
type Backfill = Schemas["BackfillOut"];

const LEVELS = ["bronze", "silver", "gold"] as const;

export function Badges() {
  const loaded = useAsync(() => call(client.GET("/api/gamification/badges")), []);
  const [error, setError] = useState<unknown>(null);
  // The badge whose backfill is shown, and the last run seen before a change started a new
  // one (runs up to it are old news); seq remounts the view for each new watch.
  const [watching, setWatching] = useState<{ id: number; after: number | null; seq: number } | null>(null);
  const watch = (id: number, after: number | null) =>
    setWatching((old) => ({ id, after, seq: (old?.seq ?? 0) + 1 }));
  const [editing, setEditing] = useState<Badge | null>(null);

  async function toggle(badge: Badge): Promise<void> {
    const enabled = !badge.enabled;
    const out = await staffAction(
      { title: `${enabled ? "Enable" : "Disable"} “${badge.name}”?`,
        message: enabled ? "Members can earn it again from now on."
          : "Nobody earns it while it is disabled; badges already granted are kept.",
        confirmLabel: enabled ? "Enable" : "Disable", danger: !enabled },
      () => call(client.PATCH("/api/gamification/badges/{badge_id}", {
        params: { path: { badge_id: badge.id } }, body: { enabled } })),
      setError, enabled ? "Badge enabled." : "Badge disabled.");
    if (out) loaded.set((loaded.value ?? []).map((b) => (b.id === out.id ? out : b)));
  }

  return (
    <div class="stack" data-testid="admin-badges">
      <PageTitle title="Badges" testid="admin-title" />
      {editing && <EditCriteria badge={editing} key={editing.id} onCancel={() => setEditing(null)}
        onSaved={(badge, after) => {
          loaded.set((loaded.value ?? []).map((b) => (b.id === badge.id ? badge : b)));
          setEditing(null);
          if (badge.criteria.type !== "manual") watch(badge.id, after);
        }} />}
      {watching !== null && <BackfillProgress badgeId={watching.id} after={watching.after} key={watching.seq}
        name={(loaded.value ?? []).find((b) => b.id === watching.id)?.name ?? `#${watching.id}`} />}
      <div class="card">
        <h2>Catalogue</h2>
        <FormError error={error ?? loaded.error} />
        {loaded.value && loaded.value.length === 0 && <p class="muted">No badges yet.</p>}
        {loaded.value && loaded.value.length > 0 && (
          <table class="admin-table">
            <caption class="visually-hidden">Badges</caption>
            <thead><tr><th scope="col">Badge</th><th scope="col">Earned by</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {loaded.value.map((b) => (
                <tr key={b.id} data-testid="admin-badge" data-badge-id={b.id}>
                  <th scope="row">
                    {b.name} <span class="meta">{b.level} · {b.grouping}{b.points ? ` · ${number(b.points)} points` : ""}</span>
                  </th>
                  <td>{describeCriteria(b.criteria)}</td>
                  <td>{b.enabled ? "Enabled" : "Disabled"}{b.secret ? " · secret" : ""}{b.repeatable ? " · repeatable" : ""}</td>
                  <td><div class="row-actions">
                    <button type="button" class="secondary small" data-testid="admin-badge-toggle"
                      onClick={() => void toggle(b)}>{b.enabled ? "Disable" : "Enable"}</button>
                    <button type="button" class="link-button" data-testid="admin-badge-edit"
                      onClick={() => setEditing(b)}>Edit criteria</button>
                    {b.criteria.type !== "manual" && (
                      <button type="button" class="link-button" onClick={() => watch(b.id, null)}>Backfill progress</button>
                    )}
                  </div></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <NewBadge onCreated={(badge) => {
        loaded.set([...(loaded.value ?? []), badge]);
        // A manual badge has nothing to backfill.
        if (badge.criteria.type !== "manual") watch(badge.id, null);
      }} />
    </div>
  );
}

/** The backfill's progress, read once a second until a run later than `after` has finished. */
function BackfillProgress({ badgeId, name, after }: { badgeId: number; name: string; after: number | null }) {
  const [progress, setProgress] = useState<Backfill | null>(null);
  const [error, setError] = useState<unknown>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    let live = true;
    async function poll(): Promise<void> {
      try {
        const now = await call(client.GET("/api/gamification/badges/{badge_id}/backfill", {
          params: { path: { badge_id: badgeId } } }));
        if (!live) return;
        const fresh = after === null || (now.run !== null && now.run !== undefined && now.run > after);
        // Until the new run has started, the last one's figures are not this change's.
        setProgress(fresh ? now : { ...now, total: 0, done: 0, granted: 0, finished: false });
        setError(null);
        if (!fresh || !now.finished) timer.current = setTimeout(() => void poll(), 1000);
      } catch (err) {
        if (live) setError(err);
      }
    }
    void poll();
    return () => { live = false; clearTimeout(timer.current); };
  }, [badgeId, after]);

  const percent = !progress ? 0 : progress.total > 0 ? Math.round((100 * progress.done) / progress.total)
    : progress.finished ? 100 : 0;
  // No run recorded yet: the backfill is queued behind other background work.
  const queued = progress !== null && !progress.finished && progress.total === 0;
  return (
    <div class="card" data-testid="backfill" data-finished={String(progress?.finished ?? false)}>
      <h2>Backfill: {name}</h2>
      <FormError error={error} />
      {progress && (
        <>
          <progress max={100} value={percent} aria-labelledby="backfill-status" />
          <p id="backfill-status" role="status" data-testid="backfill-status">
            {queued ? "Waiting to start…" : <>
              {progress.finished ? "Finished: " : "Running: "}
              {number(progress.done)} of {number(progress.total)} members checked ·{" "}
              {number(progress.granted)} granted
            </>}
          </p>
        </>
      )}
    </div>
  );
}

function CriteriaBuilder({ draft, onChange, prefix }: {
  draft: CriteriaDraft; onChange: (d: CriteriaDraft) => void; prefix: string;
}) {
  const set = (change: Partial<CriteriaDraft>) => onChange({ ...draft, ...change });
  const counts = draft.type === "count" || draft.type === "first" || draft.type === "streak";
  return (
    <fieldset class="criteria stack" data-testid={`${prefix}-builder`}>
      <legend>Earned when the member…</legend>
      <label for={`${prefix}-type`}>Kind of badge</label>
      <select id={`${prefix}-type`} value={draft.type} data-testid={`${prefix}-type`}
        onChange={(e) => set({ type: e.currentTarget.value as CriteriaType })}>
        {CRITERIA_TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
      </select>
      {counts && (
        <fieldset class="event-types">
          <legend>Activity (any of)</legend>
          {EVENT_TYPES.map((t) => (
            <label key={t.value} class="check">
              <input type="checkbox" checked={draft.eventTypes.includes(t.value)} value={t.value}
                data-testid={`${prefix}-event`}
                onChange={(e) => set({ eventTypes: e.currentTarget.checked
                  ? [...draft.eventTypes, t.value] : draft.eventTypes.filter((v) => v !== t.value) })} />
              {t.label}
            </label>
          ))}
        </fieldset>
      )}
      {draft.type === "count" && (
        <div class="row">
          <label for={`${prefix}-count`}>How many times</label>
          <input id={`${prefix}-count`} class="short" type="number" min={1} max={1_000_000} value={draft.count}
            data-testid={`${prefix}-count`} onInput={(e) => set({ count: e.currentTarget.value })} />
          <label for={`${prefix}-window`}>Within days (empty: ever)</label>
          <input id={`${prefix}-window`} class="short" type="number" min={1} max={3650} value={draft.windowDays}
            data-testid={`${prefix}-window`} onInput={(e) => set({ windowDays: e.currentTarget.value })} />
        </div>
      )}
      {draft.type === "streak" && (
        <div class="row">
          <label for={`${prefix}-length`}>In a row</label>
          <input id={`${prefix}-length`} class="short" type="number" min={2} max={3650} value={draft.length}
            data-testid={`${prefix}-length`} onInput={(e) => set({ length: e.currentTarget.value })} />
          <label for={`${prefix}-unit`} class="visually-hidden">Unit</label>
          <select id={`${prefix}-unit`} value={draft.unit}
            onChange={(e) => set({ unit: e.currentTarget.value === "week" ? "week" : "day" })}>
            <option value="day">days</option>
            <option value="week">weeks</option>
          </select>
        </div>
      )}
      {counts && (
        <>
          <label for={`${prefix}-condition`}>Only when (optional expression)</label>
          <input id={`${prefix}-condition`} maxLength={500} value={draft.condition} data-testid={`${prefix}-condition`}
            aria-describedby={`${prefix}-condition-hint`} onInput={(e) => set({ condition: e.currentTarget.value })} />
          <span id={`${prefix}-condition-hint`} class="meta">
            For example <code>kind == "like"</code> or <code>category_id == 3</code>; the event's fields are the names.
          </span>
        </>
      )}
      {draft.type === "points" && (
        <div class="row">
          <label for={`${prefix}-threshold`}>Points earned in all</label>
          <input id={`${prefix}-threshold`} class="short" type="number" min={1} value={draft.threshold}
            data-testid={`${prefix}-threshold`} onInput={(e) => set({ threshold: e.currentTarget.value })} />
        </div>
      )}
      {draft.type === "challenge" && (
        <div class="row">
          <label for={`${prefix}-challenge`}>Challenge id</label>
          <input id={`${prefix}-challenge`} class="short" inputMode="numeric" value={draft.challengeId}
            data-testid={`${prefix}-challenge`} onInput={(e) => set({ challengeId: e.currentTarget.value })} />
        </div>
      )}
    </fieldset>
  );
}

function EditCriteria({ badge, onSaved, onCancel }: {
  badge: Badge; onSaved: (badge: Badge, after: number | null) => void; onCancel: () => void;
}) {
  const [draft, setDraft] = useState<CriteriaDraft>(() => draftOf(badge.criteria));
  const [error, setError] = useState<unknown>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // Opened from a row further down: keyboard and screen-reader users are taken to it.
  useEffect(() => { heading.current?.focus(); }, []);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const built = buildCriteria(draft);
    if ("problem" in built) { setError(new ApiError(422, "invalid", built.problem)); return; }
    const out = await staffAction(
      { title: `Change what earns “${badge.name}”?`,
        message: `${describeCriteria(built.criteria)}. Members who qualify now are granted it in the background.`,
        confirmLabel: "Save criteria" },
      async () => {
        // The run before the change, so the progress shown is the one the change starts.
        const before = await call(client.GET("/api/gamification/badges/{badge_id}/backfill", {
          params: { path: { badge_id: badge.id } } }));
        const saved = await call(client.PATCH("/api/gamification/badges/{badge_id}", {
          params: { path: { badge_id: badge.id } }, body: { criteria: built.criteria } }));
        return { saved, after: before.run ?? null };
      },
      setError, "Criteria saved.");
    if (out) onSaved(out.saved, out.after);
  }

  return (
    <form class="card stack" onSubmit={(e) => void submit(e)} data-testid="badge-edit-form">
      <h2 ref={heading} tabIndex={-1}>Criteria of {badge.name}</h2>
      <CriteriaBuilder draft={draft} onChange={setDraft} prefix={`edit-criteria-${badge.id}`} />
      <FormError error={error} />
      <div class="row">
        <button type="submit" data-testid="badge-edit-save">Save criteria</button>
        <button type="button" class="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

function NewBadge({ onCreated }: { onCreated: (badge: Badge) => void }) {
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugTouched, setSlugTouched] = useState(false);
  const [description, setDescription] = useState("");
  const [level, setLevel] = useState<(typeof LEVELS)[number]>("bronze");
  const [points, setPoints] = useState("0");
  const [secret, setSecret] = useState(false);
  const [draft, setDraft] = useState<CriteriaDraft>(emptyDraft);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const built = buildCriteria(draft);
    if ("problem" in built) { setError(new ApiError(422, "invalid", built.problem)); return; }
    if (!/^\d+$/.test(points.trim())) { setError(new ApiError(422, "invalid", "Points are a whole number.")); return; }
    const out = await staffAction(
      { title: `Create the badge “${name}”?`,
        message: built.criteria.type === "manual" ? "Staff can grant it from then on."
          : `${describeCriteria(built.criteria)}. Everyone who already qualifies is granted it in the background.`,
        confirmLabel: "Create badge" },
      () => call(client.POST("/api/gamification/badges", { body: {
        name, slug, description, level, points: Number(points.trim()), secret, criteria: built.criteria,
        icon: "", grouping: "community", enabled: true, repeatable: false, auto_revoke: false,
      } })),
      setError, "Badge created.");
    if (out) {
      onCreated(out);
      setName(""); setSlug(""); setSlugTouched(false); setDescription(""); setPoints("0");
      setSecret(false); setDraft(emptyDraft());
    }
  }

  return (
    <form class="card stack" onSubmit={(e) => void submit(e)} data-testid="badge-form">
      <h2>New badge</h2>
      <label for="badge-name">Name</label>
      <input id="badge-name" required maxLength={80} value={name} data-testid="badge-name"
        onInput={(e) => { setName(e.currentTarget.value); if (!slugTouched) setSlug(slugOf(e.currentTarget.value).slice(0, 60)); }} />
      <label for="badge-slug">Slug</label>
      <input id="badge-slug" required maxLength={60} value={slug} data-testid="badge-slug"
        onInput={(e) => { setSlug(e.currentTarget.value); setSlugTouched(true); }} />
      <label for="badge-description">Description</label>
      <textarea id="badge-description" maxLength={1000} value={description}
        onInput={(e) => setDescription(e.currentTarget.value)} />
      <div class="row">
        <label for="badge-level">Level</label>
        <select id="badge-level" value={level} onChange={(e) => setLevel(e.currentTarget.value as (typeof LEVELS)[number])}>
          {LEVELS.map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
        <label for="badge-points">Points it awards</label>
        <input id="badge-points" class="short" type="number" min={0} max={100000} value={points}
          onInput={(e) => setPoints(e.currentTarget.value)} />
        <label class="check"><input type="checkbox" checked={secret}
          onChange={(e) => setSecret(e.currentTarget.checked)} /> Secret until earned</label>
      </div>
      <CriteriaBuilder draft={draft} onChange={setDraft} prefix="new-criteria" />
      <FormError error={error} />
      <div class="row"><button type="submit" data-testid="badge-create">Create badge</button></div>
    </form>
  );
}
