/**
 * Plain-text rendering of a scan for the terminal: findings grouped by severity, or per-rule counts
 * (`--summary`). Pure: the width and whether to colour are passed in (docs/cli.md#table).
 *
 * Fitting a width: a column empty in every row is not shown (no empty OWNER column); then, while a
 * row is wider than the width, columns are dropped in this order: LAST USED, THRESHOLD, OWNER,
 * DAYS; then CREDENTIAL, then USER, are cut to fit (ending in "…"; never under 8 characters). A note
 * says which columns were dropped. Text lines (heading, warnings, exemptions) are wrapped.
 */
import type { Finding, ScanWarning, Severity } from './types';

export interface TableInput {
  readonly accountId: string;
  readonly evaluatedAt: string;
  readonly reportGeneratedAt: string | null;
  readonly usersScanned: number;
  readonly findings: readonly Finding[];
  readonly counts: Record<Severity, number>;
  readonly exempted: number;
  readonly warnings: readonly ScanWarning[];
}

export interface TableOptions {
  /** Characters per line; undefined: no limit (a pipe or a file). */
  readonly width?: number;
  /** ANSI colour for the severity headings (a terminal, NO_COLOR unset). @default false */
  readonly colour?: boolean;
  /** When findings were filtered out: the filters (e.g. `--severity critical`) and how many the scan had. */
  readonly filtered?: { readonly filters: readonly string[]; readonly total: number };
}

type ColumnId = 'user' | 'rule' | 'credential' | 'days' | 'threshold' | 'lastUsed' | 'owner';

const COLUMNS: readonly { id: ColumnId; heading: string }[] = [
  { id: 'user', heading: 'USER' },
  { id: 'rule', heading: 'RULE' },
  { id: 'credential', heading: 'CREDENTIAL' },
  { id: 'days', heading: 'DAYS' },
  { id: 'threshold', heading: 'THRESHOLD' },
  { id: 'lastUsed', heading: 'LAST USED' },
  { id: 'owner', heading: 'OWNER' },
];

/** The order in which columns give way to a narrow terminal. */
export const DROP_ORDER: readonly ColumnId[] = ['lastUsed', 'threshold', 'owner', 'days'];
/** Then these are cut, in this order. */
const CUT_ORDER: readonly ColumnId[] = ['credential', 'user'];
const MIN_CUT = 8;
const INDENT = '  ';
const GAP = '  ';

const ANSI: Record<string, string> = {
  critical: '\x1b[1;31m',
  warning: '\x1b[1;33m',
  info: '\x1b[1;36m',
  exempted: '\x1b[2m',
  warnings: '\x1b[33m',
};
const RESET = '\x1b[0m';

/** `1 user`, `2 users`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function lastUsed(f: Finding): string {
  if (f.lastUsed === undefined) return '';
  if (f.lastUsed === null) return 'never';
  const service = f.lastUsed.service ? ` ${f.lastUsed.service}` : '';
  return `${f.lastUsed.date.slice(0, 10)}${service}`;
}

function cells(f: Finding): Record<ColumnId, string> {
  return {
    user: f.user,
    rule: f.rule,
    credential: f.accessKeyId ?? f.credential,
    days: f.days === undefined ? '' : String(f.days),
    threshold: f.thresholdDays === undefined ? '' : String(f.thresholdDays),
    lastUsed: lastUsed(f),
    owner: f.owner ?? '',
  };
}

interface Layout {
  readonly columns: readonly { id: ColumnId; heading: string; width: number }[];
  readonly dropped: readonly string[];
}

const lineWidth = (widths: readonly number[]) =>
  INDENT.length + widths.reduce((a, b) => a + b, 0) + GAP.length * Math.max(0, widths.length - 1);

/** Which columns to show and how wide, for every finding of the table (groups line up). */
function layout(rows: readonly Record<ColumnId, string>[], width: number | undefined): Layout {
  let columns = COLUMNS.filter((c) => rows.some((r) => r[c.id] !== '')).map((c) => ({
    ...c,
    width: Math.max(c.heading.length, ...rows.map((r) => r[c.id].length)),
  }));
  const dropped: string[] = [];
  if (width === undefined) return { columns, dropped };
  const fits = () => lineWidth(columns.map((c) => c.width)) <= width;
  for (const id of DROP_ORDER) {
    if (fits()) break;
    const column = columns.find((c) => c.id === id);
    if (!column) continue;
    columns = columns.filter((c) => c !== column);
    dropped.push(column.heading);
  }
  for (const id of CUT_ORDER) {
    if (fits()) break;
    const column = columns.find((c) => c.id === id);
    if (!column) continue;
    const excess = lineWidth(columns.map((c) => c.width)) - width;
    column.width = Math.max(MIN_CUT, column.heading.length, column.width - excess);
  }
  return { columns, dropped };
}

const cut = (text: string, width: number) => (text.length <= width ? text : `${text.slice(0, width - 1)}…`);

function gridLines(rows: readonly Record<ColumnId, string>[] | null, l: Layout): string[] {
  const line = (values: readonly string[]) =>
    `${INDENT}${values
      .map((v, i) => {
        const w = l.columns[i]!.width;
        return i === values.length - 1 ? cut(v, w) : cut(v, w).padEnd(w);
      })
      .join(GAP)}`.trimEnd();
  if (rows === null) return [line(l.columns.map((c) => c.heading))];
  return rows.map((r) => line(l.columns.map((c) => r[c.id])));
}

