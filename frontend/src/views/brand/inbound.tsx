// Inbound events: what the brand's shop and other systems reported (newest first, with the
// points each moved), the custom event types the brand declared, and how to send events.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { CursorTable } from "../../components/CursorTable";
import { FormError } from "../../components/FormError";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import type { Brand } from "./Frame";
import { curlExample, emptyField, pointsText, typeBody, type FieldForm, type InboundRow } from "./inboundModel";

const FIELD_TYPES: FieldForm["type"][] = ["integer", "number", "text", "boolean"];

function Help() {
  return (
    <section class="card" aria-labelledby="inbound-help-h">
      <h2 id="inbound-help-h">How to send events</h2>
      <p>
        Create an <a href="#/brand/tokens">API token</a> with the <code>events</code> scope and post each event
        once, with your own unique <code>Idempotency-Key</code> (an order id will do): sending it again answers
        the first result and pays nothing twice. Types: <code>order.completed</code>{" "}
        (<code>order_id</code>, <code>amount</code> as a decimal string, ISO 4217 <code>currency</code>),{" "}
        <code>order.refunded</code> (<code>order_id</code>: takes back what the order earned),{" "}
        <code>review.posted</code> (<code>review_id</code>, optional <code>rating</code> 1–5),{" "}
        <code>referral.converted</code> (<code>referral_id</code>, for the referrer) and your custom types
        below. Name the member by <code>id</code> or by <code>email</code>. Many events at once: post up to
        500 to <code>/api/integrations/events/batch</code>, each with its <code>idempotency_key</code>.
      </p>
      <pre class="code" data-testid="inbound-curl"><code>{curlExample(location.origin)}</code></pre>
      <p class="meta">
        Points come from your <a href="#/brand/rules">rules</a>: e.g. points <code>amount</code> for a point per
        euro, condition <code>tier == "VIP"</code> to pay VIPs again, <code>order_number == 1</code> for a first
        order bonus. Custom events reach rules as <code>custom.received</code> with their <code>name</code> and fields.
      </p>
    </section>
  );
}

function DeclareType({ brand, onDone }: { brand: Brand; onDone: () => void }) {
  const [name, setName] = useState("");
  const [fields, setFields] = useState<FieldForm[]>([emptyField()]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const change = (i: number, patch: Partial<FieldForm>) =>
    setFields(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const body = typeBody(name, fields);
    const ok = await confirmAction({
      title: "Declare this event type?",
      message: `“${body.name}” with ${body.fields?.length ?? 0} field(s). A declared type cannot be changed.`,
      confirmLabel: "Declare",
    });
    if (!ok) return;
    setBusy(true);
    try {
      await call(client.POST("/api/brands/{brand_id}/inbound-types", { params: { path: { brand_id: brand.id } }, body }));
      setName(""); setFields([emptyField()]); setError(null);
      toast("Event type declared.", "success");
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack" data-testid="inbound-type-form" onSubmit={(e) => void submit(e)} noValidate>
      <label for="inbound-type-name">Type name (lower case, digits, _)</label>
      <input id="inbound-type-name" value={name} maxLength={40} required data-testid="inbound-type-name"
        onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      <fieldset>
        <legend>Fields</legend>
        {fields.map((f, i) => (
          <div class="grid2" key={i}>
            <label>Field name
              <input value={f.name} maxLength={40} data-testid="inbound-field-name"
                onInput={(e) => change(i, { name: (e.target as HTMLInputElement).value })} />
            </label>
            <label>Type
              <select value={f.type} onChange={(e) => change(i, { type: (e.target as HTMLSelectElement).value as FieldForm["type"] })}>
                {FIELD_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
              </select>
            </label>
            {f.type === "text" && (
              <label>Longest text
                <input type="number" min={1} max={1000} value={f.maxLength}
                  onInput={(e) => change(i, { maxLength: Number((e.target as HTMLInputElement).value) })} />
              </label>
            )}
            <label class="check">
              <input type="checkbox" checked={f.required}
                onChange={(e) => change(i, { required: (e.target as HTMLInputElement).checked })} />
              required
            </label>
          </div>
        ))}
        {fields.length < 20 && (
          <button type="button" class="secondary small" onClick={() => setFields([...fields, emptyField()])}>Add a field</button>
        )}
      </fieldset>
      <FormError error={error} />
      <div><button type="submit" disabled={busy} data-testid="inbound-type-submit">Declare type</button></div>
    </form>
  );
}

function CustomTypes({ brand }: { brand: Brand }) {
  const types = useAsync(() => call(client.GET("/api/brands/{brand_id}/inbound-types", {
    params: { path: { brand_id: brand.id } } })), [brand.id]);
  const list: Schemas["CustomTypeOut"][] = types.value ?? [];
  return (
    <section class="card" aria-labelledby="inbound-types-h">
      <h2 id="inbound-types-h">Custom event types</h2>
      <FormError error={types.error} />
      {list.length === 0 ? <p class="muted">No custom types yet.</p> : (
        <table data-testid="inbound-type-table">
          <caption class="visually-hidden">The brand's custom event types</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Fields</th><th scope="col">Declared</th></tr></thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.id} data-testid="inbound-type-row">
                <td><code>{t.name}</code></td>
                <td>{t.fields.map((f) => `${f.name}: ${f.type}${f.required ? " (required)" : ""}`).join(", ") || "none"}</td>
                <td><TimeAgo iso={t.created_at} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <DeclareType brand={brand} onDone={() => void types.reload()} />
    </section>
  );
}

export function Inbound({ brand }: { brand: Brand }) {
  const [version, setVersion] = useState(0);
  return (
    <>
      <section class="card" aria-labelledby="inbound-events-h">
        <h2 id="inbound-events-h">Recent events</h2>
        <div><button type="button" class="secondary small" onClick={() => setVersion(version + 1)}>Refresh</button></div>
        <CursorTable<InboundRow, number>
          testid="inbound-events" caption="Inbound events, newest first" empty="No events received yet."
          version={version} rowKey={(row) => row.id}
          load={(before) => call(client.GET("/api/brands/{brand_id}/inbound-events", {
            params: { path: { brand_id: brand.id }, query: before === null ? {} : { before } },
          }))}
          columns={[
            { title: "When", cell: (row) => <TimeAgo iso={row.received_at} /> },
            { title: "Type", cell: (row) => <code>{row.type}</code> },
            { title: "Idempotency-Key", cell: (row) => <code>{row.idempotency_key}</code> },
            { title: "Member", cell: (row) => row.member_id },
            { title: "What", cell: (row) => row.summary },
            { title: "Outcome", cell: (row) => row.outcome },
            { title: "Points", cell: (row) => pointsText(row) },
          ]} />
      </section>
      <CustomTypes brand={brand} />
      <Help />
    </>
  );
}
