// Members: look one up by the start of their handle or email, page through the matches, and
// change a member's role (and, for brand staff, their brand).

import { useEffect, useState } from "preact/hooks";
import { ApiError, call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { number } from "../../components/format";
import { staffAction } from "./act";

type MemberPage = Schemas["MemberPage"];
type MemberRow = Schemas["MemberAdminOut"];

const PAGE_SIZE = 20;

function searchMembers(search: string, page: number): Promise<MemberPage> {
  return call(client.GET("/api/members", { params: { query: { search, page, limit: PAGE_SIZE } } }));
}

const ROLES: Record<string, string> = {
  member: "Member", moderator: "Moderator", admin: "Admin", brand_staff: "Brand staff",
};

type Brand = Schemas["BrandOut"];

export function Members() {
  const [search, setSearch] = useState("");
  const [asked, setAsked] = useState({ search: "", page: 1 });
  const found = useAsync(() => searchMembers(asked.search, asked.page), [asked.search, asked.page]);
  const brands = useAsync(() => call(client.GET("/api/brands")), []);
  const result = found.value;

  return (
    <div class="stack" data-testid="admin-members">
      <PageTitle title="Members" testid="admin-title" />
      <form class="card row" role="search" onSubmit={(e) => { e.preventDefault(); setAsked({ search: search.trim(), page: 1 }); }}>
        <label for="member-search">Handle or email starts with</label>
        <input id="member-search" class="grow" value={search} maxLength={254} data-testid="member-search"
          onInput={(e) => setSearch(e.currentTarget.value)} />
        <button type="submit" data-testid="member-search-submit">Search</button>
      </form>
      <FormError error={found.error} />
      {result && (
        <div class="card" aria-live="polite">
          <p class="meta" data-testid="member-total">
            {number(result.total)}{result.total_exact ? "" : "+"} {result.total === 1 ? "member" : "members"}
            {result.pages > 1 ? ` · page ${result.page} of ${number(result.pages)}` : ""}
          </p>
          {result.items.length > 0 && (
            <table class="admin-table">
              <caption class="visually-hidden">Members found</caption>
              <thead><tr><th scope="col">Member</th><th scope="col">Email</th><th scope="col">Role</th></tr></thead>
              <tbody>
                {result.items.map((m) => (
                  <MemberLine key={m.id} member={m} brands={brands.value ?? []} />
                ))}
              </tbody>
            </table>
          )}
          <div class="row">
            <button type="button" class="secondary small" disabled={result.page <= 1 || found.loading}
              onClick={() => setAsked({ ...asked, page: asked.page - 1 })}>Previous page</button>
            <button type="button" class="secondary small" disabled={result.page >= result.pages || found.loading}
              data-testid="member-next" onClick={() => setAsked({ ...asked, page: asked.page + 1 })}>Next page</button>
          </div>
        </div>
      )}
    </div>
  );
}

function MemberLine({ member, brands }: { member: MemberRow; brands: Brand[] }) {
  const [shown, setShown] = useState(member);
  const [role, setRole] = useState(member.role);
  const [brand, setBrand] = useState(member.brand_id === null ? "" : String(member.brand_id));
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { setShown(member); }, [member]);
  const changed = role !== shown.role || (role === "brand_staff" && brand !== String(shown.brand_id ?? ""));

  async function save(): Promise<void> {
    if (role === "brand_staff" && brand === "") {
      setError(new ApiError(422, "invalid", "Choose the brand they work for."));
      return;
    }
    const brandName = brands.find((b) => String(b.id) === brand)?.name;
    const out = await staffAction(
      { title: `Make @${shown.handle} ${ROLES[role]?.toLowerCase() ?? role}?`,
        message: role === "brand_staff" ? `They will act for ${brandName ?? "the brand"} and leave the leaderboards.`
          : role === "member" ? "They lose any staff powers they had."
          : `They get a ${ROLES[role]?.toLowerCase() ?? role}'s powers at once.`,
        confirmLabel: "Change role", danger: role === "admin" },
      () => call(client.PUT("/api/members/{member_id}/role", {
        params: { path: { member_id: shown.id } },
        body: { role, brand_id: role === "brand_staff" ? Number(brand) : null } })),
      setError, "Role changed.");
    if (out) setShown({ ...shown, role: out.role, brand_id: out.brand_id ?? null });
  }

  return (
    <tr data-testid="member-row" data-member-id={shown.id}>
      <th scope="row">
        @{shown.handle} <span class="meta">{shown.display_name} · #{shown.id}{shown.is_active ? "" : " · suspended"}</span>
      </th>
      <td class="detail">{shown.email}</td>
      <td>
        <div class="row">
          <label class="visually-hidden" for={`role-${shown.id}`}>Role of @{shown.handle}</label>
          <select id={`role-${shown.id}`} value={role} data-testid="member-role"
            onChange={(e) => setRole(e.currentTarget.value)}>
            {Object.entries(ROLES).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
          {role === "brand_staff" && (
            <>
              <label class="visually-hidden" for={`brand-${shown.id}`}>Brand of @{shown.handle}</label>
              <select id={`brand-${shown.id}`} value={brand} data-testid="member-brand"
                onChange={(e) => setBrand(e.currentTarget.value)}>
                <option value="">Choose a brand</option>
                {brands.map((b) => <option key={b.id} value={String(b.id)}>{b.name}</option>)}
              </select>
            </>
          )}
          <button type="button" class="small" disabled={!changed} data-testid="member-save"
            onClick={() => void save()}>Save</button>
        </div>
        <FormError error={error} />
      </td>
    </tr>
  );
}
