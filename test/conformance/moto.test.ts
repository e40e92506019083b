/**
 * A second opinion from a tool nobody here wrote: the Lambda bundle `cdk synth` produced, run end to
 * end against moto (https://github.com/getmoto/moto) instead of the project's own stand-ins. moto
 * serves IAM, Secrets Manager, DynamoDB, EventBridge and SQS on one local port; the account is seeded
 * through the AWS SDK v3 (no boto3), exactly as an operator's tooling would.
 *
 * What moto lets a test control, and what not (moto 5.2.1):
 * - users, their tags, login profiles (console passwords), virtual MFA devices, access keys (and
 *   their status), the account alias: yes.
 * - when anything was created: no. Every CreateDate is moto's wall clock, so old credentials are
 *   made by running the function with its clock 100 days ahead (invokeBundled's `now`).
 * - when a key was last used: only "now", by signing any request with that key.
 * - when a password was last used: never (moto has no console sign-in).
 *
 * moto's quirks, each asserted by the last test so that a moto upgrade that changes one is noticed
 * (where it differs from AWS, AWS is the real credential reports in test/fixtures/credential-reports
 * and test/fixtures/iam-xml; see docs/development.md, "Conformance: moto and cfn-lint"):
 * - the credential report has no `<root_account>` row (AWS: always, first row), so the root rules
 *   (root-without-mfa, root-access-key) cannot fire against moto;
 * - GetCredentialReport's GeneratedTime is always 2015-02-02T20:02:02Z, and the report is rebuilt on
 *   every GetCredentialReport: no 4-hour snapshot, no ReportExpired, never INPROGRESS (AWS: a
 *   snapshot, regenerated at most every 4 hours);
 * - for a user without a password, password_last_used is `not_supported` and password_last_changed
 *   is the user's creation time (AWS: `N/A` and `N/A`); password_next_rotation is always
 *   `not_supported` (AWS: `N/A` without a rotation policy); password_last_changed of a user with a
 *   password is the user's creation time, not the login profile's;
 * - access_key_N_last_used_region and _service are always `not_supported` (AWS: e.g. `us-east-1`,
 *   `s3`, or `N/A` when never used), while GetAccessKeyLastUsed gives the real service and region;
 * - CreateDate in ListAccessKeys / GetAccountAuthorizationDetails has microseconds (AWS: whole
 *   seconds, as in the report). The SDK rounds them to the nearest millisecond, while the report
 *   truncates them to the second: a key moto creates in the last half millisecond of a second
 *   (xx.9995 to xx.999999, about 1 in 2,000 keys) is in the next second for the Lambda's
 *   ListAccessKeys and in its own second in the report. The Lambda matches report slots to live keys
 *   by creation second (lambda/scan.ts, matchReportKey), finds none for that key and judges it
 *   without the report's last use: erin's key was once announced as "never used". AWS's whole
 *   seconds cannot do this, so seed() recreates such a key (createKey) instead of leaving the
 *   outcome to the wall clock;
 * - GetAccountAuthorizationDetails ignores MaxItems: one page, IsTruncated false, whatever the size;
 * - no signature is checked: any access key id is accepted (and moto marks it as used);
 * - PutEvents accepts 0 entries (AWS: ValidationException, 1 to 10) and an entry with an `aws.`
 *   source (AWS: NotAuthorizedForSourceException for that entry);
 * - GetSecretValue of an unknown secret is ResourceNotFoundException with HTTP 404 (AWS: 400).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  type BillingMode,
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateAccessKeyCommand,
  CreateAccountAliasCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeleteAccessKeyCommand,
  EnableMFADeviceCommand,
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  GetUserCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse } from 'csv-parse/sync';
import { STATE_TABLE_SCHEMA } from '../../lambda/adapters/state-store';
import { DAY_MS, isoDay } from '../../lambda/core/dates';
import {
  ANNOUNCE_EVERYTHING_CONFIG,
  type Invocation,
  invokeBundled,
  type SynthesizedScanner,
  synthesizeScanner,
} from '../support/bundled-lambda';
import { MOTO_ACCOUNT_ID, MOTO_FAKE_KEYS, type MotoServer, startMotoServer } from '../support/moto-server';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';

const ALIAS = 'moto-conformance';
const OWNER = 'U024BE7LH';
/** How far ahead of moto's clock the function runs: every credential moto made is this old. */
const AGE_DAYS = 100;
const MINUTE_MS = 60_000;

