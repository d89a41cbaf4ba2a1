// The brand console's pure logic: challenge forms to and from the API's shapes, the fields a
// condition can name for the chosen events, and sample events typed in as JSON.

import type { Schemas } from "../../api/client";

export type EventType = Schemas["EventTypeOut"];
export type Field = Schemas["FieldInfo"];

export interface TaskForm {
  name: string;
  eventTypes: string[];
  target: string;
  condition: string;
}

export interface ChallengeForm {
  title: string;
  description: string;
  startsAt: string; // <input type=datetime-local> value, in the browser's time
  endsAt: string;
  timeZone: string;
  rewardPoints: string;
  ordered: boolean;
  autoEnroll: boolean;
  tasks: TaskForm[];
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** An instant as a datetime-local value, in the browser's time zone. */
export function localInput(when: Date): string {
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}` +
    `T${pad(when.getHours())}:${pad(when.getMinutes())}`;
}

/** A datetime-local value (browser's time) as the API takes instants; "" when not a time. */
export function fromLocalInput(value: string): string {
  const when = new Date(value);
  return value && !Number.isNaN(when.getTime()) ? when.toISOString() : "";
}

export function emptyTask(): TaskForm {
  return { name: "", eventTypes: [], target: "1", condition: "" };
}

export function emptyChallenge(now: Date, timeZone: string): ChallengeForm {
  const start = new Date(now.getTime() + 3600_000);
  start.setMinutes(0, 0, 0);
  return {
    title: "", description: "", startsAt: localInput(start),
    endsAt: localInput(new Date(start.getTime() + 7 * 86400_000)), timeZone,
    rewardPoints: "0", ordered: false, autoEnroll: false, tasks: [emptyTask()],
  };
}

export function formOf(challenge: Schemas["ChallengeOut"]): ChallengeForm {
  return {
    title: challenge.title, description: challenge.description,
    startsAt: localInput(new Date(challenge.starts_at)), endsAt: localInput(new Date(challenge.ends_at)),
    timeZone: challenge.time_zone, rewardPoints: String(challenge.reward_points),
    ordered: challenge.ordered, autoEnroll: challenge.auto_enroll,
    tasks: challenge.tasks.map((t) => ({
      name: t.name, eventTypes: [...t.event_types], target: String(t.target), condition: t.condition,
    })),
  };
}

/** The API body for a form. Numbers stay as typed when they are not numbers: the server's
 * 422 names the field, which the form shows. */
export function challengeBody(brandId: number, form: ChallengeForm, keep?: Schemas["ChallengeOut"]):
  Schemas["ChallengeIn"] {
  const number = (text: string): number => (text.trim() === "" ? Number.NaN : Number(text));
  return {
    brand_id: brandId,
    title: form.title.trim(),
    description: form.description,
    starts_at: fromLocalInput(form.startsAt),
    ends_at: fromLocalInput(form.endsAt),
    time_zone: form.timeZone.trim() || "UTC",
    reward_points: number(form.rewardPoints),
    ordered: form.ordered,
    auto_enroll: form.autoEnroll,
    // What the form does not edit is kept as it was.
    image_url: keep?.image_url ?? "",
    eligibility: keep?.eligibility ?? "everyone",
    eligibility_value: keep?.eligibility_value ?? "",
    reward_badge_id: keep?.reward_badge_id ?? null,
    tasks: form.tasks.map((t) => ({
      name: t.name.trim(), event_types: t.eventTypes, target: number(t.target),
      condition: t.condition.trim(),
    })),
  };
}

/** The fields a condition may name for these events: those every chosen event has (a task
 * counting two events evaluates its condition on each), `event` first. */
export function fieldsFor(types: readonly EventType[], chosen: readonly string[]): Field[] {
  const picked = types.filter((t) => chosen.includes(t.type));
  if (picked.length === 0) return [];
  const [first, ...rest] = picked;
  const common = first!.fields.filter((f) => rest.every((t) => t.fields.some((g) => g.name === f.name)));
  return [{ name: "event", type: "text", required: true }, ...common];
}

/** Adds a field to a condition, joined with `and`, ready for its comparison. */
export function withField(condition: string, field: string): string {
  const base = condition.trim();
  return base ? `${base} and ${field} == ` : `${field} == `;
}

/** A sample event typed as JSON: the object, or an error message for the form. */
export function parseSample(text: string): { event: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "The sample event is not valid JSON." };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: "The sample event must be a JSON object of fields." };
  }
  return { event: value as Record<string, unknown> };
}

/** A fresh idempotency key: a retried click sends the same one, a new action a new one. */
export function newKey(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
