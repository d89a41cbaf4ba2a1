// Badges: grant a badge by hand with a reason, see the grants (for brand staff: those their
// brand's staff made) and revoke one, with a reason.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { CursorTable } from "../../components/CursorTable";
import { FormError } from "../../components/FormError";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import type { Brand } from "./Frame";

type Badge = Schemas["BadgeOut"];
type Grant = Schemas["GrantListed"];

/** Badges staff may grant by hand: manual, paying no points (admins: any). */
export function grantable(badges: readonly Badge[], admin: boolean): Badge[] {
  return badges.filter((b) => b.enabled && (admin || (b.criteria.type === "manual" && b.points === 0)));
}

function GrantForm({ badge, onDone }: { badge: Badge; onDone: () => void }) {
  const [memberId, setMemberId] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const ok = await confirmAction({
      title: `Grant “${badge.name}”?`, confirmLabel: "Grant",
      message: `Member ${memberId} gets the badge and is notified: “${reason}”.`,
    });
    if (!ok) return;
    setBusy(true);
    try {
      await call(client.POST("/api/gamification/badges/{badge_id}/grants", {
        params: { path: { badge_id: badge.id } }, body: { member_id: Number(memberId), reason: reason.trim() },
      }));
      setMemberId(""); setReason(""); setError(null);
      toast("Badge granted.", "success");
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack" data-testid="grant-form" onSubmit={(e) => void submit(e)} noValidate>
      <div class="grid2">
        <label>Member id
          <input type="number" min={1} value={memberId} data-testid="grant-member" required
            onInput={(e) => setMemberId((e.target as HTMLInputElement).value)} />
        </label>
        <label>Reason
          <input value={reason} maxLength={500} data-testid="grant-reason" required
            onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <FormError error={error} />
      <div><button type="submit" disabled={busy} data-testid="grant-submit">Grant badge</button></div>
    </form>
  );
}

function RevokeForm({ badge, grant, onDone, onClose }: {
  badge: Badge; grant: Grant; onDone: () => void; onClose: () => void;
}) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const ok = await confirmAction({
      title: `Revoke @${grant.handle}'s “${badge.name}”?`, danger: true, confirmLabel: "Revoke",
      message: `The member loses the badge: “${reason}”.`,
    });
    if (!ok) return;
    setBusy(true);
    try {
      await call(client.POST("/api/gamification/badges/{badge_id}/grants/{grant_id}/revoke", {
        params: { path: { badge_id: badge.id, grant_id: grant.id } }, body: { reason: reason.trim() },
      }));
      toast("Badge revoked.", "success");
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack notice" data-testid="revoke-form" onSubmit={(e) => void submit(e)} noValidate>
      <label for="revoke-reason">Why revoke @{grant.handle}'s badge?</label>
      <input id="revoke-reason" value={reason} maxLength={500} data-testid="revoke-reason" required
        onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      <FormError error={error} />
      <div class="actions-row">
        <button type="submit" class="danger" disabled={busy} data-testid="revoke-submit">Revoke</button>
        <button type="button" class="secondary" onClick={onClose}>Keep it</button>
      </div>
    </form>
  );
}

export function Badges({ admin }: { brand: Brand; admin: boolean }) {
  const badges = useAsync(() => call(client.GET("/api/gamification/badges")), []);
  const [badgeId, setBadgeId] = useState<number | null>(null);
  const [version, setVersion] = useState(0);
  const [revoking, setRevoking] = useState<Grant | null>(null);
  const choices = grantable(badges.value ?? [], admin);
  const badge = choices.find((b) => b.id === badgeId) ?? choices[0] ?? null;
  const changed = () => { setRevoking(null); setVersion(version + 1); };

  return (
    <>
      <FormError error={badges.error} />
      {badges.value && choices.length === 0 && (
        <p class="muted">There are no badges you can grant by hand: an admin creates manual badges.</p>
      )}
      {badge && (
        <section class="card stack" aria-labelledby="grant-h">
          <h2 id="grant-h">Grant a badge</h2>
          <label for="badge-pick">Badge</label>
          <select id="badge-pick" value={String(badge.id)} data-testid="badge-pick"
            onChange={(e) => { setBadgeId(Number((e.target as HTMLSelectElement).value)); setRevoking(null); }}>
            {choices.map((b) => <option key={b.id} value={String(b.id)}>{b.name}</option>)}
          </select>
          {badge.description && <p class="meta">{badge.description}</p>}
          <GrantForm key={badge.id} badge={badge} onDone={changed} />
        </section>
      )}
      {badge && (
        <section class="card stack" aria-labelledby="grants-h">
          <h2 id="grants-h">Grants of “{badge.name}”</h2>
          {!admin && <p class="meta">The grants your brand's staff made.</p>}
          {revoking && <RevokeForm key={revoking.id} badge={badge} grant={revoking} onDone={changed}
            onClose={() => setRevoking(null)} />}
          <CursorTable<Grant, number> key={badge.id}
            testid="grant-list" caption={`Grants of ${badge.name}, newest first`} empty="Nobody has been granted it yet."
            version={version} rowKey={(g) => g.id}
            load={(before) => call(client.GET("/api/gamification/badges/{badge_id}/grants", {
              params: { path: { badge_id: badge.id }, query: before === null ? {} : { before } },
            }))}
            columns={[
              { title: "Member", cell: (g) => `@${g.handle}` },
              { title: "Reason", cell: (g) => g.reason },
              { title: "Granted", cell: (g) => <TimeAgo iso={g.granted_at} /> },
              { title: "State", cell: (g) => (g.revoked_at
                ? <>Revoked <TimeAgo iso={g.revoked_at} />: {g.revoked_reason}</>
                : <button type="button" class="link-button danger-text" data-testid="grant-revoke"
                  onClick={() => setRevoking(g)}>Revoke</button>) },
            ]} />
        </section>
      )}
    </>
  );
}
