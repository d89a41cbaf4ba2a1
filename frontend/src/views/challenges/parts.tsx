// Pieces both challenge pages show: the status tag and the dates in the challenge's zone.

import { statusLabel, zoned, type Challenge } from "./logic";

export function StatusTag({ status }: { status: string }) {
  return (
    <span class={`tag status status-${status}`} data-testid="challenge-status" data-status={status}>
      {statusLabel(status)}
    </span>
  );
}

export function When({ iso, format }: { iso: string; format: Intl.DateTimeFormat }) {
  const date = new Date(iso);
  return <time dateTime={date.toISOString()}>{format.format(date)}</time>;
}

export function Dates({ challenge }: { challenge: Challenge }) {
  const { format, zone } = zoned(challenge.time_zone);
  return (
    <p class="challenge-dates" data-testid="challenge-dates">
      <When iso={challenge.starts_at} format={format} /> – <When iso={challenge.ends_at} format={format} />
      <span class="muted"> ({zone} time)</span>
    </p>
  );
}
