/**
 * deliver() with held baselines (AccountDelta `held`): the deliver step of a state machine does not
 * hold a first scan's baselined changes, only their tally by channel, and reads them again once the
 * channel accepted its baseline summary (DeliverInput `reread`). In-memory ports: a channel that
 * posts each post as one message and can refuse one, a store that can fail a commit, a bucket that
 * answers the reread (several accounts under way at once, as the run store reads parts).
 */
import { diff } from '../../../lambda/core/diff';
import type { Post } from '../../../lambda/core/notification-plan';
import { DEFAULT_NOTIFICATION_POLICY } from '../../../lambda/core/notification-plan';
import type { Change, FindingState } from '../../../lambda/core/state';
import { type Summary, summarize, tallyChanges } from '../../../lambda/core/summary';
import type { Finding } from '../../../lambda/core/types';
import { type AccountDelta, alignRollUps, type DeliverInput, deliver } from '../../../lambda/monitor';
import type {
  EventOutbox,
  EventSink,
  LoadedStates,
  Notifier,
  NotifyOptions,
  OutboxEntry,
  StateStore,
} from '../../../lambda/ports';
import { rollUpBesideHeld } from '../../../lambda/steps';

const NOW = new Date('2026-12-03T12:00:00Z');
const ACCOUNTS = ['111111111111', '222222222222', '333333333333', '444444444444'];

const finding = (accountId: string, n: number): Finding => ({
  id: `${accountId}/user${n}/access-key-age/key-2025-01-01T00:00:00Z`,
  accountId,
  user: `user${n}`,
  arn: `arn:aws:iam::${accountId}:user/user${n}`,
  rule: 'access-key-age',
  severity: n % 2 === 0 ? 'critical' : 'warning',
  credential: 'key-2025-01-01T00:00:00Z',
  days: 100 + n,
  summary: 'old',
});

/** Each account's first scan: `n` findings opened, in `channel`. */
const baselineOf = (accountId: string, n: number, channel = 'default'): Change[] =>
  diff(
    Array.from({ length: n }, (_, i) => finding(accountId, i + 1)),
    [],
    NOW,
    { reminderIntervalMs: 86_400_000 },
  ).map((c) => ({ ...c, channel }));

class Store implements StateStore, EventOutbox {
  readonly states = new Map<string, FindingState>();
  readonly outbox = new Map<string, Change>();
  readonly known = new Set<string>();
  commits = 0;
  failCommitAt?: number;
  async load(): Promise<LoadedStates> {
    return { states: [], unreadable: [], known: false };
  }
  async markKnown(accountIds: readonly string[]) {
    for (const id of accountIds) this.known.add(id);
  }
  async commit(states: readonly FindingState[]) {
    this.commits++;
    if (this.commits === this.failCommitAt) throw new Error('DynamoDB is down');
    for (const s of states) this.states.set(`${s.channel}/${s.id}`, s);
    return { written: states.length, skippedAsStale: [] };
  }
  async add(changes: readonly Change[], at: Date) {
    for (const c of changes) this.outbox.set(`${at.toISOString()}#${c.finding.id}#${c.kind}`, c);
  }
  async pending() {
    const entries: OutboxEntry[] = [...this.outbox].map(([key, change]) => ({ key, change }));
    return { entries, unreadable: [] };
  }
  async remove(keys: readonly string[]) {
    for (const k of keys) this.outbox.delete(k);
  }
}

/** Each post is one message; refuses the `refuse`-th message it is given (1-based). */
class Channel implements Notifier {
  readonly summaries: Summary[] = [];
  readonly carried: number[] = [];
  refuse?: number;
  private sent = 0;
  async notify(posts: readonly Post[], _heading: unknown, options: NotifyOptions) {
    let delivered = 0;
    for (const post of posts) {
      if (++this.sent === this.refuse) {
        return {
          messages: posts.length,
          messagesDelivered: delivered,
          error: new Error('no_service'),
          uncertain: 0,
        };
      }
      if (post.kind === 'summary') this.summaries.push(post.summary);
      this.carried.push(post.carries.length);
      delivered++;
      await options.onDelivered(post.carries, post.kind === 'summary' ? post.summary.reason : undefined);
    }
    return { messages: posts.length, messagesDelivered: delivered, uncertain: 0 };
  }
}

class Bus implements EventSink {
  readonly published: string[] = [];
  async publish(changes: readonly Change[]) {
    this.published.push(...changes.map((c) => c.finding.id));
  }
}

/**
 * The run bucket as the deliver step reads it again: each account's stored changes, answered two
 * accounts at a time, every account offered even after a failure; `tamper` changes what an account
 * reads back as.
 */
