// The door to the admin console: only an admin gets past it, and only then is the console's
// code fetched (a separate chunk), so members never download it.

import type { FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { me } from "../../app/session";
import { useStore } from "../../app/store";
import type { ViewProps } from "../../app/routes";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt } from "../../components/ViewError";

type Console = FunctionComponent<{ section: string }>;

let loaded: Console | null = null;

function useConsole(wanted: boolean): { view: Console | null; failed: boolean } {
  const [view, setView] = useState<Console | null>(() => loaded);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!wanted || view) return;
    let live = true;
    import("./AdminConsole").then(
      (module) => { loaded = module.AdminConsole; if (live) setView(() => module.AdminConsole); },
      () => { if (live) setFailed(true); },
    );
    return () => { live = false; };
  }, [wanted, view]);
  return { view, failed };
}

export function adminPage(section: string): FunctionComponent<ViewProps> {
  return function AdminPage() {
    const member = useStore(me);
    const admin = member?.role === "admin";
    const { view: Console, failed } = useConsole(admin);
    if (!admin) {
      return (
        <div class="card" data-testid="admin-refused">
          <PageTitle title="Admin console" />
          {member
            ? <p>Only admins can use the admin console.</p>
            : <SignInPrompt text="with an admin account to use the admin console." />}
        </div>
      );
    }
    if (failed) {
      return (
        <div class="card">
          <PageTitle title="Admin console" />
          <p class="form-error" role="alert">The console could not be loaded. Reload the page to try again.</p>
        </div>
      );
    }
    if (!Console) return <p class="muted" aria-busy="true">Loading the admin console…</p>;
    return <Console section={section} />;
  };
}
