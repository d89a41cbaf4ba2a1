// A thread page's state and every change to it (pages loaded, the reader's own writes, live
// frames), as a pure reducer so the merging rules are unit-tested.

import type { Schemas } from "../../api/client";

export type Post = Schemas["PostOut"];
export type Thread = Schemas["ThreadOut"];
export type PostPage = Schemas["PostPage"];
export type Viewer = Schemas["Viewer"];

export interface Entry {
  post: Post;
  canEdit: boolean;
  canDelete: boolean;
}

export interface ThreadState {
  thread: Thread | null;
  entries: Entry[]; // by post number
  /** The post number to page on from; null once the last page is loaded. */
  nextCursor: number | null;
  /** The highest post number a page from the API has returned. */
  restLast: number;
  viewer: Viewer | null;
  gone: boolean;
}

export const initialState: ThreadState = {
  thread: null, entries: [], nextCursor: null, restLast: 0, viewer: null, gone: false,
};

export type Action =
  | { type: "page"; page: PostPage; replace?: boolean }
  | { type: "posted"; post: Post } // the reader's own reply
  | { type: "edited"; post: Post } // the reader's own edit
  | { type: "removed"; postId: number } // the reader's own delete
  | { type: "reactions"; postId: number; reactions: Record<string, number>; mine: string[] }
  | { type: "thread"; thread: Thread }
  | { type: "gone" }
  | { type: "live"; event: string; data: unknown };

/** Whether the viewer may reply: the server says so for the page it served; a lock seen live
 *  since then closes the thread to all but moderators. */
export function canReply(state: ThreadState): boolean {
  const { viewer, thread } = state;
  if (!viewer || !thread || state.gone) return false;
  return viewer.can_moderate || (viewer.can_reply && !thread.locked);
}

/** Whether the viewer may mark the helpful reply: the thread's author or a moderator. */
export function canMarkHelpful(state: ThreadState): boolean {
  const { viewer, thread } = state;
  return viewer !== null && thread !== null && !state.gone
    && (viewer.can_moderate || viewer.member_id === thread.author.id);
}

/** What the viewer may do with a post that came without the server's word on it (it arrived
 *  live): the same rule the server applies to the posts of a page. */
function derived(state: ThreadState, post: Post): Pick<Entry, "canEdit" | "canDelete"> {
  const viewer = state.viewer;
  if (!viewer) return { canEdit: false, canDelete: false };
  const own = post.author.id === viewer.member_id;
  return {
    canEdit: viewer.can_moderate || (own && canReply(state)),
    canDelete: viewer.can_moderate || own,
  };
}

function insert(entries: Entry[], entry: Entry): Entry[] {
  const at = entries.findIndex((e) => e.post.id === entry.post.id);
  if (at >= 0) {
    const copy = entries.slice();
    copy[at] = entry;
    return copy;
  }
  const before = entries.findIndex((e) => e.post.post_number > entry.post.post_number);
  if (before < 0) return [...entries, entry];
  return [...entries.slice(0, before), entry, ...entries.slice(before)];
}

function withPage(state: ThreadState, page: PostPage, replace: boolean): ThreadState {
  const viewer = page.viewer ?? null;
  const editable = new Set(viewer?.editable_post_ids ?? []);
  const deletable = new Set(viewer?.deletable_post_ids ?? []);
  let entries = replace ? [] : state.entries;
  for (const post of page.items) {
    entries = insert(entries, { post, canEdit: editable.has(post.id), canDelete: deletable.has(post.id) });
  }
  const last = page.items[page.items.length - 1]?.post_number ?? 0;
  const next: ThreadState = {
    ...state,
    thread: page.thread,
    viewer,
    entries,
    nextCursor: page.next_cursor,
    restLast: replace ? last : Math.max(state.restLast, last),
  };
  // A lock or unlock changes what the viewer may do with the posts shown from earlier pages.
  const rulesChanged = state.thread?.locked !== page.thread.locked
    || state.viewer?.can_reply !== viewer?.can_reply || state.viewer?.can_moderate !== viewer?.can_moderate;
  if (!replace && rulesChanged) {
    const onPage = new Set(page.items.map((p) => p.id));
    next.entries = next.entries.map((e) => (onPage.has(e.post.id) ? e : { ...e, ...derived(next, e.post) }));
  }
  return next;
}

function removed(state: ThreadState, postId: number): ThreadState {
  const entry = state.entries.find((e) => e.post.id === postId);
  if (!entry) return state;
  const thread = state.thread && {
    ...state.thread,
    post_count: Math.max(0, state.thread.post_count - 1),
    helpful_post_id: state.thread.helpful_post_id === postId ? null : state.thread.helpful_post_id,
  };
  return {
    ...state,
    thread,
    entries: state.entries.filter((e) => e.post.id !== postId),
    gone: state.gone || entry.post.post_number === 1,
  };
}

