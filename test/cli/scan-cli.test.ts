import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RULE_IDS } from '../../lambda/core/types';
import { reportRow } from '../support/report-builder';
import { ROOT, runCli } from '../support/run-cli';

const EXAMPLE = 'examples/credential-report.csv';
const NOW = '2026-11-23T12:00:00Z';
const REAL = join(ROOT, 'test/fixtures/credential-reports');
const tmp = mkdtempSync(join(tmpdir(), 'credwatch-cli-'));
const write = (name: string, text: string) => {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
};

describe('credwatch scan CLI', () => {
  it('prints the findings of the example report as a table grouped by severity', async () => {
    const { code, stdout, stderr } = await runCli(['--report', EXAMPLE, '--now', NOW]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`credwatch: account 111122223333, 10 users, evaluated at 2026-11-23T12:00:00.000Z`);
    const titles = lines.filter((l) => /^[A-Z]+.* \(\d+\)$/.test(l));
    // The one warning: a report scanned without --tags.
    expect(titles).toEqual(['CRITICAL (6)', 'WARNING (4)', 'INFO (1)', 'WARNINGS (1)']);
    expect(stdout).toMatch(/^ {2}- scanned without IAM tags: exemptions \(credwatch:exempt\)/m);
    expect(lines.at(-2)).toBe('11 findings: 6 critical, 4 warning, 1 info; 0 exempted; 1 warning');
    expect(stdout).toMatch(
      /^ {2}ci-deploy\s+access-key-age\s+key-2021-04-12T06:00:05Z\s+2051\s+90\s+2026-11-23 cloudformation$/m,
    );
  });

  it('triggers every rule a report alone can show on the example', async () => {
    const { stdout } = await runCli(['--report', EXAMPLE, '--now', NOW, '--json']);
    const rules = new Set(JSON.parse(stdout).findings.map((f: { rule: string }) => f.rule));
    // password-age is off by default, exemption-expired needs IAM tags and account-scan-failed several
    // accounts: unit and integration tests cover those.
    const needsMore = [
      'password-age',
      'exemption-expired',
      'exemption-granted',
      'account-scan-failed',
      'root-credentials-removed',
      'root-used',
      'root-virtual-mfa',
      // Enforcement's notices need an enforcement policy (test/unit/use-case/enforcement.test.ts).
      'access-key-final-notice',
      'access-key-deactivated',
      'access-key-deactivation-planned',
      'access-key-would-deactivate',
    ];
    expect([...rules].sort()).toEqual(RULE_IDS.filter((r) => !needsMore.includes(r)).sort());
  });

  it('prints a stable, documented JSON document', async () => {
    const { code, stdout } = await runCli(['--report', EXAMPLE, '--now', NOW, '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc).sort()).toEqual(
      [
        'schemaVersion',
        'complete',
        'accountId',
        'evaluatedAt',
        'reportGeneratedAt',
        'usersScanned',
        'findings',
        'counts',
        'exempted',
        'iamCalls',
        'iamRequests',
        'usersConfirmed',
        'usersUnconfirmed',
        'warnings',
      ].sort(),
    );
    expect(doc).toMatchObject({
      schemaVersion: 1,
      complete: true,
      accountId: '111122223333',
      counts: { critical: 6, warning: 4, info: 1 },
    });
    const alice = doc.findings.find((f: { user: string }) => f.user === 'alice');
    expect(alice).toEqual({
      id: '111122223333/alice/access-key-age/key-2026-07-20T14:02:11Z',
      accountId: '111122223333',
      user: 'alice',
      arn: 'arn:aws:iam::111122223333:user/alice',
      rule: 'access-key-age',
      severity: 'critical',
      credential: 'key-2026-07-20T14:02:11Z',
      days: 125,
      thresholdDays: 90,
      lastUsed: { date: '2026-11-22T16:40:00.000Z', service: 's3', region: 'eu-west-1' },
      summary: 'Access key 1 of alice is 125 days old (critical at 90); rotate it.',
    });
  });

  it.each(readdirSync(REAL).filter((f) => f.endsWith('.csv')))(
    'prints JSON for the real report %s',
    async (file) => {
      const { code, stdout, stderr } = await runCli([
        '--report',
        join(REAL, file),
        '--json',
        '--now',
        '2026-01-01',
      ]);
      expect(stderr).toMatch(/^credwatch: scanned without IAM tags: [^\n]+\n$/);
      expect(code).toBe(0);
      const doc = JSON.parse(stdout);
      expect(doc.usersScanned).toBeGreaterThan(0);
      expect(doc.warnings).toContainEqual(expect.objectContaining({ code: 'tags-not-applied' }));
      for (const f of doc.findings)
        expect(Object.keys(f)).toEqual(expect.arrayContaining(['user', 'rule', 'severity', 'summary']));
    },
  );

  it('reads the JSON that "aws iam get-credential-report" prints', async () => {
    const csv = readFileSync(join(ROOT, EXAMPLE));
    const file = write(
      'report.json',
      JSON.stringify({
        Content: csv.toString('base64'),
        ReportFormat: 'text/csv',
        GeneratedTime: '2026-11-23T06:00:00+00:00',
      }),
    );
    const fromJson = JSON.parse((await runCli(['--report', file, '--now', NOW, '--json'])).stdout);
    const fromCsv = JSON.parse((await runCli(['--report', EXAMPLE, '--now', NOW, '--json'])).stdout);
    expect(fromJson.findings).toEqual(fromCsv.findings);
    expect(fromJson.reportGeneratedAt).toBe('2026-11-23T06:00:00.000Z');
  });

  it('evaluates as of --now: keys age into critical', async () => {
    const later = JSON.parse((await runCli(['--report', EXAMPLE, '--now', '2026-12-07', '--json'])).stdout);
    const bob = later.findings.find(
      (f: { user: string; rule: string }) => f.user === 'bob' && f.rule === 'access-key-age',
    );
    expect(bob).toMatchObject({ severity: 'critical', days: 98 });
  });

  it.each([
    ['warning', 1],
    ['critical', 1],
  ])('exits %s with --fail-on %s when findings reach it', async (level, code) => {
    expect((await runCli(['--report', EXAMPLE, '--now', NOW, '--fail-on', level])).code).toBe(code);
  });

  it('exits 0 with --fail-on critical when the worst finding is a warning', async () => {
    const [header, , , bob] = readFileSync(join(ROOT, EXAMPLE), 'utf8').split('\n'); // bob: an 85-day-old key
    const root = reportRow({ user: '<root_account>', mfa_active: 'true' }, '111122223333'); // no finding
    const file = write('warning-only.csv', `${header}\n${root}\n${bob}\n`);
    const { code, stdout } = await runCli([
      '--report',
      file,
      '--now',
      NOW,
      '--fail-on',
      'critical',
      '--json',
    ]);
    expect(JSON.parse(stdout).counts).toEqual({ critical: 0, warning: 1, info: 0 });
    expect(code).toBe(0);
  });

  it('uses the thresholds of --config', async () => {
    const config = write(
      'config.json',
      JSON.stringify({
        thresholds: { accessKeyAge: { warningDays: 200, criticalDays: 400 }, multipleActiveKeys: 'off' },
      }),
    );
    const doc = JSON.parse(
      (await runCli(['--report', EXAMPLE, '--now', NOW, '--config', config, '--json'])).stdout,
    );
    expect(
      doc.findings
        .filter((f: { rule: string }) => f.rule === 'access-key-age')
        .map((f: { user: string; severity: string }) => `${f.user}:${f.severity}`),
    ).toEqual(['ci-deploy:critical', 'svc-legacy-etl:critical']);
    expect(doc.counts.info).toBe(0);
  });

  describe('bad input: exit 2 with one clear line and no stack trace', () => {
    const malformed = () =>
      write(
        'bad.csv',
        readFileSync(join(ROOT, EXAMPLE), 'utf8').replace('2026-08-30T09:15:27Z', '30/08/2026'),
      );
    const missingColumn = () =>
      write('nocol.csv', readFileSync(join(ROOT, EXAMPLE), 'utf8').replace('mfa_active', 'mfa'));
    it.each([
      [
        'a missing file',
        () => ['--report', join(tmp, 'nope.csv')],
        /^credwatch: cannot read .*nope\.csv: no such file$/,
      ],
      [
        'a malformed value',
        () => ['--report', malformed()],
        /^credwatch: \/.*\/bad\.csv line 4, user "bob", column access_key_1_last_rotated: expected an ISO 8601 timestamp, got "30\/08\/2026"$/,
      ],
      [
        'a missing column',
        () => ['--report', missingColumn()],
        /^credwatch: \/.*\/nocol\.csv line 1: missing required column mfa_active$/,
      ],
      [
        'JSON that is not a report',
        () => ['--report', write('x.json', '{"Users": []}')],
        /^credwatch: .*x\.json: JSON without a base64 "Content" field; expected the output of "aws iam get-credential-report"$/,
      ],
      [
        'a bad --now',
        () => ['--report', EXAMPLE, '--now', 'next tuesday'],
        /^credwatch: --now: expected an ISO 8601 date or time such as 2026-12-01 or 2026-12-01T09:00:00Z, got "next tuesday"$/,
      ],
      [
        'an unreadable config',
        () => ['--report', EXAMPLE, '--config', write('c.json', '{ nope')],
        /^credwatch: \/.*\/c\.json: not valid JSON: .* \(line 1 column 3\)$/,
      ],
      [
        'a bad threshold in the config',
        () => [
          '--report',
          EXAMPLE,
          '--config',
          write('t.json', '{"thresholds":{"accessKeyAge":{"criticalDays":0}}}'),
        ],
        /thresholds\.accessKeyAge\.criticalDays/,
      ],
      [
        'a bad --fail-on',
        () => ['--report', EXAMPLE, '--fail-on', 'info'],
        /^error: option '--fail-on <severity>' argument 'info' is invalid\. Allowed choices are warning, critical\.$/,
      ],
      ['an unknown option', () => ['--reprot', EXAMPLE], /^error: unknown option '--reprot'/],
    ])('%s', async (_what, args, message) => {
      const { code, stdout, stderr } = await runCli(args());
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const lines = stderr
        .trim()
        .split('\n')
        .filter((l) => !/^\((run with --help|Did you mean)/.test(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(stderr).not.toMatch(/\n\s+at /);
    });
  });
});
