// The ledger's invariants, recomputed from the postings on request: every transaction
// balances, the postings sum to zero, balances match their postings, none is below its floor,
// and each member's lots and held points match their balance and pending holds.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { number } from "../../components/format";

type Invariants = Schemas["Invariants"];

export const invariantsHold = (r: Invariants): boolean =>
  r.postings_sum === 0 && r.unbalanced_transactions.length === 0
  && r.balances_not_matching_postings.length === 0 && r.accounts_below_minimum.length === 0
  && r.lots_or_holds_not_matching.length === 0;

function Finding({ title, items, testid }: { title: string; items: (string | number)[]; testid: string }) {
  return (
    <div data-testid={testid}>
      <dt>{title}</dt>
      <dd>{items.length === 0 ? "None" : <ul>{items.map((i) => <li key={i}>{i}</li>)}</ul>}</dd>
    </div>
  );
}

export function Ledger() {
  const [result, setResult] = useState<Invariants | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function check(): Promise<void> {
    setBusy(true);
    try {
      setResult(await call(client.GET("/api/gamification/ledger/check")));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const ok = result !== null && invariantsHold(result);
  return (
    <div class="stack" data-testid="admin-ledger">
      <PageTitle title="Ledger check" testid="admin-title" />
      <p class="meta">Reads every posting; on a large ledger it takes a moment.</p>
      <div class="row">
        <button type="button" disabled={busy} data-testid="ledger-check" onClick={() => void check()}>
          {busy ? "Checking…" : result ? "Check again" : "Check the ledger"}
        </button>
      </div>
      <FormError error={error} />
      <div aria-live="polite">
        {result && (
          <div class={ok ? "card verdict ok" : "card verdict bad"} data-testid="ledger-result" data-ok={String(ok)}>
            <h2>{ok ? "All invariants hold" : "The ledger has problems"}</h2>
            <p class="meta">Checked <TimeAgo iso={result.checked_at} />.</p>
            <dl class="admin-facts">
              <div><dt>Sum of all postings</dt><dd>{number(result.postings_sum)} (should be 0)</dd></div>
              <Finding title="Unbalanced transactions" items={result.unbalanced_transactions} testid="ledger-unbalanced" />
              <Finding title="Balances not matching their postings" items={result.balances_not_matching_postings} testid="ledger-mismatched" />
              <Finding title="Accounts below their minimum" items={result.accounts_below_minimum} testid="ledger-below" />
              <Finding title="Members whose lots or holds do not match their balance"
                items={result.lots_or_holds_not_matching} testid="ledger-lots" />
            </dl>
          </div>
        )}
      </div>
    </div>
  );
}
