/**
 * The ports the scan use case depends on. Adapters in lambda/adapters implement them; tests and the
 * CLI can supply their own. Nothing here does I/O.
 */
import type { SlackMessage } from './core/slack-message';
import type { Change, FindingState } from './core/state';
import type { UnreadableState } from './core/state-codec';
import type { LastUse } from './core/types';

export interface CredentialReport {
  /** The CSV text of the report. */
  readonly csv: string;
  /** When IAM generated it; null when unknown (a file given to the CLI). */
  readonly generatedAt: Date | null;
}

export type ProgressListener = (message: string) => void;

/** Where the credential report comes from: IAM (generate, poll, get) or a file. */
export interface ReportSource {
  getReport(onProgress?: ProgressListener): Promise<CredentialReport>;
}

export interface LiveUser {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: Date;
  readonly tags: Readonly<Record<string, string>>;
}

export interface LiveAccessKey {
  readonly id: string;
  readonly active: boolean;
  readonly createdAt: Date;
}

/**
 * Live IAM reads used to bring a (up to 4 hours old) report up to date and to read user tags.
 * Every method reads; none writes.
 */
export interface IamDirectory {
  /** Every IAM user with its tags, in O(users/1000) calls. */
  listUsers(): Promise<LiveUser[]>;
  /** The user's access keys now, or null when the user no longer exists. */
  listAccessKeys(userName: string): Promise<LiveAccessKey[] | null>;
  /** Last use of a key, or null when it was never used (or the key no longer exists). */
  getAccessKeyLastUsed(accessKeyId: string): Promise<LastUse | null>;
  /** The account alias shown in Slack, or undefined when the account has none. */
  accountAlias(): Promise<string | undefined>;
}

/** Counts of the IAM calls a scan made, by action (e.g. `ListAccessKeys`). */
export interface IamCallCounter {
  /** Logical calls, one per operation invoked. */
  calls(): Record<string, number>;
  /** HTTP requests sent, retries included. */
  requests(): Record<string, number>;
}

/** An account's remembered states, and the stored items that did not decode (treated as absent). */
export interface LoadedStates {
  readonly states: FindingState[];
  readonly unreadable: readonly UnreadableState[];
}

/** Remembered finding states (lambda/core/state.ts), per account. */
export interface StateStore {
  load(accountId: string): Promise<LoadedStates>;
  /** Writes states; a state older than the stored one is skipped (newer scans win). */
  commit(
    states: FindingState[],
  ): Promise<{ readonly written: number; readonly skippedAsStale: readonly string[] }>;
}

/** Delivers digest messages in order, stopping at the first one not delivered. */
export interface Notifier {
  sendAll(
    messages: readonly SlackMessage[],
    options?: { readonly deadline?: number },
  ): Promise<{ readonly delivered: number; readonly error?: Error }>;
}

/** Publishes one event per change (EventBridge). */
export interface EventSink {
  publish(changes: readonly Change[]): Promise<void>;
}
