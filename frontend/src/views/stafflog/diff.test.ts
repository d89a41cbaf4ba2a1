import { describe, expect, it } from "vitest";
import { ABSENT, actionLabel, diffRows, show } from "./diff";

describe("diffRows", () => {
  it("shows each changed field with both sides", () => {
    expect(diffRows({ name: "Helper", points: 0 }, { name: "Kind helper", points: 0 })).toEqual([
      { field: "name", before: "Helper", after: "Kind helper" },
    ]);
  });

  it("shows a creation's fields with nothing before, and a deletion's with nothing after", () => {
    expect(diffRows(null, { name: "Shop sync", scopes: ["read", "write"] })).toEqual([
      { field: "name", before: ABSENT, after: "Shop sync" },
      { field: "scopes", before: ABSENT, after: "read, write" },
    ]);
    expect(diffRows({ status: "draft" }, null)).toEqual([{ field: "status", before: "draft", after: ABSENT }]);
  });

  it("keeps fields only one side names", () => {
    expect(diffRows({ attempts: 25, last_error: "boom" }, { attempts: 0 })).toEqual([
      { field: "attempts", before: "25", after: "0" },
      { field: "last_error", before: "boom", after: ABSENT },
    ]);
  });
});

describe("show", () => {
  it("writes values plainly", () => {
    expect(show(null)).toBe("none");
    expect(show("")).toBe("(empty)");
    expect(show(true)).toBe("true");
    expect(show([])).toBe("(none)");
    expect(show({ position: 3, parent_id: null })).toBe('{"position":3,"parent_id":null}');
  });
});

describe("actionLabel", () => {
  it("reads dotted actions as words", () => {
    expect(actionLabel("leaderboard.exclude")).toBe("leaderboard exclude");
  });
});
