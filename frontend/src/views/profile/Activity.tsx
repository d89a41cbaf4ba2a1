// A member's recent threads and posts, newest first. The server returns only what the viewer
// may read, with plain-text excerpts.

import { useEffect, useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { TimeAgo } from "../../components/TimeAgo";

type Item = Schemas["ActivityItem"];

export function Activity({ memberId }: { memberId: number }) {
  const [items, setItems] = useState<Item[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);

  function load(before: number | null): void {
    setLoading(true);
    call(client.GET("/api/members/{member_id}/activity", {
      params: { path: { member_id: memberId }, query: before === null ? {} : { before } },
    })).then((page) => {
      setItems((old) => (before === null ? page.items : [...old, ...page.items]));
      setNext(page.next_cursor ?? null);
      setError(null);
    }, setError).finally(() => setLoading(false));
  }

  useEffect(() => load(null), [memberId]);

  return (
    <section class="card" aria-labelledby="profile-activity">
      <h2 id="profile-activity">Recent activity</h2>
      <FormError error={error} />
      {items.length === 0 && !loading && !error && <p class="muted">Nothing here yet.</p>}
      <ul class="activity-list" data-testid="profile-activity">
        {items.map((item) => (
          <li key={item.post_id} data-testid="activity-item" data-kind={item.kind}>
            <a href={`#/t/${item.thread_id}`}>
              {item.kind === "thread" ? "Started " : "Replied in "}{item.thread_title}
            </a>{" · "}<TimeAgo iso={item.created_at} />
            {item.excerpt && <p class="excerpt">{item.excerpt}</p>}
          </li>
        ))}
      </ul>
      {next !== null && (
        <button type="button" class="btn ghost" disabled={loading} data-testid="activity-more"
          onClick={() => load(next)}>Older activity</button>
      )}
    </section>
  );
}
