/**
 * credwatch as a construct library (docs/library.md): a CDK app of a user's own builds the whole
 * stack, and its building blocks in a stack of the user's, through the package's entry point only:
 * every credwatch import below is `from 'credwatch'`, resolved by the `exports` of package.json
 * (the package's self-reference), as a dependency's would be.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as credwatch from 'credwatch';
import { CredwatchStack, loadConfig, ScannerFunction, ScannerSchedule, StateTable } from 'credwatch';

const ROOT = path.join(__dirname, '../..');
/** No bundling: the bundle is tested in scanner-function.test.ts; here only the constructs count. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

describe('the package entry point', () => {
  it("is lib/index.ts for Node's own resolver (package.json exports)", () => {
    const resolved = execFileSync(process.execPath, ['-p', "require.resolve('credwatch')"], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    expect(resolved).toBe(path.join(ROOT, 'lib', 'index.ts'));
  });

  it.each([
    'CredwatchStack',
    'ScannerFunction',
    'ScannerSchedule',
    'ScannerAlarms',
    'WebhookSecret',
    'StateTable',
    'CredwatchMemberRole',
    'CredwatchMemberRoleStack',
    'MemberRole',
    'loadConfig',
    'addComplianceChecks',
  ])('exports %s', (name) => {
    expect(typeof (credwatch as Record<string, unknown>)[name]).toBe('function');
  });

  it('exports the documented default thresholds', () => {
    expect(credwatch.DEFAULT_THRESHOLDS.accessKeyAge).toEqual({ warningDays: 80, criticalDays: 90 });
  });
});

describe("building blocks in a user's own stack", () => {
  let stack: Stack;
  let template: Template;
  let scanner: ScannerFunction;
  let state: StateTable;
  let webhook: secretsmanager.Secret;

  beforeAll(() => {
    const app = new App({ context: NO_BUNDLING });
    stack = new Stack(app, 'PlatformTeam');
    state = new StateTable(stack, 'CredwatchState', { removalPolicy: RemovalPolicy.DESTROY });
    // The user's own secret (no customer-managed key), given to the scanner by reference.
    webhook = new secretsmanager.Secret(stack, 'SlackWebhook');
    const config = loadConfig(
      { thresholds: { accessKeyAge: { warningDays: 45, criticalDays: 60 } } },
      'user',
    );
    scanner = new ScannerFunction(stack, 'CredwatchScanner', {
      thresholds: config.thresholds,
      stateTable: state.table,
      webhookSecret: webhook,
      schedulePeriod: Duration.hours(1),
    });
    new ScannerSchedule(stack, 'CredwatchSchedule', {
      target: scanner.function,
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)),
      schedulePeriod: Duration.hours(1),
    });
    template = Template.fromStack(stack);
  }, 120_000);

  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

  it('synthesizes the function, its role and log group, the schedule and the table into that stack', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    // The scanner's role and the schedule's.
    template.resourceCountIs('AWS::IAM::Role', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [id(scanner.function), 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
      }),
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(Stack.of(scanner.function)).toBe(stack);
    expect(Stack.of(state.table)).toBe(stack);
  });

  it("gives the function the configured thresholds, the user's table and secret, and the stated defaults", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      MemorySize: 512,
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          CREDWATCH_THRESHOLDS: Match.serializedJson(
            Match.objectLike({ accessKeyAge: { warningDays: 45, criticalDays: 60 } }),
          ),
          CREDWATCH_STATE_TABLE: { Ref: id(state.table) },
          CREDWATCH_SLACK_SECRET_ARN: { Ref: id(webhook) },
          CREDWATCH_REMINDER_HOURS: '24',
          CREDWATCH_REPORT_DEADLINE_SECONDS: '60',
          CREDWATCH_SCHEDULE_PERIOD_MINUTES: '60',
        }),
      },
    });
  });

  it("lets the role read and write the user's table and read the user's secret", () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Sid: 'ReadWebhookSecret',
                Action: 'secretsmanager:GetSecretValue',
                Resource: { Ref: id(webhook) },
              }),
              Match.objectLike({
                Sid: 'ReadWriteState',
                Resource: { 'Fn::GetAtt': [id(state.table), 'Arn'] },
              }),
            ]),
          },
        },
      ],
    });
  });

  it('keeps the removal policy the user chose for the table', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });
});

describe('the whole stack from the library, in a separate app', () => {
  it('synthesizes CredwatchStack with one alarm e-mail and every other default', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new CredwatchStack(app, 'Watch', {
      config: loadConfig({ alarmEmails: ['secops@example.com'] }, 'user'),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(10 minutes)' });
    expect(Object.keys(template.findOutputs('*'))).toEqual(
      expect.arrayContaining(['WebhookSecretArn', 'FunctionName', 'StateTableName', 'AlarmTopicArn']),
    );
  });
});
