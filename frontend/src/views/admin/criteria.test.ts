import { describe, expect, it } from "vitest";
import { buildCriteria, describeCriteria, draftOf, emptyDraft, type CriteriaDraft } from "./criteria";

const draft = (change: Partial<CriteriaDraft>): CriteriaDraft => ({ ...emptyDraft(), ...change });

describe("buildCriteria", () => {
  it("builds each type's structure, tagged with its type", () => {
    expect(buildCriteria(draft({ type: "count", eventTypes: ["post.created"], count: " 10 ", windowDays: "" })))
      .toEqual({ criteria: { type: "count", event_types: ["post.created"], count: 10, condition: "" } });
    expect(buildCriteria(draft({ type: "count", eventTypes: ["reaction.added"], count: "5", windowDays: "30",
      condition: " kind == 'like' " }))).toEqual({ criteria: { type: "count", event_types: ["reaction.added"],
      count: 5, condition: "kind == 'like'", window_days: 30 } });
    expect(buildCriteria(draft({ type: "streak", eventTypes: ["member.visited"], length: "7", unit: "week" })))
      .toEqual({ criteria: { type: "streak", event_types: ["member.visited"], length: 7, unit: "week", condition: "" } });
    expect(buildCriteria(draft({ type: "first", eventTypes: ["thread.created"] })))
      .toEqual({ criteria: { type: "first", event_types: ["thread.created"], condition: "" } });
    expect(buildCriteria(draft({ type: "points", threshold: "1000" })))
      .toEqual({ criteria: { type: "points", threshold: 1000 } });
    expect(buildCriteria(draft({ type: "challenge", challengeId: "42" })))
      .toEqual({ criteria: { type: "challenge", challenge_id: 42 } });
    expect(buildCriteria(draft({ type: "manual", eventTypes: ["post.created"], count: "3" })))
      .toEqual({ criteria: { type: "manual" } });
  });

  it("says what is missing or out of range, within the API's limits", () => {
    expect(buildCriteria(draft({ type: "count", count: "3" }))).toEqual({ problem: "Choose at least one activity." });
    expect(buildCriteria(draft({ type: "count", eventTypes: ["post.created"], count: "0" })))
      .toEqual({ problem: "The count must be a whole number from 1 to 1,000,000." });
    expect(buildCriteria(draft({ type: "count", eventTypes: ["post.created"], count: "2.5" }))).toHaveProperty("problem");
    expect(buildCriteria(draft({ type: "count", eventTypes: ["post.created"], count: "2", windowDays: "4000" })))
      .toHaveProperty("problem");
    expect(buildCriteria(draft({ type: "streak", eventTypes: ["member.visited"], length: "1" })))
      .toEqual({ problem: "The streak length must be a whole number from 2 to 3,650." });
    expect(buildCriteria(draft({ type: "points", threshold: "" }))).toHaveProperty("problem");
    expect(buildCriteria(draft({ type: "challenge", challengeId: "-1" }))).toHaveProperty("problem");
  });

  it("round-trips through a draft for editing", () => {
    const criteria = { type: "count" as const, event_types: ["post.created", "thread.created"], count: 3,
      condition: "category_id == 2", window_days: 7 };
    expect(buildCriteria(draftOf(criteria))).toEqual({ criteria });
    const streak = { type: "streak" as const, event_types: ["member.visited"], length: 5, unit: "day", condition: "" };
    expect(buildCriteria(draftOf(streak))).toEqual({ criteria: streak });
  });
});

describe("describeCriteria", () => {
  it("says the criteria in words", () => {
    expect(describeCriteria({ type: "count", event_types: ["post.created"], count: 1000, condition: "", window_days: 30 }))
      .toBe("1,000 × posts a reply within 30 days");
    expect(describeCriteria({ type: "manual" })).toBe("Granted by staff");
  });
});
