// A category's threads, pinned first, a page at a time, and the form to start one.

import { useEffect, useRef, useState } from "preact/hooks";
import { call, client, messageOf, type Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { SignInPrompt, ViewError } from "../../components/ViewError";
import { plural } from "../../components/format";
import type { ViewProps } from "../../app/routes";
import { navigate } from "../../app/router";
import { me, sessionEpoch } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { Handle, LockedTag, PinnedTag } from "./bits";
import { live } from "../../live/live";
import { loadCategories } from "./categories";
import { HELD_NOTICE } from "./held";
import { MarkdownEditor } from "./MarkdownEditor";
import "./forum.css";
import { WatchControl } from "../../components/WatchControl";

type Thread = Schemas["ThreadOut"];
type ThreadPage = Schemas["ThreadPage"];

function ThreadItem({ thread }: { thread: Thread }) {
  const unread = thread.unread_count ?? 0;
  return (
    <li class="card thread-item" data-testid="thread-item" data-thread-id={thread.id}>
      <div class="thread-main">
        <div class="thread-line">
          {thread.pinned && <PinnedTag />}
          {thread.locked && <LockedTag />}
          <a class="thread-title" href={`#/t/${thread.id}`} data-testid="thread-link">{thread.title}</a>
        </div>
        <div class="meta"><Handle handle={thread.author.handle} /> · last activity <TimeAgo iso={thread.last_activity_at} /></div>
      </div>
      <div class="thread-stats">
        <span class="stat" data-testid="thread-post-count" data-count={thread.post_count}>{plural(thread.post_count, "post")}</span>
        {unread > 0 && <span class="unread-badge" data-testid="thread-unread" data-count={unread}>{unread} new</span>}
      </div>
    </li>
  );
}

function NewThreadForm({ categoryId, open, onCancel }: { categoryId: number; open: boolean; onCancel: () => void }) {
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const titleRef = useRef<HTMLInputElement>(null);
  useEffect(() => { if (open) titleRef.current?.focus(); }, [open]);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const created = await call(client.POST("/api/categories/{category_id}/threads", {
        params: { path: { category_id: categoryId } }, body: { title, body },
      }));
      if (created.post.hidden === "held") toast(HELD_NOTICE, "info");
      navigate(`#/t/${created.thread.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <form class="card stack" id="new-thread-form" data-testid="new-thread-form" aria-label="New thread"
      hidden={!open} onSubmit={(e) => void submit(e)}>
      <label for="new-thread-title">Title</label>
      <input id="new-thread-title" name="title" required minLength={3} maxLength={200} ref={titleRef}
        data-testid="new-thread-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      <label for="new-thread-body">First post <small class="muted">(Markdown)</small></label>
      <MarkdownEditor id="new-thread-body" testid="new-thread-body" rows={6} value={body} onValue={setBody} />
      <FormError error={error} />
      <div class="row">
        <button type="submit" data-testid="new-thread-submit" disabled={busy}>Start thread</button>
        <button type="button" class="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** Threads started since the list was drawn, heard live on the category's channel. */
function useNewThreads(categoryId: number, shown: Thread[]) {
  const [started, setStarted] = useState<number[]>([]);
  const [stale, setStale] = useState(false);
  const [liveState, setLiveState] = useState<"waiting" | "subscribed" | "refused">("waiting");
  const shownIds = useRef(new Set<number>());
  shownIds.current = new Set(shown.map((t) => t.id));
  useEffect(() => {
    const sub = live.subscribe(`category:${categoryId}`, {
      onReady: () => setLiveState("subscribed"),
      onMessage: (frame) => {
        if (frame.event !== "thread.created") return;
        const threadId = Number((frame.data as { thread_id?: unknown }).thread_id);
        if (shownIds.current.has(threadId)) return;
        setStarted((ids) => (ids.includes(threadId) ? ids : [...ids, threadId]));
      },
      // Too much was missed to count: say the list may be behind.
      onRefetch: () => setStale(true),
      onError: () => setLiveState("refused"),
    });
    return () => sub.close();
  }, [categoryId]);
  const reset = () => {
    setStarted([]);
    setStale(false);
  };
  return { started, stale, liveState, reset };
}

function ThreadList({ categoryId, first }: { categoryId: number; first: ThreadPage }) {
  const [threads, setThreads] = useState<Thread[]>(first.items);
  const [cursor, setCursor] = useState<string | null>(first.next_cursor);
  const [busy, setBusy] = useState(false);
  const fresh = useNewThreads(categoryId, threads);
  const list = useRef<HTMLUListElement>(null);

  async function load(from: string | null): Promise<void> {
    setBusy(true);
    try {
      const page = await call(client.GET("/api/categories/{category_id}/threads", {
        params: { path: { category_id: categoryId }, query: from === null ? {} : { cursor: from } },
      }));
      if (from === null) {
        setThreads(page.items);
        fresh.reset();
        // The bar and its button go: keep the keyboard at the top of the new list.
        setTimeout(() => list.current?.querySelector<HTMLAnchorElement>("[data-testid=thread-link]")?.focus());
      } else {
        setThreads((old) => [...old, ...page.items.filter((t) => !old.some((o) => o.id === t.id))]);
      }
      setCursor(page.next_cursor);
    } catch (err) {
      toast(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const count = fresh.started.length;
  const news = count > 0 ? `${plural(count, "new thread")}` : fresh.stale ? "New threads may have started" : "";
  return (
    <div class="threads" data-testid="category-threads" data-live={fresh.liveState}>
      <div class="new-threads" aria-live="polite">
        {news && (
          <div class="new-threads-bar" data-testid="new-threads-bar" data-count={count}>
            <span data-testid="new-threads-text">{news}</span>
            {" — "}
            <button type="button" class="link-button" data-testid="new-threads-show" disabled={busy}
              onClick={() => void load(null)}>show</button>
          </div>
        )}
      </div>
      <ul class="thread-list" data-testid="thread-list" ref={list}>
        {threads.map((thread) => <ThreadItem key={thread.id} thread={thread} />)}
      </ul>
      {threads.length === 0 && <p class="muted card" data-testid="thread-list-empty">No threads yet.</p>}
      {cursor !== null && (
        <button type="button" class="secondary load-more" data-testid="load-more-threads" disabled={busy}
          onClick={() => void load(cursor)}>Load more</button>
      )}
    </div>
  );
}

export function CategoryView({ params }: ViewProps) {
  const id = Number(params.id);
  const epoch = useStore(sessionEpoch);
  const member = useStore(me);
  const [composing, setComposing] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const loaded = useAsync(() => Promise.all([
    loadCategories(),
    call(client.GET("/api/categories/{category_id}/threads", { params: { path: { category_id: id } } })),
  ]), [id, epoch]);
  if (loaded.error) return <ViewError error={loaded.error} signedIn={member !== null} />;
  if (!loaded.value) return <p class="muted">Loading…</p>;
  const [categories, first] = loaded.value;
  const category = categories.find((c) => c.id === id);
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Categories</a> / </nav>
      <div class="view-head">
        <div>
          <PageTitle title={category?.name ?? `Category ${id}`} testid="category-title" />
          {category?.description && <p class="muted">{category.description}</p>}
        </div>
        {member && <WatchControl target={{ category: id }} known={category?.watch_level} />}
        {member && (
          <button type="button" data-testid="new-thread-toggle" ref={toggle} aria-expanded={composing}
            aria-controls="new-thread-form" onClick={() => setComposing(!composing)}>New thread</button>
        )}
      </div>
      {member
        ? <NewThreadForm categoryId={id} open={composing}
            onCancel={() => { setComposing(false); toggle.current?.focus(); }} />
        : <SignInPrompt text="to start a thread." />}
      <ThreadList key={`${id}:${epoch}`} categoryId={id} first={first} />
    </>
  );
}
