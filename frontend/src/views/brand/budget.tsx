// Budget: the brand's balance, its points liability (with a CSV download), where it went
// (newest first, each with its reason), and goodwill adjustments paid from it.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { CursorTable } from "../../components/CursorTable";
import { FormError } from "../../components/FormError";
import { BrandLiabilityFigures } from "../../components/Liability";
import { liabilityCsvHref } from "../../components/liabilityText";
import { number } from "../../components/format";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import type { Brand } from "./Frame";
import { newKey } from "./model";

type Entry = Schemas["HistoryEntry"];

function Adjust({ brand, admin, onDone }: { brand: Brand; admin: boolean; onDone: () => void }) {
  const [memberId, setMemberId] = useState("");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // One key per adjustment being made: a retry after a lost answer cannot pay twice.
  const [key, setKey] = useState(() => newKey("console-adjust"));

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const points = Number(amount);
    const ok = await confirmAction({
      title: "Adjust points?",
      message: points < 0
        ? `Take ${number(-points)} points from member ${memberId}: “${reason}”.`
        : `Give member ${memberId} ${number(points)} points from ${brand.name}'s budget: “${reason}”.`,
      confirmLabel: "Adjust",
      danger: points < 0,
    });
    if (!ok) return;
    setBusy(true);
    try {
      await call(client.POST("/api/gamification/adjustments", {
        body: { member_id: Number(memberId), amount: points, reason: reason.trim(), idempotency_key: key, brand_id: brand.id },
      }));
      setError(null);
      setMemberId(""); setAmount(""); setReason(""); setKey(newKey("console-adjust"));
      toast("Points adjusted.", "success");
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card" aria-labelledby="adjust-h">
      <h2 id="adjust-h">Adjust a member's points</h2>
      <form class="stack" data-testid="adjust-form" onSubmit={(e) => void submit(e)} noValidate>
        <div class="grid2">
          <label>Member id
            <input type="number" min={1} value={memberId} data-testid="adjust-member" required
              onInput={(e) => setMemberId((e.target as HTMLInputElement).value)} />
          </label>
          <label>Points
            <input type="number" min={admin ? undefined : 1} value={amount} data-testid="adjust-amount" required
              onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
          </label>
        </div>
        <label for="adjust-reason">Reason (the member sees it)</label>
        <input id="adjust-reason" value={reason} maxLength={500} data-testid="adjust-reason" required
          onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        <FormError error={error} />
        <div><button type="submit" disabled={busy} data-testid="adjust-submit">Adjust</button></div>
        {!admin && <p class="meta">Brand staff give points from the budget; to correct an award, ask an admin to reverse it.</p>}
      </form>
    </section>
  );
}

const MONTHS = 12;

function Liability({ brand, version }: { brand: Brand; version: number }) {
  const figures = useAsync(() => call(client.GET("/api/gamification/brands/{brand_id}/liability", {
    params: { path: { brand_id: brand.id }, query: { months: MONTHS } },
  })), [brand.id, version]);
  return (
    <section class="card" aria-labelledby="liability-h">
      <h2 id="liability-h">Liability</h2>
      <p class="meta">Points are one currency: what members still hold of what you issued is attributed
        as issued less redeemed here. Months are UTC.</p>
      <FormError error={figures.error} />
      {figures.value ? <BrandLiabilityFigures figures={figures.value} /> : <p>Loading…</p>}
      <p><a href={liabilityCsvHref(brand.id, MONTHS)} download data-testid="liability-csv">Download as CSV</a></p>
    </section>
  );
}

export function Budget({ brand, admin }: { brand: Brand; admin: boolean }) {
  const path = { params: { path: { brand_id: brand.id } } };
  const balance = useAsync(() => call(client.GET("/api/gamification/brands/{brand_id}/budget", path)), [brand.id]);
  const [version, setVersion] = useState(0);
  const refresh = () => { setVersion(version + 1); void balance.reload(); };
  return (
    <>
      <section class="card" aria-labelledby="balance-h">
        <h2 id="balance-h">Balance</h2>
        <FormError error={balance.error} />
        <p class="big-number" aria-live="polite">
          <strong data-testid="budget-balance">{balance.value ? number(balance.value.balance ?? 0) : "…"}</strong> points
        </p>
      </section>
      <Liability brand={brand} version={version} />
      <Adjust brand={brand} admin={admin} onDone={refresh} />
      <section class="card" aria-labelledby="history-h">
        <h2 id="history-h">History</h2>
        <CursorTable<Entry, number>
          testid="budget-history" caption="Budget history, newest first" empty="Nothing has moved yet."
          version={version} rowKey={(row) => row.id}
          load={(before) => call(client.GET("/api/gamification/brands/{brand_id}/budget/history", {
            params: { path: { brand_id: brand.id }, query: before === null ? {} : { before } },
          }))}
          columns={[
            { title: "When", cell: (row) => <TimeAgo iso={row.created_at} /> },
            { title: "Kind", cell: (row) => row.kind },
            { title: "Points", cell: (row) => (row.amount > 0 ? `+${number(row.amount)}` : number(row.amount)) },
            { title: "Reason", cell: (row) => row.reason },
          ]} />
      </section>
    </>
  );
}
