// The categories, fetched once and shared by the pages that name them (crumbs, titles).

import { call, client, type Schemas } from "../../api/client";
import { sessionEpoch, type Member } from "../../app/session";

export type Category = Schemas["CategoryOut"];

/** Whether the member moderates the category's threads, as the server decides it
 * (server.auth Actor.moderates): moderators and admins every category, brand staff only
 * their own brand's. */
export function moderates(member: Member | null, category: Category): boolean {
  if (member === null) return false;
  if (member.role === "moderator" || member.role === "admin") return true;
  return member.role === "brand_staff" && category.brand_id !== null && category.brand_id === member.brand_id;
}

let cached: { epoch: number; list: Promise<Category[]> } | null = null;

/** Who is signed in decides which categories there are: the cache is per session. */
export function loadCategories(force = false): Promise<Category[]> {
  if (force || cached === null || cached.epoch !== sessionEpoch.value) {
    const list = call(client.GET("/api/categories"));
    cached = { epoch: sessionEpoch.value, list };
    list.catch(() => { if (cached?.list === list) cached = null; });
  }
  return cached.list;
}
