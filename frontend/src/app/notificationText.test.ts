import { describe, expect, it } from "vitest";
import { addLive, mergeFetched, type Notification, type NotificationState } from "./memberFeed";
import { notificationHref } from "./notificationText";

const note = (id: number, kind: string, data: Record<string, unknown> = {}, read = false): Notification => ({
  id, kind, text: `a ${kind}`, data, read, created_at: "2026-01-01T00:00:00Z",
});

describe("notificationHref", () => {
  it("leads to the thread or the challenge", () => {
    expect(notificationHref(note(1, "reply", { thread_id: 7 }))).toBe("#/t/7");
    expect(notificationHref(note(1, "challenge", { challenge_id: 3 }))).toBe("#/challenges/3");
    expect(notificationHref(note(1, "odd"))).toBe("#/");
  });
});

describe("the notification list", () => {
  it("counts a live notification once, however often it is replayed", () => {
    let state: NotificationState = { unread: 1, items: [note(1, "reply")] };
    state = addLive(state, note(2, "reply"));
    state = addLive(state, note(2, "reply"));
    expect(state.unread).toBe(2);
    expect(state.items?.map((n) => n.id)).toEqual([2, 1]);
  });

  it("keeps what arrived live while a fetch was on its way", () => {
    const page = { items: [note(2, "reply"), note(1, "reply", {}, true)], unread_count: 1, next_cursor: null };
    const merged = mergeFetched(page, [note(2, "reply"), note(3, "reaction"), note(4, "reply", {}, true)]);
    expect(merged.items?.map((n) => n.id)).toEqual([4, 3, 2, 1]);
    expect(merged.unread).toBe(2);
  });
});
