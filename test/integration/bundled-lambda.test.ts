import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE_SCHEMA } from '../../lambda/contracts';
import { generateAccount } from '../support/account-generator';
import {
  type EventBridgeEndpoint,
  type SecretsManagerEndpoint,
  startEventBridgeEndpoint,
  startSecretsManagerEndpoint,
} from '../support/aws-json-endpoints';
import {
  ANNOUNCE_EVERYTHING_CONFIG,
  type Invocation,
  invokeBundled,
  localEnvironment,
  type SynthesizedScanner,
  synthesizeScanner,
} from '../support/bundled-lambda';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { startFaultProxy } from '../support/fault-proxy';
import { type IamEndpoint, type IamEndpointOptions, startIamEndpoint } from '../support/iam-endpoint';
import { type Organization, startOrganization } from '../support/organization-endpoints';
import { runCli } from '../support/run-cli';
import { sampleAccount } from '../support/sample-account';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';

const SECRET_NAME = 'credwatch/slack-webhook';
const FAKE_KEYS = { AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake' };

describe('the bundled scanner Lambda', () => {
  let scanner: SynthesizedScanner;
  let now: Date;
  let iam: IamEndpoint;
  let dynamo: LocalDynamo;
  let slack: SlackReceiver;
  let secrets: SecretsManagerEndpoint;
  let bus: EventBridgeEndpoint;

  beforeAll(() => {
    scanner = synthesizeScanner(ANNOUNCE_EVERYTHING_CONFIG);
  });

  async function start(iamOptions: Partial<IamEndpointOptions> = {}) {
    [iam, dynamo, slack, bus] = await Promise.all([
      // The child's clock is faked to `now`: IAM's answers are dated by the same clock.
      startIamEndpoint({ account: sampleAccount(now), now: () => now, datedByNow: true, ...iamOptions }),
      startDynalite(),
      startSlackReceiver(),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({ secrets: { [SECRET_NAME]: slack.url } });
  }
  beforeEach(() => {
    now = new Date('2026-11-23T12:00:00Z');
  });
  afterEach(async () => {
    await Promise.all([iam?.close(), dynamo?.close(), slack?.close(), secrets?.close(), bus?.close()]);
  });

  /** The function's environment from the template, with its two references resolved locally. */
  function environment(): Record<string, string> {
    return localEnvironment(scanner, {
      secretName: SECRET_NAME,
      tableName: dynamo.tableName,
      iam: iam.url,
      dynamodb: dynamo.endpoint,
      secretsManager: secrets.url,
      eventBridge: bus.url,
    });
  }

  /** What the schedule sends for a run due now. */
  const scheduled = (at: Date = now) => ({
    source: 'credwatch.schedule',
    scheduledTime: at.toISOString(),
    executionId: 'test',
  });
  /** The child's wall clock is `now`; the webhook host is injected through createHandler, as a test must. */
  const options = () => ({ now, webhookHosts: [new URL(slack.url).host] });
  const invoke = async (event: unknown = scheduled()): Promise<Invocation> => {
    const run = await invokeBundled(scanner.entry, environment(), event, options());
    // The webhook URL is a secret: never in logs, metrics or errors.
    expect(run.stdout + run.stderr).not.toContain(slack.secret);
    return run;
  };
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };

  it('posts the right digest on the first scan and nothing on the second', async () => {
    await start();
    const first = await invoke();
    expect(first.error).toBeUndefined();
    expect(first.result).toEqual({
      runId: '2026-11-23T12:00:00.000Z',
      accounts: 1,
      findings: 3,
      changes: 3,
      delivered: 3,
    });
    expect(first.metrics).toMatchObject({
      ScansCompleted: 1,
      FindingsCritical: 2,
      FindingsWarning: 1,
      ChangesDelivered: 3,
      DeliveryFailures: 0,
    });
    expect(slack.delivered()).toHaveLength(1);
    const digest = JSON.stringify(slack.delivered()[0]);
    for (const expected of [
      'example-prod (123456789012)',
      'alice',
      'bob',
      'dave',
      '<@U024BE7LH>',
      iam.account.user('alice')!.accessKeys[0]!.id,
    ]) {
      expect(digest).toContain(expected);
    }
    expect(digest).not.toContain('carol');
    expect(bus.entries).toHaveLength(3);

    later(10);
    const second = await invoke();
    expect(second.result).toMatchObject({ changes: 0, delivered: 0 });
    expect(second.metrics).toMatchObject({ ScansCompleted: 1, ChangesDelivered: 0 });
    expect(slack.requests).toHaveLength(1);
  });

  it('posts a resolved message when a key is rotated, once the report shows it', async () => {
    await start();
    await invoke();
    const old = iam.account.user('alice')!.accessKeys[0]!;
    iam.account.createAccessKey('alice', { createdAt: now });
    iam.account.deleteAccessKey('alice', old.id);
    later(4 * 60 + 10); // IAM regenerates the report after 4 hours; then the old key is gone from it
    const run = await invoke();
    expect(run.result).toMatchObject({ changes: 1, delivered: 1 });
    expect(JSON.stringify(slack.delivered()[1])).toMatch(new RegExp(`Resolved[\\s\\S]*${old.id}`));
  });

  it('finishes correctly through a throttling storm and a slow report', async () => {
    // Real time here: the report takes 2.5 s to generate and IAM allows 4 requests a second.
    now = new Date();
    await start({
      now: () => new Date(),
      reportGenerationMs: 2500,
      throttle: { ratePerSecond: 4, burst: 2 },
    });
    iam.account.alias = undefined;
    const run = await invoke();
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ findings: 3, changes: 3, delivered: 3 });
    expect(iam.counts().throttled).toBeGreaterThan(0);
    expect(iam.counts().GenerateCredentialReport).toBeGreaterThan(1);
  });

  it('delivers exactly once through a 429', async () => {
    await start();
    slack.script('rate_limited');
    const run = await invoke();
    expect(run.result).toMatchObject({ delivered: 3 });
    expect(slack.requests.map((r) => r.answeredWith)).toEqual([429, 200]);
  });

  it('leaves the state unadvanced on no_service, and the next good scan delivers', async () => {
    await start();
    slack.script('no_service');
    const failed = await invoke();
    expect(failed.result).toMatchObject({ changes: 3, delivered: 0 });
    expect(failed.metrics).toMatchObject({ DeliveryFailures: 1, ChangesDelivered: 0 });
    expect(failed.stdout + failed.stderr).toMatch(/"slackError":"no_service"/);

    later(10);
    const retried = await invoke();
    expect(retried.result).toMatchObject({ changes: 3, delivered: 3 });
    expect(slack.delivered()).toHaveLength(1);
  });

  /** Every item of the state table (a Scan: tests only; the function itself only Queries). */
  /** The state items: every item but the accounts' `known` markers. */
  const storedItems = async () =>
    ((await dynamo.client.send(new ScanCommand({ TableName: dynamo.tableName }))).Items ?? []).filter(
      (i) => i.sk?.S !== STATE_TABLE_SCHEMA.knownMarkerSortKey,
    );

  it.each([
    [
      'a scheduled time far in the future',
      () => scheduled(new Date('2099-01-01T00:00:00Z')),
      /2099-01-01T00:00:00.000Z is \d+ minutes from the clock/,
    ],
    [
      'a retried event older than one period',
      () => scheduled(new Date(now.getTime() - 11 * 60_000)),
      /is 11 minutes from the clock/,
    ],
    [
      'a source that is not the schedule',
      () => ({ ...scheduled(), source: 'aws.events' }),
      /^event.source: expected "credwatch.schedule", got "aws.events"/,
    ],
    [
      'no scheduled time',
      () => ({ source: 'credwatch.schedule' }),
      /^event.scheduledTime: expected an ISO time, got nothing/,
    ],
    ['an empty event', () => ({}), /^event.source: expected "credwatch.schedule"/],
  ])('refuses %s: logged, counted, nothing read or written', async (_what, event, reason) => {
    await start();
    const refused = await invoke(event());
    expect(refused.error).toBeUndefined();
    expect(refused.result).toEqual({ refused: expect.stringMatching(reason) });
    expect(refused.metrics).toMatchObject({ InvocationsRefused: 1 });
    expect(refused.metrics.ScansCompleted).toBeUndefined();
    expect(refused.stdout + refused.stderr).toMatch(/invocation refused/);
    expect(iam.counts()).toEqual({});
    expect(slack.requests).toEqual([]);
    expect(bus.entries).toEqual([]);
    expect(await storedItems()).toEqual([]);
  });

  it('judges by its own clock: a forged time never pins the state, later runs remind as usual', async () => {
    await start();
    const first = await invoke();
    expect(first.result).toMatchObject({ runId: now.toISOString(), delivered: 3 });
    const times = (await storedItems()).map((i) => Number(i.scanEpochMs?.N));
    // The child's clock starts at `now` and runs on: every row carries that run's time, seconds after `now`.
    expect(times).toHaveLength(3);
    expect(new Set(times).size).toBe(1);
    expect(times[0]! - now.getTime()).toBeGreaterThanOrEqual(0);
    expect(times[0]! - now.getTime()).toBeLessThan(60_000);
    // The exploit of the security review: one invoke dated 2099. Refused; the rows keep today's time.
    later(1);
    expect((await invoke(scheduled(new Date('2099-01-01T00:00:00Z')))).result).toHaveProperty('refused');
    expect((await storedItems()).map((i) => Number(i.scanEpochMs?.N))).toEqual(times);
    // A day later the reminder comes, and its rows carry the time of that run.
    later(24 * 60);
    const reminded = await invoke();
    expect(reminded.result).toMatchObject({ changes: 3, delivered: 3 });
    expect(JSON.stringify(slack.delivered()[1])).toMatch(/[Rr]eminder|[Ss]till open/);
    const remindedAt = (await storedItems()).map((i) => Number(i.scanEpochMs?.N));
    expect(new Set(remindedAt).size).toBe(1);
    expect(remindedAt[0]! - now.getTime()).toBeGreaterThanOrEqual(0);
    expect(remindedAt[0]! - now.getTime()).toBeLessThan(60_000);
  });

  it('names the run by the scheduled time but judges by the clock when the event is late within a period', async () => {
    await start();
    const late = await invoke(scheduled(new Date(now.getTime() - 4 * 60_000)));
    expect(late.result).toMatchObject({ runId: new Date(now.getTime() - 4 * 60_000).toISOString() });
    const items = await storedItems();
    expect(items).toHaveLength(3);
    for (const item of items) {
      const at = Date.parse(item.scanTime!.S!);
      expect(at - now.getTime()).toBeGreaterThanOrEqual(0);
      expect(at - now.getTime()).toBeLessThan(60_000);
    }
  });

  it('never stops on a state item it cannot read: names it, announces its finding again, replaces it', async () => {
    await start();
    await invoke();
    const items = await storedItems();
    const spoiled = items.filter((i) => /\/(alice|dave)\//.test(i.sk!.S!));
    expect(spoiled).toHaveLength(2);
    const [aliceItem, daveItem] = spoiled.sort((a, b) => a.sk!.S!.localeCompare(b.sk!.S!));
    await dynamo.client.send(
      new PutItemCommand({ TableName: dynamo.tableName, Item: { ...aliceItem!, finding: { S: '{}' } } }),
    );
    await dynamo.client.send(
      new PutItemCommand({ TableName: dynamo.tableName, Item: { ...daveItem!, status: { S: 'OPEN' } } }),
    );
    later(10);
    const run = await invoke();
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ changes: 2, delivered: 2 });
    expect(run.metrics).toMatchObject({ StateItemsUnreadable: 2, ScansCompleted: 1 });
    const log = run.stdout + run.stderr;
    expect(log).toMatch(/state items could not be read/);
    expect(log).toContain(aliceItem!.sk!.S!);
    expect(log).toContain(daveItem!.sk!.S!);
    // Replaced by the writes after delivery: the next run reads everything and says nothing.
    later(10);
    const next = await invoke();
    expect(next.result).toMatchObject({ changes: 0 });
    expect(next.metrics).toMatchObject({ StateItemsUnreadable: 0 });
  });

  /** The findings a digest message lists: the fact line of each entry (kind, user, rule, key, figures). */
  const entriesOf = (payload: unknown) =>
    ((payload as { blocks?: { text?: { text?: string } }[] }).blocks ?? [])
      .flatMap((b) => (b.text?.text ?? '').split('\n'))
      .filter((line) => line.startsWith('• '));

  it('repeats at most one message when DynamoDB fails after Slack accepted it, and loses no event', async () => {
    await start({ account: generateAccount({ users: 400, seed: 'faults', now }) });
    const proxy = await startFaultProxy(dynamo.endpoint);
    try {
      const env = { ...environment(), AWS_ENDPOINT_URL_DYNAMODB: proxy.url };
      const run = async () => {
        const r = await invokeBundled(scanner.entry, env, scheduled(), options());
        expect(r.stdout + r.stderr).not.toContain(slack.secret);
        return r;
      };
      // Every state write fails once Slack has taken its second message.
      proxy.failWhen(
        (r) => r.target.endsWith('.PutItem') && r.body.includes('"account#') && slack.delivered().length >= 2,
      );
      const first = await run();
      expect(first.error).toMatch(/Could not write the state of finding/);
      const sentFirst = slack.delivered().length;
      expect(sentFirst).toBe(2);
      proxy.heal();
      later(10);
      const second = await run();
      expect(second.error).toBeUndefined();
      const all = slack.delivered().flatMap(entriesOf);
      const repeated = all.filter((e, i) => all.indexOf(e) !== i);
      // Exactly the second message's entries were said twice; nothing else, and nothing lost.
      expect(repeated.sort()).toEqual(entriesOf(slack.delivered()[1]).sort());
      expect(new Set(all).size).toBe((first.result?.changes as number | undefined) ?? new Set(all).size);
      later(10);
      expect((await run()).result).toMatchObject({ changes: 0 });
      // One event per change announced (the repeated message's changes at most twice), none lost.
      const events = bus.entries.map((e) => `${e.DetailType}:${JSON.parse(e.Detail ?? '{}').finding?.id}`);
      expect(new Set(events).size).toBe(new Set(all).size);
    } finally {
      await proxy.close();
    }
  });

  it('retries a message whose answer was lost once, never more, and counts it', async () => {
    await start();
    slack.script('destroy', 'destroy');
    const run = await invoke();
    expect(slack.requests.map((r) => r.answeredWith)).toEqual(['destroyed', 'destroyed']);
    expect(run.metrics).toMatchObject({ DeliveryUncertain: 1, DeliveryFailures: 1, ChangesDelivered: 0 });
    later(10);
    const next = await invoke();
    expect(next.result).toMatchObject({ delivered: 3 });
    expect(slack.requests).toHaveLength(3);
  });

  it('publishes the events of a run EventBridge refused with the next run, once each', async () => {
    await start();
    const proxy = await startFaultProxy(bus.url);
    try {
      const env = { ...environment(), AWS_ENDPOINT_URL_EVENTBRIDGE: proxy.url };
      proxy.failWhen((r) => r.target.endsWith('.PutEvents'));
      const first = await invokeBundled(scanner.entry, env, scheduled(), options());
      expect(first.error).toMatch(/EventBridge/);
      expect(first.metrics).toMatchObject({ ChangesDelivered: 3, EventsPublished: 0, EventsPending: 3 });
      expect(slack.delivered()).toHaveLength(1);
      expect(bus.entries).toEqual([]);
      proxy.heal();
      later(10);
      const second = await invokeBundled(scanner.entry, env, scheduled(), options());
      expect(second.error).toBeUndefined();
      expect(second.result).toMatchObject({ changes: 0 });
      expect(second.metrics).toMatchObject({ EventsPublished: 3, EventsPending: 0 });
      expect(bus.entries.map((e) => e.DetailType)).toEqual([
        'Credential Finding Opened',
        'Credential Finding Opened',
        'Credential Finding Opened',
      ]);
      expect(slack.delivered()).toHaveLength(1); // nothing said twice
      later(10);
      await invokeBundled(scanner.entry, env, scheduled(), options());
      expect(bus.entries).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it('alerts on the first run within its time even when IAM is throttled: unconfirmed findings are said, and counted', async () => {
    // IAM at 10 requests a second on per-user reads, by a clock that runs; a 45 s function.
    const t0 = Date.now();
    const base = now.getTime();
    await start({
      account: generateAccount({ users: 500, seed: 'budget', now }),
      now: () => new Date(base + (Date.now() - t0)),
      throttle: { ratePerSecond: 10, burst: 10, actions: ['ListAccessKeys', 'GetAccessKeyLastUsed'] },
    });
    const started = Date.now();
    const run = await invokeBundled(scanner.entry, environment(), scheduled(), {
      ...options(),
      timeoutMs: 45_000,
    });
    const tookMs = Date.now() - started;
    expect(run.error).toBeUndefined();
    expect(tookMs).toBeLessThan(45_000 + 10_000); // process start and synth-free overhead only
    expect(slack.delivered().length).toBeGreaterThanOrEqual(1);
    expect(run.metrics.FindingsUnconfirmed).toBeGreaterThan(0);
    expect(run.stdout + run.stderr).toMatch(/not confirmed live within this run's time/);
    expect(JSON.stringify(slack.delivered())).toContain('not confirmed live');
  });

  it('fails, with a ScanIncomplete metric, when IAM refuses', async () => {
    await start();
    iam.failNext('GenerateCredentialReport', 'AccessDenied');
    const run = await invoke();
    expect(run.result).toBeUndefined();
    expect(run.error).toMatch(/^IAM GenerateCredentialReport failed: AccessDenied/);
    // Error names survive minification (esbuild keepNames): the log says IamReadError, not a mangled name.
    expect(run.stderr).toMatch(/"name":"IamReadError"/);
    expect(run.metrics).toMatchObject({ ScanIncomplete: 1 });
    expect(run.metrics.ScansCompleted).toBeUndefined();
    expect(slack.requests).toEqual([]);
  });

  it('scans several accounts through their member roles; a denied one is reported once and never stops the others', async () => {
    const ids = ['111111111111', '222222222222', '333333333333'];
    const denied = new Set(['333333333333']);
    const org: Organization = await startOrganization({
      // A list source has no Organizations names: the digest names each account by its IAM alias.
      accounts: ids.map((id, i) => {
        const alias = ['prod', 'staging', 'sandbox'][i]!;
        return { account: sampleAccount(now, id, alias), name: alias };
      }),
      denyAssumeRole: denied,
      now: () => now,
      iam: { now: () => now },
    });
    try {
      await start();
      const env = {
        ...environment(),
        AWS_ENDPOINT_URL_IAM: org.iamUrl,
        AWS_ENDPOINT_URL_STS: org.stsUrl,
        CREDWATCH_ACCOUNTS: JSON.stringify({
          source: 'list',
          ids,
          memberRoleName: 'credwatch-member',
          concurrency: 8,
        }),
      };
      const run = () =>
        invokeBundled(scanner.entry, env, scheduled(), options()).then((r) => {
          expect(r.stdout + r.stderr).not.toContain(slack.secret);
          return r;
        });

      const first = await run();
      expect(first.error).toMatch(
        /^1 of 3 accounts could not be scanned: 333333333333 \(could not assume arn:aws:iam::333333333333:role\/credwatch-member: AccessDenied/,
      );
      expect(first.metrics).toMatchObject({
        AccountsScanned: 2,
        AccountsFailed: 1,
        ScanIncomplete: 1,
        ChangesDelivered: 7,
      });
      // An incomplete run is no heartbeat: the Heartbeat alarm must see it missing.
      expect(first.metrics.ScansCompleted).toBeUndefined();
      expect(slack.delivered()).toHaveLength(1);
      const digest = JSON.stringify(slack.delivered()[0]);
      for (const expected of [
        '3 accounts',
        'prod (111111111111)',
        'staging (222222222222)',
        'credwatch could not scan account 333333333333',
      ]) {
        expect(digest).toContain(expected);
      }
      expect(org.iam('111111111111').counts().GetCredentialReport).toBe(1);
      expect(org.iam('333333333333').counts().GetCredentialReport).toBeUndefined();

      later(10);
      const second = await run();
      expect(second.metrics).toMatchObject({ AccountsFailed: 1, ChangesDelivered: 0 });
      expect(slack.requests).toHaveLength(1); // the failure was already announced: no spam

      denied.delete('333333333333');
      later(10);
      const recovered = await run();
      expect(recovered.error).toBeUndefined();
      expect(recovered.result).toMatchObject({ accounts: 3, changes: 4, delivered: 4 });
      const news = JSON.stringify(slack.delivered()[1]);
      expect(news).toMatch(/Resolved[\s\S]*account 333333333333> · account not scanned/);
      expect(news).toContain('sandbox (333333333333)');
    } finally {
      await org.close();
    }
  });

  it('the CLI scans the same local account live', async () => {
    await start();
    const { code, stdout, stderr } = await runCli(['--json', '--now', now.toISOString()], {
      ...FAKE_KEYS,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_IAM: iam.url,
    });
    expect(code).toBe(0);
    expect(stderr).toMatch(/credwatch: confirming the access keys of 2 users/);
    const doc = JSON.parse(stdout);
    expect(
      doc.findings.map(
        (f: { user: string; accessKeyId?: string; credential: string }) =>
          `${f.user}/${f.accessKeyId ?? f.credential}`,
      ),
    ).toEqual([
      `alice/${iam.account.user('alice')!.accessKeys[0]!.id}`,
      'dave/password',
      `bob/${iam.account.user('bob')!.accessKeys[0]!.id}`,
    ]);
    expect(doc.iamCalls).toMatchObject({
      GetCredentialReport: 1,
      GetAccountAuthorizationDetails: 1,
      ListAccessKeys: 2,
    });
  });
});
