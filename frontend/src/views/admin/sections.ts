// The console's sections, in the order its navigation lists them.

export interface Section {
  key: string; // "" is the overview at #/admin
  title: string;
  group: "Community" | "Gamification" | "Operations" | "";
}

export const SECTIONS: Section[] = [
  { key: "", title: "Overview", group: "" },
  { key: "categories", title: "Categories", group: "Community" },
  { key: "members", title: "Members", group: "Community" },
  { key: "tiers", title: "Tier ladder", group: "Gamification" },
  { key: "seasons", title: "Seasons", group: "Gamification" },
  { key: "exclusions", title: "Leaderboard exclusions", group: "Gamification" },
  { key: "badges", title: "Badges", group: "Gamification" },
  { key: "outbox", title: "Outbox", group: "Operations" },
  { key: "ledger", title: "Ledger check", group: "Operations" },
  { key: "health", title: "Service health", group: "Operations" },
  { key: "mail", title: "Sent mail", group: "Operations" },
];

export const sectionHref = (key: string): string => (key === "" ? "#/admin" : `#/admin/${key}`);
