/**
 * How the configuration words what is wrong: the shared pieces every section's schema uses so that
 * each error is one line saying what is allowed and what was given (`expected a whole number from 1
 * to 900, got "ten"`), zod's own issues reworded the same way, and the `field.path` an error names.
 * Nothing here validates a field by itself.
 */
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';

/** A zod `error` option: the message of an issue about the given input. */
export type ErrorFor = (iss: { readonly input?: unknown }) => string;

/** A problem found across fields, after each field was valid by itself: added as a custom issue. */
export interface ConfigProblem {
  readonly path: (string | number)[];
  readonly input: unknown;
  readonly message: string;
}

/** A whole number in [min, max]; every failure says so in the same words. */
export const wholeNumber = (min: number, max: number) => {
  const error: ErrorFor = (iss) =>
    `expected a whole number from ${min} to ${max}, got ${describeValue(iss.input)}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
};

/**
 * A check that no item of a string list is listed twice.
 * @param key what makes two items the same @default the item itself
 */
export const listedOnce =
  (key: (item: string) => string = (item) => item) =>
  (items: readonly string[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    for (const [i, item] of items.entries()) {
      if (seen.has(key(item))) {
        ctx.addIssue({ code: 'custom', input: item, path: [i], message: `"${item}" is listed twice` });
        return;
      }
      seen.add(key(item));
    }
  };

type Bounded = { readonly minValue?: number | null; readonly maxValue?: number | null };

/** "expected a whole number from 1 to 3650", from the number schema an issue is about. */
function numberExpected(iss: z.core.$ZodRawIssue): string {
  // Checks (min/max) report their schema as `schema`; type errors report it as `inst`.
  const schema = ((iss as { schema?: Bounded }).schema ?? iss.inst) as Bounded | undefined;
  const min = schema?.minValue;
  const max = schema?.maxValue;
  const whole = iss.code === 'invalid_type' ? iss.expected === 'int' : true;
  const what = whole ? 'a whole number' : 'a number';
  if (
    typeof min === 'number' &&
    typeof max === 'number' &&
    Number.isSafeInteger(min) &&
    Number.isSafeInteger(max)
  ) {
    return `expected ${what} from ${min} to ${max}`;
  }
  return `expected ${what}`;
}

/** Error messages for zod's own issues (the ones the schema does not word itself). */
export function issueMessage(iss: z.core.$ZodRawIssue): string | undefined {
  const got = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type':
      if (iss.expected === 'int' || iss.expected === 'number') return `${numberExpected(iss)}, got ${got}`;
      if (iss.expected === 'object') return `expected an object, got ${got}`;
      if (iss.expected === 'array') return `expected an array, got ${got}`;
      return `expected a ${iss.expected}, got ${got}`;
    case 'too_small':
    case 'too_big':
      return iss.origin === 'number' ? `${numberExpected(iss)}, got ${got}` : undefined;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
      return `unknown field${shape ? `; allowed here: ${Object.keys(shape).join(', ')}` : ''}`;
    }
    default:
      return undefined;
  }
}

/** A field's path as errors name it: `accounts.ids[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
