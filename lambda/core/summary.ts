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
  /**
   * A roll-up in parts (larger than one run holds): the channel's open findings it leaves to its
   * other parts, said in an earlier run less than an interval ago or in the next runs. @default none
   */
  readonly otherParts?: number;
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

/**
 * What a summary is made of, gathered a batch of changes at a time: counts, each owner's count, and
 * the candidates for the top lists. Tallies of disjoint changes merge into the tally of them all
 * ({@link mergeTallies}), so a summary of more changes than are held at once is the summary of its
 * parts' tallies ({@link summaryOf}). Counts by key are `[key, count]` pairs (a key is user data: an
 * owner tag may be `__proto__`).
 */
export interface SummaryTally {
  readonly total: number;
  readonly byKind: Readonly<Record<ChangeKind, number>>;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  readonly byRule: readonly (readonly [RuleId, number])[];
  readonly byAccount: readonly (readonly [string, number])[];
  readonly byOwner: readonly (readonly [string, number])[];
  /** At most `top` of each, already in order, with the keys they are ordered by. */
  readonly oldestKeys: readonly RankedItem[];
  readonly longestOpen: readonly RankedItem[];
}

/** A summary item and what orders it: `rank` ascending (days descending, or first seen), then severity, then id. */
export interface RankedItem {
  readonly rank: number;
  readonly severity: number;
  readonly id: string;
  readonly item: SummaryItem;
}

const compareRanked = (a: RankedItem, b: RankedItem) =>
  a.rank - b.rank || b.severity - a.severity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const topOf = (items: readonly RankedItem[], top: number) => [...items].sort(compareRanked).slice(0, top);

const ranked = (c: Change, rank: number): RankedItem => ({
  rank,
  severity: severityRank(c.finding.severity),
  id: c.finding.id,
  item: item(c),
});

const count = <K>(counts: Map<K, number>, key: K, n = 1) => counts.set(key, (counts.get(key) ?? 0) + n);

/** A tally being gathered: its counts as Maps, every candidate for the top lists. */
function gathering() {
  return {
    total: 0,
    bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    byKind: { opened: 0, escalated: 0, reminder: 0, resolved: 0 } as Record<ChangeKind, number>,
    byRule: new Map<RuleId, number>(),
    byAccount: new Map<string, number>(),
    byOwner: new Map<string, number>(),
    oldestKeys: [] as RankedItem[],
    longestOpen: [] as RankedItem[],
  };
}

const gathered = (g: ReturnType<typeof gathering>, top: number): SummaryTally => ({
  total: g.total,
  byKind: g.byKind,
  bySeverity: g.bySeverity,
  byRule: [...g.byRule],
  byAccount: [...g.byAccount],
  byOwner: [...g.byOwner],
  oldestKeys: topOf(g.oldestKeys, top),
  longestOpen: topOf(g.longestOpen, top),
});

/** The tally of `changes` (the `top` candidates of each list kept). */
export function tallyChanges(changes: readonly Change[], top = 5): SummaryTally {
  const g = gathering();
  for (const c of changes) {
    const f = c.finding;
    g.total++;
    // What is still open: a resolved change counts by kind, not by severity.
    if (c.kind !== 'resolved') g.bySeverity[f.severity]++;
    g.byKind[c.kind]++;
    count(g.byRule, f.rule);
    count(g.byAccount, f.accountId);
    if (f.owner) count(g.byOwner, f.owner);
    if (c.kind !== 'resolved' && f.rule === 'access-key-age' && f.days !== undefined) {
      g.oldestKeys.push(ranked(c, -f.days));
    }
    if (c.kind !== 'resolved' && c.previous?.firstSeen !== undefined) {
      g.longestOpen.push(ranked(c, Date.parse(c.previous.firstSeen)));
    }
  }
  return gathered(g, top);
}

/** The tally of several tallies' changes (which are disjoint), `top` candidates of each list kept: linear in their size. */
export function mergeTallies(tallies: readonly SummaryTally[], top = 5): SummaryTally {
  const g = gathering();
  for (const t of tallies) {
    g.total += t.total;
    for (const s of SEVERITIES) g.bySeverity[s] += t.bySeverity[s];
    for (const k of Object.keys(g.byKind) as ChangeKind[]) g.byKind[k] += t.byKind[k];
    for (const [k, n] of t.byRule) count(g.byRule, k, n);
    for (const [k, n] of t.byAccount) count(g.byAccount, k, n);
    for (const [k, n] of t.byOwner) count(g.byOwner, k, n);
    g.oldestKeys.push(...t.oldestKeys);
    g.longestOpen.push(...t.longestOpen);
  }
  return gathered(g, top);
}

/** The summary a tally makes for `reason` (at most `top` owners listed). */
export function summaryOf(reason: SummaryReason, tally: SummaryTally, top = 5): Summary {
  const owners = byCountThenKey(new Map(tally.byOwner));
  return {
    reason,
    total: tally.total,
    byKind: { ...tally.byKind },
    bySeverity: { ...tally.bySeverity },
    byRule: byCountThenKey(new Map(tally.byRule)).map(([rule, count]) => ({ rule, count })),
    byAccount: byCountThenKey(new Map(tally.byAccount)).map(([accountId, count]) => ({ accountId, count })),
    oldestKeys: tally.oldestKeys.slice(0, top).map((r) => r.item),
    longestOpen: tally.longestOpen.slice(0, top).map((r) => r.item),
    topOwners: owners.slice(0, top).map(([owner, count]) => ({ owner, count })),
    withoutOwner: tally.total - owners.reduce((n, [, count]) => n + count, 0),
  };
}

/**
 * The summary of `changes` for `reason`.
 * @param top how many oldest keys, longest-open findings and owners to list (default 5)
 */
export function summarize(reason: SummaryReason, changes: readonly Change[], top = 5): Summary {
  return summaryOf(reason, tallyChanges(changes, top), top);
}
