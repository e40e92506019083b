/**
 * deliver() with in-memory ports: what is remembered, repeated and published when the channel, the
 * state store or EventBridge fail part-way. The ports are honest in-memory implementations; the
 * integration tests run the same against the bundled Lambda and the stand-ins.
 */
import { diff } from '../../../lambda/core/diff';
import type { EnforcementAction } from '../../../lambda/core/enforcement';
import type { Post } from '../../../lambda/core/notification-plan';
import type { Change, FindingState } from '../../../lambda/core/state';
import { decodeAction } from '../../../lambda/core/state-codec';
import type { Finding } from '../../../lambda/core/types';
import { type AccountDelta, COMMIT_CHUNK, deliver, OUTBOX_PAGE } from '../../../lambda/monitor';
import type {
  EventOutbox,
  EventSink,
  LoadedStates,
  Notifier,
  NotifyOptions,
  OutboxEntry,
  StateStore,
} from '../../../lambda/ports';

const ACCOUNT = '123456789012';
const NOW = new Date('2026-11-23T12:00:00Z');

const finding = (n: number): Finding => ({
  id: `${ACCOUNT}/user${String(n).padStart(2, '0')}/access-key-age/key-2025-01-01T00:00:00Z`,
  accountId: ACCOUNT,
  user: `user${String(n).padStart(2, '0')}`,
  arn: `arn:aws:iam::${ACCOUNT}:user/user${n}`,
  rule: 'access-key-age',
  severity: 'critical',
  credential: 'key-2025-01-01T00:00:00Z',
  summary: 'old',
});

/**
 * A state store and outbox in memory; `failCommitAt` makes the n-th commit (1-based) fail. Actions
 * are checked and kept once per key, time and kind, as the DynamoDB store does.
 */
