// The catalogue console's form model, kept apart from the components so it can be tested:
// a reward's form fields <-> the API body, and a refused CSV upload's lines.

import { ApiError, type Schemas } from "../../api/client";

export type RewardBody = Schemas["RewardIn"];

export interface RewardForm {
  title: string;
  description: string;
  imageUrl: string;
  price: string;
  stock: string; // "" is unlimited
  perMemberLimit: string; // "" is no limit
  minTier: string;
  badgeId: string;
  startsAt: string; // <input type="datetime-local">, the browser's local time; "" is open
  endsAt: string;
  fulfilment: "codes" | "webhook";
  published: boolean;
}

export const EMPTY_FORM: RewardForm = {
  title: "", description: "", imageUrl: "", price: "", stock: "", perMemberLimit: "",
  minTier: "", badgeId: "", startsAt: "", endsAt: "", fulfilment: "codes", published: false,
};

const optionalNumber = (text: string): number | null => (text.trim() === "" ? null : Number(text));

// A local datetime-local value, with the browser's offset: the server refuses times without one.
export function withOffset(local: string, offsetMinutes = new Date(local).getTimezoneOffset()): string | null {
  if (local === "") return null;
  const ahead = -offsetMinutes;
  const sign = ahead >= 0 ? "+" : "-";
  const hours = String(Math.floor(Math.abs(ahead) / 60)).padStart(2, "0");
  const minutes = String(Math.abs(ahead) % 60).padStart(2, "0");
  const seconds = local.length === 16 ? ":00" : "";
  return `${local}${seconds}${sign}${hours}:${minutes}`;
}

function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const when = new Date(iso);
  const local = new Date(when.getTime() - when.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function bodyOf(form: RewardForm): RewardBody {
  return {
    title: form.title.trim(),
    description: form.description,
    image_url: form.imageUrl.trim(),
    price: Number(form.price),
    stock: optionalNumber(form.stock),
    per_member_limit: optionalNumber(form.perMemberLimit),
    min_tier: form.minTier,
    badge_id: optionalNumber(form.badgeId),
    starts_at: withOffset(form.startsAt),
    ends_at: withOffset(form.endsAt),
    fulfilment: form.fulfilment,
    published: form.published,
  };
}

export function formOf(reward: Schemas["RewardOut"]): RewardForm {
  return {
    title: reward.title, description: reward.description, imageUrl: reward.image_url,
    price: String(reward.price), stock: reward.stock === null || reward.stock === undefined ? "" : String(reward.stock),
    perMemberLimit: reward.per_member_limit === null || reward.per_member_limit === undefined ? "" : String(reward.per_member_limit),
    minTier: reward.min_tier, badgeId: reward.badge_id ? String(reward.badge_id) : "",
    startsAt: toLocalInput(reward.starts_at), endsAt: toLocalInput(reward.ends_at),
    fulfilment: reward.fulfilment === "webhook" ? "webhook" : "codes", published: reward.published,
  };
}

export interface LineError {
  line: number;
  message: string;
}

/** The bad lines of a refused code upload, in file order (none for other errors). */
export function lineErrors(error: unknown): LineError[] {
  if (!(error instanceof ApiError)) return [];
  return error.details
    .filter((d): d is typeof d & { line: number } => typeof d.line === "number")
    .map((d) => ({ line: d.line, message: String(d.message ?? "") }))
    .sort((a, b) => a.line - b.line);
}
