/**
 * The ports the scan use case depends on. Adapters in lambda/adapters implement them; tests and the
 * CLI can supply their own. Nothing here does I/O.
 */
import type { EnforcementAction } from './core/enforcement';
import type { Post } from './core/notification-plan';
import type { Change, FindingState, PostedMessage } from './core/state';
import type { UnreadableState } from './core/state-codec';
import type { SummaryReason } from './core/summary';
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
  /**
   * Whether the root user's MFA device is a virtual one (ListVirtualMFADevices, AssignmentStatus
   * Assigned: a device whose user is `arn:PARTITION:iam::ACCOUNT:root`); false when no virtual device
   * is assigned to it (a hardware device, or none). Optional: a directory without it leaves
   * root-virtual-mfa unjudged. @throws IamReadError naming the action when IAM refuses
   */
  rootMfaIsVirtual?(): Promise<boolean>;
}

/**
 * The one IAM write credwatch makes, only when enforcement is on in `enforce` mode
 * (docs/enforcement.md): it sets a key Inactive, and nothing else (it cannot activate or delete).
 */
export interface KeyDeactivator {
  /**
   * UpdateAccessKey with Status Inactive for the user's key. `gone` when IAM no longer knows the user
   * or key (NoSuchEntity): nothing to deactivate.
   * @throws IamWriteError naming the action, the user and the key when IAM refuses (AccessDenied, throttled past retries)
   */
  deactivateAccessKey(userName: string, accessKeyId: string): Promise<'deactivated' | 'gone'>;
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
  /**
   * An earlier run scanned the account and delivered all it had to say (its `known` marker): a
   * clean account is known too, so its first finding is announced, not baselined.
   */
  readonly known: boolean;
  /**
   * The name the account was last shown by (its IAM alias or Organizations name), kept on its `known`
   * marker: a run in which the account has no news of its own (a roll-up it is pulled into) shows it
   * by this name without reading the alias. @default none (a marker written before it was kept)
   */
  readonly knownName?: string;
  /** The enforcement actions recorded for the account (lambda/core/enforcement.ts): its audit trail. @default none */
  readonly actions?: readonly EnforcementAction[];
  /**
   * States not stored under their own key (lambda/contracts.ts `stateSortKey`): a state of a
   * channel other than the default one under the bare finding id, written before each channel had
   * its own state, or the default channel's under `<finding id>#<default>`, left by a change of
   * `defaultChannel`. Each is read as what it is (in `states` unless its channel holds a newer
   * one); {@link StateStore.relocate} moves them. @default none
   */
  readonly misplaced?: readonly FindingState[];
}

/** Remembered finding states (lambda/core/state.ts), per account. */
export interface StateStore {
  load(accountId: string): Promise<LoadedStates>;
  /** Writes states; a state older than the stored one is skipped (newer scans win). */
  commit(
    states: FindingState[],
  ): Promise<{ readonly written: number; readonly skippedAsStale: readonly string[] }>;
  /**
   * Records that these accounts were scanned and all their changes delivered (see `known`), each
   * with the name it was shown by when it has one (see `knownName`; a marker written again without
   * one keeps none). A store that does not keep the name has its markers written again whenever an
   * account's alias is read.
   */
  markKnown(accountIds: readonly string[], at: Date, names?: ReadonlyMap<string, string>): Promise<void>;
  /**
   * Records one enforcement action at once, before it is announced: the audit trail, and what a
   * later run reads to tell credwatch's deactivation from a person's (`LoadedStates.actions`).
   * Optional: a store without it cannot back enforcement (the scan refuses to act).
   */
  recordAction?(action: EnforcementAction): Promise<void>;
  /**
   * Moves states reported `misplaced` by {@link load} to their own key, unless a newer state is
   * there already, and removes them from where they were (only while they are still what was read
   * there). Silent: nothing is announced. A store whose keys never move has none.
   */
  relocate?(
    states: readonly FindingState[],
  ): Promise<{ readonly written: number; readonly skippedAsStale: readonly string[] }>;
}

/**
 * Records of messages a channel posted and may update later (a Slack channel of the app: the message
 * whose entries opened findings, updated when they are resolved). The body is the channel's own
 * (opaque here, checked by the channel when read back: stored state is input).
 */
