/**
 * The formats written in pieces (for a large report's file): every piece-by-piece writer, joined,
 * is exactly the text the whole-string definition gives.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { CSV_COLUMNS, csvChunks, renderCsv } from '../../../lambda/formats/csv';
import { htmlChunks, renderHtml } from '../../../lambda/formats/html';
import { renderFormat, renderFormatChunks } from '../../../lambda/formats/index';
import {
  joinChunks,
  jsonChunks,
  jsonDocumentChunks,
  LazyJsonArray,
} from '../../../lambda/formats/json-chunks';
import { ocsfChunks, ocsfEvents } from '../../../lambda/formats/ocsf';
import { sarifChunks, sarifLog } from '../../../lambda/formats/sarif';
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

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

describe('jsonChunks', () => {
  it('joins to JSON.stringify(value, null, 2) for any JSON value, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 6 }), (value, depth) => {
        expect(joinChunks(jsonChunks(value, depth))).toBe(pretty(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes what JSON.stringify writes of undefined, functions, Dates and class instances', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y?: number,
      ) {}
    }
    const value = {
      a: undefined,
      b: () => 1,
      c: [undefined, () => 1, Symbol('s'), null, new Date('2026-01-02T03:04:05Z')],
      d: new Date('2026-01-02T03:04:05Z'),
      e: new Point(1),
      f: { toJSON: () => undefined },
      g: {},
      h: [],
      i: { nested: { deeper: [1, { x: 'a\nb' }] } },
      j: 'quote " and \u2028',
    };
    for (const depth of [0, 1, 2, 3, 5]) expect(joinChunks(jsonChunks(value, depth))).toBe(pretty(value));
  });

  it('writes a LazyJsonArray as the array it stands for, making its elements as they are written', () => {
    let made = 0;
    function* items() {
      for (let i = 0; i < 3; i++) {
        made++;
        yield { i, tags: ['a', i] };
      }
    }
    const chunks = jsonChunks(
      { head: 1, items: new LazyJsonArray(items()), empty: new LazyJsonArray([]) },
      2,
    );
    const first = chunks.next();
    expect(first.value).toBe('{\n  "head": ');
    expect(made).toBe(0);
    const rest = joinChunks({ [Symbol.iterator]: () => chunks });
    expect(made).toBe(3);
    expect(`${first.value}${rest}`).toBe(
      pretty({ head: 1, items: [0, 1, 2].map((i) => ({ i, tags: ['a', i] })), empty: [] }),
    );
  });

  it('ends a document with a newline', () => {
    expect(joinChunks(jsonDocumentChunks([1], 1))).toBe('[\n  1\n]\n');
  });
});

describe('the formats in pieces', () => {
  const results = async () => [
    await scanFile(EXAMPLE),
    ...(await Promise.all(fixtureReports().map((f) => scanFile(f)))),
    await scanCsv(hostileReport(['=cmd', '"quoted"', '<b>x</b>', 'a,b'])),
    resultOf([fullFinding(), fullFinding({ exemption: { until: '2026-12-31', reason: 'migration' } })]),
    resultOf([]),
  ];

  it('OCSF, SARIF, CSV and HTML in pieces are the whole-string texts', async () => {
    for (const result of await results()) {
      expect(joinChunks(ocsfChunks(result, RENDER))).toBe(`${pretty(ocsfEvents(result, RENDER))}\n`);
      expect(joinChunks(sarifChunks(result, RENDER))).toBe(`${pretty(sarifLog(result, RENDER))}\n`);
      const rows = result.findings.length;
      expect(joinChunks(csvChunks(result))).toBe(renderCsv(result));
      expect(renderCsv(result).split('\r\n').length - 2).toBe(rows); // header + rows + the final CRLF
      expect(joinChunks(htmlChunks(result, RENDER))).toBe(renderHtml(result, RENDER));
      for (const format of ['csv', 'ocsf', 'sarif', 'html'] as const) {
        expect(joinChunks(renderFormatChunks(format, result, RENDER))).toBe(
          renderFormat(format, result, RENDER),
        );
      }
    }
  });

  it('CSV in batches of 1,000 rows reads back as one header and every row, in order', async () => {
    const base = fullFinding();
    const findings = Array.from({ length: 2_345 }, (_, i) =>
      fullFinding({ id: `${base.id}-${i}`, user: i % 7 === 0 ? `=evil${i}` : `u${i}` }),
    );
    const chunks = [...csvChunks(resultOf(findings))];
    expect(chunks).toHaveLength(3);
    const text = chunks.join('');
    const rows = parse(text) as string[][];
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows.slice(1).map((r) => r[CSV_COLUMNS.indexOf('finding id')])).toEqual(findings.map((f) => f.id));
    expect(rows[8]![1]).toBe("'=evil7");
    // Written again at once (the cells already carry their formula guard): the same bytes.
    expect(stringify(rows, { record_delimiter: 'windows' })).toBe(text);
  });
});