class MemoryStore implements StateStore, EventOutbox {
  readonly states = new Map<string, FindingState>();
  readonly outbox = new Map<string, Change>();
  readonly actions = new Map<string, EnforcementAction>();
  commits = 0;
  failCommitAt?: number;
  readonly known = new Set<string>();
  async load(accountId: string): Promise<LoadedStates> {
    const actions = [...this.actions.values()]
      .filter((a) => a.accountId === accountId)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return {
      states: [...this.states.values()],
      unreadable: [],
      known: this.known.has(accountId),
      ...(actions.length > 0 ? { actions } : {}),
    };
  }
  async recordAction(action: EnforcementAction) {
    const decoded = decodeAction(action);
    if ('problem' in decoded) throw new Error(`Refused to record the action: ${decoded.problem}`);
    const key = `${action.accountId}/${action.accessKeyId}/${new Date(action.at).toISOString()}/${action.kind}`;
    if (!this.actions.has(key)) this.actions.set(key, decoded.action);
  }
  async markKnown(accountIds: readonly string[]) {
    for (const id of accountIds) this.known.add(id);
  }
  async commit(states: FindingState[]) {
    this.commits++;
    if (this.commits === this.failCommitAt) throw new Error('DynamoDB is down');
    for (const s of states) this.states.set(s.id, s);
    return { written: states.length, skippedAsStale: [] };
  }
  async add(changes: readonly Change[], at: Date) {
    for (const c of changes) this.outbox.set(`${at.toISOString()}#${c.finding.id}#${c.kind}`, c);
  }
  /** Pages asked for, each as `limit after`. */
  readonly pages: string[] = [];
  /** As DynamoDB's Query: keys in order, after `after`, at most `limit`, `next` once a page is full. */
  async pending(options: { limit?: number; after?: string } = {}) {
    this.pages.push(`${options.limit} after ${options.after ?? '-'}`);
    const all: OutboxEntry[] = [...this.outbox.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .filter(([key]) => options.after === undefined || key > options.after)
      .map(([key, change]) => ({ key, change }));
    const entries = options.limit === undefined ? all : all.slice(0, options.limit);
    const full = options.limit !== undefined && entries.length === options.limit;
    return { entries, unreadable: [], ...(full ? { next: entries.at(-1)!.key } : {}) };
  }
  async remove(keys: readonly string[]) {
    for (const k of keys) this.outbox.delete(k);
  }
}

/** A channel that takes `perMessage` changes a message, and refuses message `refuseAt` (1-based). */
class MemoryChannel implements Notifier {
  readonly posted: string[][] = [];
  refuseAt?: number;
  constructor(private readonly perMessage = 2) {}
  async notify(posts: readonly Post[], _heading: unknown, options: NotifyOptions) {
    const changes = posts.flatMap((p) => p.carries);
    const parts: Change[][] = [];
    for (let i = 0; i < changes.length; i += this.perMessage)
      parts.push(changes.slice(i, i + this.perMessage));
    let delivered = 0;
    for (const [i, part] of parts.entries()) {
      if (options.deadline !== undefined && Date.now() >= options.deadline) {
        return {
          messages: parts.length,
          messagesDelivered: delivered,
          error: new Error('out of time'),
          uncertain: 0,
        };
      }
      if (i + 1 === this.refuseAt) {
        return {
          messages: parts.length,
          messagesDelivered: delivered,
          error: new Error('no_service'),
          uncertain: 0,
        };
      }
      this.posted.push(part.map((c) => c.finding.user));
      delivered++;
      await options.onDelivered(part);
    }
    return { messages: parts.length, messagesDelivered: delivered, uncertain: 0 };
  }
}

class MemoryBus implements EventSink {
  readonly published: string[] = [];
  failNext = false;
  async publish(changes: readonly Change[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('EventBridge is down');
    }
    this.published.push(...changes.map((c) => `${c.kind}:${c.finding.user}`));
  }
}

/** `n` events an earlier run (10 minutes before NOW) left in the outbox: a first scan's, say. */
async function leftInOutbox(store: MemoryStore, n: number): Promise<Change[]> {
  const left = Array.from({ length: n }, (_, i) => ({ kind: 'opened' as const, finding: finding(i) }));
  await store.add(left, new Date(NOW.getTime() - 600_000));
  return left;
}

async function run(store: MemoryStore, channel: MemoryChannel, bus: MemoryBus, n = 8, deadline?: number) {
  const findings = Array.from({ length: n }, (_, i) => finding(i + 1));
  const changes = diff(findings, (await store.load(ACCOUNT)).states, NOW, { reminderIntervalMs: 86_400_000 });
  const delta: AccountDelta = {
    accountId: ACCOUNT,
    changes,
    baseline: false,
    migrations: [],
    skippedAsStale: [],
    unreadable: [],
  };
  return deliver([delta], {
    now: NOW,
    state: store,
    outbox: store,
    events: bus,
    notifier: async () => channel,
    ...(deadline !== undefined ? { deadline } : {}),
  });
}

describe('deliver', () => {
  it('remembers the changes of each accepted message before the next starts', async () => {
    const store = new MemoryStore();
    const channel = new MemoryChannel();
    const bus = new MemoryBus();
    const result = await run(store, channel, bus);
    expect(result.messagesDelivered).toBe(4);
    expect(store.commits).toBe(4);
    expect(store.states.size).toBe(8);
    expect(bus.published).toHaveLength(8);
    expect(store.outbox.size).toBe(0);
  });

  it.each([1, 2, 3, 4])(
    'a digest that stops at message %i commits exactly the messages before it',
    async (k) => {
      const store = new MemoryStore();
      const channel = new MemoryChannel();
      channel.refuseAt = k;
      const result = await run(store, channel, new MemoryBus());
      expect(result.messagesDelivered).toBe(k - 1);
      expect(result.deliveryError?.message).toBe('no_service');
      expect([...store.states.keys()].sort()).toEqual(
        channel.posted
          .flat()
          .map((u) => finding(Number(u.slice(4))).id)
          .sort(),
      );
      // The next run announces exactly the rest: nothing repeated, nothing lost.
      const next = new MemoryChannel();
      await run(store, next, new MemoryBus());
      expect([...channel.posted.flat(), ...next.posted.flat()].sort()).toEqual(
        Array.from({ length: 8 }, (_, i) => finding(i + 1).user),
      );
    },
  );

  it('a commit failure after the channel accepted a message stops delivery and repeats at most that message', async () => {
    const store = new MemoryStore();
    store.failCommitAt = 2;
    const channel = new MemoryChannel();
    const first = await run(store, channel, new MemoryBus());
    expect(first.commitError?.message).toBe('DynamoDB is down');
    expect(channel.posted).toHaveLength(2); // message 2 was posted, its commit failed, nothing after it
    const next = new MemoryChannel();
    await run(store, next, new MemoryBus());
    const all = [...channel.posted.flat(), ...next.posted.flat()];
    const repeated = all.filter((u, i) => all.indexOf(u) !== i);
    expect(repeated).toEqual(channel.posted[1]); // exactly message 2's changes, once more
    expect(new Set(all).size).toBe(8);
  });

  it('an event that could not be published waits in the outbox and is published by the next run, once', async () => {
    const store = new MemoryStore();
    const bus = new MemoryBus();
    bus.failNext = true;
    const first = await run(store, new MemoryChannel(), bus);
    expect(first.eventError?.message).toBe('EventBridge is down');
    expect(first.eventsPending).toBe(8);
    expect(store.outbox.size).toBe(8);
    // Nothing new to say next run, but the outbox is published.
    const second = await run(store, new MemoryChannel(), bus);
    expect(second.changes).toEqual([]);
    expect(second.eventsPublished).toBe(8);
    expect(bus.published.sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `opened:${finding(i + 1).user}`).sort(),
    );
    expect(store.outbox.size).toBe(0);
  });

  it('a run past its delivery deadline sends nothing more, and the next run delivers it all', async () => {
    const store = new MemoryStore();
    const late = new MemoryChannel();
    const result = await run(store, late, new MemoryBus(), 8, Date.now() - 1);
    expect(result.messagesDelivered).toBe(0);
    expect(store.states.size).toBe(0);
    const next = new MemoryChannel();
    await run(store, next, new MemoryBus());
    expect(next.posted.flat()).toHaveLength(8);
  });

  it('publishes no batch of events past the deadline: they wait in the outbox for the next run', async () => {
    const store = new MemoryStore();
    const bus = new MemoryBus();
    const findings = Array.from({ length: 8 }, (_, i) => finding(i + 1));
    const changes = diff(findings, [], NOW, { reminderIntervalMs: 86_400_000 });
    const delta: AccountDelta = {
      accountId: ACCOUNT,
      changes,
      baseline: false,
      migrations: [],
      skippedAsStale: [],
      unreadable: [],
    };
    // The messages go out before the deadline; by the time the events would, it has passed.
    const deadline = Date.now() + 60_000;
    const clock = () => deadline;
    const first = await deliver([delta], {
      now: NOW,
      state: store,
      outbox: store,
      events: bus,
      notifier: async () => new MemoryChannel(),
      deadline,
      clock,
    });
    expect(first.messagesDelivered).toBe(4);
    expect(first.eventsPublished).toBe(0);
    expect(first.eventsPending).toBe(8);
    expect(bus.published).toEqual([]);
    const second = await run(store, new MemoryChannel(), bus);
    expect(second.eventsPublished).toBe(8);
    expect(store.outbox.size).toBe(0);
  });

  it('reads the outbox a page at a time, never whole, and publishes every page', async () => {
    const store = new MemoryStore();
    const bus = new MemoryBus();
    const left = await leftInOutbox(store, 2 * OUTBOX_PAGE + 5);
    const result = await run(store, new MemoryChannel(), bus, 0);
    expect(result.eventsPublished).toBe(left.length);
    expect(result.eventsPending).toBe(0);
    expect(result.eventsPendingUnread).toBeUndefined();
    expect(store.outbox.size).toBe(0);
    expect(bus.published).toHaveLength(left.length);
    // Three full-size pages asked for, each after the last key of the one before (the third short).
    const keys = [...left]
      .map((c) => `${new Date(NOW.getTime() - 600_000).toISOString()}#${c.finding.id}#opened`)
      .sort();
    expect(store.pages).toEqual([
      `${OUTBOX_PAGE} after -`,
      `${OUTBOX_PAGE} after ${keys[OUTBOX_PAGE - 1]}`,
      `${OUTBOX_PAGE} after ${keys[2 * OUTBOX_PAGE - 1]}`,
    ]);
  });

  it('stops reading the outbox at the deadline: what it read and did not publish is pending, and it says more may wait', async () => {
    const store = new MemoryStore();
    const bus = new MemoryBus();
    const left = await leftInOutbox(store, 2 * OUTBOX_PAGE + 5);
    const deadline = Date.now() + 60_000;
    // The deadline passes once 30 events of the first page were published.
    const result = await deliver([], {
      now: NOW,
      state: store,
      outbox: store,
      events: bus,
      notifier: async () => new MemoryChannel(),
      deadline,
      clock: () => (bus.published.length >= 30 ? deadline : deadline - 1),
    });
    expect(result.eventsPublished).toBe(30);
    expect(result.eventsPending).toBe(OUTBOX_PAGE - 30);
    expect(result.eventsPendingUnread).toBe(true);
    expect(store.pages).toHaveLength(1);
    expect(store.outbox.size).toBe(left.length - 30);
  });

  it('says more may wait when publishing fails before the end of the outbox', async () => {
    const store = new MemoryStore();
    const bus = new MemoryBus();
    await leftInOutbox(store, OUTBOX_PAGE + 5);
    bus.failNext = true;
    const result = await run(store, new MemoryChannel(), bus, 0);
    expect(result.eventError?.message).toBe('EventBridge is down');
    expect(result.eventsPending).toBe(OUTBOX_PAGE);
    expect(result.eventsPendingUnread).toBe(true);
  });

  it('remembers a large message in chunks, and stops between them once the deadline has passed', async () => {
    const store = new MemoryStore();
    // One message carries every change (a first scan's baseline summary, say).
    const channel = new MemoryChannel(5000);
    const bus = new MemoryBus();
    const OTHER = '210987654321';
    const small = diff(
      Array.from({ length: 5 }, (_, i) => ({
        ...finding(i + 1),
        id: `${OTHER}/user${i + 1}/access-key-age/key-2025-01-01T00:00:00Z`,
        accountId: OTHER,
      })),
      [],
      NOW,
      { reminderIntervalMs: 86_400_000 },
    );
    const large = diff(
      Array.from({ length: 2500 }, (_, i) => finding(i + 1)),
      [],
      NOW,
      { reminderIntervalMs: 86_400_000 },
    );
    const scanned = { accountId: '', findings: [], counts: { critical: 0, warning: 0, info: 0 } } as never;
    const delta = (accountId: string, changes: Change[]): AccountDelta => ({
      accountId,
      scan: scanned,
      changes,
      baseline: false,
      migrations: [],
      skippedAsStale: [],
      unreadable: [],
    });
    const deadline = Date.now() + 60_000;
    // The deadline passes while the first chunk is being remembered.
    const clock = () => (store.commits >= 1 ? deadline : deadline - 1);
    const first = await deliver([delta(OTHER, small), delta(ACCOUNT, large)], {
      now: NOW,
      state: store,
      outbox: store,
      notifier: async () => channel,
      events: bus,
      deadline,
      clock,
    });
    const total = small.length + large.length;
    expect(first.messagesDelivered).toBe(1);
    expect(first.delivered).toHaveLength(COMMIT_CHUNK);
    expect(store.states.size).toBe(COMMIT_CHUNK);
    expect(first.commitError?.message).toBe(
      `out of time remembering a message the channel accepted: ${total - COMMIT_CHUNK} of its ${total} changes are not remembered and are announced again next run`,
    );
    // Only what was remembered waits to be published; the outbox is not even read (it could be large).
    expect(store.outbox.size).toBe(COMMIT_CHUNK);
    expect(bus.published).toEqual([]);
    expect(first.eventsPending).toBe(COMMIT_CHUNK);
    // The account whose changes were all remembered is known; the other is not (first contact still).
    expect([...store.known]).toEqual([OTHER]);
    // The next run announces only what was not remembered: one message's worth, not more.
    const again = diff(
      Array.from({ length: 2500 }, (_, i) => finding(i + 1)),
      [...store.states.values()].filter((st) => st.accountId === ACCOUNT),
      NOW,
      { reminderIntervalMs: 86_400_000 },
    );
    expect(again).toHaveLength(total - COMMIT_CHUNK);
  });

  it('a delta crosses JSON unchanged: scan and deliver can run in different processes', () => {
    const changes = diff([finding(1)], [], NOW, { reminderIntervalMs: 1 });
    const delta: AccountDelta = {
      accountId: ACCOUNT,
      changes,
      baseline: true,
      migrations: [],
      skippedAsStale: [],
      unreadable: [],
    };
    expect(JSON.parse(JSON.stringify(delta))).toEqual(delta);
  });
});
