import { describe, expect, it } from "vitest";
import { liabilityCsvHref, rateText } from "./liabilityText";

describe("liability helpers", () => {
  it("shows a rate as a percentage, and none when nothing was issued", () => {
    expect(rateText(0.1143)).toBe("11.4%");
    expect(rateText(0)).toBe("0.0%");
    expect(rateText(null)).toBe("none issued");
  });

  it("downloads a brand's CSV or the whole program's", () => {
    expect(liabilityCsvHref(3, 12)).toBe("/api/gamification/brands/3/liability.csv?months=12");
    expect(liabilityCsvHref(null, 6)).toBe("/api/gamification/liability.csv?months=6");
  });
});
