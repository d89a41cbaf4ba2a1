// "Are you sure?" for staff actions and destructive ones: a modal <dialog> (focus is trapped
// and returned by the browser), confirmed or cancelled with the keyboard too.

import { useEffect, useRef } from "preact/hooks";
import { Store, useStore } from "../app/store";

interface Ask {
  title: string;
  message: string;
  confirmLabel: string;
  danger: boolean;
  answer: (ok: boolean) => void;
}

const asking = new Store<Ask | null>(null);

export function confirmAction(options: {
  title: string; message: string; confirmLabel?: string; danger?: boolean;
}): Promise<boolean> {
  asking.value?.answer(false);
  return new Promise((resolve) => {
    asking.set({
      title: options.title,
      message: options.message,
      confirmLabel: options.confirmLabel ?? "Confirm",
      danger: options.danger ?? false,
      answer: (ok) => { asking.set(null); resolve(ok); },
    });
  });
}

export function ConfirmHost() {
  const ask = useStore(asking);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (ask && !dialog.open) dialog.showModal();
    if (!ask && dialog.open) dialog.close();
  }, [ask]);
  return (
    <dialog ref={ref} class="confirm" data-testid="confirm-dialog" aria-labelledby="confirm-title"
      onCancel={(event) => { event.preventDefault(); ask?.answer(false); }}>
      {ask && (
        <form method="dialog" onSubmit={(event) => { event.preventDefault(); ask.answer(true); }}>
          <h2 id="confirm-title">{ask.title}</h2>
          <p>{ask.message}</p>
          <div class="actions">
            <button type="button" class="btn ghost" data-testid="confirm-cancel"
              onClick={() => ask.answer(false)}>Cancel</button>
            <button type="submit" class={ask.danger ? "btn danger" : "btn primary"}
              data-testid="confirm-ok" autofocus>{ask.confirmLabel}</button>
          </div>
        </form>
      )}
    </dialog>
  );
}
