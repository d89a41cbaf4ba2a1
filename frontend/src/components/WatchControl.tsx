// The member's watch level for a thread or a category: watching (every new post notifies),
// tracking and normal (only replies and mentions notify), muted (nothing does).

import { useEffect, useState } from "preact/hooks";
import { call, client, messageOf } from "../api/client";

const LEVELS = [
  ["watching", "Watching", "You are told about every new post."],
  ["tracking", "Tracking", "You are told when someone replies to you or mentions you."],
  ["normal", "Normal", "You are told when someone replies to you or mentions you."],
  ["muted", "Muted", "You are never told about anything here."],
] as const;

type Target = { thread: number } | { category: number };

async function load(target: Target) {
  return "thread" in target
    ? call(client.GET("/api/threads/{thread_id}/watch", { params: { path: { thread_id: target.thread } } }))
    : call(client.GET("/api/categories/{category_id}/watch", { params: { path: { category_id: target.category } } }));
}

async function save(target: Target, level: string) {
  const body = { level: level as "watching" | "tracking" | "normal" | "muted" };
  return "thread" in target
    ? call(client.PUT("/api/threads/{thread_id}/watch", { params: { path: { thread_id: target.thread } }, body }))
    : call(client.PUT("/api/categories/{category_id}/watch", { params: { path: { category_id: target.category } }, body }));
}

/** `known`: the level the page already has (the thread page's viewer overlay, the category
 *  list); asked for only when the page does not have it. */
export function WatchControl({ target, known }: { target: Target; known?: string | null }) {
  const [level, setLevel] = useState<string | null>(known ?? null);
  const [error, setError] = useState<unknown>(null);
  const key = JSON.stringify(target);
  useEffect(() => {
    if (known) return;
    load(target).then((out) => setLevel(out.level), setError);
  }, [key]);
  const about = LEVELS.find(([value]) => value === level)?.[2] ?? "";
  return (
    <div class="watch-control" data-testid="watch-control" data-level={level ?? undefined}>
      <label>
        <span class="visually-hidden">Notifications for this {"thread" in target ? "thread" : "category"}</span>
        <select value={level ?? ""} disabled={level === null} data-testid="watch-level"
          title={about}
          onChange={(e) => {
            const wanted = e.currentTarget.value;
            save(target, wanted).then((out) => { setLevel(out.level); setError(null); }, setError);
          }}>
          {LEVELS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        </select>
      </label>
      {error !== null && <p class="form-error" role="alert" data-testid="watch-error">{messageOf(error)}</p>}
    </div>
  );
}
