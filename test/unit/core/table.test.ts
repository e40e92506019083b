import {
  DROP_ORDER,
  plural,
  renderSummary,
  renderTable,
  type TableInput,
  wrap,
} from '../../../lambda/core/table';
import type { Finding } from '../../../lambda/core/types';

const finding = (over: Partial<Finding> & Pick<Finding, 'user' | 'rule' | 'severity'>): Finding => ({
  id: `111122223333/${over.user}/${over.rule}/key-2026-01-01T00:00:00Z`,
  accountId: '111122223333',
  arn: `arn:aws:iam::111122223333:user/${over.user}`,
  credential: 'key-2026-01-01T00:00:00Z',
  days: 125,
  thresholdDays: 90,
  lastUsed: { date: '2026-11-22T16:40:00.000Z', service: 's3' },
  summary: '…',
  ...over,
});

const scan = (findings: Finding[], more: Partial<TableInput> = {}): TableInput => ({
  accountId: '111122223333',
  evaluatedAt: '2026-11-23T12:00:00.000Z',
  reportGeneratedAt: null,
  usersScanned: 1,
  findings,
  counts: {
    critical: findings.filter((f) => f.severity === 'critical' && !f.exemption).length,
    warning: findings.filter((f) => f.severity === 'warning' && !f.exemption).length,
    info: findings.filter((f) => f.severity === 'info' && !f.exemption).length,
  },
  exempted: findings.filter((f) => f.exemption).length,
  warnings: [],
  ...more,
});

const two = [
  finding({ user: 'alice', rule: 'access-key-age', severity: 'critical' }),
  finding({ user: 'bob', rule: 'access-key-age', severity: 'warning', days: 85, thresholdDays: 80 }),
];

const headingsOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('  USER'))
    .map((l) => l.trim().split(/\s{2,}/));

