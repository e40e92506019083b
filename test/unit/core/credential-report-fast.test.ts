/**
 * The credential report's fast CSV reading (splitSimpleCsv) against csv-parse, which reads every
 * other CSV: where the fast path reads a text, it reads the records and line numbers csv-parse
 * reads; quoted (multi-line) cells, lone CRs and wrong field counts are left to csv-parse, whose
 * messages and line numbers stay as they were.
 */
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { parseCredentialReport, splitSimpleCsv } from '../../../lambda/core/credential-report';
import { CredentialReportParseError } from '../../../lambda/core/errors';
import { REPORT_HEADER, report, reportRow } from '../../support/report-builder';

/** What csv-parse reads, as the parser calls it: records and the line each ends on; or its error. */
function csvParse(text: string): { records: string[][]; lines: number[] } | 'error' {
  try {
    const rows = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: false,
    }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
    return { records: rows.map((r) => r.record), lines: rows.map((r) => r.info.lines) };
  } catch {
    return 'error';
  }
}

function fast(text: string) {
  const rows = splitSimpleCsv(text);
  if (!rows) return undefined;
  const records: string[][] = [];
  const lines: number[] = [];
  for (let i = 0; i < rows.count; i++) {
    records.push(rows.cells(i));
    lines.push(rows.line(i));
  }
  return { records, lines };
}

describe('splitSimpleCsv', () => {
  it('reads what csv-parse reads, or leaves the text to it', () => {
    const text = fc
      .array(fc.constantFrom('a', 'b', ' ', ',', ',', '\n', '\n', '\r\n', '\r', '"', '\uFEFF'), {
        maxLength: 40,
      })
      .map((parts) => parts.join(''));
    let read = 0;
    fc.assert(
      fc.property(text, (t) => {
        const mine = fast(t);
        if (mine === undefined) return;
        read++;
        expect(mine).toEqual(csvParse(t));
      }),
      { numRuns: 20_000 },
    );
    expect(read).toBeGreaterThan(1_000); // the property read texts, not only declined them
  });

  it('reads a report with LF, CRLF, a byte order mark and empty lines as csv-parse does', () => {
    const lf = `${report([{ user: 'a' }, { user: 'b' }])}\n\n${reportRow({ user: 'c' })}`;
    for (const t of [lf, lf.replace(/\n/g, '\r\n'), `\uFEFF${lf}`]) {
      expect(fast(t)).toEqual(csvParse(t));
      expect(fast(t)!.lines).toEqual([1, 2, 3, 6]); // report() ends its last row with a newline: lines 4 and 5 are empty
    }
  });

  it.each([
    ['a quoted cell', `user,x\n"a,b",c\n`],
    ['a lone CR', 'user,x\ra,b\r'],
    ['LF and CRLF mixed', 'user,x\r\na,b\nc,d\n'],
    ['a row with another field count', 'user,x\na,b,c\n'],
  ])('leaves %s to csv-parse', (_name, t) => {
    expect(splitSimpleCsv(t)).toBeUndefined();
  });

  it('keeps the line of a multi-line quoted cell (csv-parse: the line the record ends on)', () => {
    // Row 3 is user "b\nc" (a quoted cell over lines 3 and 4), so user d is on line 5.
    const multiLine = reportRow({ user: 'b-c' }).replace(/^b-c,/, '"b\nc",');
    const csv = `${report([{ user: 'a' }])}${multiLine}\n${reportRow({ user: 'd', mfa_active: 'maybe' })}\n`;
    expect(splitSimpleCsv(csv)).toBeUndefined();
    let err: unknown;
    try {
      parseCredentialReport(csv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CredentialReportParseError);
    expect((err as CredentialReportParseError).message).toBe(
      'credential report line 5, user "d", column mfa_active: expected true or false, got "maybe"',
    );
  });

  it('refuses a repeated header found by the fast path, naming its line', () => {
    const one = report([{ user: '<root_account>' }]);
    expect(() => parseCredentialReport(`${one}${REPORT_HEADER}\n`)).toThrow(
      'credential report line 3 repeats the header line: two reports concatenated into one file; scan one report at a time',
    );
  });
});
