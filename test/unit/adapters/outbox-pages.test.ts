/**
 * The event outbox read a page at a time (DynamoStateStore `pending({ limit, after })`): deliver
 * never reads it whole, since a first scan can leave an organization's findings in it. On dynalite,
 * and on moto_server's DynamoDB as a second opinion on how Query's Limit and ExclusiveStartKey page.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore, StateStoreError } from '../../../lambda/adapters/state-store';
import type { Change } from '../../../lambda/core/state';
import { LOCAL_DYNAMOS, type LocalDynamo, outboxChange, outboxKey } from '../../support/outbox';

const AT = new Date('2026-12-03T12:00:00Z');
const TABLE = 'credwatch-state';

const change = outboxChange;

const keyOf = (c: Change) => outboxKey(AT, c);

/** The outbox's paging against one DynamoDB (its client, with the state table made). */
function pagingCases(name: string, start: () => Promise<LocalDynamo>) {
  describe(`the outbox in pages (${name})`, () => {
    let local: LocalDynamo;
    let store: DynamoStateStore;
    const changes = Array.from({ length: 25 }, (_, i) => change(i));
    beforeAll(async () => {
      local = await start();
      store = new DynamoStateStore({ tableName: TABLE, client: local.client });
      await store.add(changes, AT);
      // An entry that does not decode, in the middle of the second page.
      await local.client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'outbox' }, sk: { S: `${keyOf(changes[14]!)}~bad` }, change: { S: '{not json' } },
        }),
      );
    }, 60_000);
    afterAll(async () => {
      await local?.close();
    });

    it('pages oldest first, each after the last key of the one before, with the undecodable entry reported where it is', async () => {
      const first = await store.pending({ limit: 10 });
      expect(first.entries.map((e) => e.key)).toEqual(changes.slice(0, 10).map(keyOf));
      expect(first.entries[3]!.change).toEqual(changes[3]);
      expect(first.unreadable).toEqual([]);
      expect(first.next).toBe(keyOf(changes[9]!));

      const second = await store.pending({ limit: 10, after: first.next! });
      // 10 items: 9 entries and the undecodable one after changes[14].
      expect(second.entries.map((e) => e.key)).toEqual(changes.slice(10, 19).map(keyOf));
      expect(second.unreadable).toEqual([
        { id: `outbox/${keyOf(changes[14]!)}~bad`, problem: 'change: not valid JSON' },
      ]);
      expect(second.next).toBe(keyOf(changes[18]!));

      const third = await store.pending({ limit: 10, after: second.next! });
      expect(third.entries.map((e) => e.key)).toEqual(changes.slice(19).map(keyOf));
      expect(third.next).toBeUndefined();
    });

    it('goes on after an entry the caller removed (the cursor is a position, not an item)', async () => {
      const first = await store.pending({ limit: 5 });
      await store.remove(first.entries.map((e) => e.key));
      const second = await store.pending({ limit: 5, after: first.next! });
      expect(second.entries.map((e) => e.key)).toEqual(changes.slice(5, 10).map(keyOf));
      await store.add(changes.slice(0, 5), AT);
    });

    it('without a limit reads every entry', async () => {
      const all = await store.pending();
      expect(all.entries).toHaveLength(25);
      expect(all.unreadable).toHaveLength(1);
      expect(all.next).toBeUndefined();
    });

    it('refuses a limit that is not a positive whole number, and an empty cursor, naming them', async () => {
      await expect(store.pending({ limit: 0 })).rejects.toThrow(
        new StateStoreError('the outbox page limit must be a positive whole number, got 0'),
      );
      await expect(store.pending({ limit: 2.5 })).rejects.toThrow('got 2.5');
      await expect(store.pending({ limit: 10, after: '' })).rejects.toThrow(
        new StateStoreError(`the outbox page cursor must be an entry's key, got ""`),
      );
    });
  });
}

for (const [name, start] of LOCAL_DYNAMOS) pagingCases(name, () => start(TABLE));
