/**
 * One state per finding and channel (its lane) in the state table, on a real DynamoDB (dynalite): the
 * default channel's state under the bare finding id, any other channel's under `<finding id>#<channel>`
 * (lambda/contracts.ts `stateSortKey`), and the states the releases before wrote under the bare id
 * whatever their channel, read as what they are, reported `misplaced` and moved by `relocate`.
 */
import { type AttributeValue, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore, StateStoreError } from '../../../lambda/adapters/state-store';
import type { FindingState } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';
import { type LocalDynamo, startDynalite } from '../../support/dynalite';

type Item = Record<string, AttributeValue>;

const finding = (accountId: string, user: string): Finding => ({
  id: `${accountId}/${user}/access-key-age/AKIAIOSFODNN7EXAMPLE`,
  accountId,
  user,
  arn: `arn:aws:iam::${accountId}:user/${user}`,
  rule: 'access-key-age',
  severity: 'critical',
  credential: 'AKIAIOSFODNN7EXAMPLE',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  days: 91,
  thresholdDays: 90,
  summary: `${user}'s access key is 91 days old`,
});

const SCAN = '2026-12-01T06:00:00.000Z';
const LATER = '2026-12-02T06:00:00.000Z';

function laneState(accountId: string, channel: string | undefined, extra: Partial<FindingState> = {}) {
  const f = finding(accountId, 'alice');
  const state: FindingState = {
    id: f.id,
    accountId,
    status: 'open',
    notifiedSeverity: 'critical',
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastNotifiedAt: SCAN,
    scanTime: SCAN,
    finding: f,
    ...(channel !== undefined ? { channel } : {}),
    ...extra,
  };
  return state;
}

/** A state's item as the releases before one state per channel wrote it: under the bare finding id. */
const legacyItem = (s: FindingState): Item => ({
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
  ...(s.channel !== undefined ? { channel: { S: s.channel } } : {}),
});

