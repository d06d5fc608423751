/** Plain-text table: columns padded to the widest cell, no colour (readable in any terminal or log). */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  align?: 'left' | 'right';
  /** Cells longer than this are cut with an ellipsis so one long wallet can't wreck the layout. */
  max?: number;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const v = c.value(r);
      let s = v === null || v === undefined ? '-' : String(v);
      if (c.max && s.length > c.max) s = `${s.slice(0, c.max - 1)}…`;
      return s;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n');
}
