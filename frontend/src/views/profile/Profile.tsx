// #/u/<handle>: a member's profile — name, bio, tier and points, featured badges first and then
// the rest, and recent threads and posts (only those the viewer may read). The member edits
// their own from #/account.

import { call, client } from "../../api/client";
import type { ViewProps } from "../../app/routes";
import { me } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { flagTarget } from "../../components/FlagDialog";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { ViewError } from "../../components/ViewError";
import { number } from "../../components/format";
import { Activity } from "./Activity";
import "./profile.css";

async function loadProfile(handle: string) {
  const profile = await call(client.GET("/api/profiles/{handle}", { params: { path: { handle } } }));
  const member_id = profile.id;
  const [standing, badges] = await Promise.all([
    call(client.GET("/api/members/{member_id}/standing", { params: { path: { member_id } } })),
    call(client.GET("/api/members/{member_id}/badges", { params: { path: { member_id } } })),
  ]);
  return { profile, standing, badges };
}

export function Profile({ params }: ViewProps) {
  const handle = params.handle ?? "";
  const viewer = useStore(me);
  const loaded = useAsync(() => loadProfile(handle), [handle]);
  if (loaded.error) return <ViewError error={loaded.error} signedIn={viewer !== null} />;
  if (!loaded.value) return <p class="muted">Loading…</p>;
  const { profile, standing, badges } = loaded.value;
  const own = viewer?.id === profile.id;
  return (
    <div class="profile-view" data-testid="profile-view">
      <section class="card">
        <div class="profile-head">
          <PageTitle title={profile.display_name} testid="profile-name" />
          <span class="handle" data-testid="profile-handle">@{profile.handle}</span>
          {profile.role !== "member" && <span class="tag">{profile.role.replace("_", " ")}</span>}
          {own && <a href="#/account" data-testid="profile-edit">Edit your profile</a>}
          {viewer !== null && !own && (
            <button type="button" class="link-button" data-testid="profile-flag"
              onClick={() => flagTarget("profile", profile.id, `the profile of @${profile.handle}`)}>
              Flag profile</button>
          )}
        </div>
        {profile.hidden && (
          <p class="notice" data-testid="profile-hidden">Moderators hid this profile's name and bio.</p>
        )}
        {profile.bio && <p class="profile-bio" data-testid="profile-bio">{profile.bio}</p>}
        <dl class="profile-stats">
          <div><dt>Tier</dt><dd data-testid="profile-tier">{standing.tier ?? "—"}</dd></div>
          {standing.points !== null && standing.points !== undefined && (
            <div><dt>Points</dt><dd data-testid="profile-points">{number(standing.points)}</dd></div>
          )}
          <div><dt>Member since</dt><dd><TimeAgo iso={profile.created_at} /></dd></div>
        </dl>
      </section>
      <section class="card" aria-labelledby="profile-badges">
        <h2 id="profile-badges">Badges</h2>
        {badges.length === 0
          ? <p class="muted">No badges yet.</p>
          : (
            <ul class="badge-list">
              {badges.map((b) => (
                <li key={b.badge.id} class={b.featured ? "featured" : undefined}
                  data-testid={b.featured ? "profile-featured-badge" : "profile-badge"}
                  title={b.badge.description}>
                  {b.badge.name}{b.times > 1 ? ` ×${b.times}` : ""}
                </li>
              ))}
            </ul>
          )}
      </section>
      <Activity memberId={profile.id} />
    </div>
  );
}
