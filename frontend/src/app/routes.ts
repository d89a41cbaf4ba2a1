// Every page of the web app: its address and the view that draws it. Views take their route
// params as strings (ids are validated as positive integers by the router).

import type { FunctionComponent } from "preact";
import { SignIn } from "../views/account/SignIn";
import { Challenge } from "../views/challenges/Challenge";
import { Challenges } from "../views/challenges/Challenges";
import { Leaderboards } from "../views/leaderboards/Leaderboards";
import { NotFound } from "../views/notfound/NotFound";
import { Rewards } from "../views/rewards/Rewards";
import type { RouteSpec } from "./router";

export type ViewProps = { params: Record<string, string> };

interface Page extends RouteSpec {
  view: FunctionComponent<ViewProps>;
}

export const PAGES: Page[] = [
  { name: "not-found", pattern: "/not-found", view: NotFound },
  { name: "signin", pattern: "/signin", view: SignIn },
  { name: "rewards", pattern: "/rewards", view: Rewards },
  { name: "leaderboards", pattern: "/leaderboards", view: Leaderboards },
  { name: "leaderboard", pattern: "/leaderboards/:board", view: Leaderboards },
  { name: "category-leaderboard", pattern: "/leaderboards/category/:categoryId", view: Leaderboards },
  { name: "season-leaderboard", pattern: "/leaderboards/season/:seasonId", view: Leaderboards },
  { name: "challenges", pattern: "/challenges", view: Challenges },
  { name: "challenge", pattern: "/challenges/:id", view: Challenge },
];

export function viewFor(name: string): FunctionComponent<ViewProps> {
  return PAGES.find((page) => page.name === name)?.view ?? NotFound;
}
