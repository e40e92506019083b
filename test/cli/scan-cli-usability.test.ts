/**
 * The CLI as a new user meets it (issue 14): documented commands that redirect, dates, odd files,
 * reports that are not whole, filters, formats, the terminal, credentials. Every test runs the real
 * CLI in a child process.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_HEADER, reportRow } from '../support/report-builder';
import { ROOT, runCli, runShell } from '../support/run-cli';

const EXAMPLE = 'examples/credential-report.csv';
const NOW = '2026-11-23T12:00:00Z';
const CSV = readFileSync(join(ROOT, EXAMPLE), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'credwatch-cli-usability-'));
const write = (name: string, text: string) => {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
};
const json = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = await runCli([...args, '--json'], env);
  expect(r.stdout).not.toBe('');
  return { ...r, doc: JSON.parse(r.stdout) };
};
const codes = (doc: { warnings: { code: string }[] }) => doc.warnings.map((w) => w.code);
const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at |EPIPE|Error:/);

describe('documented commands that redirect or pipe produce clean output', () => {
  it('"npm run -s scan -- ... --json > findings.json" writes parseable JSON, no npm banner', async () => {
    const out = join(tmp, 'findings.json');
    const r = await runShell(`npm run -s scan -- --report ${EXAMPLE} --now ${NOW} --json > ${out}`);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).counts).toEqual({ critical: 6, warning: 4, info: 1 });
  });

  it('README and docs/cli.md pipe or redirect only with "npm run -s"', () => {
    for (const doc of ['README.md', 'docs/cli.md']) {
      // The commands of the code blocks, comments left out.
      const blocks = [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/```(?:sh)?\n([\s\S]*?)```/g)];
      const lines = blocks.flatMap((m) => m[1]!.split('\n')).map((l) => l.replace(/#.*$/, ''));
      expect(lines.some((l) => /npm run -s scan -- .*--json > /.test(l))).toBe(true);
      const offending = lines.filter((l) => /npm run scan\b.*(\s>\s|\s\|\s)/.test(l));
      expect(offending).toEqual([]);
    }
  });

  it('reads relative paths from where npm was started (INIT_CWD), not the package root', async () => {
    const r = await runShell(
      `npm run -s scan -- --report ../examples/credential-report.csv --now ${NOW} --json`,
      {},
      {
        cwd: join(ROOT, 'docs'),
      },
    );
    expect(r.stderr).not.toMatch(/cannot read/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).accountId).toBe('111122223333');
    const direct = await runCli(['--report', 'credential-report.csv', '--now', NOW, '--json'], {
      INIT_CWD: join(ROOT, 'examples'),
    });
    expect(direct.code).toBe(0);
  });

  it('ends quietly under "| head": no EPIPE stack trace, the exit code the result deserves', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) =>
      reportRow(
        {
          user: `user-${String(i).padStart(4, '0')}`,
          access_key_1_active: 'true',
          access_key_1_last_rotated: '2020-01-01T00:00:00+00:00',
        },
        '111122223333',
      ),
    );
    const big = write(
      'big.csv',
      `${[REPORT_HEADER, reportRow({ user: '<root_account>', mfa_active: 'true' }, '111122223333'), ...rows].join('\n')}\n`,
    );
    const cli = `node --import tsx bin/scan.ts --report ${big} --now ${NOW}`;
    const plain = await runShell(`set -o pipefail; ${cli} | head -n 2`);
    expect(plain.stdout.split('\n')[0]).toMatch(/^credwatch: account 111122223333, 3001 users/);
    noStack(plain.stderr);
    expect(plain.code).toBe(0);
    const failing = await runShell(`set -o pipefail; ${cli} --fail-on critical | head -n 1`);
    noStack(failing.stderr);
    expect(failing.code).toBe(1);
  });
});

describe('--now and dates', () => {
  it('reads a time without a zone as UTC, whatever TZ says', async () => {
    const { doc } = await json(['--report', EXAMPLE, '--now', '2026-12-07T09:00'], {
      TZ: 'America/New_York',
    });
    expect(doc.evaluatedAt).toBe('2026-12-07T09:00:00.000Z');
    const dateOnly = await json(['--report', EXAMPLE, '--now', '2026-12-07'], { TZ: 'Asia/Tokyo' });
    expect(dateOnly.doc.evaluatedAt).toBe('2026-12-07T00:00:00.000Z');
  });

  it.each(['2026-02-30', '2026-02-30T14:02:11Z'])('refuses the impossible --now %s', async (value) => {
    const r = await runCli(['--report', EXAMPLE, '--now', value]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `credwatch: --now: "${value}" is not a valid date: February 2026 has 28 days, there is no day 30\n`,
    );
  });

  it('refuses an impossible date in a report cell, naming the file, line, user and column', async () => {
    const file = write('feb30.csv', CSV.replace('2026-07-20T14:02:11Z', '2026-02-30T14:02:11Z'));
    const r = await runCli(['--report', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^credwatch: \/.*\/feb30\.csv line 3, user "alice", column access_key_1_last_rotated: "2026-02-30T14:02:11Z" is not a valid date: February 2026 has 28 days, there is no day 30\n$/,
    );
  });
});

describe('files as users have them', () => {
  const awsJson = (content: string, extra: Record<string, string> = {}) =>
    JSON.stringify({
      Content: content,
      ReportFormat: 'text/csv',
      GeneratedTime: '2026-11-23T06:00:00Z',
      ...extra,
    });

  it('accepts a byte order mark in a JSON report, a CSV report and a config file', async () => {
    const bomJson = write('bom.json', `\uFEFF${awsJson(Buffer.from(CSV).toString('base64'))}`);
    const bomCsv = write('bom.csv', `\uFEFF${CSV}`);
    const bomConfig = write('bom-config.json', `\uFEFF{"thresholds":{"multipleActiveKeys":"off"}}`);
    for (const report of [bomJson, bomCsv]) {
      const { code, doc } = await json(['--report', report, '--now', NOW, '--config', bomConfig]);
      expect(code).toBe(0);
      expect(doc.counts).toEqual({ critical: 6, warning: 4, info: 0 });
    }
  });

  it('reads a JSON whose Content is the CSV itself (cloudmapper, boto3 dumps)', async () => {
    const { code, doc } = await json(['--report', write('cloudmapper.json', awsJson(CSV)), '--now', NOW]);
    expect(code).toBe(0);
    expect(doc.counts.critical).toBe(6);
    expect(doc.reportGeneratedAt).toBe('2026-11-23T06:00:00.000Z');
  });

  it.each([
    [
      'YAML',
      `Content: ${Buffer.from(CSV).toString('base64')}\nGeneratedTime: '2026-11-23T06:00:00+00:00'\nReportFormat: text/csv\n`,
    ],
    ['text', `${Buffer.from(CSV).toString('base64')}\ttext/csv\t2026-11-23T06:00:00+00:00\n`],
  ])('names the %s output of the AWS CLI and says to use --output json', async (kind, text) => {
    const r = await runCli(['--report', write(`aws.${kind}`, text)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^credwatch: .*aws\\.${kind}: this is the ${kind} output of "aws iam get-credential-report": run "aws iam get-credential-report --output json" instead, or pass the CSV\\n$`,
      ),
    );
  });

  it('names the line and column of a JSON report that does not parse', async () => {
    const r = await runCli(['--report', write('broken.json', '{\n  "Content": "abc",\n  oops\n}')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^credwatch: .*broken\.json line 3 column 3: the report is not valid JSON: /);
  });

  it('turns system errors into sentences', async () => {
    const dir = join(tmp, 'a-directory');
    mkdirSync(dir, { recursive: true });
    const isDir = await runCli(['--report', dir]);
    expect(isDir.code).toBe(2);
    expect(isDir.stderr).toBe(`credwatch: cannot read ${dir}: it is a directory, not a file\n`);
    const missing = await runCli(['--report', 'report.csv']);
    expect(missing.stderr).toBe('credwatch: cannot read report.csv: no such file\n');
    const config = await runCli(['--report', EXAMPLE, '--config', 'nope.json']);
    expect(config.code).toBe(2);
    expect(config.stderr).toBe('credwatch: cannot read nope.json: no such file\n');
  });

  it('refuses two accounts concatenated into one file, naming both', async () => {
    const other = `${REPORT_HEADER}\n${reportRow({ user: '<root_account>' }, '444455556666')}\n`;
    const r = await runCli(['--report', write('two.csv', CSV + other)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^credwatch: .*two\.csv holds the credential reports of 2 accounts, 111122223333 \(from line 2\) and 444455556666 \(from line \d+\): scan one account's report at a time\n$/,
    );
  });

  it('warns of an active key without a creation time and of not_supported, naming user, line and column', async () => {
    const file = write(
      'odd.csv',
      `${REPORT_HEADER}\n${reportRow({ user: '<root_account>', mfa_active: 'true' }, '111122223333')}\n${reportRow(
        {
          user: 'zoe',
          access_key_1_active: 'true',
          access_key_1_last_rotated: 'N/A',
          mfa_active: 'not_supported',
        },
        '111122223333',
      )}\n`,
    );
    const { code, doc } = await json(['--report', file, '--now', NOW]);
    expect(code).toBe(0);
    const messages = doc.warnings.map((w: { message: string }) => w.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /odd\.csv line 3, user "zoe", column mfa_active: "not_supported" read as no value/,
        ),
        expect.stringMatching(
          /odd\.csv line 3, user "zoe", column access_key_1_last_rotated: access key 1 is active but its creation time is "N\/A"/,
        ),
      ]),
    );
  });
});

describe('reports that are not whole, or old', () => {
  const headerOnly = () => write('header-only.csv', `${REPORT_HEADER}\n`);
  const rootless = () =>
    write(
      'rootless.csv',
      CSV.split('\n')
        .filter((l) => !l.startsWith('<root_account>'))
        .join('\n'),
    );

  it('says a header-only report looks filtered or truncated, in the table and in --json', async () => {
    const table = await runCli(['--report', headerOnly(), '--now', NOW]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /has a header but no rows: AWS always writes the <root_account> row, so the file looks filtered or truncated/,
    );
    const { doc } = await json(['--report', headerOnly(), '--now', NOW]);
    expect(codes(doc)).toContain('report-empty');
  });

  it('never passes --fail-on on a header-only or rootless report: exit 3, nothing on stdout', async () => {
    for (const file of [headerOnly(), rootless()]) {
      const r = await runCli([
        '--report',
        file,
        '--now',
        NOW,
        '--fail-on',
        'critical',
        '--rule',
        'multiple-active-keys',
      ]);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /looks filtered or truncated; --fail-on does not pass a report without the <root_account> row \(exit 3\)\n$/,
      );
    }
  });

  it('still fails (exit 1) a rootless report whose findings reach --fail-on', async () => {
    const r = await runCli(['--report', rootless(), '--now', NOW, '--fail-on', 'critical']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/has no <root_account> row/);
  });

  it('warns of a report older than --max-report-age (default 24 hours)', async () => {
    const report = write(
      'old.json',
      JSON.stringify({ Content: Buffer.from(CSV).toString('base64'), GeneratedTime: '2026-11-20T12:00:00Z' }),
    );
    const { doc } = await json(['--report', report, '--now', NOW]);
    expect(doc.warnings).toContainEqual({
      code: 'report-stale',
      message:
        'the credential report was generated 2026-11-20T12:00:00.000Z, 72 hours before 2026-11-23T12:00:00.000Z (more than --max-report-age 24): keys rotated, used or deleted since are judged as they were then',
    });
    const table = await runCli(['--report', report, '--now', NOW]);
    expect(table.stdout).toMatch(
      / {2}- the credential report was generated 2026-11-20T12:00:00.000Z, 72 hours before/,
    );
    const lenient = await json(['--report', report, '--now', NOW, '--max-report-age', '100']);
    expect(codes(lenient.doc)).not.toContain('report-stale');
    const bad = await runCli(['--report', report, '--max-report-age', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'credwatch: --max-report-age: expected whole hours from 1 to 87600, got "soon"\n',
    );
  });
});

describe('--tags', () => {
  const tagsFile = (account = '111122223333') =>
    write(
      `tags-${account}.json`,
      JSON.stringify({
        UserDetailList: [
          {
            UserName: 'alice',
            Arn: `arn:aws:iam::${account}:user/alice`,
            Tags: [{ Key: 'credwatch:owner', Value: 'U024BE7LH' }],
          },
          {
            UserName: 'ci-deploy',
            Arn: `arn:aws:iam::${account}:user/ci-deploy`,
            Tags: [{ Key: 'credwatch:exempt', Value: 'until=2026-12-31 reason=migration' }],
          },
        ],
        GroupDetailList: [],
        RoleDetailList: [],
        Policies: [],
      }),
    );

  it('applies the tags of "aws iam get-account-authorization-details --filter User" as live tags are', async () => {
    const { code, doc, stderr } = await json(['--report', EXAMPLE, '--now', NOW, '--tags', tagsFile()]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const alice = doc.findings.find((f: { user: string }) => f.user === 'alice');
    expect(alice.owner).toBe('U024BE7LH');
    const ci = doc.findings.find(
      (f: { user: string; rule: string }) => f.user === 'ci-deploy' && f.rule === 'access-key-age',
    );
    expect(ci.exemption).toMatchObject({ reason: 'migration' });
    expect(codes(doc)).not.toContain('tags-not-applied');
  });

  it('says plainly when a report is scanned without tags: one stderr line and a --json warning', async () => {
    const { stderr, doc } = await json(['--report', EXAMPLE, '--now', NOW]);
    expect(stderr).toBe(
      'credwatch: scanned without IAM tags: exemptions (credwatch:exempt), owners (credwatch:owner) and per-user thresholds are not applied; pass --tags FILE (aws iam get-account-authorization-details --filter User)\n',
    );
    expect(codes(doc)).toContain('tags-not-applied');
  });

  it("refuses the tags of another account, and a file that is not the command's output", async () => {
    const other = await runCli(['--report', EXAMPLE, '--tags', tagsFile('444455556666')]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /tags-444455556666\.json: the tags are of account 444455556666, the report .* of account 111122223333\n$/,
    );
    const wrong = await runCli(['--report', EXAMPLE, '--tags', write('users.json', '{"Users": []}')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /users\.json: no "UserDetailList" array; expected the output of "aws iam get-account-authorization-details --filter User"\n$/,
    );
  });
});

describe('filters, --quiet, --summary', () => {
  it('--severity keeps that severity and worse, and says how many were kept', async () => {
    const { doc } = await json(['--report', EXAMPLE, '--now', NOW, '--severity', 'critical']);
    expect(new Set(doc.findings.map((f: { severity: string }) => f.severity))).toEqual(new Set(['critical']));
    expect(doc.counts).toEqual({ critical: 6, warning: 0, info: 0 });
    expect(doc.filters).toEqual({ severity: 'critical', findingsBeforeFilters: 11 });
    const table = await runCli(['--report', EXAMPLE, '--now', NOW, '--severity', 'critical']);
    expect(table.stdout).toContain('(6 of 11 findings shown: --severity critical)');
  });

  it('--rule takes a comma list or repeats; --user repeats; --account filters by account', async () => {
    const rules = await json([
      '--report',
      EXAMPLE,
      '--now',
      NOW,
      '--rule',
      'root-access-key,multiple-active-keys',
    ]);
    const again = await json([
      '--report',
      EXAMPLE,
      '--now',
      NOW,
      '--rule',
      'root-access-key',
      '--rule',
      'multiple-active-keys',
    ]);
    expect(rules.doc.findings.map((f: { rule: string }) => f.rule).sort()).toEqual([
      'multiple-active-keys',
      'root-access-key',
    ]);
    expect(again.doc.findings).toEqual(rules.doc.findings);
    const users = await json(['--report', EXAMPLE, '--now', NOW, '--user', 'alice', '--user', 'dave']);
    expect(new Set(users.doc.findings.map((f: { user: string }) => f.user))).toEqual(
      new Set(['alice', 'dave']),
    );
    const other = await json(['--report', EXAMPLE, '--now', NOW, '--account', '444455556666']);
    expect(other.doc.findings).toEqual([]);
    const same = await json(['--report', EXAMPLE, '--now', NOW, '--account', '111122223333']);
    expect(same.doc.findings).toHaveLength(11);
  });

  it('--fail-on judges only the findings the filters keep', async () => {
    const r = await runCli([
      '--report',
      EXAMPLE,
      '--now',
      NOW,
      '--rule',
      'multiple-active-keys',
      '--fail-on',
      'warning',
    ]);
    expect(r.code).toBe(0);
  });

  it.each([
    [
      ['--rule', 'access-key-agee'],
      /^credwatch: --rule: no rule "access-key-agee"; the rules are access-key-age, /,
    ],
    [['--account', '1234'], /^credwatch: --account: expected a 12-digit account id, got "1234"\n$/],
    [['--severity', 'high'], /^error: option '--severity <level>' argument 'high' is invalid/],
    [
      ['--json', '--format', 'csv'],
      /^credwatch: --json is --format json; it cannot be combined with --format csv\n$/,
    ],
    [
      ['--summary', '--format', 'json'],
      /^credwatch: --summary is a table; it cannot be combined with --format json\n$/,
    ],
  ])('refuses %j', async (args, message) => {
    const r = await runCli(['--report', EXAMPLE, ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('--quiet prints nothing: the exit code says it all', async () => {
    const r = await runCli(['--report', EXAMPLE, '--now', NOW, '--fail-on', 'critical', '--quiet']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: '' });
  });

  it('--summary prints the counts per rule', async () => {
    const r = await runCli(['--report', EXAMPLE, '--now', NOW, '--summary']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}RULE\s+CRITICAL\s+WARNING\s+INFO\s+EXEMPTED$/m);
    expect(r.stdout).toMatch(/^ {2}access-key-age\s+3\s+1\s+0\s+0$/m);
    expect(r.stdout).not.toMatch(/ci-deploy/);
  });
});

describe('--format and --output', () => {
  it.each([
    ['csv', (out: string) => expect(out.split('\n')[0]).toMatch(/^account,user,arn,rule,severity,/)],
    ['sarif', (out: string) => expect(JSON.parse(out).version).toBe('2.1.0')],
    ['ocsf', (out: string) => expect(() => JSON.parse(out)).not.toThrow()],
    ['html', (out: string) => expect(out).toMatch(/^<!doctype html>/i)],
    ['json', (out: string) => expect(JSON.parse(out).schemaVersion).toBe(1)],
  ])('--format %s prints that format', async (format, check) => {
    const r = await runCli(['--report', EXAMPLE, '--now', NOW, '--format', format]);
    expect(r.code).toBe(0);
    check(r.stdout);
  });

  it('--output writes the file (nothing on stdout) and says so on stderr', async () => {
    const out = join(tmp, 'findings.sarif');
    const r = await runCli(['--report', EXAMPLE, '--now', NOW, '--format', 'sarif', '--output', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`credwatch: wrote sarif to ${out.replace(/[.]/g, '\\.')}\\n$`));
    expect(JSON.parse(readFileSync(out, 'utf8')).runs[0].results.length).toBeGreaterThan(0);
  });

  it('--output names a file it cannot write', async () => {
    const r = await runCli(['--report', EXAMPLE, '--output', join(tmp, 'no-such-dir', 'x.json'), '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*no-such-dir\/x\.json: no such file\n$/);
  });
});

describe('the terminal', () => {
  it('fits COLUMNS when stdout is not a terminal, and has no limit without it', async () => {
    const narrow = await runCli(['--report', EXAMPLE, '--now', NOW], { COLUMNS: '70' });
    for (const line of narrow.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(70);
    expect(narrow.stdout).toMatch(/not shown, to fit 70 columns: LAST USED/);
    const wide = await runCli(['--report', EXAMPLE, '--now', NOW]);
    expect(wide.stdout).toMatch(/2026-11-23 cloudformation$/m);
    expect(wide.stdout).not.toContain('\x1b[');
    expect(wide.stdout).not.toMatch(/OWNER/);
  });

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help lists the exit codes, the environment and examples', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const part of [
      'Exit codes:',
      '  3  the scan could not complete',
      'Environment:',
      'NO_COLOR',
      'AWS_PROFILE',
      'Examples:',
      'npm run -s scan -- --json > findings.json',
    ]) {
      expect(r.stdout).toContain(part);
    }
    for (const flag of [
      '--tags',
      '--format',
      '--output',
      '--severity',
      '--rule',
      '--user',
      '--account',
      '--quiet',
      '--summary',
      '--profile',
      '--max-report-age',
      '--version',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });
});

describe('live scan without usable credentials', () => {
  const home = mkdtempSync(join(tmpdir(), 'credwatch-home-'));
  mkdirSync(join(home, '.aws'));
  writeFileSync(join(home, '.aws', 'config'), '[profile audit]\nregion = eu-west-1\n');
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    AWS_CONFIG_FILE: join(home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
    AWS_WEB_IDENTITY_TOKEN_FILE: '',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '',
  };

  it('says in one line what to do, without the SDK warning dump', async () => {
    const r = await runCli(['--report-deadline', '5'], env);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('credwatch: reading') && !/credential report/.test(l));
    expect(lines).toEqual([
      'credwatch: no AWS credentials found: set AWS_PROFILE or pass --profile NAME (after "aws sso login" for an SSO profile), or scan a downloaded report with --report FILE',
    ]);
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|node >=22/);
  });

  it('names a profile that does not exist (--profile or AWS_PROFILE)', async () => {
    for (const [args, extra] of [
      [['--profile', 'nosuch'], {}],
      [[], { AWS_PROFILE: 'nosuch' }],
    ] as const) {
      const r = await runCli([...args], { ...env, ...extra });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `credwatch: AWS profile "nosuch" is not defined in ${env.AWS_CONFIG_FILE} or ${env.AWS_SHARED_CREDENTIALS_FILE} (aws configure list-profiles shows the profiles)\n`,
      );
    }
  });

  it('names the profile that gives no credentials', async () => {
    const r = await runCli(['--profile', 'audit', '--report-deadline', '5'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^credwatch: no AWS credentials from profile "audit": run "aws sso login --profile audit"/m,
    );
  });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));
