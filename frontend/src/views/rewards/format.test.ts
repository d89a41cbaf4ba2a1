import { describe, expect, it } from "vitest";
import { day, earnedText, expiryPolicyText, signed, utcDay } from "./format";

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

  it("says when points expire, as UTC days", () => {
    expect(utcDay("2026-12-27")).toBe("27 Dec 2026");
    expect(expiryPolicyText("never", null)).toBe("Your points never expire.");
    expect(expiryPolicyText("earning", 12)).toBe(
      "Points expire 12 months after you earn them; spending uses the soonest to expire first.");
    expect(expiryPolicyText("activity", 1)).toBe("Points expire a month after you last earn or spend any.");
  });
});
