// What a challenge says about itself: its status, its dates in its own time zone, who may take
// part, its reward, and how far the member is along its tasks. Pure, so it is unit-tested.

import type { Schemas } from "../../api/client";
import { number } from "../../components/format";

export type Challenge = Schemas["ChallengeOut"];
export type MyChallenge = Schemas["MyChallenge"];
/** Badge id → name, once known. */
export type BadgeNames = ReadonlyMap<number, string>;

export const STATUS: Record<string, string> = {
  draft: "Draft", scheduled: "Scheduled", active: "Active", ended: "Ended", cancelled: "Cancelled",
};
const STATUS_ORDER = ["active", "scheduled", "draft", "ended", "cancelled"];
const JOINABLE = new Set(["scheduled", "active"]);

export const statusLabel = (status: string): string => STATUS[status] ?? status;
export const joinable = (status: string): boolean => JOINABLE.has(status);
export const running = (status: string): boolean => status !== "ended" && status !== "cancelled";

/** Running challenges first: active, scheduled, draft, then ended and cancelled. */
export function sortChallenges<C extends { status: string }>(challenges: readonly C[]): C[] {
  const rank = (s: string) => { const i = STATUS_ORDER.indexOf(s); return i < 0 ? STATUS_ORDER.length : i; };
  return [...challenges].sort((a, b) => rank(a.status) - rank(b.status));
}

const DATE_OPTIONS: Intl.DateTimeFormatOptions = {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
};
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(timeZone: string): Intl.DateTimeFormat | null {
  if (!formatters.has(timeZone)) {
    let format: Intl.DateTimeFormat | null;
    try {
      format = new Intl.DateTimeFormat("en-GB", { ...DATE_OPTIONS, timeZone });
    } catch {
      format = null; // a zone this browser does not know
    }
    formatters.set(timeZone, format);
  }
  return formatters.get(timeZone) ?? null;
}

/** Dates are shown in the challenge's own time zone ("ends at midnight in Paris" means that);
 *  in UTC, and saying so, when the browser does not know the zone. */
export function zoned(timeZone: string): { format: Intl.DateTimeFormat; zone: string } {
  const format = formatter(timeZone);
  return format ? { format, zone: timeZone } : { format: formatter("UTC") as Intl.DateTimeFormat, zone: "UTC" };
}

export function rewardText(challenge: Pick<Challenge, "reward_points" | "reward_badge_id">, badges?: BadgeNames | null): string {
  const parts: string[] = [];
  if (challenge.reward_points) parts.push(`${number(challenge.reward_points)} points`);
  if (challenge.reward_badge_id !== null) {
    const name = badges?.get(challenge.reward_badge_id);
    parts.push(name ? `the “${name}” badge` : "a badge");
  }
  return parts.length > 0 ? parts.join(" and ") : "No reward: just for the fun of it";
}

export function hasReward(challenge: Pick<Challenge, "reward_points" | "reward_badge_id">): boolean {
  return challenge.reward_points > 0 || challenge.reward_badge_id !== null;
}

export function eligibilityText(challenge: Pick<Challenge, "eligibility" | "eligibility_value">, badges?: BadgeNames | null): string {
  if (challenge.eligibility === "tier") return `Members at the ${challenge.eligibility_value} tier or above`;
  if (challenge.eligibility === "badge") {
    const name = badges?.get(Number(challenge.eligibility_value));
    return name ? `Members who hold the “${name}” badge` : "Members who hold a particular badge";
  }
  return "Every member";
}

/** Whether badge names would say more than "a badge". */
export function needsBadgeNames(challenge: Pick<Challenge, "reward_badge_id" | "eligibility">): boolean {
  return challenge.reward_badge_id !== null || challenge.eligibility === "badge";
}

export type TaskState = "done" | "current" | "waiting" | "open";

/** Each task's state for the member: in an ordered challenge the first unfinished task is the
 *  current one and the ones after it wait. */
export function taskStates(challenge: Pick<Challenge, "ordered" | "tasks">, mine: MyChallenge | null):
  { task: Challenge["tasks"][number]; progress: MyChallenge["tasks"][number] | null; state: TaskState }[] {
  const byTask = new Map((mine?.joined ? mine.tasks : []).map((t) => [t.task_id, t]));
  let reached = false;
  return challenge.tasks.map((task) => {
    const progress = byTask.get(task.id) ?? null;
    let state: TaskState = "open";
    if (progress?.done) state = "done";
    else if (challenge.ordered && progress) {
      state = reached ? "waiting" : "current";
      reached = true;
    }
    return { task, progress, state };
  });
}

/** How often a task must be done, before the member has joined. */
export const targetText = (target: number): string => (target === 1 ? "Once" : `${number(target)} times`);

/** Where the member stands, for the participation line. */
export type Standing =
  | { kind: "sign-in" } | { kind: "none" }
  | { kind: "closed"; message: string }
  | { kind: "can-join" }
  | { kind: "completed"; completedAt: string; rewardPending: boolean }
  | { kind: "joined"; message: string; ended: boolean };

export function standingOf(status: string, signedIn: boolean, mine: MyChallenge | null): Standing {
  if (!signedIn) return joinable(status) ? { kind: "sign-in" } : { kind: "none" };
  if (!mine?.joined) {
    if (joinable(status)) return { kind: "can-join" };
    return { kind: "closed", message: status === "draft"
      ? "This challenge is a draft: members cannot see or join it yet."
      : `This challenge is ${statusLabel(status).toLowerCase()}: it can no longer be joined.` };
  }
  if (mine.completed_at) {
    return { kind: "completed", completedAt: mine.completed_at, rewardPending: mine.reward_pending };
  }
  const ended = !joinable(status);
  return { kind: "joined", ended, message: ended
    ? "You took part, but the challenge closed before you finished it."
    : status === "scheduled" ? "You're in. Your progress counts once the challenge starts."
      : "You're in. Complete every task below to finish the challenge." };
}
