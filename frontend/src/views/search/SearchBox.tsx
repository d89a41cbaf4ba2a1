// The top bar's search box: submitting opens #/search with the words.

import { useState } from "preact/hooks";
import { navigate } from "../../app/router";
import { searchHash } from "./query";

export function SearchBox() {
  const [q, setQ] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    if (!q.trim()) return;
    navigate(searchHash("/search", { q: q.trim(), page: 1 }));
    setQ("");
  };
  return (
    <form class="topbar-search" role="search" onSubmit={submit} data-testid="topbar-search">
      <label class="visually-hidden" for="topbar-q">Search the forums</label>
      <input id="topbar-q" type="search" placeholder="Search" maxLength={200} value={q}
             data-testid="topbar-search-q"
             onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
    </form>
  );
}
