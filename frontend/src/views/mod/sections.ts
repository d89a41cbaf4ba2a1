// The moderator console's sections, in the order its navigation lists them. Each part of
// moderation adds its own entry here and its view in console.tsx.

import type { Member } from "../../app/session";

export type Role = "moderator" | "admin" | "brand_staff";

export interface ModSection {
  key: string;
  title: string;
  // One line on the console's home page.
  text: string;
  // Who uses it: brand staff moderate their own brand's categories only, so some sections
  // are for moderators and admins alone.
  roles: Role[];
}

export const MOD_SECTIONS: ModSection[] = [
  { key: "queue", title: "Review queue", text: "Flagged and held content, ranked by a score that explains itself.", roles: ["moderator", "admin", "brand_staff"] },
  { key: "sanctions", title: "Sanctions", text: "Silence or suspend a member, see who is, lift early.", roles: ["moderator", "admin"] },
  { key: "appeals", title: "Appeals", text: "Decide members' appeals of sanctions someone else imposed.", roles: ["moderator", "admin"] },
  { key: "watched-words", title: "Watched words", roles: ["moderator", "admin"],
    text: "Words and phrases that are blocked, held for approval, flagged or replaced wherever members write." },
  { key: "search", title: "Search", text: "Find posts by words, author and date, hidden and held ones too, filtered by status.",
    roles: ["moderator", "admin", "brand_staff"] },
  { key: "log", title: "Audit log", text: "Every staff act: who, on what, before and after, and why.",
    roles: ["moderator", "admin", "brand_staff"] },
];

export function mayModerate(member: Member | null): boolean {
  return member !== null && ["moderator", "admin", "brand_staff"].includes(member.role)
    && (member.role !== "brand_staff" || member.brand_id !== null);
}

export function sectionsFor(member: Member | null): ModSection[] {
  return member === null ? [] : MOD_SECTIONS.filter((s) => s.roles.includes(member.role as Role));
}
