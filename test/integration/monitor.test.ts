/**
 * The scheduled pipeline (lambda/monitor.ts) against real local parts: the IAM endpoint, dynalite,
 * a Slack receiver that answers like Slack, and an EventBridge endpoint.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { EventPublisher } from '../../lambda/adapters/event-publisher';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from '../../lambda/adapters/iam';
import { SlackNotifier } from '../../lambda/adapters/slack/notifier';
import { SlackSender } from '../../lambda/adapters/slack/sender';
import { DynamoStateStore } from '../../lambda/adapters/state-store';
import { DAY_MS } from '../../lambda/core/dates';
import {
  ANNOUNCE_EVERYTHING,
  DEFAULT_NOTIFICATION_POLICY,
  type NotificationPolicy,
} from '../../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../../lambda/core/policy';
import { monitor } from '../../lambda/monitor';
import { type EventBridgeEndpoint, startEventBridgeEndpoint } from '../support/aws-json-endpoints';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { type IamEndpoint, startIamEndpoint } from '../support/iam-endpoint';
import { sampleAccount } from '../support/sample-account';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';

const START = new Date('2026-11-23T12:00:00Z');
const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' };
const noWait = async () => {};

describe('monitor against local IAM, DynamoDB, Slack and EventBridge', () => {
  let now: Date;
  let iam: IamEndpoint;
  let dynamo: LocalDynamo;
  let slack: SlackReceiver;
  let bus: EventBridgeEndpoint;

  beforeEach(async () => {
    now = START;
    [iam, dynamo, slack, bus] = await Promise.all([
      startIamEndpoint({ account: sampleAccount(START), now: () => now }),
      startDynalite(),
      startSlackReceiver(),
      startEventBridgeEndpoint(),
    ]);
  });
  afterEach(async () => {
    await Promise.all([iam.close(), dynamo.close(), slack.close(), bus.close()]);
  });

  const run = (notifications: NotificationPolicy = ANNOUNCE_EVERYTHING, channel?: SlackNotifier) => {
    const adapter = new IamAdapter({
      client: new IAMClient({ ...IAM_CLIENT_DEFAULTS, endpoint: iam.url, region: 'us-east-1', credentials }),
      sleep: noWait,
    });
    return monitor({
      accounts: [
        {
          scan: {
            report: adapter,
            directory: adapter,
            counter: adapter,
            thresholds: DEFAULT_THRESHOLDS,
            now,
          },
        },
      ],
      now,
      state: new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client }),
      outbox: new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client }),
      notifier: async () =>
        channel ?? new SlackNotifier(new SlackSender({ webhookUrl: slack.url, sleep: noWait })),
      events: new EventPublisher({
        client: new EventBridgeClient({ endpoint: bus.url, region: 'us-east-1', credentials }),
      }),
      reminderIntervalMs: DAY_MS,
      notifications,
    });
  };
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  const text = (payload: unknown) => JSON.stringify(payload);

  it('announces the findings once, then stays silent', async () => {
    const first = await run();
    expect(first.changes.map((c) => `${c.kind}:${c.finding.user}:${c.finding.rule}`)).toEqual([
      'opened:alice:access-key-age',
      'opened:dave:password-without-mfa',
      'opened:bob:access-key-age',
    ]);
    expect(slack.delivered()).toHaveLength(1);
    const digest = text(slack.delivered()[0]);
    expect(digest).toContain('example-prod (123456789012)');
    expect(digest).toContain('<@U024BE7LH>');
    const aliceKey = iam.account.user('alice')!.accessKeys[0]!.id;
    expect(digest).toContain(aliceKey);
    expect(bus.entries.map((e) => e.DetailType)).toEqual([
      'Credential Finding Opened',
      'Credential Finding Opened',
      'Credential Finding Opened',
    ]);

    later(10);
    const second = await run();
    expect(second.changes).toEqual([]);
    expect(slack.requests).toHaveLength(1);
    expect(bus.entries).toHaveLength(3);
  });

  it('announces a rotated key as resolved once IAM regenerates the report (at most 4 hours)', async () => {
    await run();
    const old = iam.account.user('alice')!.accessKeys[0]!;
    iam.account.createAccessKey('alice', { createdAt: now });
    iam.account.deleteAccessKey('alice', old.id);
    // Within IAM's 4 hours the report still lists the old key, and an announced finding is not
    // re-checked live (that would cost a ListAccessKeys per user on every run): no message yet.
    later(10);
    expect((await run()).changes).toEqual([]);

    later(4 * 60);
    const result = await run();
    expect(result.changes.map((c) => `${c.kind}:${c.finding.user}:${c.finding.accessKeyId}`)).toEqual([
      `resolved:alice:${old.id}`,
    ]);
    expect(slack.delivered()).toHaveLength(2);
    expect(text(slack.delivered()[1])).toMatch(/Resolved/);
    expect(bus.entries.at(-1)?.DetailType).toBe('Credential Finding Resolved');
  });

  it('confirms live only what it announces: a quiet scan reads no access keys', async () => {
    const first = await run();
    expect(first.accounts[0]!.scan!.iamCalls.ListAccessKeys).toBe(2); // alice and bob, about to be announced
    later(10);
    const quiet = await run();
    expect(quiet.accounts[0]!.scan!.iamCalls).toEqual({
      GenerateCredentialReport: 1,
      GetCredentialReport: 1,
      GetAccountAuthorizationDetails: 1,
    });
  });

  it('honours a 429 and delivers exactly once', async () => {
    slack.script('rate_limited');
    const result = await run();
    expect(result.delivered).toHaveLength(3);
    expect(slack.requests.map((r) => r.answeredWith)).toEqual([429, 200]);
    expect(slack.delivered()).toHaveLength(1);
  });

  it('loses nothing when Slack refuses: the state stays put and the next good scan delivers', async () => {
    slack.script('no_service');
    const failed = await run();
    expect(failed.deliveryError).toMatchObject({ permanent: true, slackError: 'no_service' });
    expect(failed.delivered).toEqual([]);
    expect(bus.entries).toEqual([]);
    const state = new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client });
    expect(await state.load('123456789012')).toEqual({ states: [], unreadable: [], known: false });

    later(10);
    const retried = await run();
    expect(retried.delivered.map((c) => c.kind)).toEqual(['opened', 'opened', 'opened']);
    expect(slack.delivered()).toHaveLength(1);
    expect((await state.load('123456789012')).states.map((s) => s.status)).toEqual(['open', 'open', 'open']);
  });

  it('reminds after the reminder interval, and not before', async () => {
    await run();
    later(23 * 60);
    expect((await run()).changes).toEqual([]);
    later(60);
    const reminded = await run();
    expect(reminded.changes.map((c) => c.kind)).toEqual(['reminder', 'reminder', 'reminder']);
    // A reminder is not confirmed live: no per-user call, and the key id it was announced with.
    expect(reminded.accounts[0]!.scan!.iamCalls.ListAccessKeys).toBeUndefined();
    const alice = reminded.changes.find((c) => c.finding.user === 'alice')!;
    expect(alice.finding.accessKeyId).toBe(iam.account.user('alice')!.accessKeys[0]!.id);
  });

  const store = () => new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client });

  it('says nothing about a finding whose state a newer run wrote: staleness is decided before sending', async () => {
    const first = await run();
    const dave = first.changes.find((c) => c.finding.user === 'dave')!.finding;
    // A run whose clock was 20 s ahead has already resolved dave's finding. This run still sees it:
    // its "New" would be false news, and its write would be skipped as stale. Neither is sent.
    later(10);
    const ahead = new Date(now.getTime() + 20_000).toISOString();
    await store().commit([
      {
        id: dave.id,
        accountId: dave.accountId,
        status: 'resolved',
        notifiedSeverity: dave.severity,
        firstSeen: START.toISOString(),
        lastNotifiedAt: ahead,
        scanTime: ahead,
        finding: dave,
      },
    ]);
    const behind = await run();
    expect(behind.changes).toEqual([]);
    expect(behind.skippedAsStale).toEqual([dave.id]);
    expect(slack.requests).toHaveLength(1);
    expect(bus.entries).toHaveLength(3);
  });

  it('migrates states stored under the access-key-id ids of an earlier release: no false Resolved, no duplicate New', async () => {
    const first = await run();
    const [aliceKey, bobKey] = ['alice', 'bob'].map((u) => iam.account.user(u)!.accessKeys[0]!.id);
    // What the earlier release stored: the same findings, keyed by the access key id.
    const states = (await store().load('123456789012')).states;
    const legacy = states.map((st) => {
      const keyId = st.finding.accessKeyId;
      if (!keyId) return st;
      const id = `${st.id.slice(0, st.id.lastIndexOf('/'))}/${keyId}`;
      return { ...st, id, finding: { ...st.finding, id, credential: keyId } };
    });
    expect(legacy.map((st) => st.id.split('/').at(-1)).sort()).toEqual([aliceKey, bobKey, 'password'].sort());
    for (const st of states.filter((x) => x.finding.accessKeyId)) {
      await dynamo.client.send(
        new DeleteItemCommand({
          TableName: dynamo.tableName,
          Key: { pk: { S: 'account#123456789012' }, sk: { S: st.id } },
        }),
      );
    }
    await store().commit(legacy);

    later(10);
    const upgraded = await run();
    expect(upgraded.changes).toEqual([]);
    expect(upgraded.migrated).toBe(2);
    expect(slack.requests).toHaveLength(1);
    const after = (await store().load('123456789012')).states;
    const byId = new Map(after.map((st) => [st.id, st]));
    for (const f of first.changes.map((c) => c.finding)) {
      expect(byId.get(f.id)).toMatchObject({ status: 'open', firstSeen: START.toISOString() });
    }
    for (const keyId of [aliceKey, bobKey]) {
      expect(after.find((st) => st.id.endsWith(`/${keyId}`))).toMatchObject({ status: 'resolved' });
    }
    // It stays quiet: the next run neither migrates again, nor announces, nor reads keys live.
    later(10);
    const next = await run();
    expect(next.changes).toEqual([]);
    expect(next.migrated).toBe(0);
    expect(next.accounts[0]!.scan!.iamCalls.ListAccessKeys).toBeUndefined();
  });
  describe('at scale (docs/alerts.md "At scale")', () => {
    const store = () => new DynamoStateStore({ tableName: dynamo.tableName, client: dynamo.client });
    const header = (payload: unknown) =>
      (payload as { blocks: { type: string; text?: { text: string } }[] }).blocks[0]?.text?.text ?? '';

    it('first contact is a baseline: one summary, no live key reads, every finding remembered', async () => {
      const first = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(first.accounts[0]!.baseline).toBe(true);
      expect(first.changes).toHaveLength(3);
      expect(first.summarized).toBe(3);
      expect(slack.delivered()).toHaveLength(1);
      expect(header(slack.delivered()[0])).toBe(
        'credwatch: 3 findings on first scan — example-prod (123456789012)',
      );
      expect(text(slack.delivered()[0])).toContain('2 without a `credwatch:owner` tag');
      // A baseline announces nothing one by one, so it confirms nothing live either.
      expect(first.accounts[0]!.scan!.iamCalls.ListAccessKeys).toBeUndefined();
      expect(first.accounts[0]!.scan!.iamCalls.GetAccessKeyLastUsed).toBeUndefined();
      const { states } = await store().load('123456789012');
      expect(states.map((s) => `${s.finding.user}:${s.announcedIn}`).sort()).toEqual([
        'alice:baseline',
        'bob:baseline',
        'dave:baseline',
      ]);
      expect(bus.entries.map((e) => e.DetailType)).toEqual(Array(3).fill('Credential Finding Opened'));

      // The next change is announced on its own, in the digest.
      later(5 * 60);
      iam.account.createUser('erin', {
        createdAt: new Date(now.getTime() - 400 * DAY_MS),
        accessKeys: [
          {
            createdAt: new Date(now.getTime() - 200 * DAY_MS),
            lastUsed: { date: new Date(now.getTime() - DAY_MS), service: 's3', region: 'us-east-1' },
          },
        ],
      });
      const next = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(next.accounts[0]!.baseline).toBe(false);
      expect(next.changes.map((c) => `${c.kind}:${c.finding.user}`)).toEqual(['opened:erin']);
      expect(next.summarized).toBe(0);
      expect(slack.delivered()).toHaveLength(2);
      expect(header(slack.delivered()[1])).toMatch(/^credwatch: 1 new — /);
      expect(next.accounts[0]!.scan!.iamCalls.ListAccessKeys).toBe(1); // erin only, as before
    });

    it('a clean account watched before is known: its first finding is announced, not baselined', async () => {
      // Nothing to say about it at first: no state is written, but the account is marked known.
      iam.account.deleteAccessKey('alice', iam.account.user('alice')!.accessKeys[0]!.id);
      iam.account.deleteAccessKey('bob', iam.account.user('bob')!.accessKeys[0]!.id);
      iam.account.setMfa('dave', true);
      const clean = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(clean.changes).toEqual([]);
      expect(slack.requests).toHaveLength(0);
      const loaded = await store().load('123456789012');
      expect(loaded).toEqual({ states: [], unreadable: [], known: true });
      // Written once: a later run leaves the marker as it is.
      const marker = async () =>
        (
          await dynamo.client.send(
            new GetItemCommand({
              TableName: dynamo.tableName,
              Key: { pk: { S: 'account#123456789012' }, sk: { S: '#known' } },
            }),
          )
        ).Item?.knownAt?.S;
      const first = await marker();
      expect(first).toBe(now.toISOString());
      later(10);
      await run(DEFAULT_NOTIFICATION_POLICY);
      expect(await marker()).toBe(first);

      later(5 * 60);
      iam.account.createUser('erin', {
        createdAt: new Date(now.getTime() - 400 * DAY_MS),
        accessKeys: [
          {
            createdAt: new Date(now.getTime() - 200 * DAY_MS),
            lastUsed: { date: new Date(now.getTime() - DAY_MS), service: 's3', region: 'us-east-1' },
          },
        ],
      });
      const next = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(next.accounts[0]!.baseline).toBe(false);
      expect(next.summarized).toBe(0);
      expect(slack.delivered().map(header)).toEqual(['credwatch: 1 new — example-prod (123456789012)']);
    });

    it('an account whose baseline was not delivered stays on first contact', async () => {
      slack.script('no_service');
      const refused = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(refused.deliveryError).toBeDefined();
      expect(await store().load('123456789012')).toEqual({ states: [], unreadable: [], known: false });
      later(10);
      const again = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(again.accounts[0]!.baseline).toBe(true);
      expect(slack.delivered().map(header)).toEqual([
        'credwatch: 3 findings on first scan — example-prod (123456789012)',
      ]);
    });

    it('an account whose state did not decode is not on first contact: no silent baseline', async () => {
      await run(ANNOUNCE_EVERYTHING);
      const { states } = await store().load('123456789012');
      // Every stored item unreadable (a bad write by hand): the account is not new, so its findings are
      // announced one by one again rather than recorded silently.
      for (const s of states) {
        await dynamo.client.send(
          new PutItemCommand({
            TableName: dynamo.tableName,
            Item: { pk: { S: 'account#123456789012' }, sk: { S: s.id }, status: { S: 'open' } },
          }),
        );
      }
      later(10);
      const again = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(again.accounts[0]!.baseline).toBe(false);
      expect(again.unreadableStates).toHaveLength(3);
      expect(again.summarized).toBe(0);
      expect(header(slack.delivered().at(-1))).toMatch(/^credwatch: 3 new — /);
    });

    it('reminds with one roll-up, one message per owner, and realigns every open finding to it', async () => {
      await run(DEFAULT_NOTIFICATION_POLICY);
      later(6 * 60);
      iam.account.createUser('erin', {
        createdAt: new Date(now.getTime() - 400 * DAY_MS),
        tags: { 'credwatch:owner': 'erin@example.com' },
        accessKeys: [
          {
            createdAt: new Date(now.getTime() - 200 * DAY_MS),
            lastUsed: { date: new Date(now.getTime() - DAY_MS), service: 's3', region: 'us-east-1' },
          },
        ],
      });
      await run(DEFAULT_NOTIFICATION_POLICY); // erin announced on her own, 6 h after the baseline
      expect(slack.delivered()).toHaveLength(2);

      later(18 * 60); // the baseline's findings are due; erin's is not, yet she is reminded with them
      const reminded = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(reminded.changes.map((c) => `${c.kind}:${c.finding.user}`).sort()).toEqual([
        'reminder:alice',
        'reminder:bob',
        'reminder:dave',
        'reminder:erin',
      ]);
      const posted = slack.delivered().slice(2);
      expect(posted.map(header)).toEqual([
        'credwatch: 4 still open — example-prod (123456789012)',
        'credwatch: 1 still open, yours — example-prod (123456789012)',
        'credwatch: 1 still open, yours — example-prod (123456789012)',
      ]);
      // Each owner's list holds only their credentials.
      expect(text(posted[1])).toContain('<@U024BE7LH>');
      expect(text(posted[1])).toContain('alice');
      expect(text(posted[1])).not.toContain('erin');
      expect(text(posted[2])).toContain('erin@example.com');
      expect(text(posted[2])).not.toContain('alice');
      expect((await store().load('123456789012')).states.every((s) => s.announcedIn === 'roll-up')).toBe(
        true,
      );

      // The next interval: one roll-up again, not one per finding's own schedule.
      later(12 * 60);
      expect((await run(DEFAULT_NOTIFICATION_POLICY)).changes).toEqual([]);
      later(12 * 60);
      const nextDay = await run(DEFAULT_NOTIFICATION_POLICY);
      expect(nextDay.changes).toHaveLength(4);
      expect(slack.delivered()).toHaveLength(8); // again a roll-up and the two owners' lists
    });

    it('holds a cap of 10 messages with 1,000 changes: the rest in one summary, nothing lost or repeated', async () => {
      const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
      for (let i = 0; i < 997; i++) {
        iam.account.createUser(`svc-${String(i).padStart(4, '0')}`, {
          createdAt: ago(900),
          accessKeys: [
            { createdAt: ago(200), lastUsed: { date: ago(1), service: 's3', region: 'eu-west-1' } },
          ],
        });
      }
      const policy = { ...DEFAULT_NOTIFICATION_POLICY, baseline: false };
      // Slack's one message a second, on a clock the sender's pacing shares: no 429, no burst.
      let t = 0;
      const limited = await startSlackReceiver({ rateLimit: { clock: () => t } });
      const paced = new SlackNotifier(
        new SlackSender({
          webhookUrl: limited.url,
          clock: () => t,
          sleep: async (ms) => {
            t += ms;
          },
        }),
      );
      const first = await run(policy, paced).finally(() => limited.close());
      expect(first.changes).toHaveLength(1000);
      expect(limited.requests.map((r) => r.answeredWith)).toEqual(Array(10).fill(200));
      expect(limited.largestBurst()).toBe(1);
      const posted = limited.delivered();
      expect(posted).toHaveLength(10);
      expect(header(posted[9])).toMatch(/^credwatch: \d+ more changes — /);
      const overflow = Number(/(\d+) more changes/.exec(header(posted[9]))![1]);
      expect(first.delivered).toHaveLength(1000);
      expect(first.summarized).toBe(overflow);
      // The nine digests carried exactly the changes the overflow did not.
      const named = posted
        .slice(0, 9)
        .map(text)
        .join('')
        .match(/svc-\d{4}|alice|bob|dave/g)!;
      expect(new Set(named).size).toBe(1000 - overflow);
      const { states } = await store().load('123456789012');
      expect(states).toHaveLength(1000);
      expect(states.filter((s) => s.announcedIn === 'overflow')).toHaveLength(overflow);

      later(10);
      const second = await run(policy);
      expect(second.changes).toEqual([]);
      expect(slack.requests).toHaveLength(0);
    }, 60_000);
  });
});
