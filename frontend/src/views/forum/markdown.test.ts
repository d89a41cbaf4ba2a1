import { describe, expect, it } from "vitest";
import { appendQuote, code, link, prefixLines, quote, wrap } from "./markdown";

describe("the composer's Markdown toolbar", () => {
  it("wraps the selection, or selects a placeholder to type over", () => {
    expect(wrap("a big cup", 2, 5, "**", "**", "bold")).toEqual({ text: "a **big** cup", start: 4, end: 7 });
    const empty = wrap("cup ", 4, 4, "_", "_", "italic");
    expect(empty.text).toBe("cup _italic_");
    expect(empty.text.slice(empty.start, empty.end)).toBe("italic");
  });

  it("makes a link with the address selected", () => {
    const edit = link("see docs", 4, 8);
    expect(edit.text).toBe("see [docs](https://)");
    expect(edit.text.slice(edit.start, edit.end)).toBe("https://");
  });

  it("quotes every line the selection touches", () => {
    expect(prefixLines("one\ntwo\nthree", 1, 5, "> ").text).toBe("> one\n> two\nthree");
    expect(prefixLines("", 0, 0, "> ").text).toBe("> ");
  });

  it("uses inline code on a line and a fence across lines", () => {
    expect(code("run npm ci now", 4, 10).text).toBe("run `npm ci` now");
    expect(code("x\na\nb", 2, 5).text).toBe("x\n```\na\nb\n```\n");
  });

  it("quotes a post with its author, after what is already written", () => {
    expect(quote("ana", "first\n\nsecond\n")).toBe("> @ana wrote:\n> first\n>\n> second\n\n");
    expect(appendQuote("", "> q\n\n")).toBe("> q\n\n");
    expect(appendQuote("I think  \n", "> q\n\n")).toBe("I think\n\n> q\n\n");
  });
});
