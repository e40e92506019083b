/**
 * The stack as a whole (lib/credwatch-stack.ts): cdk-nag and CDK annotations on every
 * configuration, and the validation that stops a bad configuration before anything is built.
 *
 * Synthesizes the single-account stacks and the multi-account stacks once for this file (test/infra/support.ts).
 */
import { App, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DEFAULT_NOTIFICATION_POLICY } from '../../lambda/core/notification-plan';
import { type AccountsSettings, encodeSettings, type ScannerSettings } from '../../lambda/settings';
import { ConfigError, type CredwatchConfig, loadConfig } from '../../lib/config';
import { ScannerAlarms, type ScannerAlarmsProps } from '../../lib/constructs/alarms';
import {
  accountsSettings,
  ScannerFunction,
  type ScannerFunctionProps,
} from '../../lib/constructs/scanner-function';
import { ScannerSchedule, type ScannerScheduleProps } from '../../lib/constructs/scanner-schedule';
import { CredwatchStack, NOTIFY_NO_ONE } from '../../lib/credwatch-stack';
import {
  ACCOUNT,
  BUNDLING_STACKS,
  customConfig,
  type Json,
  multiAccountStacks,
  REGION,
  singleAccountStacks,
  thrown,
} from './support';

let custom: CredwatchStack;
let imported: CredwatchStack;
let organization: CredwatchStack;
let listed: CredwatchStack;

beforeAll(() => {
  ({ custom, imported } = singleAccountStacks());
  ({ organization, listed } = multiAccountStacks());
}, 180_000);

describe('cdk-nag', () => {
  const stacks = () => ({ Custom: custom, Imported: imported, Organization: organization, Listed: listed });
  type Name = keyof ReturnType<typeof stacks>;
  const NAMES: Name[] = ['Custom', 'Imported', 'Organization', 'Listed'];

  /** Every acknowledgement on a stack's constructs: [finding id, reason]. */
  const acknowledgements = (stack: Stack): [string, unknown][] =>
    stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) => Object.entries(entry.data as Json))
      .map(([id, reason]) => [id.replace(/^annotation::/i, ''), reason]);

  it.each(NAMES)('finds nothing unacknowledged in the %s stack (AwsSolutions, Serverless)', (name) => {
    const stack = stacks()[name];
    const violations = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap(
      (pack) => pack.validateScope(stack).violations,
    );
    expect(
      violations.map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
  });

  it.each(NAMES)(
    'acknowledges in the %s stack only findings the packs really report, each under its exact id',
    (name) => {
      const stack = stacks()[name];
      const acknowledged = new Set(acknowledgements(stack).map(([id]) => id));
      // The same packs with acknowledgements ignored (NagPack's private check, replaced for this test only).
      const reported = new Set(
        [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) => {
          (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
          return pack.validateScope(stack).violations.map((v) => v.ruleName);
        }),
      );
      expect([...acknowledged].filter((id) => !reported.has(id))).toEqual([]);
      expect([...reported].filter((id) => !acknowledged.has(id))).toEqual([]);
    },
  );

  it.each<[Name, boolean]>([
    ['Custom', true],
    ['Imported', true],
    ['Organization', true],
    // No IAM reads of its own and the member role in named accounts only: nothing on "*".
    ['Listed', false],
  ])('acknowledges wildcard resources in the %s stack: %s', (name, wildcards) => {
    const ids = acknowledgements(stacks()[name]).map(([id]) => id);
    expect(ids.includes('AwsSolutions-IAM5[Resource::*]')).toBe(wildcards);
    expect(ids.includes('Serverless-LambdaStarPermissions')).toBe(wildcards);
    expect(
      ids.includes('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]'),
    ).toBe(name === 'Custom' || name === 'Imported');
  });

  it.each<[Name, boolean]>([
    ['Custom', false],
    ['Listed', false],
    ['Organization', true],
  ])(
    'acknowledges assuming the member role in any account in the %s stack: %s',
    (name, acknowledgesAnyAccount) => {
      const ids = acknowledgements(stacks()[name]).map(([id]) => id);
      expect(
        ids.includes('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/credwatch-member]'),
      ).toBe(acknowledgesAnyAccount);
    },
  );

  it('has no CDK warnings or errors on any stack', () => {
    for (const stack of Object.values(stacks())) {
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    }
  });

  it.each(NAMES)('gives every acknowledgement in the %s stack an exact finding id and a reason', (name) => {
    const acks = acknowledgements(stacks()[name]);
    expect(acks.length).toBeGreaterThanOrEqual(6);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/^(?:AwsSolutions|Serverless)-[A-Za-z0-9]+(?:\[[^\]]+\])?$/);
      expect(typeof reason === 'string' ? reason.length : 0).toBeGreaterThan(40);
    }
  });
});

