/**
 * Credential report CSV -> typed records.
 *
 * Accepts what IAM has produced over the years: timestamps with `+00:00` (before 2024) or `Z`,
 * booleans in any case, `N/A` / `no_information` / `not_supported` for absent values, the
 * `<root_account>` row (whose password fields may be `not_supported` or, since 2025, real values).
 * Unknown extra columns are ignored. A missing required column or an unparseable value is a
 * {@link CredentialReportParseError} naming the source (file), the line, the user and the column.
 *
 * Never silent: `not_supported` where IAM writes it only for the root user, an active key without a
 * creation time, a report without users or without the `<root_account>` row (which AWS always
 * writes: the file was filtered or truncated) are warnings. A file holding the reports of two
 * accounts (two reports concatenated) is refused.
 */
import { parse } from 'csv-parse/sync';
import { parseIsoInstant } from './dates';
import { CredentialReportParseError } from './errors';
import type { AccessKey, CredentialRecord, ScanWarning } from './types';

export const ROOT_USER = '<root_account>';

const KEY_COLUMNS = (n: 1 | 2) =>
  [
    `access_key_${n}_active`,
    `access_key_${n}_last_rotated`,
    `access_key_${n}_last_used_date`,
    `access_key_${n}_last_used_region`,
    `access_key_${n}_last_used_service`,
  ] as const;

/** The columns credwatch reads; every other column (password_next_rotation, cert_*, future ones) is ignored. */
export const REQUIRED_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'mfa_active',
  ...KEY_COLUMNS(1),
  ...KEY_COLUMNS(2),
] as const;

type Column = (typeof REQUIRED_COLUMNS)[number];

/** Values IAM writes where there is no value. */
const ABSENT = new Set(['n/a', 'no_information', 'not_supported', '']);

/** The root row's columns where old reports write `not_supported` (IAM did not report root passwords). */
const ROOT_NOT_SUPPORTED: ReadonlySet<string> = new Set([
  'password_enabled',
  'password_last_used',
  'password_last_changed',
]);

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

export interface ParsedReport {
  readonly records: CredentialRecord[];
  /** Rows that needed a decision (e.g. a user listed twice); never silent. */
  readonly warnings: ScanWarning[];
}

export interface ParseOptions {
  /** What the messages call the report, e.g. its file name. @default "credential report" */
  readonly source?: string;
  /**
   * Warn when the report has no rows or no `<root_account>` row (AWS always writes it): set for a
   * file a person gives, which may have been filtered or cut. @default false (IAM's own report)
   */
  readonly checkWhole?: boolean;
}

/** One row as the checks read it: one object per row, no closures (a 50,000-user report is 50,000 rows). */
class RowContext {
  readonly user: string;
  readonly isRoot: boolean;
  constructor(
    readonly source: string,
    readonly line: number,
    private readonly record: readonly string[],
    private readonly at: Readonly<Record<Column, number>>,
    private readonly warnings: ScanWarning[],
  ) {
    this.user = this.get('user');
    this.isRoot = this.user === ROOT_USER;
  }
  get(column: Column): string {
    return (this.record[this.at[column]] ?? '').trim();
  }
  warn(warning: ScanWarning): void {
    this.warnings.push(warning);
  }
}

const where = (ctx: RowContext, column: Column) =>
  `${ctx.source} line ${ctx.line}, user "${ctx.user}", column ${column}`;

function fail(ctx: RowContext, column: Column, problem: string): never {
  throw new CredentialReportParseError(`${where(ctx, column)}: ${problem}`, {
    line: ctx.line,
    column,
    user: ctx.user,
  });
}

/**
 * True when the cell holds no value. `not_supported` outside the root row's password columns is
 * read as no value too, with a warning: IAM writes it nowhere else.
 */
function absent(ctx: RowContext, column: Column, raw: string): boolean {
  const first = raw.charCodeAt(0);
  if (first >= DIGIT_0 && first <= DIGIT_0 + 9) return false; // a timestamp: no absent value starts so
  const v = raw.toLowerCase();
  if (!ABSENT.has(v)) return false;
  if (v === 'not_supported' && !(ctx.isRoot && ROOT_NOT_SUPPORTED.has(column))) {
    ctx.warn({
      code: 'value-not-supported',
      user: ctx.user,
      message: `${where(ctx, column)}: "${raw}" read as no value (IAM writes it only in the root user's password columns)`,
    });
  }
  return true;
}

