import { daysInMonth, parseIsoInstant } from '../../../lambda/core/dates';

describe('parseIsoInstant', () => {
  it.each([
    ['2026-12-07', '2026-12-07T00:00:00.000Z', false],
    ['2026-12-07T09:00', '2026-12-07T09:00:00.000Z', false],
    ['2026-12-07T09:00:30.250', '2026-12-07T09:00:30.250Z', false],
    ['2026-12-07T09:00:00Z', '2026-12-07T09:00:00.000Z', true],
    ['2026-12-07T09:00:00+02:00', '2026-12-07T07:00:00.000Z', true],
    ['2026-12-07T09:00:00-0530', '2026-12-07T14:30:00.000Z', true],
  ])('reads %s as %s (a time without a zone is UTC)', (text, iso, hadZone) => {
    const parsed = parseIsoInstant(text);
    expect(parsed).toEqual({ ok: true, date: new Date(iso), hadZone });
  });

  it.each([
    ['2026-02-30', 'February 2026 has 28 days, there is no day 30'],
    ['2026-02-29T00:00:00Z', 'February 2026 has 28 days, there is no day 29'],
    ['2026-13-01', 'there is no month 13'],
    ['2026-04-31T10:00Z', 'April 2026 has 30 days, there is no day 31'],
    ['2026-01-01T24:00', 'there is no hour 24'],
    ['2026-01-01T23:60', 'there is no minute 60'],
    ['2026-01-01T23:59:61Z', 'there is no second 61'],
    ['2026-01-01T10:00+25:00', 'there is no time zone offset +25:00'],
  ])('refuses the impossible %s', (text, problem) => {
    expect(parseIsoInstant(text)).toEqual({ ok: false, reason: 'calendar', problem });
  });

  it.each(['next tuesday', '07/12/2026', '2026-12-7', '2026-12-07 09:00', ''])(
    'refuses %j as not ISO 8601',
    (text) => {
      expect(parseIsoInstant(text)).toMatchObject({ ok: false, reason: 'format' });
    },
  );

  it('knows leap years', () => {
    expect(daysInMonth(2028, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
    expect(parseIsoInstant('2028-02-29')).toMatchObject({ ok: true });
  });
});