type Row = Record<string, string>;
type KeyName = 'alice' | 'dave' | 'erin' | 'grace1' | 'grace2';

/** How a finding names a key: by its creation time, to the second (lambda/core/evaluate.ts keyCredential). */
const credentialOf = (createdAt: Date) =>
  `key-${new Date(Math.floor(createdAt.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z')}`;

interface Seeded {
  /** Moto's clock after seeding: every CreateDate is at or before it (and within seconds of it). */
  readonly at: Date;
  /** The access key ids moto made, and how findings name each key (`key-<its CreateDate second>`). */
  readonly keys: Readonly<Record<KeyName, string>>;
  readonly credentials: Readonly<Record<KeyName, string>>;
  /** erin's key's last use as moto recorded it (its wall clock at seeding), as the SDK reads it. */
  readonly erinUsedAt: Date;
  /** The day dave's exemption ends (30 days after the runs). */
  readonly exemptUntil: string;
  readonly secretArn: string;
  readonly tableName: string;
  readonly queueUrl: string;
}

/** The state table as the synthesized template declares it. */
interface TableResource {
  readonly KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  readonly BillingMode?: BillingMode;
  readonly TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
}

/** The template `synthesizeScanner()` wrote next to the bundle (the cloud assembly holds both). */
function stateTableOf(scanner: SynthesizedScanner): TableResource {
  const assembly = path.dirname(path.dirname(scanner.entry));
  const template = JSON.parse(readFileSync(path.join(assembly, 'Credwatch.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: TableResource }>;
  };
  const tables = Object.values(template.Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1)
    throw new Error(`expected one DynamoDB table in the template, found ${tables.length}`);
  return tables[0]!.Properties;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until moto's clock (the wall clock) is in a later second than `after`: two keys of one user
 * then differ in their creation second, by which findings name keys (same-second keys are a case of
 * their own, not this suite's).
 */
async function nextSecond(after: Date): Promise<void> {
  while (Math.floor(Date.now() / 1000) === Math.floor(after.getTime() / 1000)) await sleep(20);
}

/** moto's own CreateDate of one access key, as it stores it: with microseconds, unrounded. */
async function motoCreateDate(moto: MotoServer, user: string, accessKeyId: string): Promise<string> {
  const xml = await moto.query('iam', { Action: 'ListAccessKeys', UserName: user, Version: '2010-05-08' });
  for (const [, member] of xml.matchAll(/<member>([\s\S]*?)<\/member>/g)) {
    if (!member!.includes(`<AccessKeyId>${accessKeyId}</AccessKeyId>`)) continue;
    const created = /<CreateDate>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)[^<]*<\/CreateDate>/.exec(member!);
    if (created) return created[1]!;
  }
  throw new Error(
    `moto's ListAccessKeys of ${user} has no CreateDate for ${accessKeyId}:\n${xml.slice(0, 2000)}`,
  );
}

/**
 * Creates an access key whose creation second is the same for the SDK (rounded to the millisecond:
 * what the Lambda's ListAccessKeys sees) and for moto's report (truncated to the second); a key made
 * in the last half millisecond of a second is deleted and made again (the comment at the top).
 */
async function createKey(moto: MotoServer, iam: IAMClient, user: string) {
  for (let attempt = 1; ; attempt++) {
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    const reportSecond = `${await motoCreateDate(moto, user, key.AccessKeyId!)}Z`;
    const sdkSecond = new Date(Math.floor(key.CreateDate!.getTime() / 1000) * 1000)
      .toISOString()
      .replace('.000Z', 'Z');
    if (sdkSecond === reportSecond) return key;
    await iam.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: key.AccessKeyId! }));
    if (attempt === 5) {
      throw new Error(
        `5 access keys of ${user} in a row were in another second for the SDK (${sdkSecond}) than for moto (${reportSecond})`,
      );
    }
  }
}

