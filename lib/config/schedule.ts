/**
 * When the scanner runs: `schedule` (an EventBridge Scheduler `rate(...)` or `cron(...)` expression,
 * checked field by field as Scheduler would), `timeZone` (an IANA zone for a cron schedule) and
 * `heartbeatMinutes` (the longest expected gap between two runs), and the schedule's period, which
 * bounds the heartbeat alarm, the function's timeout and the schedule's retry window. The checks
 * that relate the period to the heartbeat and to `timeoutSeconds` are here too.
 */
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import type { ConfigProblem, ErrorFor } from './messages';
import { wholeNumber } from './messages';

/** Heartbeat period assumed for a cron schedule when `heartbeatMinutes` is not set. */
export const DEFAULT_CRON_HEARTBEAT_MINUTES = 1440;
/**
 * The longest schedule period the heartbeat alarm can watch: three periods must fit in CloudWatch's
 * 7-day alarm evaluation range (56 hours x 3 = 7 days).
 */
export const MAX_HEARTBEAT_MINUTES = 3360;

const SCHEDULE_EXPECTED = 'expected rate(N minutes|hours|days) or cron(...)';
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;

const MINUTES_PER_UNIT: Record<string, number> = { minute: 1, hour: 60, day: 1440 };

/**
 * The period of a `rate(...)` expression in minutes, or null for a cron expression.
 * Assumes an expression already accepted by the schema.
 */
export function ratePeriodMinutes(expression: string): number | null {
  const m = RATE.exec(expression);
  if (!m) return null;
  const unit = m[2]!.replace(/s$/, '');
  return Number(m[1]) * MINUTES_PER_UNIT[unit]!;
}

/**
 * One schedule period in minutes: the rate's period, or `heartbeatMinutes` for a cron schedule (the
 * longest expected gap between two runs). The function's timeout, its async event age and the
 * schedule's retry window are bounded by it.
 */
export function schedulePeriodMinutes(config: {
  readonly schedule: string;
  readonly heartbeatMinutes?: number;
}): number {
  return ratePeriodMinutes(config.schedule) ?? config.heartbeatMinutes ?? DEFAULT_CRON_HEARTBEAT_MINUTES;
}

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly special: RegExp | null;
  readonly allowed: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, special: null, allowed: '0-59 with , - * /' },
  { name: 'hours', min: 0, max: 23, special: null, allowed: '0-23 with , - * /' },
  {
    name: 'day-of-month',
    min: 1,
    max: 31,
    special: /^(?:\?|L|LW|L-\d{1,2}|\d{1,2}W)$/,
    allowed: '1-31 with , - * ? / L W',
  },
  { name: 'month', min: 1, max: 12, names: MONTHS, special: null, allowed: '1-12 or JAN-DEC with , - * /' },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    special: /^(?:\?|L|[1-7]L|(?:[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5])$/,
    allowed: '1-7 or SUN-SAT with , - * ? L #',
  },
  { name: 'year', min: 1970, max: 2199, special: null, allowed: '1970-2199 with , - * /' },
];

function cronValue(text: string, field: CronField): boolean {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max;
  }
  return field.names?.includes(text.toUpperCase()) ?? false;
}

function cronItem(item: string, field: CronField): boolean {
  if (field.special?.test(item.toUpperCase())) return true;
  const [range, step, ...rest] = item.split('/');
  if (rest.length > 0 || range === undefined) return false;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1)) return false;
  if (range === '*') return true;
  const bounds = range.split('-');
  if (bounds.length > 2 || !bounds.every((b) => cronValue(b, field))) return false;
  return true;
}

/** Why a cron expression's fields are wrong, or null when they are syntactically valid. */
function cronProblem(expression: string, body: string): string | null {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length} in "${expression}"`;
  }
  for (const [i, field] of CRON_FIELDS.entries()) {
    const text = fields[i]!;
    const items = text.split(',');
    const ok = items.every((item) => cronItem(item, field)) && (items.length === 1 || !items.includes('?'));
    if (!ok) return `cron ${field.name} field "${text}" is not valid (${field.allowed}) in "${expression}"`;
  }
  const dom = fields[2]!;
  const dow = fields[4]!;
  if ((dom === '?') === (dow === '?')) {
    return `cron day-of-month "${dom}" and day-of-week "${dow}": exactly one of them must be "?" in "${expression}"`;
  }
  return null;
}

/** Why a schedule expression is wrong, or null when EventBridge Scheduler would accept its syntax. */
function scheduleProblem(value: unknown): string | null {
  if (typeof value !== 'string') return `${SCHEDULE_EXPECTED}, got ${describeValue(value)}`;
  const rate = RATE.exec(value);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!;
    if (n < 1) return `rate value must be at least 1, got "${value}"`;
    if (n === 1 && unit.endsWith('s'))
      return `"${value}" must use the singular unit: rate(1 ${unit.slice(0, -1)})`;
    if (n > 1 && !unit.endsWith('s')) return `"${value}" must use the plural unit: rate(${n} ${unit}s)`;
    const minutes = ratePeriodMinutes(value)!;
    if (minutes > MAX_HEARTBEAT_MINUTES) {
      return `"${value}" is longer than 56 hours; the heartbeat alarm (three periods) must fit in CloudWatch's 7-day alarm window`;
    }
    return null;
  }
  const cron = CRON.exec(value);
  if (cron) return cronProblem(value, cron[1]!);
  return `${SCHEDULE_EXPECTED}, got ${describeValue(value)}`;
}

function isTimeZone(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** `schedule`: a rate or cron expression EventBridge Scheduler accepts, within the heartbeat's reach. */
export const scheduleSchema = z
  .string({ error: (iss) => `${SCHEDULE_EXPECTED}, got ${describeValue(iss.input)}` })
  .superRefine((value, ctx) => {
    const problem = scheduleProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', input: value, message: problem });
  });

const timeZoneError: ErrorFor = (iss) =>
  `expected an IANA time zone such as "Europe/Berlin" or "UTC", got ${describeValue(iss.input)}`;

/** `timeZone`: an IANA time zone name the runtime knows. */
export const timeZoneSchema = z.string({ error: timeZoneError }).refine(isTimeZone, { error: timeZoneError });

/** `heartbeatMinutes`: the longest expected gap between two runs. */
export const heartbeatMinutesSchema = wholeNumber(1, MAX_HEARTBEAT_MINUTES);

/**
 * What is wrong between the schedule's period and the fields it bounds, each valid by itself:
 * `heartbeatMinutes` shorter than a rate's period, or `timeoutSeconds` not shorter than one period.
 */
export function schedulePeriodProblem(c: {
  readonly schedule: string;
  readonly heartbeatMinutes?: number;
  readonly timeoutSeconds: number;
}): ConfigProblem | undefined {
  const period = ratePeriodMinutes(c.schedule);
  if (period !== null && c.heartbeatMinutes !== undefined && c.heartbeatMinutes < period) {
    return {
      input: c.heartbeatMinutes,
      path: ['heartbeatMinutes'],
      message: `must be at least the schedule's period (${period} minutes), got ${c.heartbeatMinutes}`,
    };
  }
  const periodMinutes = schedulePeriodMinutes(c);
  if (c.timeoutSeconds >= periodMinutes * 60) {
    const what =
      period !== null
        ? `the period of ${c.schedule}`
        : `heartbeatMinutes ${periodMinutes}, the period of the cron schedule`;
    return {
      input: c.timeoutSeconds,
      path: ['timeoutSeconds'],
      message: `must be shorter than one schedule period (${periodMinutes * 60} seconds: ${what}), got ${c.timeoutSeconds}`,
    };
  }
  return undefined;
}