/** Word-wraps `text` to `width`, continuation lines indented by `hang`. */
export function wrap(text: string, width: number | undefined, hang = ''): string[] {
  if (width === undefined || text.length <= width) return [text];
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let current = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const candidate = current.trim() === '' ? `${current}${word}` : `${current} ${word}`;
    if (candidate.length > width && current.trim() !== '') {
      lines.push(current);
      current = `${hang}${word}`;
    } else {
      current = candidate;
    }
  }
  lines.push(current);
  return lines;
}

const paint = (colour: boolean | undefined, style: string, text: string) =>
  colour ? `${ANSI[style]}${text}${RESET}` : text;

function heading(scan: TableInput, width: number | undefined): string[] {
  const report = scan.reportGeneratedAt ? `, report generated ${scan.reportGeneratedAt}` : '';
  return wrap(
    `credwatch: account ${scan.accountId}, ${plural(scan.usersScanned, 'user')}, evaluated at ${scan.evaluatedAt}${report}`,
    width,
    '  ',
  );
}

function tail(scan: TableInput, options: TableOptions): string[] {
  const lines: string[] = [];
  const { width, colour } = options;
  if (scan.warnings.length > 0) {
    lines.push('', paint(colour, 'warnings', `WARNINGS (${scan.warnings.length})`));
    for (const w of scan.warnings) lines.push(...wrap(`  - ${w.message}`, width, '    '));
  }
  const c = scan.counts;
  const counted = c.critical + c.warning + c.info;
  lines.push(
    '',
    ...wrap(
      `${plural(counted, 'finding')}: ${c.critical} critical, ${c.warning} warning, ${c.info} info; ${scan.exempted} exempted; ${plural(scan.warnings.length, 'warning')}`,
      width,
    ),
  );
  return lines;
}

function filterNote(scan: TableInput, options: TableOptions): string[] {
  if (!options.filtered) return [];
  const { filters, total } = options.filtered;
  return [
    '',
    ...wrap(
      `(${scan.findings.length} of ${plural(total, 'finding')} shown: ${filters.join(' ')})`,
      options.width,
    ),
  ];
}

/** The findings, grouped by severity, then the warnings and a one-line summary. */
export function renderTable(scan: TableInput, options: TableOptions = {}): string {
  const { width, colour } = options;
  const lines = heading(scan, width);
  lines.push(...filterNote(scan, options));
  const groups: [string, string, Finding[]][] = [
    ['critical', 'CRITICAL', scan.findings.filter((f) => !f.exemption && f.severity === 'critical')],
    ['warning', 'WARNING', scan.findings.filter((f) => !f.exemption && f.severity === 'warning')],
    ['info', 'INFO', scan.findings.filter((f) => !f.exemption && f.severity === 'info')],
    ['exempted', 'EXEMPTED (shown, not counted)', scan.findings.filter((f) => f.exemption)],
  ];
  // Each finding's cells once: the layout measures them, the groups print them.
  const all = scan.findings.map(cells);
  const cellsOf = new Map(scan.findings.map((f, i) => [f, all[i]!]));
  const l = layout(all, width);
  for (const [style, title, findings] of groups) {
    if (findings.length === 0) continue;
    lines.push('', paint(colour, style, `${title} (${findings.length})`));
    for (const line of gridLines(null, l)) lines.push(line);
    for (const line of gridLines(
      findings.map((f) => cellsOf.get(f)!),
      l,
    ))
      lines.push(line);
    for (const f of findings) {
      if (f.exemption) {
        lines.push(
          ...wrap(`  ${f.id}: exempt until ${f.exemption.until} (${f.exemption.reason})`, width, '    '),
        );
      }
    }
  }
  if (scan.findings.length === 0) lines.push('', 'No findings.');
  if (l.dropped.length > 0) {
    lines.push(
      '',
      ...wrap(`(not shown, to fit ${width} columns: ${l.dropped.join(', ')}; --json has every field)`, width),
    );
  }
  lines.push(...tail(scan, options));
  return `${lines.join('\n')}\n`;
}

/** `--summary`: per-rule counts by severity instead of the findings, then the warnings and the summary. */
export function renderSummary(scan: TableInput, options: TableOptions = {}): string {
  const { width, colour } = options;
  const lines = heading(scan, width);
  lines.push(...filterNote(scan, options));
  const byRule = new Map<string, { critical: number; warning: number; info: number; exempted: number }>();
  for (const f of scan.findings) {
    const counts = byRule.get(f.rule) ?? { critical: 0, warning: 0, info: 0, exempted: 0 };
    if (f.exemption) counts.exempted++;
    else counts[f.severity]++;
    byRule.set(f.rule, counts);
  }
  if (byRule.size === 0) {
    lines.push('', 'No findings.');
  } else {
    const rows = [...byRule]
      .sort(
        ([ra, a], [rb, b]) =>
          b.critical - a.critical || b.warning - a.warning || b.info - a.info || ra.localeCompare(rb),
      )
      .map(([rule, c]) => [rule, String(c.critical), String(c.warning), String(c.info), String(c.exempted)]);
    const headings = ['RULE', 'CRITICAL', 'WARNING', 'INFO', 'EXEMPTED'];
    const widths = headings.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (values: string[]) =>
      `${INDENT}${values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(GAP)}`;
    lines.push('', line(headings));
    for (const r of rows) {
      const text = line(r);
      const style = r[1] !== '0' ? 'critical' : r[2] !== '0' ? 'warning' : r[3] !== '0' ? 'info' : 'exempted';
      lines.push(colour ? paint(colour, style, text) : text);
    }
  }
  lines.push(...tail(scan, options));
  return `${lines.join('\n')}\n`;
}
