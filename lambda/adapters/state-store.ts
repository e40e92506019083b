/**
 * Remembers what credwatch already announced, one DynamoDB item per finding and channel:
 * `pk = account#<accountId>`, `sk = <finding id>` for the default channel's state and
 * `<finding id>#<channel>` for another channel's (lambda/contracts.ts `stateSortKey`). Writes are
 * conditional, so a scan that finishes late can never overwrite the state written by a newer one.
 * Beside them, in the same partition, the account's enforcement actions (`sk = #action/…`): the
 * audit trail, written once, never expiring.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  CLOCK_SKEW_MS,
  KNOWN_NAME_MAX,
  MESSAGE_RECORD_RETENTION_DAYS,
  STATE_TABLE_SCHEMA,
  stateSortKey,
} from '../contracts';
import type { EnforcementAction } from '../core/enforcement';
import { CredwatchError } from '../core/errors';
import { CHANNEL_NAME, CHANNEL_NAME_RULE, DEFAULT_CHANNEL } from '../core/routing';
import type { Change, FindingState, PostedMessage } from '../core/state';
import { decodeAction, decodeChange, decodeState, type UnreadableState } from '../core/state-codec';
import type {
  DeliveryStart,
  EventOutbox,
  LoadedStates,
  MessageRecords,
  OutboxEntry,
  RunLease,
  RunLeaseHeld,
} from '../ports';

/** The state table's key and TTL attribute names (the contract lives in lambda/contracts.ts). */
export { STATE_TABLE_SCHEMA };

/** How long a resolved finding is remembered after it was announced as resolved. */
export const RESOLVED_RETENTION_DAYS = 30;

/** The partition of the event outbox: changes announced but not yet published as events. */
export const OUTBOX_PARTITION = STATE_TABLE_SCHEMA.outboxPartition;
/** How long an event that cannot be published waits in the outbox before DynamoDB's TTL drops it. */
export const OUTBOX_RETENTION_DAYS = 14;

/** The most items one BatchWriteItem request may carry (DynamoDB refuses more). */
export const BATCH_WRITE_MAX = 25;
/**
 * How many times one chunk of an outbox write is sent while DynamoDB leaves some of it unprocessed
 * (its answer under throttling: not an error, so the SDK does not retry it), waiting
 * `unprocessedRetryDelayMs` doubled each time in between (50 ms by default: about 6 s in all).
 */
export const BATCH_WRITE_ATTEMPTS = 8;

/** The state table cannot be read or written, or holds an item credwatch cannot read. */
export class StateStoreError extends CredwatchError {}

export interface CommitResult {
  /** How many items were written. */
  readonly written: number;
  /** Ids of findings not written because the table already held state from a newer scan. */
  readonly skippedAsStale: readonly string[];
}

export interface DynamoStateStoreProps {
  /** Name of the state table. */
  readonly tableName: string;
  /**
   * DynamoDB client.
   * @default a new DynamoDBClient with the default configuration
   */
  readonly client?: DynamoDBClient;
  /**
   * Items asked for per Query page (DynamoDB also stops a page at 1 MB).
   * @default no limit beyond DynamoDB's 1 MB
   */
  readonly queryPageSize?: number;
  /**
   * How many PutItem calls run at once in {@link DynamoStateStore.commit}.
   * @default 10
   */
  readonly writeConcurrency?: number;
  /**
   * The wall clock: no state is written with a scan time more than CLOCK_SKEW_MS after it, and a
   * stored state further in the future than that is unreadable (and overwritten).
   * @default () => new Date()
   */
  readonly clock?: () => Date;
  /**
   * The deployment's default channel (lambda/core/routing.ts, `notifications.defaultChannel`): its
   * states, and states without a channel (written before routing), are under the bare finding id;
   * every other channel's under `<finding id>#<channel>` (lambda/contracts.ts `stateSortKey`). A
   * state of another channel found under the bare id is reported `misplaced` by
   * {@link DynamoStateStore.load} and moved by {@link DynamoStateStore.relocate}.
   * @default DEFAULT_CHANNEL ('default')
   */
  readonly defaultChannel?: string;
  /**
   * The first wait before an outbox write sends again what DynamoDB left unprocessed; doubled on each
   * of the BATCH_WRITE_ATTEMPTS.
   * @default 50
   */
  readonly unprocessedRetryDelayMs?: number;
}

type Item = Record<string, AttributeValue>;

