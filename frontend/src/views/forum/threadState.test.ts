import { describe, expect, it } from "vitest";
import { canReply, initialState, reduce, type Post, type PostPage, type Thread, type ThreadState, type Viewer } from "./threadState";

const ANA = { id: 1, handle: "ana", display_name: "Ana" };
const BEN = { id: 2, handle: "ben", display_name: "Ben" };

const thread = (over: Partial<Thread> = {}): Thread => ({
  id: 10, category_id: 3, title: "Brew", author: ANA, pinned: false, locked: false,
  created_at: "2026-01-01T00:00:00Z", last_activity_at: "2026-01-01T00:00:00Z",
  post_count: 2, highest_post_number: 2, helpful_post_id: null, unread_count: 0, ...over,
});

const post = (id: number, n: number, author = ANA, over: Partial<Post> = {}): Post => ({
  id, thread_id: 10, post_number: n, author, reply_to_post_id: null, raw: `post ${n}`, html: `<p>post ${n}</p>`,
  revision: 1, created_at: "2026-01-01T00:00:00Z", edited_at: null, reactions: {}, my_reactions: [], ...over,
});

const viewer = (over: Partial<Viewer> = {}): Viewer => ({
  member_id: ANA.id, last_read_post_number: 2, can_reply: true, can_moderate: false,
  editable_post_ids: [], deletable_post_ids: [], bookmarked_post_ids: [], watch_level: "normal",
  watch_source: "default", ...over,
});

const page = (items: Post[], over: Partial<PostPage> = {}): PostPage => ({
  thread: thread({ post_count: items.length, highest_post_number: items.length }), items, next_cursor: null,
  viewer: viewer({ editable_post_ids: items.filter((p) => p.author.id === ANA.id).map((p) => p.id),
    deletable_post_ids: items.filter((p) => p.author.id === ANA.id).map((p) => p.id) }),
  ...over,
});

const loaded = (): ThreadState => reduce(initialState, { type: "page", page: page([post(1, 1), post(2, 2, BEN)]) }, ANA.id);

describe("a thread's state", () => {
  it("takes what the viewer may do with each post from the page", () => {
    const state = loaded();
    expect(state.entries.map((e) => [e.canEdit, e.canDelete])).toEqual([[true, true], [false, false]]);
    expect(canReply(state)).toBe(true);
  });

  it("adds a live post once, in post-number order, counting it once", () => {
    let state = loaded();
    const frame = { type: "live", event: "post.created", data: post(3, 3, BEN) } as const;
    state = reduce(state, frame, ANA.id);
    state = reduce(state, frame, ANA.id);
    expect(state.entries.map((e) => e.post.post_number)).toEqual([1, 2, 3]);
    expect(state.thread?.post_count).toBe(3);
  });

  it("leaves a live post to a later page while there are more to load", () => {
    const state = reduce(initialState, { type: "page", page: page([post(1, 1)], { next_cursor: 1 }) }, ANA.id);
    expect(reduce(state, { type: "live", event: "post.created", data: post(9, 9, BEN) }, ANA.id).entries).toHaveLength(1);
  });

  it("drops a post hidden live for other readers, and marks it for its author", () => {
    const hidden = { type: "live", event: "post.hidden", data: { post_id: 2, reason: "flags" } } as const;
    expect(reduce(loaded(), hidden, ANA.id).entries.map((e) => e.post.id)).toEqual([1]);
    const asBen = reduce(initialState, { type: "page", page: page([post(1, 1), post(2, 2, BEN)]) }, BEN.id);
    const marked = reduce(asBen, hidden, BEN.id);
    expect(marked.entries.map((e) => e.post.hidden ?? null)).toEqual([null, "flags"]);
    const back = reduce(marked, { type: "live", event: "post.restored", data: post(2, 2, BEN) }, BEN.id);
    expect(back.entries.map((e) => e.post.hidden ?? null)).toEqual([null, null]);
  });

  it("derives rights for a live post of the viewer's own", () => {
    const state = reduce(loaded(), { type: "live", event: "post.created", data: post(3, 3) }, ANA.id);
    expect(state.entries[2]).toMatchObject({ canEdit: true, canDelete: true });
  });

  it("keeps the reader's own reactions when a live edit arrives", () => {
    let state = reduce(loaded(), { type: "reactions", postId: 2, reactions: { like: 1 }, mine: ["like"] }, ANA.id);
    state = reduce(state, { type: "live", event: "post.edited", data: post(2, 2, BEN, { raw: "new", reactions: { like: 1 } }) }, ANA.id);
    expect(state.entries[1]?.post).toMatchObject({ raw: "new", my_reactions: ["like"] });
  });

  it("follows live reactions, and the reader's own from another tab", () => {
    let state = reduce(loaded(), { type: "live", event: "reaction.added",
      data: { post_id: 2, kind: "love", member_id: ANA.id, reactions: { love: 1 } } }, ANA.id);
    expect(state.entries[1]?.post).toMatchObject({ reactions: { love: 1 }, my_reactions: ["love"] });
    state = reduce(state, { type: "live", event: "reaction.removed",
      data: { post_id: 2, kind: "love", member_id: BEN.id, reactions: {} } }, ANA.id);
    expect(state.entries[1]?.post).toMatchObject({ reactions: {}, my_reactions: ["love"] });
  });

  it("removes a deleted post and its helpful mark; the first post takes the thread with it", () => {
    let state = reduce(loaded(), { type: "live", event: "post.marked_helpful", data: { post_id: 2, helpful: true } }, ANA.id);
    expect(state.thread?.helpful_post_id).toBe(2);
    state = reduce(state, { type: "live", event: "post.deleted", data: { post_id: 2 } }, ANA.id);
    expect(state.entries).toHaveLength(1);
    expect(state.thread).toMatchObject({ post_count: 1, helpful_post_id: null });
    expect(state.gone).toBe(false);
    state = reduce(state, { type: "live", event: "post.deleted", data: { post_id: 1 } }, ANA.id);
    expect(state.gone).toBe(true);
  });

  it("closes the thread to a member when it is locked live, not to a moderator", () => {
    const locked = reduce(loaded(), { type: "thread", thread: thread({ locked: true }) }, ANA.id);
    expect(canReply(locked)).toBe(false);
    expect(locked.entries[0]).toMatchObject({ canEdit: false, canDelete: true });
    const asModerator = reduce(initialState, { type: "page", page: page([post(1, 1)], { viewer: viewer({ can_moderate: true }) }) }, ANA.id);
    expect(canReply(reduce(asModerator, { type: "thread", thread: thread({ locked: true }) }, ANA.id))).toBe(true);
  });
});
