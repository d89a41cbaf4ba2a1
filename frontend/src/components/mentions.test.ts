import { describe, expect, it } from "vitest";
import { insertMention, mentionAt } from "./mentions";

describe("mentionAt", () => {
  it("finds the handle being typed at the caret", () => {
    expect(mentionAt("hello @an", 9)).toEqual({ start: 6, prefix: "an" });
    expect(mentionAt("@a", 2)).toEqual({ start: 0, prefix: "a" });
  });

  it("ignores email addresses, paths and finished words", () => {
    expect(mentionAt("mail me at bo@example", 21)).toBeNull();
    expect(mentionAt("see /u/@x", 9)).toBeNull();
    expect(mentionAt("hi @ana ", 8)).toBeNull();
    expect(mentionAt("just @", 6)).toBeNull();
  });

  it("looks only before the caret", () => {
    expect(mentionAt("@ana and more", 4)).toEqual({ start: 0, prefix: "ana" });
  });
});

describe("insertMention", () => {
  it("replaces the typed prefix with the handle and a space", () => {
    const at = { start: 6, prefix: "an" };
    expect(insertMention("hello @an", at, "ana_b")).toEqual({ text: "hello @ana_b ", caret: 13 });
  });

  it("keeps the text after the caret without doubling the space", () => {
    const at = { start: 0, prefix: "an" };
    expect(insertMention("@an said", at, "ana")).toEqual({ text: "@ana said", caret: 5 });
  });
});
