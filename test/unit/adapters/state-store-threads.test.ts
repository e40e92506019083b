/**
 * The Slack thread of a finding (`thread` of its state) and the records of posted messages, on a real
 * DynamoDB (dynalite): what lets a Slack channel of the app reply under, and update, the message that
 * announced a finding across restarts, without reading the channel's history.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore, StateStoreError } from '../../../lambda/adapters/state-store';
import { MESSAGE_RECORD_RETENTION_DAYS } from '../../../lambda/contracts';
import { nextStates } from '../../../lambda/core/diff';
import type { Change, FindingState } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';
import { type LocalDynamo, startDynalite } from '../../support/dynalite';

const ACCOUNT = '123456789012';
const finding = (user: string): Finding => ({
  id: `${ACCOUNT}/${user}/access-key-age/key-2025-01-01T00:00:00Z`,
  accountId: ACCOUNT,
  user,
  arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
  rule: 'access-key-age',
  severity: 'critical',
  credential: 'key-2025-01-01T00:00:00Z',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  days: 91,
  thresholdDays: 90,
  summary: `${user}'s access key is 91 days old`,
});
const PARENT = { conversation: 'C0123ABCD45', ts: '1764650000.000100' };
const REPLY = { conversation: 'C0123ABCD45', ts: '1764660000.000200' };
const scanTime = new Date('2026-12-02T10:00:00.000Z');

function openState(user: string, extra: Partial<FindingState> = {}): FindingState {
  return {
    id: finding(user).id,
    accountId: ACCOUNT,
    status: 'open',
    notifiedSeverity: 'critical',
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastNotifiedAt: '2026-11-01T00:00:00.000Z',
    scanTime: '2026-11-01T00:00:00.000Z',
    finding: finding(user),
    channel: 'security',
    ...extra,
  };
}

describe('nextStates: the thread of a finding', () => {
  const opened: Change = { kind: 'opened', finding: finding('alice'), channel: 'security' };

  it('starts at the message whose own entry opened the finding', () => {
    expect(nextStates([opened], scanTime, undefined, PARENT)[0]?.thread).toEqual(PARENT);
  });

  it('is not started by a summary, nor without a message to find again', () => {
    expect(nextStates([opened], scanTime, 'baseline', PARENT)[0]).not.toHaveProperty('thread');
    expect(nextStates([opened], scanTime)[0]).not.toHaveProperty('thread');
  });

  it.each(['reminder', 'escalated', 'resolved'] as const)(
    'is kept by a %s in the same channel, whatever message carried it',
    (kind) => {
      const previous = openState('alice', { thread: PARENT });
      const [next] = nextStates(
        [{ kind, finding: finding('alice'), previous, channel: 'security' }],
        scanTime,
        undefined,
        REPLY,
      );
      expect(next?.thread).toEqual(PARENT);
    },
  );

  it('is kept by a reminder in a roll-up (a summary), and not started by a reminder', () => {
    const previous = openState('alice', { thread: PARENT });
    const reminder: Change = { kind: 'reminder', finding: finding('alice'), previous, channel: 'security' };
    expect(nextStates([reminder], scanTime, 'roll-up')[0]?.thread).toEqual(PARENT);
    const unthreaded: Change = { ...reminder, previous: openState('alice') };
    expect(nextStates([unthreaded], scanTime, undefined, REPLY)[0]).not.toHaveProperty('thread');
  });

  it('is dropped when the finding moves to another channel, and restarts on its next opening there', () => {
    const previous = openState('alice', { thread: PARENT });
    const moved: Change = { kind: 'reminder', finding: finding('alice'), previous, channel: 'platform' };
    expect(nextStates([moved], scanTime)[0]).not.toHaveProperty('thread');
    const escalated: Change = { kind: 'escalated', finding: finding('alice'), previous, channel: 'platform' };
    expect(nextStates([escalated], scanTime, undefined, REPLY)[0]?.thread).toEqual(REPLY);
  });

  it('is a new one when a resolved finding opens again', () => {
    const previous = openState('alice', { status: 'resolved', thread: PARENT });
    const again: Change = { kind: 'opened', finding: finding('alice'), previous, channel: 'security' };
    expect(nextStates([again], scanTime, undefined, REPLY)[0]?.thread).toEqual(REPLY);
  });
});

describe('DynamoStateStore: threads and message records', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStateStore;
  beforeAll(async () => {
    dynamo = await startDynalite();
    store = new DynamoStateStore({
      tableName: dynamo.tableName,
      client: dynamo.client,
      defaultChannel: 'security',
    });
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('keeps the thread of a state across a commit and a load', async () => {
    await store.commit([openState('alice', { thread: PARENT }), openState('bob')]);
    const { states } = await store.load(ACCOUNT);
    expect(states.find((s) => s.finding.user === 'alice')?.thread).toEqual(PARENT);
    expect(states.find((s) => s.finding.user === 'bob')).not.toHaveProperty('thread');
  });

  it.each([
    ['a thread that is a string', { S: 'C0123ABCD45/1764650000.000100' }, 'thread: '],
    ['a thread without a ts', { M: { conversation: { S: 'C0123ABCD45' } } }, 'thread.ts: '],
    [
      'a thread with a bad conversation',
      { M: { conversation: { S: '#general' }, ts: { S: '1.2' } } },
      'thread.conversation: expected a Slack conversation id',
    ],
  ])('reads %s as unreadable, naming the field', async (_, thread, problem) => {
    const item = (
      await dynamo.client.send(
        new GetItemCommand({
          TableName: dynamo.tableName,
          Key: { pk: { S: `account#${ACCOUNT}` }, sk: { S: finding('alice').id } },
        }),
      )
    ).Item!;
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: { ...item, sk: { S: `${ACCOUNT}/carol/access-key-age/x` }, thread },
      }),
    );
    const { unreadable } = await store.load(ACCOUNT);
    const carol = unreadable.find((u) => u.id.includes('/carol/'));
    expect(carol?.problem.startsWith(problem)).toBe(true);
  });

  it('writes, replaces and reads back the record of a message, with its expiry', async () => {
    await expect(store.getMessage(PARENT)).resolves.toBeUndefined();
    await store.putMessage(PARENT, '{"v":1}', scanTime);
    await store.putMessage(PARENT, '{"v":2}', scanTime);
    await expect(store.getMessage(PARENT)).resolves.toBe('{"v":2}');
    const item = (
      await dynamo.client.send(
        new GetItemCommand({
          TableName: dynamo.tableName,
          Key: { pk: { S: `thread#${PARENT.conversation}` }, sk: { S: PARENT.ts } },
        }),
      )
    ).Item!;
    expect(Number(item.expiresAt?.N)).toBe(
      scanTime.getTime() / 1000 + MESSAGE_RECORD_RETENTION_DAYS * 86_400,
    );
    // A record is in its own partition: an account's load never sees it.
    const { states, unreadable } = await store.load(ACCOUNT);
    expect([...states, ...unreadable].some((s) => s.id === PARENT.ts)).toBe(false);
  });

  it('refuses a record without a string body, naming the message', async () => {
    const other = { conversation: 'C0123ABCD45', ts: '1764650000.000999' };
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: { pk: { S: `thread#${other.conversation}` }, sk: { S: other.ts }, body: { N: '1' } },
      }),
    );
    await expect(store.getMessage(other)).rejects.toThrow(
      new StateStoreError(
        `The record of message ${other.ts} of ${other.conversation} in table ${dynamo.tableName} has no string body`,
      ),
    );
  });
});