/**
 * Finding state in DynamoDB.
 *
 * Items: `pk` (S, `account#<accountId>`), `sk` (S: the finding id for the state of the default
 * channel, or of no channel; `<finding id>#<channel>` for the state of any other channel, one
 * item per channel the finding is announced in, each its own lifecycle; lambda/contracts.ts
 * `stateSortKey`. An item under `<finding id>#<channel>` must have that `channel` attribute, or it
 * is unreadable. A state of another channel under the bare finding id, as the releases before one
 * state per channel wrote it, or as a change of `defaultChannel` leaves it, is read as that
 * channel's, reported `misplaced` and moved by {@link DynamoStateStore.relocate}), `accountId`,
 * `status`, `notifiedSeverity`, `firstSeen`, `lastNotifiedAt`, `scanTime` (S, as given),
 * `scanEpochMs` (N, what the stale-write condition compares: ISO strings of different precision do
 * not sort as times), `finding` (S, JSON), `announcedIn` (S, only when the last announcement was a
 * summary: `baseline`, `roll-up`, `overflow`; items written before it existed have none and decode
 * as before), `channel` (S, the channel of the state, that announced it, lambda/core/routing.ts;
 * items written before routing have none and are read as the default channel's), `thread` (M:
 * `conversation`, `ts`, both S; the Slack message of a channel of the app that first announced the
 * finding; absent otherwise and in items written before it existed) and, for resolved findings
 * only, `expiresAt` (N, epoch seconds, the table's TTL attribute).
 *
 * Enforcement actions (STATE_TABLE_SCHEMA.actionSortKeyPrefix): `pk` (S, the account's), `sk` (S,
 * `#action/<accessKeyId>/<at as UTC ISO>/<kind>`), `action` (S, the kind), `accountId`, `user`,
 * `accessKeyId`, `credential`, `at`, `reason`, `runId` (S) and, when known, `actor`, `noticeAt` (S);
 * no `expiresAt`.
 */
export class DynamoStateStore implements EventOutbox, RunLease, MessageRecords {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly queryPageSize: number | undefined;
  private readonly writeConcurrency: number;
  private readonly clock: () => Date;
  private readonly defaultChannel: string;
  private readonly unprocessedRetryDelayMs: number;

  /** @throws StateStoreError when `defaultChannel` is not a channel name */
  constructor(props: DynamoStateStoreProps) {
    this.tableName = props.tableName;
    this.client = props.client ?? new DynamoDBClient({});
    this.queryPageSize = props.queryPageSize;
    this.writeConcurrency = props.writeConcurrency ?? 10;
    this.clock = props.clock ?? (() => new Date());
    this.unprocessedRetryDelayMs = props.unprocessedRetryDelayMs ?? 50;
    this.defaultChannel = props.defaultChannel ?? DEFAULT_CHANNEL;
    if (!CHANNEL_NAME.test(this.defaultChannel)) {
      throw new StateStoreError(
        `defaultChannel of the state store: expected ${CHANNEL_NAME_RULE}, got "${this.defaultChannel}"`,
      );
    }
  }

