import { describe, expect, it } from "vitest";
import { applyItem, type Filters, type Item } from "./queueState";

const open: Filters = { status: "open", kind: "", sort: "score" };

function item(id: number, score: number, extra: Partial<Item> = {}): Item {
  return {
    id, score, status: "open", target_type: "post", version: 1, target_id: id, source: "flags",
    threshold: 10, hidden_by_flags: false, flag_count: 1, reasons: {}, label: `post ${id}`,
    excerpt: "", url: "", author: null, brand_id: null, category_id: null, held_reason: "",
    claimed_by: null, claimed_until: null, resolved_by: null, resolved_at: null,
    resolution_action: "", resolution_reason: "", created_at: "", updated_at: "", actions: [],
    ...extra,
  };
}

describe("applyItem", () => {
  it("puts a new item where its score ranks it", () => {
    const list = [item(1, 9), item(2, 4)];
    expect(applyItem(list, item(3, 6), open).map((i) => i.id)).toEqual([1, 3, 2]);
  });

  it("moves an item whose score rose", () => {
    const list = [item(1, 9), item(2, 4)];
    expect(applyItem(list, item(2, 12, { version: 2 }), open).map((i) => i.id)).toEqual([2, 1]);
  });

  it("drops an item once it is decided", () => {
    const list = [item(1, 9), item(2, 4)];
    expect(applyItem(list, item(1, 9, { status: "agreed", version: 2 }), open).map((i) => i.id)).toEqual([2]);
  });

  it("ignores a message older than what it shows", () => {
    const list = [item(1, 9, { version: 3 })];
    expect(applyItem(list, item(1, 2, { version: 2 }), open)[0]?.score).toBe(9);
  });

  it("orders by age oldest first", () => {
    const list = [item(1, 9), item(5, 4)];
    expect(applyItem(list, item(3, 1), { ...open, sort: "age" }).map((i) => i.id)).toEqual([1, 3, 5]);
  });

  it("keeps other kinds out", () => {
    expect(applyItem([], item(1, 1, { target_type: "profile" }), { ...open, kind: "post" })).toEqual([]);
  });
});
