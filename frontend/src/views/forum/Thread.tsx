// A thread: its posts a page at a time, kept live (new replies, edits, deletions, reactions,
// pins and locks from anyone appear without a reload), and the reply form.
//
// Realtime first, then the page: the subscription is made before the first page is fetched so
// nothing falls between the two; frames that arrive before the page are applied after it.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, client, messageOf } from "../../api/client";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { HELD_NOTICE } from "./held";
import { flagTarget } from "../../components/FlagDialog";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { SignInPrompt, ViewError } from "../../components/ViewError";
import { plural } from "../../components/format";
import { Icon } from "../../components/Icon";
import { live, type Frame } from "../../live/live";
import type { ViewProps } from "../../app/routes";
import { navigate } from "../../app/router";
import { me, sessionEpoch } from "../../app/session";
import { useStore } from "../../app/store";
import { Handle, LockedTag, PinnedTag } from "./bits";
import { appendQuote, quote } from "./markdown";
import { MarkdownEditor } from "./MarkdownEditor";
import { loadCategories, moderates, type Category } from "./categories";
import { PostCard, scrollToPost } from "./PostCard";
import {
  canMarkHelpful, canReply, initialState, reduce, type Action, type Post, type PostPage, type Thread,
  type ThreadState,
} from "./threadState";
import "./forum.css";
import { WatchControl } from "../../components/WatchControl";

const SUBSCRIBE_WAIT_MS = 1500;
const TAIL_SYNC_MS = 1000;

type LiveState = "waiting" | "subscribed" | "refused";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fetchPage(threadId: number, after: number, limit?: number): Promise<PostPage> {
  const query = limit === undefined ? { after } : { after, limit };
  return call(client.GET("/api/threads/{thread_id}", { params: { path: { thread_id: threadId }, query } }));
}

/** Who wrote a live post, said politely to screen readers. */
export function announcement(post: Post): string {
  return `New reply from @${post.author.handle}`;
}

function Composer({ threadId, replyTo, setReplyTo, draft, setDraft, textarea, onPosted }: {
  threadId: number;
  replyTo: Post | null;
  setReplyTo: (post: Post | null) => void;
  draft: string;
  setDraft: (draft: string) => void;
  textarea: { current: HTMLTextAreaElement | null };
  onPosted: (post: Post) => Promise<void>;
}) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [held, setHeld] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setError(null);
    setHeld(false);
    setBusy(true);
    try {
      const post = await call(client.POST("/api/threads/{thread_id}/posts", {
        params: { path: { thread_id: threadId } },
        body: replyTo ? { body: draft, reply_to_post_id: replyTo.id } : { body: draft },
      }));
      setHeld(post.hidden === "held");
      setDraft("");
      setReplyTo(null);
      await onPosted(post);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card stack reply-form" data-testid="reply-form" onSubmit={(e) => void submit(e)}>
      <label for="reply-body">Your reply</label>
      <div class="chip" data-testid="replying-to" hidden={!replyTo}>
        <span class="chip-text">{replyTo && `Replying to @${replyTo.author.handle} #${replyTo.post_number}`}</span>
        <button type="button" class="link-button" data-testid="cancel-reply-to" aria-label="Cancel reply-to"
          onClick={() => { setReplyTo(null); textarea.current?.focus(); }}>✕</button>
      </div>
      <MarkdownEditor id="reply-body" testid="reply-body" textareaRef={textarea} value={draft} onValue={setDraft}
        placeholder="Write a reply… (Markdown; Ctrl+Enter to send)" />
      <FormError error={error} />
      <p class="notice" role="status" data-testid="held-notice" hidden={!held}>{held ? HELD_NOTICE : ""}</p>
      <div class="row"><button type="submit" data-testid="reply-submit" disabled={busy}>Post reply</button></div>
    </form>
  );
}

const DONE: Record<string, string> = { Pin: "pinned", Unpin: "unpinned", Lock: "locked", Unlock: "unlocked" };

/** Pin, lock and move, for those the page says may moderate; each one confirmed, each with
 * the optional reason the staff log keeps. A thread moves only into categories they
 * moderate too. */
