// Categories: create one (top level or under another), set who may read it, and rearrange
// the tree (order and nesting), saved in one request.

import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { plural } from "../../components/format";
import { staffAction } from "./act";
import { changed, move, parentChoices, placements, reparent, treeOf, type Node } from "./categories";

type Category = Schemas["CategoryOut"];
type Visibility = "public" | "members";

const VISIBILITY: Record<Visibility, string> = { public: "Everyone", members: "Signed-in members" };

export function Categories() {
  const loaded = useAsync(() => call(client.GET("/api/categories")), []);
  const cats = loaded.value ?? [];
  const [tree, setTree] = useState<Node<Category>[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { setTree(treeOf(cats)); }, [loaded.value]);
  const dirty = changed(cats, tree);

  async function save(): Promise<void> {
    const out = await staffAction(
      { title: "Save the arrangement?", message: "Members see the new order and nesting at once.",
        confirmLabel: "Save arrangement" },
      () => call(client.PUT("/api/categories/order", { body: { items: placements(tree) } })),
      setError, "Arrangement saved.");
    if (out) loaded.set(out);
  }

  async function setVisibility(cat: Category, visibility: Visibility): Promise<void> {
    const out = await staffAction(
      { title: `Change who may read “${cat.name}”?`,
        message: visibility === "public" ? "Everyone, signed in or not, will be able to read it."
          : "Only signed-in members will be able to read it.",
        confirmLabel: "Change visibility" },
      () => call(client.PATCH("/api/categories/{category_id}", {
        params: { path: { category_id: cat.id } }, body: { visibility } })),
      setError, "Visibility changed.");
    if (out) loaded.set(cats.map((c) => (c.id === out.id ? out : c)));
    else setTree(treeOf(cats));
  }

  function row(cat: Category, siblings: number, index: number, isChild: boolean) {
    const choices = parentChoices(tree, cat.id);
    return (
      <li key={cat.id} class={isChild ? "cat-row child" : "cat-row"} data-testid="admin-category"
        data-category-id={cat.id}>
        <div class="cat-main">
          <span class="cat-name" data-testid="admin-category-name">{cat.name}</span>
          <span class="meta"> /{cat.slug} · {plural(cat.thread_count, "thread")}</span>
        </div>
        <div class="cat-tools">
          <label class="visually-hidden" for={`vis-${cat.id}`}>Who may read {cat.name}</label>
          <select id={`vis-${cat.id}`} value={cat.visibility} data-testid="admin-category-visibility"
            onChange={(e) => void setVisibility(cat, e.currentTarget.value as Visibility)}>
            {Object.entries(VISIBILITY).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
          <label class="visually-hidden" for={`parent-${cat.id}`}>Parent of {cat.name}</label>
          <select id={`parent-${cat.id}`} value={String(cat.parent_id ?? "")} data-testid="admin-category-parent"
            disabled={choices.length === 0 && !isChild}
            onChange={(e) => {
              const value = e.currentTarget.value;
              setTree(reparent(tree, cat.id, value === "" ? null : Number(value)));
            }}>
            <option value="">Top level</option>
            {choices.map((c) => <option key={c.id} value={String(c.id)}>Under {c.name}</option>)}
          </select>
          <button type="button" class="secondary small" disabled={index === 0}
            aria-label={`Move ${cat.name} up`} data-testid="admin-category-up"
            onClick={() => setTree(move(tree, cat.id, -1))}>↑</button>
          <button type="button" class="secondary small" disabled={index === siblings - 1}
            aria-label={`Move ${cat.name} down`} data-testid="admin-category-down"
            onClick={() => setTree(move(tree, cat.id, 1))}>↓</button>
        </div>
      </li>
    );
  }

  // Rows show the edited tree, with each category's latest saved fields.
  const current = (c: Category): Category => {
    const saved = cats.find((s) => s.id === c.id) ?? c;
    return { ...saved, parent_id: c.parent_id };
  };

  return (
    <div class="stack">
      <PageTitle title="Categories" testid="admin-title" />
      <NewCategory parents={treeOf(cats).map((n) => n.cat)} onCreated={(cat) => loaded.set([...cats, cat])} />
      <div class="card">
        <h2>Arrangement</h2>
        <FormError error={error ?? loaded.error} />
        {loaded.loading && !loaded.value ? <p class="muted">Loading…</p> : (
          <ol class="cat-tree" data-testid="admin-category-tree">
            {tree.map((node, i) => (
              <Fragment key={node.cat.id}>
                {row(current(node.cat), tree.length, i, false)}
                {node.children.length > 0 && (
                  <li class="cat-children" key={`c${node.cat.id}`}>
                    <ol>{node.children.map((c, j) => row(current(c), node.children.length, j, true))}</ol>
                  </li>
                )}
              </Fragment>
            ))}
          </ol>
        )}
        <div class="row">
          <button type="button" disabled={!dirty} data-testid="admin-category-save" onClick={() => void save()}>
            Save arrangement
          </button>
          <button type="button" class="secondary" disabled={!dirty} onClick={() => setTree(treeOf(cats))}>
            Undo changes
          </button>
          {dirty && <span class="meta" role="status">Unsaved changes</span>}
        </div>
      </div>
    </div>
  );
}

function NewCategory({ parents, onCreated }: { parents: Category[]; onCreated: (cat: Category) => void }) {
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugTouched, setSlugTouched] = useState(false);
  const [description, setDescription] = useState("");
  const [parent, setParent] = useState("");
  const [visibility, setVisibility] = useState<Visibility>("public");
  const [error, setError] = useState<unknown>(null);

  function onName(value: string): void {
    setName(value);
    if (!slugTouched) setSlug(slugOf(value));
  }

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const out = await staffAction(
      { title: `Create “${name}”?`, message: `${VISIBILITY[visibility]} will be able to read it.`,
        confirmLabel: "Create category" },
      () => call(client.POST("/api/categories", { body: {
        name, slug, description, visibility,
        parent_id: parent === "" ? null : Number(parent),
        position: 1_000_000, // last: the arrangement below can move it
      } })),
      setError, "Category created.");
    if (out) {
      onCreated(out);
      setName(""); setSlug(""); setSlugTouched(false); setDescription(""); setParent("");
    }
  }

  return (
    <form class="card stack" onSubmit={(e) => void submit(e)} data-testid="admin-category-form">
      <h2>New category</h2>
      <label for="cat-name">Name</label>
      <input id="cat-name" required maxLength={80} value={name} data-testid="admin-category-new-name"
        onInput={(e) => onName(e.currentTarget.value)} />
      <label for="cat-slug">Address (slug)</label>
      <input id="cat-slug" required maxLength={80} value={slug} data-testid="admin-category-new-slug"
        aria-describedby="cat-slug-hint"
        onInput={(e) => { setSlug(e.currentTarget.value); setSlugTouched(true); }} />
      <span id="cat-slug-hint" class="meta">Lower-case letters, digits and dashes.</span>
      <label for="cat-description">Description</label>
      <textarea id="cat-description" maxLength={2000} value={description}
        onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for="cat-parent">Parent</label>
      <select id="cat-parent" value={parent} data-testid="admin-category-new-parent"
        onChange={(e) => setParent(e.currentTarget.value)}>
        <option value="">Top level</option>
        {parents.map((p) => <option key={p.id} value={String(p.id)}>Under {p.name}</option>)}
      </select>
      <label for="cat-visibility">Who may read it</label>
      <select id="cat-visibility" value={visibility} data-testid="admin-category-new-visibility"
        onChange={(e) => setVisibility(e.currentTarget.value as Visibility)}>
        {Object.entries(VISIBILITY).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
      </select>
      <FormError error={error} />
      <div class="row"><button type="submit" data-testid="admin-category-create">Create category</button></div>
    </form>
  );
}

export function slugOf(name: string): string {
  return name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
}
