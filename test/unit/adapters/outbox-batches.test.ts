/**
 * The event outbox written and emptied with BatchWriteItem, 25 entries a request (DynamoStateStore
 * `add`, `remove`): a first scan adds an entry for every finding, and one PutItem each was half of the
 * deliver step's requests. On dynalite and on moto_server's DynamoDB (both refuse a request naming
 * one key twice, as DynamoDB does; only dynalite refuses one of more than 25 items); what DynamoDB
 * leaves unprocessed under throttling (neither stand-in ever does) with aws-sdk-client-mock.
 */
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BATCH_WRITE_ATTEMPTS,
  BATCH_WRITE_MAX,
  DynamoStateStore,
  StateStoreError,
} from '../../../lambda/adapters/state-store';
import type { Change } from '../../../lambda/core/state';
import { LOCAL_DYNAMOS, type LocalDynamo, outboxChange, outboxKey } from '../../support/outbox';

const AT = new Date('2026-12-04T09:00:00Z');
const TABLE = 'credwatch-state';

const change = outboxChange;

const keyOf = (c: Change) => outboxKey(AT, c);

/** A BatchWriteItem of `count` outbox puts, as the store would send it. */
const putsOf = (count: number): BatchWriteItemCommandInput => ({
  RequestItems: {
    [TABLE]: Array.from({ length: count }, (_, i) => ({
      PutRequest: { Item: { pk: { S: 'outbox' }, sk: { S: `x#${i}` }, change: { S: '{}' } } },
    })),
  },
});

function batchCases(name: string, start: () => Promise<LocalDynamo>, refusesOverLimit: boolean) {
  describe(`the outbox in batches (${name})`, () => {
    let local: LocalDynamo;
    let store: DynamoStateStore;
    beforeAll(async () => {
      local = await start();
      store = new DynamoStateStore({ tableName: TABLE, client: local.client, writeConcurrency: 2 });
    }, 60_000);
    afterAll(async () => {
      await local?.close();
    });

    it('refuses, as DynamoDB does, a request naming a key twice', async () => {
      // What makes the store's de-duplication necessary: without it, add fails.
      const [one] = putsOf(1).RequestItems![TABLE]!;
      await expect(
        local.client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [one!, one!] } })),
      ).rejects.toThrow(/duplicates/);
    });

    if (refusesOverLimit) {
      it(`refuses, as DynamoDB does, a request of more than ${BATCH_WRITE_MAX} entries`, async () => {
        // What makes the store's chunks necessary: without them, add fails.
        await expect(
          local.client.send(new BatchWriteItemCommand(putsOf(BATCH_WRITE_MAX + 1))),
        ).rejects.toThrow();
        await expect(
          local.client.send(new BatchWriteItemCommand(putsOf(BATCH_WRITE_MAX))),
        ).resolves.toBeDefined();
      });
    }

    it('adds 130 entries (6 requests, 2 at once) and removes them all, oldest first in between', async () => {
      const changes = Array.from({ length: 130 }, (_, i) => change(i));
      await store.add(changes, AT);
      const all = await store.pending();
      expect(all.entries.map((e) => e.key)).toEqual(changes.map(keyOf));
      expect(all.entries[77]!.change).toEqual(changes[77]);
      await store.remove(all.entries.map((e) => e.key));
      expect((await store.pending()).entries).toEqual([]);
    });

    it('keeps one entry, the later change, for a finding and kind given twice; removes a key given twice once', async () => {
      await store.add([change(1, 'first'), change(2), change(1, 'second')], AT);
      const { entries } = await store.pending();
      expect(entries.map((e) => e.key)).toEqual([keyOf(change(1)), keyOf(change(2))]);
      expect(entries[0]!.change.finding.summary).toBe('second');
      await store.remove([keyOf(change(1)), keyOf(change(2)), keyOf(change(1))]);
      expect((await store.pending()).entries).toEqual([]);
    });

    it('does nothing for no changes and no keys', async () => {
      await store.add([], AT);
      await store.remove([]);
      expect((await store.pending()).entries).toEqual([]);
    });
  });
}

// moto 5.2.1 writes a request of 26 entries that DynamoDB and dynalite refuse: only dynalite is asked.
for (const [name, start] of LOCAL_DYNAMOS) batchCases(name, () => start(TABLE), name === 'dynalite');

describe('the outbox in batches, what DynamoDB leaves unprocessed (aws-sdk-client-mock)', () => {
  // One client mocked, not the class: mocking DynamoDBClient would answer the stand-ins' clients too.
  const client = new DynamoDBClient({ region: 'us-east-1' });
  const dynamo = mockClient(client);
  const store = () => new DynamoStateStore({ tableName: TABLE, client, unprocessedRetryDelayMs: 1 });
  const sentKeys = (call: number) =>
    (dynamo.commandCalls(BatchWriteItemCommand)[call]!.args[0].input.RequestItems![TABLE] ?? []).map(
      (r: WriteRequest) => r.PutRequest?.Item?.sk?.S ?? r.DeleteRequest?.Key?.sk?.S,
    );
  beforeEach(() => dynamo.reset());
  afterAll(() => dynamo.restore());

  it('sends again only what was left unprocessed, until all of it is written', async () => {
    const changes = Array.from({ length: 3 }, (_, i) => change(i));
    const left = (n: number) => ({
      UnprocessedItems: {
        [TABLE]: changes.slice(n).map((c) => ({ PutRequest: { Item: { sk: { S: keyOf(c) } } } })),
      },
    });
    dynamo.on(BatchWriteItemCommand).resolvesOnce(left(1)).resolvesOnce(left(2)).resolves({});
    await store().add(changes, AT);
    expect(dynamo.commandCalls(BatchWriteItemCommand)).toHaveLength(3);
    expect(sentKeys(0)).toEqual(changes.map(keyOf));
    expect(sentKeys(1)).toEqual(changes.slice(1).map(keyOf));
    expect(sentKeys(2)).toEqual([keyOf(changes[2]!)]);
  });

  it(`fails after ${BATCH_WRITE_ATTEMPTS} attempts that leave entries unprocessed, naming one and how many`, async () => {
    const changes = Array.from({ length: 4 }, (_, i) => change(i));
    dynamo.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => ({
      UnprocessedItems: { [TABLE]: input.RequestItems![TABLE]!.slice(-2) },
    }));
    const error = await store()
      .add(changes, AT)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toBe(
      `Could not add the event of opened ${changes[2]!.finding.id} and 1 more to the outbox in table ${TABLE}: DynamoDB left 2 of its 4 entries unprocessed after ${BATCH_WRITE_ATTEMPTS} attempts (throttled)`,
    );
    expect(dynamo.commandCalls(BatchWriteItemCommand)).toHaveLength(BATCH_WRITE_ATTEMPTS);
  });

  it("names the entries of a request DynamoDB refused, with DynamoDB's reason", async () => {
    dynamo.on(BatchWriteItemCommand).rejects(new Error('Requested resource not found'));
    const error = await store()
      .remove(['k1', 'k2', 'k3'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toBe(
      `Could not remove outbox entry k1 and 2 more from table ${TABLE}: Requested resource not found`,
    );
  });
});
