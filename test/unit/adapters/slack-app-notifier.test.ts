/**
 * The Slack channel of the app: posts planned into channel messages, thread replies and owners'
 * direct messages; a resolution updates the message that announced it from its record. A narrow
 * unit test with an in-memory Web API (the wire is tested against the Web API stand-in in
 * slack-app-mode.test.ts); every message is checked against the Block Kit rules the stand-ins use.
 */
import {
  decodeRecord,
  planAppMessages,
  type SlackAppApi,
  SlackAppNotifier,
  threadOf,
} from '../../../lambda/adapters/slack/app-notifier';
import type { SlackMessage } from '../../../lambda/adapters/slack/message';
import { DEFAULT_NOTIFICATION_POLICY, planPosts } from '../../../lambda/core/notification-plan';
import type { Change, FindingState, PostedMessage } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';
import type { MessageRecords, NotifyOptions } from '../../../lambda/ports';
import { checkWebhookPayload } from '../../support/block-kit';

const ACCOUNT = '123456789012';
const NOW = new Date('2026-12-02T10:00:00.000Z');
const CONVERSATION = 'C0123ABCD45';
const heading = { accountId: ACCOUNT, accountNames: {}, scanTime: NOW };

const finding = (user: string, owner?: string): Finding => ({
  id: `${ACCOUNT}/${user}/access-key-age/key-2025-01-01T00:00:00Z`,
  accountId: ACCOUNT,
  user,
  arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
  rule: 'access-key-age',
  severity: 'critical',
  credential: 'key-2025-01-01T00:00:00Z',
  accessKeyId: `AKIA${user.toUpperCase().padEnd(16, 'X')}`,
  days: 120,
  thresholdDays: 90,
  summary: `${user}'s access key is 120 days old`,
  ...(owner ? { owner } : {}),
});
const previous = (f: Finding, thread?: PostedMessage): FindingState => ({
  id: f.id,
  accountId: ACCOUNT,
  status: 'open',
  notifiedSeverity: 'critical',
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastNotifiedAt: '2026-11-01T00:00:00.000Z',
  scanTime: '2026-11-01T00:00:00.000Z',
  finding: f,
  channel: 'security',
  ...(thread ? { thread } : {}),
});
const PARENT_A = { conversation: CONVERSATION, ts: '1764500000.000100' };
const PARENT_B = { conversation: CONVERSATION, ts: '1764500000.000200' };
const change = (kind: Change['kind'], user: string, thread?: PostedMessage, owner?: string): Change => {
  const f = finding(user, owner);
  return {
    kind,
    finding: f,
    channel: 'security',
    ...(kind === 'opened' ? {} : { previous: previous(f, thread) }),
  };
};

/** An in-memory Web API: each call, and what Slack would have. */
class FakeApi implements SlackAppApi {
  readonly calls: {
    method: string;
    conversation?: string;
    threadTs?: string;
    message?: SlackMessage;
    ts?: string;
  }[] = [];
  users: Record<string, string> = { 'alice@example.com': 'U0ALICE01' };
  failPostAt: number | undefined;
  private seq = 0;
  async postMessage(conversation: string, message: SlackMessage, threadTs?: string) {
    if (
      this.failPostAt !== undefined &&
      this.calls.filter((c) => c.method === 'chat.postMessage').length === this.failPostAt
    ) {
      throw Object.assign(new Error('chat.postMessage: ratelimited'), {
        permanent: false,
        slackError: 'ratelimited',
      });
    }
    const verdict = checkWebhookPayload(message);
    if (!verdict.ok) throw new Error(`Block Kit refused: ${JSON.stringify(verdict)}`);
    this.calls.push({ method: 'chat.postMessage', conversation, message, ...(threadTs ? { threadTs } : {}) });
    return { conversation, ts: `1764600000.${String(++this.seq).padStart(6, '0')}` };
  }
  async updateMessage(conversation: string, ts: string, message: SlackMessage) {
    const verdict = checkWebhookPayload(message);
    if (!verdict.ok) throw new Error(`Block Kit refused: ${JSON.stringify(verdict)}`);
    this.calls.push({ method: 'chat.update', conversation, ts, message });
  }
  async openDirect(userId: string) {
    this.calls.push({ method: 'conversations.open', conversation: userId });
    return `D${userId.slice(1)}`;
  }
  async lookupUserByEmail(email: string) {
    this.calls.push({ method: 'users.lookupByEmail', conversation: email });
    return this.users[email];
  }
}