export interface MessageRecords {
  getMessage(message: PostedMessage): Promise<string | undefined>;
  putMessage(message: PostedMessage, body: string, at: Date): Promise<void>;
}

/** Who holds the run lease, when a run could not take it. */
export interface RunLeaseHeld {
  readonly acquired: false;
  readonly heldBy: string;
  readonly until: Date;
}

/**
 * One run at a time, for an engine whose runs can outlast the schedule period (the Step Functions
 * engine; the single invocation has reserved concurrency 1): a run takes the lease before it scans
 * and gives it back when it delivered. A lease whose run died is free again at its `until`.
 */
export interface RunLease {
  acquire(runId: string, now: Date, until: Date): Promise<{ readonly acquired: true } | RunLeaseHeld>;
  /** Gives the lease back if `runId` holds it; nothing when another run does. */
  release(runId: string): Promise<void>;
  /** Who holds the lease past `now`, when another run than `runId` does (a consistent read). */
  heldByOther(runId: string, now: Date): Promise<RunLeaseHeld | undefined>;
  /**
   * Marks on the lease that `runId`'s delivery begins at `now` (once per run): refused when the run
   * no longer holds the lease (given back, ended, or taken by a later run), or when a delivery of the
   * run already began (a redriven or repeated deliver step would announce again what it sent).
   */
  beginDelivery(runId: string, now: Date): Promise<DeliveryStart>;
}

/** Whether a run's delivery may begin (RunLease `beginDelivery`). */
export type DeliveryStart =
  | { readonly began: true }
  | { readonly began: false; readonly why: 'lease-lost'; readonly heldBy?: string }
  | { readonly began: false; readonly why: 'already-began'; readonly since: Date };

/** What a digest is headed with. */
export interface DigestHeading {
  /** The account a digest about one account is headed by (the first scanned otherwise). */
  readonly accountId: string;
  readonly accountAlias?: string;
  /** Names (Organizations name or IAM alias) of the accounts, by id. */
  readonly accountNames: Readonly<Record<string, string>>;
  readonly scanTime: Date;
}

export interface NotifyOptions {
  /** Epoch ms after which no further message is started (the run's time is running out). */
  readonly deadline?: number;
  /**
   * The most messages to post (lambda/core/notification-plan.ts `capMessages`): beyond it, the last
   * message is one overflow summary carrying every change of the messages it replaces.
   * @default no cap
   */
  readonly maxMessages?: number;
  /**
   * Called after each message the channel accepted, with the changes it carried (none for an
   * owner's list) and the summary it was, if one, before the next message starts: the caller
   * remembers them there. A rejection stops delivery and is re-thrown. `posted` is where the message
   * can be found again, when the channel can (a Slack channel of the app: its conversation and `ts`):
   * the findings it opened are threaded under it.
   */
  readonly onDelivered: (
    changes: readonly Change[],
    announcedIn?: SummaryReason,
    posted?: PostedMessage,
  ) => Promise<void>;
}

export interface NotifyResult {
  /** Messages the changes took. */
  readonly messages: number;
  /** Messages the channel accepted, counted from the first. */
  readonly messagesDelivered: number;
  /** Why delivery stopped before the last message. */
  readonly error?: Error;
  /** Sends whose answer was lost (the message may have been posted) and that were retried once. */
  readonly uncertain: number;
}

/**
 * A channel that announces changes (Slack today): the posts of lambda/core/notification-plan.ts (a
 * digest of changes, summaries, owners' lists). It renders and splits them itself, applies the
 * message cap, and delivers the messages in order, stopping at the first one not delivered.
 */
export interface Notifier {
  notify(posts: readonly Post[], heading: DigestHeading, options: NotifyOptions): Promise<NotifyResult>;
}

/** Publishes one event per change (EventBridge). */
export interface EventSink {
  publish(changes: readonly Change[]): Promise<void>;
}

/** A change waiting to be published as an event. */
export interface OutboxEntry {
  readonly key: string;
  readonly change: Change;
}

/**
 * Events not yet published: written with the state of the message that announced them, removed once
 * EventBridge took them, so an event that could not be published is published by a later run.
 */
