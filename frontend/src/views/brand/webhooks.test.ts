import { describe, expect, it } from "vitest";
import { instant } from "./webhooks";

describe("instant", () => {
  it("turns a datetime-local value (the browser's zone) into the ISO instant the API takes", () => {
    const local = "2026-11-27T09:30";
    expect(instant(local)).toBe(new Date(2026, 10, 27, 9, 30).toISOString());
    expect(instant(local).endsWith("Z")).toBe(true);
  });
});
