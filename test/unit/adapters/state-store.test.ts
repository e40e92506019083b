import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { DynamoStateStore, StateStoreError } from '../../../lambda/adapters/state-store';
import type { FindingState } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';
import { type LocalDynamo, startDynalite } from '../../support/dynalite';

const ACCOUNT = '123456789012';

function finding(user: string, overrides: Partial<Finding> = {}): Finding {
  return {
    id: `${ACCOUNT}/${user}/access-key-age/AKIAIOSFODNN7EXAMPLE`,
    accountId: ACCOUNT,
    user,
    arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
    rule: 'access-key-age',
    severity: 'critical',
    credential: 'AKIAIOSFODNN7EXAMPLE',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    days: 91,
    thresholdDays: 90,
    lastUsed: { date: '2025-01-01T10:00:00Z', service: 'iam', region: 'us-east-1' },
    summary: `${user}'s access key is 91 days old`,
    ...overrides,
  };
}

function state(user: string, overrides: Partial<FindingState> = {}): FindingState {
  const f = finding(user);
  return {
    id: f.id,
    accountId: ACCOUNT,
    status: 'open',
    notifiedSeverity: 'critical',
    firstSeen: '2025-03-01T06:00:00.000Z',
    lastNotifiedAt: '2025-03-01T06:00:00.000Z',
    scanTime: '2025-03-01T06:00:00.000Z',
    finding: f,
    ...overrides,
  };
}

const byId = (a: FindingState, b: FindingState) => a.id.localeCompare(b.id);

