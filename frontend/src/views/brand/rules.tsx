// Rules: the brand's point rules (and the house rules, read only), a form to create or edit
// one, and "try it on a sample event": the points it would pay and each check that decided.

import { useState } from "preact/hooks";
import { ApiError, call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { toast } from "../../components/Toast";
import { ConditionField, EventTypeChecks } from "./ConditionField";
import type { Brand } from "./Frame";
import { parseSample, type EventType } from "./model";

type Rule = Schemas["RuleOut"];

interface RuleForm {
  name: string;
  eventTypes: string[];
  condition: string;
  points: string;
  capDay: string;
  cooldown: string;
  categoryId: string;
  enabled: boolean;
}

const blank: RuleForm = {
  name: "", eventTypes: [], condition: "", points: "10", capDay: "", cooldown: "0", categoryId: "", enabled: true,
};

function formOf(rule: Rule): RuleForm {
  return {
    name: rule.name, eventTypes: [...rule.event_types], condition: rule.condition, points: rule.points,
    capDay: rule.cap_day === null ? "" : String(rule.cap_day), cooldown: String(rule.cooldown_seconds),
    categoryId: rule.category_id === null ? "" : String(rule.category_id), enabled: rule.enabled,
  };
}

const optional = (text: string): number | null => (text.trim() === "" ? null : Number(text));

function ruleBody(brandId: number, form: RuleForm): Schemas["RuleIn"] {
  return {
    name: form.name.trim(), event_types: form.eventTypes, condition: form.condition.trim(),
    points: form.points.trim(), cap_day: optional(form.capDay), cooldown_seconds: Number(form.cooldown || 0),
    category_id: optional(form.categoryId), enabled: form.enabled, brand_id: brandId,
  };
}

function sampleFor(types: readonly EventType[], eventType: string, brandId: number): string {
  const sample = types.find((t) => t.type === eventType)?.sample ?? { event: eventType };
  const withBrand = "brand_id" in sample ? { ...sample, brand_id: brandId } : sample;
  return JSON.stringify(withBrand, null, 2);
}

function TryRule({ brand, form, types }: { brand: Brand; form: RuleForm; types: readonly EventType[] }) {
  const [eventType, setEventType] = useState(form.eventTypes[0] ?? types[0]?.type ?? "");
  const [sample, setSample] = useState(() => sampleFor(types, eventType, brand.id));
  const [result, setResult] = useState<Schemas["RuleTryOut"] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function run(): Promise<void> {
    const parsed = parseSample(sample);
    if ("error" in parsed) { setError(new ApiError(422, "invalid", parsed.error)); setResult(null); return; }
    setBusy(true);
    try {
      setResult(await call(client.POST("/api/gamification/rules/try", {
        body: { rule: ruleBody(brand.id, form), event: parsed.event },
      })));
      setError(null);
    } catch (err) {
      setError(err);
      setResult(null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="stack" aria-labelledby="try-h" data-testid="rule-try">
      <h3 id="try-h">Try this rule on a sample event</h3>
      <label for="try-type">Event</label>
      <select id="try-type" value={eventType} data-testid="try-event-type"
        onChange={(e) => {
          const next = (e.target as HTMLSelectElement).value;
          setEventType(next);
          setSample(sampleFor(types, next, brand.id));
        }}>
        {types.map((t) => <option key={t.type} value={t.type}>{t.type}</option>)}
      </select>
      <label for="try-sample">Its fields (JSON)</label>
      <textarea id="try-sample" class="mono" rows={8} value={sample} data-testid="try-sample" spellcheck={false}
        onInput={(e) => setSample((e.target as HTMLTextAreaElement).value)} />
      <div><button type="button" class="secondary" disabled={busy} data-testid="try-run"
        onClick={() => void run()}>Try it</button></div>
      <FormError error={error} />
      <div aria-live="polite" data-testid="try-result">
        {result && (
          <>
            <p><strong data-testid="try-points">{result.points > 0 ? `Pays ${result.points} points` : "Pays nothing"}</strong></p>
            <ul class="checks">
              {result.checks.map((c, i) => (
                <li key={i} class={c.passed ? "passed" : "failed"} data-testid="try-check">
                  <span class="visually-hidden">{c.passed ? "Passed: " : "Failed: "}</span>
                  <strong>{c.check}</strong>: {c.detail}
                </li>
              ))}
            </ul>
            <p class="meta">Caps and cooldowns also apply to real awards: they depend on what the member was already paid.</p>
          </>
        )}
      </div>
    </section>
  );
}

function RuleEditor({ brand, rule, types, onSaved, onClose }: {
  brand: Brand; rule: Rule | null; types: readonly EventType[]; onSaved: () => void; onClose: () => void;
}) {
  const [form, setForm] = useState<RuleForm>(() => (rule ? formOf(rule) : blank));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Only events in the brand's categories can pay from its budget.
  const payable = types.filter((t) => t.brand_rules);

  async function save(event: Event): Promise<void> {
    event.preventDefault();
    const ok = await confirmAction({
      title: rule ? "Save this rule?" : "Create this rule?",
      message: form.enabled ? `“${form.name}” pays from ${brand.name}'s budget from now on.`
        : `“${form.name}” is saved switched off.`,
      confirmLabel: rule ? "Save rule" : "Create rule",
    });
    if (!ok) return;
    setBusy(true);
    try {
      const body = ruleBody(brand.id, form);
      if (rule) {
        const { brand_id: _brand, ...patch } = body;
        await call(client.PATCH("/api/gamification/rules/{rule_id}", { params: { path: { rule_id: rule.id } }, body: patch }));
      } else {
        await call(client.POST("/api/gamification/rules", { body }));
      }
      setError(null);
      toast(rule ? "Rule saved." : "Rule created.", "success");
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const set = (patch: Partial<RuleForm>) => setForm({ ...form, ...patch });
  return (
    <section class="card" aria-labelledby="rule-form-h">
      <h2 id="rule-form-h">{rule ? `Edit “${rule.name}”` : "New rule"}</h2>
      <form class="stack" data-testid="rule-form" onSubmit={(e) => void save(e)} noValidate>
        <fieldset class="stack" disabled={busy}>
          <legend>Rule</legend>
          <label for="rule-name">Name</label>
          <input id="rule-name" data-testid="rule-name" value={form.name} maxLength={100}
            onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />
          <EventTypeChecks types={payable} chosen={form.eventTypes} legend="Pays for these events"
            testid="rule-events" onChange={(eventTypes) => set({ eventTypes })} />
          <ConditionField id="rule-condition" label="Only when (condition, optional)" value={form.condition}
            types={types} chosen={form.eventTypes} testid="rule-condition" onInput={(condition) => set({ condition })} />
          <ConditionField id="rule-points" label="Points (a number or a formula)" value={form.points}
            types={types} chosen={form.eventTypes} testid="rule-points" onInput={(points) => set({ points })}
            hint="A formula may use these fields, e.g. 5 if post_number > 1 else 10:" />
          <div class="grid2">
            <label>Daily cap per member (optional)
              <input type="number" min={1} value={form.capDay} data-testid="rule-cap-day"
                onInput={(e) => set({ capDay: (e.target as HTMLInputElement).value })} />
            </label>
            <label>Cooldown (seconds)
              <input type="number" min={0} value={form.cooldown}
                onInput={(e) => set({ cooldown: (e.target as HTMLInputElement).value })} />
            </label>
            <label>Only in category id (optional)
              <input type="number" min={1} value={form.categoryId}
                onInput={(e) => set({ categoryId: (e.target as HTMLInputElement).value })} />
            </label>
          </div>
          <label class="check"><input type="checkbox" checked={form.enabled}
            onChange={(e) => set({ enabled: (e.target as HTMLInputElement).checked })} /> Enabled</label>
        </fieldset>
        <FormError error={error} />
        <div class="actions-row">
          <button type="submit" disabled={busy} data-testid="rule-save">{rule ? "Save rule" : "Create rule"}</button>
          <button type="button" class="secondary" onClick={onClose}>Close</button>
        </div>
      </form>
      {types.length > 0 && <TryRule brand={brand} form={form} types={payable.length ? payable : types} />}
    </section>
  );
}

export function Rules({ brand }: { brand: Brand }) {
  const rules = useAsync(() => call(client.GET("/api/gamification/rules")), [brand.id]);
  const types = useAsync(() => call(client.GET("/api/gamification/event-types")), []);
  // null: no form; "new"; or the rule being edited.
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const all = rules.value ?? [];
  const ours = all.filter((r) => r.brand_id === brand.id);
  const house = all.filter((r) => r.brand_id === null);

  const table = (list: Rule[], editable: boolean, caption: string) => (
    <table>
      <caption class="visually-hidden">{caption}</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Events</th><th scope="col">Condition</th>
        <th scope="col">Points</th><th scope="col">On</th>{editable && <th scope="col"><span class="visually-hidden">Edit</span></th>}</tr></thead>
      <tbody>
        {list.map((r) => (
          <tr key={r.id} data-testid="rule-row">
            <td>{r.name}</td><td>{r.event_types.join(", ")}</td>
            <td><code>{r.condition || "—"}</code></td><td><code>{r.points}</code></td>
            <td>{r.enabled ? "Yes" : "No"}</td>
            {editable && <td><button type="button" class="link-button" onClick={() => setEditing(r)}>Edit</button></td>}
          </tr>
        ))}
      </tbody>
    </table>
  );

  return (
    <>
      <section class="card" aria-labelledby="rules-h">
        <div class="view-head">
          <h2 id="rules-h">{brand.name}'s rules</h2>
          <button type="button" class="small" data-testid="new-rule" onClick={() => setEditing("new")}>New rule</button>
        </div>
        <FormError error={rules.error ?? types.error} />
        {ours.length === 0 ? <p class="muted">No rules of your own yet: members earn by the house rules below.</p>
          : table(ours, true, "Your brand's rules")}
      </section>
      {editing !== null && types.value && (
        <RuleEditor key={editing === "new" ? "new" : editing.id} brand={brand} types={types.value}
          rule={editing === "new" ? null : editing}
          onSaved={() => { setEditing(null); void rules.reload(); }} onClose={() => setEditing(null)} />
      )}
      {house.length > 0 && (
        <section class="card" aria-labelledby="house-h">
          <h2 id="house-h">House rules</h2>
          <p class="meta">Every brand's members earn by these; admins run them.</p>
          {table(house, false, "House rules")}
        </section>
      )}
    </>
  );
}
