// Where a notification leads (its wording comes from the server: NotificationOut.text).

import type { Notification } from "./memberFeed";

export function notificationHref(item: Notification): string {
  const data = item.data ?? {};
  if (typeof data.thread_id === "number") return `#/t/${data.thread_id}`;
  if (typeof data.challenge_id === "number") return `#/challenges/${data.challenge_id}`;
  if (item.kind === "sanction") return "#/sanctions";
  return "#/";
}
