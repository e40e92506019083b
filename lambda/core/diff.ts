/**
 * diff(findings, states, now) -> the changes a scan announces; nextStates(delivered, scanTime) -> what
 * to remember once they were delivered. Pure: no clock, no I/O. The lifecycle is described in
 * docs/alerts.md.
 */
import { ConfigError } from './errors';
import type { Change, ChangeKind, FindingState, PostedMessage } from './state';
import type { SummaryReason } from './summary';
import { type Finding, type RuleId, severityRank } from './types';

export interface DiffOptions {
  /** How long an open finding stays quiet before it is announced again (`reminder`). Must be > 0; `Infinity` turns reminders off. */
  readonly reminderIntervalMs: number;
  /**
   * Roll-up reminders (lambda/core/notification-plan.ts): when any open finding of the account is due
   * for its reminder, every other open one is reminded with it, so that the account's reminders fall
   * due together, once an interval, as one roll-up rather than a trickle of them. @default false
   */
  readonly alignReminders?: boolean;
  /**
   * Remind every open finding that has no other change, due or not: the roll-up of a run in which
   * some account's reminders are due, so that every account's reminders fall due together (one
   * roll-up a channel an interval). @default false
   */
  readonly remindAll?: boolean;
}

/** The order of kinds in a diff (and in a digest). */
export const CHANGE_KINDS: readonly ChangeKind[] = ['opened', 'escalated', 'reminder', 'resolved'];

/**
 * Rules announced once when they open (and when they resolve), whatever their severity, and never
 * reminded or escalated: notices such as an exemption taking effect.
 */
export const ANNOUNCED_ONCE: ReadonlySet<RuleId> = new Set<RuleId>([
  'exemption-granted',
  // Enforcement (lambda/core/enforcement.ts): a notice or an action is said once, when it happens.
  'access-key-final-notice',
  'access-key-deactivated',
  'access-key-deactivation-planned',
  'access-key-would-deactivate',
]);

/** A finding pages (counts for Slack) when it is a warning or critical, or a notice, and not exempted. */
export function pages(finding: Finding): boolean {
  return (
    (severityRank(finding.severity) >= severityRank('warning') || ANNOUNCED_ONCE.has(finding.rule)) &&
    finding.exemption === undefined
  );
}

/**
 * The changes between this scan's findings and the remembered states, in a deterministic order:
 * by kind (opened, escalated, reminder, resolved), then severity (most severe first), then id.
 *
 * - no open state for a paging finding: `opened` (also when the state is `resolved`: it came back);
 * - open, and more severe than the severity last announced: `escalated`;
 * - open, and `now - lastNotifiedAt >= reminderIntervalMs`: `reminder`, carrying the current finding;
 *   an unreadable `lastNotifiedAt` counts as due (announce rather than stay silent);
 * - open, but less severe than announced (critical -> warning): no change; the next reminder
 *   carries the lower severity;
 * - an open state whose id no longer pages (fixed, deleted, exempted, below warning): `resolved`,
 *   carrying the finding as last announced. A resolved state is never resolved again.
 *
 * Several findings with one id (which evaluate never produces) count once, the most severe.
 * @throws ConfigError when `reminderIntervalMs` is not a number > 0.
 */
export function diff(
  findings: readonly Finding[],
  states: readonly FindingState[],
  now: Date,
  options: DiffOptions,
): Change[] {
  const interval = options.reminderIntervalMs;
  if (typeof interval !== 'number' || Number.isNaN(interval) || interval <= 0) {
    throw new ConfigError(`diff: reminderIntervalMs must be a number > 0 (or Infinity), got ${interval}`);
  }
  const current = new Map<string, Finding>();
  for (const f of findings) {
    if (!pages(f)) continue;
    const seen = current.get(f.id);
    if (!seen || severityRank(f.severity) > severityRank(seen.severity)) current.set(f.id, f);
  }
  const byId = new Map<string, FindingState>();
  for (const s of states) byId.set(s.id, s);

  const changes: Change[] = [];
  for (const found of current.values()) {
    const previous = byId.get(found.id);
    const kind = announcement(found, previous, now, interval);
    if (!kind) continue;
    // Same id, same key (named by its creation time): a finding not read live this time keeps the
    // access key id it was announced with.
    const knownId = previous?.finding.accessKeyId;
    const finding = !found.accessKeyId && knownId ? { ...found, accessKeyId: knownId } : found;
    changes.push(previous ? { kind, finding, previous } : { kind, finding });
  }
  const due = new Set(changes.filter((c) => c.kind === 'reminder').map((c) => c.finding.accountId));
  if (options.remindAll) for (const f of current.values()) due.add(f.accountId);
  if ((options.alignReminders || options.remindAll) && due.size > 0) {
    const changed = new Set(changes.map((c) => c.finding.id));
    for (const found of current.values()) {
      const previous = byId.get(found.id);
      if (!due.has(found.accountId) || changed.has(found.id) || previous?.status !== 'open') continue;
      if (ANNOUNCED_ONCE.has(found.rule)) continue;
      const knownId = previous.finding.accessKeyId;
      const finding = !found.accessKeyId && knownId ? { ...found, accessKeyId: knownId } : found;
      changes.push({ kind: 'reminder', finding, previous });
    }
  }
  for (const previous of byId.values()) {
    if (previous.status === 'open' && !current.has(previous.id)) {
      changes.push({ kind: 'resolved', finding: previous.finding, previous });
    }
  }
  return changes.sort(compareChanges);
}