function added(state: ThreadState, post: Post, fromLive: boolean): ThreadState {
  const existing = state.entries.find((e) => e.post.id === post.id);
  // Live payloads are rendered for no one in particular: keep this reader's own reactions.
  const mine = existing?.post.my_reactions ?? (fromLive ? [] : post.my_reactions);
  const merged = { ...post, my_reactions: fromLive ? mine : post.my_reactions };
  const rights = existing ? { canEdit: existing.canEdit, canDelete: existing.canDelete } : derived(state, post);
  let thread = state.thread;
  if (!existing && thread) {
    thread = {
      ...thread,
      post_count: thread.post_count + 1,
      highest_post_number: Math.max(thread.highest_post_number, post.post_number),
    };
  }
  return { ...state, thread, entries: insert(state.entries, { post: merged, ...rights }) };
}

function live(state: ThreadState, event: string, data: unknown, meId: number | null): ThreadState {
  const d = (data ?? {}) as Record<string, unknown>;
  switch (event) {
    case "post.created":
      // Not at the end yet: it will come with a later page.
      if (state.nextCursor !== null) return state;
      return added(state, data as Post, true);
    case "post.edited": {
      const post = data as Post;
      if (!state.entries.some((e) => e.post.id === post.id)) return state;
      return added(state, post, true);
    }
    case "post.deleted":
      return removed(state, Number(d.post_id));
    case "post.hidden": {
      // Its author and moderators keep seeing it, marked; for everyone else it is gone.
      const postId = Number(d.post_id);
      const entry = state.entries.find((e) => e.post.id === postId);
      if (!entry) return state;
      if (entry.post.author.id !== meId && !state.viewer?.can_moderate) return removed(state, postId);
      return {
        ...state,
        entries: state.entries.map((e) => (e.post.id === postId
          ? { ...e, post: { ...e.post, hidden: String(d.reason) } } : e)),
      };
    }
    case "post.restored": {
      // In view again: unmarked where it was shown marked, or shown where it belongs.
      const post = data as Post;
      if (state.nextCursor !== null && !state.entries.some((e) => e.post.id === post.id)) return state;
      return added(state, post, true);
    }
    case "reaction.added":
    case "reaction.removed": {
      const postId = Number(d.post_id);
      const entry = state.entries.find((e) => e.post.id === postId);
      if (!entry) return state;
      let mine = entry.post.my_reactions;
      if (meId !== null && d.member_id === meId) {
        const kind = String(d.kind);
        mine = event === "reaction.added" ? [...new Set([...mine, kind])].sort() : mine.filter((k) => k !== kind);
      }
      const reactions = (d.reactions ?? {}) as Record<string, number>;
      return reduce(state, { type: "reactions", postId, reactions, mine });
    }
    case "post.marked_helpful":
    case "post.unmarked_helpful": {
      if (!state.thread) return state;
      const postId = Number(d.post_id);
      const helpful = event === "post.marked_helpful";
      if (!helpful && state.thread.helpful_post_id !== postId) return state;
      return { ...state, thread: { ...state.thread, helpful_post_id: helpful ? postId : null } };
    }
    case "thread.updated":
      return reduce(state, { type: "thread", thread: data as Thread });
    default:
      return state;
  }
}

export function reduce(state: ThreadState, action: Action, meId: number | null = null): ThreadState {
  if (state.gone && action.type !== "page") return state;
  switch (action.type) {
    case "page":
      return withPage(state, action.page, action.replace ?? false);
    case "posted":
      return added(state, action.post, false);
    case "edited":
      return added(state, action.post, false);
    case "removed":
      return removed(state, action.postId);
    case "reactions":
      return {
        ...state,
        entries: state.entries.map((e) => (e.post.id === action.postId
          ? { ...e, post: { ...e.post, reactions: action.reactions, my_reactions: action.mine } } : e)),
      };
    case "thread": {
      if (!state.thread) return state;
      // The live payload is no one's in particular: keep this reader's unread count.
      const thread = { ...action.thread, unread_count: state.thread.unread_count };
      const next = { ...state, thread };
      if (state.thread.locked === thread.locked) return next;
      return { ...next, entries: next.entries.map((e) => ({ ...e, ...derived(next, e.post) })) };
    }
    case "gone":
      return { ...state, gone: true };
    case "live":
      return live(state, action.event, action.data, meId);
  }
}
