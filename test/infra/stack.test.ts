/**
 * The stack as a whole (lib/credwatch-stack.ts): cdk-nag and CDK annotations on every
 * configuration, and the validation that stops a bad configuration before anything is built.
 *
 * Synthesizes the single-account stacks and the multi-account stacks once for this file (test/infra/support.ts).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, type CredwatchConfig, loadConfig } from '../../lib/config';
import { ScannerAlarms } from '../../lib/constructs/alarms';
import { accountsEnvironment, ScannerFunction } from '../../lib/constructs/scanner-function';
import { ScannerSchedule } from '../../lib/constructs/scanner-schedule';
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
  const secretRef = { secretArn: 'arn', policyResourceArn: 'arn' };

  it.each<[string, () => unknown, string]>([
    [
      'a scanner whose report deadline leaves no margin',
      () => {
        const { stack, table: t } = table();
        return new ScannerFunction(stack, 'F', {
          thresholds: customConfig.thresholds,
          stateTable: t,
          webhookSecret: secretRef,
          schedulePeriodMinutes: 10,
          timeoutSeconds: 60,
          reportDeadlineSeconds: 30,
        });
      },
      'ScannerFunction: reportDeadlineSeconds must be less than timeoutSeconds - 30 (30), got 30',
    ],
    [
      'a scanner with a retention CloudWatch does not offer',
      () => {
        const { stack, table: t } = table();
        return new ScannerFunction(stack, 'F', {
          thresholds: customConfig.thresholds,
          stateTable: t,
          webhookSecret: secretRef,
          schedulePeriodMinutes: 10,
          logRetentionDays: 100,
        });
      },
      'ScannerFunction: logRetentionDays must be a CloudWatch Logs retention value, got 100',
    ],
    [
      'a scanner whose timeout is not shorter than the schedule period',
      () => {
        const { stack, table: t } = table();
        return new ScannerFunction(stack, 'F', {
          thresholds: customConfig.thresholds,
          stateTable: t,
          webhookSecret: secretRef,
          schedulePeriodMinutes: 5,
        });
      },
      'ScannerFunction: timeoutSeconds (300) must be shorter than one schedule period (300 seconds)',
    ],
    [
      'alarms that notify a topic and e-mail addresses',
      () => {
        const stack = new Stack(new App(), 'S');
        const fn = lambda.Function.fromFunctionArn(
          stack,
          'F',
          `arn:aws:lambda:${REGION}:${ACCOUNT}:function:f`,
        );
        return new ScannerAlarms(stack, 'A', {
          function: fn,
          timeout: Duration.minutes(5),
          heartbeatMinutes: 10,
          deadLetterQueue: new sqs.Queue(stack, 'Q'),
          alarmEmails: ['ops@example.com'],
          alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ops`,
        });
      },
      'ScannerAlarms: alarmEmails: not allowed together with alarmTopicArn (subscribe the addresses to that topic)',
    ],
    [
      'a schedule that is not an expression',
      () => {
        const stack = new Stack(new App(), 'S');
        const fn = lambda.Function.fromFunctionArn(
          stack,
          'F',
          `arn:aws:lambda:${REGION}:${ACCOUNT}:function:f`,
        );
        return new ScannerSchedule(stack, 'S', { target: fn, expression: 'hourly' });
      },
      'ScannerSchedule: expression: expected rate(N minutes|hours|days) or cron(...), got "hourly"',
    ],
    [
      'alarms with a heartbeat CloudWatch cannot watch',
      () => {
        const stack = new Stack(new App(), 'S');
        const fn = lambda.Function.fromFunctionArn(
          stack,
          'F',
          `arn:aws:lambda:${REGION}:${ACCOUNT}:function:f`,
        );
        return new ScannerAlarms(stack, 'A', {
          function: fn,
          timeout: Duration.minutes(5),
          heartbeatMinutes: 5000,
          deadLetterQueue: new sqs.Queue(stack, 'Q'),
        });
      },
      'ScannerAlarms: heartbeatMinutes: expected a whole number from 1 to 3360, got 5000',
    ],
  ])('rejects %s with an exact message', (_what, build, message) => {
    const error = thrown(build);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(message);
  });

  /** A scanner for `n` listed accounts, in an app that does not bundle. */
  const listedScanner = (n: number) => {
    const stack = new Stack(new App({ context: { [BUNDLING_STACKS]: [] } }), 'S');
    const ids = Array.from({ length: n }, (_, i) => String(100_000_000_000 + i));
    const accounts = loadConfig({ accounts: { source: 'list', ids } }, 'test').accounts;
    const build = () =>
      new ScannerFunction(stack, 'F', {
        thresholds: customConfig.thresholds,
        schedulePeriodMinutes: 10,
        stateTable: dynamodb.Table.fromTableName(stack, 'T', 'state'),
        webhookSecret: {
          secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch-AbC123`,
          policyResourceArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch-AbC123`,
        },
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
    expect(Number(m?.[2])).toBe(Buffer.byteLength(accountsEnvironment(accounts)!));
  });

  it('accepts 150 listed accounts', () => {
    const { build } = listedScanner(150);
    expect(build().statements.find((st) => st.sid === 'AssumeMemberRoles')?.resources).toHaveLength(150);
  });
});
