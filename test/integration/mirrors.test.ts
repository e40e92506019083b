/**
 * One finding announced in Slack and in Teams (docs/alerts.md, "Mirrors: one finding in several
 * channels") through the bundled Lambda as `cdk synth` built it: a Slack channel of the app
 * (test/support/slack-web-api.ts) mirrored to a Teams workflow (test/support/teams-receiver.ts), each
 * with its own state of the finding in the state table (dynalite), each run a new process.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
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
import { startTeamsReceiver, type TeamsReceiver } from '../support/teams-receiver';

const SECRET_NAME = 'credwatch/channels';
const CHANNEL = 'C0SECURITY1';
const ACCOUNT = '123456789012';

describe('the bundled scanner with a Slack channel mirrored to Teams', () => {
  let scanner: SynthesizedScanner;
  let now: Date;
  let iam: IamEndpoint;
  let dynamo: LocalDynamo;
  let slack: SlackWorkspace;
  let teams: TeamsReceiver;
  let secrets: SecretsManagerEndpoint;
  let bus: EventBridgeEndpoint;

  beforeAll(() => {
    scanner = synthesizeScanner();
  });
  beforeEach(async () => {
    now = new Date('2026-11-23T12:00:00Z');
    [iam, dynamo, slack, teams, bus] = await Promise.all([
      startIamEndpoint({ account: sampleAccount(now), now: () => now, datedByNow: true }),
      startDynalite(),
      startSlackWorkspace({ channels: [{ id: CHANNEL }], rateLimit: {} }),
      startTeamsReceiver(),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({
      secrets: {
        [SECRET_NAME]: JSON.stringify({
          slackBotToken: slack.token,
          channels: {
            security: { slackChannel: CHANNEL },
            'security-teams': { teamsWorkflow: teams.workflowUrl },
          },
        }),
      },
    });
  });
  afterEach(async () => {
    await Promise.all([
      iam.close(),
      dynamo.close(),
      slack.close(),
      teams.close(),
      secrets.close(),
      bus.close(),
    ]);
  });

  const MIRRORED = {
    baseline: true,
    reminders: 'roll-up',
    maxMessagesPerRun: 10,
    defaultChannel: 'security',
    mirrors: { security: ['security-teams'] },
  };
  const invoke = async (notifications: object = MIRRORED): Promise<Invocation> => {
    const env = {
      ...localEnvironment(scanner, {
        secretName: SECRET_NAME,
        tableName: dynamo.tableName,
        iam: iam.url,
        dynamodb: dynamo.endpoint,
        secretsManager: secrets.url,
        eventBridge: bus.url,
      }),
      CREDWATCH_NOTIFICATIONS: JSON.stringify(notifications),
    };
    const event = { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' };
    const run = await invokeBundled(scanner.entry, env, event, {
      now,
      slackApiUrl: slack.apiUrl,
      webhookHosts: [new URL(teams.url).host],
    });
    expect(run.stdout + run.stderr).not.toContain(slack.token);
    expect(run.stdout + run.stderr).not.toContain(teams.sig);
    return run;
  };
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const header = (m: { blocks: unknown[] }) =>
    (m.blocks[0] as { text?: { text?: string } } | undefined)?.text?.text ?? '';
  const card = (c: Record<string, unknown>) => (c.body as { text: string }[]).map((b) => b.text).join('\n');
  const stored = async (sk: string) =>
    (
      await dynamo.client.send(
        new GetItemCommand({
          TableName: dynamo.tableName,
          Key: { pk: { S: `account#${ACCOUNT}` }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('opens, and resolves, the finding in each channel; a channel that missed its resolution hears it later, the other not again', async () => {
    // Run 1: the baseline, once in each channel.
    expect((await invoke()).error).toBeUndefined();
    expect(slack.messagesIn(CHANNEL).map(header)).toEqual([
      `credwatch: 3 findings on first scan — example-prod (${ACCOUNT})`,
    ]);
    expect(teams.cards().map((c) => card(c).split('\n')[0])).toEqual([
      `credwatch: 3 findings on first scan — example-prod (${ACCOUNT})`,
    ]);

    // Run 2: a new key, announced in both: Slack's message starts its thread, Teams shows its card.
    later(5 * 60);
    iam.account.createUser('deploy-bot', {
      createdAt: ago(900),
      accessKeys: [{ createdAt: ago(200), lastUsed: { date: ago(1), service: 's3', region: 'us-east-1' } }],
    });
    expect((await invoke()).error).toBeUndefined();
    const announced = slack.messagesIn(CHANNEL)[1]!;
    expect(header(announced)).toBe(`credwatch: 1 new — example-prod (${ACCOUNT})`);
    expect(teams.cards()).toHaveLength(2);
    expect(card(teams.cards()[1]!)).toMatch(/\*\*New\*\* · \[deploy-bot\]/);
    // Two states of the one finding: Slack's (the default channel's key, with its thread) and Teams'.
    const id = `${ACCOUNT}/deploy-bot/access-key-age/key-${ago(200)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')}`;
    const inSlack = await stored(id);
    const inTeams = await stored(`${id}#security-teams`);
    expect(inSlack?.channel?.S).toBe('security');
    expect(inSlack?.thread?.M?.ts?.S).toBe(announced.ts);
    expect(inTeams?.channel?.S).toBe('security-teams');
    expect(inTeams?.thread).toBeUndefined();
    expect([inSlack?.status?.S, inTeams?.status?.S]).toEqual(['open', 'open']);

    // One event for the finding's news, not one per channel.
    const about = (user: string) => bus.entries.filter((e) => e.Detail?.includes(`/${user}/`));
    expect(about('deploy-bot').map((e) => e.DetailType)).toEqual(['Credential Finding Opened']);

    // Run 3: nothing new: nothing in either channel.
    later(10);
    expect((await invoke()).error).toBeUndefined();
    expect(slack.messagesIn(CHANNEL)).toHaveLength(2);
    expect(teams.cards()).toHaveLength(2);

    // Run 4: the key is gone while the Teams workflow is off. Slack: the resolution in the thread and
    // the message updated; Teams fails (its state stays open); the run says so.
    iam.account.deleteAccessKey('deploy-bot', iam.account.user('deploy-bot')!.accessKeys[0]!.id);
    later(4 * 60 + 5);
    teams.script({
      status: 409,
      body: '{"error":{"code":"WorkflowDisabled","message":"The workflow is disabled."}}',
    });
    const fourth = await invoke();
    expect(fourth.metrics).toMatchObject({ DeliveryFailures: 1 });
    const replies = slack.repliesTo(CHANNEL, announced.ts);
    expect(replies.map((r) => r.text)).toEqual([`credwatch example-prod (${ACCOUNT}): 1 resolved`]);
    expect(JSON.stringify(replies[0]!.blocks)).toMatch(/Resolved\*[^"]*deploy-bot/);
    expect(slack.messagesIn(CHANNEL)[1]!.updates).toBe(1);
    expect(teams.cards()).toHaveLength(2);
    expect((await stored(id))?.status?.S).toBe('resolved');
    expect((await stored(`${id}#security-teams`))?.status?.S).toBe('open');

    // Run 5: the workflow is on again: Teams hears the resolution; Slack hears nothing again.
    later(10);
    expect((await invoke()).error).toBeUndefined();
    expect(teams.cards()).toHaveLength(3);
    expect(card(teams.cards()[2]!)).toMatch(/\*\*Resolved\*\*[^\n]*deploy-bot/);
    expect(slack.repliesTo(CHANNEL, announced.ts)).toHaveLength(1);
    expect(slack.messagesIn(CHANNEL)).toHaveLength(2);
    expect(slack.messagesIn(CHANNEL)[1]!.updates).toBe(1);
    expect((await stored(`${id}#security-teams`))?.status?.S).toBe('resolved');
    // The resolution's event came with Slack's (the finding's own channel), once.
    expect(about('deploy-bot').map((e) => e.DetailType)).toEqual([
      'Credential Finding Opened',
      'Credential Finding Resolved',
    ]);

    // Run 6: quiet in both.
    later(10);
    await invoke();
    expect(teams.cards()).toHaveLength(3);
    expect(slack.messagesIn(CHANNEL)).toHaveLength(2);
  });

  it("moves a routed channel's state the previous release kept under the bare finding id to its own key, announcing nothing", async () => {
    const ROUTED = {
      baseline: true,
      reminders: 'roll-up',
      maxMessagesPerRun: 10,
      defaultChannel: 'security',
      routes: [{ channel: 'security-teams', userTags: { 'credwatch:team': ['platform'] } }],
    };
    iam.account.createUser('build-bot', {
      createdAt: ago(900),
      tags: { 'credwatch:team': 'platform' },
      accessKeys: [{ createdAt: ago(400), lastUsed: { date: ago(1), service: 's3', region: 'us-east-1' } }],
    });
    expect((await invoke(ROUTED)).error).toBeUndefined();
    expect(teams.cards()).toHaveLength(1);
    const items = async () =>
      (
        await dynamo.client.send(
          new QueryCommand({
            TableName: dynamo.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: `account#${ACCOUNT}` } },
            ConsistentRead: true,
          }),
        )
      ).Items ?? [];
    const own = (await items()).filter((i) => i.sk?.S?.includes('/build-bot/'));
    expect(own.map((i) => [i.sk?.S?.endsWith('#security-teams'), i.channel?.S])).toEqual([
      [true, 'security-teams'],
    ]);
    // As the release before one state per channel kept it: under the bare finding id.
    const sk = own[0]!.sk!.S!;
    const bare = sk.slice(0, -'#security-teams'.length);
    await dynamo.client.send(
      new PutItemCommand({ TableName: dynamo.tableName, Item: { ...own[0]!, sk: { S: bare } } }),
    );
    await dynamo.client.send(
      new DeleteItemCommand({ TableName: dynamo.tableName, Key: { pk: own[0]!.pk!, sk: { S: sk } } }),
    );

    later(10);
    const upgraded = await invoke(ROUTED);
    expect(upgraded.error).toBeUndefined();
    expect(teams.cards()).toHaveLength(1);
    expect(slack.messagesIn(CHANNEL)).toHaveLength(1);
    expect(await stored(bare)).toBeUndefined();
    expect((await stored(sk))?.channel?.S).toBe('security-teams');
    expect((await stored(sk))?.firstSeen).toEqual(own[0]!.firstSeen);

    // At the reminder interval, Teams is reminded of it once, as open since it was first seen.
    later(24 * 60);
    expect((await invoke(ROUTED)).error).toBeUndefined();
    expect(teams.cards()).toHaveLength(2);
    expect(card(teams.cards()[1]!)).toMatch(/still open/);
    expect(card(teams.cards()[1]!)).toContain('build-bot');
    expect(card(teams.cards()[1]!)).not.toMatch(/\*\*New\*\*/);
  });
});
