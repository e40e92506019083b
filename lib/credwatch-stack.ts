/**
 * The credwatch stack: the scanner function and its role, the Slack webhook secret, the schedule,
 * the state table, alarms and a dashboard. bin/app.ts builds it from the validated configuration.
 */

import {
  Arn,
  ArnFormat,
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
  knownAccountIds,
  loadConfig,
  schedulePeriodMinutes,
} from './config';
import { ScannerAlarms } from './constructs/alarms';
import { ScannerFunction } from './constructs/scanner-function';
import { ScannerSchedule } from './constructs/scanner-schedule';
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
  readonly scanner: ScannerFunction;
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
    this.scanner = new ScannerFunction(this, 'Scanner', {
      thresholds: config.thresholds,
      stateTable: this.stateTable.table,
      webhookSecret: this.webhookSecret.secret,
      ...(this.webhookSecret.key ? { webhookSecretKey: this.webhookSecret.key } : {}),
      reportDeadline: Duration.seconds(config.reportDeadlineSeconds),
      reminderInterval: Duration.hours(config.reminderHours),
      memorySize: Size.mebibytes(config.memoryMb),
      timeout: Duration.seconds(config.timeoutSeconds),
      // One of LOG_RETENTION_DAYS (lib/config), each the value of a logs.RetentionDays member.
      logRetention: config.logRetentionDays as logs.RetentionDays,
      accounts: config.accounts,
      userDirectory: config.userDirectory,
      schedulePeriod: Duration.minutes(periodMinutes),
      reservedConcurrency: config.reservedConcurrency,
      securityHub: config.securityHub,
      notifications: config.notifications,
      ...(props.handlerEntry ? { entry: props.handlerEntry } : {}),
    });
    // Only now that the scanner's role exists: a created secret denies reading to every other principal.
    this.webhookSecret.restrictReadsTo(this.scanner.role);
    this.schedule = new ScannerSchedule(this, 'Schedule', {
      target: this.scanner.function,
      schedule: scheduler.ScheduleExpression.expression(
        config.schedule,
        TimeZone.of(config.timeZone ?? 'Etc/UTC'),
      ),
      schedulePeriod: Duration.minutes(periodMinutes),
    });
    this.alarms = new ScannerAlarms(this, 'Alarms', {
      function: this.scanner.function,
      timeout: Duration.seconds(config.timeoutSeconds),
      heartbeat: Duration.minutes(config.heartbeatMinutes),
      deadLetterQueue: this.schedule.deadLetterQueue,
      alarmEmails: config.alarmEmails,
      ...(config.alarmTopicArn !== undefined ? { alarmTopicArn: config.alarmTopicArn } : {}),
      actions: config.alarms === 'on',
      reservedConcurrency: config.reservedConcurrency,
    });

    new CfnOutput(this, 'WebhookSecretArn', {
      description: 'Put the Slack webhook URL here: aws secretsmanager put-secret-value --secret-id <this>',
      value: this.webhookSecret.secret.secretArn,
    });
    new CfnOutput(this, 'FunctionName', { value: this.scanner.function.functionName });
    new CfnOutput(this, 'LogGroupName', { value: this.scanner.logGroup.logGroupName });
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
    const discovers = this.scanner.statements.some((s) => s.sid === 'DiscoverAccounts');
    // Any account's member role, when the scanned accounts are only known at run time.
    const anyMemberRole = !self && knownAccountIds(accounts) === undefined;
    // How cdk-nag names a resource: a literal account/partition when the stack has one, else the pseudo parameter.
    const pseudo = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
    const partition = pseudo(this.partition, 'Partition');
    const starFindings: [string, string][] = [];
    if (self) {
      starFindings.push(
        [
          'AwsSolutions-IAM5[Resource::*]',
          `iam:GenerateCredentialReport, iam:GetCredentialReport, ${this.config.userDirectory === 'list-users' ? 'iam:ListUsers' : 'iam:GetAccountAuthorizationDetails'} and iam:ListAccountAliases have no resource type; IAM accepts only "*" for them. All of them only read.`,
        ],
        [
          `AwsSolutions-IAM5[Resource::arn:${partition}:iam::${pseudo(this.account, 'AccountId')}:user/*]`,
          'iam:ListAccessKeys and iam:GetAccessKeyLastUsed must read every IAM user of the account (read-only); the user ARN pattern is the narrowest resource that covers them.',
        ],
      );
    } else if (discovers) {
      // A multi-account scanner has no IAM reads of its own (the member roles have them).
      // The reason names exactly the actions of the DiscoverAccounts statement (discoveryActions).
      const discovery = this.scanner.statements.find((s) => s.sid === 'DiscoverAccounts')?.actions ?? [];
      const noResourceType = discovery.filter((a) => /:List(Accounts|Roots)$/.test(a));
      const others = discovery.filter((a) => !noResourceType.includes(a));
      starFindings.push([
        'AwsSolutions-IAM5[Resource::*]',
        `${noResourceType.join(' and ')} ${noResourceType.length === 1 ? 'has' : 'have'} no resource type; IAM accepts only "*". ${others.join(', ')} would need the management account and organization ids, unknown at synth. All ${discovery.length} only read.`,
      ]);
    }
    if (anyMemberRole) {
      starFindings.push([
        `AwsSolutions-IAM5[Resource::arn:${partition}:iam::*:role/${accounts.memberRoleName}]`,
        `The scanned accounts are discovered in the organization at run time, so the account of the member role cannot be named; only the one role name is assumable${accounts.organizationId ? `, only in accounts of ${accounts.organizationId} (aws:ResourceOrgID)` : ''}, and each member role trusts only this role (docs/organization.md).`,
      ]);
    }
    if (starFindings.length > 0) {
      const wildcards = [
        ...(self ? ['read-only IAM actions that IAM scopes to "*" or to every user'] : []),
        ...(discovers ? ['read-only Organizations actions that accept only "*"'] : []),
        ...(anyMemberRole ? ['the member role by name in any account'] : []),
      ];
      ack(this.scanner.role, ...starFindings, [
        'Serverless-LambdaStarPermissions',
        `The only wildcards are the ones above (AwsSolutions-IAM5): ${wildcards.join(', ')}; every other statement names its resources.`,
      ]);
    }
    ack(
      this.scanner.function,
      [
        'Serverless-LambdaTracing',
        'X-Ray tracing would add xray:PutTraceSegments/PutTelemetryRecords on "*" to a role kept to the actions the scan needs; one scheduled function is observed through its EMF metrics, JSON logs and alarms.',
      ],
      [
        'Serverless-LambdaDLQ',
        'Only EventBridge Scheduler invokes the function; a failed run is not retried by Lambda (retryAttempts 0), it is alarmed on (Errors) and redone by the next scheduled run (state advances only after delivery). A Lambda DLQ would need sqs:SendMessage on the role for events that carry nothing but a timestamp.',
      ],
      [
        'Serverless-LambdaAsyncFailureDestination',
        'The asynchronous invoke config exists to turn retries off (retryAttempts 0, maximumEventAge one schedule period): a failed or expired run carries nothing but its scheduled time, is alarmed on (Errors, Heartbeat) and is redone by the next scheduled run. A failure destination would need a send permission on the role for nothing to replay.',
      ],
    );
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
