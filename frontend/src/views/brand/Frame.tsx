// The frame every console page shares: who may use it, which brand it acts for (their own for
// brand staff; admins pick one), and the sections.

import type { ComponentChildren } from "preact";
import { call, client, type Schemas } from "../../api/client";
import { me } from "../../app/session";
import { Store, useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt } from "../../components/ViewError";
import "./brand.css";

export type Brand = Schemas["BrandOut"];

const SECTIONS = [
  { key: "challenges", label: "Challenges" },
  { key: "rules", label: "Rules" },
  { key: "budget", label: "Budget" },
  { key: "catalogue", label: "Catalogue" },
  { key: "badges", label: "Badges" },
  { key: "tokens", label: "API tokens" },
  { key: "webhooks", label: "Webhooks" },
  { key: "inbound", label: "Inbound events" },
  { key: "log", label: "Log" },
] as const;

export type Section = (typeof SECTIONS)[number]["key"] | "home";

const PICKED = "hearth.brand";
// The brand an admin is acting for, kept for the tab's session.
const picked = new Store<number | null>(Number(sessionStorage.getItem(PICKED)) || null);

function pick(brandId: number): void {
  sessionStorage.setItem(PICKED, String(brandId));
  picked.set(brandId);
}

export function BrandFrame({ title, section, children }: {
  title: string;
  section: Section;
  children: (brand: Brand, admin: boolean) => ComponentChildren;
}) {
  const member = useStore(me);
  const chosen = useStore(picked);
  const brands = useAsync(() => call(client.GET("/api/brands")), []);
  if (!member) {
    return (
      <div class="card">
        <PageTitle title={title} />
        <SignInPrompt text="to run your brand's challenges, rules and budget." />
      </div>
    );
  }
  const admin = member.role === "admin";
  if (!admin && (member.role !== "brand_staff" || member.brand_id === null)) {
    return (
      <div class="card" data-testid="brand-refused">
        <PageTitle title={title} />
        <p>The brand console is for a brand's staff and for admins.</p>
      </div>
    );
  }
  const all = brands.value ?? [];
  const brandId = admin ? (chosen ?? all[0]?.id ?? null) : member.brand_id;
  const brand = all.find((b) => b.id === brandId) ?? null;
  return (
    <div class="brand-console" data-testid="brand-console">
      <nav class="brand-nav" aria-label="Brand console">
        <a href="#/brand" aria-current={section === "home" ? "page" : undefined}>Console</a>
        {SECTIONS.map((s) => (
          <a key={s.key} href={`#/brand/${s.key}`} data-testid={`brand-nav-${s.key}`}
            aria-current={section === s.key ? "page" : undefined}>{s.label}</a>
        ))}
        {admin && all.length > 0 && (
          <label class="brand-pick">
            <span>Brand</span>
            <select data-testid="brand-pick" value={String(brandId ?? "")}
              onChange={(e) => pick(Number((e.target as HTMLSelectElement).value))}>
              {all.map((b) => <option key={b.id} value={String(b.id)}>{b.name}</option>)}
            </select>
          </label>
        )}
      </nav>
      <PageTitle title={title} testid="brand-title" />
      {brand && <p class="meta" data-testid="brand-name">For {brand.name}</p>}
      <FormError error={brands.error} />
      {brand ? children(brand, admin)
        : !brands.loading && !brands.error && <p class="muted">There are no brands yet.</p>}
    </div>
  );
}
