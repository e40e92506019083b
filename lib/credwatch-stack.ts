/**
 * The credwatch stack: the scanner function and its role, the Slack webhook secret, the schedule,
 * the state table, alarms and a dashboard. bin/app.ts builds it from the validated configuration.
 */

import {
  Arn,
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  Size,
  Stack,
  type StackProps,
  TimeZone,
  Token,
  Validations,
} from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';
import type { UserDirectoryMode } from '../lambda/adapters/iam';
import {
  type AccountsConfig,
  ConfigError,
  type CredwatchConfig,
  enforcementSettings,
  enforces,
  engineOf,
  knownAccountIds,
  loadConfig,
  schedulePeriodMinutes,
} from './config';
import { ScannerAlarms } from './constructs/alarms';
import { ScannerFunction } from './constructs/scanner-function';
import { ScannerSchedule } from './constructs/scanner-schedule';
import {
  createRunBucket,
  ScannerStateMachine,
  STATE_MACHINE_DEFAULTS,
} from './constructs/scanner-state-machine';
import { StateTable } from './constructs/state-table';
import { WebhookSecret } from './constructs/webhook-secret';

export interface CredwatchStackProps extends StackProps {
  /** The deployment configuration (lib/config/); validated again here. @default every default of docs/configuration.md */
  readonly config?: CredwatchConfig;
  /** The handler source to bundle. @default lambda/handler.ts */
  readonly handlerEntry?: string;
  /**
   * Names where a top-level configuration field came from, in the errors the stack finds (e.g.
   * `credwatch.config.json`). @default `${id} props.config`
   */
  readonly configSource?: (field: string) => string;
}

/** Why the deployment would leave its alarms without anyone to notify. */
export const NOTIFY_NO_ONE =
  'the alarms would notify no one: set alarmEmails (e.g. ["secops@example.com"]) or alarmTopicArn, or turn alarms off with "alarms": "none" (not recommended: a failing scanner then goes unnoticed)';

export class CredwatchStack extends Stack {
  readonly config: CredwatchConfig;
  /**
   * The function that scans: the whole run (engine `lambda`), or the map's child that scans a batch
   * of accounts (engine `step-functions`; its role is the one member accounts trust).
   */
  readonly scanner: ScannerFunction;
  /** The Step Functions engine (`accounts.engine`, lib/config/accounts.ts `engineOf`), when it is the one. */
  readonly engine?: ScannerStateMachine;
  readonly webhookSecret: WebhookSecret;
  readonly stateTable: StateTable;
  readonly schedule: ScannerSchedule;
  readonly alarms: ScannerAlarms;

