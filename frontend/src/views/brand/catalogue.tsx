// Catalogue: the brand's rewards (create, edit, publish), their code pools (CSV upload, bad
// lines listed by number), and redemptions with refunds.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { CursorTable } from "../../components/CursorTable";
import { FormError } from "../../components/FormError";
import { number } from "../../components/format";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { bodyOf, EMPTY_FORM, formOf, lineErrors, type RewardForm } from "./catalogueModel";
import type { Brand } from "./Frame";

type Reward = Schemas["RewardOut"];
type Redemption = Schemas["RedemptionOut"];

function RewardEditor({ brand, editing, onDone }: { brand: Brand; editing: Reward | null; onDone: () => void }) {
  const [form, setForm] = useState<RewardForm>(editing ? formOf(editing) : EMPTY_FORM);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<RewardForm>) => setForm({ ...form, ...patch });
  const text = (field: keyof RewardForm) => (e: Event) => set({ [field]: (e.target as HTMLInputElement).value });

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    try {
      const body = bodyOf(form);
      if (editing) {
        await call(client.PUT("/api/brands/{brand_id}/rewards/{reward_id}", {
          params: { path: { brand_id: brand.id, reward_id: editing.id } }, body }));
      } else {
        await call(client.POST("/api/brands/{brand_id}/rewards", { params: { path: { brand_id: brand.id } }, body }));
      }
      setError(null);
      toast(editing ? "Reward saved." : "Reward created.", "success");
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card" aria-labelledby="reward-form-h">
      <h2 id="reward-form-h">{editing ? `Edit “${editing.title}”` : "New reward"}</h2>
      <form class="stack" data-testid="reward-form" onSubmit={(e) => void submit(e)} noValidate>
        <label for="reward-title">Title</label>
        <input id="reward-title" value={form.title} maxLength={120} required data-testid="reward-title" onInput={text("title")} />
        <label for="reward-description">Description</label>
        <textarea id="reward-description" value={form.description} maxLength={5000} onInput={text("description")} />
        <label for="reward-image">Image URL (https, optional)</label>
        <input id="reward-image" type="url" value={form.imageUrl} maxLength={500} onInput={text("imageUrl")} />
        <div class="grid2">
          <label>Price in points
            <input type="number" min={1} value={form.price} required data-testid="reward-price" onInput={text("price")} />
          </label>
          <label>Stock (empty: unlimited)
            <input type="number" min={0} value={form.stock} data-testid="reward-stock" onInput={text("stock")} />
          </label>
          <label>Per member (empty: no limit)
            <input type="number" min={1} value={form.perMemberLimit} data-testid="reward-limit" onInput={text("perMemberLimit")} />
          </label>
          <label>Fulfilment
            <select value={form.fulfilment} data-testid="reward-fulfilment"
              onChange={(e) => set({ fulfilment: (e.target as HTMLSelectElement).value === "webhook" ? "webhook" : "codes" })}>
              <option value="codes">A code from the pool</option>
              <option value="webhook">By webhook (your systems fulfil it)</option>
            </select>
          </label>
          <label>Lowest tier (empty: anyone)
            <input value={form.minTier} maxLength={60} data-testid="reward-tier" onInput={text("minTier")} />
          </label>
          <label>Badge id required (optional)
            <input type="number" min={1} value={form.badgeId} onInput={text("badgeId")} />
          </label>
          <label>Available from (optional)
            <input type="datetime-local" value={form.startsAt} onInput={text("startsAt")} />
          </label>
          <label>Available until (optional)
            <input type="datetime-local" value={form.endsAt} onInput={text("endsAt")} />
          </label>
        </div>
        <label class="inline">
          <input type="checkbox" checked={form.published} data-testid="reward-published"
            onChange={(e) => set({ published: (e.target as HTMLInputElement).checked })} /> Published (members see it)
        </label>
        <FormError error={error} />
        <div>
          <button type="submit" disabled={busy} data-testid="reward-save">{editing ? "Save" : "Create"}</button>
          {editing && <button type="button" class="secondary" onClick={onDone}>Cancel</button>}
        </div>
      </form>
    </section>
  );
}

