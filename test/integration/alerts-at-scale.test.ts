/**
 * Alerts at scale (docs/alerts.md, "At scale") through the bundled Lambda as `cdk synth` built it,
 * with the stack's default configuration: the baseline, the next change, the roll-up with the owners'
 * lists, and the message cap, against the stand-ins (IAM, dynalite, Secrets Manager, EventBridge and a
 * Slack receiver that refuses what Slack refuses).
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

const SECRET_NAME = 'credwatch/slack-webhook';

describe('the bundled scanner, with the default notifications', () => {
  let scanner: SynthesizedScanner;
  let now: Date;
  let iam: IamEndpoint;
  let dynamo: LocalDynamo;
  let slack: SlackReceiver;
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
      startSlackReceiver(),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({ secrets: { [SECRET_NAME]: slack.url } });
  });
  afterEach(async () => {
    await Promise.all([iam.close(), dynamo.close(), slack.close(), secrets.close(), bus.close()]);
  });

  const invoke = async (extra: Record<string, string> = {}): Promise<Invocation> => {
    const env = {
      ...localEnvironment(scanner, {
        secretName: SECRET_NAME,
        tableName: dynamo.tableName,
        iam: iam.url,
        dynamodb: dynamo.endpoint,
        secretsManager: secrets.url,
        eventBridge: bus.url,
      }),
      ...extra,
    };
    const event = { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' };
    const run = await invokeBundled(scanner.entry, env, event, {
      now,
      webhookHosts: [new URL(slack.url).host],
    });
    expect(run.error).toBeUndefined();
    expect(run.stdout + run.stderr).not.toContain(slack.secret);
    return run;
  };
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  const header = (payload: unknown) =>
    (payload as { blocks: { text?: { text: string } }[] }).blocks[0]?.text?.text ?? '';
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const used = () => ({ date: ago(1), service: 's3', region: 'us-east-1' });

  it('has no notifications variable: the defaults are what the function assumes', () => {
    expect(Object.keys(scanner.environment)).not.toContain('CREDWATCH_NOTIFICATIONS');
  });

  it('first run: one summary; next change: one digest; a reminder interval: one roll-up and one list per owner', async () => {
    const first = await invoke();
    expect(first.result).toMatchObject({ findings: 3, changes: 3, delivered: 3 });
    expect(slack.delivered().map(header)).toEqual([
      'credwatch: 3 findings on first scan — example-prod (123456789012)',
    ]);
    expect(first.metrics.ChangesSummarized).toBe(3);
    // Every baselined finding still has its event, and no key was read live.
    expect(bus.entries.map((e) => e.DetailType)).toEqual(Array(3).fill('Credential Finding Opened'));
    expect(iam.counts().ListAccessKeys ?? 0).toBe(0);

    later(5 * 60); // past IAM's 4 hours: the next report lists erin
    iam.account.createUser('erin', {
      createdAt: ago(400),
      tags: { 'credwatch:owner': 'erin@example.com' },
      accessKeys: [{ createdAt: ago(200), lastUsed: used() }],
    });
    await invoke();
    expect(slack.delivered().map(header).slice(1)).toEqual([
      'credwatch: 1 new — example-prod (123456789012)',
    ]);

    later(19 * 60 + 1); // the baseline's findings are due (the child's clock starts a little after now); erin's is pulled in
    await invoke();
    const rollUp = slack.delivered().slice(2);
    expect(rollUp.map(header)).toEqual([
      'credwatch: 4 still open — example-prod (123456789012)',
      'credwatch: 1 still open, yours — example-prod (123456789012)',
      'credwatch: 1 still open, yours — example-prod (123456789012)',
    ]);
    expect(JSON.stringify(rollUp[1])).toContain('<@U024BE7LH>: 1 of your credentials is still open.');
    expect(JSON.stringify(rollUp[2])).toContain('erin@example.com: 1 of your credentials is still open.');
    expect(JSON.stringify(rollUp[2])).not.toContain('alice');
    expect(bus.entries.filter((e) => e.DetailType === 'Credential Finding Reminder')).toHaveLength(4);

    later(10);
    await invoke();
    expect(slack.delivered()).toHaveLength(5);
  });

  it('holds a cap of 10 messages with 1,000 changes, and repeats nothing on the next run', async () => {
    for (let i = 0; i < 997; i++) {
      iam.account.createUser(`svc-${String(i).padStart(4, '0')}`, {
        createdAt: ago(900),
        accessKeys: [{ createdAt: ago(200), lastUsed: used() }],
      });
    }
    // A stack configured with `notifications.baseline: false` writes exactly this variable.
    const noBaseline = {
      CREDWATCH_NOTIFICATIONS: '{"baseline":false,"reminders":"roll-up","maxMessagesPerRun":10}',
    };
    const first = await invoke(noBaseline);
    expect(first.result).toMatchObject({ changes: 1000, delivered: 1000 });
    const posted = slack.delivered();
    expect(posted).toHaveLength(10);
    expect(header(posted[9])).toMatch(/^credwatch: \d+ more changes — example-prod \(123456789012\)$/);
    expect(bus.entries).toHaveLength(1000);

    later(10);
    const second = await invoke(noBaseline);
    expect(second.result).toMatchObject({ changes: 0 });
    expect(slack.requests).toHaveLength(10);
  }, 120_000);
});
