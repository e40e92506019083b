/** Scan results for the format tests: real reports through the real scan use case (no AWS). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import type { Finding } from '../../../lambda/core/types';
import { type ScanResult, scan } from '../../../lambda/scan';
import { COLUMNS } from '../../support/report-builder';

/** The instant the README's example figures are for. */
export const NOW = new Date('2026-11-23T12:00:00Z');
export const RENDER = { now: new Date('2026-11-24T09:30:00Z'), toolVersion: '0.1.0' } as const;

const ROOT = join(__dirname, '..', '..', '..');
export const EXAMPLE = join(ROOT, 'examples', 'credential-report.csv');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'credential-reports');

export async function scanCsv(csv: string, generatedAt: Date | null = null): Promise<ScanResult> {
  return scan({
    report: { getReport: async () => ({ csv, generatedAt }) },
    thresholds: DEFAULT_THRESHOLDS,
    now: NOW,
  });
}

export const scanFile = (path: string, generatedAt: Date | null = null) =>
  scanCsv(readFileSync(path, 'utf8'), generatedAt);

/** A few real credential reports (test/fixtures/credential-reports), by file name. */
export function fixtureReports(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.csv'))
    .filter((f) =>
      /^(JakubDziegielewski|cc__test_account_credential_report|cfech|guardian|cc__test_iam_user_unused_keys__)/.test(
        f,
      ),
    )
    .sort()
    .map((f) => join(FIXTURES, f));
}

/**
 * A credential report whose user names are hostile (quotes, markup, formula starts), properly CSV
 * quoted: what a forged or tampered report file can hold.
 */
export function hostileReport(users: readonly string[], accountId = '123456789012'): string {
  const rows = users.map((user) => {
    const values: Record<string, string> = {
      user,
      arn: `arn:aws:iam::${accountId}:user/${user}`,
      user_creation_time: '2024-01-01T00:00:00+00:00',
      password_enabled: 'false',
      mfa_active: 'false',
      access_key_1_active: 'true',
      access_key_1_last_rotated: '2025-01-01T00:00:00+00:00',
      access_key_1_last_used_date: '2026-11-20T00:00:00+00:00',
      access_key_1_last_used_region: 'us-east-1',
      access_key_1_last_used_service: 's3',
    };
    return COLUMNS.map((c) => values[c] ?? (c.endsWith('_active') ? 'false' : 'N/A'));
  });
  return stringify([COLUMNS, ...rows]);
}

/** A finding with every optional field set, for format edge cases. */
export function fullFinding(over: Partial<Finding> = {}): Finding {
  return {
    id: '123456789012/alice/access-key-age/key-2026-07-20T14:02:11Z',
    accountId: '123456789012',
    user: 'alice',
    arn: 'arn:aws:iam::123456789012:user/alice',
    rule: 'access-key-age',
    severity: 'critical',
    credential: 'key-2026-07-20T14:02:11Z',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    days: 126,
    thresholdDays: 90,
    lastUsed: { date: '2026-11-22T16:40:00.000Z', service: 's3', region: 'eu-west-1' },
    owner: 'U024BE7LH',
    summary: 'Access key 1 of alice is 126 days old (critical at 90); rotate it.',
    ...over,
  };
}

/** A ScanResult around hand-made findings (for what a report file cannot produce: exemptions, owners). */
export function resultOf(findings: Finding[], over: Partial<ScanResult> = {}): ScanResult {
  const counts = { info: 0, warning: 0, critical: 0 };
  for (const f of findings) if (!f.exemption) counts[f.severity] += 1;
  return {
    accountId: findings[0]?.accountId ?? '123456789012',
    evaluatedAt: NOW.toISOString(),
    reportGeneratedAt: '2026-11-23T10:00:00.000Z',
    usersScanned: new Set(findings.map((f) => f.user)).size,
    findings,
    counts,
    exempted: findings.filter((f) => f.exemption).length,
    iamCalls: {},
    iamRequests: {},
    usersConfirmed: 0,
    usersUnconfirmed: 0,
    warnings: [],
    ...over,
  };
}
