// Markdown edits the composer's toolbar makes: pure functions of (text, selection), so they are
// unit-tested. Each returns the new text and the selection to leave.

export interface Edit {
  text: string;
  start: number;
  end: number;
}

/** Wraps the selection (or a placeholder, selected) in before…after: bold, italic, inline code. */
export function wrap(text: string, start: number, end: number, before: string, after: string,
  placeholder: string): Edit {
  const inner = text.slice(start, end) || placeholder;
  const out = text.slice(0, start) + before + inner + after + text.slice(end);
  return { text: out, start: start + before.length, end: start + before.length + inner.length };
}

/** Turns the selection into a link, leaving the address selected to be typed over. */
export function link(text: string, start: number, end: number): Edit {
  const label = text.slice(start, end) || "link text";
  const url = "https://";
  const out = `${text.slice(0, start)}[${label}](${url})${text.slice(end)}`;
  const urlStart = start + label.length + 3;
  return { text: out, start: urlStart, end: urlStart + url.length };
}

/** Prefixes every line the selection touches ("> " quotes them). */
export function prefixLines(text: string, start: number, end: number, prefix: string): Edit {
  const from = text.lastIndexOf("\n", start - 1) + 1;
  const to = end > start && text[end - 1] === "\n" ? end - 1 : end;
  const lineEnd = text.indexOf("\n", to);
  const until = lineEnd < 0 ? text.length : lineEnd;
  const lines = text.slice(from, until).split("\n").map((line) => prefix + line);
  const block = lines.join("\n");
  return { text: text.slice(0, from) + block + text.slice(until), start: from, end: from + block.length };
}

/** Inline code for part of a line, a fenced block for several lines. */
export function code(text: string, start: number, end: number): Edit {
  const selected = text.slice(start, end);
  if (!selected.includes("\n")) return wrap(text, start, end, "`", "`", "code");
  const before = start > 0 && text[start - 1] !== "\n" ? "\n" : "";
  const fenced = `${before}\`\`\`\n${selected.replace(/\n$/, "")}\n\`\`\`\n`;
  const out = text.slice(0, start) + fenced + text.slice(end);
  return { text: out, start: start + before.length + 4, end: start + before.length + 4 + selected.replace(/\n$/, "").length };
}

/** A post quoted for a reply: who wrote it, then their words as a Markdown block quote. */
export function quote(handle: string, raw: string): string {
  const lines = raw.trim().split("\n").map((line) => (line ? `> ${line}` : ">"));
  return `> @${handle} wrote:\n${lines.join("\n")}\n\n`;
}

/** The quote added to a draft: after what is there, separated by a blank line. */
export function appendQuote(draft: string, quoted: string): string {
  if (!draft.trim()) return quoted;
  return `${draft.replace(/\s*$/, "")}\n\n${quoted}`;
}