const DIGIT_0 = 48;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits of `s` at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - DIGIT_0;
  const b = s.charCodeAt(i + 1) - DIGIT_0;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The instant of a timestamp in the shape IAM writes, `2026-07-20T14:02:11+00:00` or
 * `2026-07-20T14:02:11Z` (any `+HH:MM`/`-HH:MM` offset), in milliseconds; `undefined` for anything
 * else (another shape, an impossible date, a year before 1000), which then goes through the full
 * parser ({@link parseIsoInstant}) and its messages. Where it answers, it answers what the full
 * parser answers (test/unit/core/report-timestamp.test.ts).
 */
export function fastTimestampMs(s: string): number | undefined {
  const n = s.length;
  if (n !== 20 && n !== 25) return undefined;
  if (
    s.charCodeAt(4) !== 45 || // -
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 || // T
    s.charCodeAt(13) !== 58 || // :
    s.charCodeAt(16) !== 58
  ) {
    return undefined;
  }
  const hi = twoDigits(s, 0);
  const lo = twoDigits(s, 2);
  if (hi < 10 || lo < 0) return undefined; // years 0-999: the full parser's rules
  const year = hi * 100 + lo;
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!)) return undefined;
  let offsetMinutes = 0;
  if (n === 20) {
    if (s.charCodeAt(19) !== 90) return undefined; // Z
  } else {
    const sign = s.charCodeAt(19);
    const oh = twoDigits(s, 20);
    const om = twoDigits(s, 23);
    if ((sign !== 43 && sign !== 45) || s.charCodeAt(22) !== 58 || oh < 0 || oh > 23 || om < 0 || om > 59) {
      return undefined;
    }
    offsetMinutes = (sign === 45 ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, 0) - offsetMinutes * 60_000;
}

function parseTimestamp(ctx: RowContext, column: Column, raw: string): Date {
  const fast = fastTimestampMs(raw);
  if (fast !== undefined) return new Date(fast);
  if (!ISO_TIMESTAMP.test(raw)) fail(ctx, column, `expected an ISO 8601 timestamp, got "${raw}"`);
  const parsed = parseIsoInstant(raw);
  if (!parsed.ok) fail(ctx, column, `"${raw}" is not a valid date: ${parsed.problem}`);
  return parsed.date;
}

function optionalTimestamp(ctx: RowContext, column: Column): Date | null {
  const raw = ctx.get(column);
  return absent(ctx, column, raw) ? null : parseTimestamp(ctx, column, raw);
}

function requiredTimestamp(ctx: RowContext, column: Column): Date {
  const raw = ctx.get(column);
  if (ABSENT.has(raw.toLowerCase())) fail(ctx, column, `a timestamp is required, got "${raw}"`);
  return parseTimestamp(ctx, column, raw);
}

/** A boolean cell; `not_supported` is false (with a warning outside the root's password columns). */
function bool(ctx: RowContext, column: Column): boolean {
  const raw = ctx.get(column);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  const v = raw.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'not_supported' && absent(ctx, column, raw)) return false;
  return fail(ctx, column, `expected true or false, got "${raw}"`);
}

function optionalText(ctx: RowContext, column: Column): string | undefined {
  const raw = ctx.get(column);
  return absent(ctx, column, raw) ? undefined : raw;
}

const KEY_SLOT_COLUMNS = { 1: KEY_COLUMNS(1), 2: KEY_COLUMNS(2) } as const;

function accessKey(ctx: RowContext, slot: 1 | 2): AccessKey | null {
  const [activeCol, rotatedCol, usedCol, regionCol, serviceCol] = KEY_SLOT_COLUMNS[slot];
  const active = bool(ctx, activeCol);
  const createdAt = optionalTimestamp(ctx, rotatedCol);
  // A slot that never held a key is `false,N/A,...`. An inactive key can keep its last_rotated date.
  if (!active && createdAt === null) {
    for (const column of [usedCol, regionCol, serviceCol]) absent(ctx, column, ctx.get(column)); // warns
    return null;
  }
  if (active && createdAt === null) {
    ctx.warn({
      code: 'key-age-unknown',
      user: ctx.user,
      message: `${where(ctx, rotatedCol)}: access key ${slot} is active but its creation time is "${ctx.get(rotatedCol)}": its age is not judged`,
    });
  }
  const used = optionalTimestamp(ctx, usedCol);
  const service = optionalText(ctx, serviceCol);
  const region = optionalText(ctx, regionCol);
  return {
    slot,
    active,
    createdAt,
    lastUsed: used ? { date: used, ...(service ? { service } : {}), ...(region ? { region } : {}) } : null,
  };
}

