import { describe, expect, it } from "vitest";
import { apiName, boardOf, categoryOptions, hrefOf } from "./boards";

describe("board addresses", () => {
  it("reads the period boards, all time by default", () => {
    expect(boardOf({})).toEqual({ kind: "period", period: "all-time" });
    expect(boardOf({ board: "week" })).toEqual({ kind: "period", period: "week" });
    expect(boardOf({ board: "month" })).toEqual({ kind: "period", period: "month" });
  });

  it("reads category and season boards", () => {
    expect(boardOf({ categoryId: "12" })).toEqual({ kind: "category", id: "12" });
    expect(boardOf({ seasonId: "3" })).toEqual({ kind: "season", id: "3" });
  });

  it("names no board for anything else", () => {
    expect(boardOf({ board: "year" })).toBeNull();
    expect(boardOf({ board: "category:3" })).toBeNull();
    expect(boardOf({ categoryId: "0" })).toBeNull();
    expect(boardOf({ seasonId: "x" })).toBeNull();
  });

  it("gives the API's board name and the app's address", () => {
    expect(apiName({ kind: "period", period: "all-time" })).toBe("all-time");
    expect(apiName({ kind: "category", id: "12" })).toBe("category:12");
    expect(apiName({ kind: "season", id: "3" })).toBe("season:3");
    expect(hrefOf({ kind: "period", period: "week" })).toBe("#/leaderboards/week");
    expect(hrefOf({ kind: "category", id: "12" })).toBe("#/leaderboards/category/12");
    expect(hrefOf({ kind: "season", id: "3" })).toBe("#/leaderboards/season/3");
  });

  it("round-trips through the address", () => {
    for (const board of [boardOf({ board: "month" }), boardOf({ categoryId: "7" }), boardOf({ seasonId: "9" })]) {
      const [, kind, id] = /^#\/leaderboards\/(category|season)?\/?(.*)$/.exec(hrefOf(board!))!;
      const params: Record<string, string> = kind === "category" ? { categoryId: id! } : kind === "season" ? { seasonId: id! } : { board: id! };
      expect(boardOf(params)).toEqual(board);
    }
  });
});

describe("categoryOptions", () => {
  it("puts subcategories after their parent, indented, in position order", () => {
    const categories = [
      { id: 1, name: "Coffee", parent_id: null, position: 2 },
      { id: 2, name: "Espresso", parent_id: 1, position: 1 },
      { id: 3, name: "Tea", parent_id: null, position: 1 },
      { id: 4, name: "Orphan", parent_id: 99, position: 3 },
    ];
    expect(categoryOptions(categories)).toEqual([
      { id: 3, label: "Tea" },
      { id: 1, label: "Coffee" },
      { id: 2, label: "— Espresso" },
      { id: 4, label: "Orphan" },
    ]);
  });
});
