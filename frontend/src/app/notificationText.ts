// What a notification says and where it leads: pure, so it is unit-tested.

import type { Notification } from "./memberFeed";

const REACTED: Record<string, string> = {
  like: "liked your post",
  love: "loved your post",
  laugh: "laughed at your post",
  insightful: "found your post insightful",
  thanks: "thanked you for your post",
};

const str = (value: unknown): string => (typeof value === "string" ? value : "");

export function notificationText(item: Notification): string {
  const data = item.data ?? {};
  const who = str(data.by_handle) ? `@${str(data.by_handle)}` : "Someone";
  if (item.kind === "reply") return `${who} replied to your post`;
  if (item.kind === "reaction") {
    const kind = str(data.kind);
    return `${who} ${REACTED[kind] ?? `reacted “${kind}” to your post`}`;
  }
  if (item.kind === "mention") return `${who} mentioned you`;
  const reward = Number(data.reward_points ?? 0);
  const points = reward ? `${reward.toLocaleString("en-US")} points` : "";
  if (item.kind === "challenge") {
    const extra = !points ? "" : data.reward_pending ? ` (${points} pending)` : ` (+${points})`;
    return `You completed the challenge “${str(data.title)}”${extra}`;
  }
  if (item.kind === "challenge_reward") return `Your ${points || "reward"} for “${str(data.title)}” arrived`;
  return item.kind.replace(/[_.]/g, " ");
}

export function notificationHref(item: Notification): string {
  const data = item.data ?? {};
  if (typeof data.thread_id === "number") return `#/t/${data.thread_id}`;
  if (typeof data.challenge_id === "number") return `#/challenges/${data.challenge_id}`;
  return "#/";
}
