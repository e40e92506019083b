/**
 * Names shared by the stack (lib/) and the function (lambda/): the event the schedule sends, the
 * metrics the function emits (and the alarms watch), and the clock tolerance of stored state. One
 * place, imported by both sides.
 */

/** The `source` of the event the schedule sends; any other source is refused by the handler. */
export const SCHEDULE_EVENT_SOURCE = 'credwatch.schedule';

/** The CloudWatch namespace of the scanner's metrics (Powertools EMF). */
export const METRICS_NAMESPACE = 'Credwatch';
/** The Powertools service name: also the `service` dimension of every metric. */
export const SERVICE_NAME = 'credwatch';

/** The longest account name kept on a `known` marker (an IAM alias has at most 63, an Organizations name 50). */
export const KNOWN_NAME_MAX = 128;

/** The state table's key and TTL attribute names: the table construct and the state store use these. */
export const STATE_TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  /**
   * The sort key of an account's `known` marker (pk `account#ID`): the account was scanned and all
   * its changes delivered by an earlier run (no finding id starts with `#`).
   */
  knownMarkerSortKey: '#known',
  /**
   * The `known` marker's name of the account (S, at most {@link KNOWN_NAME_MAX} characters): its IAM
   * alias or Organizations name as a run last showed it. Absent on markers written before it was kept,
   * and for an account shown by its id.
   */
  knownNameAttribute: 'accountName',
  /**
   * The sort-key prefix of an account's enforcement actions (pk `account#ID`, like its finding
   * states; no finding id starts with `#`): one item per action, the audit trail, never expiring (no
   * `expiresAt`). `sk = #action/<accessKeyId>/<at, ISO>/<kind>`; attributes (S): `action` (the kind:
   * `deactivated`, `reactivation-seen`), `accountId`, `user`, `accessKeyId`, `credential`, `at`,
   * `reason`, `runId` and, when known, `actor` and `noticeAt` (lambda/core/enforcement.ts
   * `EnforcementAction`, decoded by lambda/core/state-codec.ts `decodeAction`).
   */
  actionSortKeyPrefix: '#action/',
  /**
   * The lease of the Step Functions engine's run in progress (pk, sk): one execution at a time
   * (lambda/steps.ts). `runId` (S) holds it until `leaseUntil` (N, epoch ms).
   */
  runLease: { partitionKey: 'run#lease', sortKey: '#lease' },
  /**
   * The partition of the event outbox (lambda/adapters/state-store.ts): a change announced but not yet
   * published as an event, `sk = <run time>#<finding id>#<kind>`, `change` (S, JSON), `expiresAt`.
   * Written and removed with BatchWriteItem, which the deliver step's role may send for it alone.
   */
  outboxPartition: 'outbox',
  /**
   * The record of a Slack message a channel of the app posted with findings opened in it (pk
   * `thread#<conversation id>`, sk `<message ts>`): `body` (S, the message as posted and what was
   * resolved since, JSON owned by lambda/adapters/slack/app-notifier.ts), `writtenAt` (S, ISO) and
   * `expiresAt` (N, TTL, {@link MESSAGE_RECORD_RETENTION_DAYS} after the last write). What lets a
   * resolution update the message it was announced in, without reading the channel's history.
   */
  threadPartitionPrefix: 'thread#',
  /**
   * What separates a finding id from its channel in the sort key of a finding's state in a channel
   * other than the deployment's default ({@link stateSortKey}); no finding id contains it.
   */
  laneSeparator: '#',
} as const;

/**
 * The sort key of a finding's state in one channel (pk `account#ID`): each channel a finding is
 * announced in has its own state, its own lifecycle (lambda/core/lanes.ts). The default channel's
 * state, and a state without a channel (written before routing), is under the finding id itself, as
 * every state was before channels had their own: `<finding id>`; any other channel's under
 * `<finding id>#<channel>`. A state of another channel found under the bare finding id (written by
 * the releases in which a finding had one state, wherever it was announced, or left by a change of
 * `defaultChannel`) is moved to its own key by the next run (DynamoStateStore.relocate).
 */
