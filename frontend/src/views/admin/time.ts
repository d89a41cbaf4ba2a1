// A <input type="datetime-local"> value ("2026-03-01T09:30") is a local time without a zone;
// the API wants an instant with an offset.

export function localToIso(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const when = new Date(value); // parsed as local time
  return Number.isNaN(when.getTime()) ? null : when.toISOString();
}
