// Leaderboard exclusions: members kept off every board (staff are left off anyway).

import { useState } from "preact/hooks";
import { ApiError, call, client } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { staffAction } from "./act";

export function Exclusions() {
  const loaded = useAsync(() => call(client.GET("/api/leaderboards/exclusions")), []);
  const [memberId, setMemberId] = useState("");
  const [error, setError] = useState<unknown>(null);

  async function exclude(event: Event): Promise<void> {
    event.preventDefault();
    if (!/^[1-9][0-9]{0,18}$/.test(memberId.trim())) {
      setError(new ApiError(422, "invalid", "A member id is a positive whole number."));
      return;
    }
    const id = Number(memberId.trim());
    let handle: string;
    try {
      handle = (await call(client.GET("/api/members/{member_id}", { params: { path: { member_id: id } } }))).handle;
    } catch (err) {
      setError(err);
      return;
    }
    const done = await staffAction(
      { title: `Keep @${handle} off the leaderboards?`,
        message: "They disappear from every board until you include them again; their points are kept.",
        confirmLabel: "Exclude", danger: true },
      () => call(client.PUT("/api/leaderboards/exclusions/{member_id}", { params: { path: { member_id: id } } })).then(() => true),
      setError, `@${handle} is off the leaderboards.`);
    if (done) {
      setMemberId("");
      await loaded.reload();
    }
  }

  async function include(id: number, handle: string): Promise<void> {
    const done = await staffAction(
      { title: `Put @${handle} back on the leaderboards?`, message: "Their points count on every board again.",
        confirmLabel: "Include" },
      () => call(client.DELETE("/api/leaderboards/exclusions/{member_id}", { params: { path: { member_id: id } } })).then(() => true),
      setError, `@${handle} is back on the leaderboards.`);
    if (done) await loaded.reload();
  }

  return (
    <div class="stack" data-testid="admin-exclusions">
      <PageTitle title="Leaderboard exclusions" testid="admin-title" />
      <form class="card stack" onSubmit={(e) => void exclude(e)}>
        <h2>Exclude a member</h2>
        <label for="exclude-member">Member id</label>
        <input id="exclude-member" inputMode="numeric" required value={memberId} data-testid="exclude-member"
          aria-describedby="exclude-hint" onInput={(e) => setMemberId(e.currentTarget.value)} />
        <span id="exclude-hint" class="meta">The number in the member's profile address.</span>
        <FormError error={error} />
        <div class="row"><button type="submit" data-testid="exclude-submit">Exclude</button></div>
      </form>
      <div class="card">
        <h2>Excluded members</h2>
        <FormError error={loaded.error} />
        {loaded.value && loaded.value.length === 0 && <p class="muted">Nobody is excluded.</p>}
        {loaded.value && loaded.value.length > 0 && (
          <table class="admin-table">
            <caption class="visually-hidden">Excluded members</caption>
            <thead><tr><th scope="col">Member</th><th scope="col">Excluded</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {loaded.value.map((e) => (
                <tr key={e.member_id} data-testid="admin-exclusion" data-member-id={e.member_id}>
                  <th scope="row">@{e.handle} <span class="meta">{e.display_name} · #{e.member_id}</span></th>
                  <td><TimeAgo iso={e.excluded_at} /></td>
                  <td><button type="button" class="secondary small" onClick={() => void include(e.member_id, e.handle)}>Include again</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