class MemoryRecords implements MessageRecords {
  readonly bodies = new Map<string, string>();
  async getMessage(m: PostedMessage) {
    return this.bodies.get(`${m.conversation}/${m.ts}`);
  }
  async putMessage(m: PostedMessage, body: string) {
    this.bodies.set(`${m.conversation}/${m.ts}`, body);
  }
}

function run(
  changes: readonly Change[],
  api: FakeApi,
  records: MemoryRecords,
  cap = 10,
  policy = DEFAULT_NOTIFICATION_POLICY,
) {
  const remembered: { changes: readonly Change[]; announcedIn?: string; posted?: PostedMessage }[] = [];
  const warnings: string[] = [];
  const notifier = new SlackAppNotifier({
    api,
    conversation: CONVERSATION,
    records,
    now: NOW,
    onWarning: (w) => warnings.push(w),
  });
  const options: NotifyOptions = {
    maxMessages: cap,
    onDelivered: async (c, announcedIn, posted) => {
      remembered.push({ changes: c, ...(announcedIn ? { announcedIn } : {}), ...(posted ? { posted } : {}) });
    },
  };
  const posts = planPosts(changes, new Set(), { ...policy, maxMessagesPerRun: cap });
  return notifier.notify(posts, heading, options).then((result) => ({ result, remembered, warnings }));
}

describe('threadOf', () => {
  it('is the known message of a reminder or resolution in the same conversation only', () => {
    expect(threadOf(change('reminder', 'a', PARENT_A), CONVERSATION)).toEqual(PARENT_A);
    expect(threadOf(change('resolved', 'a', PARENT_A), CONVERSATION)).toEqual(PARENT_A);
    expect(threadOf(change('escalated', 'a', PARENT_A), CONVERSATION)).toBeUndefined();
    expect(threadOf(change('reminder', 'a', PARENT_A), 'C9999999999')).toBeUndefined();
    expect(threadOf(change('reminder', 'a'), CONVERSATION)).toBeUndefined();
  });
});

