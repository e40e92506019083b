/**
 * Credential report CSV -> typed records.
 *
 * Accepts what IAM has produced over the years: timestamps with `+00:00` (before 2024) or `Z`,
 * booleans in any case, `N/A` / `no_information` / `not_supported` for absent values, the
 * `<root_account>` row (whose password fields may be `not_supported` or, since 2025, real values).
 * Unknown extra columns are ignored. A missing required column or an unparseable value is a
 * {@link CredentialReportParseError} naming the column, the user and the line.
 */
import { parse } from 'csv-parse/sync';
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

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

export interface ParsedReport {
  readonly records: CredentialRecord[];
  /** Rows that needed a decision (e.g. a user listed twice); never silent. */
  readonly warnings: ScanWarning[];
}

interface RowContext {
  readonly line: number;
  readonly user: string;
  readonly get: (column: Column) => string;
}

function fail(ctx: RowContext, column: Column, problem: string): never {
  throw new CredentialReportParseError(
    `credential report line ${ctx.line}, user "${ctx.user}", column ${column}: ${problem}`,
    { line: ctx.line, column, user: ctx.user },
  );
}

function parseTimestamp(ctx: RowContext, column: Column, raw: string): Date {
  if (!ISO_TIMESTAMP.test(raw)) fail(ctx, column, `expected an ISO 8601 timestamp, got "${raw}"`);
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) fail(ctx, column, `"${raw}" is not a valid date`);
  return d;
}

function optionalTimestamp(ctx: RowContext, column: Column): Date | null {
  const raw = ctx.get(column);
  return ABSENT.has(raw.toLowerCase()) ? null : parseTimestamp(ctx, column, raw);
}

function requiredTimestamp(ctx: RowContext, column: Column): Date {
  const raw = ctx.get(column);
  if (ABSENT.has(raw.toLowerCase())) fail(ctx, column, `a timestamp is required, got "${raw}"`);
  return parseTimestamp(ctx, column, raw);
}

function bool(ctx: RowContext, column: Column, { absentIs }: { absentIs?: boolean } = {}): boolean {
  const raw = ctx.get(column);
  const v = raw.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (absentIs !== undefined && ABSENT.has(v)) return absentIs;
  return fail(ctx, column, `expected true or false, got "${raw}"`);
}

function optionalText(ctx: RowContext, column: Column): string | undefined {
  const raw = ctx.get(column);
  return ABSENT.has(raw.toLowerCase()) ? undefined : raw;
}

function accessKey(ctx: RowContext, slot: 1 | 2): AccessKey | null {
  const [activeCol, rotatedCol, usedCol, regionCol, serviceCol] = KEY_COLUMNS(slot);
  const active = bool(ctx, activeCol);
  const createdAt = optionalTimestamp(ctx, rotatedCol);
  // A slot that never held a key is `false,N/A,...`. An inactive key can keep its last_rotated date.
  if (!active && createdAt === null) return null;
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
export function parseCredentialReport(csv: string): ParsedReport {
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
      `credential report is not valid CSV${line ? ` (line ${line})` : ''}: ${(err as Error).message}`,
      line ? { line } : {},
      { cause: err },
    );
  }
  const header = rows[0]?.record;
  if (!header) throw new CredentialReportParseError('credential report is empty: no header line');
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  const missing = REQUIRED_COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) {
    throw new CredentialReportParseError(
      `credential report line 1: missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      { line: 1, column: missing[0] },
    );
  }

  const records: CredentialRecord[] = [];
  const warnings: ScanWarning[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of rows.slice(1)) {
    const line = info.lines;
    const get = (column: Column) => (record[index.get(column)!] ?? '').trim();
    const user = get('user');
    const ctx: RowContext = { line, user, get };
    if (user === '') fail(ctx, 'user', 'the user name is empty');
    const arn = get('arn');
    if (!arn.startsWith('arn:')) fail(ctx, 'arn', `expected an ARN, got "${arn}"`);
    const previous = seen.get(user);
    if (previous !== undefined) {
      warnings.push({
        code: 'duplicate-user',
        user,
        message: `credential report line ${line}: user "${user}" is listed again (first on line ${previous}); the first row is used`,
      });
      continue;
    }
    seen.set(user, line);
    const isRoot = user === ROOT_USER;
    const keys = [accessKey(ctx, 1), accessKey(ctx, 2)].filter((k): k is AccessKey => k !== null);
    records.push({
      user,
      arn,
      isRoot,
      createdAt: requiredTimestamp(ctx, 'user_creation_time'),
      password: {
        // The root row says `not_supported` in older reports; newer ones give true/false.
        enabled: bool(ctx, 'password_enabled', isRoot ? { absentIs: false } : {}),
        lastUsed: optionalTimestamp(ctx, 'password_last_used'),
        lastChanged: optionalTimestamp(ctx, 'password_last_changed'),
      },
      mfaActive: bool(ctx, 'mfa_active'),
      accessKeys: keys,
      line,
    });
  }
  return { records, warnings };
}

/** The account id in an IAM ARN (`arn:aws:iam::123456789012:user/x`), or `unknown`. */
export function accountIdOf(arn: string): string {
  return arn.split(':')[4] || 'unknown';
}
