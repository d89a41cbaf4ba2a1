// The badge criteria builder's logic: a form's draft (strings, as inputs hold them) turned
// into the criteria structure the API accepts (gamification/badges/schemas.py: a "type" tag
// and that type's fields), back again for editing, and said in words for the catalogue.

import type { Schemas } from "../../api/client";

export type Criteria = Schemas["BadgeIn"]["criteria"];
export type CriteriaType = Criteria["type"];

export const CRITERIA_TYPES: { value: CriteriaType; label: string }[] = [
  { value: "count", label: "Does something a number of times" },
  { value: "first", label: "Does something for the first time" },
  { value: "streak", label: "Does something on consecutive days or weeks" },
  { value: "points", label: "Earns a number of points in all" },
  { value: "challenge", label: "Completes a challenge" },
  { value: "manual", label: "Granted by staff only" },
];

/** The events a badge can count (the rules engine's scorables). */
export const EVENT_TYPES: { value: string; label: string }[] = [
  { value: "thread.created", label: "Starts a thread" },
  { value: "post.created", label: "Posts a reply" },
  { value: "reaction.added", label: "Gets a reaction on a post" },
  { value: "post.marked_helpful", label: "Has a reply marked helpful" },
  { value: "member.visited", label: "Visits (once a day)" },
  { value: "member.registered", label: "Registers" },
  { value: "flag.agreed", label: "Flags something moderators then agree with" },
];

export interface CriteriaDraft {
  type: CriteriaType;
  eventTypes: string[];
  count: string;
  windowDays: string;
  condition: string;
  threshold: string;
  length: string;
  unit: "day" | "week";
  challengeId: string;
}

export const emptyDraft = (): CriteriaDraft => ({
  type: "count", eventTypes: [], count: "", windowDays: "", condition: "", threshold: "",
  length: "", unit: "day", challengeId: "",
});

const INTEGER = /^[1-9][0-9]{0,18}$/;

function whole(text: string, what: string, min: number, max: number): number | string {
  const trimmed = text.trim();
  if (!INTEGER.test(trimmed) || Number(trimmed) < min || Number(trimmed) > max) {
    return `${what} must be a whole number from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}.`;
  }
  return Number(trimmed);
}

/** The criteria for the API, or the first thing wrong with the draft (in words). */
export function buildCriteria(d: CriteriaDraft): { criteria: Criteria } | { problem: string } {
  const events = (): string[] | string =>
    d.eventTypes.length === 0 ? "Choose at least one activity."
      : d.eventTypes.length > 10 ? "Choose at most ten activities." : [...d.eventTypes];
  const condition = d.condition.trim();
  switch (d.type) {
    case "count": {
      const eventTypes = events();
      const count = whole(d.count, "The count", 1, 1_000_000);
      const windowDays = d.windowDays.trim() === "" ? null : whole(d.windowDays, "The window", 1, 3650);
      for (const v of [eventTypes, count, windowDays]) if (typeof v === "string") return { problem: v };
      return { criteria: { type: "count", event_types: eventTypes as string[], count: count as number,
        condition, ...(windowDays === null ? {} : { window_days: windowDays as number }) } };
    }
    case "first": {
      const eventTypes = events();
      if (typeof eventTypes === "string") return { problem: eventTypes };
      return { criteria: { type: "first", event_types: eventTypes, condition } };
    }
    case "streak": {
      const eventTypes = events();
      const length = whole(d.length, "The streak length", 2, 3650);
      for (const v of [eventTypes, length]) if (typeof v === "string") return { problem: v };
      return { criteria: { type: "streak", event_types: eventTypes as string[], length: length as number,
        unit: d.unit, condition } };
    }
    case "points": {
      const threshold = whole(d.threshold, "The points threshold", 1, 10 ** 12);
      if (typeof threshold === "string") return { problem: threshold };
      return { criteria: { type: "points", threshold } };
    }
    case "challenge": {
      const id = whole(d.challengeId, "The challenge id", 1, Number.MAX_SAFE_INTEGER);
      if (typeof id === "string") return { problem: id };
      return { criteria: { type: "challenge", challenge_id: id } };
    }
    case "manual":
      return { criteria: { type: "manual" } };
  }
}

/** A draft holding existing criteria, to edit them. */
export function draftOf(c: Criteria): CriteriaDraft {
  const d = emptyDraft();
  d.type = c.type;
  if ("event_types" in c) d.eventTypes = [...c.event_types];
  if ("condition" in c) d.condition = c.condition ?? "";
  if (c.type === "count") { d.count = String(c.count); d.windowDays = c.window_days ? String(c.window_days) : ""; }
  if (c.type === "streak") { d.length = String(c.length); d.unit = c.unit === "week" ? "week" : "day"; }
  if (c.type === "points") d.threshold = String(c.threshold);
  if (c.type === "challenge") d.challengeId = String(c.challenge_id);
  return d;
}

const activity = (types: string[]): string =>
  types.map((t) => EVENT_TYPES.find((e) => e.value === t)?.label.toLowerCase() ?? t).join(" or ");

/** The criteria in a sentence, for the catalogue. */
export function describeCriteria(c: Criteria): string {
  const when = "condition" in c && c.condition ? ` (when ${c.condition})` : "";
  switch (c.type) {
    case "count":
      return `${c.count.toLocaleString("en-US")} × ${activity(c.event_types)}${when}`
        + (c.window_days ? ` within ${c.window_days} days` : "");
    case "first":
      return `First time: ${activity(c.event_types)}${when}`;
    case "streak":
      return `${c.length} ${c.unit === "week" ? "weeks" : "days"} in a row: ${activity(c.event_types)}${when}`;
    case "points":
      return `${c.threshold.toLocaleString("en-US")} points earned in all`;
    case "challenge":
      return `Completes challenge #${c.challenge_id}`;
    case "manual":
      return "Granted by staff";
  }
}
