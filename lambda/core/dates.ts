/** Day arithmetic. Ages are whole days, rounded down: a key created 89 days and 23 hours ago is 89 days old. */

export const DAY_MS = 86_400_000;

/** Whole days from `from` to `now`; never negative (a date in the future counts as 0 days). */
export function wholeDaysBetween(from: Date, now: Date): number {
  const ms = now.getTime() - from.getTime();
  return ms <= 0 ? 0 : Math.floor(ms / DAY_MS);
}

/** `YYYY-MM-DD` of a date in UTC. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** Days in a month (1-12) of a year of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The outcome of {@link parseIsoInstant}: the instant, or why the text is not one. */
export type ParsedInstant =
  | { readonly ok: true; readonly date: Date; readonly hadZone: boolean }
  | { readonly ok: false; readonly reason: 'format' | 'calendar'; readonly problem: string };

/**
 * Read an ISO 8601 date or time: `2026-12-07`, `2026-12-07T09:00`, `2026-12-07T09:00:00.5Z`,
 * `…+02:00`. A date alone is midnight UTC, and a time without a zone is UTC (never the machine's
 * zone, so a result does not depend on where it is computed). Impossible dates (`2026-02-30`, hour
 * 24, minute 60) are refused, not rolled over into the next month as `Date` does.
 */
export function parseIsoInstant(text: string): ParsedInstant {
  const m = ISO_INSTANT.exec(text);
  if (!m) return { ok: false, reason: 'format', problem: 'not an ISO 8601 date or time' };
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) {
    return { ok: false, reason: 'calendar', problem: `there is no month ${mo}` };
  }
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) {
    return {
      ok: false,
      reason: 'calendar',
      problem: `${MONTHS[month - 1]} ${year} has ${days} days, there is no day ${d}`,
    };
  }
  if (Number(h) > 23) return { ok: false, reason: 'calendar', problem: `there is no hour ${h}` };
  if (Number(mi) > 59) return { ok: false, reason: 'calendar', problem: `there is no minute ${mi}` };
  if (Number(s) > 59) return { ok: false, reason: 'calendar', problem: `there is no second ${s}` };
  let offsetMinutes = 0;
  if (zone && zone !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(zm[2]) > 23 || Number(zm[3]) > 59) {
      return { ok: false, reason: 'calendar', problem: `there is no time zone offset ${zone}` };
    }
    offsetMinutes = (zm[1] === '-' ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3]));
  }
  const ms = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  const utc = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), ms);
  return { ok: true, date: new Date(utc - offsetMinutes * 60_000), hadZone: zone !== undefined };
}
