// Shown on every page while the member is silenced: why, until when, and where to appeal.

import { absoluteTime } from "../components/format";
import { activeSanctions } from "./sanctions";
import { useStore } from "./store";

export function SanctionBanner() {
  const sanctions = useStore(activeSanctions);
  const silence = sanctions.find((s) => s.kind === "silence");
  if (!silence) return null;
  return (
    <div class="sanction-banner notice" role="status" data-testid="sanction-banner">
      <strong>You are silenced until {absoluteTime(new Date(silence.ends_at))}.</strong>{" "}
      {silence.reason}{" "}
      You can read, but not post, react or vote until then.{" "}
      {silence.appeal
        ? <a href="#/sanctions">Your appeal is {silence.appeal.status}.</a>
        : <a href="#/sanctions" data-testid="sanction-appeal-link">Appeal this decision</a>}
    </div>
  );
}
