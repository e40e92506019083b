/**
 * `announcedIn` (issue 12): optional on a stored state, so that items written by the previous release
 * decode unchanged; checked like every other attribute; kept by the DynamoDB state store.
 */
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore, partitionKey } from '../../../lambda/adapters/state-store';
import type { FindingState } from '../../../lambda/core/state';
import { decodeState } from '../../../lambda/core/state-codec';
import { SUMMARY_REASONS } from '../../../lambda/core/summary';
import type { Finding } from '../../../lambda/core/types';
import { type LocalDynamo, startDynalite } from '../../support/dynalite';

const NOW = new Date('2026-05-04T06:00:00.000Z');
const SKEW = 60_000;

function finding(accountId: string, user: string): Finding {
  return {
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
  };
}

function state(accountId: string, user: string, extra: Partial<FindingState> = {}): FindingState {
  const f = finding(accountId, user);
  return {
    id: f.id,
    accountId,
    status: 'open',
    notifiedSeverity: 'critical',
    firstSeen: '2026-03-01T06:00:00.000Z',
    lastNotifiedAt: '2026-05-01T06:00:00.000Z',
    scanTime: '2026-05-01T06:00:00.000Z',
    finding: f,
    ...extra,
  };
}

describe('decodeState announcedIn', () => {
  const old = state('123456789012', 'alice');

  it('decodes a state of the previous release (no announcedIn) unchanged, adding nothing', () => {
    const decoded = decodeState(JSON.parse(JSON.stringify(old)), NOW, SKEW);
    expect(decoded).toEqual({ state: old });
    if (!('state' in decoded)) throw new Error(decoded.problem);
    expect(Object.keys(decoded.state)).not.toContain('announcedIn');
  });

  it.each(SUMMARY_REASONS)('decodes announcedIn %s', (reason) => {
    const stored = { ...old, announcedIn: reason };
    expect(decodeState(stored, NOW, SKEW)).toEqual({ state: stored });
  });

  it.each<[string, unknown]>([
    ['an unknown reason', 'digest'],
    ['a reason in capitals', 'BASELINE'],
    ['an empty string', ''],
    ['a number', 1],
    ['null', null],
  ])('reports %s as unreadable, naming announcedIn', (_what, value) => {
    const decoded = decodeState({ ...old, announcedIn: value }, NOW, SKEW);
    expect(decoded).toEqual({ problem: expect.stringMatching(/^announcedIn: \S/) });
  });
});

describe('DynamoStateStore announcedIn', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStateStore;
  beforeAll(async () => {
    dynamo = await startDynalite();
    store = new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client, clock: () => NOW });
  });
  afterAll(async () => {
    await dynamo.close();
  });

  let seq = 0;
  const freshAccount = () => `20000000${String(++seq).padStart(4, '0')}`;
  const getRaw = async (s: FindingState) =>
    (
      await dynamo.client.send(
        new GetItemCommand({
          TableName: dynamo.tableName,
          Key: { pk: { S: partitionKey(s.accountId) }, sk: { S: s.id } },
          ConsistentRead: true,
        }),
      )
    ).Item ?? {};
  /** An item exactly as the previous release wrote it (no announcedIn attribute). */
  const previousRelease = (s: FindingState): Record<string, AttributeValue> => ({
    pk: { S: partitionKey(s.accountId) },
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
  const putRaw = (item: Record<string, AttributeValue>) =>
    dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: item }));

  it('keeps announcedIn through commit and load, and writes no attribute when there is none', async () => {
    const account = freshAccount();
    const states = [
      state(account, 'a', { announcedIn: 'baseline' }),
      state(account, 'b', { announcedIn: 'roll-up' }),
      state(account, 'c', { announcedIn: 'overflow' }),
      state(account, 'd'),
    ];
    await expect(store.commit(states)).resolves.toEqual({ written: 4, skippedAsStale: [] });
    const loaded = await store.load(account);
    expect(loaded.unreadable).toEqual([]);
    const byId = (x: FindingState, y: FindingState) => x.id.localeCompare(y.id);
    expect([...loaded.states].sort(byId)).toEqual([...states].sort(byId));
    expect(loaded.states.find((s) => s.finding.user === 'd')).not.toHaveProperty('announcedIn');
    expect((await getRaw(states[0]!)).announcedIn).toEqual({ S: 'baseline' });
    expect(await getRaw(states[3]!)).not.toHaveProperty('announcedIn');
  });

  it('loads an item of the previous release unchanged', async () => {
    const account = freshAccount();
    const old = state(account, 'alice');
    await putRaw(previousRelease(old));
    const loaded = await store.load(account);
    expect(loaded).toEqual({ states: [old], unreadable: [], known: false });
    expect(Object.keys(loaded.states[0]!)).not.toContain('announcedIn');
  });

  it('drops the attribute when a later announcement was the finding’s own entry', async () => {
    const account = freshAccount();
    const summarized = state(account, 'alice', { announcedIn: 'roll-up' });
    await store.commit([summarized]);
    const { announcedIn: _, ...own } = {
      ...summarized,
      lastNotifiedAt: '2026-05-02T06:00:00.000Z',
      scanTime: '2026-05-02T06:00:00.000Z',
    };
    await store.commit([own]);
    expect(await getRaw(own)).not.toHaveProperty('announcedIn');
    expect((await store.load(account)).states).toEqual([own]);
  });

  it.each<[string, AttributeValue]>([
    ['an unknown reason', { S: 'digest' }],
    ['a number', { N: '1' }],
    ['a list', { L: [{ S: 'baseline' }] }],
  ])('reports an item whose announcedIn is %s as unreadable, naming the attribute', async (_what, value) => {
    const account = freshAccount();
    const bad = state(account, 'bob');
    await putRaw({ ...previousRelease(bad), announcedIn: value });
    const loaded = await store.load(account);
    expect(loaded.states).toEqual([]);
    expect(loaded.unreadable).toEqual([{ id: bad.id, problem: expect.stringMatching(/^announcedIn: /) }]);
  });
});
