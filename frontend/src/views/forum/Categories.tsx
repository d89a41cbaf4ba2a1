// The home page: every category the reader may see.

import { PageTitle } from "../../components/PageTitle";
import { ViewError } from "../../components/ViewError";
import { plural } from "../../components/format";
import { me, sessionEpoch } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { loadCategories } from "./categories";
import "./forum.css";

export function Categories() {
  const epoch = useStore(sessionEpoch);
  const member = useStore(me);
  const { value: categories, error } = useAsync(() => loadCategories(true), [epoch]);
  if (error) return <ViewError error={error} signedIn={member !== null} />;
  if (!categories) return <p class="muted">Loading…</p>;
  return (
    <>
      <PageTitle title="Categories" />
      {categories.length === 0 ? <p class="muted card">No categories yet.</p> : (
        <ul class="category-list" data-testid="category-list">
          {categories.map((category) => (
            <li key={category.id} class="card category" data-testid="category" data-category-id={category.id}>
              <a class="category-name" href={`#/c/${category.id}`} data-testid="category-link">{category.name}</a>
              {category.visibility === "members" && <span class="tag" title="Visible to signed-in members">Members</span>}
              {category.description && <p class="muted">{category.description}</p>}
              <span class="stat">{plural(category.thread_count, "thread")}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
