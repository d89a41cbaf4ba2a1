// Which board a leaderboard address shows, and back: #/leaderboards[/all-time|week|month],
// #/leaderboards/category/<id>, #/leaderboards/season/<id>. The API names them all-time, week,
// month, category:<id> and season:<id>.

export type Period = "all-time" | "week" | "month";

export type Board =
  | { kind: "period"; period: Period }
  | { kind: "category"; id: string }
  | { kind: "season"; id: string };

export const PERIODS: readonly [Period, string][] = [
  ["all-time", "All time"], ["week", "This week"], ["month", "This month"],
];

const ID = /^[1-9][0-9]{0,18}$/;

/** The board of a route's params ({board} or {categoryId} or {seasonId}); null when the
 *  address names no board. */
export function boardOf(params: Record<string, string>): Board | null {
  if (params.categoryId !== undefined) {
    return ID.test(params.categoryId) ? { kind: "category", id: params.categoryId } : null;
  }
  if (params.seasonId !== undefined) {
    return ID.test(params.seasonId) ? { kind: "season", id: params.seasonId } : null;
  }
  const period = params.board ?? "all-time";
  return PERIODS.some(([key]) => key === period) ? { kind: "period", period: period as Period } : null;
}

/** The board's name in the API. */
export function apiName(board: Board): string {
  switch (board.kind) {
    case "period": return board.period;
    case "category": return `category:${board.id}`;
    case "season": return `season:${board.id}`;
  }
}

/** The board's address in the app. */
export function hrefOf(board: Board): string {
  switch (board.kind) {
    case "period": return `#/leaderboards/${board.period}`;
    case "category": return `#/leaderboards/category/${board.id}`;
    case "season": return `#/leaderboards/season/${board.id}`;
  }
}

/** Categories in reading order, each after its parent, with its depth for indenting. */
export function categoryOptions<C extends { id: number; name: string; parent_id: number | null; position: number }>(
  categories: readonly C[],
): { id: number; label: string }[] {
  const children = new Map<number | null, C[]>();
  const known = new Set(categories.map((c) => c.id));
  for (const c of categories) {
    const parent = c.parent_id !== null && known.has(c.parent_id) ? c.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), c]);
  }
  const out: { id: number; label: string }[] = [];
  const walk = (parent: number | null, depth: number) => {
    const level = [...(children.get(parent) ?? [])].sort((a, b) => a.position - b.position || a.id - b.id);
    for (const c of level) {
      out.push({ id: c.id, label: `${"\u2014 ".repeat(depth)}${c.name}` });
      if (depth < 10) walk(c.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}
