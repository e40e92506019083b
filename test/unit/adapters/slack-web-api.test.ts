/**
 * The Slack Web API client (lambda/adapters/slack/web-api.ts) against the workspace stand-in
 * (test/support/slack-web-api.ts): what each method returns, Slack's refusals as permanent errors
 * with hints and without the token, 429 Retry-After, lost answers, pacing.
 */

import { inspect } from 'node:util';
import { SLACK_API_PACE_MS, SlackApiError, SlackWebApi } from '../../../lambda/adapters/slack/web-api';
import { type SlackWorkspace, startSlackWorkspace } from '../../support/slack-web-api';

/** Everything an error carries, its cause chain and every field included (what a logger may print). */
const everything = (error: unknown) => inspect(error, { depth: 20, showHidden: true });

const message = {
  text: 'credwatch: 1 critical',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*AKIA…* is 400 days old' } }],
};

describe('SlackWebApi against the workspace stand-in', () => {
  let ws: SlackWorkspace;
  let t: number;
  let sleeps: number[];
  const api = (overrides: Partial<ConstructorParameters<typeof SlackWebApi>[0]> = {}) =>
    new SlackWebApi({
      token: ws.token,
      apiUrl: ws.apiUrl,
      clock: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
      ...overrides,
    });

  beforeEach(async () => {
    t = 1_000_000;
    sleeps = [];
    ws = await startSlackWorkspace({
      users: [
        { id: 'U0AAA', email: 'ana@example.com' },
        { id: 'U0OLD', email: 'old@example.com', deleted: true },
        { id: 'U0BOT', email: 'bot@example.com', isBot: true },
      ],
      channels: [{ id: 'C0SEC' }, { id: 'C0OUT', member: false }, { id: 'C0ARC', archived: true }],
      rateLimit: { clock: () => t },
    });
  });
  afterEach(() => ws.close());

  it('posts to a channel, replies in the thread, and updates the message', async () => {
    const slack = api();
    const posted = await slack.postMessage('C0SEC', message);
    expect(posted.conversation).toBe('C0SEC');
    expect(posted.ts).toMatch(/^\d+\.\d+$/);
    const reply = await slack.postMessage('C0SEC', { text: 'reminder' }, posted.ts);
    await slack.updateMessage('C0SEC', posted.ts, { text: 'updated', blocks: message.blocks });

    expect(ws.messagesIn('C0SEC').map((m) => [m.text, m.updates])).toEqual([['updated', 1]]);
    expect(ws.messagesIn('C0SEC')[0]?.blocks).toEqual(message.blocks);
    expect(ws.repliesTo('C0SEC', posted.ts).map((m) => [m.ts, m.text])).toEqual([[reply.ts, 'reminder']]);
  });

  it('finds a member by e-mail, and not a deleted user, a bot or an unknown e-mail', async () => {
    const slack = api();
    expect(await slack.lookupUserByEmail('Ana@Example.com')).toBe('U0AAA');
    expect(await slack.lookupUserByEmail('old@example.com')).toBeUndefined();
    expect(await slack.lookupUserByEmail('bot@example.com')).toBeUndefined();
    expect(await slack.lookupUserByEmail('nobody@example.com')).toBeUndefined();
    expect(ws.calls.map((c) => c.answer)).toEqual(['ok', 'ok', 'ok', 'users_not_found']);
  });

  it('opens a direct conversation and posts in it', async () => {
    const slack = api();
    const direct = await slack.openDirect('U0AAA');
    expect(direct).toBe(ws.directOf('U0AAA'));
    await slack.postMessage(direct, message);
    expect(ws.messagesIn(direct)).toHaveLength(1);
    await expect(slack.openDirect('U0NOPE')).rejects.toMatchObject({
      slackError: 'user_not_found',
      permanent: true,
    });
  });

  it.each([
    ['C0OUT', 'not_in_channel', /invite it/],
    ['C0ARC', 'is_archived', /unarchive/],
    ['C0NONE', 'channel_not_found', /no conversation has this id/],
  ])('a post to %s fails permanently with %s and a hint, without the token', async (channel, code, hint) => {
    const error = await api()
      .postMessage(channel, message)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackApiError);
    expect(error).toMatchObject({ method: 'chat.postMessage', slackError: code, permanent: true });
    expect((error as Error).message).toMatch(hint);
    expect(everything(error)).not.toContain(ws.token);
    expect(ws.calls).toHaveLength(1);
  });

  it('a wrong token is invalid_auth, a missing scope missing_scope; neither shows the token', async () => {
    const wrong = 'xoxb-111111111111-2222222222222-notTheRightOneAtAll';
    const error = await api({ token: wrong })
      .postMessage('C0SEC', message)
      .then(() => undefined)
      .catch((e: unknown) => e as SlackApiError);
    expect(error).toMatchObject({ slackError: 'invalid_auth', permanent: true });
    expect(everything(error)).not.toContain(wrong);

    await ws.close();
    ws = await startSlackWorkspace({ channels: [{ id: 'C0SEC' }], scopes: ['chat:write'] });
    await expect(api().lookupUserByEmail('ana@example.com')).rejects.toMatchObject({
      slackError: 'missing_scope',
      message: expect.stringMatching(/add the scopes/),
    });
  });

  it('refuses a token that is not a bot token, without echoing it', () => {
    expect(() => api({ token: 'https://hooks.slack.com/services/T/B/secretvalue' })).toThrow(
      /^the Slack bot token is not an xoxb- token$/,
    );
  });

  it('waits what Retry-After says on a 429, then posts once', async () => {
    ws.script('chat.postMessage', { error: 'ratelimited', retryAfter: 3 });
    await api().postMessage('C0SEC', message);
    expect(sleeps).toEqual([3000]);
    expect(ws.calls.map((c) => c.answer)).toEqual(['ratelimited', 'ok']);
    expect(ws.messagesIn('C0SEC')).toHaveLength(1);
  });

  it('gives up within its budget when Slack keeps rate limiting, as a transient error', async () => {
    ws.script('chat.update', ...Array.from({ length: 10 }, () => ({ error: 'ratelimited', retryAfter: 4 })));
    const error = await api({ timeBudgetMs: 10_000 })
      .updateMessage('C0SEC', '1.000001', message)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ slackError: 'ratelimited', permanent: false });
    expect((error as Error).message).toMatch(/within the 10000 ms budget \(3 attempts/);
    expect(ws.calls).toHaveLength(3);
  });

  it('a page that is not Slack JSON (a proxy) is retried, never echoed', async () => {
    const page = '<html><body>502 Bad Gateway from proxy.internal.example</body></html>';
    ws.script('chat.postMessage', { status: 200, headers: { 'Content-Type': 'text/html' }, body: page });
    const slack = api();
    await slack.postMessage('C0SEC', message);
    expect(ws.messagesIn('C0SEC')).toHaveLength(1);
    ws.script('chat.postMessage', ...Array.from({ length: 8 }, () => ({ status: 200, body: page })));
    const error = await api({ timeBudgetMs: 3_000 })
      .postMessage('C0SEC', message)
      .then(() => undefined)
      .catch((e: unknown) => e as SlackApiError);
    expect(error).toMatchObject({ permanent: false, slackError: 'unexpected_answer' });
    expect(error?.message).not.toContain('proxy.internal');
  });

  it('cuts every call to the run deadline, and calls nothing past it', async () => {
    const slack = api();
    slack.setDeadline(t + 2_500);
    ws.script('chat.postMessage', { error: 'ratelimited', retryAfter: 5 });
    await expect(slack.postMessage('C0SEC', message)).rejects.toMatchObject({
      slackError: 'ratelimited',
      message: expect.stringMatching(/within the 2500 ms budget/),
    });
    slack.setDeadline(t - 1);
    await expect(slack.lookupUserByEmail('ana@example.com')).rejects.toMatchObject({
      slackError: 'out_of_time',
    });
    expect(ws.calls.filter((c) => c.method === 'users.lookupByEmail')).toEqual([]);
  });

  it('retries a post whose answer was lost once, counted as uncertain, and no more', async () => {
    const slack = api();
    ws.script('chat.postMessage', 'destroy');
    await slack.postMessage('C0SEC', message);
    expect(slack.uncertain()).toBe(1);
    ws.script('chat.postMessage', 'destroy', 'destroy');
    const lost = await slack.postMessage('C0SEC', message).catch((e: unknown) => e);
    expect(lost).toMatchObject({ slackError: 'answer_lost', permanent: false });
    expect(everything(lost)).not.toContain(ws.token);
    expect(slack.uncertain()).toBe(2);
  });

  it('retries a lookup (idempotent) after lost answers and 5xx without counting it uncertain', async () => {
    const slack = api();
    ws.script('users.lookupByEmail', 'destroy', { status: 503, body: 'upstream' }, 'destroy');
    expect(await slack.lookupUserByEmail('ana@example.com')).toBe('U0AAA');
    expect(slack.uncertain()).toBe(0);
    // Backoffs double; the Tier 3 pace tops up the first two (1,200 ms between starts).
    expect(sleeps).toEqual([500, 700, 1000, 200, 2000]);
  });

  it('paces posts to one conversation and Tier 3 calls so the stand-in never rate limits', async () => {
    const slack = api();
    for (let i = 0; i < 6; i++) await slack.postMessage('C0SEC', message);
    for (let i = 0; i < 15; i++) await slack.lookupUserByEmail('ana@example.com');
    expect(ws.calls.filter((c) => c.answer === 'ratelimited')).toEqual([]);
    expect(sleeps.filter((s) => s === SLACK_API_PACE_MS.postPerConversation)).toHaveLength(5);
  });

  it('without pacing, the stand-in holds Slack rate and the client honours its 429s', async () => {
    const slack = api({ pace: { postPerConversation: 0, tier3: 0 } });
    for (let i = 0; i < 4; i++) await slack.postMessage('C0SEC', message);
    expect(ws.calls.filter((c) => c.answer === 'ratelimited').length).toBeGreaterThan(0);
    expect(ws.messagesIn('C0SEC')).toHaveLength(4);
  });
});
