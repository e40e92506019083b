/**
 * Microsoft Teams (lambda/adapters/teams/): credwatch's messages as Adaptive Cards (the same posts
 * as Slack, translated: markdown, escaping, size), the Workflows sender's retries, and the notifier,
 * all against the workflow stand-in (test/support/teams-receiver.ts), which checks every card with
 * Microsoft's Adaptive Cards library and Teams' size limit.
 */
import { inspect } from 'node:util';
import {
  escapeTeamsText,
  mrkdwnToTeams,
  payloadBytes,
  renderTeamsMessages,
  TEAMS_LIMITS,
  type TeamsPayload,
} from '../../../lambda/adapters/teams/card';
import { TeamsNotifier } from '../../../lambda/adapters/teams/notifier';
import { TeamsDeliveryError, TeamsSender } from '../../../lambda/adapters/teams/sender';
import { DEFAULT_NOTIFICATION_POLICY, planPosts } from '../../../lambda/core/notification-plan';
import type { Change, FindingState } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';
import { cardProblems, startTeamsReceiver, type TeamsReceiver } from '../../support/teams-receiver';

const ACCOUNT = '123456789012';
const NOW = new Date('2026-12-02T10:00:00.000Z');
const heading = { accountId: ACCOUNT, accountAlias: 'example-prod', accountNames: {}, scanTime: NOW };

const finding = (user: string, owner?: string, summary?: string): Finding => ({
  id: `${ACCOUNT}/${user}/access-key-age/key-2025-01-01T00:00:00Z`,
  accountId: ACCOUNT,
  user,
  arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
  rule: 'access-key-age',
  severity: 'critical',
  credential: 'key-2025-01-01T00:00:00Z',
  accessKeyId: `AKIA${user
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, 'X')
    .padEnd(16, 'X')
    .slice(0, 16)}`,
  days: 120,
  thresholdDays: 90,
  summary: summary ?? `Access key 1 of ${user} is 120 days old (critical at 90); rotate it.`,
  ...(owner ? { owner } : {}),
});
const previous = (f: Finding): FindingState => ({
  id: f.id,
  accountId: ACCOUNT,
  status: 'open',
  notifiedSeverity: 'critical',
  firstSeen: '2026-11-01T00:00:00.000Z',
  lastNotifiedAt: '2026-11-01T00:00:00.000Z',
  scanTime: '2026-11-01T00:00:00.000Z',
  finding: f,
});
const change = (kind: Change['kind'], f: Finding): Change => ({
  kind,
  finding: f,
  ...(kind === 'opened' ? {} : { previous: previous(f) }),
});
const posts = (changes: readonly Change[], cap = 10) =>
  planPosts(changes, new Set(), { ...DEFAULT_NOTIFICATION_POLICY, maxMessagesPerRun: cap });
const texts = (p: TeamsPayload) => p.attachments[0].content.body.map((b) => b.text);

