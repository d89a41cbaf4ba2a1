import { describe, expect, it } from "vitest";
import { ACTIONS, verdictText } from "./watchedWords";

describe("verdictText", () => {
  it("names the action and every match, strongest first as the server lists them", () => {
    expect(verdictText({ action: "hold", matches: ["fraud", "darn"], text: "d**n fraud" }))
      .toBe("Hold: matches 'fraud', 'darn'.");
  });

  it("says so when nothing matches", () => {
    expect(verdictText({ action: null, matches: [], text: "fine" })).toBe("Nothing on the list matches.");
  });

  it("offers the server's four actions, strongest first", () => {
    expect(ACTIONS.map((a) => a.value)).toEqual(["block", "hold", "flag", "replace"]);
  });
});
