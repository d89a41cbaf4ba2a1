// The signed-in member's sanctions in force, for the banner: loaded when someone signs in,
// and again when a "sanction" notification arrives (imposed, lifted, appeal decided).

import { ApiError, call, client, type Schemas } from "../api/client";
import { followMe } from "./memberFeed";
import { me } from "./session";
import { Store } from "./store";

export type Sanction = Schemas["SanctionOut"];

export const activeSanctions = new Store<Sanction[]>([]);

let loading = 0;

export async function refreshSanctions(): Promise<void> {
  const mine = ++loading;
  if (me.value === null) {
    activeSanctions.set([]);
    return;
  }
  try {
    const all = await call(client.GET("/api/me/sanctions"));
    if (mine === loading) activeSanctions.set(all.filter((s) => s.active));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn("sanctions", err);
  }
}

/** Keeps the banner on whoever is signed in, from boot on. */
export function startSanctions(): void {
  void refreshSanctions();
  me.subscribe(() => void refreshSanctions());
  followMe((frame) => {
    const kind = (frame.data as { kind?: unknown } | undefined)?.kind;
    if (frame.event === "refetch" || (frame.event === "notification" && kind === "sanction")) {
      void refreshSanctions();
    }
  });
}
