// A condition (or points formula) input with the fields the chosen events carry: choosing one
// adds it to the expression, so staff write conditions against real field names.

import { useRef } from "preact/hooks";
import { fieldsFor, withField, type EventType } from "./model";

export function EventTypeChecks({ types, chosen, onChange, legend, testid }: {
  types: readonly EventType[];
  chosen: readonly string[];
  onChange: (chosen: string[]) => void;
  legend: string;
  testid: string;
}) {
  return (
    <fieldset data-testid={testid}>
      <legend>{legend}</legend>
      {types.map((t) => (
        <label class="check" key={t.type}>
          <input type="checkbox" value={t.type} checked={chosen.includes(t.type)}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              onChange(on ? [...chosen, t.type] : chosen.filter((c) => c !== t.type));
            }} />
          {t.type}
        </label>
      ))}
    </fieldset>
  );
}

export function ConditionField({ id, label, value, onInput, types, chosen, testid, hint }: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  types: readonly EventType[];
  chosen: readonly string[];
  testid: string;
  hint?: string;
}) {
  const input = useRef<HTMLInputElement>(null);
  const fields = fieldsFor(types, chosen);
  return (
    <div class="stack">
      <label for={id}>{label}</label>
      <input id={id} ref={input} class="mono" value={value} data-testid={testid} maxLength={500}
        aria-describedby={`${id}-fields`} autocomplete="off" spellcheck={false}
        onInput={(e) => onInput((e.target as HTMLInputElement).value)} />
      <div id={`${id}-fields`} class="meta">
        {fields.length === 0
          ? "Choose an event to see the fields a condition can use."
          : <>{hint ?? "Fields these events have (choose one to add it):"}</>}
      </div>
      {fields.length > 0 && (
        <ul class="field-chips" data-testid={`${testid}-fields`} aria-label={`Fields for ${label.toLowerCase()}`}>
          {fields.map((f) => (
            <li key={f.name}>
              <button type="button" data-field={f.name}
                onClick={() => { onInput(withField(value, f.name)); input.current?.focus(); }}>
                {f.name} <span class="type">{f.type}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
