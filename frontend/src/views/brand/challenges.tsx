// Challenges: the brand's list, the editor (tasks with a condition helper, preview, publish,
// cancel, delete a draft) and, once published, every entry's progress, live.

import { useEffect, useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { navigate } from "../../app/router";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { absoluteTime, plural } from "../../components/format";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { live } from "../../live/live";
import { ConditionField, EventTypeChecks } from "./ConditionField";
import type { Brand } from "./Frame";
import {
  challengeBody, emptyChallenge, emptyTask, formOf, type ChallengeForm, type EventType, type TaskForm,
} from "./model";

type Challenge = Schemas["ChallengeOut"];

const EDITABLE = ["draft", "scheduled"];

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`} data-testid="challenge-status">{status}</span>;
}

export function ChallengeList({ brand }: { brand: Brand }) {
  const list = useAsync(() => call(client.GET("/api/challenges")), [brand.id]);
  const mine = (list.value ?? []).filter((c) => c.brand_id === brand.id);
  return (
    <section class="card" aria-labelledby="challenges-h">
      <div class="view-head">
        <h2 id="challenges-h">{brand.name}'s challenges</h2>
        <a class="button small" href="#/brand/challenges/new" data-testid="new-challenge">New challenge</a>
      </div>
      <FormError error={list.error} />
      {list.loading && !list.value ? <p class="muted">Loading…</p>
        : mine.length === 0 ? <p class="muted" data-testid="table-empty">No challenges yet.</p> : (
          <table data-testid="challenge-table">
            <caption class="visually-hidden">Challenges</caption>
            <thead><tr><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Starts</th>
              <th scope="col">Ends</th><th scope="col">Tasks</th></tr></thead>
            <tbody>
              {mine.map((c) => (
                <tr key={c.id} data-testid="table-row">
                  <td><a href={`#/brand/challenges/${c.id}`}>{c.title}</a></td>
                  <td><Status status={c.status} /></td>
                  <td>{absoluteTime(new Date(c.starts_at))}</td>
                  <td>{absoluteTime(new Date(c.ends_at))}</td>
                  <td>{c.tasks.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}

function TaskFields({ index, task, types, onChange, onRemove }: {
  index: number;
  task: TaskForm;
  types: readonly EventType[];
  onChange: (task: TaskForm) => void;
  onRemove: (() => void) | null;
}) {
  const id = `task-${index}`;
  return (
    <fieldset class="stack" data-testid="task">
      <legend>Task {index + 1}</legend>
      <div class="grid2">
        <label>Name
          <input value={task.name} data-testid="task-name" maxLength={120} required
            onInput={(e) => onChange({ ...task, name: (e.target as HTMLInputElement).value })} />
        </label>
        <label>Times to do it
          <input type="number" min={1} max={100000} value={task.target} data-testid="task-target" required
            onInput={(e) => onChange({ ...task, target: (e.target as HTMLInputElement).value })} />
        </label>
      </div>
      <EventTypeChecks types={types} chosen={task.eventTypes} legend="Counts these events"
        testid="task-events" onChange={(eventTypes) => onChange({ ...task, eventTypes })} />
      <ConditionField id={`${id}-condition`} label="Only when (condition, optional)" value={task.condition}
        types={types} chosen={task.eventTypes} testid="task-condition"
        onInput={(condition) => onChange({ ...task, condition })} />
      {onRemove && (
        <div><button type="button" class="secondary small" onClick={onRemove}>Remove task {index + 1}</button></div>
      )}
    </fieldset>
  );
}

function Preview({ form }: { form: ChallengeForm }) {
  return (
    <section class="card preview" data-testid="challenge-preview" aria-labelledby="preview-h">
      <p class="meta">Preview: what members will see</p>
      <h2 id="preview-h">{form.title || "Untitled challenge"}</h2>
      {form.description && <p>{form.description}</p>}
      <p class="meta">
        {form.startsAt && absoluteTime(new Date(form.startsAt))} – {form.endsAt && absoluteTime(new Date(form.endsAt))}
        {" "}({form.timeZone})
      </p>
      <ol>
        {form.tasks.map((t, i) => <li key={i}>{t.name || "Unnamed task"} — {plural(Number(t.target) || 0, "time")}</li>)}
      </ol>
      {Number(form.rewardPoints) > 0 && <p>Reward: {form.rewardPoints} points</p>}
      {form.ordered && <p class="meta">Tasks are done in order.</p>}
    </section>
  );
}

function Entries({ challenge }: { challenge: Challenge }) {
  const [page, setPage] = useState<Schemas["EntriesPage"] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let current = true;
    let running: Promise<void> | null = null;
    let again = false;
    // One load at a time; a message while loading asks for one more, so bursts coalesce.
    const load = async (): Promise<void> => {
      if (running) { again = true; return running; }
      running = (async () => {
        do {
          again = false;
          try {
            const out = await call(client.GET("/api/challenges/{challenge_id}/entries", {
              params: { path: { challenge_id: challenge.id } },
            }));
            if (current) { setPage(out); setError(null); }
          } catch (err) {
            if (current) setError(err);
          }
        } while (again && current);
        running = null;
      })();
      return running;
    };
    void load();
    const sub = live.subscribe(`challenge:${challenge.id}`, {
      onMessage: (frame) => {
        if (frame.event === "challenge.progress" || frame.event === "challenge.status") void load();
      },
      onRefetch: () => void load(),
    });
    return () => { current = false; sub.close(); };
  }, [challenge.id]);
  return (
    <section class="card" aria-labelledby="entries-h" data-testid="entries">
      <h2 id="entries-h">Entries and progress</h2>
      <FormError error={error} />
      <p aria-live="polite" data-testid="entries-summary">
        {page ? `${plural(page.entered, "member")} entered · ${page.completed} completed` : "Loading…"}
      </p>
      {page && page.items.length > 0 && (
        <table>
          <caption class="visually-hidden">Each entry's progress on the tasks</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              {challenge.tasks.map((t) => <th scope="col" key={t.id}>{t.name}</th>)}
              <th scope="col">Completed</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((e) => (
              <tr key={e.id} data-testid="entry-row" data-handle={e.handle}>
                <th scope="row">@{e.handle}</th>
                {e.tasks.map((t) => (
                  <td key={t.task_id} data-testid="entry-task" class={t.done ? "done" : undefined}>
                    {t.count} / {t.target}
                  </td>
                ))}
                <td data-testid="entry-completed">
                  {e.completed_at ? <><span class="done">Yes</span> (<TimeAgo iso={e.completed_at} />)</> : "Not yet"}
                  {e.reward_pending && <div class="meta">Reward waits for budget</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.next_cursor && <p class="meta">Showing the newest {page.items.length} entries.</p>}
    </section>
  );
}

export function ChallengeEditor({ brand, challengeId }: { brand: Brand; challengeId: number | null }) {
  const types = useAsync(() => call(client.GET("/api/gamification/event-types")), []);
  const loaded = useAsync(async () => (challengeId === null ? null : call(client.GET(
    "/api/challenges/{challenge_id}", { params: { path: { challenge_id: challengeId } } }))), [challengeId]);
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const [form, setForm] = useState<ChallengeForm | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState(false);

  useEffect(() => {
    if (challengeId === null) {
      setForm(emptyChallenge(new Date(), Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"));
    } else if (loaded.value) {
      setChallenge(loaded.value);
      setForm(formOf(loaded.value));
    }
  }, [challengeId, loaded.value]);

  if (loaded.error) return <FormError error={loaded.error} />;
  if (challengeId !== null && challenge && challenge.brand_id !== brand.id) {
    return <p class="notice">This challenge belongs to another brand.</p>;
  }
  if (!form) return <p class="muted">Loading…</p>;
  const editable = challenge === null || EDITABLE.includes(challenge.status);
  const eventTypes = types.value ?? [];
  const setTask = (i: number, task: TaskForm) =>
    setForm({ ...form, tasks: form.tasks.map((t, j) => (j === i ? task : t)) });

  async function act(run: () => Promise<Challenge | null>, done: string): Promise<void> {
    setBusy(true);
    try {
      const out = await run();
      setError(null);
      toast(done, "success");
      if (out === null) { navigate("/brand/challenges"); return; }
      if (challenge === null) { navigate(`/brand/challenges/${out.id}`); return; }
      setChallenge(out);
      setForm(formOf(out));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function save(event: Event): Promise<void> {
    event.preventDefault();
    const ok = await confirmAction({
      title: challenge ? "Save changes?" : "Create this challenge?",
      message: challenge ? `“${form!.title}” will be rewritten, its tasks too.`
        : `“${form!.title}” is saved as a draft: members see it once you publish it.`,
      confirmLabel: challenge ? "Save" : "Create draft",
    });
    if (!ok) return;
    const body = challengeBody(brand.id, form!, challenge ?? undefined);
    await act(() => (challenge
      ? call(client.PUT("/api/challenges/{challenge_id}", { params: { path: { challenge_id: challenge.id } }, body }))
      : call(client.POST("/api/challenges", { body }))), challenge ? "Challenge saved." : "Draft created.");
  }

  async function publish(): Promise<void> {
    if (!challenge) return;
    const starts = new Date(challenge.starts_at);
    const ok = await confirmAction({
      title: "Publish this challenge?",
      message: starts > new Date()
        ? `Members will see it now; it starts ${absoluteTime(starts)}.`
        : "Members will see it and it starts at once.",
      confirmLabel: "Publish",
    });
    if (!ok) return;
    await act(() => call(client.POST("/api/challenges/{challenge_id}/publish", {
      params: { path: { challenge_id: challenge.id } } })), "Challenge published.");
  }

  async function cancel(): Promise<void> {
    if (!challenge) return;
    const ok = await confirmAction({
      title: "Cancel this challenge?", danger: true, confirmLabel: "Cancel challenge",
      message: "Members can no longer join or progress. Completions and rewards already made stand. This cannot be undone.",
    });
    if (!ok) return;
    await act(() => call(client.POST("/api/challenges/{challenge_id}/cancel", {
      params: { path: { challenge_id: challenge.id } } })), "Challenge cancelled.");
  }

  async function remove(): Promise<void> {
    if (!challenge) return;
    const ok = await confirmAction({
      title: "Delete this draft?", danger: true, confirmLabel: "Delete draft",
      message: `“${challenge.title}” and its tasks are deleted.`,
    });
    if (!ok) return;
    await act(async () => {
      await call(client.DELETE("/api/challenges/{challenge_id}", { params: { path: { challenge_id: challenge.id } } }));
      return null;
    }, "Draft deleted.");
  }

  return (
    <>
      <p class="crumbs"><a href="#/brand/challenges">← Challenges</a></p>
      {challenge && (
        <div class="actions-row" data-testid="challenge-actions">
          <Status status={challenge.status} />
          {challenge.status === "draft" && (
            <>
              <button type="button" data-testid="challenge-publish" disabled={busy} onClick={() => void publish()}>Publish</button>
              <button type="button" class="secondary" data-testid="challenge-delete" disabled={busy}
                onClick={() => void remove()}>Delete draft</button>
            </>
          )}
          {(challenge.status === "scheduled" || challenge.status === "active") && (
            <button type="button" class="danger" data-testid="challenge-cancel" disabled={busy}
              onClick={() => void cancel()}>Cancel challenge</button>
          )}
        </div>
      )}
      <FormError error={error} />
      {/* Once it runs, following it matters more than its (now fixed) definition. */}
      {challenge && !editable && <Entries challenge={challenge} />}
      <form class="card stack" data-testid="challenge-form" onSubmit={(e) => void save(e)} noValidate>
        {!editable && <p class="notice">The challenge is {challenge?.status}: it can no longer be changed.</p>}
        <fieldset class="stack" disabled={!editable || busy}>
          <legend>Challenge</legend>
          <label for="ch-title">Title</label>
          <input id="ch-title" data-testid="challenge-title" value={form.title} maxLength={120} required
            onInput={(e) => setForm({ ...form, title: (e.target as HTMLInputElement).value })} />
          <label for="ch-description">Description</label>
          <textarea id="ch-description" data-testid="challenge-description" value={form.description} maxLength={5000}
            onInput={(e) => setForm({ ...form, description: (e.target as HTMLTextAreaElement).value })} />
          <div class="grid2">
            <label>Starts (your time)
              <input type="datetime-local" data-testid="challenge-starts" value={form.startsAt} required
                onInput={(e) => setForm({ ...form, startsAt: (e.target as HTMLInputElement).value })} />
            </label>
            <label>Ends (your time)
              <input type="datetime-local" data-testid="challenge-ends" value={form.endsAt} required
                onInput={(e) => setForm({ ...form, endsAt: (e.target as HTMLInputElement).value })} />
            </label>
            <label>Time zone members see
              <input data-testid="challenge-zone" value={form.timeZone} maxLength={64}
                onInput={(e) => setForm({ ...form, timeZone: (e.target as HTMLInputElement).value })} />
            </label>
            <label>Reward points (from the budget)
              <input type="number" min={0} data-testid="challenge-reward" value={form.rewardPoints}
                onInput={(e) => setForm({ ...form, rewardPoints: (e.target as HTMLInputElement).value })} />
            </label>
          </div>
          <div>
            <label class="check"><input type="checkbox" checked={form.ordered}
              onChange={(e) => setForm({ ...form, ordered: (e.target as HTMLInputElement).checked })} />
              Tasks in order</label>
            <label class="check"><input type="checkbox" checked={form.autoEnroll}
              onChange={(e) => setForm({ ...form, autoEnroll: (e.target as HTMLInputElement).checked })} />
              Enter every eligible member automatically</label>
          </div>
        </fieldset>
        <FormError error={types.error} />
        <fieldset class="stack" disabled={!editable || busy}>
          <legend>Tasks</legend>
          {form.tasks.map((task, i) => (
            <TaskFields key={i} index={i} task={task} types={eventTypes} onChange={(t) => setTask(i, t)}
              onRemove={form.tasks.length > 1 ? () => setForm({ ...form, tasks: form.tasks.filter((_, j) => j !== i) }) : null} />
          ))}
          <div>
            <button type="button" class="secondary small" data-testid="add-task" disabled={form.tasks.length >= 20}
              onClick={() => setForm({ ...form, tasks: [...form.tasks, emptyTask()] })}>Add a task</button>
          </div>
        </fieldset>
        <div class="actions-row">
          {editable && <button type="submit" data-testid="challenge-save" disabled={busy}>
            {challenge ? "Save changes" : "Create draft"}</button>}
          <button type="button" class="secondary" data-testid="challenge-preview-toggle" aria-expanded={preview}
            onClick={() => setPreview(!preview)}>{preview ? "Hide preview" : "Preview"}</button>
        </div>
      </form>
      {preview && <Preview form={form} />}
      {challenge && editable && challenge.status !== "draft" && <Entries challenge={challenge} />}
    </>
  );
}
