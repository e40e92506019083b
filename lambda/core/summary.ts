/**
 * What one summary message says about many changes: counts by severity, rule and account, the oldest
 * keys, the longest-open findings and the owners with the most. Pure: the same changes give the same
 * summary; the channel adapters render it (lambda/adapters/slack/message.ts). docs/alerts.md shows
 * each kind as it renders.
 */
import type { Change, ChangeKind } from './state';
import { type RuleId, SEVERITIES, type Severity, severityRank } from './types';

/**
 * Why changes are summarized instead of announced one by one:
 * - `baseline`: an account's first contact (no `#known` marker, nothing remembered) records what it finds;
 * - `roll-up`: the reminders of one reminder interval, as one message;
 * - `overflow`: the changes beyond the run's message cap.
 */
export type SummaryReason = 'baseline' | 'roll-up' | 'overflow';
export const SUMMARY_REASONS: readonly SummaryReason[] = ['baseline', 'roll-up', 'overflow'];

/** One finding as a summary lists it. */
export interface SummaryItem {
  readonly accountId: string;
  readonly user: string;
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly credential: string;
  /** The figure the rule measured (key age, days unused), in days. */
  readonly days?: number;
  readonly owner?: string;
  /** ISO time the finding was first announced (or baselined); absent for a finding new this run. */
  readonly firstSeen?: string;
}

export interface Summary {
  readonly reason: SummaryReason;
  /** Changes the summary stands for. */
  readonly total: number;
  /** Changes by kind (opened, escalated, reminder, resolved). */
  readonly byKind: Readonly<Record<ChangeKind, number>>;
  /** Open changes (all but `resolved`) by severity. */
  readonly bySeverity: Readonly<Record<Severity, number>>;
  /** Rules by count, most first (ties by rule id). */
  readonly byRule: readonly { readonly rule: RuleId; readonly count: number }[];
  /** Accounts by count, most first (ties by id). */
  readonly byAccount: readonly { readonly accountId: string; readonly count: number }[];
  /** The oldest access keys (rule access-key-age), oldest first, at most `top`. */
  readonly oldestKeys: readonly SummaryItem[];
  /** Findings open longest (earliest `firstSeen`), at most `top`; empty for a baseline. */
  readonly longestOpen: readonly SummaryItem[];
  /** Owners (`credwatch:owner`) by count, most first, at most `top`. */
  readonly topOwners: readonly { readonly owner: string; readonly count: number }[];
  /** Findings without an owner tag. */
  readonly withoutOwner: number;
  /**
   * A roll-up's news since the channel's last summary (the baseline or the previous roll-up), when
   * one is remembered: findings opened since then, findings announced worse since then, findings
   * resolved since then.
   */
  readonly sinceLast?: SinceLastSummary;
}

export interface SinceLastSummary {
  /** ISO time of the last summary. */
  readonly at: string;
  readonly opened: number;
  readonly escalated: number;
  readonly resolved: number;
}

const isSummary = (reason: SummaryReason | undefined) => reason === 'baseline' || reason === 'roll-up';

/**
 * What changed since a channel's last summary, from a roll-up's reminders (their remembered states)
 * and the times findings of the channel were resolved: the last summary is the latest time a
 * reminded finding was last announced in a baseline or roll-up. Undefined when none was.
 * @param resolvedAt ISO times at which the channel's findings were announced resolved (recent ones)
 * @param resolvedNow findings resolved by this run, counted as resolved since the last summary
 */
export function sinceLastSummary(
  reminders: readonly Change[],
  resolvedAt: readonly string[],
  resolvedNow = 0,
): SinceLastSummary | undefined {
  let last = Number.NEGATIVE_INFINITY;
  for (const c of reminders) {
    if (c.previous && isSummary(c.previous.announcedIn)) {
      last = Math.max(last, Date.parse(c.previous.lastNotifiedAt));
    }
  }
  if (!Number.isFinite(last)) return undefined;
  let opened = 0;
  let escalated = 0;
  for (const c of reminders) {
    const p = c.previous;
    if (!p) continue;
    if (Date.parse(p.firstSeen) > last) opened++;
    else if (!isSummary(p.announcedIn) && Date.parse(p.lastNotifiedAt) > last) escalated++;
  }
  const resolved = resolvedAt.filter((at) => Date.parse(at) > last).length + resolvedNow;
  return { at: new Date(last).toISOString(), opened, escalated, resolved };
}

const item = (c: Change): SummaryItem => {
  const f = c.finding;
  return {
    accountId: f.accountId,
    user: f.user,
    rule: f.rule,
    severity: f.severity,
    credential: f.credential,
    ...(f.days !== undefined ? { days: f.days } : {}),
    ...(f.owner ? { owner: f.owner } : {}),
    ...(c.previous?.firstSeen ? { firstSeen: c.previous.firstSeen } : {}),
  };
};

const byCountThenKey = <K extends string>(counts: Map<K, number>) =>
  [...counts.entries()].sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : ka > kb ? 1 : 0));

const tally = <K extends string>(keys: readonly K[]) => {
  const counts = new Map<K, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return byCountThenKey(counts);
};

/** Same severity order everywhere: most severe first, then id. */
const bySeverityThenId = (a: Change, b: Change) =>
  severityRank(b.finding.severity) - severityRank(a.finding.severity) ||
  (a.finding.id < b.finding.id ? -1 : a.finding.id > b.finding.id ? 1 : 0);

/**
 * The summary of `changes` for `reason`.
 * @param top how many oldest keys, longest-open findings and owners to list (default 5)
 */
export function summarize(reason: SummaryReason, changes: readonly Change[], top = 5): Summary {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byKind: Record<ChangeKind, number> = { opened: 0, escalated: 0, reminder: 0, resolved: 0 };
  for (const c of changes) {
    // What is still open: a resolved change counts by kind, not by severity.
    if (c.kind !== 'resolved') bySeverity[c.finding.severity]++;
    byKind[c.kind]++;
  }
  const oldestKeys = changes
    .filter(
      (c) => c.kind !== 'resolved' && c.finding.rule === 'access-key-age' && c.finding.days !== undefined,
    )
    .sort((a, b) => b.finding.days! - a.finding.days! || bySeverityThenId(a, b))
    .slice(0, top)
    .map(item);
  const longestOpen = changes
    .filter((c) => c.kind !== 'resolved' && c.previous?.firstSeen !== undefined)
    .sort(
      (a, b) =>
        Date.parse(a.previous!.firstSeen) - Date.parse(b.previous!.firstSeen) || bySeverityThenId(a, b),
    )
    .slice(0, top)
    .map(item);
  const owned = changes.flatMap((c) => (c.finding.owner ? [c.finding.owner] : []));
  return {
    reason,
    total: changes.length,
    byKind,
    bySeverity,
    byRule: tally(changes.map((c) => c.finding.rule)).map(([rule, count]) => ({ rule, count })),
    byAccount: tally(changes.map((c) => c.finding.accountId)).map(([accountId, count]) => ({
      accountId,
      count,
    })),
    oldestKeys,
    longestOpen,
    topOwners: tally(owned)
      .slice(0, top)
      .map(([owner, count]) => ({ owner, count })),
    withoutOwner: changes.length - owned.length,
  };
}
