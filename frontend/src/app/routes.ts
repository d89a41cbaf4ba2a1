// Every page of the web app: its address and the view that draws it. Views take their route
// params as strings (ids are validated as positive integers by the router).

import type { FunctionComponent } from "preact";
import { ADMIN_PAGES } from "../views/admin/routes";
import { Bookmarks } from "../views/bookmarks/Bookmarks";
import { Categories } from "../views/forum/Categories";
import { CategoryView } from "../views/forum/Category";
import { Challenge } from "../views/challenges/Challenge";
import { Challenges } from "../views/challenges/Challenges";
import { ForgotPassword, ResetPassword, VerifyEmail } from "../views/account/Recovery";
import { Leaderboards } from "../views/leaderboards/Leaderboards";
import { NotFound } from "../views/notfound/NotFound";
import { Profile } from "../views/profile/Profile";
import { Register } from "../views/account/Register";
import { Rewards } from "../views/rewards/Rewards";
import { Sanctions } from "../views/account/Sanctions";
import { SearchView } from "../views/search/Search";
import { Settings } from "../views/account/Settings";
import { SignIn } from "../views/account/SignIn";
import { ThreadView } from "../views/forum/Thread";
import { lazyView } from "./lazyView";
import type { RouteSpec } from "./router";

export type ViewProps = { params: Record<string, string> };

interface Page extends RouteSpec {
  view: FunctionComponent<ViewProps>;
}

// The brand staff console: one lazily loaded chunk for all its pages.
const brand = () => import("../views/brand/console");
// The moderator console, likewise.
const mod = () => import("../views/mod/console");

export const PAGES: Page[] = [
  { name: "categories", pattern: "/", view: Categories },
  { name: "category", pattern: "/c/:id", view: CategoryView },
  { name: "thread", pattern: "/t/:id", view: ThreadView },
  { name: "signin", pattern: "/signin", view: SignIn },
  { name: "register", pattern: "/register", view: Register },
  { name: "brand", pattern: "/brand", view: lazyView(() => brand().then((m) => m.BrandHome)) },
  { name: "brand-challenges", pattern: "/brand/challenges", view: lazyView(() => brand().then((m) => m.BrandChallenges)) },
  { name: "brand-challenge-new", pattern: "/brand/challenges/new", view: lazyView(() => brand().then((m) => m.BrandChallenge)) },
  { name: "brand-challenge", pattern: "/brand/challenges/:id", view: lazyView(() => brand().then((m) => m.BrandChallenge)) },
  { name: "brand-rules", pattern: "/brand/rules", view: lazyView(() => brand().then((m) => m.BrandRules)) },
  { name: "brand-budget", pattern: "/brand/budget", view: lazyView(() => brand().then((m) => m.BrandBudget)) },
  { name: "brand-catalogue", pattern: "/brand/catalogue", view: lazyView(() => brand().then((m) => m.BrandCatalogue)) },
  { name: "brand-badges", pattern: "/brand/badges", view: lazyView(() => brand().then((m) => m.BrandBadges)) },
  { name: "brand-tokens", pattern: "/brand/tokens", view: lazyView(() => brand().then((m) => m.BrandTokens)) },
  { name: "brand-webhooks", pattern: "/brand/webhooks", view: lazyView(() => brand().then((m) => m.BrandWebhooks)) },
  { name: "brand-inbound", pattern: "/brand/inbound", view: lazyView(() => brand().then((m) => m.BrandInbound)) },
  { name: "brand-log", pattern: "/brand/log", view: lazyView(() => brand().then((m) => m.BrandLog)) },
  { name: "mod", pattern: "/mod", view: lazyView(() => mod().then((m) => m.ModHome)) },
  { name: "mod-section", pattern: "/mod/:section", view: lazyView(() => mod().then((m) => m.ModSection)) },
  { name: "mod-item", pattern: "/mod/:section/:id", view: lazyView(() => mod().then((m) => m.ModSection)) },
  { name: "profile", pattern: "/u/:handle", view: Profile },
  { name: "account", pattern: "/account", view: Settings },
  { name: "sanctions", pattern: "/sanctions", view: Sanctions },
  { name: "forgot", pattern: "/forgot", view: ForgotPassword },
  { name: "reset", pattern: "/reset/:token", view: ResetPassword },
  { name: "verify-email", pattern: "/verify-email/:token", view: VerifyEmail },
  { name: "bookmarks", pattern: "/bookmarks", view: Bookmarks },
  { name: "search", pattern: "/search", view: SearchView },
  { name: "not-found", pattern: "/not-found", view: NotFound },
  { name: "rewards", pattern: "/rewards", view: Rewards },
  { name: "leaderboards", pattern: "/leaderboards", view: Leaderboards },
  { name: "leaderboard", pattern: "/leaderboards/:board", view: Leaderboards },
  { name: "category-leaderboard", pattern: "/leaderboards/category/:categoryId", view: Leaderboards },
  { name: "season-leaderboard", pattern: "/leaderboards/season/:seasonId", view: Leaderboards },
  { name: "challenges", pattern: "/challenges", view: Challenges },
  { name: "challenge", pattern: "/challenges/:id", view: Challenge },
  ...ADMIN_PAGES,
];

export function viewFor(name: string): FunctionComponent<ViewProps> {
  return PAGES.find((page) => page.name === name)?.view ?? NotFound;
}
