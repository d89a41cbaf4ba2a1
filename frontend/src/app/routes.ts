// Every page of the web app: its address and the view that draws it. Views take their route
// params as strings (ids are validated as positive integers by the router).

import type { FunctionComponent } from "preact";
import { ADMIN_PAGES } from "../views/admin/routes";
import { NotFound } from "../views/notfound/NotFound";
import type { RouteSpec } from "./router";

export type ViewProps = { params: Record<string, string> };

interface Page extends RouteSpec {
  view: FunctionComponent<ViewProps>;
}

export const PAGES: Page[] = [
  { name: "not-found", pattern: "/not-found", view: NotFound },
  ...ADMIN_PAGES,
];

export function viewFor(name: string): FunctionComponent<ViewProps> {
  return PAGES.find((page) => page.name === name)?.view ?? NotFound;
}