class Bucket {
  readonly stored = new Map<string, Change[]>();
  readonly asked: { channel: string; accounts: string[] }[] = [];
  tamper = new Map<string, Change[]>();
  reread: NonNullable<DeliverInput['reread']> = async (channel, accountIds, remember) => {
    this.asked.push({ channel, accounts: [...accountIds] });
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      // Reads on after a failure, as the run store's other parts under way do: deliver must stop them.
      while (next < accountIds.length) {
        const id = accountIds[next++]!;
        const changes = this.tamper.get(id) ?? this.stored.get(id) ?? [];
        try {
          await remember(
            id,
            changes.filter((c) => c.channel === channel),
          );
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all([worker(), worker()]);
    if (failure !== undefined) throw failure;
  };
}

/** The deltas deliver reads first: every baselined change held, its tally by channel. */
function held(bucket: Bucket, perAccount: Record<string, Change[]>): AccountDelta[] {
  return Object.entries(perAccount).map(([accountId, changes]) => {
    bucket.stored.set(accountId, changes);
    const channels = [...new Set(changes.map((c) => c.channel!))];
    return {
      accountId,
      scan: { accountId, findings: [] } as unknown as AccountDelta['scan'],
      changes: [],
      baseline: true,
      migrations: [],
      skippedAsStale: [],
      unreadable: [],
      held: channels.map((channel) => {
        const here = changes.filter((c) => c.channel === channel);
        return { channel, count: here.length, tally: tallyChanges(here) };
      }),
    };
  });
}

const setup = () => {
  const store = new Store();
  const channel = new Channel();
  const bus = new Bus();
  const bucket = new Bucket();
  const input = (more: Partial<DeliverInput> = {}): DeliverInput => ({
    now: NOW,
    state: store,
    outbox: store,
    events: bus,
    notifier: async () => channel,
    reread: bucket.reread,
    ...more,
  });
  return { store, channel, bus, bucket, input };
};

describe('deliver with held baselines', () => {
  it('summarizes the held changes in one baseline message, then remembers every one, with its event, and marks the accounts known', async () => {
    const { store, channel, bus, bucket, input } = setup();
    const all = { [ACCOUNTS[0]!]: baselineOf(ACCOUNTS[0]!, 5), [ACCOUNTS[1]!]: baselineOf(ACCOUNTS[1]!, 3) };
    const result = await deliver(held(bucket, all), input());

    expect(channel.summaries).toHaveLength(1);
    // The summary of the held changes is the summary of them all, as if they had been held.
    expect(channel.summaries[0]).toEqual(summarize('baseline', Object.values(all).flat()));
    expect(channel.carried).toEqual([0]);
    expect(store.states.size).toBe(8);
    expect([...store.states.values()].every((s) => s.announcedIn === 'baseline' && s.status === 'open')).toBe(
      true,
    );
    expect([...store.known].sort()).toEqual([ACCOUNTS[0], ACCOUNTS[1]]);
    expect(bus.published).toHaveLength(8);
    expect(store.outbox.size).toBe(0);
    expect(result.commitError).toBeUndefined();
    expect(result.summarized).toBe(8);
    expect(result.held).toEqual([{ channel: 'default', changes: 8, delivered: 8 }]);
    expect(result.changes).toEqual([]);
  });

  it('posts to a channel whose only changes are held, and reads each channel again for its own', async () => {
    const { store, channel, bucket, input } = setup();
    const a = ACCOUNTS[0]!;
    const both = [...baselineOf(a, 2, 'default'), ...baselineOf(a, 3, 'team')];
    const result = await deliver(
      held(bucket, { [a]: both }),
      input({
        notifications: {
          baseline: true,
          maxMessagesPerRun: 20,
          reminders: 'roll-up',
          routes: [{ channel: 'team', accounts: ['999999999999'] }],
        },
      }),
    );
    expect(result.commitError).toBeUndefined();
    expect(channel.summaries.map((s) => s.total).sort()).toEqual([2, 3]);
    expect(bucket.asked.map((q) => q.channel).sort()).toEqual(['default', 'team']);
    expect(store.states.size).toBe(5);
    expect(store.known.has(a)).toBe(true);
  });

  it('remembers nothing, and marks no account known, when the channel refuses the baseline summary', async () => {
    const { store, channel, bucket, input } = setup();
    channel.refuse = 1;
    const result = await deliver(held(bucket, { [ACCOUNTS[0]!]: baselineOf(ACCOUNTS[0]!, 4) }), input());
    expect(bucket.asked).toEqual([]);
    expect(store.states.size).toBe(0);
    expect(store.known.size).toBe(0);
    expect(result.channelErrors.map((e) => e.error.message)).toEqual(['no_service']);
    expect(result.held).toEqual([{ channel: 'default', changes: 4, delivered: 0 }]);
  });

  it('refuses an account that reads back otherwise than it was first read: a commit error, that account not known', async () => {
    const { store, bucket, input } = setup();
    const deltas = held(bucket, {
      [ACCOUNTS[0]!]: baselineOf(ACCOUNTS[0]!, 4),
      [ACCOUNTS[1]!]: baselineOf(ACCOUNTS[1]!, 4),
    });
    bucket.tamper.set(ACCOUNTS[1]!, baselineOf(ACCOUNTS[1]!, 3));
    const result = await deliver(deltas, input());
    expect(result.commitError?.message).toBe(
      `the baseline of channel default: account ${ACCOUNTS[1]} read again has 3 baselined changes where its first read had 4`,
    );
    expect(store.known.has(ACCOUNTS[1]!)).toBe(false);
    expect([...store.states.values()].some((s) => s.accountId === ACCOUNTS[1])).toBe(false);
  });

  it('says which accounts the reread did not find, and does not call them known', async () => {
    const { store, bucket, input } = setup();
    const deltas = held(bucket, {
      [ACCOUNTS[0]!]: baselineOf(ACCOUNTS[0]!, 2),
      [ACCOUNTS[1]!]: baselineOf(ACCOUNTS[1]!, 2),
    });
    const reread: DeliverInput['reread'] = (channel, ids, remember) =>
      bucket.reread(
        channel,
        ids.filter((id) => id !== ACCOUNTS[1]),
        remember,
      );
    const result = await deliver(deltas, input({ reread }));
    expect(result.commitError?.message).toBe(
      `the baseline of channel default: 1 of its 2 accounts were not found when read again (${ACCOUNTS[1]}); they are summarized again next run`,
    );
    expect(store.known.has(ACCOUNTS[1]!)).toBe(false);
  });

  it('stops at the deadline between accounts, the first always remembered; those remembered are known, their events wait in the outbox', async () => {
    const { store, bus, bucket, input } = setup();
    const deltas = held(bucket, Object.fromEntries(ACCOUNTS.map((id) => [id, baselineOf(id, 3)])));
    let t = 0;
    // The clock passes the deadline once the second account's read has begun.
    const result = await deliver(
      deltas,
      input({ deadline: 10, clock: () => (store.commits >= 1 ? 100 : t++) }),
    );
    expect(result.commitError?.message).toMatch(
      /^out of time remembering the baseline summary channel default accepted: [23] of its 4 accounts are not remembered and are summarized again next run$/,
    );
    const remembered = [...new Set([...store.states.values()].map((s) => s.accountId))];
    expect(remembered.length).toBeGreaterThanOrEqual(1);
    expect(remembered.length).toBeLessThan(4);
    // Known: exactly the accounts whose baseline was remembered (a later run summarizes the rest).
    expect([...store.known].sort()).toEqual(remembered.sort());
    // Out of time: the outbox is not read; this run's events wait in it.
    expect(bus.published).toEqual([]);
    expect(store.outbox.size).toBe(remembered.length * 3);
    expect(result.eventsPending).toBe(remembered.length * 3);
    expect(result.held).toEqual([{ channel: 'default', changes: 12, delivered: remembered.length * 3 }]);
  });

  it('stops at a failed commit: no account after it is started, the failed one not known', async () => {
    const { store, bucket, input } = setup();
    store.failCommitAt = 2;
    const deltas = held(bucket, Object.fromEntries(ACCOUNTS.map((id) => [id, baselineOf(id, 2)])));
    const result = await deliver(deltas, input());
    expect(result.commitError?.message).toBe('DynamoDB is down');
    // Two readers: the first commit, the failing one, and at most the one under way beside it.
    expect(store.commits).toBeLessThanOrEqual(3);
    // A commit that failed stops the run before the known markers (as for any commit error).
    expect(store.known.size).toBe(0);
  });

  it('refuses deltas that hold changes back when there is no reread', async () => {
    const { bucket, input } = setup();
    const deltas = held(bucket, { [ACCOUNTS[0]!]: baselineOf(ACCOUNTS[0]!, 1) });
    const { reread: _none, ...without } = input();
    await expect(deliver(deltas, without)).rejects.toThrow(
      'deliver: deltas hold baselined changes back, and there is no reread to remember them',
    );
  });

  it('refuses deltas that hold changes back when their events have no outbox', async () => {
    const { bucket, input } = setup();
    const deltas = held(bucket, { [ACCOUNTS[0]!]: baselineOf(ACCOUNTS[0]!, 1) });
    const { outbox: _none, ...without } = input();
    await expect(deliver(deltas, without)).rejects.toThrow(
      'deliver: deltas hold baselined changes back, and their events need an outbox',
    );
  });

  it('leaves the held changes out of a roll-up that is due, so they are not announced twice', () => {
    const { bucket } = setup();
    const [a, b] = [ACCOUNTS[0]!, ACCOUNTS[1]!];
    // Account a is on first contact still: its baseline in channel team failed last run (its default
    // states were written), so its changes are team's openings, held; its roll-up names them too.
    const [delta] = held(bucket, { [a]: baselineOf(a, 2, 'team') });
    const reminder: Change = { ...baselineOf(a, 3, 'default')[2]!, kind: 'reminder' };
    const rollUp = [reminder, ...baselineOf(a, 2, 'team')];
    const other: AccountDelta = {
      ...delta!,
      accountId: b,
      held: [],
      baseline: false,
      dueChannels: ['team', 'default'],
    };
    const aligned = alignRollUps([
      { ...delta!, rollUp: rollUpBesideHeld(delta!, rollUp, DEFAULT_NOTIFICATION_POLICY) },
      other,
    ]);
    expect(aligned[0]!.changes).toEqual([reminder]);
    // Without it the openings come back as changes beside the held ones.
    expect(alignRollUps([{ ...delta!, rollUp }, other])[0]!.changes).toHaveLength(3);
  });
});
