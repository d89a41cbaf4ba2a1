// "Flag this for the moderators": a modal <dialog> asking why (spam, harassment, inappropriate,
// off topic, or other with a few words), opened by flagTarget() from a post, a thread or a
// profile. The server refuses a second flag, one's own content and deleted targets, and says so.

import { useEffect, useRef, useState } from "preact/hooks";
import { call, client, type Schemas } from "../api/client";
import { Store, useStore } from "../app/store";
import { FormError } from "./FormError";
import { toast } from "./Toast";

type Kind = Schemas["FlagIn"]["target_type"];

interface Target {
  kind: Kind;
  id: number;
  label: string;
}

export const FLAG_REASONS: [value: string, label: string][] = [
  ["spam", "Spam or advertising"],
  ["harassment", "Harassment or abuse"],
  ["inappropriate", "Inappropriate"],
  ["off_topic", "Off topic"],
  ["other", "Something else"],
];

const target = new Store<Target | null>(null);

export function flagTarget(kind: Kind, id: number, label: string): void {
  target.set({ kind, id, label });
}

export function FlagHost() {
  const current = useStore(target);
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState("spam");
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (current && !dialog.open) {
      setReason("spam");
      setText("");
      setError(null);
      dialog.showModal();
    }
    if (!current && dialog.open) dialog.close();
  }, [current]);

  async function send(event: Event): Promise<void> {
    event.preventDefault();
    if (!current) return;
    setBusy(true);
    setError(null);
    try {
      await call(client.POST("/api/flags", {
        body: { target_type: current.kind, target_id: current.id, reason, text },
      }));
      target.set(null);
      toast("Thanks: the moderators will look at it.");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog ref={ref} class="flag-dialog" data-testid="flag-dialog" aria-labelledby="flag-title"
      onCancel={(event) => { event.preventDefault(); target.set(null); }}>
      {current && (
        <form class="stack" onSubmit={(e) => void send(e)}>
          <h2 id="flag-title">Flag {current.label}</h2>
          <fieldset>
            <legend>What is wrong with it?</legend>
            {FLAG_REASONS.map(([value, label]) => (
              <label key={value} class="radio">
                <input type="radio" name="flag-reason" value={value} checked={reason === value}
                  data-testid={`flag-reason-${value}`} onChange={() => setReason(value)} />
                {label}
              </label>
            ))}
          </fieldset>
          <label for="flag-text">{reason === "other" ? "Say what is wrong (needed)" : "Anything to add (optional)"}</label>
          <textarea id="flag-text" rows={3} maxLength={1000} data-testid="flag-text" value={text}
            onInput={(e) => setText(e.currentTarget.value)} />
          <FormError error={error} />
          <div class="actions">
            <button type="button" class="btn ghost" data-testid="flag-cancel"
              onClick={() => target.set(null)}>Cancel</button>
            <button type="submit" class="btn primary" data-testid="flag-send" disabled={busy}>Flag it</button>
          </div>
        </form>
      )}
    </dialog>
  );
}
