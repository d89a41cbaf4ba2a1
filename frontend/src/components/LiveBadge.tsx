// A count that updates live (unread notifications, new threads). Hidden at zero; the label
// says what is counted, for screen readers.

export function LiveBadge({ count, label, testid }: { count: number; label: string; testid?: string }) {
  return (
    <span class="live-badge" data-testid={testid} hidden={count <= 0} aria-label={`${count} ${label}`}>
      {count > 99 ? "99+" : count}
    </span>
  );
}
