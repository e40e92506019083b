/**
 * Microsoft Teams (docs/alerts.md, "Microsoft Teams") through the bundled Lambda as `cdk synth`
 * built it, with the stack's default notifications: one channel on a Teams Workflows webhook, one on
 * a Slack webhook, in one channels secret, routed by user tag, against the stand-ins (IAM, dynalite,
 * Secrets Manager, EventBridge, a Slack receiver and a Teams workflow that checks every card with
 * Microsoft's Adaptive Cards library and Teams' size limit).
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
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';
import { startTeamsReceiver, type TeamsReceiver } from '../support/teams-receiver';

const SECRET_NAME = 'credwatch/channels';

describe('the bundled scanner with a Teams channel', () => {
  let scanner: SynthesizedScanner;
  let now: Date;
  let iam: IamEndpoint;
  let dynamo: LocalDynamo;
  let slack: SlackReceiver;
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
      startSlackReceiver(),
      startTeamsReceiver(),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({
      secrets: {
        [SECRET_NAME]: JSON.stringify({
          channels: { security: slack.url, platform: { teamsWorkflow: teams.workflowUrl } },
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

  const invoke = async (): Promise<Invocation> => {
    const env = {
      ...localEnvironment(scanner, {
        secretName: SECRET_NAME,
        tableName: dynamo.tableName,
        iam: iam.url,
        dynamodb: dynamo.endpoint,
        secretsManager: secrets.url,
        eventBridge: bus.url,
      }),
      CREDWATCH_NOTIFICATIONS: JSON.stringify({
        baseline: true,
        reminders: 'roll-up',
        maxMessagesPerRun: 10,
        routes: [{ channel: 'platform', userTags: { 'credwatch:team': ['platform'] } }],
        defaultChannel: 'security',
      }),
    };
    const event = { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' };
    const run = await invokeBundled(scanner.entry, env, event, {
      now,
      webhookHosts: [new URL(slack.url).host, new URL(teams.url).host],
    });
    expect(run.stdout + run.stderr).not.toContain(teams.sig);
    expect(run.stdout + run.stderr).not.toContain(slack.secret);
    return run;
  };
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const body = (card: Record<string, unknown>) => (card.body as { text: string }[]).map((b) => b.text);

  it("announces the platform team's credentials in Teams and the rest in Slack, once each", async () => {
    iam.account.createUser('build-bot', {
      createdAt: ago(900),
      tags: { 'credwatch:team': 'platform', 'credwatch:owner': 'platform@example.com' },
      accessKeys: [{ createdAt: ago(400), lastUsed: { date: ago(1), service: 's3', region: 'us-east-1' } }],
    });
    const first = await invoke();
    expect(first.error).toBeUndefined();
    // The baseline: one summary card in Teams, one summary in Slack.
    expect(teams.requests.map((r) => r.answeredWith)).toEqual([202]);
    expect(body(teams.cards()[0]!)[0]).toBe(
      'credwatch: 1 finding on first scan — example-prod (123456789012)',
    );
    expect(body(teams.cards()[0]!).join('\n')).toContain('build-bot');
    expect(JSON.stringify(slack.delivered())).not.toContain('build-bot');

    // A new credential of the team: a digest card in Teams; nothing in Slack; nothing repeated.
    later(5 * 60);
    iam.account.createUser('deploy-bot', {
      createdAt: ago(900),
      tags: { 'credwatch:team': 'platform' },
      accessKeys: [{ createdAt: ago(200), lastUsed: { date: ago(1), service: 's3', region: 'us-east-1' } }],
    });
    const before = slack.delivered().length;
    const second = await invoke();
    expect(second.error).toBeUndefined();
    expect(teams.cards()).toHaveLength(2);
    const digest = body(teams.cards()[1]!);
    expect(digest[0]).toBe('credwatch: 1 new — example-prod (123456789012)');
    expect(digest.join('\n')).toMatch(
      /\*\*New\*\* · \[deploy-bot\]\(https:\/\/[^)]+\/users\/details\/deploy-bot\)/,
    );
    expect(slack.delivered()).toHaveLength(before);

    later(10);
    await invoke();
    expect(teams.cards()).toHaveLength(2);
  });

  it('a workflow that was turned off fails its channel with a hint, never the URL; the next run delivers', async () => {
    teams.script({
      status: 409,
      body: '{"error":{"code":"WorkflowDisabled","message":"The workflow is disabled."}}',
    });
    iam.account.createUser('build-bot', {
      createdAt: ago(900),
      tags: { 'credwatch:team': 'platform' },
      accessKeys: [{ createdAt: ago(400), lastUsed: { date: ago(1), service: 's3', region: 'us-east-1' } }],
    });
    const run = await invoke();
    expect(run.metrics).toMatchObject({ DeliveryFailures: 1 });
    expect(run.stdout + run.stderr).toMatch(/HTTP 409 WorkflowDisabled: the workflow is turned off/);
    expect(teams.cards()).toEqual([]);
    later(10);
    await invoke();
    expect(teams.cards().map((c) => body(c)[0])).toEqual([
      'credwatch: 1 finding on first scan — example-prod (123456789012)',
    ]);
  });
});