describe('renderTable', () => {
  it('shows no column that is empty in every row (no empty OWNER column)', () => {
    expect(headingsOf(renderTable(scan(two)))[0]).toEqual([
      'USER',
      'RULE',
      'CREDENTIAL',
      'DAYS',
      'THRESHOLD',
      'LAST USED',
    ]);
    const owned = [{ ...two[0]!, owner: 'U024BE7LH' }, two[1]!];
    expect(headingsOf(renderTable(scan(owned)))[0]).toContain('OWNER');
  });

  it('lines the groups up: one layout for every group', () => {
    const text = renderTable(scan([{ ...two[0]!, user: 'a-very-long-user-name' }, two[1]!]));
    const [critical, warning] = text.split('\n').filter((l) => l.startsWith('  USER'));
    expect(critical).toBe(warning);
  });

  it('has no limit without a width: nothing dropped or cut', () => {
    const text = renderTable(scan(two));
    expect(text).toMatch(
      /^ {2}alice\s+access-key-age\s+key-2026-01-01T00:00:00Z\s+125\s+90\s+2026-11-22 s3$/m,
    );
    expect(text).not.toMatch(/not shown/);
  });

  it.each([100, 80, 60, 40])(
    'fits %i columns by dropping columns in the documented order, then cutting',
    (width) => {
      const owned = two.map((f) => ({ ...f, owner: 'secops-team@example.com' }));
      const text = renderTable(scan(owned), { width });
      const rows = text.split('\n').filter((l) => /^ {2}(USER|alice|bob)/.test(l));
      for (const row of rows) expect(row.length).toBeLessThanOrEqual(width);
      const shown = headingsOf(text)[0]!;
      const dropped = ['LAST USED', 'THRESHOLD', 'OWNER', 'DAYS'].filter((h) => !shown.includes(h));
      // Dropped columns are always a prefix of the drop order.
      expect(dropped).toEqual(['LAST USED', 'THRESHOLD', 'OWNER', 'DAYS'].slice(0, dropped.length));
      if (dropped.length > 0) {
        expect(text.replace(/\n/g, ' ')).toContain(
          `(not shown, to fit ${width} columns: ${dropped.join(', ')}; --json has every field)`,
        );
      }
      for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
    },
  );

  it('documents its drop order', () => {
    expect(DROP_ORDER).toEqual(['lastUsed', 'threshold', 'owner', 'days']);
  });

  it('cuts the credential with an ellipsis when dropping is not enough', () => {
    const text = renderTable(scan(two), { width: 40 });
    expect(text).toMatch(/^ {2}alice {2}access-key-age {2}key-2026-01-01…$/m);
  });

  it('colours the severity headings only when asked', () => {
    expect(renderTable(scan(two))).not.toContain('\x1b[');
    const coloured = renderTable(scan(two), { colour: true });
    expect(coloured).toContain('\x1b[1;31mCRITICAL (1)\x1b[0m');
    expect(coloured).toContain('\x1b[1;33mWARNING (1)\x1b[0m');
  });

  it('says "1 user", "1 warning" and "1 finding"', () => {
    const one = renderTable(
      scan([two[0]!], { warnings: [{ code: 'x', message: 'something' }], usersScanned: 1 }),
    );
    expect(one.split('\n')[0]).toBe(
      'credwatch: account 111122223333, 1 user, evaluated at 2026-11-23T12:00:00.000Z',
    );
    expect(one.trimEnd().split('\n').at(-1)).toBe(
      '1 finding: 1 critical, 0 warning, 0 info; 0 exempted; 1 warning',
    );
    const many = renderTable(scan(two, { usersScanned: 2 }));
    expect(many.split('\n')[0]).toContain(', 2 users,');
    expect(many.trimEnd().split('\n').at(-1)).toBe(
      '2 findings: 1 critical, 1 warning, 0 info; 0 exempted; 0 warnings',
    );
  });

  it('says how many findings the filters kept', () => {
    const text = renderTable(scan([two[0]!]), { filtered: { filters: ['--severity critical'], total: 2 } });
    expect(text).toContain('(1 of 2 findings shown: --severity critical)');
  });

  it('wraps warnings to the width, keeping their indent', () => {
    const message = 'word '.repeat(30).trim();
    const text = renderTable(scan(two, { warnings: [{ code: 'x', message }] }), { width: 50 });
    const lines = text.split('\n');
    const start = lines.indexOf('WARNINGS (1)');
    expect(lines[start + 1]).toMatch(/^ {2}- word/);
    expect(lines[start + 2]).toMatch(/^ {4}word/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(50);
  });
});

describe('renderSummary', () => {
  it('counts findings per rule and severity, worst first, instead of listing them', () => {
    const findings = [
      ...two,
      finding({ user: 'carol', rule: 'access-key-unused', severity: 'warning' }),
      finding({
        user: 'dave',
        rule: 'access-key-age',
        severity: 'critical',
        exemption: { until: '2026-12-31', reason: 'migration' },
      }),
    ];
    const text = renderSummary(scan(findings));
    const table = text.split('\n').filter((l) => /^ {2}(RULE|access)/.test(l));
    expect(table.map((l) => l.trim().split(/\s+/))).toEqual([
      ['RULE', 'CRITICAL', 'WARNING', 'INFO', 'EXEMPTED'],
      ['access-key-age', '1', '1', '0', '1'],
      ['access-key-unused', '0', '1', '0', '0'],
    ]);
    expect(text).not.toContain('alice');
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      '3 findings: 1 critical, 2 warning, 0 info; 1 exempted; 0 warnings',
    );
  });
});

describe('plural and wrap', () => {
  it('pluralises', () => {
    expect([plural(0, 'user'), plural(1, 'user'), plural(2, 'user')]).toEqual([
      '0 users',
      '1 user',
      '2 users',
    ]);
  });
  it('wraps at spaces with a hanging indent', () => {
    expect(wrap('aaa bbb ccc', 7, '  ')).toEqual(['aaa bbb', '  ccc']);
    expect(wrap('aaa bbb', undefined)).toEqual(['aaa bbb']);
  });
});
