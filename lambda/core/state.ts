/**
 * What credwatch remembers between scans, per finding id, and the changes a scan produces.
 * Types only; the diff that computes changes lives in diff.ts.
 */
import type { SummaryReason } from './summary';
import type { Finding, Severity } from './types';

export type ChangeKind = 'opened' | 'escalated' | 'reminder' | 'resolved';

/** The remembered state of one finding (one item of the state table). */
export interface FindingState {
  /** The finding id (`account/user/rule/credential`). */
  readonly id: string;
  readonly accountId: string;
  readonly status: 'open' | 'resolved';
  /** Severity last announced in Slack. */
  readonly notifiedSeverity: Severity;
  /** ISO time the finding was first announced. */
  readonly firstSeen: string;
  /** ISO time of the last announcement (opened, escalated, reminder or resolved). */
  readonly lastNotifiedAt: string;
  /** ISO time of the scan that wrote this state; an older scan may never overwrite a newer one. */
  readonly scanTime: string;
  /** The finding as last announced, so a resolved message can say what was fixed. */
  readonly finding: Finding;
  /**
   * Set when the last announcement was a summary (a baseline, a roll-up, the overflow beyond the
   * message cap) rather than the finding's own entry. Absent in items written before it existed.
   */
  readonly announcedIn?: SummaryReason;
  /**
   * The channel the finding was last announced in (lambda/core/routing.ts). Absent in items written
   * before routing existed: they were all announced in the one channel there was, read as the
   * deployment's default channel.
   */
  readonly channel?: string;
  /**
   * The Slack message (of a channel reached with the app's bot token) whose entry first announced
   * the finding: its reminders and resolution are replies in that thread, and the message is
   * updated when the finding is resolved. Absent for findings announced through a webhook, in
   * Teams, or only in a summary, and in items written before it existed.
   */
  readonly thread?: PostedMessage;
}

/** A message a channel took, where it can be found again (a Slack conversation id and message `ts`). */
export interface PostedMessage {
  readonly conversation: string;
  readonly ts: string;
}

/** One thing a digest announces. */
export interface Change {
  readonly kind: ChangeKind;
  /** For `resolved`, the finding as it was last announced. */
  readonly finding: Finding;
  /** The remembered state before this scan, if any. */
  readonly previous?: FindingState;
  /**
   * The channel that announces it (lambda/core/routing.ts `routeChanges`); absent: the default
   * channel (a change made before routing, e.g. waiting in the event outbox).
   */
  readonly channel?: string;
  /**
   * Announced in a channel that mirrors the finding's own (lambda/core/lanes.ts): no event of its
   * own, the finding's events are those of its own channel's changes.
   */
  readonly mirror?: true;
}