  constructor(scope: Construct, id: string, props: CredwatchStackProps = {}) {
    // No CDK metadata resource: in an environment-agnostic stack its condition lists every region
    // by name, and the template must name none (docs/deploy.md#region).
    super(scope, id, { analyticsReporting: false, ...props });
    const config = loadConfig(props.config ?? {}, `${id} props.config`);
    this.config = config;
    const sourceOf = props.configSource ?? (() => `${id} props.config`);
    // A deployment check, not a loadConfig rule: the CLI loads the same file for its thresholds only.
    if (config.alarms === 'on' && config.alarmEmails.length === 0 && config.alarmTopicArn === undefined) {
      throw new ConfigError(`${sourceOf('alarmEmails')}: alarmEmails: ${NOTIFY_NO_ONE}`);
    }
    if (config.alarmTopicArn !== undefined && !Token.isUnresolved(this.region)) {
      const topicRegion = Arn.split(config.alarmTopicArn, ArnFormat.NO_RESOURCE_NAME).region;
      if (topicRegion !== this.region) {
        throw new ConfigError(
          `${sourceOf('alarmTopicArn')}: alarmTopicArn: expected a topic in the deployment's region ${this.region}, got one in ${topicRegion}`,
        );
      }
    }
    const periodMinutes = schedulePeriodMinutes(config);

    this.webhookSecret = new WebhookSecret(this, 'WebhookSecret', { source: config.slackSecret });
    this.stateTable = new StateTable(this, 'State');
    const scannerProps = scannerPropsOf(config, this.stateTable, this.webhookSecret);
    if (config.accounts.source !== 'self' && engineOf(config.accounts) === 'step-functions') {
      const runBucket = createRunBucket(this, 'RunBucket');
      // The map's child stays where the single-invocation scanner is (construct id `Scanner`): its
      // role, which member accounts trust by name, is the same role when a deployment changes engine,
      // updated in place rather than replaced.
      this.scanner = new ScannerFunction(this, 'Scanner', {
        ...scannerProps,
        step: 'scanBatch',
        runBucket,
        runLease: STATE_MACHINE_DEFAULTS.executionTimeout,
        timeout: STATE_MACHINE_DEFAULTS.batchTimeout,
      });
      this.engine = new ScannerStateMachine(this, 'Engine', {
        ...scannerProps,
        runBucket,
        scanBatch: this.scanner,
        stepTimeout: Duration.seconds(config.timeoutSeconds),
        ...(config.accounts.batchSize !== undefined ? { batchSize: config.accounts.batchSize } : {}),
        ...(config.accounts.mapConcurrency !== undefined
          ? { maxConcurrency: config.accounts.mapConcurrency }
          : {}),
      });
    } else {
      this.scanner = new ScannerFunction(this, 'Scanner', {
        ...scannerProps,
        timeout: Duration.seconds(config.timeoutSeconds),
        reservedConcurrency: config.reservedConcurrency,
        ...(props.handlerEntry ? { entry: props.handlerEntry } : {}),
      });
    }
    /** The function that announces: the whole run's, or the engine's deliver step. */
    const announcer = this.engine?.deliver ?? this.scanner;
    // Only now that the reader's role exists: a created secret denies reading to every other principal.
    this.webhookSecret.restrictReadsTo(announcer.role);
    this.schedule = new ScannerSchedule(this, 'Schedule', {
      target: this.engine?.stateMachine ?? this.scanner.function,
      schedule: scheduler.ScheduleExpression.expression(
        config.schedule,
        TimeZone.of(config.timeZone ?? 'Etc/UTC'),
      ),
      schedulePeriod: Duration.minutes(periodMinutes),
    });
    this.alarms = new ScannerAlarms(this, 'Alarms', {
      function: announcer.function,
      ...(this.engine ? { stateMachine: this.engine.stateMachine } : {}),
      timeout: Duration.seconds(config.timeoutSeconds),
      heartbeat: Duration.minutes(config.heartbeatMinutes),
      deadLetterQueue: this.schedule.deadLetterQueue,
      alarmEmails: config.alarmEmails,
      ...(config.alarmTopicArn !== undefined ? { alarmTopicArn: config.alarmTopicArn } : {}),
      actions: config.alarms === 'on',
      reservedConcurrency: config.reservedConcurrency,
      // The EnforcementFailed alarm, only when some policy deactivates keys.
      enforces: enforces(scannerProps.enforcement),
      schedulePeriod: Duration.minutes(periodMinutes),
    });

    new CfnOutput(this, 'WebhookSecretArn', {
      description: 'Put the Slack webhook URL here: aws secretsmanager put-secret-value --secret-id <this>',
      value: this.webhookSecret.secret.secretArn,
    });
    new CfnOutput(this, 'FunctionName', { value: announcer.function.functionName });
    new CfnOutput(this, 'WebhookReaderRoleArn', {
      description:
        'The only role that reads the webhook secret (name it in the policy of an imported secret)',
      value: announcer.role.roleArn,
    });
    new CfnOutput(this, 'LogGroupName', { value: announcer.logGroup.logGroupName });
    if (this.engine) {
      new CfnOutput(this, 'StateMachineArn', {
        description: 'The scanner state machine: each scheduled run is one execution (docs/organization.md)',
        value: this.engine.stateMachine.stateMachineArn,
      });
    }
    new CfnOutput(this, 'StateTableName', { value: this.stateTable.table.tableName });
    if (this.alarms.topic) new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.alarms.dashboard.dashboardName });
    if (config.accounts.source !== 'self') {
      new CfnOutput(this, 'ScannerRoleArn', {
        description: 'The role the member-account roles trust (their ScannerRoleArn parameter)',
        value: this.scanner.role.roleArn,
      });
      new CfnOutput(this, 'MemberRoleParameters', {
        description:
          'The parameters of templates/credwatch-member-role.template.json for this deployment, as a CloudFormation parameters file (docs/organization.md)',
        value: this.toJsonString(
          memberRoleParameters(this.scanner.role.roleArn, config.accounts, config.userDirectory),
        ),
      });
    }

    this.acknowledgeNagFindings();
  }

  /** Every cdk-nag finding this stack accepts, each by its exact id, with the reason. */
  private acknowledgeNagFindings(): void {
    const ack = (construct: IConstruct, ...rules: [id: string, reason: string][]) =>
      Validations.of(construct).acknowledge(...rules.map(([id, reason]) => ({ id, reason })));

    const accounts = this.config.accounts;
    const self = accounts.source === 'self';
    /** The function that discovers the accounts: the whole run's, or the engine's discover step. */
    const discoverer = this.engine?.discover ?? this.scanner;
    const discovers = discoverer.statements.some((s) => s.sid === 'DiscoverAccounts');
    // Any account's member role, when the scanned accounts are only known at run time.
    const anyMemberRole = !self && knownAccountIds(accounts) === undefined;
    const partition = this.partitionName();
    /** Wildcard findings by role, and what each wildcard is (for Serverless-LambdaStarPermissions). */
    const stars = new Map<ScannerFunction, { findings: [string, string][]; what: string[] }>();
    const star = (fn: ScannerFunction, what: string, ...findings: [string, string][]) => {
      const entry = stars.get(fn) ?? { findings: [], what: [] };
      entry.findings.push(...findings);
      entry.what.push(what);
      stars.set(fn, entry);
    };
    if (self) {
      star(
        this.scanner,
        'read-only IAM actions that IAM scopes to "*" or to every user',
        [
          'AwsSolutions-IAM5[Resource::*]',
          `iam:GenerateCredentialReport, iam:GetCredentialReport, ${this.config.userDirectory === 'list-users' ? 'iam:ListUsers' : 'iam:GetAccountAuthorizationDetails'} and iam:ListAccountAliases have no resource type; IAM accepts only "*" for them. All of them only read.`,
        ],
        [
          `AwsSolutions-IAM5[Resource::arn:${partition}:iam::${this.pseudoName(this.account, 'AccountId')}:user/*]`,
          this.scanner.statements.some((st) => st.sid === 'DeactivateAccessKeys')
            ? 'iam:ListAccessKeys and iam:GetAccessKeyLastUsed must read every IAM user of the account (read-only), and enforcement (mode enforce) deactivates the keys of any user that reaches its deactivation age with iam:UpdateAccessKey (the only IAM write; explicitly denied on users tagged credwatch:protected and on enforcement.protectedUsers); the user ARN pattern is the narrowest resource that covers them.'
            : 'iam:ListAccessKeys and iam:GetAccessKeyLastUsed must read every IAM user of the account (read-only); the user ARN pattern is the narrowest resource that covers them.',
        ],
      );
    } else if (discovers) {
      // A multi-account scanner has no IAM reads of its own (the member roles have them).
      // The reason names exactly the actions of the DiscoverAccounts statement (discoveryActions).
      const discovery = discoverer.statements.find((s) => s.sid === 'DiscoverAccounts')?.actions ?? [];
      const noResourceType = discovery.filter((a) => /:List(Accounts|Roots)$/.test(a));
      const others = discovery.filter((a) => !noResourceType.includes(a));
      star(discoverer, 'read-only Organizations actions that accept only "*"', [
        'AwsSolutions-IAM5[Resource::*]',
        `${noResourceType.length > 0 ? `${noResourceType.join(' and ')} ${noResourceType.length === 1 ? 'has' : 'have'} no resource type; IAM accepts only "*". ` : ''}${others.join(', ')} would need the management account and organization ids, unknown at synth. All ${discovery.length} only read.`,
      ]);
    }
    if (anyMemberRole) {
      star(this.scanner, 'the member role by name in any account', [
        `AwsSolutions-IAM5[Resource::arn:${partition}:iam::*:role/${accounts.memberRoleName}]`,
        `The scanned accounts are discovered in the organization at run time, so the account of the member role cannot be named; only the one role name is assumable${accounts.organizationId ? `, only in accounts of ${accounts.organizationId} (aws:ResourceOrgID)` : ''}, and each member role trusts only this role (docs/organization.md).`,
      ]);
    }
    if (this.engine) {
      const bucket = this.getLogicalId(this.engine.runBucket.node.defaultChild as CfnElement);
      const objects: [ScannerFunction, string][] = [
        [this.engine.discover, 'runs/*/accounts.json'],
        [this.engine.scanBatch, 'runs/*/deltas/*'],
        [this.engine.deliver, 'runs/*'],
      ];
      for (const [fn, key] of objects) {
        star(fn, "the run bucket's objects of any run", [
          `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/${key}]`,
          `The run bucket holds one prefix per execution (runs/<run id>/), unknown at synth; this step ${fn === this.engine.deliver ? 'reads' : 'writes'} only ${key} of that bucket.`,
        ]);
      }
    }
    for (const [fn, { findings, what }] of stars) {
      ack(fn.role, ...findings, [
        'Serverless-LambdaStarPermissions',
        `The only wildcards are the ones above (AwsSolutions-IAM5): ${what.join(', ')}; every other statement names its resources.`,
      ]);
    }
    const lambdaFindings: [string, string][] = [
      [
        'Serverless-LambdaTracing',
        'X-Ray tracing would add xray:PutTraceSegments/PutTelemetryRecords on "*" to a role kept to the actions the scan needs; the scanner is observed through its EMF metrics, JSON logs and alarms.',
      ],
      [
        'Serverless-LambdaDLQ',
        this.engine
          ? 'Only the state machine invokes the step, synchronously: a failure is retried (throttling) or fails the execution, which is alarmed on (ExecutionsFailed) and redone by the next scheduled run. A DLQ serves asynchronous invocations only.'
          : 'Only EventBridge Scheduler invokes the function; a failed run is not retried by Lambda (retryAttempts 0), it is alarmed on (Errors) and redone by the next scheduled run (state advances only after delivery). A Lambda DLQ would need sqs:SendMessage on the role for events that carry nothing but a timestamp.',
      ],
    ];
    if (this.engine) {
      for (const fn of [this.engine.discover, this.engine.scanBatch, this.engine.deliver]) {
        ack(fn.function, ...lambdaFindings);
      }
      this.acknowledgeEngineFindings(this.engine, ack);
    } else {
      ack(this.scanner.function, ...lambdaFindings, [
        'Serverless-LambdaAsyncFailureDestination',
        'The asynchronous invoke config exists to turn retries off (retryAttempts 0, maximumEventAge one schedule period): a failed or expired run carries nothing but its scheduled time, is alarmed on (Errors, Heartbeat) and is redone by the next scheduled run. A failure destination would need a send permission on the role for nothing to replay.',
      ]);
    }
    ack(
      this.schedule.deadLetterQueue,
      [
        'AwsSolutions-SQS3',
        'This queue is itself the dead-letter queue of the EventBridge Scheduler schedule (Scheduler DLQs are not SQS redrive policies, which the rule cannot see).',
      ],
      [
        'Serverless-SQSRedrivePolicy',
        'This queue is itself the dead-letter queue of the schedule; it has no DLQ of its own.',
      ],
    );
    if (this.webhookSecret.created) {
      ack(this.webhookSecret.created, [
        'AwsSolutions-SMG4',
        'The secret holds a Slack incoming webhook URL that only Slack can issue; it is rotated by hand (docs/deploy.md), a rotation Lambda cannot.',
      ]);
    }
    if (this.alarms.ownTopic && this.config.alarmEmails.length > 0) {
      // Reported per subscription: without alarm e-mails there is nothing to acknowledge.
      ack(this.alarms.ownTopic, [
        'Serverless-SNSRedrivePolicy',
        'The only subscriptions are operator e-mail addresses; an undeliverable alarm e-mail has no consumer that a DLQ could serve, and the alarm state stays visible in CloudWatch and on the dashboard.',
      ]);
    }
  }

  /** The state machine engine's findings: its run bucket and the role CDK writes for the state machine. */
  private acknowledgeEngineFindings(
    engine: ScannerStateMachine,
    ack: (construct: IConstruct, ...rules: [id: string, reason: string][]) => void,
  ): void {
    ack(engine.runBucket, [
      'AwsSolutions-S1',
      "The run bucket only hands one execution's account list and per-account results from one step to the next; its objects expire after 7 days, only the three steps and the state machine can read or write them, and every request is in CloudTrail. Server access logs would need a second bucket for nothing anyone reads.",
    ]);
    const id = (c: IConstruct) => this.getLogicalId(c.node.defaultChild as CfnElement);
    const sm = engine.stateMachine;
    const smName = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${id(sm)}"}]}]}`;
    ack(
      sm.role,
      ...[engine.discover, engine.scanBatch, engine.deliver].map((fn): [string, string] => [
        `AwsSolutions-IAM5[Resource::<${id(fn.function)}.Arn>:*]`,
        'CDK grants lambda:InvokeFunction on the step function and its versions (ARN:*); the state machine invokes only its three steps.',
      ]),
      [
        'AwsSolutions-IAM5[Resource::*]',
        'CDK writes two grants on "*" that accept no narrower resource: X-Ray tracing of the state machine (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets; for tracingEnabled) and the CloudWatch Logs delivery of its execution log (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups; for its log group). Neither reads or writes credwatch data.',
      ],
      [
        `AwsSolutions-IAM5[Resource::arn:${this.partitionName()}:s3:::<${id(engine.runBucket)}>/*]`,
        "CDK grants the map's ItemReader s3:GetObject (only) on the run bucket's objects: it reads the run's account list, whose key is known only at run time.",
      ],
    );
    ack(
      sm.node.findChild('DistributedMapPolicy'),
      [
        `AwsSolutions-IAM5[Resource::arn:${this.partitionName()}:states:${this.pseudoName(this.region, 'Region')}:${this.pseudoName(this.account, 'AccountId')}:execution:${smName}:*]`,
        "The Distributed Map's child executions are named at run time; CDK scopes the policy to this state machine's executions.",
      ],
      [
        `AwsSolutions-IAM5[Resource::arn:${this.partitionName()}:states:${this.pseudoName(this.region, 'Region')}:${this.pseudoName(this.account, 'AccountId')}:execution:${smName}/*:*]`,
        "The Distributed Map's map runs are named at run time; CDK scopes the policy to this state machine's map runs.",
      ],
    );
  }

  /** How cdk-nag names a resource: a literal account/partition when the stack has one, else the pseudo parameter. */
  private pseudoName(value: string, name: string): string {
    return Token.isUnresolved(value) ? `<AWS::${name}>` : value;
  }

  private partitionName(): string {
    return this.pseudoName(this.partition, 'Partition');
  }
}

