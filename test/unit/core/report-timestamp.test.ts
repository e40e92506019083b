/**
 * The credential report's fast timestamp path (fastTimestampMs) against the full parser
 * (parseIsoInstant): where the fast path answers, it answers the same instant; where it declines
 * (another shape, an impossible date or offset), the full parser decides and names the problem.
 */
import fc from 'fast-check';
import { fastTimestampMs, parseCredentialReport } from '../../../lambda/core/credential-report';
import { parseIsoInstant } from '../../../lambda/core/dates';
import { report } from '../../support/report-builder';

const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
const year = fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0'));
const zone = fc.oneof(
  fc.constant('Z'),
  fc.constant('+00:00'),
  fc.tuple(fc.constantFrom('+', '-'), two, two).map(([s, h, m]) => `${s}${h}:${m}`),
);
/** IAM's shape with any two digits in every field: impossible months, days, hours, offsets included. */
const iamShaped = fc
  .tuple(year, two, two, two, two, two, zone)
  .map(([y, mo, d, h, mi, s, z]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${z}`);
/** Near misses: other separators, fractions, offsets without a colon, other lengths. */
const nearMiss = fc.oneof(
  iamShaped.map((t) => t.replace('T', ' ')),
  iamShaped.map((t) => t.replace(/(:\d\d)(Z|[+-])/, '$1.5$2')),
  iamShaped.map((t) => t.replace(/([+-]\d\d):(\d\d)$/, '$1$2')),
  iamShaped.map((t) => `${t} `),
  iamShaped.map((t) => t.slice(1)),
  fc.string({ maxLength: 30 }),
);

describe('fastTimestampMs', () => {
  it('agrees with parseIsoInstant on every timestamp of IAM shape, and declines only what it refuses', () => {
    fc.assert(
      fc.property(iamShaped, (text) => {
        const fast = fastTimestampMs(text);
        const full = parseIsoInstant(text);
        if (fast !== undefined) {
          expect(full.ok && full.date.getTime()).toBe(fast);
        } else if (Number(text.slice(0, 4)) >= 1000) {
          // Declined with a year of four digits: only because the full parser refuses it too.
          expect(full.ok).toBe(false);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('answers only what the full parser accepts, on shapes it does not read', () => {
    fc.assert(
      fc.property(nearMiss, (text) => {
        const fast = fastTimestampMs(text);
        if (fast === undefined) return;
        const full = parseIsoInstant(text);
        expect(full.ok && full.date.getTime()).toBe(fast);
      }),
      { numRuns: 5_000 },
    );
  });

  it.each([
    ['2026-07-20T14:02:11+00:00', '2026-07-20T14:02:11.000Z'],
    ['2026-07-20T14:02:11Z', '2026-07-20T14:02:11.000Z'],
    ['2026-07-20T14:02:11+02:30', '2026-07-20T11:32:11.000Z'],
    ['2026-07-20T00:02:11-05:00', '2026-07-20T05:02:11.000Z'],
    ['2028-02-29T08:00:00Z', '2028-02-29T08:00:00.000Z'],
    ['2000-02-29T08:00:00Z', '2000-02-29T08:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(new Date(fastTimestampMs(text)!).toISOString()).toBe(iso);
  });

  it.each([
    '2026-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-00-01T10:00:00Z',
    '2026-01-00T10:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T10:60:00Z',
    '2026-01-01T10:00:60Z',
    '2026-01-01T10:00:00+24:00',
    '2026-01-01T10:00:00+01:60',
    '0099-01-01T10:00:00Z',
    '2026-01-01T10:00:00.123Z',
    '2026-01-01T10:00:00+0100',
  ])('leaves %s to the full parser', (text) => {
    expect(fastTimestampMs(text)).toBeUndefined();
  });

  it("still refuses an impossible date in a report with the full parser's message", () => {
    expect(() =>
      parseCredentialReport(report([{ user: 'u', user_creation_time: '2026-02-29T10:00:00+00:00' }])),
    ).toThrow(
      'credential report line 2, user "u", column user_creation_time: "2026-02-29T10:00:00+00:00" is not a valid date: February 2026 has 28 days, there is no day 29',
    );
  });
});