/**
 * What a paging finding would be announced as, given its remembered state: `opened` (no open state),
 * `escalated` (more severe than last announced), `reminder` (quiet for the interval), or null.
 * The scan uses it to confirm live only the findings about to be announced.
 */
export function announcement(
  finding: Finding,
  previous: FindingState | undefined,
  now: Date,
  reminderIntervalMs: number,
): Exclude<ChangeKind, 'resolved'> | null {
  if (previous?.status !== 'open') return 'opened';
  if (ANNOUNCED_ONCE.has(finding.rule)) return null;
  if (severityRank(finding.severity) > severityRank(previous.notifiedSeverity)) return 'escalated';
  if (reminderDue(previous, now, reminderIntervalMs)) return 'reminder';
  return null;
}

function reminderDue(state: FindingState, now: Date, interval: number): boolean {
  const last = Date.parse(state.lastNotifiedAt);
  return Number.isNaN(last) || now.getTime() - last >= interval;
}

/** Kind (opened, escalated, reminder, resolved), then severity (most severe first), then id. */
export function compareChanges(a: Change, b: Change): number {
  return (
    CHANGE_KINDS.indexOf(a.kind) - CHANGE_KINDS.indexOf(b.kind) ||
    severityRank(b.finding.severity) - severityRank(a.finding.severity) ||
    (a.finding.id < b.finding.id ? -1 : a.finding.id > b.finding.id ? 1 : 0)
  );
}

/**
 * The states to write after `delivered` changes were delivered by the scan at `scanTime`, one per
 * change, in the same order; `announcedIn` names the summary that announced them, if one did, and
 * `posted` the message that carried them when the channel can find it again (a Slack app channel):
 * it becomes the thread of the findings it opened. Changes that were not delivered must not be
 * passed: their state stays as it was, so the next scan announces them again (at-least-once).
 */
export function nextStates(
  delivered: readonly Change[],
  scanTime: Date,
  announcedIn?: SummaryReason,
  posted?: PostedMessage,
): FindingState[] {
  const at = scanTime.toISOString();
  return delivered.map(({ kind, finding, previous, channel }): FindingState => {
    // The thread of a finding is the message that first announced it in its own entry: kept while
    // the finding is in the same channel, started by an opening (or a first own entry) there.
    const sameChannel = previous !== undefined && previous.channel === channel;
    const kept = sameChannel && previous.status === 'open' && kind !== 'opened' ? previous.thread : undefined;
    const thread =
      kept ?? (posted && !announcedIn && kind !== 'resolved' && kind !== 'reminder' ? posted : undefined);
    const base = {
      id: finding.id,
      accountId: finding.accountId,
      lastNotifiedAt: at,
      scanTime: at,
      ...(announcedIn ? { announcedIn } : {}),
      ...(channel !== undefined ? { channel } : {}),
      ...(thread ? { thread } : {}),
    };
    if (kind === 'opened') {
      return { ...base, status: 'open', notifiedSeverity: finding.severity, firstSeen: at, finding };
    }
    const firstSeen = previous?.firstSeen ?? at;
    if (kind === 'resolved') {
      return {
        ...base,
        status: 'resolved',
        notifiedSeverity: previous?.notifiedSeverity ?? finding.severity,
        firstSeen,
        finding: previous?.finding ?? finding,
      };
    }
    // escalated, reminder
    return { ...base, status: 'open', notifiedSeverity: finding.severity, firstSeen, finding };
  });
}
