// The ladder form's rows, turned into the body PUT /api/gamification/tiers takes.

export interface Rung {
  key: number;
  name: string;
  threshold: string;
}

export interface LadderBody {
  tiers: { name: string; threshold: number }[];
  window_days: number;
  grace_days: number;
}

const whole = (text: string): number | null => (/^\s*\d+\s*$/.test(text) ? Number(text) : null);

/** The request body, or what is wrong with the form (the server checks again). */
export function ladderBody(rungs: readonly Rung[], windowDays: string, graceDays: string): LadderBody | { problem: string } {
  const tiers: LadderBody["tiers"] = [];
  for (const [i, r] of rungs.entries()) {
    const threshold = whole(r.threshold);
    if (!r.name.trim()) return { problem: `Tier ${i + 1} needs a name.` };
    if (threshold === null) return { problem: `The threshold of “${r.name.trim()}” must be a whole number of points.` };
    tiers.push({ name: r.name.trim(), threshold });
  }
  if (tiers.length === 0) return { problem: "The ladder needs at least one tier." };
  const window = whole(windowDays);
  const grace = whole(graceDays);
  if (window === null || grace === null) return { problem: "The window and the grace period are whole numbers of days." };
  return { tiers, window_days: window, grace_days: grace };
}