describe('Teams cards', () => {
  it('translates Slack mrkdwn: bold, links, owners, entities; code as text; names with markers kept', () => {
    expect(
      mrkdwnToTeams(
        '*New* · <https://console.aws.amazon.com/iam/home#/users/details/alice|alice> · key `AKIA1`',
      ),
    ).toBe('**New** · [alice](https://console.aws.amazon.com/iam/home#/users/details/alice) · key AKIA1');
    expect(mrkdwnToTeams('owner <@U024BE7LH> · <!subteam^S0TEAM01>')).toBe('owner U024BE7LH · S0TEAM01');
    expect(mrkdwnToTeams('svc_ci_deploy &amp; co &lt;x&gt;')).toBe('svc_ci_deploy & co <x>');
  });

  it('escapes what a user, tag or account name could make markdown of', () => {
    expect(escapeTeamsText('[click](https://evil.example) **now**')).toBe(
      '\\[click\\](https://evil.example) \\*\\*now\\*\\*',
    );
    expect(escapeTeamsText('# heading')).toBe('\\# heading');
    expect(escapeTeamsText('- item')).toBe('\\- item');
    expect(escapeTeamsText('1. first')).toBe('1\\. first');
    expect(escapeTeamsText('svc_ci_deploy _x_ __init__')).toBe('svc_ci_deploy \\_x\\_ \\_\\_init\\_\\_');
    expect(escapeTeamsText('2026-05-04 a-b')).toBe('2026-05-04 a-b');
    // Through the whole renderer: an owner tag that tries to be a link stays text.
    const hostile = change('opened', finding('mallory', '[Reset your password](https://evil.example)'));
    const [card] = renderTeamsMessages(posts([hostile]), heading);
    const all = texts(card!.payload).join('\n');
    expect(all).toContain('\\[Reset your password\\](https://evil.example)');
    expect(all).not.toMatch(/(?<!\\)\[Reset your password(?<!\\)\]\(/);
  });

  it('renders a digest as one card of the same content, which the stand-in accepts', () => {
    const changes = [change('opened', finding('alice', 'U024BE7LH')), change('resolved', finding('bob'))];
    const cards = renderTeamsMessages(posts(changes), heading);
    expect(cards).toHaveLength(1);
    const [card] = cards;
    expect(card!.carries).toEqual(changes);
    const body = texts(card!.payload);
    expect(body[0]).toBe('credwatch: 1 new, 1 resolved — example-prod (123456789012)');
    expect(body.join('\n')).toContain(
      '[alice](https://us-east-1.console.aws.amazon.com/iam/home#/users/details/alice)',
    );
    expect(body.join('\n')).toContain('owner U024BE7LH');
    expect(body).toContain('🔴 **Critical** (1)');
    expect(body).toContain('✅ **Resolved** (1)');
    expect(body.join('\n')).toMatch(/\*\*Resolved\*\* \(was critical, open since 2026-11-01\)/);
    expect(card!.payload.attachments[0].content.version).toBe('1.5');
    expect(cardProblems(card!.payload, payloadBytes(card!.payload))).toEqual([]);
  });

  it('splits a digest too big for one card into cards under the limit that carry every change once', () => {
    const changes = Array.from({ length: 160 }, (_, i) =>
      change('opened', finding(`svc-${String(i).padStart(3, '0')}`, undefined, `${'x'.repeat(200)} ${i}`)),
    );
    const cards = renderTeamsMessages(posts(changes, 50), heading, 50);
    expect(cards.length).toBeGreaterThan(1);
    for (const c of cards) {
      expect(payloadBytes(c.payload)).toBeLessThanOrEqual(TEAMS_LIMITS.cardBytes);
      expect(cardProblems(c.payload, payloadBytes(c.payload))).toEqual([]);
    }
    expect(cards.flatMap((c) => c.carries)).toEqual(changes);
  });

  it('counts every card against the cap: beyond it, one overflow summary carries the rest', () => {
    const changes = Array.from({ length: 160 }, (_, i) =>
      change('opened', finding(`svc-${String(i).padStart(3, '0')}`, undefined, `${'x'.repeat(200)} ${i}`)),
    );
    const cards = renderTeamsMessages(posts(changes, 2), heading, 2);
    expect(cards).toHaveLength(2);
    expect(texts(cards[1]!.payload)[0]).toMatch(/^credwatch: \d+ more changes/);
    expect(cards.flatMap((c) => c.carries)).toHaveLength(160);
  });
});

describe('TeamsSender and TeamsNotifier against the workflow stand-in', () => {
  let teams: TeamsReceiver;
  let t: number;
  let sleeps: number[];
  const sender = (url = teams.workflowUrl, budget = 20_000) =>
    new TeamsSender({
      url,
      timeBudgetMs: budget,
      clock: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    });
  const card = () => renderTeamsMessages(posts([change('opened', finding('alice'))]), heading)[0]!.payload;

  beforeEach(async () => {
    t = 5_000_000;
    sleeps = [];
    teams = await startTeamsReceiver();
  });
  afterEach(() => teams.close());

  it('posts a card the channel shows (202 Accepted)', async () => {
    await sender().send(card());
    expect(teams.requests.map((r) => r.answeredWith)).toEqual([202]);
    expect(teams.cards()).toHaveLength(1);
  });

  it('honours Retry-After on 429 and backs off on 5xx, then delivers once', async () => {
    teams.script({ status: 429, headers: { 'Retry-After': '4' } }, { status: 502 });
    await sender().send(card());
    expect(sleeps).toEqual([4000, 500]);
    expect(teams.requests.map((r) => r.answeredWith)).toEqual([429, 502, 202]);
  });

  it('retries a lost answer once (counted uncertain), never twice', async () => {
    const s = sender();
    teams.script('destroy');
    await s.send(card());
    expect(s.uncertain()).toBe(1);
    teams.script('destroy', 'destroy');
    const lost = await s.send(card()).catch((e: unknown) => e);
    expect(lost).toMatchObject({ code: 'answer_lost', permanent: false });
    expect(inspect(lost, { depth: 20, showHidden: true })).not.toContain(teams.sig);
    expect(s.uncertain()).toBe(2);
  });

  it.each([
    ['a wrong signature', (u: string) => u.replace(/sig=[^&]+/, 'sig=wrong'), 401, /signature is not valid/],
    [
      'a URL without its signature',
      (u: string) => u.replace(/&sig=[^&]+/, ''),
      401,
      /signature is not valid/,
    ],
    [
      'a deleted workflow',
      (u: string) => u.replace('/workflows/0a1b2c3d4e5f/', '/workflows/gone/'),
      404,
      /create the workflow again/,
    ],
  ])('%s is permanent, with a hint and never the URL or its signature', async (_what, url, status, hint) => {
    const error = (await sender(url(teams.workflowUrl))
      .send(card())
      .catch((e: unknown) => e)) as TeamsDeliveryError;
    expect(error).toBeInstanceOf(TeamsDeliveryError);
    expect(error).toMatchObject({ permanent: true, status });
    expect(error.message).toMatch(hint);
    expect(inspect(error, { depth: 20, showHidden: true })).not.toContain(teams.sig);
    expect(error.message).not.toContain('127.0.0.1');
    expect(teams.requests).toHaveLength(1);
    expect(teams.cards()).toEqual([]);
  });

  it('a card Teams would not post is refused by the stand-in and is permanent for the sender', async () => {
    const bad = card();
    const broken = {
      ...bad,
      attachments: [
        { ...bad.attachments[0], content: { ...bad.attachments[0].content, body: [{ type: 'Bogus' }] } },
      ],
    } as unknown as TeamsPayload;
    await expect(sender().send(broken)).rejects.toMatchObject({ permanent: true, status: 400 });
    expect(teams.requests[0]?.refusedFor).toEqual([expect.stringMatching(/Unknown element type "Bogus"/)]);
  });

  it('the notifier delivers each card in order and remembers its changes before the next; a failure stops it', async () => {
    const changes = [change('opened', finding('alice')), change('opened', finding('bob', 'bob@example.com'))];
    const remembered: (readonly Change[])[] = [];
    const notifier = new TeamsNotifier(sender());
    const ok = await notifier.notify(posts(changes), heading, {
      maxMessages: 10,
      onDelivered: async (c) => {
        remembered.push(c);
      },
    });
    expect(ok).toMatchObject({ messages: 1, messagesDelivered: 1, uncertain: 0 });
    expect(remembered).toEqual([changes]);

    teams.script({ status: 409, body: '{"error":{"code":"WorkflowDisabled","message":"off"}}' });
    const failed = await notifier.notify(posts(changes), heading, {
      maxMessages: 10,
      onDelivered: async () => {},
    });
    expect(failed).toMatchObject({ messages: 1, messagesDelivered: 0 });
    expect(failed.error?.message).toMatch(/HTTP 409 WorkflowDisabled: the workflow is turned off/);
  });
});