describe('SlackAppNotifier', () => {
  it('posts a digest in the channel, records it and hands back where it is', async () => {
    const api = new FakeApi();
    const records = new MemoryRecords();
    const { result, remembered } = await run(
      [change('opened', 'alice'), change('opened', 'bob')],
      api,
      records,
    );
    expect(result).toMatchObject({ messages: 1, messagesDelivered: 1 });
    expect(api.calls.map((c) => c.method)).toEqual(['chat.postMessage']);
    expect(remembered).toEqual([
      { changes: expect.any(Array), posted: { conversation: CONVERSATION, ts: '1764600000.000001' } },
    ]);
    const record = decodeRecord(records.bodies.get(`${CONVERSATION}/1764600000.000001`)!);
    expect(record?.message).toEqual(api.calls[0]?.message);
    expect(record?.resolved).toEqual([]);
  });

  it('replies to each known message once with its reminders; the roll-up still counts them all', async () => {
    const api = new FakeApi();
    const changes = [
      change('reminder', 'alice', PARENT_A),
      change('reminder', 'bob', PARENT_A),
      change('reminder', 'carol', PARENT_B),
      change('reminder', 'dave'),
    ];
    const { remembered } = await run(changes, api, new MemoryRecords());
    const posts = api.calls.filter((c) => c.method === 'chat.postMessage');
    // The roll-up first: it summarizes all four, and carries only the one without a thread.
    expect(posts.map((c) => c.threadTs)).toEqual([undefined, PARENT_A.ts, PARENT_B.ts]);
    expect(posts[0]?.message?.text).toMatch(/4 still open/);
    expect(posts[1]?.message?.text).toMatch(/2 reminders/);
    expect(JSON.stringify(posts[1]?.message)).toContain('bob');
    expect(JSON.stringify(posts[1]?.message)).not.toContain('carol');
    expect(remembered.map((r) => r.changes.map((c) => c.finding.user))).toEqual([
      ['dave'],
      ['alice', 'bob'],
      ['carol'],
    ]);
    expect(remembered.map((r) => r.posted)).toEqual([
      { conversation: CONVERSATION, ts: '1764600000.000001' },
      undefined,
      undefined,
    ]);
  });

  it('replies with a resolution and updates the message that announced it, from its record', async () => {
    const api = new FakeApi();
    const records = new MemoryRecords();
    await run([change('opened', 'alice'), change('opened', 'bob')], api, records);
    const parent = { conversation: CONVERSATION, ts: '1764600000.000001' };
    const original = api.calls[0]!.message!;
    await run([change('resolved', 'alice', parent)], api, records);
    const [reply, update] = api.calls.slice(1);
    expect(reply).toMatchObject({ method: 'chat.postMessage', threadTs: parent.ts });
    expect(reply?.message?.text).toMatch(/1 resolved/);
    expect(update).toMatchObject({ method: 'chat.update', conversation: CONVERSATION, ts: parent.ts });
    expect(update?.message?.text).toBe(`${original.text} (1 resolved since)`);
    const updated = JSON.stringify(update?.message?.blocks);
    expect(updated).toContain('Resolved since:* alice · key age `AKIAALICEXXXXXXXXXXX` (2026-12-02)');
    expect(updated).not.toContain('bob ·');
    // A second resolution adds to the first: the record keeps what was resolved.
    await run([change('resolved', 'bob', parent)], api, records);
    const second = api.calls.at(-1)!;
    expect(second.method).toBe('chat.update');
    expect(second.message?.text).toBe(`${original.text} (2 resolved since)`);
    expect(JSON.stringify(second.message?.blocks)).toMatch(/alice · key age.*bob · key age/);
  });

  it('replies but does not update a message without a record, and says so', async () => {
    const api = new FakeApi();
    const { warnings } = await run([change('resolved', 'alice', PARENT_A)], api, new MemoryRecords());
    expect(api.calls.map((c) => c.method)).toEqual(['chat.postMessage']);
    expect(warnings).toEqual([
      `message ${PARENT_A.ts} has no record: it is not updated (the resolution is in its thread)`,
    ]);
  });

  it("messages an owner directly (member id as is, e-mail looked up once), and an unknown owner's list goes to the channel once", async () => {
    const api = new FakeApi();
    const changes = [
      change('reminder', 'alice', undefined, 'alice@example.com'),
      change('reminder', 'alice2', undefined, 'alice@example.com'),
      change('reminder', 'bob', undefined, 'U0BOB0001'),
      change('reminder', 'carol', undefined, 'carol@example.org'),
    ];
    const { warnings, remembered } = await run(changes, api, new MemoryRecords());
    expect(api.calls.map((c) => `${c.method} ${c.conversation}`)).toEqual([
      `chat.postMessage ${CONVERSATION}`, // the roll-up, then the owners in their order
      'conversations.open U0BOB0001',
      'chat.postMessage D0BOB0001',
      'users.lookupByEmail alice@example.com',
      'conversations.open U0ALICE01',
      'chat.postMessage D0ALICE01',
      'users.lookupByEmail carol@example.org',
      `chat.postMessage ${CONVERSATION}`,
    ]);
    const alice = api.calls[5]!.message!;
    expect(JSON.stringify(alice)).toContain('alice2');
    expect(JSON.stringify(alice)).not.toContain('bob');
    expect(api.calls[7]?.message?.text).toMatch(
      /credwatch could not find …@example.org in Slack, so it is posted here\)$/,
    );
    // Slack shows the blocks, not the text: the reason is a context line of the message too.
    expect(api.calls[7]?.message?.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: ':information_source: credwatch could not find …@example.org in Slack, so it is posted here.',
        },
      ],
    });
    expect(warnings).toEqual([
      'no Slack user has the e-mail of owner …@example.org: their list goes to the channel',
    ]);
    expect(remembered.map((r) => r.changes.map((c) => c.finding.user))).toEqual([
      [],
      ['bob'],
      ['alice', 'alice2'],
      ['carol'],
    ]);
  });

  it('counts replies and direct messages against the cap: the rest is one overflow summary in the channel', async () => {
    const api = new FakeApi();
    const parents = Array.from({ length: 5 }, (_, i) => ({
      conversation: CONVERSATION,
      ts: `1764500000.00010${i}`,
    }));
    const changes = parents.map((p, i) =>
      change('reminder', `user${i}`, p, i === 4 ? 'U0OWNER01' : undefined),
    );
    const { result, remembered } = await run(changes, api, new MemoryRecords(), 4);
    expect(result).toMatchObject({ messages: 4, messagesDelivered: 4 });
    const posts = api.calls.filter((c) => c.method === 'chat.postMessage');
    // The roll-up and the owner's list first: the replies are what the cap folds, never those.
    expect(posts.map((c) => [c.conversation, c.threadTs, c.message?.text])).toEqual([
      [CONVERSATION, undefined, expect.stringContaining('5 still open')],
      ['D0OWNER01', undefined, expect.stringContaining('1 of your credentials')],
      [CONVERSATION, parents[0]!.ts, expect.any(String)],
      [CONVERSATION, undefined, expect.any(String)],
    ]);
    expect(remembered.at(-1)).toMatchObject({ announcedIn: 'overflow' });
    expect(remembered.at(-1)?.changes.map((c) => c.finding.user)).toEqual([
      'user1',
      'user2',
      'user3',
      'user4',
    ]);
  });

  it('an e-mail Slack refuses to look up (missing_scope) sends the list to the channel and fails nothing', async () => {
    const api = new FakeApi();
    api.lookupUserByEmail = async () => {
      throw Object.assign(new Error('users.lookupByEmail: missing_scope'), {
        permanent: true,
        slackError: 'missing_scope',
      });
    };
    const { result, warnings } = await run(
      [change('reminder', 'alice', undefined, 'alice@example.com')],
      api,
      new MemoryRecords(),
    );
    expect(result).toMatchObject({ messages: 2, messagesDelivered: 2 });
    expect(result.error).toBeUndefined();
    expect(api.calls.map((c) => c.conversation)).toEqual([CONVERSATION, CONVERSATION]);
    expect(warnings).toEqual([
      'owner …@example.com could not be looked up (missing_scope): their list goes to the channel',
    ]);
  });

  it('a reply whose parent message is gone goes to the channel, with a warning', async () => {
    const api = new FakeApi();
    const post = api.postMessage.bind(api);
    api.postMessage = async (conversation, message, threadTs) => {
      if (threadTs) {
        throw Object.assign(new Error('chat.postMessage: thread_not_found'), {
          permanent: true,
          slackError: 'thread_not_found',
        });
      }
      return post(conversation, message);
    };
    const { result, warnings } = await run([change('resolved', 'alice', PARENT_A)], api, new MemoryRecords());
    expect(result).toMatchObject({ messages: 1, messagesDelivered: 1 });
    expect(api.calls.map((c) => [c.method, c.threadTs])).toEqual([['chat.postMessage', undefined]]);
    expect(warnings[0]).toBe(
      `the thread of message ${PARENT_A.ts} cannot be replied to (thread_not_found): posted in the channel`,
    );
  });

  it("a user group's list goes to the channel, saying it is a group", async () => {
    const api = new FakeApi();
    await run([change('reminder', 'alice', undefined, 'S0TEAM001')], api, new MemoryRecords());
    expect(api.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.postMessage']);
    expect(api.calls[1]?.message?.text).toMatch(
      /S0TEAM001 is a user group, which credwatch cannot message directly/,
    );
  });

  it('starts no call after the deadline, and hands the deadline to the API', async () => {
    const api = new FakeApi();
    const deadlines: (number | undefined)[] = [];
    Object.assign(api, { setDeadline: (d: number | undefined) => deadlines.push(d) });
    const notifier = new SlackAppNotifier({ api, conversation: CONVERSATION, records: new MemoryRecords() });
    const posts = planPosts([change('opened', 'alice')], new Set(), DEFAULT_NOTIFICATION_POLICY);
    const past = Date.now() - 1;
    const result = await notifier.notify(posts, heading, {
      maxMessages: 10,
      deadline: past,
      onDelivered: async () => {},
    });
    expect(result).toMatchObject({ messages: 1, messagesDelivered: 0 });
    expect(result.error?.message).toMatch(/out of time/);
    expect(api.calls).toEqual([]);
    expect(deadlines).toEqual([past]);
  });

  it('stops at the first message Slack did not take; what came before is remembered', async () => {
    const api = new FakeApi();
    api.failPostAt = 1;
    const { result, remembered } = await run(
      [change('reminder', 'alice', PARENT_A), change('reminder', 'bob', PARENT_B)],
      api,
      new MemoryRecords(),
    );
    expect(result.messagesDelivered).toBe(1);
    expect(result.error?.message).toBe('chat.postMessage: ratelimited');
    expect(remembered).toHaveLength(1);
  });

  it('plans nothing in a thread of another conversation', () => {
    const elsewhere = { conversation: 'C9999999999', ts: '1764500000.000100' };
    const posts = planPosts([change('reminder', 'alice', elsewhere)], new Set(), {
      ...DEFAULT_NOTIFICATION_POLICY,
      reminders: 'per-finding',
    });
    const messages = planAppMessages(posts, { accountId: ACCOUNT, scanTime: NOW }, CONVERSATION, true);
    expect(messages.map((m) => m.to)).toEqual(['channel']);
  });

  it.each([
    ['not JSON', '{'],
    ['another version', JSON.stringify({ v: 2, message: { text: 'x', blocks: [] }, resolved: [] })],
    ['no blocks', JSON.stringify({ v: 1, message: { text: 'x' }, resolved: [] })],
    [
      'a bad resolved line',
      JSON.stringify({ v: 1, message: { text: 'x', blocks: [] }, resolved: [{ label: 1 }] }),
    ],
  ])('refuses a stored record that is %s', (_, body) => {
    expect(decodeRecord(body)).toBeUndefined();
  });
});
