// The page frame: skip link, top bar, the current view in <main>, and the hosts for toasts and
// confirmations (and the flag dialog). The view is keyed by its path so each page starts fresh.

import { AccountNav } from "./AccountNav";
import { LiveStatus } from "./LiveStatus";
import { PAGES, viewFor } from "./routes";
import { SanctionBanner } from "./SanctionBanner";
import { parseRoute, useHash } from "./router";
import { ConfirmHost } from "../components/ConfirmDialog";
import { FlagHost } from "../components/FlagDialog";
import { Icon } from "../components/Icon";
import { ToastHost } from "../components/Toast";
import { SearchBox } from "../views/search/SearchBox";

function skipToContent(event: MouseEvent): void {
  // Not an in-page anchor: the hash is the router's.
  event.preventDefault();
  const main = document.getElementById("view");
  main?.focus();
  main?.scrollIntoView();
}

export function App() {
  const hash = useHash();
  const route = parseRoute(hash, PAGES);
  const View = viewFor(route.name);
  return (
    <>
      <a class="skip-link" href="#view" data-testid="skip-link" onClick={skipToContent}>Skip to content</a>
      <header class="topbar">
        <div class="topbar-inner">
          <a class="brand" href="#/" data-testid="nav-home">
            <span class="brand-mark" aria-hidden="true"><Icon name="flame" /></span>Hearth
          </a>
          <LiveStatus />
          <SearchBox />
          <AccountNav />
        </div>
      </header>
      <ToastHost />
      <ConfirmHost />
      <FlagHost />
      <main class="page" id="view" data-testid="view" tabIndex={-1}>
        <SanctionBanner />
        <div class="view" key={route.path}>
          <View params={route.params} />
        </div>
      </main>
    </>
  );
}