describe('DynamoStateStore: one state per finding and channel', () => {
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
  const freshAccount = () => `20000000${String(++accountSeq).padStart(4, '0')}`;

  const putRaw = (item: Item) =>
    dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: item }));
  /** The sort keys of an account's items, as the table holds them. */
  const sortKeys = async (accountId: string) =>
    (
      await dynamo.client.send(
        new QueryCommand({
          TableName: dynamo.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `account#${accountId}` } },
          ConsistentRead: true,
        }),
      )
    ).Items?.map((i) => i.sk?.S);
  const rawItem = async (accountId: string, sk: string) =>
    (
      await dynamo.client.send(
        new GetItemCommand({
          TableName: dynamo.tableName,
          Key: { pk: { S: `account#${accountId}` }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      )
    ).Item;
  const byChannel = (a: FindingState, b: FindingState) => (a.channel ?? '').localeCompare(b.channel ?? '');

  it("writes a finding's states in two channels as two items, and loads both with their channels", async () => {
    const account = freshAccount();
    const inDefault = laneState(account, 'default');
    const inTeams = laneState(account, 'teams', { notifiedSeverity: 'warning' });
    await expect(store.commit([inDefault, inTeams])).resolves.toEqual({ written: 2, skippedAsStale: [] });
    expect(await sortKeys(account)).toEqual([inDefault.id, `${inDefault.id}#teams`]);
    expect((await rawItem(account, `${inDefault.id}#teams`))?.channel).toEqual({ S: 'teams' });
    expect((await rawItem(account, inDefault.id))?.channel).toEqual({ S: 'default' });
    const loaded = await store.load(account);
    expect(loaded).toEqual({ states: [inDefault, inTeams], unreadable: [], known: false });
    expect(loaded).not.toHaveProperty('misplaced');
    // Each lane has its own lifecycle: resolving one leaves the other open.
    const resolved = { ...inTeams, status: 'resolved' as const, scanTime: LATER, lastNotifiedAt: LATER };
    await store.commit([resolved]);
    expect((await store.load(account)).states.sort(byChannel)).toEqual([inDefault, resolved]);
    expect((await rawItem(account, `${inDefault.id}#teams`))?.expiresAt).toBeDefined();
    expect(await rawItem(account, inDefault.id)).not.toHaveProperty('expiresAt');
  });

  it("puts the configured default channel's state under the bare id, and the 'default' channel's under id#default", async () => {
    const account = freshAccount();
    const security = new DynamoStateStore({
      tableName: dynamo.tableName,
      client: dynamo.client,
      defaultChannel: 'security',
    });
    const inSecurity = laneState(account, 'security');
    const inDefault = laneState(account, 'default');
    await security.commit([inSecurity, inDefault]);
    expect(await sortKeys(account)).toEqual([inSecurity.id, `${inSecurity.id}#default`]);
    expect((await rawItem(account, inSecurity.id))?.channel).toEqual({ S: 'security' });
    const loaded = await security.load(account);
    expect(loaded.states.sort(byChannel)).toEqual([inDefault, inSecurity]);
    expect(loaded).not.toHaveProperty('misplaced');
  });

  it("reads an item without a channel under the bare id as the default channel's state, not misplaced", async () => {
    const account = freshAccount();
    const before = laneState(account, undefined);
    await putRaw(legacyItem(before));
    const loaded = await store.load(account);
    expect(loaded).toEqual({ states: [before], unreadable: [], known: false });
    // The default channel's next state replaces it; another channel's is beside it.
    const next = laneState(account, 'default', { scanTime: LATER, lastNotifiedAt: LATER });
    const teams = laneState(account, 'teams');
    await store.commit([next, teams]);
    expect(await sortKeys(account)).toEqual([before.id, `${before.id}#teams`]);
    expect(await store.load(account)).toEqual({ states: [next, teams], unreadable: [], known: false });
  });

  it("loads a bare item of another channel as that channel's state, misplaced; relocate moves it, and again is harmless", async () => {
    const account = freshAccount();
    const payments = laneState(account, 'payments');
    await putRaw(legacyItem(payments));
    const loaded = await store.load(account);
    expect(loaded).toEqual({ states: [payments], unreadable: [], known: false, misplaced: [payments] });

    await expect(store.relocate(loaded.misplaced!)).resolves.toEqual({ written: 1, skippedAsStale: [] });
    expect(await sortKeys(account)).toEqual([`${payments.id}#payments`]);
    expect((await rawItem(account, `${payments.id}#payments`))?.channel).toEqual({ S: 'payments' });
    const after = await store.load(account);
    expect(after).toEqual({ states: [payments], unreadable: [], known: false });
    expect(after).not.toHaveProperty('misplaced');

    // A retried relocation: the same write again, nothing left to delete.
    await expect(store.relocate(loaded.misplaced!)).resolves.toEqual({ written: 1, skippedAsStale: [] });
    expect(await sortKeys(account)).toEqual([`${payments.id}#payments`]);
    await expect(store.load(account)).resolves.toEqual(after);
  });

  it.each([
    ['of the same scan', SCAN],
    ['of a later scan', LATER],
  ])(
    "never deletes the default channel's state written at the bare id %s since the misplaced one was read",
    async (_, scanTime) => {
      const account = freshAccount();
      const payments = laneState(account, 'payments');
      await putRaw(legacyItem(payments));
      const { misplaced } = await store.load(account);
      expect(misplaced).toEqual([payments]);
      // A default channel's state of the same finding takes the bare key (a scan as late wins there).
      const inDefault = laneState(account, 'default', { scanTime, lastNotifiedAt: scanTime });
      await expect(store.commit([inDefault])).resolves.toEqual({ written: 1, skippedAsStale: [] });
      await expect(store.relocate(misplaced!)).resolves.toEqual({ written: 1, skippedAsStale: [] });
      expect((await rawItem(account, payments.id))?.channel).toEqual({ S: 'default' });
      expect((await store.load(account)).states.sort(byChannel)).toEqual([inDefault, payments]);
    },
  );

  it('never deletes a bare item of the channel newer than the state relocated', async () => {
    const account = freshAccount();
    const payments = laneState(account, 'payments');
    await putRaw(legacyItem(payments));
    const { misplaced } = await store.load(account);
    const newer = { ...payments, scanTime: LATER, lastNotifiedAt: LATER };
    await putRaw(legacyItem(newer)); // e.g. a run of the release before, still writing there
    await store.relocate(misplaced!);
    expect(await sortKeys(account)).toEqual([payments.id, `${payments.id}#payments`]);
    const loaded = await store.load(account);
    expect(loaded.states).toEqual([newer]);
    expect(loaded.misplaced).toEqual([newer]);
  });

  it('loads only the newer of a bare and a suffixed item of one lane, and lists the bare one as misplaced', async () => {
    const account = freshAccount();
    const older = laneState(account, 'teams');
    const newer = laneState(account, 'teams', {
      scanTime: LATER,
      lastNotifiedAt: LATER,
      notifiedSeverity: 'warning',
    });
    // The suffixed item newer: it is the lane's state; the bare one is only misplaced.
    await putRaw(legacyItem(older));
    await store.commit([newer]);
    expect(await store.load(account)).toEqual({
      states: [newer],
      unreadable: [],
      known: false,
      misplaced: [older],
    });
    // Relocating the loser writes nothing over the newer (stale) and removes it from the bare id.
    await expect(store.relocate([older])).resolves.toEqual({ written: 0, skippedAsStale: [older.id] });
    expect(await sortKeys(account)).toEqual([`${older.id}#teams`]);
    expect(await store.load(account)).toEqual({ states: [newer], unreadable: [], known: false });
  });

  it('loads the bare item when it is the newer of its lane, and the suffixed one when both are of one scan', async () => {
    const account = freshAccount();
    const older = laneState(account, 'teams');
    const newer = laneState(account, 'teams', { scanTime: LATER, lastNotifiedAt: LATER });
    await putRaw(legacyItem(newer));
    await store.commit([older]);
    expect(await store.load(account)).toMatchObject({ states: [newer], misplaced: [newer] });

    const tied = { ...newer, notifiedSeverity: 'warning' as const };
    await store.commit([tied]); // same scan time: overwrites the suffixed item
    expect(await store.load(account)).toMatchObject({ states: [tied], misplaced: [newer] });
  });

  it('reads a bare item of the default channel and an id#default item as one lane, the later scan winning; relocate moves id#default to the bare id', async () => {
    const account = freshAccount();
    const bare = laneState(account, undefined);
    const suffixed = laneState(account, 'default', { scanTime: LATER, lastNotifiedAt: LATER });
    await putRaw(legacyItem(bare));
    await putRaw({ ...legacyItem(suffixed), sk: { S: `${suffixed.id}#default` } });
    const loaded = await store.load(account);
    expect(loaded).toEqual({ states: [suffixed], unreadable: [], known: false, misplaced: [suffixed] });
    // Left there when defaultChannel changed: moved to the bare id, its former item removed.
    await expect(store.relocate(loaded.misplaced!)).resolves.toEqual({ written: 1, skippedAsStale: [] });
    expect(await sortKeys(account)).toEqual([suffixed.id]);
    expect(await store.load(account)).toEqual({ states: [suffixed], unreadable: [], known: false });
  });

  it('after defaultChannel changed, moves the former default off the bare id before the new default takes it', async () => {
    const account = freshAccount();
    // Written while 'default' was the default channel: 'default' at the bare id, 'security' beside it.
    const wasDefault = laneState(account, 'default', { scanTime: LATER, lastNotifiedAt: LATER });
    const security = laneState(account, 'security');
    await putRaw(legacyItem(wasDefault));
    await putRaw({ ...legacyItem(security), sk: { S: `${security.id}#security` } });
    const now = new DynamoStateStore({
      tableName: dynamo.tableName,
      client: dynamo.client,
      defaultChannel: 'security',
    });
    const loaded = await now.load(account);
    expect(loaded.misplaced).toEqual([wasDefault, security]);
    await expect(now.relocate([...loaded.misplaced!].reverse())).resolves.toEqual({
      written: 2,
      skippedAsStale: [],
    });
    expect((await sortKeys(account))?.sort()).toEqual([security.id, `${security.id}#default`]);
    const again = await now.load(account);
    expect(again.misplaced).toBeUndefined();
    expect(again.states.map((s) => s.channel).sort()).toEqual(['default', 'security']);
  });

  it('never deletes an id#default item newer than the state relocated from it', async () => {
    const account = freshAccount();
    const older = laneState(account, 'default');
    const newer = laneState(account, 'default', { scanTime: LATER, lastNotifiedAt: LATER });
    await putRaw({ ...legacyItem(newer), sk: { S: `${newer.id}#default` } });
    await store.relocate([older]);
    expect((await sortKeys(account))?.sort()).toEqual([older.id, `${older.id}#default`]);
  });

  it.each<[string, (item: Item) => Item, string]>([
    [
      'a channel attribute of another channel',
      (i) => ({ ...i, channel: { S: 'slack' } }),
      'sk names channel teams, its channel attribute is slack',
    ],
    [
      'no channel attribute',
      ({ channel: _, ...i }) => i,
      'sk names channel teams, it has no channel attribute',
    ],
  ])('reports an item under id#teams with %s as unreadable by its key', async (_what, spoil, problem) => {
    const account = freshAccount();
    const teams = laneState(account, 'teams');
    const sk = `${teams.id}#teams`;
    await putRaw(spoil({ ...legacyItem(teams), sk: { S: sk } }));
    expect(await store.load(account)).toEqual({
      states: [],
      unreadable: [{ id: sk, problem }],
      known: false,
    });
  });

  it('reports an item whose key names no channel as unreadable, and still loads the others', async () => {
    const account = freshAccount();
    const good = laneState(account, 'default');
    await store.commit([good]);
    const sk = `${good.id}#Bad Name`;
    await putRaw({ ...legacyItem(laneState(account, 'Bad Name')), sk: { S: sk } });
    const loaded = await store.load(account);
    expect(loaded.states).toEqual([good]);
    expect(loaded.unreadable).toEqual([
      { id: sk, problem: expect.stringMatching(/^sk names channel "Bad Name", expected 1-64 characters/) },
    ]);
  });

  it('refuses to relocate a state of no channel, and writes nothing', async () => {
    const account = freshAccount();
    const payments = laneState(account, 'payments');
    const none = laneState(account, undefined);
    const error = await store.relocate([payments, none]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toBe(
      `Refused to relocate the state of finding ${none.id}: it has no channel, so it is under its own key already; nothing written`,
    );
    expect(await sortKeys(account)).toEqual([]);
    // With defaultChannel 'security', 'default' is another channel: its bare state is misplaced.
    const security = new DynamoStateStore({
      tableName: dynamo.tableName,
      client: dynamo.client,
      defaultChannel: 'security',
    });
    const inDefault = laneState(account, 'default');
    await putRaw(legacyItem(inDefault));
    const loaded = await security.load(account);
    expect(loaded.misplaced).toEqual([inDefault]);
    await security.relocate(loaded.misplaced!);
    expect(await sortKeys(account)).toEqual([`${inDefault.id}#default`]);
  });

  it('relocates many states, writeConcurrency at once', async () => {
    const account = freshAccount();
    const paged = new DynamoStateStore({
      tableName: dynamo.tableName,
      client: dynamo.client,
      writeConcurrency: 3,
    });
    let deletes = 0;
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteItemCommand') deletes++;
        return next(args);
      },
      { step: 'initialize', name: 'countDeletes' },
    );
    const many = Array.from({ length: 7 }, (_, i) => {
      const f = finding(account, `user${i}`);
      return laneState(account, 'payments', { id: f.id, finding: f });
    });
    for (const s of many) await putRaw(legacyItem(s));
    const { misplaced } = await paged.load(account);
    expect(misplaced).toHaveLength(7);
    try {
      await expect(paged.relocate(misplaced!)).resolves.toEqual({ written: 7, skippedAsStale: [] });
    } finally {
      dynamo.client.middlewareStack.remove('countDeletes');
    }
    expect(deletes).toBe(7);
    expect(await sortKeys(account)).toEqual(many.map((s) => `${s.id}#payments`).sort());
  });

  it('names the finding, its channel and the table when relocating fails, and no other attribute', async () => {
    const missing = new DynamoStateStore({ tableName: 'no-such-table', client: dynamo.client });
    const account = freshAccount();
    const payments = laneState(account, 'payments', {
      finding: { ...finding(account, 'alice'), summary: 'SECRET-SUMMARY' },
    });
    const error = await missing.relocate([payments]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Could not write the state of finding ${payments.id} in channel payments to table no-such-table: `,
      ),
    );
    expect(String(error)).not.toContain('SECRET-SUMMARY');
  });

  it('names the finding, its channel and the table when the delete of the former item fails', async () => {
    const account = freshAccount();
    const payments = laneState(account, 'payments');
    await putRaw(legacyItem(payments));
    const failing = new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client });
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteItemCommand')
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        return next(args);
      },
      { step: 'initialize', name: 'failDeletes' },
    );
    try {
      const error = await failing.relocate([payments]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as Error).message).toBe(
        `Could not remove the state of finding ${payments.id} in channel payments from its former key in table ${dynamo.tableName}: throttled`,
      );
      expect((error as Error).cause).toMatchObject({ name: 'ThrottlingException' });
    } finally {
      dynamo.client.middlewareStack.remove('failDeletes');
    }
    // Written to its own key; still under the bare id too, for the next run to remove.
    expect(await sortKeys(account)).toEqual([payments.id, `${payments.id}#payments`]);
    expect((await store.load(account)).misplaced).toEqual([payments]);
  });

  it('refuses a default channel that is not a channel name', () => {
    expect(
      () =>
        new DynamoStateStore({
          tableName: dynamo.tableName,
          client: dynamo.client,
          defaultChannel: 'Bad Name',
        }),
    ).toThrow(
      new StateStoreError(
        'defaultChannel of the state store: expected 1-64 characters of a-z 0-9 _ -, starting with a letter or digit, got "Bad Name"',
      ),
    );
  });
});
