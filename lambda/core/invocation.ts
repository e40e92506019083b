/**
 * Which invocations the scanner accepts. The run's clock is always the wall clock; the event only
 * names the run. An event that does not come from the schedule, or whose scheduled time is more than
 * one schedule period away from the wall clock (a replayed, retried-too-late or forged invocation),
 * is refused before anything is read or written. Pure: the wall clock is passed in.
 */
import { describeValue } from './describe-value';

export type InvocationCheck =
  | { readonly accepted: true; readonly runId: string; readonly scheduledTime: Date }
  | { readonly accepted: false; readonly reason: string };

const shown = (value: unknown): string => describeValue(value, 60);

/**
 * @param event the invocation payload, untrusted
 * @param wallClock the function's own clock at the start of the invocation
 * @param periodMs one schedule period: the largest accepted distance between the scheduled time and the wall clock
 * @param source the `source` the schedule sends
 */
export function checkInvocation(
  event: unknown,
  wallClock: Date,
  periodMs: number,
  source: string,
): InvocationCheck {
  const refuse = (reason: string): InvocationCheck => ({ accepted: false, reason });
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return refuse(`event: expected the schedule's object, got ${shown(event)}`);
  }
  const e = event as Record<string, unknown>;
  if (e.source !== source) return refuse(`event.source: expected "${source}", got ${shown(e.source)}`);
  if (typeof e.scheduledTime !== 'string') {
    return refuse(`event.scheduledTime: expected an ISO time, got ${shown(e.scheduledTime)}`);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(e.scheduledTime);
  // Date.parse rolls 2026-02-30 over to March 2: the calendar day must exist.
  const real =
    m !== null &&
    new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDate() === Number(m[3]);
  const ms = real ? Date.parse(e.scheduledTime) : Number.NaN;
  if (Number.isNaN(ms)) {
    return refuse(`event.scheduledTime: expected an ISO time with a zone, got ${shown(e.scheduledTime)}`);
  }
  const distance = Math.abs(wallClock.getTime() - ms);
  if (distance > periodMs) {
    return refuse(
      `event.scheduledTime ${new Date(ms).toISOString()} is ${Math.round(distance / 60_000)} minutes from the clock (${wallClock.toISOString()}); at most one schedule period (${Math.round(periodMs / 60_000)} minutes) is accepted`,
    );
  }
  return { accepted: true, runId: new Date(ms).toISOString(), scheduledTime: new Date(ms) };
}
