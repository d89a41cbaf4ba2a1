// The moderator console's sanctions and appeals: silence or suspend a member found by handle
// (the escalation ladder decides what is left open), list and lift the sanctions in force,
// and decide open appeals. The server refuses what the moderator may not do (staff, their
// own sanction's appeal), and its reason shows inline.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { toast } from "../../components/Toast";
import { absoluteTime } from "../../components/format";
import { useForm } from "../../components/useForm";
import { ModFrame } from "./Frame";

type Sanction = Schemas["SanctionOut"];
type Appeal = Schemas["AppealOut"];

const HOUR = 3600;
const DAY = 24 * HOUR;
// "" leaves the choice to the ladder (README, "Sanctions").
const DURATIONS: [string, string][] = [
  ["", "as the ladder says"], [String(HOUR), "1 hour"], [String(DAY), "1 day"],
  [String(3 * DAY), "3 days"], [String(7 * DAY), "7 days"], [String(30 * DAY), "30 days"],
  [String(365 * DAY), "1 year"],
];

function ImposeForm({ imposed }: { imposed: () => Promise<void> }) {
  const form = useForm();
  const [handle, setHandle] = useState("");
  const [kind, setKind] = useState("");
  const [duration, setDuration] = useState("");
  const [reason, setReason] = useState("");
  return (
    <form class="card stack" data-testid="impose-form" onSubmit={form.handle(async () => {
      const name = handle.trim().replace(/^@/, "");
      const profile = await call(client.GET("/api/profiles/{handle}", { params: { path: { handle: name } } }));
      const what = kind === "" ? "sanction (the ladder decides)" : kind;
      const ok = await confirmAction({
        title: `Sanction @${profile.handle}?`,
        message: `Impose a ${what} on @${profile.handle}: "${reason.trim()}". They are told why and until when.`,
        confirmLabel: "Impose", danger: true,
      });
      if (!ok) return;
      const sanction = await call(client.POST("/api/members/{member_id}/sanctions", {
        params: { path: { member_id: profile.id } },
        body: {
          reason,
          kind: kind === "" ? null : kind,
          duration_seconds: duration === "" ? null : Number(duration),
          source: "",
        },
      }));
      setHandle("");
      setReason("");
      await imposed();
      return `@${sanction.member_handle} is ${sanction.kind === "silence" ? "silenced" : "suspended"} until ${absoluteTime(new Date(sanction.ends_at))}.`;
    })}>
      <h2>Impose a sanction</h2>
      <label for="impose-handle">Member's handle</label>
      <input id="impose-handle" required maxLength={33} value={handle} data-testid="impose-handle"
        onInput={(e) => setHandle(e.currentTarget.value)} />
      <label for="impose-kind">Kind</label>
      <select id="impose-kind" value={kind} data-testid="impose-kind" onChange={(e) => setKind(e.currentTarget.value)}>
        <option value="">as the ladder says</option>
        <option value="silence">silence (reads, cannot post, react or vote)</option>
        <option value="suspend">suspend (cannot sign in)</option>
      </select>
      <label for="impose-duration">For</label>
      <select id="impose-duration" value={duration} data-testid="impose-duration"
        onChange={(e) => setDuration(e.currentTarget.value)}>
        {DURATIONS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
      </select>
      <label for="impose-reason">Reason <span class="hint">The member is shown it.</span></label>
      <textarea id="impose-reason" required rows={3} maxLength={1000} value={reason} data-testid="impose-reason"
        onInput={(e) => setReason(e.currentTarget.value)} />
      <FormError error={form.error} />
      <p class="form-ok" role="status" hidden={!form.done}>{form.done}</p>
      <div class="actions"><button class="btn primary" disabled={form.busy} data-testid="impose-submit">Impose</button></div>
    </form>
  );
}

function SanctionLine({ sanction, changed }: { sanction: Sanction; changed: () => Promise<void> }) {
  const form = useForm();
  const [reason, setReason] = useState("");
  return (
    <tr data-testid="sanction-row">
      <td><a href={`#/u/${encodeURIComponent(sanction.member_handle)}`}>@{sanction.member_handle}</a></td>
      <td>{sanction.kind} (step {sanction.step})</td>
      <td>{absoluteTime(new Date(sanction.ends_at))}</td>
      <td>{sanction.reason}{sanction.appeal ? ` · appeal ${sanction.appeal.status}` : ""}</td>
      <td>{sanction.imposed_by_handle ? `@${sanction.imposed_by_handle}` : "system"}</td>
      <td>
        <form class="row" onSubmit={form.handle(async () => {
          await call(client.POST("/api/sanctions/{sanction_id}/lift", {
            params: { path: { sanction_id: sanction.id } }, body: { reason },
          }));
          toast(`The ${sanction.kind} of @${sanction.member_handle} is lifted.`, "success");
          await changed();
        })}>
          <input required maxLength={1000} value={reason} aria-label={`Why lift the ${sanction.kind} of @${sanction.member_handle}`}
            placeholder="why lift it" data-testid="sanction-lift-reason" onInput={(e) => setReason(e.currentTarget.value)} />
          <button class="link-button" disabled={form.busy} data-testid="sanction-lift">Lift</button>
        </form>
        <FormError error={form.error} />
      </td>
    </tr>
  );
}

function SanctionsBody() {
  const active = useAsync(
    () => call(client.GET("/api/sanctions", { params: { query: { status: "active", limit: 100 } } })), []);
  const items = active.value?.items ?? [];
  return (
    <div class="stack" data-testid="mod-sanctions">
      <ImposeForm imposed={active.reload} />
      <section class="card" aria-labelledby="active-sanctions">
        <h2 id="active-sanctions">In force</h2>
        <FormError error={active.error} />
        {items.length === 0
          ? <p class="muted">{active.loading ? "Loading…" : "Nobody is silenced or suspended."}</p>
          : (
            <table class="admin-table">
              <thead><tr>
                <th scope="col">Member</th><th scope="col">Kind</th><th scope="col">Until</th>
                <th scope="col">Reason</th><th scope="col">By</th><th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr></thead>
              <tbody>{items.map((s) => <SanctionLine key={s.id} sanction={s} changed={active.reload} />)}</tbody>
            </table>
          )}
      </section>
    </div>
  );
}

export function ModSanctions() {
  return <ModFrame title="Sanctions" section="sanctions">{() => <SanctionsBody />}</ModFrame>;
}

function AppealCard({ appeal, decided }: { appeal: Appeal; decided: () => Promise<void> }) {
  const form = useForm();
  const [reason, setReason] = useState("");
  const [decision, setDecision] = useState<"upheld" | "overturned">("upheld");
  return (
    <li class="card stack" data-testid="appeal-card">
      <h2>@{appeal.member_handle}: {appeal.kind} until {absoluteTime(new Date(appeal.ends_at))}</h2>
      <p><strong>Why it was imposed</strong> ({appeal.imposed_by_handle ? `@${appeal.imposed_by_handle}` : "system"}): {appeal.sanction_reason}</p>
      <p><strong>The appeal:</strong> {appeal.text}</p>
      <form class="stack" onSubmit={form.handle(async () => {
        await call(client.POST("/api/appeals/{appeal_id}/decide", {
          params: { path: { appeal_id: appeal.id } }, body: { decision, reason },
        }));
        toast(decision === "overturned" ? "Overturned: the sanction is lifted." : "Upheld: the sanction stands.", "success");
        await decided();
      })}>
        <fieldset class="row">
          <legend>Decision</legend>
          <label><input type="radio" name={`decision-${appeal.id}`} checked={decision === "upheld"}
            onChange={() => setDecision("upheld")} /> uphold</label>
          <label><input type="radio" name={`decision-${appeal.id}`} checked={decision === "overturned"}
            data-testid="appeal-overturn" onChange={() => setDecision("overturned")} /> overturn (lifts it)</label>
        </fieldset>
        <label>Reason <span class="hint">The member is shown it.</span>
          <textarea required rows={2} maxLength={1000} value={reason} data-testid="appeal-reason"
            onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <FormError error={form.error} />
        <div class="actions"><button class="btn primary" disabled={form.busy} data-testid="appeal-decide">Decide</button></div>
      </form>
    </li>
  );
}

function AppealsBody() {
  const open = useAsync(
    () => call(client.GET("/api/appeals", { params: { query: { status: "open", limit: 100 } } })), []);
  const items = open.value?.items ?? [];
  return (
    <div class="stack" data-testid="mod-appeals">
      <p class="meta">A sanction's appeal is decided by someone other than whoever imposed it.</p>
      <FormError error={open.error} />
      {items.length === 0
        ? <p class="muted">{open.loading ? "Loading…" : "No appeal is waiting."}</p>
        : <ul class="sanction-list stack">{items.map((a) => <AppealCard key={a.id} appeal={a} decided={open.reload} />)}</ul>}
    </div>
  );
}

export function ModAppeals() {
  return <ModFrame title="Appeals" section="appeals">{() => <AppealsBody />}</ModFrame>;
}
