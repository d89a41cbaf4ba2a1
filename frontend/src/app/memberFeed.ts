// The signed-in member's own channel, `user:<id>`: their notifications and their points
// balance, kept live. The channel has one subscription, owned here; views that want its frames
// (points, badges, challenges) listen with followMe().

import { ApiError, call, client, type Schemas } from "../api/client";
import { live, type Frame, type Subscription } from "../live/live";
import { me, points } from "./session";
import { Store } from "./store";

export type Notification = Schemas["NotificationOut"];

export interface NotificationState {
  unread: number;
  items: Notification[] | null; // newest first, once loaded
}

export const notifications = new Store<NotificationState>({ unread: 0, items: null });

type Listener = (frame: Frame) => void;
const listeners = new Set<Listener>();
let sub: Subscription | null = null;
let following: number | null = null;
// Live notifications seen while a fetch is in flight: the fetch's answer may predate them.
const collectors = new Set<Map<number, Notification>>();

/** Frames from the member's channel; {event: "refetch"} when they may have missed some. */
export function followMe(listener: Listener): () => void {
  listeners.add(listener);
  return () => { listeners.delete(listener); };
}

function tell(frame: Frame): void {
  for (const listener of [...listeners]) {
    try { listener(frame); } catch (err) { console.error(err); }
  }
}

/** A fetched page merged with what arrived live while it was on its way. */
export function mergeFetched(
  page: Schemas["NotificationPage"], seenDuring: Iterable<Notification>,
): NotificationState {
  const fetched = new Set(page.items.map((n) => n.id));
  const newer = [...seenDuring].filter((n) => !fetched.has(n.id)).sort((a, b) => b.id - a.id);
  return {
    items: [...newer, ...page.items],
    unread: page.unread_count + newer.filter((n) => !n.read).length,
  };
}

/** A notification pushed live added to what is shown (once, whatever the replays). */
export function addLive(state: NotificationState, item: Notification): NotificationState {
  if (state.items?.some((n) => n.id === item.id)) return state;
  return {
    items: state.items === null ? null : [item, ...state.items],
    unread: state.unread + (item.read ? 0 : 1),
  };
}

export async function refreshNotifications(): Promise<void> {
  const mine = following;
  if (mine === null) return;
  const seenDuring = new Map<number, Notification>();
  collectors.add(seenDuring);
  let page: Schemas["NotificationPage"];
  try {
    page = await call(client.GET("/api/notifications"));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn("notifications", err);
    return;
  } finally {
    collectors.delete(seenDuring);
  }
  if (following !== mine) return;
  notifications.set(mergeFetched(page, seenDuring.values()));
}

export async function markAllRead(): Promise<void> {
  const page = await call(client.POST("/api/notifications/read"));
  notifications.set({ items: page.items, unread: page.unread_count });
}

async function refreshPoints(): Promise<void> {
  const mine = following;
  if (mine === null) return;
  try {
    const out = await call(client.GET("/api/me/points"));
    if (following === mine) points.set(out.balance);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn("points", err);
  }
}

function onFrame(frame: Frame): void {
  if (frame.event === "notification") {
    const item = frame.data as Notification;
    for (const collect of collectors) collect.set(item.id, item);
    notifications.set(addLive(notifications.value, item));
  }
  if (frame.event === "points.posted") {
    const balance = (frame.data as { balance?: unknown } | undefined)?.balance;
    if (typeof balance === "number") points.set(balance);
  }
  tell(frame);
}

/** Follow the channel of whoever is signed in now (nobody: follow nothing). */
export function followMember(memberId: number | null): void {
  if (memberId === following) return;
  sub?.close();
  sub = null;
  following = memberId;
  notifications.set({ unread: 0, items: null });
  if (memberId === null) return;
  const refetch = () => {
    void refreshNotifications();
    void refreshPoints();
    tell({ type: "message", event: "refetch" });
  };
  sub = live.subscribe(`user:${memberId}`, {
    onReady: ({ fresh }) => { if (fresh) refetch(); },
    onRefetch: refetch,
    onMessage: onFrame,
  });
  void refreshNotifications();
  void refreshPoints();
}

/** Keeps the feed on whoever is signed in, from boot on. */
export function startMemberFeed(): void {
  followMember(me.value?.id ?? null);
  me.subscribe((member) => followMember(member?.id ?? null));
}
