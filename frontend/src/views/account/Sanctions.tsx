// #/sanctions: the member's own sanctions, each with its reason and end, and the one appeal
// they may make of a sanction in force.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { refreshSanctions } from "../../app/sanctions";
import { me } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt, ViewError } from "../../components/ViewError";
import { absoluteTime } from "../../components/format";
import { useForm } from "../../components/useForm";
import "./account.css";

type Sanction = Schemas["SanctionOut"];

const VERB: Record<string, string> = { silence: "Silenced", suspend: "Suspended" };

function AppealForm({ sanction, done }: { sanction: Sanction; done: () => Promise<void> }) {
  const form = useForm();
  const [text, setText] = useState("");
  return (
    <form class="stack" data-testid="appeal-form" onSubmit={form.handle(async () => {
      await call(client.POST("/api/sanctions/{sanction_id}/appeal", {
        params: { path: { sanction_id: sanction.id } }, body: { text },
      }));
      await done();
      await refreshSanctions();
      return "Your appeal is sent. A moderator other than the one who imposed this decides.";
    })}>
      <label>Appeal <span class="hint">Once per sanction: say why it should be lifted.</span>
        <textarea value={text} rows={4} maxLength={4000} required data-testid="appeal-text"
          onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <FormError error={form.error} />
      <p class="form-ok" role="status" hidden={!form.done}>{form.done}</p>
      <div class="actions">
        <button class="btn primary" disabled={form.busy} data-testid="appeal-submit">Send appeal</button>
      </div>
    </form>
  );
}

function SanctionCard({ sanction, reload }: { sanction: Sanction; reload: () => Promise<void> }) {
  const ends = absoluteTime(new Date(sanction.ends_at));
  return (
    <li class="card stack" data-testid="my-sanction">
      <h2>{VERB[sanction.kind] ?? sanction.kind} {sanction.active ? `until ${ends}` : `(ended)`}</h2>
      <p>{sanction.reason}</p>
      {sanction.lifted_at && <p class="muted">Lifted: {sanction.lift_reason}</p>}
      {sanction.appeal
        ? (
          <p data-testid="appeal-status">
            Your appeal is <strong>{sanction.appeal.status}</strong>
            {sanction.appeal.decision_reason ? `: ${sanction.appeal.decision_reason}` : "."}
          </p>
        )
        : sanction.active && <AppealForm sanction={sanction} done={reload} />}
    </li>
  );
}

export function Sanctions() {
  const member = useStore(me);
  const mine = useAsync(() => (member ? call(client.GET("/api/me/sanctions")) : Promise.resolve([])),
    [member?.id]);
  if (!member) return <SignInPrompt text="to see your standing." />;
  if (mine.error) return <ViewError error={mine.error} signedIn />;
  const items = mine.value ?? [];
  return (
    <div class="stack">
      <PageTitle title="Your sanctions" />
      {mine.loading && !mine.value ? <p class="muted">Loading…</p>
        : items.length === 0 ? <p class="muted" data-testid="no-sanctions">You have never been sanctioned.</p>
          : <ul class="sanction-list stack">{items.map((s) => <SanctionCard key={s.id} sanction={s} reload={mine.reload} />)}</ul>}
    </div>
  );
}
