// The console's entry in the top bar (app/AccountNav.tsx adds it): kept out of the console's
// own chunk so the bar can show it without loading the console.

import type { Member } from "../../app/session";

export interface ConsoleLink {
  href: string;
  label: string;
  testid: string;
}

export function consoleLinks(member: Member | null): ConsoleLink[] {
  const staff = member !== null && (member.role === "admin" || member.role === "brand_staff");
  return staff ? [{ href: "#/brand", label: "Brand console", testid: "nav-brand" }] : [];
}
