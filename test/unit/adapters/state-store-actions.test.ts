/**
 * Enforcement actions in the state table (issue 15): recorded once, at once, with no TTL, in the
 * account's partition beside its finding states; read back by later runs; a bad item is unreadable,
 * never thrown; a bad action is refused before anything is written.
 */
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  actionSortKey,
  DynamoStateStore,
  partitionKey,
  StateStoreError,
} from '../../../lambda/adapters/state-store';
import type { EnforcementAction } from '../../../lambda/core/enforcement';
import type { FindingState } from '../../../lambda/core/state';
import { type LocalDynamo, startDynalite } from '../../support/dynalite';

const NOW = new Date('2026-05-04T06:00:00.000Z');

function action(accountId: string, overrides: Partial<EnforcementAction> = {}): EnforcementAction {
  return {
    kind: 'deactivated',
    accountId,
    user: 'alice',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    credential: 'key-2025-01-01T00:00:00Z',
    at: '2026-05-04T06:00:00.000Z',
    reason: 'age: 120 days old, deactivation at 100',
    runId: '2026-05-04T06:00:00Z_exec-1',
    actor: `arn:aws:iam::${accountId}:role/credwatch-scanner`,
    noticeAt: '2026-04-20T06:00:00.000Z',
    ...overrides,
  };
}

function state(accountId: string): FindingState {
  const id = `${accountId}/alice/access-key-age/key-2025-01-01T00:00:00Z`;
  return {
    id,
    accountId,
    status: 'open',
    notifiedSeverity: 'critical',
    firstSeen: '2026-03-01T06:00:00.000Z',
    lastNotifiedAt: '2026-05-01T06:00:00.000Z',
    scanTime: '2026-05-01T06:00:00.000Z',
    finding: {
      id,
      accountId,
      user: 'alice',
      arn: `arn:aws:iam::${accountId}:user/alice`,
      rule: 'access-key-age',
      severity: 'critical',
      credential: 'key-2025-01-01T00:00:00Z',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      days: 120,
      thresholdDays: 90,
      summary: "alice's access key is 120 days old",
    },
  };
}

