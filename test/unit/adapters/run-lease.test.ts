/**
 * The run lease of the Step Functions engine (lambda/adapters/state-store.ts `acquire`/`release`/
 * `beginDelivery`) on dynalite: one run at a time, a dead run's lease free again at its end, a run
 * never giving back another's, one delivery per run and only under its lease, and the lease item
 * invisible to the accounts' states.
 */
import { DynamoStateStore } from '../../../lambda/adapters/state-store';
import { type LocalDynamo, startDynalite } from '../../support/dynalite';

const T0 = new Date('2026-12-01T12:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

describe('the run lease', () => {
  let dynamo: LocalDynamo;
  let store: DynamoStateStore;
  beforeAll(async () => {
    dynamo = await startDynalite();
    store = new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client });
  });
  afterAll(async () => {
    await dynamo.close();
  });
  afterEach(async () => {
    // Each test starts with no lease: whoever holds it gives it back.
    for (const run of ['a', 'b', 'c']) await store.release(run);
  });

  it('lets one run at a time hold it, names the holder, and frees it when given back', async () => {
    await expect(store.acquire('a', T0, minutes(120))).resolves.toEqual({ acquired: true });
    await expect(store.acquire('b', minutes(10), minutes(130))).resolves.toEqual({
      acquired: false,
      heldBy: 'a',
      until: minutes(120),
    });
    // The holder taking it again (a retried discover step) is not refused.
    await expect(store.acquire('a', minutes(1), minutes(121))).resolves.toEqual({ acquired: true });
    await store.release('a');
    await expect(store.acquire('b', minutes(20), minutes(140))).resolves.toEqual({ acquired: true });
  });

  it("is free again at the end of a run that died holding it, and a run never gives back another's", async () => {
    await store.acquire('a', T0, minutes(120));
    await store.release('b');
    await expect(store.acquire('c', minutes(119), minutes(239))).resolves.toMatchObject({ acquired: false });
    await expect(store.acquire('c', minutes(121), minutes(241))).resolves.toEqual({ acquired: true });
    // a's late deliver step gives back nothing: c still holds it.
    await store.release('a');
    await expect(store.acquire('b', minutes(122), minutes(242))).resolves.toMatchObject({
      acquired: false,
      heldBy: 'c',
    });
  });

  it('says who else holds it, and nothing when no one, the asking run, or a run whose lease ended does', async () => {
    await expect(store.heldByOther('b', T0)).resolves.toBeUndefined();
    await store.acquire('a', T0, minutes(120));
    await expect(store.heldByOther('b', minutes(5))).resolves.toEqual({
      acquired: false,
      heldBy: 'a',
      until: minutes(120),
    });
    await expect(store.heldByOther('a', minutes(5))).resolves.toBeUndefined();
    await expect(store.heldByOther('b', minutes(121))).resolves.toBeUndefined();
  });

  it('lets a delivery begin once per run, and only while the run holds the lease', async () => {
    // No lease at all (given back when the run ended).
    await expect(store.beginDelivery('a', T0)).resolves.toEqual({ began: false, why: 'lease-lost' });
    await store.acquire('a', T0, minutes(120));
    // Another run than the holder.
    await expect(store.beginDelivery('b', minutes(5))).resolves.toEqual({
      began: false,
      why: 'lease-lost',
      heldBy: 'a',
    });
    await expect(store.beginDelivery('a', minutes(30))).resolves.toEqual({ began: true });
    // A second delivery of the same run (an execution stopped during deliver, then redriven).
    await expect(store.beginDelivery('a', minutes(40))).resolves.toEqual({
      began: false,
      why: 'already-began',
      since: minutes(30),
    });
    // The mark does not keep the lease: given back, the next run takes it and delivers once too.
    await store.release('a');
    await store.acquire('b', minutes(41), minutes(161));
    await expect(store.beginDelivery('b', minutes(50))).resolves.toEqual({ began: true });
    await expect(store.beginDelivery('a', minutes(51))).resolves.toEqual({
      began: false,
      why: 'lease-lost',
      heldBy: 'b',
    });
  });

  it('lets no delivery begin once the lease ran out, even for its own run', async () => {
    await store.acquire('a', T0, minutes(120));
    await expect(store.beginDelivery('a', minutes(120))).resolves.toEqual({
      began: false,
      why: 'lease-lost',
    });
    await expect(store.heldByOther('b', minutes(120))).resolves.toBeUndefined();
  });

  it("is not an account's state", async () => {
    await store.acquire('a', T0, minutes(120));
    await expect(store.load('lease')).resolves.toEqual({ states: [], unreadable: [], known: false });
    await expect(store.pending()).resolves.toEqual({ entries: [], unreadable: [] });
  });
});
