import { describe, expect, it } from "vitest";
import { ladderBody } from "./tiers";

describe("ladderBody", () => {
  it("builds the request body from the form", () => {
    expect(ladderBody([{ key: 1, name: " Bronze ", threshold: "0" }, { key: 2, name: "Gold", threshold: "500" }],
      "90", "7")).toEqual({ tiers: [{ name: "Bronze", threshold: 0 }, { name: "Gold", threshold: 500 }],
      window_days: 90, grace_days: 7 });
  });

  it("names what is wrong", () => {
    expect(ladderBody([{ key: 1, name: "", threshold: "0" }], "1", "0")).toEqual({ problem: "Tier 1 needs a name." });
    expect(ladderBody([{ key: 1, name: "A", threshold: "1.5" }], "1", "0")).toHaveProperty("problem");
    expect(ladderBody([], "1", "0")).toHaveProperty("problem");
    expect(ladderBody([{ key: 1, name: "A", threshold: "1" }], "x", "0")).toHaveProperty("problem");
  });
});
