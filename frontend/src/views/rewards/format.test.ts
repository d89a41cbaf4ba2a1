import { describe, expect, it } from "vitest";
import { day, earnedText, signed } from "./format";

describe("rewards wording", () => {
  it("signs gains and keeps losses' minus, with thousands separators", () => {
    expect(signed(50000)).toBe("+50,000");
    expect(signed(-120)).toBe("-120");
    expect(signed(0)).toBe("0");
  });

  it("says when a badge was earned, or how often", () => {
    expect(day("2026-03-05T10:00:00Z")).toBe("5 Mar 2026");
    expect(earnedText(1, "2026-03-05T10:00:00Z")).toBe("earned 5 Mar 2026");
    expect(earnedText(3, "2026-03-05T10:00:00Z")).toBe("earned 3 times");
  });
});
