// The frame every moderator console page shares: who may use it (moderators and admins
// everywhere, brand staff for their own brand's categories) and the sections.

import type { ComponentChildren } from "preact";
import { me, type Member } from "../../app/session";
import { useStore } from "../../app/store";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt } from "../../components/ViewError";
import { mayModerate, sectionsFor } from "./sections";
import "./mod.css";

export function ModFrame({ title, section, children }: {
  title: string;
  section: string;
  children: (member: Member) => ComponentChildren;
}) {
  const member = useStore(me);
  if (!member) {
    return (
      <div class="card">
        <PageTitle title={title} />
        <SignInPrompt text="with a moderator's account to use the moderator console." />
      </div>
    );
  }
  if (!mayModerate(member)) {
    return (
      <div class="card" data-testid="mod-refused">
        <PageTitle title={title} />
        <p>The moderator console is for moderators, admins and brand staff.</p>
      </div>
    );
  }
  const sections = sectionsFor(member);
  const allowed = section === "" || sections.some((s) => s.key === section);
  return (
    <div class="mod-console" data-testid="mod-console">
      <nav class="mod-nav" aria-label="Moderator console">
        <a href="#/mod" aria-current={section === "" ? "page" : undefined}>Console</a>
        {sections.map((s) => (
          <a key={s.key} href={`#/mod/${s.key}`} data-testid={`mod-nav-${s.key}`}
            aria-current={section === s.key ? "page" : undefined}>{s.title}</a>
        ))}
      </nav>
      <PageTitle title={title} testid="mod-title" />
      {member.role === "brand_staff" && (
        <p class="meta">You moderate your brand's categories.</p>
      )}
      {allowed ? children(member) : <p data-testid="mod-refused">This section is for moderators and admins.</p>}
    </div>
  );
}
