// #/search?q=: full-text search over the posts the reader may read, with filters. The
// moderator console shows the same page with the staff's status filter (`staff`).
// Snippets and titles come from the server as escaped text with <mark> around the matched
// words and nothing else (community/search/highlight.py), so they are set as HTML.

import { useState } from "preact/hooks";
import { call, client, messageOf, type Schemas } from "../../api/client";
import { navigate, useHash } from "../../app/router";
import { me, sessionEpoch } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";
import { loadCategories } from "../forum/categories";
import { apiQuery, readSearch, searchHash, type SearchParams } from "./query";
import "./search.css";

type Page = Schemas["SearchPage"];
type Hit = Schemas["SearchHit"];

const HIDDEN_LABEL: Record<string, string> = {
  flags: "Hidden after flags",
  moderator: "Hidden by a moderator",
  held: "Waiting for approval",
};

export function SearchView() {
  return <Search base="/search" staff={false} titled />;
}

/** `titled`: the page names itself (the console's frame names its own sections). */
export function Search({ base, staff, titled }: { base: string; staff: boolean; titled: boolean }) {
  const hash = useHash();
  const epoch = useStore(sessionEpoch);
  const member = useStore(me);
  const params = readSearch(hash);
  const { value: categories } = useAsync(() => loadCategories(), [epoch]);
  const results = useAsync<Page | null>(
    () => (params.q.trim()
      ? call(client.GET("/api/search", { params: { query: apiQuery(params) } }))
      : Promise.resolve(null)),
    [hash, epoch]);
  return (
    <div class="search-view" data-testid="search-view">
      {titled && <PageTitle title={params.q ? `Search: ${params.q}` : "Search"} />}
      <SearchForm key={hash} base={base} params={params} staff={staff}
                  categories={categories ?? []} />
      {results.error ? (
        <p class="card error-card" role="alert" data-testid="search-error">{messageOf(results.error)}</p>
      ) : results.loading && !results.value ? (
        <p class="muted">Searching…</p>
      ) : results.value ? (
        <Results page={results.value} base={base} params={params} signedIn={member !== null} />
      ) : (
        <p class="muted">Type words to find; <code>"a phrase"</code>, <code>-word</code> to
          leave out, <code>word*</code> for words starting so.</p>
      )}
    </div>
  );
}

function SearchForm({ base, params, staff, categories }: {
  base: string; params: SearchParams; staff: boolean; categories: Schemas["CategoryOut"][];
}) {
  const [draft, setDraft] = useState<SearchParams>(params);
  const set = (change: Partial<SearchParams>) => setDraft({ ...draft, ...change });
  const submit = (event: Event) => {
    event.preventDefault();
    navigate(searchHash(base, { ...draft, page: 1 }));
  };
  return (
    <form class="card search-form" role="search" onSubmit={submit} data-testid="search-form">
      <div class="search-main">
        <label class="visually-hidden" for="search-q">Search for</label>
        <input id="search-q" type="search" value={draft.q} maxLength={200} required
               placeholder='Words, "a phrase", -leave-out, pref*'
               data-testid="search-q"
               onInput={(e) => set({ q: (e.target as HTMLInputElement).value })} />
        <button type="submit" class="primary" data-testid="search-submit">Search</button>
      </div>
      <div class="search-filters">
        <label>Category
          <select value={draft.category_id ?? ""} data-testid="search-category"
                  onChange={(e) => {
                    const value = (e.target as HTMLSelectElement).value;
                    set({ category_id: value ? Number(value) : undefined });
                  }}>
            <option value="">All</option>
            {categories.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </label>
        <label>Author
          <input type="text" value={draft.author ?? ""} maxLength={40} placeholder="handle"
                 data-testid="search-author"
                 onInput={(e) => set({ author: (e.target as HTMLInputElement).value.trim() || undefined })} />
        </label>
        <label>From
          <input type="date" value={draft.since ?? ""} data-testid="search-since"
                 onInput={(e) => set({ since: (e.target as HTMLInputElement).value || undefined })} />
        </label>
        <label>To
          <input type="date" value={draft.until ?? ""} data-testid="search-until"
                 onInput={(e) => set({ until: (e.target as HTMLInputElement).value || undefined })} />
        </label>
        {staff && (
          <label>Status
            <select value={draft.status ?? ""} data-testid="search-status"
                    onChange={(e) => {
                      const value = (e.target as HTMLSelectElement).value;
                      set({ status: value === "visible" || value === "hidden" || value === "held" ? value : undefined });
                    }}>
              <option value="">Any</option>
              <option value="visible">Visible</option>
              <option value="hidden">Hidden</option>
              <option value="held">Held for approval</option>
            </select>
          </label>
        )}
      </div>
    </form>
  );
}

function Results({ page, base, params, signedIn }: {
  page: Page; base: string; params: SearchParams; signedIn: boolean;
}) {
  if (page.items.length === 0) {
    return (
      <p class="card muted" data-testid="search-empty">
        Nothing found{page.page > 1 ? " on this page" : ""}.
        {!signedIn && " Some categories are for signed-in members: sign in to search them too."}
      </p>
    );
  }
  const count = page.total_exact ? `${page.total}` : `more than ${page.total - 1}`;
  return (
    <section aria-label="Results">
      <p class="muted" data-testid="search-count">{count} {page.total === 1 ? "match" : "matches"}</p>
      <ol class="search-results" data-testid="search-results">
        {page.items.map((hit) => <Result key={hit.post_id} hit={hit} />)}
      </ol>
      <nav class="search-pages" aria-label="Pages">
        {page.page > 1 && (
          <a href={searchHash(base, { ...params, page: page.page - 1 })} data-testid="search-prev">← Previous</a>
        )}
        {page.next_page !== null && (
          <a href={searchHash(base, { ...params, page: page.next_page })} data-testid="search-next">Next →</a>
        )}
      </nav>
    </section>
  );
}

function Result({ hit }: { hit: Hit }) {
  return (
    <li class="card search-hit" data-testid="search-hit" data-post-id={hit.post_id}>
      <a class="search-title" href={`#/t/${hit.thread_id}`} data-testid="search-hit-link"
         dangerouslySetInnerHTML={{ __html: hit.title_html }} />
      {hit.post_number > 1 && <span class="muted"> · reply #{hit.post_number}</span>}
      {hit.hidden && <span class="tag" data-testid="search-hit-hidden">{HIDDEN_LABEL[hit.hidden] ?? "Hidden"}</span>}
      <p class="search-snippet" data-testid="search-snippet"
         dangerouslySetInnerHTML={{ __html: hit.snippet_html }} />
      <p class="muted search-meta">
        <a href={`#/u/${encodeURIComponent(hit.author.handle)}`}>@{hit.author.handle}</a>{" · "}
        <TimeAgo iso={hit.created_at} />
      </p>
    </li>
  );
}
