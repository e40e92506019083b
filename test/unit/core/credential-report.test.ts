import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCredentialReport, REQUIRED_COLUMNS } from '../../../lambda/core/credential-report';
import { CredentialReportParseError } from '../../../lambda/core/errors';
import { REPORT_HEADER, report, reportRow } from '../../support/report-builder';

const REAL = join(__dirname, '../../fixtures/credential-reports');
const realReports = readdirSync(REAL).filter((f) => f.endsWith('.csv'));

function parseError(csv: string): CredentialReportParseError {
  try {
    parseCredentialReport(csv);
  } catch (err) {
    if (err instanceof CredentialReportParseError) return err;
    throw err;
  }
  throw new Error('expected a CredentialReportParseError');
}

describe('parseCredentialReport', () => {
  it('has real reports to test against', () => {
    expect(realReports.length).toBeGreaterThanOrEqual(13);
  });

  it.each(realReports)('parses every row of the real report %s', (file) => {
    const csv = readFileSync(join(REAL, file), 'utf8');
    const rows = csv.trim().split('\n').length - 1;
    const { records, warnings } = parseCredentialReport(csv);
    // Every data row is either a record or a warning about a duplicate: nothing is dropped silently.
    expect(records.length + warnings.filter((w) => w.code === 'duplicate-user').length).toBe(rows);
    for (const r of records) {
      expect(r.arn).toMatch(/^arn:aws:iam::/);
      expect(Number.isNaN(r.createdAt.getTime())).toBe(false);
    }
  });

  it('reads the root row of an old report (not_supported password fields)', () => {
    const csv = readFileSync(join(REAL, 'JakubDziegielewski_AWS_testbench__credential_report.csv'), 'utf8');
    const root = parseCredentialReport(csv).records.find((r) => r.isRoot)!;
    expect(root.user).toBe('<root_account>');
    expect(root.password).toEqual({
      enabled: false,
      lastUsed: new Date('2022-12-21T16:19:23Z'),
      lastChanged: null,
    });
    expect(root.accessKeys).toEqual([]);
  });

  it('reads the root row of a 2025 report (Z timestamps, password_enabled=true)', () => {
    const csv = readFileSync(
      join(REAL, 'cfech_aws-solutions-architect-associate__credential-report.csv'),
      'utf8',
    );
    const root = parseCredentialReport(csv).records.find((r) => r.isRoot)!;
    expect(root.createdAt.toISOString()).toBe('2025-01-28T17:25:12.000Z');
    expect(root.password.enabled).toBe(true);
    expect(root.password.lastUsed).toBeNull(); // no_information
    expect(root.mfaActive).toBe(true);
  });

  it('reads both key slots with their last use, region and service', () => {
    const csv = readFileSync(join(REAL, 'guardian_security-hq__CredentialsReportTest.csv'), 'utf8');
    const user = parseCredentialReport(csv).records.find((r) => r.user === 'with-disabled-key')!;
    expect(user.accessKeys).toEqual([
      {
        slot: 1,
        active: false,
        createdAt: new Date('2017-04-19T15:47:39Z'),
        lastUsed: { date: new Date('2017-04-19T15:48:00Z'), service: 'ec2', region: 'eu-west-1' },
      },
      {
        slot: 2,
        active: true,
        createdAt: new Date('2016-07-29T09:20:20Z'),
        lastUsed: { date: new Date('2017-05-24T11:35:00Z'), service: 'sts', region: 'us-east-1' },
      },
    ]);
  });

  it('reports a user listed twice as a warning naming both lines, keeping the first row', () => {
    const csv = readFileSync(
      join(REAL, 'cc__test_account_credential_report__iam.GetCredentialReport_1.csv'),
      'utf8',
    );
    const { records, warnings } = parseCredentialReport(csv);
    expect(records.filter((r) => r.user === 'christopher')).toHaveLength(1);
    expect(warnings).toEqual([
      expect.objectContaining({
        code: 'duplicate-user',
        user: 'christopher',
        message: expect.stringMatching(/line \d+.*first on line \d+/),
      }),
    ]);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['false', false],
    ['FALSE', false],
  ])('reads the boolean %s as %s', (raw, expected) => {
    const { records } = parseCredentialReport(report([{ user: 'u', mfa_active: raw }]));
    expect(records[0]!.mfaActive).toBe(expected);
  });

  it.each([
    ['2025-01-28T17:25:12Z', '2025-01-28T17:25:12.000Z'],
    ['2022-05-27T10:25:43+00:00', '2022-05-27T10:25:43.000Z'],
    ['2022-05-27T12:25:43+02:00', '2022-05-27T10:25:43.000Z'],
    ['2022-05-27T10:25:43.123Z', '2022-05-27T10:25:43.123Z'],
  ])('reads the timestamp %s', (raw, iso) => {
    const { records } = parseCredentialReport(report([{ user: 'u', user_creation_time: raw }]));
    expect(records[0]!.createdAt.toISOString()).toBe(iso);
  });

  it.each(['N/A', 'no_information'])('reads a password last used of %s as never used', (raw) => {
    const { records } = parseCredentialReport(
      report([
        {
          user: 'u',
          password_enabled: 'true',
          password_last_used: raw,
          password_last_changed: '2024-01-01T00:00:00Z',
        },
      ]),
    );
    expect(records[0]!.password).toEqual({
      enabled: true,
      lastUsed: null,
      lastChanged: new Date('2024-01-01T00:00:00Z'),
    });
  });

  it('keeps an inactive key that still has its last_rotated date, and skips an empty slot', () => {
    const { records } = parseCredentialReport(
      report([
        { user: 'u', access_key_1_active: 'false', access_key_1_last_rotated: '2020-01-01T00:00:00Z' },
      ]),
    );
    expect(records[0]!.accessKeys).toEqual([
      { slot: 1, active: false, createdAt: new Date('2020-01-01T00:00:00Z'), lastUsed: null },
    ]);
  });

  it('treats N/A as the region of a non-regional service', () => {
    const { records } = parseCredentialReport(
      report([
        {
          user: 'u',
          access_key_1_active: 'true',
          access_key_1_last_rotated: '2020-01-01T00:00:00Z',
          access_key_1_last_used_date: '2024-01-01T00:00:00Z',
          access_key_1_last_used_region: 'N/A',
          access_key_1_last_used_service: 'iam',
        },
      ]),
    );
    expect(records[0]!.accessKeys[0]!.lastUsed).toEqual({
      date: new Date('2024-01-01T00:00:00Z'),
      service: 'iam',
    });
  });

  it('ignores unknown extra columns and accepts columns in another order', () => {
    const cols = REPORT_HEADER.split(',');
    const header = ['future_column', ...cols.reverse()].join(',');
    const values: Record<string, string> = {
      user: 'u',
      arn: 'arn:aws:iam::1:user/u',
      user_creation_time: '2024-01-01T00:00:00Z',
    };
    const line = [
      'whatever',
      ...cols.map((c) => values[c] ?? (c.endsWith('_active') || c === 'password_enabled' ? 'false' : 'N/A')),
    ].join(',');
    const { records } = parseCredentialReport(`${header}\n${line}\n`);
    expect(records).toHaveLength(1);
    expect(records[0]!.user).toBe('u');
  });

  it('accepts CRLF line endings and a byte order mark', () => {
    const csv = `\uFEFF${report([{ user: 'u' }, { user: 'v' }]).replace(/\n/g, '\r\n')}`;
    expect(parseCredentialReport(csv).records.map((r) => r.user)).toEqual(['u', 'v']);
  });

  it('counts lines from the file, so an error points at the right line', () => {
    const err = parseError(report([{ user: 'a' }, { user: 'b' }, { user: 'c', mfa_active: 'maybe' }]));
    expect(err.location).toEqual({ line: 4, column: 'mfa_active', user: 'c' });
    expect(err.message).toBe(
      'credential report line 4, user "c", column mfa_active: expected true or false, got "maybe"',
    );
  });

  it.each([
    [
      'user_creation_time',
      '2024-13-45T00:00:00Z',
      'credential report line 2, user "u", column user_creation_time: "2024-13-45T00:00:00Z" is not a valid date: there is no month 13',
    ],
    [
      'access_key_1_last_rotated',
      '2026-02-30T14:02:11Z',
      'credential report line 2, user "u", column access_key_1_last_rotated: "2026-02-30T14:02:11Z" is not a valid date: February 2026 has 28 days, there is no day 30',
    ],
    [
      'user_creation_time',
      'yesterday',
      'credential report line 2, user "u", column user_creation_time: expected an ISO 8601 timestamp, got "yesterday"',
    ],
    [
      'user_creation_time',
      'N/A',
      'credential report line 2, user "u", column user_creation_time: a timestamp is required, got "N/A"',
    ],
    [
      'access_key_1_last_rotated',
      '01/02/2024',
      'credential report line 2, user "u", column access_key_1_last_rotated: expected an ISO 8601 timestamp, got "01/02/2024"',
    ],
    [
      'access_key_2_active',
      'yes',
      'credential report line 2, user "u", column access_key_2_active: expected true or false, got "yes"',
    ],
    [
      'password_enabled',
      'N/A',
      'credential report line 2, user "u", column password_enabled: expected true or false, got "N/A"',
    ],
    ['arn', 'user/u', 'credential report line 2, user "u", column arn: expected an ARN, got "user/u"'],
  ])('rejects a bad %s (%s) naming the line, user and column', (column, value, message) => {
    const err = parseError(
      report([
        {
          user: 'u',
          access_key_1_active: 'true',
          access_key_1_last_rotated: '2024-01-01T00:00:00Z',
          [column]: value,
        },
      ]),
    );
    expect(err.message).toBe(message);
  });

  it('rejects an empty user name', () => {
    expect(parseError(report([{ user: '' }])).message).toBe(
      'credential report line 2, user "", column user: the user name is empty',
    );
  });

  it.each(REQUIRED_COLUMNS)('names the missing required column %s', (column) => {
    const header = REPORT_HEADER.split(',')
      .filter((c) => c !== column)
      .join(',');
    const err = parseError(`${header}\n`);
    expect(err.message).toBe(`credential report line 1: missing required column ${column}`);
    expect(err.location.column).toBe(column);
  });

  it('names every missing column of a file that is not a credential report', () => {
    expect(parseError('name,email\nx,y\n').message).toMatch(
      /^credential report line 1: missing required columns user, arn, /,
    );
  });

  it('rejects a row with the wrong number of fields, naming the line', () => {
    const err = parseError(`${report([{ user: 'u' }])}v,arn:aws:iam::1:user/v\n`);
    expect(err.message).toMatch(/^credential report is not valid CSV \(line 3\)/);
  });

  it('rejects an empty file', () => {
    expect(parseError('').message).toBe('credential report is empty: no header line');
  });

  it('names the file in every message when given a source', () => {
    const err = (() => {
      try {
        parseCredentialReport(report([{ user: 'u', mfa_active: 'maybe' }]), { source: 'report.csv' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected an error');
    })();
    expect(err.message).toBe(
      'report.csv line 2, user "u", column mfa_active: expected true or false, got "maybe"',
    );
    expect(() => parseCredentialReport('', { source: 'report.csv' })).toThrow(
      'report.csv is empty: no header line',
    );
  });

  it.each(['2026-02-29T00:00:00Z', '2026-04-31T10:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T10:60:00Z'])(
    'refuses the impossible timestamp %s instead of rolling it over',
    (value) => {
      expect(parseError(report([{ user: 'u', user_creation_time: value }])).message).toMatch(
        new RegExp(
          `^credential report line 2, user "u", column user_creation_time: "${value}" is not a valid date: `,
        ),
      );
    },
  );

  it('reads 29 February of a leap year', () => {
    const { records } = parseCredentialReport(
      report([{ user: 'u', user_creation_time: '2028-02-29T08:00:00Z' }]),
    );
    expect(records[0]!.createdAt.toISOString()).toBe('2028-02-29T08:00:00.000Z');
  });

  describe('not_supported and other values that hold nothing', () => {
    it('reads not_supported outside the root password columns as no value, with a warning naming line and column', () => {
      const { records, warnings } = parseCredentialReport(
        report([
          { user: 'u', password_enabled: 'not_supported' },
          { user: 'v', password_last_used: 'not_supported', access_key_1_last_used_service: 'not_supported' },
        ]),
      );
      expect(records[0]!.password.enabled).toBe(false);
      expect(records[1]!.password.lastUsed).toBeNull();
      expect(warnings).toEqual([
        {
          code: 'value-not-supported',
          user: 'u',
          message:
            'credential report line 2, user "u", column password_enabled: "not_supported" read as no value (IAM writes it only in the root user\'s password columns)',
        },
        expect.objectContaining({
          code: 'value-not-supported',
          user: 'v',
          message: expect.stringMatching(
            /^credential report line 3, user "v", column access_key_1_last_used_service: /,
          ),
        }),
        expect.objectContaining({
          code: 'value-not-supported',
          user: 'v',
          message: expect.stringMatching(/^credential report line 3, user "v", column password_last_used: /),
        }),
      ]);
    });

    it("says nothing of not_supported in the root row's password columns (reports before 2025)", () => {
      const { records, warnings } = parseCredentialReport(report([{ user: '<root_account>' }]));
      expect(warnings).toEqual([]);
      expect(records[0]!.password).toEqual({ enabled: false, lastUsed: null, lastChanged: null });
    });

    it('marks a root password the report states (2025 and later) as stated', () => {
      const { records } = parseCredentialReport(
        report([{ user: '<root_account>', password_enabled: 'false', password_last_changed: 'N/A' }]),
      );
      expect(records[0]!.password).toEqual({
        enabled: false,
        enabledStated: true,
        lastUsed: null,
        lastChanged: null,
      });
    });

    it('warns of an active key whose last_rotated is N/A: its age cannot be judged', () => {
      const { records, warnings } = parseCredentialReport(
        report([{ user: 'u', access_key_2_active: 'true', access_key_2_last_rotated: 'N/A' }]),
      );
      expect(records[0]!.accessKeys).toEqual([{ slot: 2, active: true, createdAt: null, lastUsed: null }]);
      expect(warnings).toEqual([
        {
          code: 'key-age-unknown',
          user: 'u',
          message:
            'credential report line 2, user "u", column access_key_2_last_rotated: access key 2 is active but its creation time is "N/A": its age is not judged',
        },
      ]);
    });
  });

  describe('a file that is not one whole report', () => {
    it('warns of a header without rows, when asked to check', () => {
      expect(
        parseCredentialReport(`${REPORT_HEADER}\n`, { source: 'r.csv', checkWhole: true }).warnings,
      ).toEqual([
        {
          code: 'report-empty',
          message:
            'r.csv has a header but no rows: AWS always writes the <root_account> row, so the file looks filtered or truncated',
        },
      ]);
    });

    it('warns of a report without the root row, when asked to check', () => {
      const csv = report([{ user: 'u' }]);
      expect(parseCredentialReport(csv, { checkWhole: true }).warnings).toEqual([
        expect.objectContaining({ code: 'report-without-root' }),
      ]);
      expect(parseCredentialReport(`${csv}`).warnings).toEqual([]);
      expect(
        parseCredentialReport(report([{ user: '<root_account>' }, { user: 'u' }]), { checkWhole: true })
          .warnings,
      ).toEqual([]);
    });

    it('refuses two accounts concatenated, naming both', () => {
      const first = report([{ user: '<root_account>' }, { user: 'u' }]);
      const second = `${REPORT_HEADER}\n${reportRow({ user: '<root_account>' }, '444455556666')}\n`;
      const err = parseError(first + second);
      expect(err.message).toBe(
        "credential report holds the credential reports of 2 accounts, 123456789012 (from line 2) and 444455556666 (from line 5): scan one account's report at a time",
      );
      expect(err.location.line).toBe(5);
    });

    it('refuses the same account concatenated twice (the header again)', () => {
      const one = report([{ user: '<root_account>' }, { user: 'u' }]);
      expect(parseError(one + one).message).toBe(
        'credential report line 4 repeats the header line: two reports concatenated into one file; scan one report at a time',
      );
    });
  });
});
