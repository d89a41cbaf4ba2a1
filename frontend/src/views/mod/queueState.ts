// The review queue's list as live messages change it: an item that still matches the filter
// is updated in place (or added, in sort order); one that no longer does (decided, say) leaves.

import type { Schemas } from "../../api/client";

export type Item = Schemas["ItemOut"];

export interface Filters {
  status: string;
  kind: string;
  sort: "score" | "age";
}

export const ACTION_LABELS: Record<string, string> = {
  agree_hide: "Agree and hide",
  agree_delete: "Agree and delete",
  disagree: "Disagree (restore)",
  ignore: "Ignore",
  silence: "Silence the author",
  approve: "Approve",
  reject: "Reject",
};

function before(a: Item, b: Item, sort: Filters["sort"]): boolean {
  if (sort === "age") return a.id < b.id;
  return a.score > b.score || (a.score === b.score && a.id > b.id);
}

export function matches(item: Item, filters: Filters): boolean {
  return item.status === filters.status && (!filters.kind || item.target_type === filters.kind);
}

export function applyItem(items: Item[], item: Item, filters: Filters): Item[] {
  const known = items.find((i) => i.id === item.id);
  if (known && known.version > item.version) return items;
  const rest = items.filter((i) => i.id !== item.id);
  if (!matches(item, filters)) return rest;
  const at = rest.findIndex((i) => before(item, i, filters.sort));
  // Beyond the loaded page's end a new item waits for "More" (unless the page is all there is).
  if (at === -1) return known || rest.length < 25 ? [...rest, item] : rest;
  return [...rest.slice(0, at), item, ...rest.slice(at)];
}
