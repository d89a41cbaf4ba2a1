// A staff log entry's before and after, as rows a person reads: one per field that changed,
// with each side written out ("—" where the field did not exist on that side).

export interface DiffRow {
  field: string;
  before: string;
  after: string;
}

type Fields = Record<string, unknown> | null | undefined;

export const ABSENT = "—";

export function show(value: unknown): string {
  if (value === undefined) return ABSENT;
  if (value === null) return "none";
  if (typeof value === "string") return value === "" ? "(empty)" : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number")) {
    return value.length === 0 ? "(none)" : value.join(", ");
  }
  return JSON.stringify(value);
}

/** Fields in the order the entry names them: the before side's first, then any new ones. */
export function diffRows(before: Fields, after: Fields): DiffRow[] {
  const was = before ?? {};
  const now = after ?? {};
  const fields = [...Object.keys(was), ...Object.keys(now).filter((k) => !(k in was))];
  return fields
    .filter((field) => JSON.stringify(was[field]) !== JSON.stringify(now[field]) || before === null || after === null)
    .map((field) => ({
      field,
      before: field in was ? show(was[field]) : ABSENT,
      after: field in now ? show(now[field]) : ABSENT,
    }));
}

/** "badge.grant" reads as "badge grant". */
export function actionLabel(action: string): string {
  return action.replace(/[._]/g, " ");
}