export interface EventOutbox {
  add(changes: readonly Change[], at: Date): Promise<void>;
  /**
   * Entries waiting, oldest first, and the stored entries among them that did not decode: a page of
   * at most `limit` entries after the entry keyed `after` (an earlier page's `next`), and where the
   * next page starts, when there may be one. @default every entry, in one answer
   */
  pending(options?: { readonly limit?: number; readonly after?: string }): Promise<{
    readonly entries: readonly OutboxEntry[];
    readonly unreadable: readonly UnreadableState[];
    readonly next?: string;
  }>;
  remove(keys: readonly string[]): Promise<void>;
}

/** One account a state machine's map scans: what discovery knew of it. */
export interface AccountItem {
  readonly id: string;
  /** Organizations name, when known. */
  readonly name?: string;
  /** OUs above it (parent first), when routes need them. */
  readonly organizationalUnits?: readonly string[];
  /** Its Organizations tags, when routes need them. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * What the steps of one state machine execution hand each other beyond the 256 KiB a state may
 * carry (lambda/steps.ts): the account list when it is too long to pass inline, and each account's
 * delta, written by the child that scanned it and read by the deliver step. Keyed by run id; every
 * object expires (the bucket's lifecycle). Values are checked when read back: a store is input.
 */
export interface RunStore {
  /** Writes the run's account list; returns where it is (the object key the map's ItemReader reads). */
  putAccounts(runId: string, accounts: readonly AccountItem[]): Promise<{ readonly key: string }>;
  /** The run's account list, as written. @throws RunStoreError when it is missing or does not decode */
  getAccounts(runId: string): Promise<AccountItem[]>;
  /**
   * Writes one part of a batch's deltas (JSON objects with distinct `accountId`s); writing the same
   * part again replaces it (an attempt writes each of its parts once). Returns where it is.
   */
  putDeltas(runId: string, at: DeltaPart, deltas: readonly unknown[]): Promise<{ readonly key: string }>;
  /**
   * Every delta written for the run, by account id (an account written twice: the newest attempt's,
   * a scan over a failure), and what
   * did not decode (named by key, with the account when that is known, and what is wrong): the caller
   * treats those accounts as not scanned.
   */
  deltas(
    runId: string,
    options?: DeltaReadOptions,
  ): Promise<{
    readonly deltas: ReadonlyMap<string, unknown>;
    readonly unreadable: readonly UnreadableDelta[];
    /** The key each account's delta was taken from. */
    readonly sources: ReadonlyMap<string, string>;
  }>;
}

export interface DeltaReadOptions {
  /**
   * What is kept of each delta read (a JSON object whose `accountId` was checked), applied as each
   * object is read: the rest is never held for the whole run. It may answer with a promise: the next
   * delta of the same object is read once it settles (a projection that writes what it read: several
   * objects are read at once), and a rejection fails the read. @default the whole delta
   */
  readonly project?: (delta: Readonly<Record<string, unknown>>) => unknown;
  /**
   * Read each of these accounts only from its key (an earlier read's `sources`), and no other
   * object: a second read of the same deltas, whatever was written since. The lines of other
   * accounts in those objects are skipped unread (not projected). @default every object
   */
  readonly sources?: ReadonlyMap<string, string>;
  /**
   * Read each object whole before projecting its first delta, fewer at once: a projection that waits
   * on another service (a commit) then leaves no response stream paused, which the client's idle
   * timeout would fail. @default false: a line at a time as it arrives
   */
  readonly whole?: boolean;
}

/**
 * Which part of which batch: the batch's first account id, when the attempt that writes it started
 * (epoch ms: every attempt of a child writes under its own keys, never over another's), and the
 * part's number in that attempt from 0.
 */
export interface DeltaPart {
  readonly batch: string;
  readonly attempt: number;
  readonly part: number;
}

/** Whether a value can be a {@link DeltaPart}'s `attempt`: a time in epoch milliseconds, 13 digits. */
export const isAttemptStart = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 1e12 && (value as number) < 1e13;

/** An object or a line of the run store that did not decode. */
export interface UnreadableDelta {
  readonly key: string;
  readonly problem: string;
  /** The account whose delta it should have held, when the object says. */
  readonly accountId?: string;
  /** The object's header could not be read: which accounts it holds is not known. */
  readonly whole?: true;
}
