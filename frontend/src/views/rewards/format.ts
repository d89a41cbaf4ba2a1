// How rewards read: numbers with thousands separators, signed amounts, plain dates.

import { number } from "../../components/format";

export const signed = (n: number): string => (n > 0 ? `+${number(n)}` : number(n));

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });

export const day = (iso: string): string => DAY.format(new Date(iso));

/** "earned 3 times" for a repeated badge, else the day it was earned. */
export function earnedText(times: number, firstGrantedAt: string): string {
  return times > 1 ? `earned ${times} times` : `earned ${day(firstGrantedAt)}`;
}

// Expiry dates are UTC days: shown as that day wherever the member is.
const UTC_DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

export const utcDay = (isoDate: string): string => UTC_DAY.format(new Date(`${isoDate}T00:00:00Z`));

/** The program's expiry policy, in a sentence. */
export function expiryPolicyText(policy: string, months: number | null): string {
  if (policy === "never" || months === null) return "Your points never expire.";
  const span = months === 1 ? "a month" : `${months} months`;
  return policy === "activity"
    ? `Points expire ${span} after you last earn or spend any.`
    : `Points expire ${span} after you earn them; spending uses the soonest to expire first.`;
}
