/**
 * Checks of construct props that the type system cannot make: a `Duration` or `Size` must be known at
 * synth time and a whole number of the unit the function's environment or CloudFormation carries it
 * in. Each failure is a one-line ConfigError naming the construct and the prop.
 */
import type { Duration, Size } from 'aws-cdk-lib';
import { SizeRoundingBehavior } from 'aws-cdk-lib';
import { ConfigError } from '../../lambda/core/errors';

export type DurationUnit = 'seconds' | 'minutes' | 'hours';

/**
 * `duration` as a whole number of `unit`s, at least `min` (default 1).
 * @param where `Construct: prop`, named in the error
 */
export function wholeDuration(where: string, duration: Duration, unit: DurationUnit, min = 1): number {
  if (duration.isUnresolved()) {
    throw new ConfigError(`${where}: must be known at synth time, got a token`);
  }
  let n: number;
  try {
    n =
      unit === 'seconds'
        ? duration.toSeconds({ integral: true })
        : unit === 'minutes'
          ? duration.toMinutes({ integral: true })
          : duration.toHours({ integral: true });
  } catch {
    throw new ConfigError(`${where}: expected a whole number of ${unit}, got ${exactly(duration)}`);
  }
  if (n < min) {
    throw new ConfigError(`${where}: expected at least ${min} ${unit}, got ${exactly(duration)}`);
  }
  return n;
}

/** A duration in the largest unit that holds it whole: `90 minutes`, `630 seconds`, `1500 ms`. */
function exactly(duration: Duration): string {
  const ms = duration.toMilliseconds({ integral: false });
  for (const [unit, unitMs] of [
    ['hours', 3_600_000],
    ['minutes', 60_000],
    ['seconds', 1000],
  ] as const) {
    if (ms !== 0 && Number.isInteger(ms / unitMs)) return `${ms / unitMs} ${unit}`;
  }
  return `${ms} ms`;
}

/** `size` as a whole number of mebibytes from `min` to `max`. */
export function wholeMebibytes(where: string, size: Size, min: number, max: number): number {
  if (size.isUnresolved()) throw new ConfigError(`${where}: must be known at synth time, got a token`);
  let mib: number;
  try {
    mib = size.toMebibytes({ rounding: SizeRoundingBehavior.FAIL });
  } catch {
    throw new ConfigError(
      `${where}: expected a whole number of MiB, got ${size.toMebibytes({ rounding: SizeRoundingBehavior.NONE })} MiB`,
    );
  }
  if (mib < min || mib > max) {
    throw new ConfigError(`${where}: expected ${min} to ${max} MiB, got ${mib} MiB`);
  }
  return mib;
}
