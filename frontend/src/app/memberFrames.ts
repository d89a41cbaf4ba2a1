// What arrives on the signed-in member's own channel (user:<id>): points posted, notifications
// (a badge, a new tier, a challenge completed). Pages that show those follow the channel too;
// the live client shares one server subscription among its followers.

import { useEffect, useRef } from "preact/hooks";
import { live, type Frame } from "../live/live";
import { me } from "./session";
import { useStore } from "./store";

/** A frame of the member's channel, or {type: "refetch"} when frames may have been missed. */
export function useMemberFrames(onFrame: (frame: Frame) => void): void {
  const member = useStore(me);
  const latest = useRef(onFrame);
  latest.current = onFrame;
  const memberId = member?.id;
  useEffect(() => {
    if (memberId === undefined) return;
    const sub = live.subscribe(`user:${memberId}`, {
      onMessage: (frame) => latest.current(frame),
      onRefetch: () => latest.current({ type: "refetch" }),
      // Whatever moved between the page's first load and the subscription taking.
      onReady: ({ fresh }) => { if (fresh) latest.current({ type: "refetch" }); },
    });
    return () => sub.close();
  }, [memberId]);
}

/** The kind of a "notification" frame (badge, tier, challenge...), else null. */
export function notificationKind(frame: Frame): string | null {
  if (frame.event !== "notification") return null;
  const data = frame.data as { kind?: unknown } | null | undefined;
  return typeof data?.kind === "string" ? data.kind : null;
}
