// The category tree as the console edits it: top-level categories in order, each with its
// children (one level deep, as the server allows). Moves are made locally and saved at once
// (PUT /api/categories/order), so the forum never shows a half-made arrangement.

export interface Cat {
  id: number;
  name: string;
  parent_id: number | null;
  position: number;
}

export interface Node<C extends Cat = Cat> {
  cat: C;
  children: C[];
}

const byPlace = (a: Cat, b: Cat): number => a.position - b.position || a.id - b.id;

export function treeOf<C extends Cat>(cats: readonly C[]): Node<C>[] {
  const known = new Set(cats.map((c) => c.id));
  const roots = cats.filter((c) => c.parent_id === null || !known.has(c.parent_id)).sort(byPlace);
  return roots.map((cat) => ({
    cat,
    children: cats.filter((c) => c.parent_id === cat.id).sort(byPlace),
  }));
}

function swap<T>(items: T[], index: number, delta: number): T[] {
  const target = index + delta;
  if (index < 0 || target < 0 || target >= items.length) return items;
  const copy = [...items];
  [copy[index], copy[target]] = [copy[target] as T, copy[index] as T];
  return copy;
}

/** Move a category one place up (-1) or down (+1) among its siblings. */
export function move<C extends Cat>(tree: Node<C>[], id: number, delta: -1 | 1): Node<C>[] {
  const top = tree.findIndex((n) => n.cat.id === id);
  if (top >= 0) return swap(tree, top, delta);
  return tree.map((n) => {
    const i = n.children.findIndex((c) => c.id === id);
    return i < 0 ? n : { ...n, children: swap(n.children, i, delta) };
  });
}

/** Which parents a category may take: top-level categories other than itself, and none if it
 * has children of its own (nesting is one level deep). */
export function parentChoices<C extends Cat>(tree: Node<C>[], id: number): C[] {
  const own = tree.find((n) => n.cat.id === id);
  if (own && own.children.length > 0) return [];
  return tree.map((n) => n.cat).filter((c) => c.id !== id);
}

/** Put a category under another (last among its children), or at the top level (last). */
export function reparent<C extends Cat>(tree: Node<C>[], id: number, parentId: number | null): Node<C>[] {
  let moving: C | undefined;
  const without = tree
    .filter((n) => {
      if (n.cat.id !== id) return true;
      if (n.children.length > 0) throw new Error("a category with children cannot be nested");
      moving = n.cat;
      return false;
    })
    .map((n) => {
      const found = n.children.find((c) => c.id === id);
      if (found) moving = found;
      return found ? { ...n, children: n.children.filter((c) => c.id !== id) } : n;
    });
  if (!moving) return tree;
  const placed = { ...moving, parent_id: parentId };
  if (parentId === null) return [...without, { cat: placed, children: [] }];
  return without.map((n) => (n.cat.id === parentId ? { ...n, children: [...n.children, placed] } : n));
}

/** The whole arrangement as the order endpoint takes it: positions follow the tree read top
 * to bottom, so a plain sort by position gives the same order too. */
export function placements(tree: Node[]): { id: number; position: number; parent_id: number | null }[] {
  const out: { id: number; position: number; parent_id: number | null }[] = [];
  for (const node of tree) {
    out.push({ id: node.cat.id, position: out.length, parent_id: null });
    for (const child of node.children) out.push({ id: child.id, position: out.length, parent_id: node.cat.id });
  }
  return out;
}

/** Whether the edited tree differs from what the server has. */
export function changed(cats: readonly Cat[], tree: Node[]): boolean {
  const before = new Map(placements(treeOf(cats)).map((p) => [p.id, p]));
  return placements(tree).some((p) => {
    const was = before.get(p.id);
    return !was || was.position !== p.position || was.parent_id !== p.parent_id;
  });
}
