/**
 * The Slack app mode (docs/alerts.md, "Slack app mode") through the bundled Lambda as `cdk synth`
 * built it, with the stack's default notifications, against the stand-ins (IAM, dynalite, Secrets
 * Manager, EventBridge) and a Slack workspace's Web API (test/support/slack-web-api.ts) that answers
 * chat.postMessage, chat.update, conversations.open and users.lookupByEmail as Slack does. Each run
 * is a new process: what threads and updates need survives only in the state table.
 */
import { DAY_MS } from '../../lambda/core/dates';
import {
  type EventBridgeEndpoint,
  type SecretsManagerEndpoint,
  startEventBridgeEndpoint,
  startSecretsManagerEndpoint,
} from '../support/aws-json-endpoints';
import {
  type Invocation,
  invokeBundled,
  localEnvironment,
  type SynthesizedScanner,
  synthesizeScanner,
} from '../support/bundled-lambda';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { type IamEndpoint, startIamEndpoint } from '../support/iam-endpoint';
import { sampleAccount } from '../support/sample-account';
import { type SlackWorkspace, startSlackWorkspace } from '../support/slack-web-api';

const SECRET_NAME = 'credwatch/channels';
const CHANNEL = 'C0SECURITY1';
const ALICE = 'U024BE7LH';
const ERIN = 'U0ERIN0001';

