// The admin console's addresses. Each page is drawn by the lazily loaded console (see
// AdminGate), so members never download it.

import type { FunctionComponent } from "preact";
import { adminPage } from "./AdminGate";
import type { ViewProps } from "../../app/routes";
import { SECTIONS } from "./sections";

export const ADMIN_PAGES: { name: string; pattern: string; view: FunctionComponent<ViewProps> }[] =
  SECTIONS.map((section) => ({
    name: section.key === "" ? "admin" : `admin-${section.key}`,
    pattern: section.key === "" ? "/admin" : `/admin/${section.key}`,
    view: adminPage(section.key),
  }));
