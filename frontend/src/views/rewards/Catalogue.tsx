// The member's side of the catalogue: rewards to spend points on (each saying why not, when
// not), redeeming with a confirmation, the code shown at once with a copy button, and the
// member's redemptions, codes included (they are the member's own, visible to nobody else).

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { number } from "../../components/format";
import { toast } from "../../components/Toast";
import { day } from "./format";

type Item = Schemas["CatalogueItem"];

// Not imported from the brand console's model: members never load the console's code.
const newKey = (): string => `redeem-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
type Redemption = Schemas["RedemptionOut"];

async function copy(code: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(code);
    toast("Code copied.", "success");
  } catch {
    toast("Copying is blocked here: select the code and copy it.");
  }
}

function Claimed({ redemption, onClose }: { redemption: Redemption; onClose: () => void }) {
  return (
    <div class="notice" role="status" data-testid="redeemed">
      <p>You redeemed “{redemption.title}” for {number(redemption.points)} points.</p>
      {redemption.code ? (
        <p>
          Your code: <code class="reward-code" data-testid="redeemed-code">{redemption.code}</code>{" "}
          <button type="button" class="secondary small" onClick={() => void copy(redemption.code)}>Copy</button>
          <br /><span class="muted">It stays under “Your redemptions” below.</span>
        </p>
      ) : <p class="muted">The brand will fulfil it for you.</p>}
      <button type="button" class="secondary small" onClick={onClose}>Done</button>
    </div>
  );
}

export function CatalogueCard({ onRedeemed }: { onRedeemed: () => void }) {
  const items = useAsync(() => call(client.GET("/api/rewards")), []);
  const history = useAsync(() => call(client.GET("/api/me/redemptions", { params: { query: { limit: 20 } } })), []);
  const [claimed, setClaimed] = useState<Redemption | null>(null);
  const [error, setError] = useState<unknown>(null);
  // One key per reward while its redemption is being asked for: a double click or a retry
  // after a lost answer is one redemption.
  const [keys, setKeys] = useState<Record<number, string>>({});

  async function redeem(item: Item): Promise<void> {
    const reward = item.reward;
    const ok = await confirmAction({
      title: `Redeem “${reward.title}”?`,
      message: `${number(reward.price)} points will be taken from your balance.`,
      confirmLabel: "Redeem",
    });
    if (!ok) return;
    const key = keys[reward.id] ?? newKey();
    setKeys({ ...keys, [reward.id]: key });
    try {
      const done = await call(client.POST("/api/rewards/{reward_id}/redeem", {
        params: { path: { reward_id: reward.id } }, body: { idempotency_key: key } }));
      setClaimed(done);
      setError(null);
      const rest = { ...keys };
      delete rest[reward.id];
      setKeys(rest);
      void items.reload();
      void history.reload();
      onRedeemed();
    } catch (err) {
      setError(err);
      void items.reload();
    }
  }

  return (
    <>
      <section class="card reward-card wide" data-testid="catalogue-card" aria-labelledby="catalogue-title">
        <h2 id="catalogue-title">Spend your points</h2>
        {claimed && <Claimed redemption={claimed} onClose={() => setClaimed(null)} />}
        <FormError error={error ?? items.error} />
        {items.value && items.value.length === 0 && <p class="muted">No rewards on offer right now.</p>}
        {items.value && items.value.length > 0 && (
          <ul class="catalogue">
            {items.value.map((item) => (
              <li key={item.reward.id} data-testid="catalogue-item">
                {item.reward.image_url && <img src={item.reward.image_url} alt="" width={64} height={64} loading="lazy" />}
                <span class="reward-text">
                  <strong>{item.reward.title}</strong>
                  {item.reward.description && <span class="muted">{item.reward.description}</span>}
                  <span>{number(item.reward.price)} points</span>
                  {item.why_not && <span class="muted" data-testid="why-not">{item.why_not}</span>}
                </span>
                <button type="button" disabled={!item.available} data-testid="redeem"
                  aria-label={`Redeem ${item.reward.title} for ${number(item.reward.price)} points`}
                  onClick={() => void redeem(item)}>Redeem</button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card reward-card wide" data-testid="redemptions-card" aria-labelledby="redemptions-title">
        <h2 id="redemptions-title">Your redemptions</h2>
        <FormError error={history.error} />
        {history.value && history.value.items.length === 0 && <p class="muted">Nothing redeemed yet.</p>}
        {history.value && history.value.items.length > 0 && (
          <ul class="history">
            {history.value.items.map((r) => (
              <li key={r.id} data-testid="redemption">
                <span class="reason">{r.title}</span>
                {r.code && <code class="reward-code" data-testid="redemption-code">{r.code}</code>}
                <span class="muted">
                  {r.status === "refunded" ? `refunded${r.refund_reason ? `: ${r.refund_reason}` : ""}` : `${number(r.points)} points`}
                </span>
                <time class="muted" dateTime={r.created_at}>{day(r.created_at)}</time>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
