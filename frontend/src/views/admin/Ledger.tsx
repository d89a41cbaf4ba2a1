// The ledger's invariants, recomputed from the postings on request: every transaction
// balances, the postings sum to zero, balances match their postings, none is below its floor,
// and each member's lots and held points match their balance and pending holds.
// Its hash chain, walked on request; and the points liability of the program and each brand.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { BrandLiabilityFigures, ExpiringFacts, MonthsTable } from "../../components/Liability";
import { liabilityCsvHref } from "../../components/liabilityText";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { number } from "../../components/format";
import { useAsync } from "../../app/useAsync";

type Invariants = Schemas["Invariants"];
type Verification = Schemas["ChainVerification"];

const MONTHS = 12;

function ChainVerify() {
  const [result, setResult] = useState<Verification | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function verify(): Promise<void> {
    setBusy(true);
    try {
      setResult(await call(client.GET("/api/gamification/ledger/verify")));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const broken = result?.broken;
  return (
    <section class="stack" aria-labelledby="chain-h">
      <h2 id="chain-h">Hash chain</h2>
      <p class="meta">Each transaction's hash covers the one before it: an edited, removed or reordered
        transaction breaks the chain from there on. Walks every transaction.</p>
      <div class="row">
        <button type="button" disabled={busy} data-testid="chain-verify" onClick={() => void verify()}>
          {busy ? "Verifying…" : result ? "Verify again" : "Verify the chain"}
        </button>
      </div>
      <FormError error={error} />
      <div aria-live="polite">
        {result && (
          <div class={result.ok ? "card verdict ok" : "card verdict bad"} data-testid="chain-result" data-ok={String(result.ok)}>
            <h3>{result.ok ? `The chain holds: ${number(result.checked)} transactions` : `Broken at transaction ${broken?.transaction_id}`}</h3>
            <p class="meta">Verified <TimeAgo iso={result.verified_at} />.</p>
            <dl class="admin-facts">
              <div><dt>Head</dt><dd>transaction {result.head_transaction}, <code class="hash">{result.head_hash}</code></dd></div>
              {broken && (
                <>
                  <div><dt>Problem</dt><dd data-testid="chain-problem">{broken.problem}</dd></div>
                  <div><dt>Expected hash</dt><dd><code class="hash">{broken.expected}</code></dd></div>
                  <div><dt>Stored hash</dt><dd><code class="hash">{broken.stored ?? "none"}</code></dd></div>
                  <div><dt>Transactions before it that hold</dt><dd>{number(result.checked)}</dd></div>
                </>
              )}
            </dl>
          </div>
        )}
      </div>
    </section>
  );
}

function ProgramLiability() {
  const report = useAsync(() => call(client.GET("/api/gamification/liability", { params: { query: { months: MONTHS } } })), []);
  const value = report.value;
  return (
    <section class="stack" aria-labelledby="liability-h" data-testid="admin-liability">
      <h2 id="liability-h">Liability</h2>
      <p class="meta">What is owed in points. A brand's share of member balances is attributed: what its
        budget issued less what was redeemed at it. Months are UTC.</p>
      <FormError error={report.error} />
      {value ? (
        <>
          <dl class="admin-facts">
            <div><dt>Held by members</dt><dd data-testid="liability-members">{number(value.members_outstanding)}</dd></div>
            <div><dt>In brand budgets</dt><dd data-testid="liability-budgets">{number(value.budgets_outstanding)}</dd></div>
            <div><dt>Issued to members (net of reversals)</dt><dd>{number(value.issued)}</dd></div>
            <div><dt>Redeemed (net of refunds)</dt><dd>{number(value.redeemed)}</dd></div>
            <ExpiringFacts expiring={value.expiring} />
          </dl>
          <MonthsTable months={value.months} caption="All brands and issuance: points issued and redeemed per month, newest first" testid="liability-months-all" />
          {value.brands.map((brand) => <BrandLiabilityFigures key={brand.brand_id} figures={brand} named />)}
        </>
      ) : !report.error && <p>Loading…</p>}
      <p><a href={liabilityCsvHref(null, MONTHS)} download data-testid="liability-csv">Download as CSV</a></p>
    </section>
  );
}

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
      <h2>Invariants</h2>
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
            <h3>{ok ? "All invariants hold" : "The ledger has problems"}</h3>
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
      <ChainVerify />
      <ProgramLiability />
    </div>
  );
}
