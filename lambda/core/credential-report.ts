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

interface RowContext {
  readonly source: string;
  readonly line: number;
  readonly user: string;
  readonly isRoot: boolean;
  readonly get: (column: Column) => string;
  readonly warn: (warning: ScanWarning) => void;
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

function parseTimestamp(ctx: RowContext, column: Column, raw: string): Date {
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

function accessKey(ctx: RowContext, slot: 1 | 2): AccessKey | null {
  const [activeCol, rotatedCol, usedCol, regionCol, serviceCol] = KEY_COLUMNS(slot);
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

/** Parse a credential report. Throws {@link CredentialReportParseError} on anything it cannot read. */
export function parseCredentialReport(csv: string, options: ParseOptions = {}): ParsedReport {
  const source = options.source ?? 'credential report';
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
  const header = rows[0]?.record;
  if (!header) throw new CredentialReportParseError(`${source} is empty: no header line`);
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  const missing = REQUIRED_COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) {
    throw new CredentialReportParseError(
      `${source} line 1: missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      { line: 1, column: missing[0] },
    );
  }

  refuseConcatenated(source, header, rows.slice(1), index.get('arn')!);

  const records: CredentialRecord[] = [];
  const warnings: ScanWarning[] = [];
  const warn = (w: ScanWarning) => warnings.push(w);
  const seen = new Map<string, number>();
  for (const { record, info } of rows.slice(1)) {
    const line = info.lines;
    const get = (column: Column) => (record[index.get(column)!] ?? '').trim();
    const user = get('user');
    const isRoot = user === ROOT_USER;
    const ctx: RowContext = { source, line, user, isRoot, get, warn };
    if (user === '') fail(ctx, 'user', 'the user name is empty');
    const arn = get('arn');
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
    const keys = [accessKey(ctx, 1), accessKey(ctx, 2)].filter((k): k is AccessKey => k !== null);
    // The root row says `not_supported` in older reports; newer ones give true/false.
    const passwordStated = get('password_enabled').toLowerCase() !== 'not_supported';
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
function refuseConcatenated(
  source: string,
  header: readonly string[],
  rows: readonly { record: string[]; info: { lines: number } }[],
  arnIndex: number,
): void {
  const headerText = header.map((h) => h.trim()).join(',');
  const firstLineOf = new Map<string, number>();
  let repeatedHeader: number | undefined;
  for (const { record, info } of rows) {
    if (record.map((c) => c.trim()).join(',') === headerText) {
      repeatedHeader ??= info.lines;
      continue;
    }
    const arn = (record[arnIndex] ?? '').trim();
    if (!arn.startsWith('arn:')) continue; // named precisely by the row's own check
    const account = accountIdOf(arn);
    if (!firstLineOf.has(account)) firstLineOf.set(account, info.lines);
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
  return arn.split(':')[4] || 'unknown';
}
