import { describe, expect, it } from "vitest";
import { localToIso } from "./time";

describe("localToIso", () => {
  it("reads the input as local time and gives an instant in UTC", () => {
    const iso = localToIso("2026-03-01T09:30");
    expect(iso).toBe(new Date(2026, 2, 1, 9, 30).toISOString());
    expect(iso?.endsWith("Z")).toBe(true);
  });

  it("refuses what is not a datetime-local value", () => {
    expect(localToIso("")).toBeNull();
    expect(localToIso("2026-03-01")).toBeNull();
    expect(localToIso("2026-13-45T99:99")).toBeNull();
  });
});
