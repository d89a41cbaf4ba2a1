// Live pages redraw when told something moved; a burst of news (a reply storm, a board
// reshuffling) costs one reload per REDRAW_DELAY_MS, never two at once, and none once the
// page is gone.

import { useEffect, useRef } from "preact/hooks";

export const REDRAW_DELAY_MS = 250;

/** Returns poke(...parts): the parts named since the last run are passed to `run` together. */
export function usePoke<Part extends string>(run: (parts: Set<Part>) => Promise<void>): (...parts: Part[]) => void {
  const latest = useRef(run);
  latest.current = run;
  const state = useRef({ pending: new Set<Part>(), timer: undefined as ReturnType<typeof setTimeout> | undefined,
    running: false, alive: true });
  const poke = useRef((...parts: Part[]) => {
    const s = state.current;
    for (const part of parts) s.pending.add(part);
    if (s.timer === undefined && !s.running && s.alive) s.timer = setTimeout(() => void flush(), REDRAW_DELAY_MS);
  });

  async function flush(): Promise<void> {
    const s = state.current;
    s.timer = undefined;
    if (!s.alive || s.pending.size === 0) return;
    const parts = new Set(s.pending);
    s.pending.clear();
    s.running = true;
    try {
      await latest.current(parts);
    } catch (err) {
      console.warn("redraw", err);
    } finally {
      s.running = false;
    }
    if (s.pending.size > 0 && s.alive) s.timer = setTimeout(() => void flush(), REDRAW_DELAY_MS);
  }

  useEffect(() => () => {
    state.current.alive = false;
    clearTimeout(state.current.timer);
  }, []);
  return poke.current;
}