describe('DynamoStateStore enforcement actions', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStateStore;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
  });
  beforeEach(() => {
    store = new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client, clock: () => NOW });
  });

  /** Each test uses its own account so that tests share one table without seeing each other. */
  let accountSeq = 0;
  const freshAccount = () => `20000000${String(++accountSeq).padStart(4, '0')}`;

  /** Every item of an account's partition, as stored. */
  const partitionItems = async (accountId: string): Promise<Record<string, AttributeValue>[]> =>
    (
      await dynamo.client.send(
        new QueryCommand({
          TableName: dynamo.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: partitionKey(accountId) } },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  const putRaw = (item: Record<string, AttributeValue>) =>
    dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: item }));

  it('loads the actions it recorded, optional fields as given', async () => {
    const account = freshAccount();
    const deactivated = action(account);
    const {
      actor: _actor,
      noticeAt: _noticeAt,
      ...bare
    } = action(account, {
      kind: 'reactivation-seen',
      at: '2026-05-05T06:00:00.000Z',
      reason: 'Active again after credwatch deactivated it',
    });
    await store.recordAction(deactivated);
    await store.recordAction(bare);

    const loaded = await store.load(account);
    expect(loaded.actions).toEqual([deactivated, bare]);
    expect(Object.keys(loaded.actions![1]!)).not.toContain('actor');
    expect(loaded.unreadable).toEqual([]);
    expect(loaded.states).toEqual([]);
    expect(loaded.known).toBe(false);
  });

  it('stores each field as a string, the kind as `action`, under its sort key, with no expiresAt', async () => {
    const account = freshAccount();
    const a = action(account);
    await store.recordAction(a);
    const sk = `#action/AKIAIOSFODNN7EXAMPLE/2026-05-04T06:00:00.000Z/deactivated`;
    expect(actionSortKey(a)).toBe(sk);
    const { Item } = await dynamo.client.send(
      new GetItemCommand({
        TableName: dynamo.tableName,
        Key: { pk: { S: `account#${account}` }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toEqual({
      pk: { S: `account#${account}` },
      sk: { S: sk },
      action: { S: 'deactivated' },
      accountId: { S: account },
      user: { S: 'alice' },
      accessKeyId: { S: 'AKIAIOSFODNN7EXAMPLE' },
      credential: { S: 'key-2025-01-01T00:00:00Z' },
      at: { S: '2026-05-04T06:00:00.000Z' },
      reason: { S: 'age: 120 days old, deactivation at 100' },
      runId: { S: '2026-05-04T06:00:00Z_exec-1' },
      actor: { S: `arn:aws:iam::${account}:role/credwatch-scanner` },
      noticeAt: { S: '2026-04-20T06:00:00.000Z' },
    });
    expect(Item).not.toHaveProperty('expiresAt');
  });

  it('records the same action once: a second record (a retried run) writes nothing and does not throw', async () => {
    const account = freshAccount();
    const first = action(account);
    await store.recordAction(first);
    await expect(store.recordAction(first)).resolves.toBeUndefined();
    // The same key, instant and kind from a retried run with another run id: the first record stands.
    await expect(
      store.recordAction({ ...first, at: '2026-05-04T06:00:00Z', runId: '2026-05-04T06:00:00Z_exec-2' }),
    ).resolves.toBeUndefined();

    expect(await partitionItems(account)).toHaveLength(1);
    expect((await store.load(account)).actions).toEqual([first]);
  });

  it('keeps every action on one key, all keys oldest first whatever the order they were recorded in', async () => {
    const account = freshAccount();
    const deactivated = action(account, { at: '2026-05-04T06:00:00.000Z' });
    const seen = action(account, {
      kind: 'reactivation-seen',
      at: '2026-05-06T06:00:00.000Z',
      reason: 'Active again after credwatch deactivated it',
    });
    const again = action(account, { at: '2026-06-10T06:00:00.000Z', runId: '2026-06-10T06:00:00Z_exec-9' });
    // Sort keys order by key first: load sorts by time (another key, a time in another zone).
    const earliest = action(account, {
      accessKeyId: 'AKIAZZZZZZZZZZZZZZZZ',
      credential: 'key-2025-03-01T00:00:00Z',
      at: '2026-05-04T07:00:00+02:00',
    });
    for (const a of [again, seen, deactivated, earliest]) await store.recordAction(a);

    expect((await store.load(account)).actions).toEqual([earliest, deactivated, seen, again]);
    expect(await partitionItems(account)).toHaveLength(4);
  });

  it('reports an action item that does not decode as unreadable (its sk, the field), never thrown', async () => {
    const account = freshAccount();
    const good = action(account);
    await store.recordAction(good);
    const base = {
      pk: { S: partitionKey(account) },
      action: { S: 'deactivated' },
      accountId: { S: account },
      user: { S: 'bob' },
      credential: { S: 'key-2025-02-01T00:00:00Z' },
      reason: { S: 'age: 120 days old, deactivation at 100' },
      runId: { S: 'run-1' },
    };
    const badKey = '#action/akia-lower/2026-05-04T06:00:00.000Z/deactivated';
    const noTime = '#action/AKIAI44QH8DHBEXAMPLE/2026-05-04T06:00:00.000Z/deactivated';
    const numericActor = '#action/AKIAJ55RI9EICFXAMPLE/2026-05-04T06:00:00.000Z/deactivated';
    const moved = '#action/AKIAK66SJ0FJDGXAMPLE/2026-05-01T06:00:00.000Z/deactivated';
    const otherAccount = '#action/AKIAL77TK1GKEHXAMPLE/2026-05-04T06:00:00.000Z/deactivated';
    await putRaw({
      ...base,
      sk: { S: badKey },
      accessKeyId: { S: 'akia-lower' },
      at: { S: '2026-05-04T06:00:00.000Z' },
    });
    await putRaw({ ...base, sk: { S: noTime }, accessKeyId: { S: 'AKIAI44QH8DHBEXAMPLE' } });
    await putRaw({
      ...base,
      sk: { S: numericActor },
      accessKeyId: { S: 'AKIAJ55RI9EICFXAMPLE' },
      at: { S: '2026-05-04T06:00:00.000Z' },
      actor: { N: '7' },
    });
    await putRaw({
      ...base,
      sk: { S: moved },
      accessKeyId: { S: 'AKIAK66SJ0FJDGXAMPLE' },
      at: { S: '2026-05-04T06:00:00.000Z' },
    });
    await putRaw({
      ...base,
      sk: { S: otherAccount },
      accountId: { S: '999999999999' },
      accessKeyId: { S: 'AKIAL77TK1GKEHXAMPLE' },
      at: { S: '2026-05-04T06:00:00.000Z' },
    });

    const loaded = await store.load(account);
    expect(loaded.actions).toEqual([good]);
    const problems = new Map(loaded.unreadable.map((u) => [u.id, u.problem]));
    expect([...problems.keys()].sort()).toEqual([badKey, moved, noTime, numericActor, otherAccount].sort());
    expect(problems.get(badKey)).toMatch(/^accessKeyId: expected an access key id/);
    expect(problems.get(noTime)).toMatch(/^at: /);
    expect(problems.get(numericActor)).toMatch(/^actor: /);
    expect(problems.get(moved)).toBe(
      "sk is not the action's key, time and kind (#action/AKIAK66SJ0FJDGXAMPLE/2026-05-04T06:00:00.000Z/deactivated)",
    );
    expect(problems.get(otherAccount)).toBe(
      `accountId 999999999999 is not the partition's account ${account}`,
    );
  });

  it('reads finding states and the known marker exactly as without action items', async () => {
    const account = freshAccount();
    await store.commit([state(account)]);
    await store.markKnown([account], NOW);
    const before = await store.load(account);
    expect(before.states).toHaveLength(1);
    expect(before.known).toBe(true);
    // No action: no `actions` (a load reads as it did before actions existed).
    expect(before).not.toHaveProperty('actions');

    const a = action(account);
    await store.recordAction(a);
    await store.recordAction(action(account, { kind: 'reactivation-seen', at: '2026-05-05T06:00:00.000Z' }));
    const after = await store.load(account);
    expect(after.states).toEqual(before.states);
    expect(after.known).toBe(true);
    expect(after.unreadable).toEqual([]);
    expect(after.actions).toHaveLength(2);
    // Committing the finding's state again touches no action item.
    await store.commit([{ ...state(account), scanTime: '2026-05-02T06:00:00.000Z' }]);
    expect((await store.load(account)).actions).toEqual(after.actions);
  });

  it('refuses an invalid action before writing anything, naming the field', async () => {
    const account = freshAccount();
    for (const [bad, field] of [
      [action(account, { accessKeyId: 'not-a-key' }), 'accessKeyId'],
      [action(account, { at: 'yesterday' }), 'at'],
      [action(account, { accountId: '12345' }), 'accountId'],
      [action(account, { reason: '' }), 'reason'],
    ] as const) {
      const refusal = store.recordAction(bad);
      await expect(refusal).rejects.toThrow(StateStoreError);
      await expect(refusal).rejects.toThrow(
        new RegExp(`^Refused to record .*: ${field}: .*; nothing written$`),
      );
    }
    expect(await partitionItems(account)).toEqual([]);
    expect(await partitionItems('12345')).toEqual([]);
  });

  it('names the account, the user and the key when DynamoDB refuses the write', async () => {
    const account = freshAccount();
    const missing = new DynamoStateStore({
      tableName: 'no-such-table',
      client: dynamo.client,
      clock: () => NOW,
    });
    const refusal = missing.recordAction(action(account));
    await expect(refusal).rejects.toThrow(StateStoreError);
    await expect(refusal).rejects.toThrow(
      new RegExp(
        `^Could not record the deactivated action on access key AKIAIOSFODNN7EXAMPLE of user "alice" in account ${account} in table no-such-table: `,
      ),
    );
  });

  it('names them too when DynamoDB cannot be reached', async () => {
    const account = freshAccount();
    const client = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
      maxAttempts: 1,
    });
    try {
      const down = new DynamoStateStore({ tableName: dynamo.tableName, client, clock: () => NOW });
      await expect(down.recordAction(action(account))).rejects.toThrow(
        /^Could not record the deactivated action on access key AKIAIOSFODNN7EXAMPLE of user "alice"/,
      );
    } finally {
      client.destroy();
    }
  });
});
