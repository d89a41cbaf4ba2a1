// A table of rows loaded a page at a time with the API's cursor ("next_cursor"), the shape
// every console list shares: columns, a "Load more" button, an empty state, errors inline.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { FormError } from "./FormError";

export interface Page<Row, Cursor> {
  items: Row[];
  next_cursor?: Cursor | null;
}

export interface Column<Row> {
  title: string;
  cell: (row: Row) => ComponentChildren;
}

export function CursorTable<Row, Cursor>({ load, columns, rowKey, empty, caption, testid, version = 0 }: {
  load: (cursor: Cursor | null) => Promise<Page<Row, Cursor>>;
  columns: Column<Row>[];
  rowKey: (row: Row) => string | number;
  empty: string;
  caption: string;
  testid?: string;
  version?: number; // change it to reload from the first page
}) {
  const [rows, setRows] = useState<Row[]>([]);
  const [next, setNext] = useState<Cursor | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function more(cursor: Cursor | null, replace: boolean): Promise<void> {
    setBusy(true);
    try {
      const page = await load(cursor);
      setRows((old) => (replace ? page.items : [...old, ...page.items]));
      setNext(page.next_cursor ?? null);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => { void more(null, true); }, [version]);

  return (
    <div class="cursor-table" data-testid={testid}>
      <FormError error={error} />
      {rows.length === 0 && !busy && !error
        ? <p class="muted" data-testid="table-empty">{empty}</p>
        : (
          <table>
            <caption class="visually-hidden">{caption}</caption>
            <thead><tr>{columns.map((c) => <th key={c.title} scope="col">{c.title}</th>)}</tr></thead>
            <tbody>
              {rows.map((row) => (
                <tr key={rowKey(row)} data-testid="table-row">
                  {columns.map((c) => <td key={c.title}>{c.cell(row)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      {next !== null && (
        <button type="button" class="btn ghost" disabled={busy} data-testid="table-more"
          onClick={() => void more(next, false)}>Load more</button>
      )}
    </div>
  );
}
