import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
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
    expect((await store.load(account)).states.sort(byId)).toEqual([...states].sort(byId));
  });

  it("loads only the given account's states", async () => {
    const [one, two] = [freshAccount(), freshAccount()];
    await store.commit([inAccount(one, state('alice')), inAccount(two, state('bob'))]);
    expect((await store.load(one)).states.map((s) => s.finding.user)).toEqual(['alice']);
    await expect(store.load(freshAccount())).resolves.toEqual({ states: [], unreadable: [], known: false });
  });

  it('marks an account known without a state of its own: load says so, and the marker is no state', async () => {
    const account = freshAccount();
    expect((await store.load(account)).known).toBe(false);
    await store.markKnown([account], new Date('2026-11-23T12:00:00Z'));
    await store.markKnown([account], new Date('2026-11-23T12:10:00Z')); // again: harmless
    expect(await store.load(account)).toEqual({ states: [], unreadable: [], known: true });
    expect((await store.load(freshAccount())).known).toBe(false);
  });

  it('keeps the name an account was shown by on its marker, and a marker without one reads as before', async () => {
    const [named, unnamed, legacy] = [freshAccount(), freshAccount(), freshAccount()];
    const at = new Date('2026-11-23T12:00:00Z');
    await store.markKnown([named, unnamed], at, new Map([[named, 'payments-prod']]));
    expect(await store.load(named)).toEqual({
      states: [],
      unreadable: [],
      known: true,
      knownName: 'payments-prod',
    });
    const item = await dynamo.client.send(
      new GetItemCommand({
        TableName: dynamo.tableName,
        Key: { pk: { S: `account#${named}` }, sk: { S: '#known' } },
      }),
    );
    expect(item.Item).toEqual({
      pk: { S: `account#${named}` },
      sk: { S: '#known' },
      knownAt: { S: at.toISOString() },
      accountName: { S: 'payments-prod' },
    });
    expect(await store.load(unnamed)).toEqual({ states: [], unreadable: [], known: true });
    // A marker of the release before: pk, sk and knownAt only.
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: { pk: { S: `account#${legacy}` }, sk: { S: '#known' }, knownAt: { S: at.toISOString() } },
      }),
    );
    expect(await store.load(legacy)).toEqual({ states: [], unreadable: [], known: true });
    // Written again without a name (the alias was removed): the name is gone.
    await store.markKnown([named], at);
    expect(await store.load(named)).toEqual({ states: [], unreadable: [], known: true });
  });

  it.each([
    ['a number', { N: '7' }, 'accountName: expected a string attribute (S)'],
    ['an empty string', { S: '' }, 'accountName: expected 1 to 128 characters, got 0'],
    ['129 characters', { S: 'x'.repeat(129) }, 'accountName: expected 1 to 128 characters, got 129'],
    ['a control character', { S: 'prod\u001b[31m' }, 'accountName: contains a control character'],
  ] as [string, AttributeValue, string][])(
    "reports a marker's name that is %s, and leaves it out",
    async (_what, value, problem) => {
      const account = freshAccount();
      await dynamo.client.send(
        new PutItemCommand({
          TableName: dynamo.tableName,
          Item: {
            pk: { S: `account#${account}` },
            sk: { S: '#known' },
            knownAt: { S: '2026-11-23T12:00:00.000Z' },
            accountName: value,
          },
        }),
      );
      // Still known (the marker's own fact), shown by its id.
      expect(await store.load(account)).toEqual({
        states: [],
        unreadable: [{ id: '#known', problem }],
        known: true,
      });
    },
  );

  it('writes no name it could not read back (too long, or with a control character)', async () => {
    const [long, control] = [freshAccount(), freshAccount()];
    await store.markKnown(
      [long, control],
      new Date('2026-11-23T12:00:00Z'),
      new Map([
        [long, 'x'.repeat(129)],
        [control, 'a\nb'],
      ]),
    );
    expect(await store.load(long)).toEqual({ states: [], unreadable: [], known: true });
    expect(await store.load(control)).toEqual({ states: [], unreadable: [], known: true });
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
    expect((await store.load(account)).states).toEqual([newer]);
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
    expect((await store.load(account)).states).toEqual([later]);
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
          const [stored] = (await store.load(account)).states;
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
    expect((await paged.load(account)).states.sort(byId)).toEqual([...states].sort(byId));
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

  /** A stored item as the table holds it, written behind the store's back. */
  const putRaw = (item: Record<string, AttributeValue>) =>
    dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: item }));
  const rawOf = (s: FindingState): Record<string, AttributeValue> => ({
    pk: { S: `account#${s.accountId}` },
    sk: { S: s.id },
    accountId: { S: s.accountId },
    status: { S: s.status },
    notifiedSeverity: { S: s.notifiedSeverity },
    firstSeen: { S: s.firstSeen },
    lastNotifiedAt: { S: s.lastNotifiedAt },
    scanTime: { S: s.scanTime },
    scanEpochMs: { N: String(Date.parse(s.scanTime)) },
    finding: { S: JSON.stringify(s.finding) },
  });

  it.each<[string, (item: Record<string, AttributeValue>) => Record<string, AttributeValue>, RegExp]>([
    ['an empty finding', (i) => ({ ...i, finding: { S: '{}' } }), /^finding.id: /],
    ['a finding that is not JSON', (i) => ({ ...i, finding: { S: '{"id":' } }), /^finding: not valid JSON$/],
    ['a status in capitals', (i) => ({ ...i, status: { S: 'OPEN' } }), /^status: /],
    ['no scanEpochMs', ({ scanEpochMs: _, ...i }) => i, /^scanEpochMs: expected a number attribute$/],
    [
      'a scanEpochMs that is not its scanTime',
      (i) => ({ ...i, scanEpochMs: { N: '1' } }),
      /^scanEpochMs 1 is not the time of scanTime/,
    ],
    [
      'a scan time in 2099',
      (i) => ({
        ...i,
        scanTime: { S: '2099-01-01T00:00:00.000Z' },
        scanEpochMs: { N: String(Date.parse('2099-01-01T00:00:00Z')) },
      }),
      /^scanTime 2099-01-01T00:00:00.000Z lies in the future/,
    ],
    [
      'a finding of another id',
      (i) => ({ ...i, finding: { S: JSON.stringify(finding('mallory')) } }),
      /^finding.id ".*mallory.*" is not the item's id$/,
    ],
  ])(
    'reports an item with %s as unreadable by id, loads the others, and overwrites it on the next write',
    async (_what, spoil, problem) => {
      const account = freshAccount();
      const good = inAccount(account, state('alice'));
      const bad = inAccount(account, state('bob'));
      await store.commit([good]);
      await putRaw(spoil(rawOf(bad)));
      const loaded = await store.load(account);
      expect(loaded.states).toEqual([good]);
      expect(loaded.unreadable).toEqual([{ id: bad.id, problem: expect.stringMatching(problem) }]);
      // The next write of that id replaces it, whatever time the broken item claims.
      const rewritten = { ...bad, scanTime: new Date().toISOString() };
      await expect(store.commit([rewritten])).resolves.toEqual({ written: 1, skippedAsStale: [] });
      expect((await store.load(account)).states.sort(byId)).toEqual([good, rewritten].sort(byId));
    },
  );

  it('never writes a scan time later than its clock plus the skew', async () => {
    const clock = () => new Date('2026-11-23T12:00:00Z');
    const clocked = new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client, clock });
    const account = freshAccount();
    const ok = inAccount(account, state('alice', { scanTime: '2026-11-23T12:00:59.000Z' }));
    const ahead = inAccount(account, state('bob', { scanTime: '2026-11-23T12:01:01.000Z' }));
    await expect(clocked.commit([ok, ahead])).rejects.toThrow(
      `scanTime 2026-11-23T12:01:01.000Z of finding ${ahead.id} lies after the clock (2026-11-23T12:00:00.000Z); not written`,
    );
    // Checked before anything is written.
    expect((await clocked.load(account)).states).toEqual([]);
    await expect(clocked.commit([ok])).resolves.toEqual({ written: 1, skippedAsStale: [] });
  });
});