/**
 * What the configuration gives every scanner function, whichever engine: thresholds, durations,
 * sizes, accounts, notifications, the table and the secret. Engine-specific props (timeout, step)
 * are added by the caller.
 */
export function scannerPropsOf(
  config: CredwatchConfig,
  stateTable: StateTable,
  webhookSecret: WebhookSecret,
) {
  return {
    thresholds: config.thresholds,
    stateTable: stateTable.table,
    webhookSecret: webhookSecret.secret,
    ...(webhookSecret.key ? { webhookSecretKey: webhookSecret.key } : {}),
    reportDeadline: Duration.seconds(config.reportDeadlineSeconds),
    reminderInterval: Duration.hours(config.reminderHours),
    memorySize: Size.mebibytes(config.memoryMb),
    // One of LOG_RETENTION_DAYS (lib/config), each the value of a logs.RetentionDays member.
    logRetention: config.logRetentionDays as logs.RetentionDays,
    accounts: config.accounts,
    userDirectory: config.userDirectory,
    schedulePeriod: Duration.minutes(schedulePeriodMinutes(config)),
    securityHub: config.securityHub,
    notifications: config.notifications,
    // Written to the function only when some policy is not off; permissions only for `enforce`.
    enforcement: enforcementSettings(config.enforcement),
  };
}

/** Run the cdk-nag AwsSolutions and Serverless packs on every synth of the app; any unacknowledged finding fails it. */
export function addComplianceChecks(scope: Construct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope), new ServerlessChecks(scope));
}

/**
 * The parameters of the member-role template (lib/member-role-stack.ts) for a deployment, as a
 * CloudFormation parameters file (`[{"ParameterKey": …, "ParameterValue": …}]`).
 */
export function memberRoleParameters(
  scannerRoleArn: string,
  accounts: AccountsConfig,
  userDirectory: UserDirectoryMode = 'authorization-details',
): { ParameterKey: string; ParameterValue: string }[] {
  const p = (ParameterKey: string, ParameterValue: string) => ({ ParameterKey, ParameterValue });
  return [
    p('ScannerRoleArn', scannerRoleArn),
    p('RoleName', accounts.memberRoleName),
    p('ExternalId', accounts.externalId ?? ''),
    p('OrganizationId', accounts.organizationId ?? ''),
    // The member roles must grant what the scanner's mode calls.
    p('UserDirectory', userDirectory),
  ];
}
