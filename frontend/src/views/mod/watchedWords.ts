// What the watched-words page says about the list's actions and about a tried text.

export interface TriedText {
  action: string | null;
  matches: string[];
  text: string;
}

export const ACTIONS: { value: string; label: string; hint: string }[] = [
  { value: "block", label: "Block", hint: "refuse the post, naming the word" },
  { value: "hold", label: "Hold", hint: "hold a new post for approval; flag an edit or a profile" },
  { value: "flag", label: "Flag", hint: "let it through and flag it for the review queue" },
  { value: "replace", label: "Replace", hint: "store it with the word replaced" },
];

/** What a try's answer says, in a sentence. */
export function verdictText(verdict: TriedText): string {
  if (verdict.action === null) return "Nothing on the list matches.";
  const what = verdict.matches.map((m) => `'${m}'`).join(", ");
  const label = ACTIONS.find((a) => a.value === verdict.action)?.label ?? verdict.action;
  return `${label}: matches ${what}.`;
}
