/**
 * Decoding remembered states: what the state table (or any store) holds is input like any other and
 * is checked against a schema before it is used. A state that does not decode is reported by id with
 * what is wrong, and treated as absent: the scan then announces its finding again rather than stay
 * silent, and the next write of that id replaces it. Pure: the clock is passed in.
 */
import { z } from 'zod';
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
});

/** A change as stored in the event outbox, checked. */
export function decodeChange(raw: unknown): { readonly change: Change } | { readonly problem: string } {
  const parsed = changeSchema.safeParse(raw);
  if (!parsed.success) return { problem: describe(parsed.error) };
  return { change: parsed.data as unknown as Change };
}
