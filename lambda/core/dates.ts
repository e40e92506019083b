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
