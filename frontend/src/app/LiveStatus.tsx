import { useEffect, useState } from "preact/hooks";
import { live, type LiveStatus as Status } from "../live/live";

const LABELS: Record<Status, string> = {
  offline: "Offline", connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…",
};

export function LiveStatus() {
  const [status, setStatus] = useState<Status>(live.status);
  useEffect(() => live.onStatus(setStatus), []);
  return (
    <span class="live-status" data-testid="live-status" data-status={status} title="Live updates">
      <span class="dot" aria-hidden="true" /><span class="live-label">{LABELS[status]}</span>
    </span>
  );
}
