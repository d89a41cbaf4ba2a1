// The categories, fetched once and shared by the pages that name them (crumbs, titles).

import { call, client, type Schemas } from "../../api/client";
import { sessionEpoch } from "../../app/session";

export type Category = Schemas["CategoryOut"];

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