describe('validation', () => {
  it('rejects an invalid configuration before building anything, naming the stack', () => {
    const app = new App();
    const error = thrown(
      () => new CredwatchStack(app, 'Bad', { config: { memoryMb: 64 } as unknown as CredwatchConfig }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Bad props.config: memoryMb: expected a whole number from 128 to 10240, got 64',
    );
    expect(app.node.findChild('Bad').node.children).toEqual([]);
  });

  it('rejects a deployment whose alarms would notify no one, naming where to set it', () => {
    const config = loadConfig({}, 'test');
    const app = new App({ context: { [BUNDLING_STACKS]: [] } });
    const error = thrown(() => new CredwatchStack(app, 'Silent', { config }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`Silent props.config: alarmEmails: ${NOTIFY_NO_ONE}`);
    expect(error.message).not.toContain('\n');
    const named = thrown(
      () => new CredwatchStack(app, 'Named', { config, configSource: () => 'credwatch.config.json' }),
    );
    expect(named.message).toBe(
      'credwatch.config.json: alarmEmails: the alarms would notify no one: set alarmEmails (e.g. ["secops@example.com"]) or alarmTopicArn, or turn alarms off with "alarms": "none" (not recommended: a failing scanner then goes unnoticed)',
    );
  });

  it('rejects an alarm topic in another region than a region-bound stack', () => {
    const app = new App({ context: { [BUNDLING_STACKS]: [] } });
    const config = loadConfig({ alarmTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:ops` }, 'test');
    const error = thrown(
      () => new CredwatchStack(app, 'Elsewhere', { config, env: { account: ACCOUNT, region: REGION } }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      "Elsewhere props.config: alarmTopicArn: expected a topic in the deployment's region eu-west-1, got one in us-east-1",
    );
  });

  const table = () => {
    const stack = new Stack(new App(), 'S');
    return { stack, table: dynamodb.Table.fromTableName(stack, 'T', 'state') };
  };
  const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch-AbC123`;
  /** A scanner in a stack of its own, with these props over a valid minimum. */
  const scanner = (props: Partial<ScannerFunctionProps>) => () => {
    const { stack, table: t } = table();
    return new ScannerFunction(stack, 'F', {
      thresholds: customConfig.thresholds,
      stateTable: t,
      webhookSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'W', SECRET_ARN),
      schedulePeriod: Duration.minutes(10),
      ...props,
    });
  };
  const someFunction = (stack: Stack) =>
    lambda.Function.fromFunctionArn(stack, 'F', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:f`);
  const alarms = (props: Partial<ScannerAlarmsProps>) => () => {
    const stack = new Stack(new App(), 'S');
    return new ScannerAlarms(stack, 'A', {
      function: someFunction(stack),
      timeout: Duration.minutes(5),
      heartbeat: Duration.minutes(10),
      deadLetterQueue: new sqs.Queue(stack, 'Q'),
      ...props,
    });
  };
  const schedule = (props: Partial<ScannerScheduleProps>) => () => {
    const stack = new Stack(new App(), 'S');
    return new ScannerSchedule(stack, 'S', { target: someFunction(stack), ...props });
  };

  it.each<[string, () => unknown, string]>([
    [
      'a scanner whose report deadline leaves no margin',
      scanner({ timeout: Duration.seconds(60), reportDeadline: Duration.seconds(30) }),
      'ScannerFunction: reportDeadline: must be less than timeout - 30 seconds (30 seconds), got 30 seconds',
    ],
    [
      'a scanner with a retention CloudWatch does not offer',
      scanner({ logRetention: 100 as logs.RetentionDays }),
      'ScannerFunction: logRetention: expected a logs.RetentionDays value other than INFINITE, got 100',
    ],
    [
      'a scanner whose logs are kept forever',
      scanner({ logRetention: logs.RetentionDays.INFINITE }),
      'ScannerFunction: logRetention: expected a logs.RetentionDays value other than INFINITE, got 9999',
    ],
    [
      'a scanner whose timeout is not shorter than the schedule period',
      scanner({ schedulePeriod: Duration.minutes(5) }),
      'ScannerFunction: timeout: must be shorter than one schedulePeriod (300 seconds), got 300 seconds',
    ],
    [
      'a schedule period that is not whole minutes',
      scanner({ schedulePeriod: Duration.seconds(630) }),
      'ScannerFunction: schedulePeriod: expected a whole number of minutes, got 630 seconds',
    ],
    [
      'a reminder interval that is not whole hours',
      scanner({ reminderInterval: Duration.minutes(90) }),
      'ScannerFunction: reminderInterval: expected a whole number of hours, got 90 minutes',
    ],
    [
      'a timeout only known at deploy time',
      scanner({ timeout: Duration.seconds(Token.asNumber({ Ref: 'Timeout' })) }),
      'ScannerFunction: timeout: must be known at synth time, got a token',
    ],
    [
      'a memory size Lambda does not offer',
      scanner({ memorySize: Size.mebibytes(64) }),
      'ScannerFunction: memorySize: expected 128 to 10240 MiB, got 64 MiB',
    ],
    [
      'a memory size that is not whole MiB',
      scanner({ memorySize: Size.kibibytes(1536 * 1024 + 512) }),
      'ScannerFunction: memorySize: expected a whole number of MiB, got 1536.5 MiB',
    ],
    [
      'alarms that notify a topic and e-mail addresses',
      alarms({ alarmEmails: ['ops@example.com'], alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ops` }),
      'ScannerAlarms: alarmEmails: not allowed together with alarmTopicArn (subscribe the addresses to that topic)',
    ],
    [
      'a schedule that is not an expression',
      schedule({ schedule: scheduler.ScheduleExpression.expression('hourly') }),
      'ScannerSchedule: schedule: expected a recurring rate(N minutes|hours|days) or cron(...) expression, got "hourly"',
    ],
    [
      'a one-time schedule',
      schedule({ schedule: scheduler.ScheduleExpression.at(new Date('2026-12-01T08:00:00Z')) }),
      'ScannerSchedule: schedule: expected a recurring rate(N minutes|hours|days) or cron(...) expression, got "at(2026-12-01T08:00:00)"',
    ],
    [
      'a schedule period that is not whole minutes',
      schedule({ schedulePeriod: Duration.seconds(90) }),
      'ScannerSchedule: schedulePeriod: expected a whole number of minutes, got 90 seconds',
    ],
    [
      'alarms with a heartbeat CloudWatch cannot watch',
      alarms({ heartbeat: Duration.minutes(5000) }),
      'ScannerAlarms: heartbeat: expected at most 3360 minutes (56 hours), got 5000 minutes',
    ],
    [
      'alarms with a heartbeat of seconds',
      alarms({ heartbeat: Duration.seconds(30) }),
      'ScannerAlarms: heartbeat: expected a whole number of minutes, got 30 seconds',
    ],
  ])('rejects %s with an exact message', (_what, build, message) => {
    const error = thrown(build);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(message);
  });

  it('accepts the props a library user writes: Durations, a Size, a retention, an imported secret and its key', () => {
    const { stack, table: t } = table();
    const key = kms.Key.fromKeyArn(
      stack,
      'K',
      `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    );
    const fn = new ScannerFunction(stack, 'F', {
      thresholds: customConfig.thresholds,
      stateTable: t,
      webhookSecret: secretsmanager.Secret.fromSecretPartialArn(
        stack,
        'W',
        SECRET_ARN.replace(/-AbC123$/, ''),
      ),
      webhookSecretKey: key,
      schedulePeriod: Duration.hours(1),
      timeout: Duration.minutes(10),
      reportDeadline: Duration.minutes(2),
      reminderInterval: Duration.days(2),
      memorySize: Size.gibibytes(1),
      logRetention: logs.RetentionDays.ONE_MONTH,
    });
    expect(fn.settings).toMatchObject({
      reportDeadlineMs: 120_000,
      reminderIntervalMs: 48 * 3_600_000,
      schedulePeriodMs: 3_600_000,
      slackSecretArn: SECRET_ARN.replace(/-AbC123$/, ''),
    });
    const read = fn.statements.find((st) => st.sid === 'ReadWebhookSecret')!;
    expect(read.resources).toEqual([`${SECRET_ARN.replace(/-AbC123$/, '')}-??????`]);
    expect(fn.statements.find((st) => st.sid === 'DecryptWebhookSecret')!.resources).toEqual([key.keyArn]);
  });

  /** The smallest settings value with these accounts. */
  const settingsWith = (accounts: AccountsSettings): ScannerSettings => ({
    thresholds: customConfig.thresholds,
    reportDeadlineMs: 60_000,
    reminderIntervalMs: 3_600_000,
    notifications: DEFAULT_NOTIFICATION_POLICY,
    schedulePeriodMs: 600_000,
    userDirectory: 'authorization-details',
    securityHub: false,
    accounts,
  });

  /** A scanner for `n` listed accounts, in an app that does not bundle. */
  const listedScanner = (n: number) => {
    const stack = new Stack(new App({ context: { [BUNDLING_STACKS]: [] } }), 'S');
    const ids = Array.from({ length: n }, (_, i) => String(100_000_000_000 + i));
    const accounts = loadConfig({ accounts: { source: 'list', ids } }, 'test').accounts;
    const build = () =>
      new ScannerFunction(stack, 'F', {
        thresholds: customConfig.thresholds,
        schedulePeriod: Duration.minutes(10),
        stateTable: dynamodb.Table.fromTableName(stack, 'T', 'state'),
        webhookSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'W', SECRET_ARN),
        accounts,
      });
    return { accounts, build };
  };

  it('rejects more listed accounts than the 4 KB of Lambda environment can carry, saying how large it is', () => {
    const { accounts, build } = listedScanner(300);
    const error = thrown(build);
    expect(error).toBeInstanceOf(ConfigError);
    const m =
      /^ScannerFunction: the environment would take up to (\d+) bytes, more than Lambda's 4096 \(CREDWATCH_ACCOUNTS: (\d+)\); list fewer accounts or per-account thresholds$/.exec(
        error.message,
      );
    expect(m?.[0]).toBe(error.message);
    expect(Number(m?.[1])).toBeGreaterThan(4096);
    expect(Number(m?.[2])).toBe(
      Buffer.byteLength(encodeSettings(settingsWith(accountsSettings(accounts)!)).CREDWATCH_ACCOUNTS!),
    );
  });

  it('accepts 150 listed accounts', () => {
    const { build } = listedScanner(150);
    expect(build().statements.find((st) => st.sid === 'AssumeMemberRoles')?.resources).toHaveLength(150);
  });
});