describe('the bundled scanner posting as a Slack app', () => {
  let scanner: SynthesizedScanner;
  let now: Date;
  let iam: IamEndpoint;
  let dynamo: LocalDynamo;
  let slack: SlackWorkspace;
  let secrets: SecretsManagerEndpoint;
  let bus: EventBridgeEndpoint;

  beforeAll(() => {
    scanner = synthesizeScanner();
  });
  beforeEach(async () => {
    now = new Date('2026-11-23T12:00:00Z');
    [iam, dynamo, slack, bus] = await Promise.all([
      startIamEndpoint({ account: sampleAccount(now), now: () => now, datedByNow: true }),
      startDynalite(),
      startSlackWorkspace({
        users: [
          { id: ALICE, email: 'alice@example.com' },
          { id: ERIN, email: 'erin@example.com' },
        ],
        channels: [{ id: CHANNEL }],
        rateLimit: {},
      }),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({
      secrets: {
        [SECRET_NAME]: JSON.stringify({
          slackBotToken: slack.token,
          channels: { default: { slackChannel: CHANNEL } },
        }),
      },
    });
  });
  afterEach(async () => {
    await Promise.all([iam.close(), dynamo.close(), slack.close(), secrets.close(), bus.close()]);
  });

  const invoke = async (): Promise<Invocation> => {
    const env = localEnvironment(scanner, {
      secretName: SECRET_NAME,
      tableName: dynamo.tableName,
      iam: iam.url,
      dynamodb: dynamo.endpoint,
      secretsManager: secrets.url,
      eventBridge: bus.url,
    });
    const event = { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' };
    const run = await invokeBundled(scanner.entry, env, event, { now, slackApiUrl: slack.apiUrl });
    expect(run.error).toBeUndefined();
    expect(run.stdout + run.stderr).not.toContain(slack.token);
    return run;
  };
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const used = () => ({ date: ago(1), service: 's3', region: 'us-east-1' });
  const header = (m: { blocks: unknown[] }) =>
    (m.blocks[0] as { text?: { text?: string } } | undefined)?.text?.text ?? '';
  const shown = (m: { text: string; blocks: unknown[] }) => `${m.text} ${JSON.stringify(m.blocks)}`;

  it('threads reminders and resolutions under the message that announced them, messages each owner directly, and updates the message when resolved', async () => {
    // Run 1: the baseline summary, in the channel.
    await invoke();
    expect(slack.messagesIn(CHANNEL).map(header)).toEqual([
      'credwatch: 3 findings on first scan — example-prod (123456789012)',
    ]);

    // Run 2: two new findings, announced in their own digest: that message starts their threads.
    later(5 * 60);
    iam.account.createUser('erin', {
      createdAt: ago(400),
      tags: { 'credwatch:owner': 'erin@example.com' },
      accessKeys: [{ createdAt: ago(200), lastUsed: used() }],
    });
    iam.account.createUser('gus', {
      createdAt: ago(400),
      tags: { 'credwatch:owner': 'gus@elsewhere.example' },
      accessKeys: [{ createdAt: ago(200), lastUsed: used() }],
    });
    await invoke();
    const announced = slack.messagesIn(CHANNEL)[1]!;
    expect(header(announced)).toBe('credwatch: 2 new — example-prod (123456789012)');

    // Run 3, the reminder interval: the roll-up in the channel; erin's and gus's reminders as one
    // reply in the thread of the message that announced them (found in the state table, by a new
    // process); each owner's list as a direct message listing only their credentials; gus, whom
    // Slack does not know, gets his list in the channel, once, saying why.
    later(19 * 60 + 1);
    const third = await invoke();
    expect(third.error).toBeUndefined();
    const channel = slack.messagesIn(CHANNEL).slice(2);
    expect(channel.map(header)).toEqual([
      'credwatch: 5 still open — example-prod (123456789012)',
      'credwatch: 1 still open, yours — example-prod (123456789012)',
    ]);
    expect(channel[1]!.text).toMatch(
      /credwatch could not find …@elsewhere\.example in Slack, so it is posted here/,
    );
    expect(shown(channel[1]!)).toContain('gus');
    const replies = slack.repliesTo(CHANNEL, announced.ts);
    expect(replies).toHaveLength(1);
    expect(shown(replies[0]!)).toContain('erin');
    expect(shown(replies[0]!)).toContain('gus');
    const toAlice = slack.messagesIn(slack.directOf(ALICE));
    const toErin = slack.messagesIn(slack.directOf(ERIN));
    expect(toAlice).toHaveLength(1);
    expect(toErin).toHaveLength(1);
    expect(shown(toAlice[0]!)).toContain('alice');
    expect(shown(toAlice[0]!)).not.toMatch(/erin|gus|bob|dave/);
    expect(shown(toErin[0]!)).toContain('erin');
    expect(shown(toErin[0]!)).not.toMatch(/alice|gus|bob|dave/);
    // Each e-mail looked up once; no call the app's scopes do not allow; no rate limit provoked.
    expect(slack.calls.filter((c) => c.method === 'users.lookupByEmail').map((c) => c.args.email)).toEqual([
      'erin@example.com',
      'gus@elsewhere.example',
    ]);
    expect(slack.calls.filter((c) => c.answer === 'ratelimited' || c.answer === 'missing_scope')).toEqual([]);

    // Run 4: erin's key is gone (IAM's report shows it within 4 hours): the resolution is a reply in
    // its thread, and the message that announced it says what was resolved since.
    iam.account.deleteAccessKey('erin', iam.account.user('erin')!.accessKeys[0]!.id);
    later(4 * 60 + 5);
    await invoke();
    expect(slack.repliesTo(CHANNEL, announced.ts)).toHaveLength(2);
    expect(shown(slack.repliesTo(CHANNEL, announced.ts)[1]!)).toMatch(/Resolved/);
    expect(slack.messagesIn(CHANNEL)).toHaveLength(4);
    const updated = slack.messagesIn(CHANNEL)[1]!;
    expect(updated.updates).toBe(1);
    expect(updated.text).toMatch(/\(1 resolved since\)$/);
    expect(JSON.stringify(updated.blocks)).toMatch(/Resolved since:\* erin/);
    // What it said before is still there: the update adds to the message, from its record.
    expect(JSON.stringify(updated.blocks)).toContain(JSON.stringify(announced.blocks[0]));
    expect(header(updated)).toBe('credwatch: 2 new — example-prod (123456789012)');
  });

  it('a channel the app was not invited to is a delivery failure with a hint and no token; nothing is remembered', async () => {
    await slack.close();
    slack = await startSlackWorkspace({ channels: [{ id: CHANNEL, member: false }], token: slack.token });
    const env = localEnvironment(scanner, {
      secretName: SECRET_NAME,
      tableName: dynamo.tableName,
      iam: iam.url,
      dynamodb: dynamo.endpoint,
      secretsManager: secrets.url,
      eventBridge: bus.url,
    });
    const event = { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' };
    const run = await invokeBundled(scanner.entry, env, event, { now, slackApiUrl: slack.apiUrl });
    expect(run.result).toMatchObject({ changes: 3, delivered: 0 });
    expect(run.metrics).toMatchObject({ DeliveryFailures: 1, ChangesDelivered: 0 });
    expect(run.stdout + run.stderr).toMatch(
      /not_in_channel: the app is not a member of the channel; invite it/,
    );
    expect(run.stdout + run.stderr).not.toContain(slack.token);
    // Nothing was remembered as delivered: the next run announces the same findings.
    await slack.close();
    slack = await startSlackWorkspace({ channels: [{ id: CHANNEL }], token: slack.token });
    later(10);
    await invoke();
    expect(slack.messagesIn(CHANNEL).map(header)).toEqual([
      'credwatch: 3 findings on first scan — example-prod (123456789012)',
    ]);
  });
});
