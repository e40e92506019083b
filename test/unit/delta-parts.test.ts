/**
 * DeltaParts: a child's deltas written in parts (by size, by time after the first of a part, and at
 * the end), one write at a time, a failed part reported with its accounts. The store here records
 * what it is given (the S3 store's own format and checks are tested on moto, run-store.test.ts).
 */
import { DeltaParts, type DeltaPartsOptions } from '../../lambda/delta-parts';
import type { DeltaPart, RunStore } from '../../lambda/ports';

const RUN = 'scheduled-2026-12-01T12:00:00Z_exec';
const ATTEMPT = Date.parse('2026-12-01T12:00:05Z');
/** Parts reported unwritten where none should be (checked after each test). */
let unwrittenUnexpectedly: string[] = [];
const unexpected = (accounts: readonly string[]) => {
  unwrittenUnexpectedly.push(...accounts);
};
const id = (n: number) => String(100_000_000_000 + n);
/** A delta of about `size` characters of JSON. */
const delta = (n: number, size = 100) => ({ accountId: id(n), pad: 'x'.repeat(Math.max(0, size - 40)) });

interface Write {
  readonly at: DeltaPart;
  readonly accounts: string[];
}

function recordingStore(options: { fail?: (at: DeltaPart) => boolean; slowMs?: number } = {}) {
  const writes: Write[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const store: RunStore = {
    putAccounts: () => Promise.reject(new Error('not used')),
    getAccounts: () => Promise.reject(new Error('not used')),
    deltas: () => Promise.reject(new Error('not used')),
    async putDeltas(runId, at, deltas) {
      expect(runId).toBe(RUN);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        if (options.slowMs) await new Promise((resolve) => setTimeout(resolve, options.slowMs));
        if (options.fail?.(at)) throw new Error(`S3 refused part ${at.part}`);
        writes.push({ at, accounts: deltas.map((d) => (d as { accountId: string }).accountId) });
        return { key: `runs/${runId}/deltas/${at.batch}-${at.attempt}-${at.part}` };
      } finally {
        inFlight--;
      }
    },
  };
  return { store, writes, maxInFlight: () => maxInFlight };
}

/** The parts of batch 0 of this attempt, written to `store`. */
const partsOf = (store: RunStore, options: Partial<DeltaPartsOptions> = {}) =>
  new DeltaParts({ store, runId: RUN, batch: id(0), attempt: ATTEMPT, onUnwritten: unexpected, ...options });

