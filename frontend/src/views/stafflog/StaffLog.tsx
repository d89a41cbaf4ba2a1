// The staff audit log, read-only: who did what to what, when and why, with each change shown
// as before and after. The moderator console shows all of it; the brand console its brand's
// part (the server decides what each reader may see; `brandId` only narrows).

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import type { operations } from "../../api/schema";
import { useAsync } from "../../app/useAsync";
import { CursorTable } from "../../components/CursorTable";
import { TimeAgo } from "../../components/TimeAgo";
import { localToIso } from "../admin/time";
import { actionLabel, diffRows } from "./diff";
import "./stafflog.css";

type Entry = Schemas["StaffLogEntryOut"];
type Query = NonNullable<operations["ApiStaffLogListEntries"]["parameters"]["query"]>;

interface Filters {
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  since: string;
  until: string;
  brand: string;
}

const EMPTY: Filters = { actor: "", action: "", target_type: "", target_id: "", since: "", until: "", brand: "" };

const FIELDS: { key: Exclude<keyof Filters, "brand">; label: string; placeholder?: string; type?: "datetime-local" }[] = [
  { key: "actor", label: "By", placeholder: "@handle" },
  { key: "action", label: "Action", placeholder: "badge. or token.revoke" },
  { key: "target_type", label: "Target type", placeholder: "badge_grant, token…" },
  { key: "target_id", label: "Target id" },
  { key: "since", label: "From", type: "datetime-local" },
  { key: "until", label: "Until", type: "datetime-local" },
];

export function toQuery(filters: Filters, brandId: number | null, before: number | null): Query {
  const query: Query = { limit: 25 };
  const text = (value: string) => value.trim() || undefined;
  query.actor = text(filters.actor);
  query.action = text(filters.action);
  query.target_type = text(filters.target_type);
  query.target_id = text(filters.target_id);
  query.since = localToIso(filters.since) ?? undefined;
  query.until = localToIso(filters.until) ?? undefined;
  const brand = brandId ?? (filters.brand ? Number(filters.brand) : null);
  if (brand !== null) query.brand_id = brand;
  if (before !== null) query.before = before;
  return query;
}

function Change({ entry }: { entry: Entry }) {
  const rows = diffRows(entry.before, entry.after);
  if (rows.length === 0) return <span class="muted">—</span>;
  return (
    <table class="log-diff" data-testid="log-diff">
      <caption class="visually-hidden">What changed</caption>
      <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.field}>
            <th scope="row">{r.field}</th>
            <td><del>{r.before}</del></td>
            <td><ins>{r.after}</ins></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StaffLog({ brandId = null }: { brandId?: number | null }) {
  // Without a brand of its own (the moderator console), the log can be narrowed to one.
  const brands = useAsync(() => (brandId === null ? call(client.GET("/api/brands")) : Promise.resolve([])), [brandId]);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [version, setVersion] = useState(0);

  function apply(event: Event): void {
    event.preventDefault();
    setApplied(draft);
    setVersion((v) => v + 1);
  }

  function clear(): void {
    setDraft(EMPTY);
    setApplied(EMPTY);
    setVersion((v) => v + 1);
  }

  return (
    <div class="staff-log stack">
      <form class="card log-filters" data-testid="log-filters" onSubmit={apply} aria-label="Filter the log">
        {FIELDS.map((f) => {
          const field = {
            value: draft[f.key], "data-testid": `log-filter-${f.key}`,
            onInput: (e: Event) => setDraft({ ...draft, [f.key]: (e.target as HTMLInputElement).value }),
          };
          return (
            <label key={f.key}>
              <span>{f.label}</span>
              {f.type === "datetime-local"
                ? <input type="datetime-local" {...field} />
                : <input type="text" placeholder={f.placeholder} {...field} />}
            </label>
          );
        })}
        {brandId === null && (
          <label>
            <span>Brand</span>
            <select value={draft.brand} data-testid="log-filter-brand"
              onChange={(e) => setDraft({ ...draft, brand: (e.target as HTMLSelectElement).value })}>
              <option value="">Every brand</option>
              {(brands.value ?? []).map((b) => <option key={b.id} value={String(b.id)}>{b.name}</option>)}
            </select>
          </label>
        )}
        <div class="row">
          <button type="submit" data-testid="log-apply">Filter</button>
          <button type="button" class="secondary" onClick={clear}>Clear</button>
        </div>
      </form>
      <CursorTable<Entry, number>
        testid="staff-log" caption="Staff acts, newest first" empty="No staff act matches."
        version={version} rowKey={(e) => e.id}
        load={async (before) => {
          const page = await call(client.GET("/api/staff-log", { params: { query: toQuery(applied, brandId, before) } }));
          return { items: page.items, next_cursor: page.next_cursor };
        }}
        columns={[
          { title: "When", cell: (e) => <TimeAgo iso={e.created_at} /> },
          { title: "Who", cell: (e) => e.actor_label },
          { title: "Did", cell: (e) => <span data-testid="log-action" title={e.action}>{actionLabel(e.action)}</span> },
          { title: "To", cell: (e) => <span data-testid="log-target">{e.target_label}</span> },
          { title: "Change", cell: (e) => <Change entry={e} /> },
          { title: "Why", cell: (e) => e.reason || <span class="muted">—</span> },
        ]} />
    </div>
  );
}
