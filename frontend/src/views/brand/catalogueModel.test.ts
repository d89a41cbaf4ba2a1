import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { bodyOf, EMPTY_FORM, lineErrors, withOffset } from "./catalogueModel";

describe("withOffset", () => {
  it("adds seconds and the browser's offset to a datetime-local value", () => {
    expect(withOffset("2030-01-02T09:30", -60)).toBe("2030-01-02T09:30:00+01:00");
    expect(withOffset("2030-01-02T09:30", 300)).toBe("2030-01-02T09:30:00-05:00");
    expect(withOffset("", 0)).toBeNull();
  });
});

describe("bodyOf", () => {
  it("sends empty stock, limit and badge as none", () => {
    const body = bodyOf({ ...EMPTY_FORM, title: " Mug ", price: "250" });
    expect(body).toMatchObject({ title: "Mug", price: 250, stock: null, per_member_limit: null, badge_id: null,
      starts_at: null, ends_at: null, fulfilment: "codes", published: false });
    expect(bodyOf({ ...EMPTY_FORM, stock: "0", perMemberLimit: "2" })).toMatchObject({ stock: 0, per_member_limit: 2 });
  });
});

describe("lineErrors", () => {
  it("lists a refused upload's bad lines in file order", () => {
    const refused = new ApiError(422, "invalid", "2 bad line(s)", [
      { key: "csv", line: 5, message: "duplicate of line 2" },
      { key: "csv", line: 3, message: "already in this reward's pool" },
    ]);
    expect(lineErrors(refused)).toEqual([
      { line: 3, message: "already in this reward's pool" }, { line: 5, message: "duplicate of line 2" }]);
    expect(lineErrors(new ApiError(409, "conflict", "no pool"))).toEqual([]);
    expect(lineErrors(new Error("offline"))).toEqual([]);
  });
});