function ModTools({ thread, categories, dispatch }: {
  thread: Thread; categories: Category[]; dispatch: (action: Action) => void;
}) {
  const member = useStore(me);
  const [busy, setBusy] = useState(false);
  const [target, setTarget] = useState("");
  const [reason, setReason] = useState("");
  const why = reason.trim() ? { reason: reason.trim() } : {};

  async function change(field: "pinned" | "locked", value: boolean): Promise<void> {
    const verb = field === "pinned" ? (value ? "Pin" : "Unpin") : (value ? "Lock" : "Unlock");
    const ok = await confirmAction({
      title: `${verb} this thread?`,
      message: field === "pinned"
        ? (value ? "It will be listed first in its category." : "It will be listed by its last activity again.")
        : (value ? "Members will no longer be able to reply or edit their posts." : "Members will be able to reply again."),
      confirmLabel: verb,
    });
    if (!ok) return;
    setBusy(true);
    try {
      const updated = await call(client.PATCH("/api/threads/{thread_id}", {
        params: { path: { thread_id: thread.id } }, body: { [field]: value, ...why },
      }));
      dispatch({ type: "thread", thread: updated });
      toast(`Thread ${DONE[verb]}.`, "success");
    } catch (err) {
      toast(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  async function move(event: Event): Promise<void> {
    event.preventDefault();
    const to = categories.find((c) => String(c.id) === target);
    if (!to) return;
    const ok = await confirmAction({
      title: "Move this thread?",
      message: `It will be listed in “${to.name}”, and readable by whoever may read that category.`,
      confirmLabel: "Move",
    });
    if (!ok) return;
    setBusy(true);
    try {
      const updated = await call(client.PATCH("/api/threads/{thread_id}", {
        params: { path: { thread_id: thread.id } }, body: { category_id: to.id, ...why },
      }));
      dispatch({ type: "thread", thread: updated });
      setTarget("");
      setReason("");
      toast(`Thread moved to “${to.name}”.`, "success");
    } catch (err) {
      toast(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const others = categories.filter((c) => c.id !== thread.category_id && moderates(member, c));
  return (
    <div class="mod-tools" role="group" aria-label="Moderation" data-testid="mod-tools">
      <label class="mod-reason">
        <span>Reason</span>
        <input type="text" data-testid="mod-reason" maxLength={500} value={reason}
          placeholder="optional, for the staff log" onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button type="button" class="secondary small" data-testid="mod-pin" disabled={busy}
        onClick={() => void change("pinned", !thread.pinned)}>{thread.pinned ? "Unpin" : "Pin"}</button>
      <button type="button" class="secondary small" data-testid="mod-lock" disabled={busy}
        onClick={() => void change("locked", !thread.locked)}>{thread.locked ? "Unlock" : "Lock"}</button>
      {others.length > 0 && (
        <form class="mod-move" onSubmit={(e) => void move(e)}>
          <label for="mod-move-to">Move to</label>
          <select id="mod-move-to" data-testid="mod-move-to" value={target}
            onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="">Choose a category…</option>
            {others.map((c) => <option key={c.id} value={String(c.id)}>{c.name}</option>)}
          </select>
          <button type="submit" class="secondary small" data-testid="mod-move" disabled={busy || !target}>Move</button>
        </form>
      )}
    </div>
  );
}

function Header({ state, categories, dispatch }: {
  state: ThreadState; categories: Category[]; dispatch: (action: Action) => void;
}) {
  const thread = state.thread;
  if (!thread) return null;
  const category = categories.find((c) => c.id === thread.category_id);
  const helpful = state.entries.find((e) => e.post.id === thread.helpful_post_id);
  return (
    <header class="thread-head">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/">Categories</a> / <a href={`#/c/${thread.category_id}`} data-testid="thread-category">
          {category ? category.name : "Back to threads"}</a>
      </nav>
      <PageTitle title={thread.title} testid="thread-title">
        {thread.pinned && <PinnedTag />}
        {thread.locked && <LockedTag />}
        {thread.title}
      </PageTitle>
      <p class="meta">
        Started by <Handle handle={thread.author.handle} /> <TimeAgo iso={thread.created_at} /> ·{" "}
        <span data-testid="thread-post-total">{plural(thread.post_count, "post")}</span>
        {helpful && (
          <>
            {" · "}
            <a href={`#/t/${thread.id}`} data-testid="thread-helpful-link"
              onClick={(e) => { e.preventDefault(); scrollToPost(helpful.post.post_number); }}>
              Answered: see the helpful reply (#{helpful.post.post_number})
            </a>
          </>
        )}
      </p>
      {state.viewer?.member_id && !state.gone && <WatchControl target={{ thread: thread.id }} known={state.viewer.watch_level} />}
      {state.viewer?.member_id && state.viewer.member_id !== thread.author.id && !state.gone && (
        <button type="button" class="link-button" data-testid="thread-flag"
          onClick={() => flagTarget("thread", thread.id, `the thread '${thread.title}'`)}>Flag thread</button>
      )}
      {state.viewer?.can_moderate && !state.gone && <ModTools thread={thread} categories={categories} dispatch={dispatch} />}
    </header>
  );
}

function ThreadPage({ id }: { id: number }) {
  const member = useStore(me);
  const meId = member?.id ?? null;
  const [state, setState] = useState<ThreadState>(initialState);
  // The state as of now, for the async work below: changes land here synchronously.
  const current = useRef<ThreadState>(initialState);
  // Counts the changes made since load (live frames, the reader's own writes): a page fetched
  // while one landed may predate it (a deleted post, an old count) and is fetched again.
  const changes = useRef(0);
  const dispatch = (action: Action) => {
    if (action.type !== "page") changes.current += 1;
    current.current = reduce(current.current, action, meId);
    setState(current.current);
  };

  async function fetchSettled(after: number, limit?: number): Promise<PostPage> {
    for (let attempt = 1; ; attempt++) {
      const seen = changes.current;
      const page = await fetchPage(id, after, limit);
      if (changes.current === seen || attempt === 3) return page;
    }
  }
  const [liveState, setLiveState] = useState<LiveState>("waiting");
  const [loadError, setLoadError] = useState<unknown>(null);
  const [categories, setCategories] = useState<Category[]>([]);
  const [replyTo, setReplyTo] = useState<Post | null>(null);
  const [draft, setDraft] = useState("");
  const [announced, setAnnounced] = useState("");
  const [loadingMore, setLoadingMore] = useState(false);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const alive = useRef(true);
  const tailTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  async function guarded(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!alive.current) return;
      if (err instanceof ApiError && err.status === 404) dispatch({ type: "gone" });
      else toast(messageOf(err));
    }
  }

  /** Loads pages until the end; returns once everything is shown. */
  async function loadRest(): Promise<void> {
    let cursor = current.current.nextCursor;
    while (cursor !== null && alive.current) {
      const page = await fetchSettled(cursor, 100);
      if (!alive.current) return;
      dispatch({ type: "page", page });
      cursor = page.next_cursor;
    }
  }

  const reload = () => guarded(async () => {
    const shown = current.current.entries.length;
    const page = await fetchSettled(0, Math.min(100, Math.max(20, shown)));
    if (alive.current) dispatch({ type: "page", page, replace: true });
  });

  // What arrived live is fetched through the API too: authoritative, and it marks posts read.
  function scheduleTailSync(): void {
    clearTimeout(tailTimer.current);
    tailTimer.current = setTimeout(() => {
      const now = current.current;
      if (now.nextCursor !== null || now.gone || !alive.current) return;
      void guarded(async () => {
        const page = await fetchSettled(now.restLast, 100);
        if (alive.current) dispatch({ type: "page", page });
      });
    }, TAIL_SYNC_MS);
  }

  function apply(frame: Frame): void {
    const now = current.current;
    if (now.gone || !frame.event) return;
    if (frame.event === "post.created" && now.nextCursor === null) {
      const post = frame.data as Post;
      if (post.author.id !== meId && !now.entries.some((e) => e.post.id === post.id)) {
        setAnnounced(announcement(post));
      }
      scheduleTailSync();
    }
    dispatch({ type: "live", event: frame.event, data: frame.data });
    if (frame.event === "post.deleted") {
      const gone = (frame.data as { post_id?: number }).post_id;
      setReplyTo((target) => (target?.id === gone ? null : target));
    }
    if (frame.event === "thread.updated") {
      // The viewer's rights may have changed with a lock: ask for them again.
      void guarded(async () => {
        const page = await fetchSettled(current.current.nextCursor ?? current.current.restLast, 1);
        if (alive.current) dispatch({ type: "page", page });
      });
    }
  }

  useEffect(() => {
    alive.current = true;
    let loaded = false;
    const pending: Frame[] = [];
    const sub = live.subscribe(`thread:${id}`, {
      onReady: ({ fresh }) => {
        setLiveState("subscribed");
        if (fresh && loaded) void reload(); // the page came before the subscription: close the gap
      },
      onRefetch: () => { void reload(); },
      onMessage: (frame) => {
        if (!loaded) pending.push(frame);
        else apply(frame);
      },
      onError: () => setLiveState("refused"),
    });
    const stopStatus = live.onStatus((status) => {
      if (status !== "live") setLiveState("waiting");
      else if (sub.active) setLiveState("subscribed");
    });
    void (async () => {
      await Promise.race([sub.ready, sleep(SUBSCRIBE_WAIT_MS)]);
      if (!alive.current) return;
      try {
        const page = await fetchPage(id, 0);
        if (!alive.current) return;
        dispatch({ type: "page", page });
        loadCategories().then((list) => { if (alive.current) setCategories(list); }, () => undefined);
      } catch (err) {
        if (alive.current) setLoadError(err);
        return;
      }
      loaded = true;
      for (const frame of pending.splice(0)) apply(frame);
    })();
    return () => {
      alive.current = false;
      sub.close();
      stopStatus();
      clearTimeout(tailTimer.current);
    };
  }, [id]);

  async function posted(post: Post): Promise<void> {
    await loadRest();
    if (!alive.current) return;
    dispatch({ type: "posted", post });
    setTimeout(() => document.getElementById(`post-${post.post_number}`)?.scrollIntoView({ block: "nearest" }));
  }

  function deleted(post: Post): void {
    if (post.post_number === 1) {
      navigate(`#/c/${current.current.thread?.category_id ?? ""}`);
      return;
    }
    dispatch({ type: "removed", postId: post.id });
    setReplyTo((target) => (target?.id === post.id ? null : target));
  }

  function quotePost(post: Post): void {
    setDraft((text) => appendQuote(text, quote(post.author.handle, post.raw)));
    replyToPost(post);
  }

  function replyToPost(post: Post): void {
    setReplyTo(post);
    const area = textarea.current;
    if (area) {
      area.focus();
      area.scrollIntoView({ block: "center" });
    }
  }

  async function more(): Promise<void> {
    const cursor = current.current.nextCursor;
    if (cursor === null) return;
    setLoadingMore(true);
    await guarded(async () => {
      const page = await fetchSettled(cursor);
      if (alive.current) dispatch({ type: "page", page });
    });
    setLoadingMore(false);
  }

  if (loadError) return <ViewError error={loadError} signedIn={member !== null} />;
  const thread = state.thread;
  const byId = new Map(state.entries.map((e) => [e.post.id, e.post]));
  const mayReply = canReply(state);
  const mayMark = canMarkHelpful(state);

  return (
    <div class="thread-view" data-testid="thread-view" data-thread-id={id} data-live={liveState}>
      {!thread ? <p class="muted">Loading…</p> : <Header state={state} categories={categories} dispatch={dispatch} />}
      <p class="notice" data-testid="thread-notice" role="status" hidden={!state.gone}>
        {state.gone ? "This thread was deleted." : ""}
      </p>
      <div class="visually-hidden" aria-live="polite" data-testid="thread-announcer">{announced}</div>
      <div class="post-list" data-testid="post-list">
        {state.entries.map((entry) => (
          <PostCard key={entry.post.id} entry={entry} threadId={id} meId={meId}
            replyTarget={entry.post.reply_to_post_id === null ? undefined : byId.get(entry.post.reply_to_post_id)}
            mayReply={mayReply} mayMarkHelpful={mayMark} mayModerate={state.viewer?.can_moderate ?? false} helpful={thread?.helpful_post_id === entry.post.id}
            dispatch={dispatch} onReply={replyToPost} onQuote={quotePost} onDeleted={deleted} onStale={() => void reload()} />
        ))}
      </div>
      {state.nextCursor !== null && (
        <button type="button" class="secondary load-more" data-testid="load-more-posts" disabled={loadingMore}
          onClick={() => void more()}>Load more posts</button>
      )}
      {thread && !state.gone && (
        <div class="composer">
          {member === null ? <SignInPrompt text="to reply." />
            : !mayReply ? (
              <p class="notice" data-testid="thread-locked-notice">
                <Icon name="lock" /> This thread is locked: it takes no new replies.
              </p>
            ) : (
              <Composer threadId={id} replyTo={replyTo} setReplyTo={setReplyTo} draft={draft} setDraft={setDraft}
                textarea={textarea} onPosted={posted} />
            )}
        </div>
      )}
    </div>
  );
}

export function ThreadView({ params }: ViewProps) {
  // Who is looking decides what the page offers: a sign-in or sign-out starts it afresh.
  const epoch = useStore(sessionEpoch);
  return <ThreadPage key={`${params.id}:${epoch}`} id={Number(params.id)} />;
}
