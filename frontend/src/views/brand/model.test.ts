import { describe, expect, it } from "vitest";
import {
  challengeBody, emptyChallenge, fieldsFor, formOf, fromLocalInput, localInput, newKey,
  parseSample, withField, type EventType,
} from "./model";

const types: EventType[] = [
  { type: "thread.created", brand_rules: true, sample: {}, fields: [
    { name: "thread_id", type: "integer", required: true },
    { name: "category_id", type: "integer", required: true },
  ] },
  { type: "post.created", brand_rules: true, sample: {}, fields: [
    { name: "post_number", type: "integer", required: true },
    { name: "category_id", type: "integer", required: true },
  ] },
];

describe("fieldsFor", () => {
  it("lists the fields every chosen event has, event first", () => {
    expect(fieldsFor(types, ["post.created"]).map((f) => f.name)).toEqual(["event", "post_number", "category_id"]);
    expect(fieldsFor(types, ["post.created", "thread.created"]).map((f) => f.name)).toEqual(["event", "category_id"]);
    expect(fieldsFor(types, [])).toEqual([]);
  });
});

describe("withField", () => {
  it("starts or extends a condition", () => {
    expect(withField("", "kind")).toBe("kind == ");
    expect(withField("post_number > 1 ", "category_id")).toBe("post_number > 1 and category_id == ");
  });
});

describe("times", () => {
  it("round-trips a local input", () => {
    const when = new Date(2026, 0, 2, 3, 4);
    expect(localInput(when)).toBe("2026-01-02T03:04");
    expect(new Date(fromLocalInput(localInput(when))).getTime()).toBe(when.getTime());
    expect(fromLocalInput("")).toBe("");
  });
});

describe("challengeBody", () => {
  it("builds the API body and keeps what the form does not edit", () => {
    const form = emptyChallenge(new Date(2026, 0, 1, 10, 30), "Europe/Paris");
    form.title = "  Winter  ";
    form.tasks = [{ name: "Post", eventTypes: ["post.created"], target: "2", condition: " post_number > 1 " }];
    const body = challengeBody(7, form);
    expect(body.brand_id).toBe(7);
    expect(body.title).toBe("Winter");
    expect(body.tasks).toEqual([{ name: "Post", event_types: ["post.created"], target: 2, condition: "post_number > 1" }]);
    expect(body.eligibility).toBe("everyone");
    expect(Number.isNaN(challengeBody(7, { ...form, rewardPoints: "" }).reward_points)).toBe(true);
  });

  it("reads a challenge back into a form", () => {
    const form = formOf({
      id: 1, brand_id: 7, title: "T", description: "", image_url: "", starts_at: "2026-01-01T00:00:00Z",
      ends_at: "2026-01-02T00:00:00Z", time_zone: "UTC", status: "draft", eligibility: "badge",
      eligibility_value: "3", auto_enroll: true, ordered: false, reward_points: 5, reward_badge_id: 9,
      tasks: [{ id: 1, position: 0, name: "A", event_types: ["post.created"], condition: "", target: 3 }],
    });
    expect(form.tasks[0]).toEqual({ name: "A", eventTypes: ["post.created"], target: "3", condition: "" });
    expect(form.rewardPoints).toBe("5");
  });
});

describe("parseSample", () => {
  it("accepts an object and explains anything else", () => {
    expect(parseSample('{"event": "post.created"}')).toEqual({ event: { event: "post.created" } });
    expect(parseSample("[1]")).toEqual({ error: "The sample event must be a JSON object of fields." });
    expect(parseSample("{")).toEqual({ error: "The sample event is not valid JSON." });
  });
});

describe("newKey", () => {
  it("is unique and fits the API's key pattern", () => {
    const a = newKey("adj");
    expect(a).toMatch(/^[A-Za-z0-9_.:-]{8,120}$/);
    expect(newKey("adj")).not.toBe(a);
  });
});
