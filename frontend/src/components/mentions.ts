// Finding the @handle being typed at the caret, and putting a chosen handle in its place.

// Handles are 3 to 32 of [A-Za-z0-9_]; suggestions start after one character.
const TYPING = /(?:^|[^\w@/])@(\w{1,32})$/;

export interface MentionAt {
  start: number; // index of the "@"
  prefix: string;
}

export function mentionAt(text: string, caret: number): MentionAt | null {
  const match = TYPING.exec(text.slice(0, caret));
  if (!match) return null;
  const prefix = match[1] ?? "";
  return { start: caret - prefix.length - 1, prefix };
}

export function insertMention(text: string, at: MentionAt, handle: string): { text: string; caret: number } {
  const end = at.start + 1 + at.prefix.length;
  const inserted = `@${handle} `;
  const rest = text.slice(end).replace(/^\s/, "");
  return { text: text.slice(0, at.start) + inserted + rest, caret: at.start + inserted.length };
}
