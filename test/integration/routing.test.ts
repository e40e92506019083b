/**
 * Routing (docs/alerts.md, "Routing") through the bundled Lambda as `cdk synth` built it: a 3-account
 * organization whose findings go to two channels, by OU and by user tag, each channel with its own
 * webhook in one JSON secret, against the stand-ins (Organizations, STS, IAM per account, dynalite,
 * Secrets Manager, EventBridge, and two Slack receivers that refuse what Slack refuses).
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
import { type Organization, startOrganization } from '../support/organization-endpoints';
import { sampleAccount } from '../support/sample-account';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';

const SECRET_NAME = 'credwatch/slack-webhooks';
const PROD_A = '111111111111';
const PROD_B = '222222222222';
const SANDBOX = '333333333333';

describe('the bundled scanner with routes', () => {
  let scanner: SynthesizedScanner;
  let now: Date;
  let org: Organization;
  let dynamo: LocalDynamo;
  let security: SlackReceiver;
  let payments: SlackReceiver;
  let secrets: SecretsManagerEndpoint;
  let bus: EventBridgeEndpoint;

  beforeAll(() => {
    scanner = synthesizeScanner();
  });
  beforeEach(async () => {
    now = new Date('2026-11-23T12:00:00Z');
    const at = () => now;
    [org, dynamo, security, payments, bus] = await Promise.all([
      startOrganization({
        accounts: [
          {
            account: sampleAccount(now, PROD_A, 'prod-a'),
            name: 'prod-a',
            ouPath: ['Workloads', 'Payments'],
          },
          {
            account: sampleAccount(now, PROD_B, 'prod-b'),
            name: 'prod-b',
            ouPath: ['Workloads', 'Payments'],
          },
          { account: sampleAccount(now, SANDBOX, 'sandbox'), name: 'sandbox', ouPath: ['Sandbox'] },
        ],
        now: at,
        iam: { now: at, datedByNow: true },
      }),
      startDynalite(),
      startSlackReceiver(),
      startSlackReceiver(),
      startEventBridgeEndpoint(),
    ]);
    // A payments engineer's user in the sandbox, tagged for the payments channel.
    org.iam(SANDBOX).account.createUser('pat', {
      createdAt: ago(400),
      tags: { 'credwatch:team': 'payments' },
      accessKeys: [{ createdAt: ago(200), lastUsed: { date: ago(1), service: 's3', region: 'us-east-1' } }],
    });
    secrets = await startSecretsManagerEndpoint({
      secrets: {
        [SECRET_NAME]: JSON.stringify({ channels: { security: security.url, payments: payments.url } }),
      },
    });
  });
  afterEach(async () => {
    await Promise.all([
      org.close(),
      dynamo.close(),
      security.close(),
      payments.close(),
      secrets.close(),
      bus.close(),
    ]);
  });

  function ago(days: number) {
    return new Date(now.getTime() - days * DAY_MS);
  }
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };

  const invoke = async (): Promise<Invocation> => {
    const env = {
      ...localEnvironment(scanner, {
        secretName: SECRET_NAME,
        tableName: dynamo.tableName,
        iam: org.iamUrl,
        dynamodb: dynamo.endpoint,
        secretsManager: secrets.url,
        eventBridge: bus.url,
      }),
      AWS_ENDPOINT_URL_STS: org.stsUrl,
      AWS_ENDPOINT_URL_ORGANIZATIONS: org.organizationsUrl,
      // What a stack with `accounts.source: "organization"` and these routes writes.
      CREDWATCH_ACCOUNTS: JSON.stringify({
        source: 'organization',
        memberRoleName: 'credwatch-member',
        concurrency: 8,
      }),
      CREDWATCH_NOTIFICATIONS: JSON.stringify({
        baseline: true,
        reminders: 'roll-up',
        maxMessagesPerRun: 10,
        routes: [
          { channel: 'payments', organizationalUnits: [org.ouId(['Workloads', 'Payments'])] },
          { channel: 'payments', userTags: { 'credwatch:team': ['payments'] } },
        ],
        defaultChannel: 'security',
      }),
    };
    const event = { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' };
    const run = await invokeBundled(scanner.entry, env, event, {
      now,
      webhookHosts: [new URL(security.url).host, new URL(payments.url).host],
    });
    for (const receiver of [security, payments]) {
      expect(run.stdout + run.stderr).not.toContain(receiver.secret);
    }
    return run;
  };
  const text = (payload: unknown) => JSON.stringify(payload);
  const header = (payload: unknown) =>
    (payload as { blocks: { text?: { text: string } }[] }).blocks[0]?.text?.text ?? '';

  it('splits a 3-account organization into two channels: one baseline summary each, then each change where it belongs', async () => {
    const first = await invoke();
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({ accounts: 3, findings: 10, changes: 10, delivered: 10 });
    // payments: both accounts under Workloads/Payments, and pat of the sandbox.
    expect(payments.delivered().map(header)).toEqual(['credwatch: 7 findings on first scan — 3 accounts']);
    const paymentsSummary = text(payments.delivered()[0]);
    expect(paymentsSummary).toContain('prod-a (111111111111) 3');
    expect(paymentsSummary).toContain('prod-b (222222222222) 3');
    expect(paymentsSummary).toContain('sandbox (333333333333) 1');
    // security (the default): the sandbox's other findings, and nothing of the payments accounts.
    expect(security.delivered().map(header)).toEqual([
      'credwatch: 3 findings on first scan — sandbox (333333333333)',
    ]);
    expect(text(security.delivered()[0])).not.toContain('pat');
    // The OUs were read by walking the tree; no route needs account tags, so none were read.
    expect(org.counts().organizations.ListTagsForResource ?? 0).toBe(0);

    later(10);
    org.iam(PROD_B).account.createUser('erin', {
      createdAt: ago(400),
      accessKeys: [{ createdAt: ago(200), lastUsed: { date: ago(1), service: 's3', region: 'us-east-1' } }],
    });
    later(5 * 60); // past IAM's 4 hours: the next report lists erin
    const second = await invoke();
    expect(second.error).toBeUndefined();
    expect(payments.delivered().map(header).slice(1)).toEqual(['credwatch: 1 new — prod-b (222222222222)']);
    expect(text(payments.delivered()[1])).toContain('erin');
    expect(security.delivered()).toHaveLength(1);
  });

  it('a channel the secret does not have fails the run by name, after the other channel was delivered', async () => {
    await secrets.close();
    secrets = await startSecretsManagerEndpoint({
      secrets: { [SECRET_NAME]: JSON.stringify({ channels: { security: security.url } }) },
    });
    const run = await invoke();
    expect(run.error).toMatch(/has no channel "payments"; it has: security/);
    expect(run.metrics).toMatchObject({ ScanIncomplete: 1, DeliveryFailures: 1 });
    expect(security.delivered().map(header)).toEqual([
      'credwatch: 3 findings on first scan — sandbox (333333333333)',
    ]);
    expect(payments.requests).toEqual([]);
  });
});