describe('DeltaParts', () => {
  afterEach(() => {
    jest.useRealTimers();
    expect(unwrittenUnexpectedly).toEqual([]);
    unwrittenUnexpectedly = [];
  });

  it('writes nothing before its part is due, then everything left as one part when closed', async () => {
    const { store, writes } = recordingStore();
    const parts = partsOf(store);
    for (let n = 0; n < 5; n++) await parts.add(delta(n));
    expect(writes).toEqual([]);
    await parts.close();
    expect(writes).toEqual([
      { at: { batch: id(0), attempt: ATTEMPT, part: 0 }, accounts: [0, 1, 2, 3, 4].map(id) },
    ]);
    expect(parts.keys).toEqual([`runs/${RUN}/deltas/${id(0)}-${ATTEMPT}-0`]);
  });

  it('writes a part once its deltas reach the size, and the delta that filled it waits for the write', async () => {
    const { store, writes } = recordingStore();
    const parts = partsOf(store, {
      flushBytes: 1_000,
    });
    await parts.add(delta(0, 400));
    await parts.add(delta(1, 400));
    expect(writes).toEqual([]);
    await parts.add(delta(2, 400));
    // Resolved only once part 0 was written.
    expect(writes).toEqual([
      { at: { batch: id(0), attempt: ATTEMPT, part: 0 }, accounts: [id(0), id(1), id(2)] },
    ]);
    await parts.add(delta(3, 5_000));
    await parts.add(delta(4, 10));
    await parts.close();
    expect(writes.map((w) => [w.at.part, w.accounts])).toEqual([
      [0, [id(0), id(1), id(2)]],
      [1, [id(3)]],
      [2, [id(4)]],
    ]);
  });

  it('writes a part at the latest its interval after its first delta, without waiting for the batch', async () => {
    jest.useFakeTimers();
    const { store, writes } = recordingStore();
    const parts = partsOf(store, {
      flushIntervalMs: 60_000,
    });
    await parts.add(delta(0));
    await jest.advanceTimersByTimeAsync(30_000);
    await parts.add(delta(1));
    await jest.advanceTimersByTimeAsync(29_999);
    expect(writes).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(writes).toEqual([{ at: { batch: id(0), attempt: ATTEMPT, part: 0 }, accounts: [id(0), id(1)] }]);
    // The next part's clock starts with its own first delta.
    await jest.advanceTimersByTimeAsync(120_000);
    expect(writes).toHaveLength(1);
    await parts.add(delta(2));
    await jest.advanceTimersByTimeAsync(59_999);
    expect(writes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(writes.map((w) => [w.at.part, w.accounts])).toEqual([
      [0, [id(0), id(1)]],
      [1, [id(2)]],
    ]);
    await parts.close();
    expect(writes).toHaveLength(2);
    // Nothing is pending after close: no timer is left behind.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('reports a part that cannot be written with its accounts, and goes on with the next', async () => {
    const { store, writes } = recordingStore({ fail: (at) => at.part === 1 });
    const unwritten: { accounts: readonly string[]; error: string }[] = [];
    const parts = partsOf(store, {
      flushBytes: 150,
      onUnwritten: (accounts, error) => unwritten.push({ accounts, error: (error as Error).message }),
    });
    for (let n = 0; n < 6; n++) await parts.add(delta(n));
    await parts.close();
    expect(unwritten).toEqual([{ accounts: [id(2), id(3)], error: 'S3 refused part 1' }]);
    expect(writes.map((w) => [w.at.part, w.accounts])).toEqual([
      [0, [id(0), id(1)]],
      [2, [id(4), id(5)]],
    ]);
  });

  it('writes one part at a time, in order, when parts fall due while one is being written', async () => {
    const { store, writes, maxInFlight } = recordingStore({ slowMs: 20 });
    const parts = partsOf(store, { batch: id(7), flushBytes: 1 });
    // Added at once, as a batch's concurrent scans finish.
    await Promise.all([0, 1, 2, 3].map((n) => parts.add(delta(n))));
    await parts.close();
    expect(maxInFlight()).toBe(1);
    expect(writes.map((w) => [w.at.batch, w.at.part, w.accounts])).toEqual(
      [0, 1, 2, 3].map((n) => [id(7), n, [id(n)]]),
    );
  });

  it('goes on with the next parts when reporting an unwritten one throws, and leaves no rejection behind', async () => {
    jest.useFakeTimers();
    const { store, writes } = recordingStore({ fail: (at) => at.part === 0 });
    let reported = 0;
    const parts = partsOf(store, {
      flushIntervalMs: 1_000,
      onUnwritten: () => {
        reported++;
        throw new Error('the logger failed');
      },
    });
    await parts.add(delta(0));
    // Part 0 is written (and fails) by the timer, nobody awaiting it.
    await jest.advanceTimersByTimeAsync(1_000);
    expect(reported).toBe(1);
    await parts.add(delta(1));
    await expect(parts.close()).resolves.toBeUndefined();
    expect(writes.map((w) => [w.at.part, w.accounts])).toEqual([[1, [id(1)]]]);
  });

  it('refuses an attempt that is no time in epoch milliseconds before anything is scanned', () => {
    const { store } = recordingStore();
    for (const attempt of [0, 1_764_590_405, ATTEMPT + 0.5, Number.NaN]) {
      expect(() => partsOf(store, { attempt })).toThrow(
        `DeltaParts: attempt ${attempt} is not a time in epoch milliseconds`,
      );
    }
  });

  it('writes nothing for a batch that scanned nothing, and refuses a delta after close', async () => {
    const { store, writes } = recordingStore();
    const parts = partsOf(store);
    await parts.close();
    expect(writes).toEqual([]);
    await expect(parts.add(delta(1))).rejects.toThrow(
      `DeltaParts: account ${id(1)} added after the batch was closed`,
    );
  });
});
