/**
 * Which changes a channel hears one by one and which in a summary: the notification policy of
 * docs/alerts.md ("At scale"). Pure: the channel adapters render the posts, the use case delivers them.
 *
 * - **Baseline**: an account's first contact (no `#known` marker: no earlier run scanned it and delivered
 *   all it had to say; nothing remembered about it) records every finding
 *   and posts one summary instead of each; individual announcements start from the next change.
 * - **Roll-up**: the reminders of a run are one summary message, plus one message per owner
 *   (`credwatch:owner`) listing only that owner's credentials.
 * - **Cap**: no run posts more than `maxMessagesPerRun` messages to a channel; the changes beyond
 *   it are one overflow summary, remembered as announced there (not lost, not repeated).
 */
import { isEnforcementRule } from './enforcement';
import { ConfigError } from './errors';
import { checkMirrors, checkRoutes, DEFAULT_CHANNEL, type Mirrors, type Route } from './routing';
import type { Change } from './state';
import {
  mergeTallies,
  type Summary,
  type SummaryReason,
  type SummaryTally,
  sinceLastSummary,
  summarize,
  summaryOf,
  tallyChanges,
} from './summary';

export type ReminderMode = 'roll-up' | 'per-finding';
export const REMINDER_MODES: readonly ReminderMode[] = ['roll-up', 'per-finding'];

export interface NotificationPolicy {
  /** The first scan of an account posts a summary instead of every finding. */
  readonly baseline: boolean;
  /** Reminders as one roll-up (and a message per owner), or each finding again. */
  readonly reminders: ReminderMode;
  /** The most messages a run posts to one channel; at least 2 (a message and the overflow summary). */
  readonly maxMessagesPerRun: number;
  /**
   * Which channel hears about which finding (lambda/core/routing.ts): the first matching route's.
   * @default none: every finding goes to the default channel
   */
  readonly routes?: readonly Route[];
  /** Where findings no route matches go. @default DEFAULT_CHANNEL (`default`) */
  readonly defaultChannel?: string;
  /**
   * The channels that announce a channel's findings too, each with its own lifecycle of them
   * (lambda/core/routing.ts, lambda/core/lanes.ts). @default none
   */
  readonly mirrors?: Mirrors;
}

/** The defaults, in one place (lib/config reads them for its documentation and defaults). */
export const DEFAULT_NOTIFICATION_POLICY: NotificationPolicy = {
  baseline: true,
  reminders: 'roll-up',
  maxMessagesPerRun: 10,
  routes: [],
  defaultChannel: DEFAULT_CHANNEL,
};

/** Bounds of `maxMessagesPerRun`. */
export const MESSAGE_CAP_BOUNDS = { min: 2, max: 1000 } as const;

/** Every change announced in its own entry, as before baselines and roll-ups: `baseline: false`, per-finding reminders, the highest cap. */
export const ANNOUNCE_EVERYTHING: NotificationPolicy = {
  baseline: false,
  reminders: 'per-finding',
  maxMessagesPerRun: MESSAGE_CAP_BOUNDS.max,
};

/**
 * One thing a channel posts. `carries` are the changes remembered when the channel accepted it: an
 * owner's list carries that owner's reminders, so a list that was not delivered is due again; the
 * roll-up before it carries the reminders without an owner (it summarizes them all).
 */
export type Post =
  | { readonly kind: 'digest'; readonly carries: readonly Change[] }
  | { readonly kind: 'summary'; readonly summary: Summary; readonly carries: readonly Change[] }
  | {
      readonly kind: 'owner';
      readonly owner: string;
      /** The owner's findings, as the list shows them, and what it carries. */
      readonly carries: readonly Change[];
    };

/** @throws ConfigError when the policy is out of bounds, or a route is not usable (routing.ts `checkRoutes`). */
export function checkPolicy(policy: NotificationPolicy): NotificationPolicy {
  const cap = policy.maxMessagesPerRun;
  if (!Number.isInteger(cap) || cap < MESSAGE_CAP_BOUNDS.min || cap > MESSAGE_CAP_BOUNDS.max) {
    throw new ConfigError(
      `notifications: maxMessagesPerRun must be a whole number from ${MESSAGE_CAP_BOUNDS.min} to ${MESSAGE_CAP_BOUNDS.max}, got ${cap}`,
    );
  }
  if (!REMINDER_MODES.includes(policy.reminders)) {
    throw new ConfigError(
      `notifications: reminders must be one of ${REMINDER_MODES.join(', ')}, got ${String(policy.reminders)}`,
    );
  }
  checkRoutes(policy.routes ?? [], policy.defaultChannel ?? DEFAULT_CHANNEL);
  checkMirrors(policy.mirrors, policy.routes ?? [], policy.defaultChannel ?? DEFAULT_CHANNEL);
  return policy;
}

