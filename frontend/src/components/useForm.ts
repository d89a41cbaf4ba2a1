// A form's submit state: busy while the request runs, the server's refusal kept for FormError,
// and a success message for a role=status line.

import { useState } from "preact/hooks";

/** The text of a form field by name ("" when absent or a file). */
export function fieldOf(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === "string" ? value : "";
}

export interface FormState {
  busy: boolean;
  error: unknown;
  done: string;
  /** An event handler that runs work once at a time; its result string is the success line. */
  handle: (work: (form: HTMLFormElement | null) => Promise<string | void>) => (event: Event) => void;
}

export function useForm(): FormState {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const handle = (work: (form: HTMLFormElement | null) => Promise<string | void>) => (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const target = event.currentTarget;
    const form = target instanceof HTMLFormElement ? target : null;
    setBusy(true);
    setError(null);
    setDone("");
    work(form).then(
      (message) => setDone(message ?? ""),
      (err: unknown) => setError(err),
    ).finally(() => setBusy(false));
  };
  return { busy, error, done, handle };
}
