// One toast at a time, for what happened outside a form (a form shows its own errors inline).
// role=alert: it is read out when it appears.

import { Store, useStore } from "../app/store";

type Kind = "error" | "info" | "success";
const current = new Store<{ message: string; kind: Kind; at: number } | null>(null);
let timer: ReturnType<typeof setTimeout> | undefined;

export function toast(message: string, kind: Kind = "error"): void {
  current.set({ message, kind, at: Date.now() });
  clearTimeout(timer);
  timer = setTimeout(() => current.set(null), 6000);
}

export function ToastHost() {
  const shown = useStore(current);
  return (
    <div class="toast" data-testid="toast" role="alert" hidden={shown === null}
      data-kind={shown?.kind}>
      {shown?.message}
    </div>
  );
}
