import { describe, expect, it } from "vitest";
import { parseRoute, type RouteSpec } from "./router";

const specs: RouteSpec[] = [
  { name: "home", pattern: "/" },
  { name: "thread", pattern: "/t/:id" },
  { name: "profile", pattern: "/u/:handle" },
  { name: "board", pattern: "/leaderboards/:board" },
];

describe("parseRoute", () => {
  it("matches the home page with or without a hash", () => {
    expect(parseRoute("", specs).name).toBe("home");
    expect(parseRoute("#/", specs).name).toBe("home");
  });

  it("takes positive integer ids only", () => {
    expect(parseRoute("#/t/42", specs)).toMatchObject({ name: "thread", params: { id: "42" } });
    expect(parseRoute("#/t/0", specs).name).toBe("not-found");
    expect(parseRoute("#/t/-1", specs).name).toBe("not-found");
    expect(parseRoute("#/t/4x", specs).name).toBe("not-found");
    expect(parseRoute("#/t/12345678901234567890", specs).name).toBe("not-found");
  });

  it("decodes named segments", () => {
    expect(parseRoute("#/u/Ana%20B", specs).params).toEqual({ handle: "Ana B" });
  });

  it("ignores a query after the path", () => {
    expect(parseRoute("#/leaderboards/week?x=1", specs).params).toEqual({ board: "week" });
  });

  it("refuses extra segments", () => {
    expect(parseRoute("#/t/1/extra", specs).name).toBe("not-found");
  });
});