describe('DynamoStateStore', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStateStore;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
  });
  beforeEach(() => {
    store = new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client });
  });

  /** Each test uses its own account so that tests share one table without seeing each other. */
  let accountSeq = 0;
  const freshAccount = () => `10000000${String(++accountSeq).padStart(4, '0')}`;
  const inAccount = (accountId: string, s: FindingState): FindingState => ({
    ...s,
    id: s.id.replace(ACCOUNT, accountId),
    accountId,
    finding: { ...s.finding, id: s.finding.id.replace(ACCOUNT, accountId), accountId },
  });

  it('loads exactly the states it committed, findings included', async () => {
    const account = freshAccount();
    const states = [
      inAccount(account, state('alice')),
      inAccount(
        account,
        state('bob', {
          status: 'resolved',
          notifiedSeverity: 'warning',
          finding: finding('bob', { severity: 'warning', lastUsed: null, owner: 'U012AB3CD' }),
        }),
      ),
      inAccount(
        account,
        state('carol', {
          finding: finding('carol', { exemption: { until: '2025-12-31', reason: 'migration' } }),
        }),
      ),
    ];
    await expect(store.commit(states)).resolves.toEqual({ written: 3, skippedAsStale: [] });
    expect((await store.load(account)).sort(byId)).toEqual([...states].sort(byId));
  });

  it("loads only the given account's states", async () => {
    const [one, two] = [freshAccount(), freshAccount()];
    await store.commit([inAccount(one, state('alice')), inAccount(two, state('bob'))]);
    expect((await store.load(one)).map((s) => s.finding.user)).toEqual(['alice']);
    await expect(store.load(freshAccount())).resolves.toEqual([]);
  });

  it('skips a write from an older scan and keeps the newer state', async () => {
    const account = freshAccount();
    const newer = inAccount(
      account,
      state('alice', { scanTime: '2025-03-02T06:00:00.000Z', notifiedSeverity: 'critical' }),
    );
    const older = inAccount(
      account,
      state('alice', { scanTime: '2025-03-01T06:00:00.000Z', notifiedSeverity: 'warning' }),
    );
    await store.commit([newer]);
    await expect(store.commit([older])).resolves.toEqual({ written: 0, skippedAsStale: [older.id] });
    expect(await store.load(account)).toEqual([newer]);
  });

  it('overwrites state when the same scan retries or a newer scan writes', async () => {
    const account = freshAccount();
    const first = inAccount(account, state('alice', { scanTime: '2025-03-01T06:00:00.000Z' }));
    const retried = { ...first, notifiedSeverity: 'warning' as const };
    const later = {
      ...first,
      scanTime: '2025-03-01T07:00:00.000Z',
      lastNotifiedAt: '2025-03-01T07:00:00.000Z',
    };
    await store.commit([first]);
    await expect(store.commit([retried])).resolves.toEqual({ written: 1, skippedAsStale: [] });
    await expect(store.commit([later])).resolves.toEqual({ written: 1, skippedAsStale: [] });
    expect(await store.load(account)).toEqual([later]);
  });

  it('compares scan times as times, not as strings of different precision', async () => {
    const account = freshAccount();
    // As strings, '…00Z' sorts after '…00.500Z' although it is half a second earlier.
    const newer = inAccount(account, state('alice', { scanTime: '2025-03-01T06:00:00.500Z' }));
    const older = inAccount(account, state('alice', { scanTime: '2025-03-01T06:00:00Z' }));
    await store.commit([newer]);
    await expect(store.commit([older])).resolves.toMatchObject({ skippedAsStale: [older.id] });
  });

  it('keeps the newest scan whatever order the commits arrive in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 6 }),
        async (offsets) => {
          const account = freshAccount();
          const base = Date.UTC(2025, 0, 1);
          for (const offset of offsets) {
            await store.commit([
              inAccount(account, state('alice', { scanTime: new Date(base + offset).toISOString() })),
            ]);
          }
          const [stored] = await store.load(account);
          expect(stored?.scanTime).toBe(new Date(base + Math.max(...offsets)).toISOString());
        },
      ),
      { numRuns: 15 },
    );
  });

  it('gives resolved findings an expiresAt 30 days after they were announced resolved, and open ones none', async () => {
    const account = freshAccount();
    const resolved = inAccount(
      account,
      state('alice', { status: 'resolved', lastNotifiedAt: '2025-03-01T06:00:00.000Z' }),
    );
    const open = inAccount(account, state('bob'));
    await store.commit([resolved, open]);
    const raw = async (s: FindingState) =>
      (
        await dynamo.client.send(
          new GetItemCommand({
            TableName: dynamo.tableName,
            Key: { pk: { S: `account#${account}` }, sk: { S: s.id } },
          }),
        )
      ).Item;
    expect((await raw(resolved))?.expiresAt).toEqual({ N: String(Date.UTC(2025, 2, 31, 6) / 1000) });
    expect(await raw(open)).not.toHaveProperty('expiresAt');
  });

  it('reads every page of a large account', async () => {
    const account = freshAccount();
    let queries = 0;
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') queries++;
        return next(args);
      },
      { step: 'initialize', name: 'countQueries' },
    );
    const states = Array.from({ length: 45 }, (_, i) =>
      inAccount(account, state(`user${String(i).padStart(2, '0')}`)),
    );
    const paged = new DynamoStateStore({
      tableName: dynamo.tableName,
      client: dynamo.client,
      queryPageSize: 10,
    });
    await expect(paged.commit(states)).resolves.toEqual({ written: 45, skippedAsStale: [] });
    expect((await paged.load(account)).sort(byId)).toEqual([...states].sort(byId));
    expect(queries).toBe(5);
    dynamo.client.middlewareStack.remove('countQueries');
  });

  it('refuses to write a state whose scan time is not a time', async () => {
    await expect(store.commit([state('alice', { scanTime: 'yesterday' })])).rejects.toThrow(
      new StateStoreError(`scanTime of finding ${state('alice').id} is not an ISO time: "yesterday"`),
    );
  });

  it('names the finding and the table when a write fails', async () => {
    const missing = new DynamoStateStore({ tableName: 'no-such-table', client: dynamo.client });
    const error = await missing.commit([state('alice')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Could not write the state of finding ${state('alice').id} to table no-such-table: `),
    );
    expect((error as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('names the item when the table holds one it cannot read', async () => {
    const account = freshAccount();
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: { pk: { S: `account#${account}` }, sk: { S: 'broken' }, status: { S: 'open' } },
      }),
    );
    await expect(store.load(account)).rejects.toThrow(
      `Item pk=account#${account} sk=broken of table ${dynamo.tableName} has no string attribute "notifiedSeverity"; ` +
        'delete the item to reset it',
    );
  });
});
