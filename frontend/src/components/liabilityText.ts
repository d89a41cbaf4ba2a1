// Plain helpers for the liability figures (kept apart from the view for unit tests).

// A redemption rate as a percentage; none when nothing was issued that month.
export function rateText(rate: number | null): string {
  return rate === null ? "none issued" : `${(rate * 100).toFixed(1)}%`;
}

// The CSV download's address, for a brand or (no brand) the whole program.
export function liabilityCsvHref(brandId: number | null, months: number): string {
  const path = brandId === null ? "/api/gamification/liability.csv" : `/api/gamification/brands/${brandId}/liability.csv`;
  return `${path}?months=${months}`;
}
