import { describe, expect, it } from "vitest";
import { changed, move, parentChoices, placements, reparent, treeOf, type Cat } from "./categories";

const cats: Cat[] = [
  { id: 3, name: "C", parent_id: null, position: 2 },
  { id: 1, name: "A", parent_id: null, position: 0 },
  { id: 4, name: "A2", parent_id: 1, position: 9 },
  { id: 5, name: "A1", parent_id: 1, position: 1 },
  { id: 2, name: "B", parent_id: null, position: 0 },
];

const shape = (tree: ReturnType<typeof treeOf>) =>
  tree.map((n) => [n.cat.id, n.children.map((c) => c.id)]);

describe("category tree", () => {
  it("orders roots and children by position, then id", () => {
    expect(shape(treeOf(cats))).toEqual([[1, [5, 4]], [2, []], [3, []]]);
  });

  it("moves among siblings and stops at the ends", () => {
    const tree = treeOf(cats);
    expect(shape(move(tree, 2, -1))).toEqual([[2, []], [1, [5, 4]], [3, []]]);
    expect(shape(move(tree, 1, -1))).toEqual(shape(tree));
    expect(shape(move(tree, 5, 1))).toEqual([[1, [4, 5]], [2, []], [3, []]]);
    expect(shape(move(tree, 4, 1))).toEqual(shape(tree));
  });

  it("nests one level deep and un-nests", () => {
    const tree = treeOf(cats);
    expect(parentChoices(tree, 1)).toEqual([]);
    expect(parentChoices(tree, 2).map((c) => c.id)).toEqual([1, 3]);
    const nested = reparent(tree, 3, 2);
    expect(shape(nested)).toEqual([[1, [5, 4]], [2, [3]]]);
    expect(shape(reparent(nested, 4, null))).toEqual([[1, [5]], [2, [3]], [4, []]]);
    expect(() => reparent(tree, 1, 2)).toThrow();
  });

  it("gives positions in reading order, and knows when nothing moved", () => {
    const tree = treeOf(cats);
    expect(placements(tree)).toEqual([
      { id: 1, position: 0, parent_id: null }, { id: 5, position: 1, parent_id: 1 },
      { id: 4, position: 2, parent_id: 1 }, { id: 2, position: 3, parent_id: null },
      { id: 3, position: 4, parent_id: null },
    ]);
    expect(changed(cats, tree)).toBe(false);
    expect(changed(cats, move(tree, 3, -1))).toBe(true);
  });
});
