/**
 * The root rules of AWS as it is since centralized root access (2024+): removed root credentials,
 * recent root use (CIS 1.7) and virtual root MFA (Security Hub IAM.6), on built records and on the
 * real credential reports of test/fixtures/credential-reports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCredentialReport } from '../../../lambda/core/credential-report';
import { DAY_MS } from '../../../lambda/core/dates';
import { type EvaluateInput, evaluate } from '../../../lambda/core/evaluate';
import { DEFAULT_THRESHOLDS, thresholdsSchema } from '../../../lambda/core/policy';
import type { AccessKey, CredentialRecord, Finding } from '../../../lambda/core/types';

const NOW = new Date('2026-11-23T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const REAL = join(__dirname, '../../fixtures/credential-reports');

function root(over: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    user: '<root_account>',
    arn: 'arn:aws:iam::123456789012:root',
    isRoot: true,
    createdAt: new Date('2020-01-01T00:00:00Z'),
    password: { enabled: false, lastUsed: null, lastChanged: null },
    mfaActive: false,
    accessKeys: [],
    line: 2,
    ...over,
  };
}

const key = (over: Partial<AccessKey> = {}): AccessKey => ({
  slot: 1,
  active: true,
  createdAt: new Date('2021-06-14T15:20:03Z'),
  lastUsed: null,
  ...over,
});

const run = (records: CredentialRecord[], extra: Partial<EvaluateInput> = {}) =>
  evaluate({ records, thresholds: DEFAULT_THRESHOLDS, now: NOW, ...extra }).findings;
const rules = (findings: Finding[]) => findings.map((f) => `${f.rule}:${f.severity}`);

/** A root row as reports since 2025 write it when its password, keys and MFA were deleted. */
const removed = () =>
  root({ password: { enabled: false, enabledStated: true, lastUsed: null, lastChanged: null } });

describe('root-credentials-removed', () => {
  it('replaces root-without-mfa when the report states no password, and there is no key and no MFA', () => {
    const findings = run([removed()]);
    expect(rules(findings)).toEqual(['root-credentials-removed:info']);
    expect(findings[0]).toMatchObject({
      id: '123456789012/<root_account>/root-credentials-removed/credentials',
      credential: 'credentials',
      summary:
        'The root user has no password, access key or MFA device: its credentials were removed (centralized root access); nothing to do.',
    });
  });

  it('is not concluded from a report that does not state the password (not_supported, before 2025)', () => {
    expect(rules(run([root()]))).toEqual(['root-without-mfa:critical']);
  });

  it.each<[string, Partial<CredentialRecord>, string[]]>([
    [
      'a password',
      { password: { enabled: true, enabledStated: true, lastUsed: null, lastChanged: null } },
      ['root-without-mfa:critical'],
    ],
    [
      'an active access key',
      { accessKeys: [key()] },
      ['root-access-key:critical', 'root-without-mfa:critical'],
    ],
    ['an MFA device', { mfaActive: true }, []],
  ])('is not when the root user still has %s', (_, over, expected) => {
    const r = removed();
    expect(rules(run([{ ...r, ...over }]))).toEqual(expected);
  });

  it('still counts an inactive key as no credential (it cannot sign a request)', () => {
    expect(rules(run([{ ...removed(), accessKeys: [key({ active: false })] }]))).toEqual([
      'root-credentials-removed:info',
    ]);
  });

  it('takes its severity from rootCredentialsRemoved, and off drops it (root-without-mfa stays silent)', () => {
    const warning = thresholdsSchema.parse({ rootCredentialsRemoved: 'warning' });
    expect(rules(run([removed()], { thresholds: warning }))).toEqual(['root-credentials-removed:warning']);
    const off = thresholdsSchema.parse({ rootCredentialsRemoved: 'off' });
    expect(run([removed()], { thresholds: off })).toEqual([]);
  });

  describe('on the real reports', () => {
    const files = readdirSync(REAL).filter((f) => f.endsWith('.csv'));
    const rootOf = (file: string) =>
      parseCredentialReport(readFileSync(join(REAL, file), 'utf8')).records.find((r) => r.isRoot);

    it.each(files)('%s: keeps root-without-mfa where it had it, and finds no removed credentials', (file) => {
      const r = rootOf(file);
      if (!r) return expect(file).toMatch(/multi_delete__|reverse_filter|delete_options/); // no root row
      const findings = run([r]).map((f) => f.rule);
      expect(findings.includes('root-without-mfa')).toBe(!r.mfaActive);
      expect(findings).not.toContain('root-credentials-removed');
    });

    it('reads the 2025 report’s root row (password_enabled=true) as having a password', () => {
      const r = rootOf('cfech_aws-solutions-architect-associate__credential-report.csv')!;
      expect(r.password.enabled).toBe(true);
      expect(run([r]).map((f) => f.rule)).toEqual([]);
    });
  });
});

