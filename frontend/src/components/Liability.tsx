// A brand's points liability: its budget, what it issued and what was redeemed at it, what
// expires soon, and the redemption rate per month. The brand console and the admin's ledger
// page both show it.

import type { Schemas } from "../api/client";
import { number } from "./format";
import { rateText } from "./liabilityText";

type BrandLiability = Schemas["BrandLiability"];
type Expiring = Schemas["Expiring"];
type Month = Schemas["MonthFigures"];

export function ExpiringFacts({ expiring }: { expiring: Expiring }) {
  return (
    <>
      <div><dt>Expiring within 30 days</dt><dd>{number(expiring.within_30_days)}</dd></div>
      <div><dt>Expiring within 60 days</dt><dd>{number(expiring.within_60_days)}</dd></div>
      <div><dt>Expiring within 90 days</dt><dd>{number(expiring.within_90_days)}</dd></div>
    </>
  );
}

export function MonthsTable({ months, caption, testid }: { months: Month[]; caption: string; testid: string }) {
  return (
    <table class="admin-table" data-testid={testid}>
      <caption>{caption}</caption>
      <thead><tr><th scope="col">Month</th><th scope="col">Issued</th><th scope="col">Redeemed</th><th scope="col">Redemption rate</th></tr></thead>
      <tbody>
        {[...months].reverse().map((m) => (
          <tr key={m.month} data-testid="liability-month">
            <th scope="row">{m.month}</th>
            <td>{number(m.issued)}</td>
            <td>{number(m.redeemed)}</td>
            <td>{rateText(m.redemption_rate)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// `named`: under a heading with the brand's name (a list of brands).
export function BrandLiabilityFigures({ figures, named = false }: { figures: BrandLiability; named?: boolean }) {
  return (
    <div class="stack" data-testid="brand-liability" data-brand={figures.brand_id}>
      {named && <h3>{figures.brand}</h3>}
      <dl class="admin-facts">
        <div><dt>Budget not yet given out</dt><dd data-testid="liability-budget">{number(figures.budget_balance)}</dd></div>
        <div><dt>Issued to members (net of reversals)</dt><dd data-testid="liability-issued">{number(figures.issued)}</dd></div>
        <div><dt>Redeemed at this brand (net of refunds)</dt><dd data-testid="liability-redeemed">{number(figures.redeemed)}</dd></div>
        <div><dt>Still held by members, attributed to this brand</dt><dd data-testid="liability-net">{number(figures.net_outstanding)}</dd></div>
        <ExpiringFacts expiring={figures.expiring} />
      </dl>
      <MonthsTable months={figures.months} caption={`${figures.brand}: points issued and redeemed per month, newest first`} testid="liability-months" />
    </div>
  );
}
