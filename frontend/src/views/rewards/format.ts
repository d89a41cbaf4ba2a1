// How rewards read: numbers with thousands separators, signed amounts, plain dates.

import { number } from "../../components/format";

export const signed = (n: number): string => (n > 0 ? `+${number(n)}` : number(n));

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });

export const day = (iso: string): string => DAY.format(new Date(iso));

/** "earned 3 times" for a repeated badge, else the day it was earned. */
export function earnedText(times: number, firstGrantedAt: string): string {
  return times > 1 ? `earned ${times} times` : `earned ${day(firstGrantedAt)}`;
}
