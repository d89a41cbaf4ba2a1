// Every page of the web app: its address and the view that draws it. Views take their route
// params as strings (ids are validated as positive integers by the router).

import type { FunctionComponent } from "preact";
import { Register } from "../views/account/Register";
import { SignIn } from "../views/account/SignIn";
import { Categories } from "../views/forum/Categories";
import { CategoryView } from "../views/forum/Category";
import { ThreadView } from "../views/forum/Thread";
import { NotFound } from "../views/notfound/NotFound";
import type { RouteSpec } from "./router";

export type ViewProps = { params: Record<string, string> };

interface Page extends RouteSpec {
  view: FunctionComponent<ViewProps>;
}

export const PAGES: Page[] = [
  { name: "categories", pattern: "/", view: Categories },
  { name: "category", pattern: "/c/:id", view: CategoryView },
  { name: "thread", pattern: "/t/:id", view: ThreadView },
  { name: "signin", pattern: "/signin", view: SignIn },
  { name: "register", pattern: "/register", view: Register },
  { name: "not-found", pattern: "/not-found", view: NotFound },
];

export function viewFor(name: string): FunctionComponent<ViewProps> {
  return PAGES.find((page) => page.name === name)?.view ?? NotFound;
}
