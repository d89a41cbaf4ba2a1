// The console's front page: whether anything needs attention now (service health, the
// outbox), and the way to each section.

import { call, client } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { number } from "../../components/format";
import { loadHealth } from "./Health";
import { SECTIONS, sectionHref } from "./sections";

export function Overview() {
  const health = useAsync(loadHealth, []);
  const outbox = useAsync(() => call(client.GET("/api/admin/outbox", { params: { query: { limit: 1 } } })), []);
  const groups = ["Community", "Gamification", "Operations"] as const;
  return (
    <div class="stack" data-testid="admin-overview">
      <PageTitle title="Admin console" testid="admin-title" />
      <div class="admin-cards">
        <a class="card admin-card" href="#/admin/health" data-testid="overview-health">
          <h2>Services</h2>
          <FormError error={health.error} />
          {health.value && <p data-status={health.value.status}>{health.value.status === "ok" ? "All up" : health.value.status}</p>}
        </a>
        <a class="card admin-card" href="#/admin/outbox" data-testid="overview-outbox">
          <h2>Outbox</h2>
          <FormError error={outbox.error} />
          {outbox.value && (
            <p>{number(outbox.value.failing)} failing · {number(outbox.value.pending)} waiting</p>
          )}
        </a>
      </div>
      {groups.map((group) => (
        <section key={group} class="card">
          <h2>{group}</h2>
          <ul class="admin-links">
            {SECTIONS.filter((s) => s.group === group).map((s) => (
              <li key={s.key}><a href={sectionHref(s.key)}>{s.title}</a></li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