  /**
   * Every remembered finding of one account (strongly consistent, all pages), and its recorded
   * enforcement actions (oldest first by `at`, ties by sort key; `actions` is absent when the account
   * has none, so a load reads as it did before actions existed). An item that does
   * not decode is returned in `unreadable` (its sort key and what is wrong), never thrown: one bad
   * item must not stop the scan of its account, let alone the others.
   *
   * One state per finding and channel (its lane; no channel is the default one): of two items of
   * one lane (the bare finding id and `<finding id>#<channel>`), only the one of the later scan is
   * in `states` (the same scan: the one under its own key). Every state not under its own key is
   * in `misplaced`, including one that lost to its lane's other item (so that {@link relocate}
   * removes it): another channel's state under the bare finding id (written before each channel had
   * its own), and the default channel's under `<finding id>#<default>` (left there when
   * `defaultChannel` changed). `misplaced` is absent when there is none, so a load reads as it did
   * before each channel had its own state.
   */
  async load(accountId: string): Promise<LoadedStates> {
    const states: FindingState[] = [];
    const unreadable: UnreadableState[] = [];
    const misplaced: FindingState[] = [];
    /** Where each lane's state is in `states`, and whether it was under its own key. */
    const lanes = new Map<string, { index: number; ownKey: boolean }>();
    const actions: { sk: string; at: number; action: EnforcementAction }[] = [];
    const now = this.clock();
    let known = false;
    let knownName: string | undefined;
    for await (const item of this.partition(partitionKey(accountId), `the state of account ${accountId}`)) {
      const sk = item.sk?.S;
      if (sk === STATE_TABLE_SCHEMA.knownMarkerSortKey) {
        known = true;
        // A name that is not one is left out (the account is then shown by its id) and reported.
        const name = item[STATE_TABLE_SCHEMA.knownNameAttribute];
        if (name !== undefined) {
          const problem = knownNameProblem(name);
          if (problem) unreadable.push({ id: sk, problem });
          else knownName = name.S;
        }
        continue;
      }
      if (sk?.startsWith(STATE_TABLE_SCHEMA.actionSortKeyPrefix)) {
        const decoded = actionFromItem(item, sk, accountId);
        if ('action' in decoded) {
          actions.push({ sk, at: Date.parse(decoded.action.at), action: decoded.action });
        } else {
          unreadable.push({ id: sk, problem: decoded.problem });
        }
        continue;
      }
      const decoded = laneStateFromItem(item, sk, now);
      if ('problem' in decoded) {
        unreadable.push({ id: sk ?? '?', problem: decoded.problem });
        continue;
      }
      const state = decoded.state;
      const channel = state.channel ?? this.defaultChannel;
      const ownKey = sk === stateSortKey(state.id, state.channel, this.defaultChannel);
      if (!ownKey) misplaced.push(state);
      const lane = `${state.id}${STATE_TABLE_SCHEMA.laneSeparator}${channel}`;
      const held = lanes.get(lane);
      if (held === undefined) {
        lanes.set(lane, { index: states.length, ownKey });
        states.push(state);
        continue;
      }
      const [at, heldAt] = [Date.parse(state.scanTime), Date.parse(states[held.index]!.scanTime)];
      if (at > heldAt || (at === heldAt && ownKey)) {
        states[held.index] = state;
        lanes.set(lane, { index: held.index, ownKey });
      }
    }
    actions.sort((a, b) => a.at - b.at || (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
    return {
      states,
      unreadable,
      known,
      ...(knownName !== undefined ? { knownName } : {}),
      ...(actions.length > 0 ? { actions: actions.map((a) => a.action) } : {}),
      ...(misplaced.length > 0 ? { misplaced } : {}),
    };
  }

  /**
   * Moves states `load` reported `misplaced` to their own key (`stateSortKey`: another channel's
   * from the bare finding id to `<finding id>#<channel>`, the default channel's from
   * `<finding id>#<default>` to the bare id), with the stale-guarded write of {@link commit} (a newer
   * state there already stays, and the finding is in `skippedAsStale`), then deletes the former item
   * only while it is still that channel's state and no newer than the one moved (a conditional
   * DeleteItem: another channel's state written there since, or a newer one, is never removed;
   * nothing there to delete is no error, so relocating again is harmless). Batches of
   * `writeConcurrency` states at once. Nothing is announced.
   * @throws StateStoreError before writing anything when a state has no channel (it is under its
   *   own key), or a scan time after the clock; and on any failure of DynamoDB but
   *   a stale write or a refused delete (naming the finding, its channel and the table). States
   *   moved before a failure stay moved.
   */
  async relocate(states: readonly FindingState[]): Promise<CommitResult> {
    for (const state of states) {
      if (state.channel === undefined) {
        throw new StateStoreError(
          `Refused to relocate the state of finding ${state.id}: it has no channel, so it is under its own key already; nothing written`,
        );
      }
    }
    const future = this.checkScanTimes(states);
    const move = (batch: readonly FindingState[]) =>
      this.writeAll(batch, async (state) => {
        const outcome = await this.put(state, future);
        await this.removeMisplaced(state);
        return outcome;
      });
    // Off the bare id first: after a change of defaultChannel the former default channel's state
    // leaves the bare id before the new default channel's takes it.
    const off = await move(states.filter((s) => s.channel !== this.defaultChannel));
    const onto = await move(states.filter((s) => s.channel === this.defaultChannel));
    return {
      written: off.written + onto.written,
      skippedAsStale: [...off.skippedAsStale, ...onto.skippedAsStale],
    };
  }

  /**
   * Deletes `state` from where it was misplaced (the bare finding id for another channel's,
   * `<finding id>#<default>` for the default channel's), while it is still that channel's and no
   * newer than `state`.
   */
  private async removeMisplaced(state: FindingState): Promise<void> {
    const formerKey =
      state.channel === this.defaultChannel
        ? `${state.id}${STATE_TABLE_SCHEMA.laneSeparator}${state.channel}`
        : state.id;
    try {
      // A condition that is false (another channel, a newer scan, no item at all) fails the delete
      // with ConditionalCheckFailedException and deletes nothing ("Condition expressions",
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html);
      // neither `channel` nor `scanEpochMs` is a reserved word (developerguide/ReservedWords.html).
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: partitionKey(state.accountId) }, sk: { S: formerKey } },
          ConditionExpression: 'channel = :ch AND scanEpochMs <= :scanEpochMs',
          ExpressionAttributeValues: {
            ':ch': { S: state.channel! },
            ':scanEpochMs': { N: String(epochMs(state.scanTime, `scanTime of finding ${state.id}`)) },
          },
        }),
      );
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        nameOf(error) === 'ConditionalCheckFailedException'
      ) {
        return;
      }
      throw new StateStoreError(
        `Could not remove the state of finding ${state.id} in channel ${state.channel} from its former key in table ${this.tableName}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Records one enforcement action (pk `account#ID`, sk `#action/<key>/<at>/<kind>`, no TTL) at
   * once, before it is announced. The write is conditional on the item not existing: the same action
   * recorded again (a retried run) writes nothing and is no error, and the first record stands.
   * @throws StateStoreError before writing anything when the action does not decode (naming the
   *   field), and when DynamoDB refuses the write (naming the account, the user and the key)
   */
  async recordAction(action: EnforcementAction): Promise<void> {
    const decoded = decodeAction(action);
    const what = `the ${action?.kind} action on access key ${action?.accessKeyId} of user "${action?.user}" in account ${action?.accountId}`;
    if ('problem' in decoded) {
      throw new StateStoreError(`Refused to record ${what}: ${decoded.problem}; nothing written`);
    }
    const a = decoded.action;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: partitionKey(a.accountId) },
            sk: { S: actionSortKey(a) },
            action: { S: a.kind },
            accountId: { S: a.accountId },
            user: { S: a.user },
            accessKeyId: { S: a.accessKeyId },
            credential: { S: a.credential },
            at: { S: a.at },
            reason: { S: a.reason },
            runId: { S: a.runId },
            ...(a.actor !== undefined ? { actor: { S: a.actor } } : {}),
            ...(a.noticeAt !== undefined ? { noticeAt: { S: a.noticeAt } } : {}),
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        nameOf(error) === 'ConditionalCheckFailedException'
      ) {
        return;
      }
      throw new StateStoreError(`Could not record ${what} in table ${this.tableName}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Writes each account's `known` marker (pk `account#ID`, sk `#known`, `knownAt`: the run's time,
   * and `accountName`: the name it was shown by, when it has one).
   */
  async markKnown(
    accountIds: readonly string[],
    at: Date,
    names?: ReadonlyMap<string, string>,
  ): Promise<void> {
    for (let i = 0; i < accountIds.length; i += this.writeConcurrency) {
      await Promise.all(
        accountIds.slice(i, i + this.writeConcurrency).map(async (accountId) => {
          try {
            await this.client.send(
              new PutItemCommand({
                TableName: this.tableName,
                Item: {
                  pk: { S: partitionKey(accountId) },
                  sk: { S: STATE_TABLE_SCHEMA.knownMarkerSortKey },
                  knownAt: { S: at.toISOString() },
                  ...knownNameItem(names?.get(accountId)),
                },
              }),
            );
          } catch (error) {
            throw new StateStoreError(
              `Could not mark account ${accountId} as scanned in table ${this.tableName}: ${messageOf(error)}`,
              { cause: error },
            );
          }
        }),
      );
    }
  }

  /** The record of a posted message (pk `thread#<conversation>`, sk `<ts>`), or undefined when there is none. */
  async getMessage(message: PostedMessage): Promise<string | undefined> {
    try {
      const answer = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: messageKey(message),
          ConsistentRead: true,
        }),
      );
      const body = answer.Item?.body;
      if (answer.Item === undefined) return undefined;
      if (body?.S === undefined) {
        throw new StateStoreError(
          `The record of message ${message.ts} of ${message.conversation} in table ${this.tableName} has no string body`,
        );
      }
      return body.S;
    } catch (error) {
      if (error instanceof StateStoreError) throw error;
      throw new StateStoreError(
        `Could not read the record of message ${message.ts} of ${message.conversation} from table ${this.tableName}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /** Writes (replaces) the record of a posted message; it expires MESSAGE_RECORD_RETENTION_DAYS after `at`. */
  async putMessage(message: PostedMessage, body: string, at: Date): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...messageKey(message),
            body: { S: body },
            writtenAt: { S: at.toISOString() },
            expiresAt: {
              N: String(Math.floor(at.getTime() / 1000) + MESSAGE_RECORD_RETENTION_DAYS * 86_400),
            },
          },
        }),
      );
    } catch (error) {
      throw new StateStoreError(
        `Could not write the record of message ${message.ts} of ${message.conversation} to table ${this.tableName}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Takes the run lease (pk `run#lease`, sk `#lease`) for `runId` until `until`, if no other run
   * holds it past `now` (a conditional PutItem: two runs never both take it).
   */
  async acquire(runId: string, now: Date, until: Date): Promise<{ readonly acquired: true } | RunLeaseHeld> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...LEASE_KEY, runId: { S: runId }, leaseUntil: { N: String(until.getTime()) } },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR runId = :run',
          ExpressionAttributeValues: { ':now': { N: String(now.getTime()) }, ':run': { S: runId } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // DynamoDB returns the holder with the refusal; a store that does not (dynalite) is asked.
        const held = error.Item ?? (await this.leaseItem().catch(() => undefined));
        const heldUntil = Number(held?.leaseUntil?.N);
        return {
          acquired: false,
          heldBy: held?.runId?.S ?? 'an unknown run',
          until: new Date(Number.isFinite(heldUntil) ? heldUntil : now.getTime()),
        };
      }
      throw new StateStoreError(
        `Could not take the run lease in table ${this.tableName}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async heldByOther(runId: string, now: Date): Promise<RunLeaseHeld | undefined> {
    let item: Item | undefined;
    try {
      item = await this.leaseItem();
    } catch (error) {
      throw new StateStoreError(
        `Could not read the run lease in table ${this.tableName}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    const until = Number(item?.leaseUntil?.N);
    const holder = item?.runId?.S;
    if (!item || holder === runId || !(until > now.getTime())) return undefined;
    return { acquired: false, heldBy: holder ?? 'an unknown run', until: new Date(until) };
  }

  /**
   * Marks the start of `runId`'s delivery on the lease item (`deliveringSince`, N epoch ms), with an
   * UpdateItem whose condition is that the run holds the lease past `now` and no delivery of it began.
   */
  async beginDelivery(runId: string, now: Date): Promise<DeliveryStart> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: LEASE_KEY,
          UpdateExpression: 'SET deliveringSince = :now',
          ConditionExpression: 'runId = :run AND leaseUntil > :now AND attribute_not_exists(deliveringSince)',
          ExpressionAttributeValues: { ':now': { N: String(now.getTime()) }, ':run': { S: runId } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { began: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw new StateStoreError(
          `Could not mark the start of the delivery on the run lease in table ${this.tableName}: ${messageOf(error)}`,
          { cause: error },
        );
      }
      // DynamoDB returns the item with the refusal (none when there is no lease); a store that does
      // not (dynalite) is asked.
      const held = error.Item ?? (await this.leaseItem().catch(() => undefined));
      const since = Number(held?.deliveringSince?.N);
      if (held?.runId?.S === runId && Number(held.leaseUntil?.N) > now.getTime() && Number.isFinite(since)) {
        return { began: false, why: 'already-began', since: new Date(since) };
      }
      const other = held?.runId?.S;
      return { began: false, why: 'lease-lost', ...(other && other !== runId ? { heldBy: other } : {}) };
    }
  }

  /** The run lease item (a consistent read), if there is one. */
  private async leaseItem(): Promise<Item | undefined> {
    return (
      await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: LEASE_KEY, ConsistentRead: true }),
      )
    ).Item;
  }

  async release(runId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: LEASE_KEY,
          ConditionExpression: 'runId = :run',
          ExpressionAttributeValues: { ':run': { S: runId } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw new StateStoreError(
        `Could not give back the run lease in table ${this.tableName}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Every item of one partition, strongly consistent, page by page through the SDK's Query paginator
   * (`queryPageSize` items a page). A failed page throws a StateStoreError naming `what` and the table.
   */
  private async *partition(pk: string, what: string): AsyncGenerator<Item> {
    const pages = paginateQuery(
      { client: this.client, pageSize: this.queryPageSize },
      this.partitionQuery(pk),
    );
    for (;;) {
      let page: IteratorResult<QueryCommandOutput>;
      try {
        page = await pages.next();
      } catch (error) {
        throw this.readFailed(what, error);
      }
      if (page.done) return;
      yield* page.value.Items ?? [];
    }
  }

  /** The Query of one partition, strongly consistent. */
  private partitionQuery(pk: string) {
    return {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ConsistentRead: true,
    };
  }

  private readFailed(what: string, error: unknown): StateStoreError {
    return new StateStoreError(`Could not read ${what} from table ${this.tableName}: ${messageOf(error)}`, {
      cause: error,
    });
  }

  /**
   * Writes each state unless the table holds one from a newer scan (same scan time overwrites, so
   * a retried commit is harmless). A stored item without a numeric `scanEpochMs`, or with one further
   * in the future than any run can have written, is overwritten.
   * @throws StateStoreError on any failure but a stale write, and before writing anything when a
   *   state's scan time lies more than CLOCK_SKEW_MS after the clock; items written before a failure stay written.
   */
  async commit(states: readonly FindingState[]): Promise<CommitResult> {
    const future = this.checkScanTimes(states);
    return this.writeAll(states, (state) => this.put(state, future));
  }

  /**
   * The latest scan time (epoch ms) a write may carry: the clock plus CLOCK_SKEW_MS.
   * @throws StateStoreError when a state's scan time is not a time or lies after it
   */
  private checkScanTimes(states: readonly FindingState[]): number {
    const future = this.clock().getTime() + CLOCK_SKEW_MS;
    for (const state of states) {
      const at = epochMs(state.scanTime, `scanTime of finding ${state.id}`);
      if (at > future) {
        throw new StateStoreError(
          `scanTime ${state.scanTime} of finding ${state.id} lies after the clock (${new Date(future - CLOCK_SKEW_MS).toISOString()}); not written`,
        );
      }
    }
    return future;
  }

  /** `write` for each state, `writeConcurrency` at once; the first failure is thrown once its batch has settled. */
  private async writeAll(
    states: readonly FindingState[],
    write: (state: FindingState) => Promise<'written' | 'stale'>,
  ): Promise<CommitResult> {
    let written = 0;
    const skippedAsStale: string[] = [];
    for (let i = 0; i < states.length; i += this.writeConcurrency) {
      const batch = states.slice(i, i + this.writeConcurrency);
      const outcomes = await Promise.allSettled(batch.map(write));
      for (const [index, outcome] of outcomes.entries()) {
        if (outcome.status === 'rejected') throw outcome.reason;
        if (outcome.value === 'written') written++;
        else skippedAsStale.push(batch[index]!.id);
      }
    }
    return { written, skippedAsStale };
  }

  /**
   * Adds one outbox entry per change (`pk = outbox`, `sk = <time>#<finding id>#<kind>`), so that its
   * event is published by this run or, if that fails, by a later one. BatchWriteItem, 25 entries a
   * request, `writeConcurrency` requests at once: a first scan adds an entry for every finding, and
   * one PutItem each was half of the deliver step's requests. Two changes with the same key (the
   * same finding and kind) are one entry, the later one's.
   * @throws StateStoreError naming the changes of the request that failed; entries written before stay
   */
  async add(changes: readonly Change[], at: Date): Promise<void> {
    const time = at.toISOString();
    const expiresAt = { N: String(Math.floor(at.getTime() / 1000) + OUTBOX_RETENTION_DAYS * 86_400) };
    const entries = new Map<string, Change>();
    for (const change of changes) {
      const key = `${time}#${change.finding.id}#${change.kind}`;
      entries.delete(key);
      entries.set(key, change);
    }
    await this.batchWrite(
      [...entries].map(([key, change]) => ({
        PutRequest: {
          Item: {
            pk: { S: OUTBOX_PARTITION },
            sk: { S: key },
            change: { S: JSON.stringify(change) },
            expiresAt,
          },
        },
      })),
      (chunk, reason) => {
        const first = entries.get(chunk[0]!)!;
        const more = chunk.length > 1 ? ` and ${chunk.length - 1} more` : '';
        return `Could not add the event of ${first.kind} ${first.finding.id}${more} to the outbox in table ${this.tableName}: ${reason}`;
      },
    );
  }

  /**
   * Sends `requests` (each an outbox entry's put or delete) in BatchWriteItem requests of
   * BATCH_WRITE_MAX, `writeConcurrency` at once, each sending again what DynamoDB leaves unprocessed.
   * @param failed the message of a request that failed, from the sort keys of its entries and why
   * @throws StateStoreError with that message once the requests sent alongside have settled
   */
  private async batchWrite(
    requests: readonly WriteRequest[],
    failed: (keys: readonly string[], reason: string) => string,
  ): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) {
      chunks.push(requests.slice(i, i + BATCH_WRITE_MAX));
    }
    for (let i = 0; i < chunks.length; i += this.writeConcurrency) {
      const outcomes = await Promise.allSettled(
        chunks.slice(i, i + this.writeConcurrency).map((chunk) => this.writeChunk(chunk, failed)),
      );
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    }
  }

  private async writeChunk(
    chunk: readonly WriteRequest[],
    failed: (keys: readonly string[], reason: string) => string,
  ): Promise<void> {
    let left: readonly WriteRequest[] = chunk;
    for (let attempt = 1; ; attempt++) {
      let unprocessed: WriteRequest[] | undefined;
      try {
        const answer = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: [...left] } }),
        );
        unprocessed = answer.UnprocessedItems?.[this.tableName];
      } catch (error) {
        throw new StateStoreError(failed(left.map(outboxKeyOf), messageOf(error)), { cause: error });
      }
      if (!unprocessed || unprocessed.length === 0) return;
      if (attempt >= BATCH_WRITE_ATTEMPTS) {
        throw new StateStoreError(
          failed(
            unprocessed.map(outboxKeyOf),
            `DynamoDB left ${unprocessed.length} of its ${chunk.length} entries unprocessed after ${attempt} attempts (throttled)`,
          ),
        );
      }
      left = unprocessed;
      await new Promise((resolve) => setTimeout(resolve, this.unprocessedRetryDelayMs * 2 ** (attempt - 1)));
    }
  }

  /**
   * Outbox entries, oldest first (strongly consistent); entries that do not decode apart. With a
   * `limit`: one Query of at most that many items after `after`, and `next` when DynamoDB says there
   * may be more (a page is also cut at 1 MB). Without: every entry, all pages.
   */
  async pending(options: { readonly limit?: number; readonly after?: string } = {}): Promise<{
    entries: OutboxEntry[];
    unreadable: UnreadableState[];
    next?: string;
  }> {
    const { limit, after } = options;
    if (limit === undefined && after === undefined)
      return this.decodeOutbox(this.partition(OUTBOX_PARTITION, 'the event outbox'));
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new StateStoreError(
        `the outbox page limit must be a positive whole number, got ${String(limit)}`,
      );
    }
    if (after !== undefined && (typeof after !== 'string' || after === '')) {
      throw new StateStoreError(
        `the outbox page cursor must be an entry's key, got ${JSON.stringify(after)}`,
      );
    }
    let answer: QueryCommandOutput;
    try {
      answer = await this.client.send(
        new QueryCommand({
          ...this.partitionQuery(OUTBOX_PARTITION),
          ...(limit !== undefined ? { Limit: limit } : {}),
          ...(after !== undefined
            ? { ExclusiveStartKey: { pk: { S: OUTBOX_PARTITION }, sk: { S: after } } }
            : {}),
        }),
      );
    } catch (error) {
      throw this.readFailed('the event outbox', error);
    }
    const page = await this.decodeOutbox(answer.Items ?? []);
    const next = answer.LastEvaluatedKey?.sk?.S;
    return next !== undefined ? { ...page, next } : page;
  }

  private async decodeOutbox(
    items: AsyncIterable<Item> | Iterable<Item>,
  ): Promise<{ entries: OutboxEntry[]; unreadable: UnreadableState[] }> {
    const entries: OutboxEntry[] = [];
    const unreadable: UnreadableState[] = [];
    for await (const item of items) {
      const key = item.sk?.S ?? '?';
      let raw: unknown;
      try {
        raw = JSON.parse(item.change?.S ?? '');
      } catch {
        unreadable.push({ id: `${OUTBOX_PARTITION}/${key}`, problem: 'change: not valid JSON' });
        continue;
      }
      const decoded = decodeChange(raw);
      if ('change' in decoded) entries.push({ key, change: decoded.change });
      else unreadable.push({ id: `${OUTBOX_PARTITION}/${key}`, problem: decoded.problem });
    }
    return { entries, unreadable };
  }

  /** Removes published entries from the outbox (BatchWriteItem, as {@link add}); a key given twice is one. */
  async remove(keys: readonly string[]): Promise<void> {
    await this.batchWrite(
      [...new Set(keys)].map((key) => ({
        DeleteRequest: { Key: { pk: { S: OUTBOX_PARTITION }, sk: { S: key } } },
      })),
      (chunk, reason) => {
        const more = chunk.length > 1 ? ` and ${chunk.length - 1} more` : '';
        return `Could not remove outbox entry ${chunk[0]}${more} from table ${this.tableName}: ${reason}`;
      },
    );
  }

  private async put(state: FindingState, future: number): Promise<'written' | 'stale'> {
    const item = this.toItem(state);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          // Newer scans win; an item no run can have written (no numeric time, or one in the future) loses.
          ConditionExpression:
            'attribute_not_exists(pk) OR NOT attribute_type(scanEpochMs, :number) OR scanEpochMs <= :scanEpochMs OR scanEpochMs > :future',
          ExpressionAttributeValues: {
            ':scanEpochMs': item.scanEpochMs!,
            ':number': { S: 'N' },
            ':future': { N: String(future) },
          },
        }),
      );
      return 'written';
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        nameOf(error) === 'ConditionalCheckFailedException'
      ) {
        return 'stale';
      }
      throw new StateStoreError(
        `Could not write the state of finding ${state.id}${state.channel !== undefined && state.channel !== this.defaultChannel ? ` in channel ${state.channel}` : ''} to table ${this.tableName}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  private toItem(state: FindingState): Item {
    const scanEpochMs = epochMs(state.scanTime, `scanTime of finding ${state.id}`);
    const item: Item = {
      pk: { S: partitionKey(state.accountId) },
      sk: { S: stateSortKey(state.id, state.channel, this.defaultChannel) },
      accountId: { S: state.accountId },
      status: { S: state.status },
      notifiedSeverity: { S: state.notifiedSeverity },
      firstSeen: { S: state.firstSeen },
      lastNotifiedAt: { S: state.lastNotifiedAt },
      scanTime: { S: state.scanTime },
      scanEpochMs: { N: String(scanEpochMs) },
      finding: { S: JSON.stringify(state.finding) },
      ...(state.announcedIn ? { announcedIn: { S: state.announcedIn } } : {}),
      ...(state.channel !== undefined ? { channel: { S: state.channel } } : {}),
      ...(state.thread
        ? { thread: { M: { conversation: { S: state.thread.conversation }, ts: { S: state.thread.ts } } } }
        : {}),
    };
    if (state.status === 'resolved') {
      const resolvedAt = epochMs(state.lastNotifiedAt, `lastNotifiedAt of finding ${state.id}`);
      item.expiresAt = { N: String(Math.floor(resolvedAt / 1000) + RESOLVED_RETENTION_DAYS * 86_400) };
    }
    return item;
  }
}

/**
 * A state item as the state of its finding in its channel (lambda/contracts.ts `stateSortKey`): under
 * `<finding id>#<channel>` (split at the last separator: no finding id contains it), the state of
 * that finding, whose `channel` attribute must be that channel; under a bare finding id, as before
 * each channel had its own state (any channel, or none).
 */
function laneStateFromItem(
  item: Item,
  sk: string | undefined,
  now: Date,
): { state: FindingState } | { problem: string } {
  const at = sk?.lastIndexOf(STATE_TABLE_SCHEMA.laneSeparator) ?? -1;
  // A key starting with the separator is no lane (nor any state: it decodes as before, unreadable).
  if (sk === undefined || at <= 0) return fromItem(item, sk, now);
  const channel = sk.slice(at + 1);
  if (!CHANNEL_NAME.test(channel)) {
    return { problem: `sk names channel "${channel}", expected ${CHANNEL_NAME_RULE}` };
  }
  const decoded = fromItem(item, sk.slice(0, at), now);
  if ('problem' in decoded) return decoded;
  const attribute = decoded.state.channel;
  if (attribute !== channel) {
    return {
      problem: `sk names channel ${channel}, ${attribute === undefined ? 'it has no channel attribute' : `its channel attribute is ${attribute}`}`,
    };
  }
  return decoded;
}

/**
 * An item as a state, decoded with the schema of lambda/core/state-codec.ts, `id` its finding id (the
 * sort key without its channel). `scanEpochMs` must be the number of `scanTime`: it is what the
 * stale-write condition compares.
 */
function fromItem(
  item: Item,
  id: string | undefined,
  now: Date,
): { state: FindingState } | { problem: string } {
  const str = (name: string) => item[name]?.S;
  let finding: unknown;
  const json = str('finding');
  if (json === undefined) return { problem: 'finding: expected a string attribute' };
  try {
    finding = JSON.parse(json);
  } catch {
    return { problem: 'finding: not valid JSON' };
  }
  const epoch = item.scanEpochMs?.N;
  const scanTime = str('scanTime');
  if (epoch === undefined) return { problem: 'scanEpochMs: expected a number attribute' };
  if (scanTime !== undefined && Number(epoch) !== Date.parse(scanTime)) {
    return { problem: `scanEpochMs ${epoch} is not the time of scanTime ${scanTime}` };
  }
  return decodeState(
    {
      id,
      accountId: str('accountId'),
      status: str('status'),
      notifiedSeverity: str('notifiedSeverity'),
      firstSeen: str('firstSeen'),
      lastNotifiedAt: str('lastNotifiedAt'),
      scanTime,
      finding,
      // Any other attribute type is passed as null, for the schema to name it.
      ...(item.announcedIn !== undefined ? { announcedIn: item.announcedIn.S ?? null } : {}),
      ...(item.channel !== undefined ? { channel: item.channel.S ?? null } : {}),
      ...(item.thread !== undefined ? { thread: threadOf(item.thread) } : {}),
    },
    now,
    CLOCK_SKEW_MS,
  );
}

const messageKey = (message: PostedMessage): Item => ({
  pk: { S: `${STATE_TABLE_SCHEMA.threadPartitionPrefix}${message.conversation}` },
  sk: { S: message.ts },
});

/** A `thread` attribute (M of two S) as the schema reads it; any other shape is passed as null, for the schema to name it. */
function threadOf(attribute: AttributeValue): { conversation?: string | null; ts?: string | null } | null {
  const map = attribute.M;
  if (map === undefined) return null;
  return { conversation: map.conversation?.S ?? null, ts: map.ts?.S ?? null };
}

/** The sort key of an action's item: its key, its time (as UTC ISO: one instant, one key) and kind. */
export const actionSortKey = (a: Pick<EnforcementAction, 'accessKeyId' | 'at' | 'kind'>): string =>
  `${STATE_TABLE_SCHEMA.actionSortKeyPrefix}${a.accessKeyId}/${new Date(a.at).toISOString()}/${a.kind}`;

/**
 * An action item as an action, decoded with lambda/core/state-codec.ts `decodeAction`. The item must
 * be where its fields say: in its account's partition, under the sort key of its key, time and kind.
 */
function actionFromItem(
  item: Item,
  sk: string,
  accountId: string,
): { action: EnforcementAction } | { problem: string } {
  // Any other attribute type is passed as null, for the schema to name it.
  const attr = (name: string) => (item[name] === undefined ? undefined : (item[name].S ?? null));
  const decoded = decodeAction({
    kind: attr('action'),
    accountId: attr('accountId'),
    user: attr('user'),
    accessKeyId: attr('accessKeyId'),
    credential: attr('credential'),
    at: attr('at'),
    reason: attr('reason'),
    runId: attr('runId'),
    ...(item.actor !== undefined ? { actor: attr('actor') } : {}),
    ...(item.noticeAt !== undefined ? { noticeAt: attr('noticeAt') } : {}),
  });
  if ('problem' in decoded) return decoded;
  if (decoded.action.accountId !== accountId) {
    return { problem: `accountId ${decoded.action.accountId} is not the partition's account ${accountId}` };
  }
  const expected = actionSortKey(decoded.action);
  if (sk !== expected) return { problem: `sk is not the action's key, time and kind (${expected})` };
  return decoded;
}

/** The key of the run lease item (STATE_TABLE_SCHEMA.runLease). */
const LEASE_KEY: Item = {
  pk: { S: STATE_TABLE_SCHEMA.runLease.partitionKey },
  sk: { S: STATE_TABLE_SCHEMA.runLease.sortKey },
};

/** The partition key of an account's items. */
export const partitionKey = (accountId: string): string => `account#${accountId}`;

function epochMs(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new StateStoreError(`${what} is not an ISO time: "${iso}"`);
  return ms;
}

/** What is wrong with a `known` marker's stored name (STATE_TABLE_SCHEMA.knownNameAttribute), if anything. */
function knownNameProblem(value: AttributeValue): string | undefined {
  const attribute = STATE_TABLE_SCHEMA.knownNameAttribute;
  if (typeof value.S !== 'string') return `${attribute}: expected a string attribute (S)`;
  if (value.S.length === 0 || value.S.length > KNOWN_NAME_MAX) {
    return `${attribute}: expected 1 to ${KNOWN_NAME_MAX} characters, got ${value.S.length}`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value.S)) return `${attribute}: contains a control character`;
  return undefined;
}

/** The `known` marker's name attribute, for a name that can be kept (another is left out: the id is shown). */
function knownNameItem(name: string | undefined): Record<string, AttributeValue> {
  if (name === undefined) return {};
  const value = { S: name };
  return knownNameProblem(value) ? {} : { [STATE_TABLE_SCHEMA.knownNameAttribute]: value };
}

const nameOf = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);
/** The sort key of the outbox entry a write request puts or deletes. */
const outboxKeyOf = (request: WriteRequest): string =>
  (request.PutRequest?.Item?.sk ?? request.DeleteRequest?.Key?.sk)?.S ?? '?';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
