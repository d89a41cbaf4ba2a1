// Who is signed in, kept in one place. Views read it with useStore(me); signing in or out
// reconnects the live socket so it carries the new session cookie.

import { ApiError, call, client, type Schemas } from "../api/client";
import { live } from "../live/live";
import { Store } from "./store";

export type Member = Schemas["MemberOut"];

export const me = new Store<Member | null>(null);
/** The signed-in member's spendable balance, kept live; null while unknown. */
export const points = new Store<number | null>(null);
/** Bumped on sign-in and sign-out, so views that depend on who is looking reload. */
export const sessionEpoch = new Store(0);

export const isStaffRole = (m: Member | null): boolean =>
  m !== null && (m.role === "moderator" || m.role === "admin");

export async function loadMe(): Promise<void> {
  try {
    const out = await call(client.GET("/api/me"));
    me.set(out.member);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) throw err;
    me.set(null);
  }
}

export function signedIn(member: Member): void {
  me.set(member);
  points.set(null);
  sessionEpoch.set(sessionEpoch.value + 1);
  live.reconnectNow();
}

export function signedOut(): void {
  me.set(null);
  points.set(null);
  sessionEpoch.set(sessionEpoch.value + 1);
  live.reconnectNow();
}
