import { describe, expect, it } from "vitest";
import { apiQuery, readSearch, searchHash } from "./query";

describe("readSearch", () => {
  it("reads the words and filters from the address", () => {
    expect(readSearch("#/search?q=kettle%20%22descale%20it%22&category_id=4&author=ana&since=2026-01-02&until=2026-02-03&status=hidden&page=3"))
      .toEqual({ q: 'kettle "descale it"', category_id: 4, author: "ana", since: "2026-01-02",
                 until: "2026-02-03", status: "hidden", page: 3 });
  });

  it("leaves out what is malformed", () => {
    expect(readSearch("#/search?q=x&category_id=-1&since=yesterday&status=deleted&page=0"))
      .toEqual({ q: "x", page: 1 });
    expect(readSearch("#/search")).toEqual({ q: "", page: 1 });
  });
});

describe("searchHash", () => {
  it("round-trips through readSearch and drops empty filters", () => {
    const params = { q: "a & b", author: "ana", page: 2 };
    const hash = searchHash("/search", params);
    expect(hash).toBe("#/search?q=a+%26+b&author=ana&page=2");
    expect(readSearch(hash)).toEqual(params);
    expect(searchHash("/mod/search", { q: "x", page: 1, status: "held" }))
      .toBe("#/mod/search?q=x&status=held");
  });
});

describe("apiQuery", () => {
  it("passes the filters that are set", () => {
    expect(apiQuery({ q: "x", page: 1, category_id: 3 })).toEqual({ q: "x", category_id: 3 });
    expect(apiQuery({ q: "x", page: 4, author: "" })).toEqual({ q: "x", page: 4 });
  });
});