export function stateSortKey(findingId: string, channel: string | undefined, defaultChannel: string): string {
  return channel === undefined || channel === defaultChannel
    ? findingId
    : `${findingId}${STATE_TABLE_SCHEMA.laneSeparator}${channel}`;
}

/** How long the record of a posted Slack message is kept after its last write (its thread's findings' life). */
export const MESSAGE_RECORD_RETENTION_DAYS = 400;

/** The events credwatch publishes: `source` and the `detail-type` of each kind of change. */
export const EVENT_SOURCE = 'credwatch';
export const EVENT_DETAIL_TYPES = {
  opened: 'Credential Finding Opened',
  escalated: 'Credential Finding Escalated',
  reminder: 'Credential Finding Reminder',
  resolved: 'Credential Finding Resolved',
} as const;

/** Metric names the handler emits. */
export const METRIC = {
  /** A run that scanned at least one account and completed: the heartbeat. */
  scansCompleted: 'ScansCompleted',
  scanIncomplete: 'ScanIncomplete',
  /** An invocation refused before anything was read or written (bad source, time far from the clock). */
  invocationsRefused: 'InvocationsRefused',
  /** Stored state items that could not be decoded (treated as absent, overwritten by the next write). */
  stateItemsUnreadable: 'StateItemsUnreadable',
  /** Slack sends whose answer was lost and were retried once: the message may have been posted twice. */
  deliveryUncertain: 'DeliveryUncertain',
  /** Events EventBridge took this run (this run's and any left in the outbox). */
  eventsPublished: 'EventsPublished',
  /** Events still waiting in the outbox after this run. */
  eventsPending: 'EventsPending',
  /** Findings judged from the credential report alone because their keys could not be confirmed live. */
  findingsUnconfirmed: 'FindingsUnconfirmed',
  /** Delivered changes announced in a summary (a baseline, a roll-up, the overflow beyond the cap), not in their own entry. */
  changesSummarized: 'ChangesSummarized',
  /** A Step Functions run that did nothing because an earlier one still held the run lease. */
  runsSkipped: 'RunsSkipped',
  /** Access keys enforcement deactivated in this run (docs/enforcement.md). */
  keysDeactivated: 'KeysDeactivated',
  /** Access keys due for deactivation that IAM refused, or whose action could not be recorded. */
  enforcementFailed: 'EnforcementFailed',
} as const;

/**
 * How far a stored state's scan time may lie ahead of this run's clock and still count as written by
 * a newer run (two Lambda hosts' clocks differ by milliseconds; this is generous). A state further in
 * the future cannot come from a correct run: it is treated as unreadable and overwritten.
 */
export const CLOCK_SKEW_MS = 60_000;

/**
 * The Step Functions engine's execution timeout, which is also how long a run holds the run lease at
 * most (lib/constructs/scanner-state-machine.ts; lambda/steps.ts when the settings do not say).
 */
export const EXECUTION_TIMEOUT_MS = 2 * 3_600_000;

/**
 * How long an Express execution (a child of the map) may run, retries of its task included
 * (lib/constructs/scanner-state-machine.ts keeps a batch's timeout under it; lambda/steps.ts ends a
 * batch before it, counted from the child's start).
 */
export const EXPRESS_EXECUTION_LIMIT_MS = 5 * 60_000;

/**
 * The error a deliver step fails with when an earlier delivery of its run may still be running (a
 * stopped execution does not stop its task): the state machine then keeps the run lease with that
 * delivery instead of giving it back (lib/constructs/scanner-state-machine.ts).
 */
export const DELIVERY_IN_PROGRESS_ERROR = 'DeliveryInProgressError';

/**
 * A batch starts no account's scan later than this, or than the credential report's wait when longer,
 * before its time ends (lambda/steps.ts).
 */
export const BATCH_START_MARGIN_MS = 60_000;
