/**
 * Remembers what credwatch already announced, one DynamoDB item per finding:
 * `pk = account#<accountId>`, `sk = <finding id>`. Writes are conditional, so a scan that finishes
 * late can never overwrite the state written by a newer one.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { CredwatchError } from '../core/errors';
import type { FindingState } from '../core/state';
import { type Finding, SEVERITIES, type Severity } from '../core/types';

/** The state table's key and TTL attribute names, shared with the stack's table construct. */
export const STATE_TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
} as const;

/** How long a resolved finding is remembered after it was announced as resolved. */
export const RESOLVED_RETENTION_DAYS = 30;

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
}

type Item = Record<string, AttributeValue>;

/**
 * Finding state in DynamoDB.
 *
 * Items: `pk` (S), `sk` (S), `accountId`, `status`, `notifiedSeverity`, `firstSeen`,
 * `lastNotifiedAt`, `scanTime` (S, as given), `scanEpochMs` (N, what the stale-write condition
 * compares: ISO strings of different precision do not sort as times), `finding` (S, JSON) and, for
 * resolved findings only, `expiresAt` (N, epoch seconds, the table's TTL attribute).
 */
export class DynamoStateStore {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly queryPageSize: number | undefined;
  private readonly writeConcurrency: number;

  constructor(props: DynamoStateStoreProps) {
    this.tableName = props.tableName;
    this.client = props.client ?? new DynamoDBClient({});
    this.queryPageSize = props.queryPageSize;
    this.writeConcurrency = props.writeConcurrency ?? 10;
  }

  /** Every remembered finding of one account (strongly consistent, all pages). */
  async load(accountId: string): Promise<FindingState[]> {
    const states: FindingState[] = [];
    let startKey: Item | undefined;
    do {
      let page: { Items?: Item[]; LastEvaluatedKey?: Item };
      try {
        page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: partitionKey(accountId) } },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            Limit: this.queryPageSize,
          }),
        );
      } catch (error) {
        throw new StateStoreError(
          `Could not read the state of account ${accountId} from table ${this.tableName}: ${messageOf(error)}`,
          { cause: error },
        );
      }
      for (const item of page.Items ?? []) states.push(this.fromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return states;
  }

  /**
   * Writes each state unless the table holds one from a newer scan (same scan time overwrites, so
   * a retried commit is harmless).
   * @throws StateStoreError on any failure but a stale write; items written before it stay written.
   */
  async commit(states: readonly FindingState[]): Promise<CommitResult> {
    let written = 0;
    const skippedAsStale: string[] = [];
    for (let i = 0; i < states.length; i += this.writeConcurrency) {
      const batch = states.slice(i, i + this.writeConcurrency);
      const outcomes = await Promise.allSettled(batch.map((state) => this.put(state)));
      for (const [index, outcome] of outcomes.entries()) {
        if (outcome.status === 'rejected') throw outcome.reason;
        if (outcome.value === 'written') written++;
        else skippedAsStale.push(batch[index]!.id);
      }
    }
    return { written, skippedAsStale };
  }

  private async put(state: FindingState): Promise<'written' | 'stale'> {
    const item = this.toItem(state);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR scanEpochMs <= :scanEpochMs',
          ExpressionAttributeValues: { ':scanEpochMs': item.scanEpochMs! },
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
        `Could not write the state of finding ${state.id} to table ${this.tableName}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  private toItem(state: FindingState): Item {
    const scanEpochMs = epochMs(state.scanTime, `scanTime of finding ${state.id}`);
    const item: Item = {
      pk: { S: partitionKey(state.accountId) },
      sk: { S: state.id },
      accountId: { S: state.accountId },
      status: { S: state.status },
      notifiedSeverity: { S: state.notifiedSeverity },
      firstSeen: { S: state.firstSeen },
      lastNotifiedAt: { S: state.lastNotifiedAt },
      scanTime: { S: state.scanTime },
      scanEpochMs: { N: String(scanEpochMs) },
      finding: { S: JSON.stringify(state.finding) },
    };
    if (state.status === 'resolved') {
      const resolvedAt = epochMs(state.lastNotifiedAt, `lastNotifiedAt of finding ${state.id}`);
      item.expiresAt = { N: String(Math.floor(resolvedAt / 1000) + RESOLVED_RETENTION_DAYS * 86_400) };
    }
    return item;
  }

  private fromItem(item: Item): FindingState {
    const where = `Item pk=${item.pk?.S ?? '?'} sk=${item.sk?.S ?? '?'} of table ${this.tableName}`;
    const text = (name: string): string => {
      const value = item[name]?.S;
      if (value === undefined) {
        throw new StateStoreError(`${where} has no string attribute "${name}"; delete the item to reset it`);
      }
      return value;
    };
    const status = text('status');
    if (status !== 'open' && status !== 'resolved') {
      throw new StateStoreError(`${where}: status must be open or resolved, got "${status}"`);
    }
    const notifiedSeverity = text('notifiedSeverity');
    if (!(SEVERITIES as readonly string[]).includes(notifiedSeverity)) {
      throw new StateStoreError(`${where}: notifiedSeverity must be one of ${SEVERITIES.join(', ')}`);
    }
    let finding: Finding;
    try {
      finding = JSON.parse(text('finding')) as Finding;
    } catch (error) {
      throw new StateStoreError(`${where}: "finding" is not valid JSON; delete the item to reset it`, {
        cause: error,
      });
    }
    return {
      id: text('sk'),
      accountId: text('accountId'),
      status,
      notifiedSeverity: notifiedSeverity as Severity,
      firstSeen: text('firstSeen'),
      lastNotifiedAt: text('lastNotifiedAt'),
      scanTime: text('scanTime'),
      finding,
    };
  }
}

/** The partition key of an account's items. */
export const partitionKey = (accountId: string): string => `account#${accountId}`;

function epochMs(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new StateStoreError(`${what} is not an ISO time: "${iso}"`);
  return ms;
}

const nameOf = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
