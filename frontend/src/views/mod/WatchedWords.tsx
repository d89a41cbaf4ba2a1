// Watched words: the list moderators keep (block, hold, flag or replace), each entry editable
// in place, and a box to try a text against the list before it bites.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { staffAction } from "../admin/act";
import { ModFrame } from "./Frame";
import { ACTIONS, verdictText } from "./watchedWords";

type Entry = Schemas["WatchedWordOut"];
type Verdict = Schemas["ScreenOut"];


function EntryFields({ prefix, pattern, action, replacement, set }: {
  prefix: string; pattern: string; action: string; replacement: string;
  set: (change: { pattern?: string; action?: string; replacement?: string }) => void;
}) {
  return (
    <>
      <label for={`${prefix}-pattern`}>Word or phrase</label>
      <input id={`${prefix}-pattern`} data-testid={`${prefix}-pattern`} required maxLength={100} value={pattern}
        aria-describedby="ww-pattern-hint" onInput={(e) => set({ pattern: e.currentTarget.value })} />
      <label for={`${prefix}-action`}>Action</label>
      <select id={`${prefix}-action`} data-testid={`${prefix}-action`} value={action}
        onChange={(e) => set({ action: e.currentTarget.value })}>
        {ACTIONS.map((a) => <option key={a.value} value={a.value}>{a.label}: {a.hint}</option>)}
      </select>
      {action === "replace" && (
        <>
          <label for={`${prefix}-replacement`}>Replace with</label>
          <input id={`${prefix}-replacement`} data-testid={`${prefix}-replacement`} required maxLength={100}
            value={replacement} onInput={(e) => set({ replacement: e.currentTarget.value })} />
        </>
      )}
    </>
  );
}

function Row({ entry, onChanged }: { entry: Entry; onChanged: () => Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState({ pattern: entry.pattern, action: entry.action, replacement: entry.replacement });
  const [error, setError] = useState<unknown>(null);

  async function save(event: Event): Promise<void> {
    event.preventDefault();
    try {
      await call(client.PATCH("/api/watched-words/{entry_id}", {
        params: { path: { entry_id: entry.id } },
        body: { ...draft, replacement: draft.action === "replace" ? draft.replacement : "" },
      }));
      setError(null);
      setEditing(false);
      toast(`'${draft.pattern}' saved.`, "success");
      await onChanged();
    } catch (err) {
      setError(err);
    }
  }

  async function remove(): Promise<void> {
    const done = await staffAction(
      { title: `Take '${entry.pattern}' off the list?`, message: "Posts are no longer screened for it.",
        confirmLabel: "Remove", danger: true },
      () => call(client.DELETE("/api/watched-words/{entry_id}", { params: { path: { entry_id: entry.id } } })).then(() => true),
      setError, `'${entry.pattern}' is off the list.`);
    if (done) await onChanged();
  }

  if (editing) {
    return (
      <tr data-testid="ww-entry" data-entry-id={entry.id}>
        <td colSpan={4}>
          <form class="stack" onSubmit={(e) => void save(e)}>
            <EntryFields prefix={`ww-edit-${entry.id}`} {...draft} set={(c) => setDraft({ ...draft, ...c })} />
            <FormError error={error} />
            <div class="row">
              <button type="submit" class="small" data-testid="ww-save">Save</button>
              <button type="button" class="secondary small" onClick={() => { setEditing(false); setError(null); }}>Cancel</button>
            </div>
          </form>
        </td>
      </tr>
    );
  }
  return (
    <tr data-testid="ww-entry" data-entry-id={entry.id}>
      <th scope="row"><code>{entry.pattern}</code></th>
      <td data-testid="ww-entry-action">
        {entry.action}{entry.action === "replace" && <> → <code>{entry.replacement}</code></>}
      </td>
      <td><TimeAgo iso={entry.updated_at} /></td>
      <td>
        <div class="row">
          <button type="button" class="secondary small" data-testid="ww-edit"
            aria-label={`Edit '${entry.pattern}'`} onClick={() => setEditing(true)}>Edit</button>
          <button type="button" class="secondary small" data-testid="ww-delete"
            aria-label={`Remove '${entry.pattern}'`} onClick={() => void remove()}>Remove</button>
        </div>
        <FormError error={error} />
      </td>
    </tr>
  );
}

export function WatchedWords() {
  const loaded = useAsync(() => call(client.GET("/api/watched-words")), []);
  const [draft, setDraft] = useState({ pattern: "", action: "block", replacement: "" });
  const [error, setError] = useState<unknown>(null);
  const [text, setText] = useState("");
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [tryError, setTryError] = useState<unknown>(null);

  async function add(event: Event): Promise<void> {
    event.preventDefault();
    try {
      const entry = await call(client.POST("/api/watched-words", {
        body: { ...draft, replacement: draft.action === "replace" ? draft.replacement : "" },
      }));
      setError(null);
      setDraft({ pattern: "", action: draft.action, replacement: "" });
      toast(`'${entry.pattern}' is on the list.`, "success");
      await loaded.reload();
    } catch (err) {
      setError(err);
    }
  }

  async function tryIt(event: Event): Promise<void> {
    event.preventDefault();
    try {
      setVerdict(await call(client.POST("/api/watched-words/test", { body: { text } })));
      setTryError(null);
    } catch (err) {
      setTryError(err);
    }
  }

  return (
    <ModFrame title="Watched words" section="watched-words">
      {() => (
        <div class="stack" data-testid="mod-watched-words">
          <form class="card stack" onSubmit={(e) => void add(e)}>
            <h2>Watch a word</h2>
            <EntryFields prefix="ww-new" {...draft} set={(c) => setDraft({ ...draft, ...c })} />
            <span id="ww-pattern-hint" class="meta">
              Whole words, any case. <code>*</code> stands for letters inside one word (<code>spam*</code> matches
              “spammer”); a word with <code>*</code> needs three letters in a row. No regular expressions.
            </span>
            <FormError error={error} />
            <div class="row"><button type="submit" data-testid="ww-add">Add</button></div>
          </form>
          <form class="card stack" onSubmit={(e) => void tryIt(e)}>
            <h2>Try a text</h2>
            <label for="ww-try-text">Text</label>
            <textarea id="ww-try-text" data-testid="ww-try-text" rows={3} maxLength={50000} value={text}
              onInput={(e) => setText(e.currentTarget.value)} />
            <FormError error={tryError} />
            <div class="row"><button type="submit" class="secondary" data-testid="ww-try">Try</button></div>
            <div role="status" data-testid="ww-verdict">
              {verdict && (
                <>
                  <p>{verdictText(verdict)}</p>
                  {verdict.text !== text && <p class="meta">Stored as: {verdict.text}</p>}
                </>
              )}
            </div>
          </form>
          <div class="card">
            <h2>The list</h2>
            <FormError error={loaded.error} />
            {loaded.value && loaded.value.length === 0 && <p class="muted">No words are watched.</p>}
            {loaded.value && loaded.value.length > 0 && (
              <table>
                <caption class="visually-hidden">Watched words</caption>
                <thead><tr><th scope="col">Pattern</th><th scope="col">Action</th><th scope="col">Changed</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  {loaded.value.map((e) => <Row key={`${e.id}:${e.updated_at}`} entry={e} onChanged={loaded.reload} />)}
                </tbody>
              </table>
            )}
          </div>
        </div>
      )}
    </ModFrame>
  );
}
