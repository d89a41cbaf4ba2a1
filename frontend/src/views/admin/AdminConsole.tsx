// The admin console: a navigation of its sections beside the one being shown.

import type { FunctionComponent } from "preact";
import { Badges } from "./Badges";
import { Categories } from "./Categories";
import { Exclusions } from "./Exclusions";
import { Health } from "./Health";
import { Ledger } from "./Ledger";
import { Mail } from "./Mail";
import { Members } from "./Members";
import { Outbox } from "./Outbox";
import { Overview } from "./Overview";
import { Seasons } from "./Seasons";
import { SECTIONS, sectionHref } from "./sections";
import { Tiers } from "./Tiers";
import "./admin.css";

const VIEWS: Record<string, FunctionComponent> = {
  "": Overview,
  categories: Categories,
  members: Members,
  tiers: Tiers,
  seasons: Seasons,
  exclusions: Exclusions,
  badges: Badges,
  outbox: Outbox,
  ledger: Ledger,
  health: Health,
  mail: Mail,
};

export function AdminConsole({ section }: { section: string }) {
  const View = VIEWS[section] ?? Overview;
  return (
    <div class="admin" data-testid="admin-console">
      <nav class="admin-nav" aria-label="Admin console">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.key}>
              <a href={sectionHref(s.key)} data-testid={`admin-nav-${s.key || "overview"}`}
                aria-current={s.key === section ? "page" : undefined}>{s.title}</a>
            </li>
          ))}
        </ul>
      </nav>
      <section class="admin-main">
        <View />
      </section>
    </div>
  );
}