function CodeUpload({ brand, reward, onDone }: { brand: Brand; reward: Reward; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const bad = lineErrors(error);

  async function upload(file: File): Promise<void> {
    setBusy(true);
    try {
      const done = await call(client.POST("/api/brands/{brand_id}/rewards/{reward_id}/codes", {
        params: { path: { brand_id: brand.id, reward_id: reward.id } }, body: { csv: await file.text() } }));
      setError(null);
      toast(`${number(done.imported)} codes added; ${number(done.codes_available)} available.`, "success");
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="stack" data-testid="code-upload">
      <label for={`codes-${reward.id}`}>Add codes to “{reward.title}” (CSV, one code per line)</label>
      <input id={`codes-${reward.id}`} type="file" accept=".csv,text/csv,text/plain" disabled={busy} data-testid="code-file"
        onChange={(e) => { const file = (e.target as HTMLInputElement).files?.[0]; if (file) void upload(file); }} />
      <FormError error={error} />
      {bad.length > 0 && (
        <ul class="line-errors" data-testid="code-line-errors">
          {bad.map((b) => <li key={b.line}>Line {b.line}: {b.message}</li>)}
        </ul>
      )}
    </div>
  );
}

function Redemptions({ brand, version, onChange }: { brand: Brand; version: number; onChange: () => void }) {
  const [refunding, setRefunding] = useState<Redemption | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);

  async function refund(event: Event): Promise<void> {
    event.preventDefault();
    if (!refunding) return;
    const ok = await confirmAction({
      title: "Refund this redemption?", confirmLabel: "Refund", danger: true,
      message: `@${refunding.member_handle} gets ${number(refunding.points)} points back; “${refunding.title}” goes back in stock. `
        + "A code is void and never issued again.",
    });
    if (!ok) return;
    try {
      await call(client.POST("/api/brands/{brand_id}/redemptions/{redemption_id}/refund", {
        params: { path: { brand_id: brand.id, redemption_id: refunding.id } }, body: { reason: reason.trim() } }));
      setRefunding(null); setReason(""); setError(null);
      toast("Refunded.", "success");
      onChange();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section class="card" aria-labelledby="redemptions-h">
      <h2 id="redemptions-h">Redemptions</h2>
      {refunding && (
        <form class="stack" data-testid="refund-form" onSubmit={(e) => void refund(e)} noValidate>
          <label for="refund-reason">Why refund “{refunding.title}” for @{refunding.member_handle}? (the member sees it)</label>
          <input id="refund-reason" value={reason} maxLength={500} required data-testid="refund-reason"
            onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
          <FormError error={error} />
          <div>
            <button type="submit" data-testid="refund-submit">Refund</button>
            <button type="button" class="secondary" onClick={() => setRefunding(null)}>Cancel</button>
          </div>
        </form>
      )}
      <CursorTable<Redemption, number>
        testid="redemptions" caption="Redemptions, newest first" empty="No redemptions yet."
        version={version} rowKey={(row) => row.id}
        load={(before) => call(client.GET("/api/brands/{brand_id}/redemptions", {
          params: { path: { brand_id: brand.id }, query: before === null ? {} : { before } },
        }))}
        columns={[
          { title: "When", cell: (row) => <TimeAgo iso={row.created_at} /> },
          { title: "Member", cell: (row) => `@${row.member_handle}` },
          { title: "Reward", cell: (row) => row.title },
          { title: "Points", cell: (row) => number(row.points) },
          { title: "Code", cell: (row) => row.code || "webhook" },
          { title: "Status", cell: (row) => (row.status === "refunded" ? `refunded: ${row.refund_reason}` : row.status) },
          { title: "", cell: (row) => row.status === "redeemed" && (
            <button type="button" class="secondary small" data-testid="refund" onClick={() => { setRefunding(row); setReason(""); }}>
              Refund
            </button>
          ) },
        ]} />
    </section>
  );
}

export function Catalogue({ brand }: { brand: Brand }) {
  const rewards = useAsync(() => call(client.GET("/api/brands/{brand_id}/rewards", {
    params: { path: { brand_id: brand.id } } })), [brand.id]);
  const [editing, setEditing] = useState<Reward | null>(null);
  const [pool, setPool] = useState<Reward | null>(null);
  const [version, setVersion] = useState(0);
  const refresh = () => { setEditing(null); setVersion(version + 1); void rewards.reload(); };

  return (
    <>
      <RewardEditor key={editing ? editing.id : "new"} brand={brand} editing={editing} onDone={refresh} />
      <section class="card" aria-labelledby="rewards-h">
        <h2 id="rewards-h">Rewards</h2>
        <FormError error={rewards.error} />
        {rewards.value && rewards.value.length === 0 && <p class="muted">No rewards yet.</p>}
        {rewards.value && rewards.value.length > 0 && (
          <table data-testid="rewards">
            <caption class="visually-hidden">The brand's rewards</caption>
            <thead><tr>
              <th scope="col">Reward</th><th scope="col">Price</th><th scope="col">Stock</th>
              <th scope="col">Codes left</th><th scope="col">Redeemed</th><th scope="col">Shown</th><th scope="col"></th>
            </tr></thead>
            <tbody>
              {rewards.value.map((r) => (
                <tr key={r.id} data-testid="reward-row">
                  <td>{r.title}</td>
                  <td>{number(r.price)}</td>
                  <td>{r.stock === null || r.stock === undefined ? "unlimited" : number(r.stock)}</td>
                  <td>{r.fulfilment === "codes" ? number(r.codes_available) : "webhook"}</td>
                  <td>{number(r.redeemed)}</td>
                  <td>{r.published ? "published" : "draft"}</td>
                  <td>
                    <button type="button" class="secondary small" onClick={() => setEditing(r)}>Edit</button>
                    {r.fulfilment === "codes" && (
                      <button type="button" class="secondary small" data-testid="reward-codes" onClick={() => setPool(r)}>Codes</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {pool && <CodeUpload key={pool.id} brand={brand} reward={pool} onDone={refresh} />}
      </section>
      <Redemptions brand={brand} version={version} onChange={refresh} />
    </>
  );
}
