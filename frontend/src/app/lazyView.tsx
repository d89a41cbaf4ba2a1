// A route's view loaded on first visit (a separate chunk): staff consoles stay out of what
// members download. Shows a quiet placeholder while the chunk arrives, and the error if it
// cannot (an old tab after a deploy: reloading fetches the new chunk names).

import type { FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { ViewProps } from "./routes";

type View = FunctionComponent<ViewProps>;

export function lazyView(load: () => Promise<View>): View {
  let loaded: View | null = null;
  return function LazyView(props: ViewProps) {
    const [view, setView] = useState<View | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      load().then((v) => { loaded = v; if (live) setView(() => v); })
        .catch((err: unknown) => { console.error(err); if (live) setFailed(true); });
      return () => { live = false; };
    }, []);
    if (failed) {
      return (
        <div class="card error-card" data-testid="view-error" role="alert">
          <h1>Cannot load this page</h1>
          <p>Reload the page to try again.</p>
        </div>
      );
    }
    const Loaded = view;
    return Loaded ? <Loaded {...props} /> : <p class="muted" aria-busy="true">Loading…</p>;
  };
}
