// A search's parameters live in the address (#/search?q=...&page=2), so a search can be
// linked, reloaded and gone back to. These pure functions read and write that part.

export interface SearchParams {
  q: string;
  category_id?: number;
  author?: string;
  since?: string;
  until?: string;
  status?: "visible" | "hidden" | "held";
  page: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER = /^[1-9][0-9]{0,15}$/;
const STATUSES = ["visible", "hidden", "held"] as const;

/** The parameters in a hash such as "#/search?q=kettle&page=2"; anything malformed is left out. */
export function readSearch(hash: string): SearchParams {
  const at = hash.indexOf("?");
  const query = new URLSearchParams(at < 0 ? "" : hash.slice(at + 1));
  const out: SearchParams = { q: query.get("q") ?? "", page: 1 };
  const category = query.get("category_id") ?? "";
  if (INTEGER.test(category)) out.category_id = Number(category);
  const author = (query.get("author") ?? "").trim();
  if (author) out.author = author;
  for (const key of ["since", "until"] as const) {
    const day = query.get(key) ?? "";
    if (DAY.test(day)) out[key] = day;
  }
  const status = query.get("status");
  const known = STATUSES.find((s) => s === status);
  if (known) out.status = known;
  const page = query.get("page") ?? "";
  if (INTEGER.test(page)) out.page = Math.min(Number(page), 1000);
  return out;
}

/** The hash for these parameters under `base` ("/search" or the console's), empty ones left out. */
export function searchHash(base: string, params: SearchParams): string {
  const query = new URLSearchParams();
  query.set("q", params.q);
  if (params.category_id !== undefined) query.set("category_id", String(params.category_id));
  if (params.author) query.set("author", params.author);
  if (params.since) query.set("since", params.since);
  if (params.until) query.set("until", params.until);
  if (params.status) query.set("status", params.status);
  if (params.page > 1) query.set("page", String(params.page));
  return `#${base}?${query.toString()}`;
}

export interface ApiQuery {
  q: string;
  category_id?: number;
  author?: string;
  since?: string;
  until?: string;
  status?: string;
  page?: number;
}

/** The API's query: what the address holds, without the page size. */
export function apiQuery(params: SearchParams): ApiQuery {
  const out: ApiQuery = { q: params.q };
  if (params.category_id !== undefined) out.category_id = params.category_id;
  if (params.author) out.author = params.author;
  if (params.since) out.since = params.since;
  if (params.until) out.until = params.until;
  if (params.status) out.status = params.status;
  if (params.page > 1) out.page = params.page;
  return out;
}
