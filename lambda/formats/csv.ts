/**
 * CSV for auditors: one row per finding, fixed columns (docs/formats.md). Every IAM string (user
 * names, tag values, the exemption reason) is attacker-controlled: a cell that starts with `=`, `+`,
 * `-`, `@`, tab or carriage return (or their full-width forms) is prefixed with `'`, so that a
 * spreadsheet shows it as text instead of running it as a formula (csv-stringify's `escape_formulas`).
 */
import { stringify } from 'csv-stringify/sync';
import { CIS_VERSION } from '../core/compliance';
import type { Finding } from '../core/types';
import type { ScanResult } from '../scan';
import { complianceOf, isoSeconds } from './common';

/** The columns, in order: the header row names them exactly so. A contract: only ever append. */
export const CSV_COLUMNS = [
  'account',
  'user',
  'arn',
  'rule',
  'severity',
  'credential',
  'access key id',
  'days',
  'threshold',
  'last used',
  'service',
  'owner',
  'exempt until',
  'exemption reason',
  'CIS',
  'FSBP',
  'summary',
  'finding id',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

function row(f: Finding): Record<CsvColumn, string> {
  const c = complianceOf(f.rule);
  return {
    account: f.accountId,
    user: f.user,
    arn: f.arn,
    rule: f.rule,
    severity: f.severity,
    credential: f.credential,
    'access key id': f.accessKeyId ?? '',
    days: f.days === undefined ? '' : String(f.days),
    threshold: f.thresholdDays === undefined ? '' : String(f.thresholdDays),
    // null: the credential was never used; absent: the rule does not measure use.
    'last used': f.lastUsed === null ? 'never' : f.lastUsed ? isoSeconds(f.lastUsed.date) : '',
    service: f.lastUsed?.service ?? '',
    owner: f.owner ?? '',
    'exempt until': f.exemption?.until ?? '',
    'exemption reason': f.exemption?.reason ?? '',
    // `CIS v3.0.0 1.10`, not `1.10`, which a spreadsheet would read as the number 1.1.
    CIS: c.cis.map((n) => `CIS ${CIS_VERSION} ${n}`).join('; '),
    FSBP: c.fsbp.join('; '),
    summary: f.summary,
    'finding id': f.id,
  };
}

/** Findings turned into CSV text at a time by {@link csvChunks}. */
const CSV_BATCH = 1_000;

/**
 * {@link renderCsv} in pieces of {@link CSV_BATCH} rows (the header with the first): csv-stringify
 * writes each record on its own, so the pieces joined are the whole text (test/unit/formats/csv.test.ts).
 */
export function* csvChunks(result: ScanResult): Generator<string> {
  const { findings } = result;
  for (let start = 0; start === 0 || start < findings.length; start += CSV_BATCH) {
    yield stringify(
      findings.slice(start, start + CSV_BATCH).map((f) => {
        const r = row(f);
        return CSV_COLUMNS.map((c) => r[c]);
      }),
      {
        header: start === 0,
        columns: [...CSV_COLUMNS],
        record_delimiter: 'windows',
        escape_formulas: true,
      },
    );
  }
}

/** RFC 4180 CSV (CRLF line ends, a header row), in the order of `result.findings`. */
export function renderCsv(result: ScanResult): string {
  let text = '';
  for (const chunk of csvChunks(result)) text += chunk;
  return text;
}