/**
 * The account: seven users whose findings are known at AGE_DAYS after seeding (defaults: key age
 * warning 80 / critical 90, unused 45, password without MFA critical, >1 active key info).
 * - alice: one key, never used, owner tag -> access-key-age critical, access-key-unused warning
 * - bob: console password, no MFA -> password-without-mfa critical, password-unused warning
 * - carol: console password with MFA -> password-unused warning only
 * - dave: one key, exempt until 30 days after the run -> both key findings exempted (not announced),
 *   exemption-granted info (announced)
 * - erin: one key used once at seeding, max-key-age 365 -> access-key-unused warning only
 * - frank: no credentials -> nothing
 * - grace: two active keys (created in different seconds) -> 2 x age critical, 2 x unused warning,
 *   multiple-active-keys info (not paged)
 */
async function seed(moto: MotoServer, scanner: SynthesizedScanner, slack: SlackReceiver): Promise<Seeded> {
  const config = moto.clientConfig;
  const iam = new IAMClient(config);
  const exemptUntil = isoDay(new Date(Date.now() + (AGE_DAYS + 30) * DAY_MS));
  try {
    await iam.send(new CreateAccountAliasCommand({ AccountAlias: ALIAS }));
    const user = (name: string, tags: Record<string, string> = {}) =>
      iam.send(
        new CreateUserCommand({
          UserName: name,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    const key = (name: string) => createKey(moto, iam, name);
    const password = (name: string) =>
      iam.send(new CreateLoginProfileCommand({ UserName: name, Password: 'Moto-Conformance-1!' }));

    await user('alice', { 'credwatch:owner': OWNER });
    const alice = await key('alice');
    await user('bob');
    await password('bob');
    await user('carol');
    await password('carol');
    const mfa = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'carol' }));
    await iam.send(
      new EnableMFADeviceCommand({
        UserName: 'carol',
        SerialNumber: mfa.VirtualMFADevice!.SerialNumber!,
        AuthenticationCode1: '123456',
        AuthenticationCode2: '234567',
      }),
    );
    await user('dave', { 'credwatch:exempt': `until=${exemptUntil} reason=moto conformance exemption` });
    const dave = await key('dave');
    await user('erin', { 'credwatch:max-key-age-days': '365' });
    const erin = await key('erin');
    // moto records a key as used when a request is signed with it (it checks no signature).
    const asErin = new IAMClient({
      ...config,
      credentials: { accessKeyId: erin.AccessKeyId!, secretAccessKey: erin.SecretAccessKey! },
    });
    await asErin.send(new GetUserCommand({}));
    asErin.destroy();
    // When moto recorded that use (its own clock), as the SDK reads it; asked with the fake keys, which
    // are no user's key, so this request marks nothing as used.
    const erinUsed = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: erin.AccessKeyId! })))
      .AccessKeyLastUsed!;
    await user('frank');
    await user('grace');
    const grace1 = await key('grace');
    await nextSecond(grace1.CreateDate!);
    const grace2 = await key('grace');

    // The webhook secret, as an operator stores it (docs/deploy.md): JSON with the webhook URL.
    const secrets = new SecretsManagerClient(config);
    const secret = await secrets.send(
      new CreateSecretCommand({
        Name: 'credwatch/slack-webhook',
        SecretString: JSON.stringify({ webhookUrl: slack.url }),
      }),
    );
    secrets.destroy();

    // The state table with the key schema, billing mode and TTL of the synthesized template.
    const table = stateTableOf(scanner);
    const tableName = 'credwatch-state';
    const dynamo = new DynamoDBClient(config);
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: table.KeySchema,
        AttributeDefinitions: table.AttributeDefinitions,
        BillingMode: table.BillingMode ?? 'PAY_PER_REQUEST',
      }),
    );
    if (table.TimeToLiveSpecification) {
      await dynamo.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: table.TimeToLiveSpecification,
        }),
      );
    }
    dynamo.destroy();

    // The default bus exists in moto as in AWS; a rule sends credwatch's events to a queue to read
    // them (SQS through moto's awsJson: the project has no SQS client, and needs none).
    const { QueueUrl } = await moto.json<{ QueueUrl: string }>('sqs', 'AmazonSQS.CreateQueue', {
      QueueName: 'credwatch-events',
    });
    const { Attributes } = await moto.json<{ Attributes: { QueueArn: string } }>(
      'sqs',
      'AmazonSQS.GetQueueAttributes',
      { QueueUrl, AttributeNames: ['QueueArn'] },
    );
    const events = new EventBridgeClient(config);
    await events.send(
      new PutRuleCommand({
        Name: 'credwatch-findings',
        EventBusName: 'default',
        EventPattern: JSON.stringify({ source: ['credwatch'] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: 'credwatch-findings',
        EventBusName: 'default',
        Targets: [{ Id: 'queue', Arn: Attributes.QueueArn }],
      }),
    );
    events.destroy();

    return {
      at: new Date(),
      keys: {
        alice: alice.AccessKeyId!,
        dave: dave.AccessKeyId!,
        erin: erin.AccessKeyId!,
        grace1: grace1.AccessKeyId!,
        grace2: grace2.AccessKeyId!,
      },
      credentials: {
        alice: credentialOf(alice.CreateDate!),
        dave: credentialOf(dave.CreateDate!),
        erin: credentialOf(erin.CreateDate!),
        grace1: credentialOf(grace1.CreateDate!),
        grace2: credentialOf(grace2.CreateDate!),
      },
      erinUsedAt: erinUsed.LastUsedDate!,
      exemptUntil,
      secretArn: secret.ARN!,
      tableName,
      queueUrl: QueueUrl,
    };
  } finally {
    iam.destroy();
  }
}

