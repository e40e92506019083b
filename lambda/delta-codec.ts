/**
 * An account's delta as a state machine's child wrote it to the run bucket (lambda/steps.ts), read
 * back by the deliver step: stored data is input, checked before it is used. The changes and states
 * inside are checked with the schemas of the state table (lambda/core/state-codec.ts).
 */
import { z } from 'zod';
import type { Change, FindingState } from './core/state';
import { decodeChange, decodeState, describe } from './core/state-codec';
import type { AccountDelta } from './monitor';

const changes = z.array(z.unknown());

const deltaSchema = z.object({
  accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id'),
  name: z.string().optional(),
  scan: z
    .looseObject({
      accountId: z.string(),
      findings: z.array(z.looseObject({ id: z.string() })),
      counts: z.object({ critical: z.number(), warning: z.number(), info: z.number() }),
      iamCalls: z.record(z.string(), z.number()),
      warnings: z.array(z.looseObject({ message: z.string() })),
    })
    .optional(),
  error: z.object({ name: z.string(), message: z.string() }).optional(),
  changes,
  rollUp: changes.optional(),
  dueChannels: z.array(z.string()).optional(),
  resolvedAt: z.array(z.object({ channel: z.string(), at: z.string() })).optional(),
  baseline: z.boolean(),
  known: z.boolean().optional(),
  keepName: z.boolean().optional(),
  migrations: z.array(z.object({ from: z.unknown(), to: z.unknown() })),
  retired: z.array(z.unknown()).optional(),
  misplaced: z.array(z.unknown()).optional(),
  skippedAsStale: z.array(z.string()),
  unreadable: z.array(z.object({ id: z.string(), problem: z.string() })),
});

const decodeAll = (
  list: readonly unknown[],
  field: string,
): { readonly changes: Change[] } | { readonly problem: string } => {
  const out: Change[] = [];
  for (const [i, c] of list.entries()) {
    const decoded = decodeChange(c);
    if ('problem' in decoded) return { problem: `${field}.${i}: ${decoded.problem}` };
    out.push(decoded.change);
  }
  return { changes: out };
};

/**
 * A stored delta's `rollUp` read on its own (the deliver step reads it only when a roll-up is due),
 * checked as {@link decodeDelta} checks it; absent: none.
 */
export function decodeRollUp(raw: unknown): { readonly rollUp?: Change[] } | { readonly problem: string } {
  if (raw === undefined) return {};
  const parsed = changes.safeParse(raw);
  if (!parsed.success) return { problem: `rollUp: ${describe(parsed.error)}` };
  const decoded = decodeAll(parsed.data, 'rollUp');
  return 'problem' in decoded ? decoded : { rollUp: decoded.changes };
}

/**
 * A stored delta, checked: the whole shape, then every change and migrated state.
 * @param now the run's clock (a migrated state's scan time may not lie after it by more than the skew)
 */
export function decodeDelta(
  raw: unknown,
  now: Date,
  skewMs: number,
): { readonly delta: AccountDelta } | { readonly problem: string } {
  const parsed = deltaSchema.safeParse(raw);
  if (!parsed.success) return { problem: describe(parsed.error) };
  const d = parsed.data;
  const main = decodeAll(d.changes, 'changes');
  if ('problem' in main) return { problem: main.problem };
  const rollUp = d.rollUp ? decodeAll(d.rollUp, 'rollUp') : undefined;
  if (rollUp && 'problem' in rollUp) return { problem: rollUp.problem };
  for (const [i, m] of d.migrations.entries()) {
    for (const side of ['from', 'to'] as const) {
      const state = decodeState(m[side], now, skewMs);
      if ('problem' in state) return { problem: `migrations.${i}.${side}: ${state.problem}` };
    }
  }
  const states: Partial<Record<'retired' | 'misplaced', FindingState[]>> = {};
  for (const field of ['retired', 'misplaced'] as const) {
    const list = d[field];
    if (list === undefined) continue;
    const out: FindingState[] = [];
    for (const [i, raw] of list.entries()) {
      const state = decodeState(raw, now, skewMs);
      if ('problem' in state) return { problem: `${field}.${i}: ${state.problem}` };
      out.push(state.state);
    }
    states[field] = out;
  }
  return {
    delta: {
      ...(d as unknown as AccountDelta),
      changes: main.changes,
      ...(rollUp && 'changes' in rollUp ? { rollUp: rollUp.changes } : {}),
      ...states,
    },
  };
}