/**
 * The CSV's records and the line each ends on (1-based, counting skipped empty lines), as csv-parse
 * reads them with `bom`, `skip_empty_lines` and a fixed column count.
 */
interface Rows {
  readonly count: number;
  /** The cells of record `i` (0 is the header). */
  cells(i: number): string[];
  line(i: number): number;
}

/**
 * The records of a CSV without any quote character whose lines all end alike (`\n`, or `\r\n`
 * throughout) and all have as many fields as the first: the shape IAM writes. Such a CSV is read
 * by splitting, lazily, without csv-parse's per-record objects; its records and line numbers are
 * what csv-parse gives (test/unit/core/credential-report-fast.test.ts). `undefined` for any other
 * CSV, which csv-parse then reads (and names what is wrong with).
 */
export function splitSimpleCsv(text: string): Rows | undefined {
  const csv = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (csv.includes('"')) return undefined;
  let eol = '\n';
  if (csv.includes('\r')) {
    // CRLF throughout, or csv-parse's reading (a lone CR also ends a record) decides.
    const crlf = csv.split('\r\n').length - 1;
    if (crlf !== csv.split('\r').length - 1 || crlf !== csv.split('\n').length - 1) return undefined;
    eol = '\r\n';
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const lines: number[] = [];
  let fields = -1;
  let line = 0;
  for (let at = 0; at < csv.length; ) {
    line++;
    let end = csv.indexOf(eol, at);
    if (end === -1) end = csv.length;
    if (end > at) {
      let commas = 0;
      for (let c = csv.indexOf(',', at); c !== -1 && c < end; c = csv.indexOf(',', c + 1)) commas++;
      if (fields === -1) fields = commas;
      else if (commas !== fields) return undefined;
      starts.push(at);
      ends.push(end);
      lines.push(line);
    }
    at = end + eol.length;
  }
  return {
    count: starts.length,
    cells: (i) => csv.slice(starts[i], ends[i]).split(','),
    line: (i) => lines[i]!,
  };
}

/** csv-parse's reading of any CSV (quoted fields, multi-line cells, a lone CR); errors name the line. */
function parseCsv(csv: string, source: string): Rows {
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(csv, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: false,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new CredentialReportParseError(
      `${source} is not valid CSV${line ? ` (line ${line})` : ''}: ${(err as Error).message}`,
      line ? { line } : {},
      { cause: err },
    );
  }
  return { count: rows.length, cells: (i) => rows[i]!.record, line: (i) => rows[i]!.info.lines };
}

/** Parse a credential report. Throws {@link CredentialReportParseError} on anything it cannot read. */
export function parseCredentialReport(csv: string, options: ParseOptions = {}): ParsedReport {
  const source = options.source ?? 'credential report';
  const rows = splitSimpleCsv(csv) ?? parseCsv(csv, source);
  const header = rows.count > 0 ? rows.cells(0) : undefined;
  if (!header) throw new CredentialReportParseError(`${source} is empty: no header line`);
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  const missing = REQUIRED_COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) {
    throw new CredentialReportParseError(
      `${source} line 1: missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      { line: 1, column: missing[0] },
    );
  }

  refuseConcatenated(source, header, rows, index.get('arn')!);

  const at = {} as Record<Column, number>;
  for (const column of REQUIRED_COLUMNS) at[column] = index.get(column)!;
  const records: CredentialRecord[] = [];
  const warnings: ScanWarning[] = [];
  const seen = new Map<string, number>();
  for (let r = 1; r < rows.count; r++) {
    const record = rows.cells(r);
    const line = rows.line(r);
    const ctx = new RowContext(source, line, record, at, warnings);
    const { user, isRoot } = ctx;
    if (user === '') fail(ctx, 'user', 'the user name is empty');
    const arn = ctx.get('arn');
    if (!arn.startsWith('arn:')) fail(ctx, 'arn', `expected an ARN, got "${arn}"`);
    const previous = seen.get(user);
    if (previous !== undefined) {
      warnings.push({
        code: 'duplicate-user',
        user,
        message: `${source} line ${line}: user "${user}" is listed again (first on line ${previous}); the first row is used`,
      });
      continue;
    }
    seen.set(user, line);
    const keys: AccessKey[] = [];
    const key1 = accessKey(ctx, 1);
    const key2 = accessKey(ctx, 2);
    if (key1) keys.push(key1);
    if (key2) keys.push(key2);
    // The root row says `not_supported` in older reports; newer ones give true/false.
    const passwordStated = ctx.get('password_enabled').toLowerCase() !== 'not_supported';
    records.push({
      user,
      arn,
      isRoot,
      createdAt: requiredTimestamp(ctx, 'user_creation_time'),
      password: {
        enabled: bool(ctx, 'password_enabled'),
        ...(isRoot && passwordStated ? { enabledStated: true } : {}),
        lastUsed: optionalTimestamp(ctx, 'password_last_used'),
        lastChanged: optionalTimestamp(ctx, 'password_last_changed'),
      },
      mfaActive: bool(ctx, 'mfa_active'),
      accessKeys: keys,
      line,
    });
  }
  if (!options.checkWhole) return { records, warnings };
  if (records.length === 0) {
    warnings.push({
      code: 'report-empty',
      message: `${source} has a header but no rows: AWS always writes the ${ROOT_USER} row, so the file looks filtered or truncated`,
    });
  } else if (!records.some((r) => r.isRoot)) {
    warnings.push({
      code: 'report-without-root',
      message: `${source} has no ${ROOT_USER} row: AWS always writes one, so the file looks filtered or truncated`,
    });
  }
  return { records, warnings };
}

/**
 * Refuses two reports concatenated into one file: the header line again, or rows of two accounts.
 * @throws CredentialReportParseError naming both accounts (and where the second starts)
 */
function refuseConcatenated(source: string, header: readonly string[], rows: Rows, arnIndex: number): void {
  const headerText = header.map((h) => h.trim()).join(',');
  const firstLineOf = new Map<string, number>();
  let repeatedHeader: number | undefined;
  for (let r = 1; r < rows.count; r++) {
    const record = rows.cells(r);
    // The joined row can equal the header's text only if its first cell starts that text.
    const first = (record[0] ?? '').trim();
    if (
      headerText.startsWith(record.length > 1 ? `${first},` : first) &&
      record.map((c) => c.trim()).join(',') === headerText
    ) {
      repeatedHeader ??= rows.line(r);
      continue;
    }
    const arn = (record[arnIndex] ?? '').trim();
    if (!arn.startsWith('arn:')) continue; // named precisely by the row's own check
    const account = accountIdOf(arn);
    if (!firstLineOf.has(account)) firstLineOf.set(account, rows.line(r));
  }
  if (firstLineOf.size > 1) {
    const accounts = [...firstLineOf].map(([id, line]) => `${id} (from line ${line})`);
    throw new CredentialReportParseError(
      `${source} holds the credential reports of ${firstLineOf.size} accounts, ${accounts.join(' and ')}: scan one account's report at a time`,
      { line: [...firstLineOf.values()][1]! },
    );
  }
  if (repeatedHeader !== undefined) {
    throw new CredentialReportParseError(
      `${source} line ${repeatedHeader} repeats the header line: two reports concatenated into one file; scan one report at a time`,
      { line: repeatedHeader },
    );
  }
}

/** The account id in an IAM ARN (`arn:aws:iam::123456789012:user/x`), or `unknown`. */
export function accountIdOf(arn: string): string {
  // arn.split(':')[4] || 'unknown', without splitting the whole ARN.
  let start = 0;
  for (let field = 0; field < 4; field++) {
    const colon = arn.indexOf(':', start);
    if (colon === -1) return 'unknown';
    start = colon + 1;
  }
  const end = arn.indexOf(':', start);
  return arn.slice(start, end === -1 ? arn.length : end) || 'unknown';
}