describe('root-used (CIS 1.7)', () => {
  const used = (ms: number, over: Partial<CredentialRecord> = {}) =>
    root({ mfaActive: true, password: { enabled: true, lastUsed: ago(ms), lastChanged: null }, ...over });

  it.each<[string, number, string | null]>([
    ['a minute ago', 60_000, 'warning'],
    ['23 h 59 min ago', DAY_MS - 60_000, 'warning'],
    ['exactly 1 day ago', DAY_MS, null],
    ['2 days ago', 2 * DAY_MS, null],
    ['in the future (a skewed clock)', -3_600_000, 'warning'],
  ])('a console sign-in %s is %s (default: within 1 day)', (_, ms, severity) => {
    const f = run([used(ms)]).find((x) => x.rule === 'root-used');
    expect(f?.severity ?? null).toBe(severity);
  });

  it('names the most recent use: a key used after the sign-in, with its service and region', () => {
    const r = used(5 * 3_600_000, {
      accessKeys: [
        key({ active: false, lastUsed: { date: ago(3_600_000), service: 's3', region: 'us-east-1' } }),
        key({ slot: 2, lastUsed: { date: ago(10 * DAY_MS), service: 'iam' } }),
      ],
    });
    const f = run([r]).find((x) => x.rule === 'root-used')!;
    expect(f).toMatchObject({
      id: '123456789012/<root_account>/root-used/use',
      severity: 'warning',
      lastUsed: { date: '2026-11-23T11:00:00.000Z', service: 's3', region: 'us-east-1' },
      summary:
        'The root user used its access key in slot 1 at 2026-11-23T11:00:00.000Z; keep the root user for the few tasks only it can do (CIS 1.7).',
    });
    expect(f.days).toBeUndefined();
  });

  it('names a console sign-in when it is the most recent use', () => {
    const f = run([used(3_600_000)]).find((x) => x.rule === 'root-used')!;
    expect(f.summary).toBe(
      'The root user signed in to the console at 2026-11-23T11:00:00.000Z; keep the root user for the few tasks only it can do (CIS 1.7).',
    );
    expect(f.lastUsed).toEqual({ date: '2026-11-23T11:00:00.000Z' });
  });

  it.each<[number, number, boolean]>([
    [7, 6 * DAY_MS + 3_600_000, true],
    [7, 7 * DAY_MS, false],
  ])('with withinDays %i, a use %i ms ago is reported: %s', (withinDays, ms, reported) => {
    const thresholds = thresholdsSchema.parse({ rootUsed: { withinDays } });
    expect(run([used(ms)], { thresholds }).some((f) => f.rule === 'root-used')).toBe(reported);
  });

  it('takes its severity from rootUsed.severity; off turns it off', () => {
    const critical = thresholdsSchema.parse({ rootUsed: { severity: 'critical' } });
    expect(rules(run([used(60_000)], { thresholds: critical }))).toEqual(['root-used:critical']);
    const off = thresholdsSchema.parse({ rootUsed: { severity: 'off' } });
    expect(run([used(60_000)], { thresholds: off })).toEqual([]);
  });

  it('rejects a withinDays that is not a whole number of days from 1 to 3650', () => {
    for (const withinDays of [0, 1.5, 3651]) {
      expect(thresholdsSchema.safeParse({ rootUsed: { withinDays } }).success).toBe(false);
    }
    expect(thresholdsSchema.safeParse({ rootUsed: { within: 1 } }).success).toBe(false);
  });

  it('is not judged on IAM users', () => {
    const alice: CredentialRecord = {
      ...used(60_000),
      user: 'alice',
      arn: 'arn:aws:iam::123456789012:user/alice',
      isRoot: false,
    };
    expect(run([alice]).map((f) => f.rule)).not.toContain('root-used');
  });
});

describe('root-virtual-mfa (Security Hub IAM.6)', () => {
  const withMfa = root({
    mfaActive: true,
    password: { enabled: true, enabledStated: true, lastUsed: null, lastChanged: null },
  });

  it.each<[boolean | undefined, string[]]>([
    [true, ['root-virtual-mfa:critical']],
    [false, []],
    [undefined, []],
  ])('with rootMfaIsVirtual %s gives %j', (rootMfaIsVirtual, expected) => {
    const findings = run([withMfa], rootMfaIsVirtual === undefined ? {} : { rootMfaIsVirtual });
    expect(rules(findings)).toEqual(expected);
    if (expected.length > 0) expect(findings[0]!.id).toBe('123456789012/<root_account>/root-virtual-mfa/mfa');
  });

  it('is not judged without MFA (root-without-mfa says more)', () => {
    expect(rules(run([{ ...withMfa, mfaActive: false }], { rootMfaIsVirtual: true }))).toEqual([
      'root-without-mfa:critical',
    ]);
  });

  it('takes its severity from rootVirtualMfa', () => {
    const thresholds = thresholdsSchema.parse({ rootVirtualMfa: 'warning' });
    expect(rules(run([withMfa], { thresholds, rootMfaIsVirtual: true }))).toEqual([
      'root-virtual-mfa:warning',
    ]);
  });
});