describe('moto_server', () => {
  it('is required: without it on PATH the suite fails with the install hint, it never skips', async () => {
    const path_ = process.env.PATH;
    process.env.PATH = '';
    try {
      await expect(startMotoServer()).rejects.toThrow('pip install "moto[server]==5.2.1"');
    } finally {
      process.env.PATH = path_;
    }
  });
});

describe('the bundled scanner Lambda against moto', () => {
  let moto: MotoServer;
  let slack: SlackReceiver;
  let scanner: SynthesizedScanner;
  let seeded: Seeded;

  beforeAll(async () => {
    // No moto_server on PATH fails here, with the install hint: the suite never skips.
    [moto, slack] = await Promise.all([startMotoServer(), startSlackReceiver()]);
    scanner = synthesizeScanner(ANNOUNCE_EVERYTHING_CONFIG);
    seeded = await seed(moto, scanner, slack);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([slack?.close(), moto?.close()]);
  });

  /** The function's environment from the template, its two references resolved to moto's resources. */
  function environment(): Record<string, string> {
    const env: Record<string, string> = {};
    const references: string[] = [];
    for (const [key, value] of Object.entries(scanner.environment)) {
      if (typeof value === 'string') env[key] = value;
      else references.push(key);
    }
    expect(references.sort()).toEqual(['CREDWATCH_SLACK_SECRET_ARN', 'CREDWATCH_STATE_TABLE']);
    return {
      ...env,
      CREDWATCH_SLACK_SECRET_ARN: seeded.secretArn,
      CREDWATCH_STATE_TABLE: seeded.tableName,
      AWS_REGION: moto.clientConfig.region,
      AWS_ACCESS_KEY_ID: MOTO_FAKE_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_FAKE_KEYS.secretAccessKey,
      // One endpoint for every service: moto answers them all on one port.
      AWS_ENDPOINT_URL: moto.url,
    };
  }

  /** One scheduled run with the function's clock at `at` (moto's clock + AGE_DAYS + the given minutes). */
  async function runAt(minutesLater: number): Promise<Invocation & { at: Date }> {
    const at = new Date(seeded.at.getTime() + AGE_DAYS * DAY_MS + minutesLater * MINUTE_MS);
    const run = await invokeBundled(
      scanner.entry,
      environment(),
      { source: 'credwatch.schedule', scheduledTime: at.toISOString(), executionId: `moto-${minutesLater}` },
      { now: at, webhookHosts: [new URL(slack.url).host] },
    );
    // The webhook URL is a secret: never in logs, metrics or errors.
    expect(run.stdout + run.stderr).not.toContain(slack.secret);
    if (run.error !== undefined) {
      throw new Error(`the bundled handler failed: ${run.error}\n${run.stderr.slice(-4000)}`);
    }
    return { ...run, at };
  }

  /** The one structured "scan complete" line of a run. */
  const scanLog = (run: Invocation) => {
    const line = run.stdout.split('\n').find((l) => l.includes('"message":"scan complete"'));
    if (!line) throw new Error(`no "scan complete" log line in:\n${run.stdout.slice(-4000)}`);
    return JSON.parse(line) as {
      accounts: {
        accountId: string;
        usersScanned: number;
        counts: Record<string, number>;
        exempted: number;
      }[];
    };
  };

  const stateItems = async () => {
    const dynamo = new DynamoDBClient(moto.clientConfig);
    try {
      // The state items: every item but the accounts' `known` markers.
      return ((await dynamo.send(new ScanCommand({ TableName: seeded.tableName }))).Items ?? []).filter(
        (i) => i.sk?.S !== STATE_TABLE_SCHEMA.knownMarkerSortKey,
      );
    } finally {
      dynamo.destroy();
    }
  };

  /** Every event delivered to the queue so far (each read once). */
  const receivedEvents = async () => {
    const events: {
      source: string;
      'detail-type': string;
      detail: {
        kind: string;
        finding: { id: string; lastUsed?: { date: string; service?: string; region?: string } | null };
      };
    }[] = [];
    for (;;) {
      const { Messages } = await moto.json<{ Messages?: { Body: string; ReceiptHandle: string }[] }>(
        'sqs',
        'AmazonSQS.ReceiveMessage',
        { QueueUrl: seeded.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 3600 },
      );
      if (!Messages?.length) return events;
      events.push(...Messages.map((m) => JSON.parse(m.Body)));
    }
  };

  const ids = (user: string, ...suffixes: string[]) => suffixes.map((s) => `${MOTO_ACCOUNT_ID}/${user}/${s}`);

  it('scans moto end to end: findings, one digest, events, state; a second run posts nothing; a deleted key resolves', async () => {
    // moto's table has the schema the stack creates (read from the template, checked against the store's).
    const table = stateTableOf(scanner);
    expect(table.KeySchema).toEqual([
      { AttributeName: STATE_TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: STATE_TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ]);
    expect(table.TimeToLiveSpecification).toEqual({
      AttributeName: STATE_TABLE_SCHEMA.timeToLiveAttribute,
      Enabled: true,
    });

    // Run 1: every credential moto made is AGE_DAYS old.
    const first = await runAt(0);
    expect(first.result).toEqual({
      runId: first.at.toISOString(),
      accounts: 1,
      findings: 14, // 10 warning or critical + 2 info + dave's 2 exempted key findings
      changes: 11, // the 10, and dave's exemption granted (info)
      delivered: 11,
    });
    expect(first.metrics).toMatchObject({
      ScansCompleted: 1,
      FindingsCritical: 4,
      FindingsWarning: 6,
      FindingsInfo: 2,
      ChangesDelivered: 11,
      DeliveryFailures: 0,
    });
    expect(first.metrics.ScanIncomplete).toBeUndefined();
    // moto's report has no root row: the seven users are everyone scanned, no root rule can fire.
    expect(scanLog(first).accounts).toEqual([
      expect.objectContaining({
        accountId: MOTO_ACCOUNT_ID,
        usersScanned: 7,
        counts: { critical: 4, warning: 6, info: 2 },
        exempted: 2,
      }),
    ]);

    // One digest naming the account by its alias, every announced user, the owner and the key ids.
    expect(slack.delivered()).toHaveLength(1);
    const digest = JSON.stringify(slack.delivered()[0]);
    for (const expected of [
      `${ALIAS} (${MOTO_ACCOUNT_ID})`,
      'alice',
      'bob',
      'carol',
      'erin',
      'grace',
      'dave', // exemption granted
      `<@${OWNER}>`,
      seeded.keys.alice,
      seeded.keys.erin,
      seeded.keys.grace1,
      seeded.keys.grace2,
      'console password without MFA',
      // erin's key's last use, re-read live (GetAccessKeyLastUsed: the report has no service or
      // region). Once seen as "never used": her key had been made in the last half millisecond of a
      // second, which the SDK rounds into the next one; createKey() now rules that out (the comment
      // at the top of this file).
      `last used ${isoDay(seeded.erinUsedAt)} (iam, us-east-1)`,
    ]) {
      expect(digest).toContain(expected);
    }
    for (const absent of [seeded.keys.dave, 'frank', '<root_account>', 'root user']) {
      expect(digest).not.toContain(absent);
    }

    // One EventBridge event per change reached the default bus (and, by its rule, the queue).
    const opened = await receivedEvents();
    expect(opened).toHaveLength(11);
    expect(new Set(opened.map((e) => `${e.source} ${e['detail-type']}`))).toEqual(
      new Set(['credwatch Credential Finding Opened']),
    );
    const { alice: aliceKey, erin: erinKey, grace1, grace2 } = seeded.credentials;
    const openedIds = opened.map((e) => e.detail.finding.id).sort();
    expect(openedIds.filter((id) => id.includes('/dave/'))).toEqual([
      expect.stringMatching(
        new RegExp(`^${MOTO_ACCOUNT_ID}/dave/exemption-granted/until-${seeded.exemptUntil}`),
      ),
    ]);
    expect(openedIds.filter((id) => !id.includes('/dave/'))).toEqual(
      [
        ...ids('alice', `access-key-age/${aliceKey}`, `access-key-unused/${aliceKey}`),
        ...ids('bob', 'password-without-mfa/password', 'password-unused/password'),
        ...ids('carol', 'password-unused/password'),
        ...ids('erin', `access-key-unused/${erinKey}`),
        ...[grace1, grace2].flatMap((k) => ids('grace', `access-key-age/${k}`, `access-key-unused/${k}`)),
      ].sort(),
    );
    // erin's finding carries the last use moto recorded, to the millisecond, with its service and region.
    const [erinUnused] = ids('erin', `access-key-unused/${erinKey}`);
    expect(opened.find((e) => e.detail.finding.id === erinUnused)?.detail.finding.lastUsed).toEqual({
      date: seeded.erinUsedAt.toISOString(),
      service: 'iam',
      region: 'us-east-1',
    });

    // The state table remembers each announced finding.
    const afterFirst = await stateItems();
    expect(afterFirst).toHaveLength(11);
    for (const item of afterFirst) {
      expect(Object.keys(item)).toEqual(
        expect.arrayContaining([STATE_TABLE_SCHEMA.partitionKey, STATE_TABLE_SCHEMA.sortKey]),
      );
    }

    // Run 2, one period later: nothing changed, nothing posted, no event.
    const second = await runAt(10);
    expect(second.result).toMatchObject({ findings: 14, changes: 0, delivered: 0 });
    expect(second.metrics).toMatchObject({ ScansCompleted: 1, ChangesDelivered: 0, DeliveryFailures: 0 });
    expect(slack.requests).toHaveLength(1);
    expect(await receivedEvents()).toEqual([]);
    expect(await stateItems()).toHaveLength(11);

    // Run 3: alice's key is deleted. moto's report is rebuilt on every read, so the very next run
    // resolves it (on AWS, once IAM regenerates the report: up to 4 hours later).
    const iam = new IAMClient(moto.clientConfig);
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: seeded.keys.alice }));
    iam.destroy();
    const third = await runAt(20);
    expect(third.result).toMatchObject({ findings: 12, changes: 2, delivered: 2 });
    expect(slack.delivered()).toHaveLength(2);
    const resolved = JSON.stringify(slack.delivered()[1]);
    expect(resolved).toMatch(/[Rr]esolved/);
    expect(resolved).toContain('alice');
    expect((await receivedEvents()).map((e) => [e['detail-type'], e.detail.finding.id]).sort()).toEqual(
      ids('alice', `access-key-age/${aliceKey}`, `access-key-unused/${aliceKey}`).map((id) => [
        'Credential Finding Resolved',
        id,
      ]),
    );
  }, 180_000);

  it("shows moto's quirks, against AWS's own answers (the comment at the top of this file)", async () => {
    const iam = new IAMClient(moto.clientConfig);
    try {
      // A report exists (the runs generated it): moto says COMPLETE, whatever its age.
      expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
      const report = await iam.send(new GetCredentialReportCommand({}));
      expect(report.GeneratedTime).toEqual(new Date('2015-02-02T20:02:02Z'));
      const rows = parse(new TextDecoder().decode(report.Content), { columns: true }) as Row[];
      const row = (user: string) => rows.find((r) => r.user === user)!;

      // AWS, for comparison: a real report (test/fixtures/credential-reports, downloaded from AWS).
      const aws = parse(
        readFileSync(
          path.join(
            __dirname,
            '../fixtures/credential-reports/JakubDziegielewski_AWS_testbench__credential_report.csv',
          ),
          'utf8',
        ),
        { columns: true },
      ) as Row[];
      const awsRow = (user: string) => aws.find((r) => r.user === user)!;
      expect(aws[0]!.user).toBe('<root_account>');
      expect(Object.keys(rows[0]!)).toEqual(Object.keys(aws[0]!)); // the same 22 columns

      // No root row (AWS: always the first row).
      expect(rows.map((r) => r.user).sort()).toEqual([
        'alice',
        'bob',
        'carol',
        'dave',
        'erin',
        'frank',
        'grace',
      ]);

      // A user without a password: AWS says N/A, moto not_supported and the creation time.
      expect(awsRow('cloudgoat')).toMatchObject({
        password_enabled: 'false',
        password_last_used: 'N/A',
        password_last_changed: 'N/A',
        password_next_rotation: 'N/A',
      });
      const frank = row('frank');
      expect(frank).toMatchObject({
        password_enabled: 'false',
        password_last_used: 'not_supported',
        password_last_changed: frank.user_creation_time,
        password_next_rotation: 'not_supported',
      });

      // A used key: AWS gives the region and service in the report, moto not_supported (while its
      // GetAccessKeyLastUsed knows them).
      expect(awsRow('cloudgoat')).toMatchObject({
        access_key_1_last_used_region: 'us-east-1',
        access_key_1_last_used_service: 'rds',
      });
      expect(row('erin')).toMatchObject({
        access_key_1_active: 'true',
        access_key_1_last_used_region: 'not_supported',
        access_key_1_last_used_service: 'not_supported',
      });
      expect(row('erin').access_key_1_last_used_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: seeded.keys.erin }));
      expect(used.AccessKeyLastUsed).toMatchObject({ ServiceName: 'iam', Region: 'us-east-1' });

      // The report is a live view: alice's key, deleted before run 3, is already gone from it.
      expect(row('alice')).toMatchObject({ access_key_1_active: 'false', access_key_1_last_rotated: 'N/A' });

      // CreateDate with microseconds (AWS: whole seconds, as test/fixtures/iam-xml shows). Python
      // drops a zero fraction, so four keys are looked at: one with microseconds is enough.
      const keys = await Promise.all(
        ['dave', 'erin', 'grace'].map((user) =>
          moto.query('iam', { Action: 'ListAccessKeys', UserName: user, Version: '2010-05-08' }),
        ),
      );
      expect(keys.join('\n')).toMatch(/<CreateDate>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z<\/CreateDate>/);
      const awsKeys = readFileSync(
        path.join(__dirname, '../fixtures/iam-xml/awsdoc_ListAccessKeys_sample_response.xml'),
        'utf8',
      );
      expect(awsKeys).toMatch(/<CreateDate>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/CreateDate>/);
      // The report truncates that CreateDate to its second (the half of the rounding quirk that is
      // moto's; the SDK rounds to the millisecond): erin's key's last_rotated is its stored second.
      expect(row('erin').access_key_1_last_rotated).toBe(
        `${await motoCreateDate(moto, 'erin', seeded.keys.erin)}+00:00`,
      );

      // GetAccountAuthorizationDetails ignores MaxItems: one page of all seven users.
      const details = await iam.send(
        new GetAccountAuthorizationDetailsCommand({ Filter: ['User'], MaxItems: 2 }),
      );
      expect(details.UserDetailList).toHaveLength(7);
      expect(details.IsTruncated).toBe(false);

      // EventBridge: no entry is too few, and an aws. source (reserved for AWS) is accepted.
      expect(await moto.json('events', 'AWSEvents.PutEvents', { Entries: [] })).toEqual({
        FailedEntryCount: 0,
        Entries: [],
      });
      const reserved = await moto.json<{ FailedEntryCount: number }>('events', 'AWSEvents.PutEvents', {
        Entries: [{ Source: 'aws.iam', DetailType: 'x', Detail: '{}' }],
      });
      expect(reserved.FailedEntryCount).toBe(0);
      // Secrets Manager: an unknown secret is a 404 (AWS: 400; the SDK maps both by __type).
      await expect(
        moto.json('secretsmanager', 'secretsmanager.GetSecretValue', { SecretId: 'no-such-secret' }),
      ).rejects.toThrow(/answered 404: .*ResourceNotFoundException/);
    } finally {
      iam.destroy();
    }
  });
});
