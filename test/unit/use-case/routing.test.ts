/**
 * monitor() with routes: each channel hears only its findings, in its own posts (a baseline summary
 * per channel), each state remembers its channel, a channel that cannot be reached stops only itself,
 * and a finding whose user was re-tagged is reminded in its new channel.
 */
import { stateSortKey } from '../../../lambda/contracts';
import type { NotificationPolicy, Post } from '../../../lambda/core/notification-plan';
import { DEFAULT_NOTIFICATION_POLICY } from '../../../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import type { FindingState } from '../../../lambda/core/state';
import type { UserTags } from '../../../lambda/core/types';
import { type AccountJob, monitor } from '../../../lambda/monitor';
import type { LoadedStates, Notifier, StateStore } from '../../../lambda/ports';
import { REPORT_HEADER, reportRow } from '../../support/report-builder';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const NOW = new Date('2026-12-01T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Two users with a 300-day-old key each: `alice` and `bob`. */
const csvOf = (accountId: string) =>
  `${[
    REPORT_HEADER,
    reportRow({ user: '<root_account>', mfa_active: 'true' }, accountId),
    ...['alice', 'bob'].map((user) =>
      reportRow(
        {
          user,
          access_key_1_active: 'true',
          access_key_1_last_rotated: '2026-02-04T00:00:00+00:00',
          access_key_1_last_used_date: '2026-11-30T00:00:00+00:00',
          access_key_1_last_used_service: 's3',
          access_key_1_last_used_region: 'us-east-1',
        },
        accountId,
      ),
    ),
  ].join('\n')}\n`;

const job = (accountId: string, tags: UserTags, now: Date): AccountJob => ({
  accountId,
  scan: {
    report: { getReport: async () => ({ csv: csvOf(accountId), generatedAt: now }) },
    thresholds: DEFAULT_THRESHOLDS,
    now,
    tags,
  },
});

const ROUTED: NotificationPolicy = {
  ...DEFAULT_NOTIFICATION_POLICY,
  defaultChannel: 'ops',
  routes: [
    { channel: 'payments', accounts: [A] },
    { channel: 'data', userTags: { 'credwatch:team': ['data'] } },
  ],
};

function memoryStore() {
  const states = new Map<string, FindingState>();
  const known = new Set<string>();
  const store: StateStore = {
    load: async (accountId): Promise<LoadedStates> => ({
      states: [...states.values()].filter((s) => s.accountId === accountId),
      unreadable: [],
      known: known.has(accountId),
    }),
    commit: async (written) => {
      // One state per finding and channel, as the state table keeps them (lambda/contracts.ts).
      for (const s of written) states.set(stateSortKey(s.id, s.channel, 'ops'), s);
      return { written: written.length, skippedAsStale: [] };
    },
    markKnown: async (ids) => {
      for (const id of ids) known.add(id);
    },
  };
  return { store, states, known };
}

/** Notifiers that accept every post and record it by channel; `unreachable` channels cannot be made. */
function channels(unreachable: readonly string[] = []) {
  const posts = new Map<string, Post[]>();
  const caps: Record<string, number | undefined> = {};
  const notifier = async (channel: string): Promise<Notifier> => {
    if (unreachable.includes(channel)) throw new Error(`Slack webhook secret has no channel "${channel}"`);
    return {
      notify: async (sent, _heading, options) => {
        caps[channel] = options.maxMessages;
        for (const post of sent) {
          posts.set(channel, [...(posts.get(channel) ?? []), post]);
          await options.onDelivered(
            post.carries,
            post.kind === 'summary' ? post.summary.reason : post.kind === 'owner' ? 'roll-up' : undefined,
          );
        }
        return { messages: sent.length, messagesDelivered: sent.length, uncertain: 0 };
      },
    };
  };
  return { notifier, posts, caps };
}

const users = (post: Post) => post.carries.map((c) => `${c.finding.accountId}/${c.finding.user}`).sort();

describe('routing', () => {
  const dataBob: UserTags = new Map([['bob', { 'credwatch:team': 'data' }]]);

  it('splits a 3-account organization into its channels, one baseline summary each, and remembers the channel', async () => {
    const { store, states } = memoryStore();
    const chat = channels();
    const run = (now: Date) =>
      monitor({
        accounts: [job(A, dataBob, now), job(B, dataBob, now), job(C, new Map(), now)],
        now,
        state: store,
        notifier: chat.notifier,
        reminderIntervalMs: 7 * DAY,
        notifications: ROUTED,
      });
    const first = await run(NOW);
    expect(first.channelErrors).toEqual([]);
    expect([...chat.posts.keys()].sort()).toEqual(['data', 'ops', 'payments']);
    for (const posts of chat.posts.values()) {
      expect(posts.map((p) => (p.kind === 'summary' ? p.summary.reason : p.kind))).toEqual(['baseline']);
    }
    // Account A goes to payments whoever the user; bob's team elsewhere; the rest to the default.
    expect(users(chat.posts.get('payments')![0]!)).toEqual([`${A}/alice`, `${A}/bob`]);
    expect(users(chat.posts.get('data')![0]!)).toEqual([`${B}/bob`]);
    expect(users(chat.posts.get('ops')![0]!)).toEqual([`${B}/alice`, `${C}/alice`, `${C}/bob`]);
    // Each channel had its own cap.
    expect(chat.caps).toEqual({ ops: 10, payments: 10, data: 10 });
    const channelOf = (id: string) => [...states.values()].find((s) => s.id.startsWith(id))!.channel;
    expect(channelOf(`${A}/bob/`)).toBe('payments');
    expect(channelOf(`${B}/bob/`)).toBe('data');
    expect(channelOf(`${C}/bob/`)).toBe('ops');

    chat.posts.clear();
    const second = await run(new Date(NOW.getTime() + HOUR));
    expect(second.changes).toEqual([]);
    expect(chat.posts.size).toBe(0);
  });

  it('a channel that cannot be reached stops only itself; its findings are announced next run', async () => {
    const { store, known } = memoryStore();
    const broken = channels(['data']);
    const accounts = (now: Date) => [job(A, dataBob, now), job(B, dataBob, now), job(C, new Map(), now)];
    const first = await monitor({
      accounts: accounts(NOW),
      now: NOW,
      state: store,
      notifier: broken.notifier,
      reminderIntervalMs: 7 * DAY,
      notifications: ROUTED,
    });
    expect(first.channelErrors.map((e) => [e.channel, e.error.message])).toEqual([
      ['data', 'Slack webhook secret has no channel "data"'],
    ]);
    expect(first.notifierError?.message).toBe('Slack webhook secret has no channel "data"');
    expect([...broken.posts.keys()].sort()).toEqual(['ops', 'payments']);
    expect(first.delivered.map((c) => c.channel).sort()).toEqual([
      'ops',
      'ops',
      'ops',
      'payments',
      'payments',
    ]);
    // B still has something to say: it is not known yet; A and C are.
    expect([...known].sort()).toEqual([A, C]);

    const fixed = channels();
    const later = new Date(NOW.getTime() + HOUR);
    const second = await monitor({
      accounts: accounts(later),
      now: later,
      state: store,
      notifier: fixed.notifier,
      reminderIntervalMs: 7 * DAY,
      notifications: ROUTED,
    });
    expect([...fixed.posts.keys()]).toEqual(['data']);
    expect(second.delivered.map((c) => `${c.kind} ${c.finding.accountId}/${c.finding.user}`)).toEqual([
      `opened ${B}/bob`,
    ]);
    // B is still on first contact (only baselined states, no marker): the recovered channel gets its
    // baseline summary, not each finding; and B is known from now on.
    const [post] = fixed.posts.get('data')!;
    expect(post?.kind === 'summary' && post.summary.reason).toBe('baseline');
    expect([...known].sort()).toEqual([A, B, C]);
  });

  it('a channel whose reminders stay due (it cannot be reached) never makes the others roll up every run', async () => {
    const { store } = memoryStore();
    const accounts = (now: Date) => [job(A, dataBob, now), job(B, dataBob, now), job(C, new Map(), now)];
    const run = async (chat: ReturnType<typeof channels>, now: Date) =>
      monitor({
        accounts: accounts(now),
        now,
        state: store,
        notifier: chat.notifier,
        reminderIntervalMs: 7 * DAY,
        notifications: ROUTED,
      });
    await run(channels(), NOW);
    // A week later every channel's reminders are due: each gets its roll-up, but data cannot be reached.
    const week = channels(['data']);
    await run(week, new Date(NOW.getTime() + 7 * DAY));
    expect([...week.posts.keys()].sort()).toEqual(['ops', 'payments']);
    // Ten minutes later data's reminders are still due; ops and payments hear nothing more.
    const next = channels(['data']);
    const after = await run(next, new Date(NOW.getTime() + 7 * DAY + 10 * 60_000));
    expect(next.posts.size).toBe(0);
    expect(after.changes.map((c) => c.channel)).toEqual(['data']);
    expect(after.channelErrors.map((e) => e.channel)).toEqual(['data']);
  });

  it("sends a resolution to the finding's channel now when the route that announced it was removed", async () => {
    const { store } = memoryStore();
    const chat = channels();
    const first = await monitor({
      accounts: [job(A, new Map(), NOW)],
      now: NOW,
      state: store,
      notifier: chat.notifier,
      reminderIntervalMs: 7 * DAY,
      notifications: ROUTED,
    });
    expect(first.delivered.every((c) => c.channel === 'payments')).toBe(true);
    // The payments route is gone, and alice's key was rotated away (her finding resolves).
    const later = new Date(NOW.getTime() + HOUR);
    const rotated: AccountJob = {
      ...job(A, new Map(), later),
      scan: {
        ...job(A, new Map(), later).scan,
        report: {
          getReport: async () => ({
            csv: csvOf(A)
              .split('\n')
              .filter((line) => !line.startsWith('alice,'))
              .join('\n'),
            generatedAt: later,
          }),
        },
      },
    };
    const noPayments: NotificationPolicy = { ...ROUTED, routes: ROUTED.routes!.slice(1) };
    const second = await monitor({
      accounts: [rotated],
      now: later,
      state: store,
      notifier: chat.notifier,
      reminderIntervalMs: 7 * DAY,
      notifications: noPayments,
    });
    expect(second.changes.map((c) => [c.kind, c.finding.user, c.channel])).toEqual([
      // bob, still open, moves to the default channel; alice's resolution goes there too.
      ['reminder', 'bob', 'ops'],
      ['resolved', 'alice', 'ops'],
    ]);
    expect(second.channelErrors).toEqual([]);
  });

  it('reminds a finding in its new channel when its user is re-tagged, once', async () => {
    const { store } = memoryStore();
    const chat = channels();
    const run = (tags: UserTags, now: Date) =>
      monitor({
        accounts: [job(B, tags, now)],
        now,
        state: store,
        notifier: chat.notifier,
        reminderIntervalMs: 7 * DAY,
        notifications: ROUTED,
      });
    await run(new Map(), NOW);
    expect([...chat.posts.keys()]).toEqual(['ops']);
    chat.posts.clear();
    const moved = await run(dataBob, new Date(NOW.getTime() + HOUR));
    expect(moved.changes.map((c) => [c.kind, c.finding.user, c.channel])).toEqual([
      ['reminder', 'bob', 'data'],
    ]);
    // Roll-up reminders: the data channel hears bob's finding in its roll-up; ops hears nothing.
    expect([...chat.posts.keys()]).toEqual(['data']);
    chat.posts.clear();
    const after = await run(dataBob, new Date(NOW.getTime() + 2 * HOUR));
    expect(after.changes).toEqual([]);
  });

  it('keeps the lane a finding left until its new channel was told: a channel that cannot be reached is told next run', async () => {
    const { store, states } = memoryStore();
    await monitor({
      accounts: [job(B, dataBob, NOW)],
      now: NOW,
      state: store,
      notifier: channels().notifier,
      reminderIntervalMs: 7 * DAY,
      notifications: ROUTED,
    });
    const bobIn = (channel: string) =>
      [...states.values()].find((s) => s.finding.user === 'bob' && s.channel === channel)?.status;
    expect(bobIn('data')).toBe('open');
    // bob moves back to ops (his tag removed) while ops cannot be reached: data's lane stays open.
    const failing = await monitor({
      accounts: [job(B, new Map(), new Date(NOW.getTime() + HOUR))],
      now: new Date(NOW.getTime() + HOUR),
      state: store,
      notifier: channels(['ops']).notifier,
      reminderIntervalMs: 7 * DAY,
      notifications: ROUTED,
    });
    expect(failing.changes.map((c) => [c.kind, c.finding.user, c.channel])).toEqual([
      ['reminder', 'bob', 'ops'],
    ]);
    expect(failing.delivered).toEqual([]);
    expect(bobIn('data')).toBe('open');
    // ops is back: told once, and only then is data's lane closed.
    const chat = channels();
    const told = await monitor({
      accounts: [job(B, new Map(), new Date(NOW.getTime() + 2 * HOUR))],
      now: new Date(NOW.getTime() + 2 * HOUR),
      state: store,
      notifier: chat.notifier,
      reminderIntervalMs: 7 * DAY,
      notifications: ROUTED,
    });
    expect(told.delivered.map((c) => [c.kind, c.finding.user, c.channel])).toEqual([
      ['reminder', 'bob', 'ops'],
    ]);
    expect([...chat.posts.keys()]).toEqual(['ops']);
    expect(bobIn('data')).toBe('resolved');
    expect(bobIn('ops')).toBe('open');
  });

  it("counts in a roll-up's news the resolutions of an account that has nothing open any more", async () => {
    const { store } = memoryStore();
    const chat = channels();
    const clean = (accountId: string, now: Date): AccountJob => ({
      accountId,
      scan: {
        report: {
          getReport: async () => ({
            csv: `${csvOf(accountId)
              .split('\n')
              .filter((line) => !/^(alice|bob),/.test(line))
              .join('\n')}`,
            generatedAt: now,
          }),
        },
        thresholds: DEFAULT_THRESHOLDS,
        now,
      },
    });
    const run = (jobs: AccountJob[], now: Date) =>
      monitor({ accounts: jobs, now, state: store, notifier: chat.notifier, reminderIntervalMs: 7 * DAY });
    await run([job(A, new Map(), NOW), job(C, new Map(), NOW)], NOW);
    const day = new Date(NOW.getTime() + DAY);
    const fixed = await run([job(A, new Map(), day), clean(C, day)], day);
    expect(fixed.delivered.map((c) => `${c.kind} ${c.finding.accountId}`)).toEqual([
      `resolved ${C}`,
      `resolved ${C}`,
    ]);
    chat.posts.clear();
    const week = new Date(NOW.getTime() + 7 * DAY);
    await run([job(A, new Map(), week), clean(C, week)], week);
    const rollUp = chat.posts.get('default')!.find((p) => p.kind === 'summary');
    expect(rollUp?.kind === 'summary' && rollUp.summary.sinceLast).toEqual({
      at: NOW.toISOString(),
      opened: 0,
      escalated: 0,
      resolved: 2,
    });
  });
});