/**
 * The posts of one channel for a run's changes (in diff order), in the order they are sent: the
 * baseline summary, then the individual digest (new, escalated, resolved; and reminders in
 * `per-finding` mode), then the roll-up and the owners' lists (sorted by owner).
 * @param baselined the accounts whose changes of this run are a baseline (first contact)
 * @param resolvedAt when the channel's findings were announced resolved, recently (ISO times): the
 *   roll-up says how many since the last summary
 * @param held the tally of baselined changes of the channel that are not among `changes` (the caller
 *   does not hold them: an organization's first scan, lambda/monitor.ts `HeldBaseline`): the baseline
 *   summary stands for them too, and the caller remembers them when the channel accepts it
 * @param otherParts open findings of the channel this roll-up leaves to its other parts (a roll-up
 *   larger than one run holds: lambda/steps.ts `ROLL_UP_PART`): the roll-up says how many
 */
export function planPosts(
  changes: readonly Change[],
  baselined: ReadonlySet<string>,
  policy: NotificationPolicy,
  resolvedAt: readonly string[] = [],
  held?: SummaryTally,
  otherParts?: number,
): Post[] {
  const baseline: Change[] = [];
  const rollUp: Change[] = [];
  const individual: Change[] = [];
  for (const c of changes) {
    if (isBaselined(c, baselined, policy)) baseline.push(c);
    else if (c.kind === 'reminder' && policy.reminders === 'roll-up') rollUp.push(c);
    else individual.push(c);
  }
  const posts: Post[] = [];
  // Baselined changes the caller does not hold count in the summary too; it carries only the ones
  // held here (the caller remembers the others when the channel accepts it).
  if (baseline.length > 0 || (held && held.total > 0)) posts.push(summaryPost('baseline', baseline, held));
  if (individual.length > 0) posts.push({ kind: 'digest', carries: individual });
  if (rollUp.length > 0) {
    // Resolved in this run (in its digest) counts as resolved since the last summary too.
    const resolvedNow = individual.filter((c) => c.kind === 'resolved').length;
    const sinceLast = sinceLastSummary(rollUp, resolvedAt, resolvedNow);
    posts.push({
      kind: 'summary',
      summary: {
        ...summarize('roll-up', rollUp),
        ...(sinceLast ? { sinceLast } : {}),
        ...(otherParts ? { otherParts } : {}),
      },
      carries: rollUp.filter((c) => !c.finding.owner),
    });
    const byOwner = new Map<string, Change[]>();
    for (const c of rollUp) {
      if (!c.finding.owner) continue;
      const list = byOwner.get(c.finding.owner) ?? [];
      list.push(c);
      byOwner.set(c.finding.owner, list);
    }
    for (const owner of [...byOwner.keys()].sort()) {
      posts.push({ kind: 'owner', owner, carries: byOwner.get(owner)! });
    }
  }
  return posts;
}

/**
 * A change is baselined when its account is on first contact and it is a finding opening there:
 * never an account that could not be scanned (that is an operational alert, said at once), never an
 * enforcement notice or action (lambda/core/enforcement.ts: a final notice must reach the channel
 * in its own entry before any deactivation counts from it).
 */
export function isBaselined(c: Change, baselined: ReadonlySet<string>, policy: NotificationPolicy): boolean {
  return (
    policy.baseline &&
    c.kind === 'opened' &&
    baselined.has(c.finding.accountId) &&
    c.finding.rule !== 'account-scan-failed' &&
    !isEnforcementRule(c.finding.rule)
  );
}

/**
 * Whether a change is a reminder of a finding said less than an interval ago: one a roll-up brings
 * in early (in its summary or an owner's list, or opened lately). A roll-up in parts leaves it out (an
 * earlier part said it, or the opening did), so that each part makes progress (lambda/steps.ts
 * `ROLL_UP_PART`).
 */
export function saidWithin(c: Change, now: Date, intervalMs: number): boolean {
  return (
    c.kind === 'reminder' &&
    c.previous !== undefined &&
    now.getTime() - Date.parse(c.previous.lastNotifiedAt) < intervalMs
  );
}

/** A summary of `changes`, and of the changes `more` tallies (not carried), carrying `changes`. */
const summaryPost = (reason: SummaryReason, changes: readonly Change[], more?: SummaryTally): Post => ({
  kind: 'summary',
  summary: more ? summaryOf(reason, mergeTallies([tallyChanges(changes), more])) : summarize(reason, changes),
  carries: changes,
});

/** A rendered message and what it carries (the channel adapter's unit of delivery). */
export interface Carrying {
  readonly carries: readonly Change[];
}

/**
 * Applies the cap to a channel's rendered messages: when there are more than `max`, the first
 * `max - 1` are kept and the rest are folded, to become one overflow summary of the changes they
 * carried (the caller renders it: `max` messages in all). Nothing is folded within the cap.
 */
export function capMessages<M extends Carrying>(
  messages: readonly M[],
  max: number,
): { readonly kept: readonly M[]; readonly folded: readonly M[] } {
  if (messages.length <= max) return { kept: messages, folded: [] };
  return { kept: messages.slice(0, max - 1), folded: messages.slice(max - 1) };
}
