/**
 * The rules' thresholds: the global `thresholds` section (its schema is the function's own,
 * lambda/core/policy.ts, so that the deployment, the CLI's `--config` and the function agree; see
 * docs/rules.md) and the per-account overrides of `accounts.thresholds`, each merged over the global
 * thresholds rule by rule and validated as complete thresholds. Which accounts may have an override
 * is the accounts section's check (accounts.ts).
 */
import type { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import { type Thresholds, thresholdsSchema } from '../../lambda/core/policy';
import { issueMessage } from './messages';

/** `thresholds`: every rule optional, defaults filled in (lambda/core/policy.ts). */
export { thresholdsSchema };

/**
 * Each per-account override merged over the global thresholds, rule by rule (a rule given replaces
 * the global rule as a whole, unset fields taking their defaults), and validated as complete thresholds.
 * Problems are added to `ctx` with their path under `accounts.thresholds`.
 */
export function mergeAccountThresholds(
  overrides: Readonly<Record<string, unknown>>,
  global: Thresholds,
  ctx: z.RefinementCtx,
): Record<string, Thresholds> {
  const merged: Record<string, Thresholds> = {};
  for (const [id, override] of Object.entries(overrides)) {
    const path = ['accounts', 'thresholds', id];
    if (typeof override !== 'object' || override === null || Array.isArray(override)) {
      ctx.addIssue({
        code: 'custom',
        input: override,
        path,
        message: `expected an object, got ${describeValue(override)}`,
      });
      continue;
    }
    const result = thresholdsSchema.safeParse(
      { ...global, ...override },
      { reportInput: true, error: issueMessage },
    );
    if (result.success) {
      merged[id] = result.data;
      continue;
    }
    const iss = result.error.issues[0]!;
    const keys = iss.code === 'unrecognized_keys' ? [iss.keys[0]!] : [];
    ctx.addIssue({
      code: 'custom',
      input: iss.input,
      path: [...path, ...iss.path, ...keys],
      message: iss.message,
    });
  }
  return merged;
}
