// Every staff action in the console goes the same way: ask first (ConfirmDialog), then call
// the API; a refusal is kept for the form to show inline (FormError), success is toasted.

import { confirmAction } from "../../components/ConfirmDialog";
import { toast } from "../../components/Toast";

export async function staffAction<T>(
  ask: { title: string; message: string; confirmLabel?: string; danger?: boolean },
  run: () => Promise<T>,
  setError: (error: unknown) => void,
  done?: string,
): Promise<T | undefined> {
  if (!(await confirmAction(ask))) return undefined;
  try {
    const result = await run();
    setError(null);
    if (done) toast(done, "success");
    return result;
  } catch (err) {
    setError(err);
    return undefined;
  }
}
