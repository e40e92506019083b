/**
 * The scheduled pipeline (lambda/monitor.ts) against real local parts: the IAM endpoint, dynalite,
 * a Slack receiver that answers like Slack, and an EventBridge endpoint.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { EventPublisher } from '../../lambda/adapters/event-publisher';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from '../../lambda/adapters/iam';
import { SlackSender } from '../../lambda/adapters/slack-sender';
import { DynamoStateStore } from '../../lambda/adapters/state-store';
import { DAY_MS } from '../../lambda/core/dates';
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

  const run = () => {
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
      notifier: async () => new SlackSender({ webhookUrl: slack.url, sleep: noWait }),
      events: new EventPublisher({
        client: new EventBridgeClient({ endpoint: bus.url, region: 'us-east-1', credentials }),
      }),
      reminderIntervalMs: DAY_MS,
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
    expect(await state.load('123456789012')).toEqual([]);

    later(10);
    const retried = await run();
    expect(retried.delivered.map((c) => c.kind)).toEqual(['opened', 'opened', 'opened']);
    expect(slack.delivered()).toHaveLength(1);
    expect((await state.load('123456789012')).map((s) => s.status)).toEqual(['open', 'open', 'open']);
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
});
