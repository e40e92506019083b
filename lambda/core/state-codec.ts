/**
 * Decoding remembered states: what the state table (or any store) holds is input like any other and
 * is checked against a schema before it is used. A state that does not decode is reported by id with
 * what is wrong, and treated as absent: the scan then announces its finding again rather than stay
 * silent, and the next write of that id replaces it. Pure: the clock is passed in.
 */
import { z } from 'zod';
import type { EnforcementAction } from './enforcement';
import { CHANNEL_NAME, CHANNEL_NAME_RULE } from './routing';
import type { Change, FindingState } from './state';
import { SUMMARY_REASONS } from './summary';
import { type Finding, RULE_IDS, SEVERITIES } from './types';

/** A state that could not be read: its id (the item's sort key) and why. */
export interface UnreadableState {
  readonly id: string;
  readonly problem: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const isoTime = z
  .string()
  .refine((v) => ISO.test(v) && !Number.isNaN(Date.parse(v)), { error: 'expected an ISO time' });
const text = z.string().min(1);
const days = z.int().min(0).optional();
const channelName = z
  .string()
  .regex(CHANNEL_NAME, { error: `expected a channel name (${CHANNEL_NAME_RULE})` });

const findingSchema = z.object({
  id: text,
  accountId: text,
  user: text,
  arn: z.string(),
  rule: z.enum(RULE_IDS as [string, ...string[]]),
  severity: z.enum(SEVERITIES as [string, ...string[]]),
  credential: text,
  accessKeyId: text.optional(),
  days,
  thresholdDays: days,
  lastUsed: z
    .object({ date: isoTime, service: z.string().optional(), region: z.string().optional() })
    .nullable()
    .optional(),
  owner: text.optional(),
  exemption: z.object({ until: text, reason: z.string() }).optional(),
  summary: z.string(),
});

const stateSchema = z.object({
  id: text,
  accountId: text,
  status: z.enum(['open', 'resolved']),
  notifiedSeverity: z.enum(SEVERITIES as [string, ...string[]]),
  firstSeen: isoTime,
  lastNotifiedAt: isoTime,
  scanTime: isoTime,
  finding: findingSchema,
  announcedIn: z.enum(SUMMARY_REASONS as [string, ...string[]]).optional(),
  channel: channelName.optional(),
  thread: z
    .object({
      conversation: z.string().regex(/^[CGD][A-Z0-9]{2,40}$/, { error: 'expected a Slack conversation id' }),
      ts: z.string().regex(/^\d{1,12}\.\d{1,9}$/, { error: 'expected a Slack message ts (digits.digits)' }),
    })
    .optional(),
});

/** A zod error as one line: the first issue, with its path (`finding.rule: …`). */
export function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  return `${path === '' ? '' : `${path}: `}${issue.message}`;
}

/**
 * A stored state, checked.
 * @param raw the state as stored (already out of its storage format: `finding` as an object)
 * @param now this run's clock
 * @param skewMs how far a scan time may lie ahead of `now` (clocks of two runs differ)
 */
export function decodeState(
  raw: unknown,
  now: Date,
  skewMs: number,
): { readonly state: FindingState } | { readonly problem: string } {
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) return { problem: describe(parsed.error) };
  const s = parsed.data;
  if (s.finding.id !== s.id) return { problem: `finding.id "${s.finding.id}" is not the item's id` };
  if (s.finding.accountId !== s.accountId) {
    return { problem: `finding.accountId "${s.finding.accountId}" is not the item's account ${s.accountId}` };
  }
  if (Date.parse(s.scanTime) > now.getTime() + skewMs) {
    return { problem: `scanTime ${s.scanTime} lies in the future; no run can have written it` };
  }
  return { state: s as unknown as FindingState & { finding: Finding } };
}

const changeSchema = z.object({
  kind: z.enum(['opened', 'escalated', 'reminder', 'resolved']),
  finding: findingSchema,
  previous: stateSchema.optional(),
  channel: channelName.optional(),
  mirror: z.literal(true).optional(),
});

/** A change as stored in the event outbox, checked. */
export function decodeChange(raw: unknown): { readonly change: Change } | { readonly problem: string } {
  const parsed = changeSchema.safeParse(raw);
  if (!parsed.success) return { problem: describe(parsed.error) };
  return { change: parsed.data as unknown as Change };
}

/** The longest `credential`, `reason` or `runId` an action may carry. */
export const ACTION_TEXT_MAX = 500;
/** The longest `actor` (a role ARN: IAM allows 2048 characters). */
const ACTOR_MAX = 2048;
const bounded = (max: number) =>
  z
    .string()
    .min(1, { error: 'expected a non-empty string' })
    .max(max, { error: `expected at most ${max} characters` });

/**
 * An enforcement action (lambda/core/enforcement.ts) as stored. Unknown attributes are dropped, not
 * refused: a later release may add one, and its items must still read here.
 */
const actionSchema = z.object({
  kind: z.enum(['deactivated', 'reactivation-seen']),
  accountId: z.string().regex(/^\d{12}$/, { error: 'expected a 12-digit account id' }),
  user: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, { error: 'expected an IAM user name (1-64 of A-Za-z0-9_+=,.@-)' }),
  accessKeyId: z
    .string()
    .regex(/^[A-Z0-9]{16,128}$/, { error: 'expected an access key id (16-128 of A-Z0-9)' }),
  credential: bounded(ACTION_TEXT_MAX),
  at: isoTime,
  reason: bounded(ACTION_TEXT_MAX),
  runId: bounded(ACTION_TEXT_MAX),
  actor: bounded(ACTOR_MAX).optional(),
  noticeAt: isoTime.optional(),
});

/**
 * A recorded enforcement action, checked: what the state store reads back, and what it refuses to
 * write. @returns the action, or the problem as one line naming the field (`accessKeyId: …`)
 */
export function decodeAction(
  raw: unknown,
): { readonly action: EnforcementAction } | { readonly problem: string } {
  const parsed = actionSchema.safeParse(raw);
  if (!parsed.success) return { problem: describe(parsed.error) };
  const { actor, noticeAt, ...required } = parsed.data;
  return {
    action: {
      ...required,
      ...(actor !== undefined ? { actor } : {}),
      ...(noticeAt !== undefined ? { noticeAt } : {}),
    },
  };
}
