/**
 * The credwatch stack: the scanner function and its role, the Slack webhook secret, the schedule,
 * the state table, alarms and a dashboard. bin/app.ts builds it from the validated configuration.
 */
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';
import { type AccountsConfig, type CredwatchConfig, knownAccountIds, loadConfig } from './config';
import { ScannerAlarms } from './constructs/alarms';
import { ScannerFunction } from './constructs/scanner-function';
import { ScannerSchedule } from './constructs/scanner-schedule';
import { StateTable } from './constructs/state-table';
import { WebhookSecret } from './constructs/webhook-secret';

export interface CredwatchStackProps extends StackProps {
  /** The deployment configuration (lib/config.ts); validated again here. @default every default of docs/configuration.md */
  readonly config?: CredwatchConfig;
  /** The handler source to bundle. @default lambda/handler.ts */
  readonly handlerEntry?: string;
}

export class CredwatchStack extends Stack {
  readonly config: CredwatchConfig;
  readonly scanner: ScannerFunction;
  readonly webhookSecret: WebhookSecret;
  readonly stateTable: StateTable;
  readonly schedule: ScannerSchedule;
  readonly alarms: ScannerAlarms;

  constructor(scope: Construct, id: string, props: CredwatchStackProps = {}) {
    super(scope, id, props);
    const config = loadConfig(props.config ?? {}, `${id} props.config`);
    this.config = config;

    this.webhookSecret = new WebhookSecret(this, 'WebhookSecret', { source: config.slackSecret });
    this.stateTable = new StateTable(this, 'State');
    this.scanner = new ScannerFunction(this, 'Scanner', {
      thresholds: config.thresholds,
      stateTable: this.stateTable.table,
      webhookSecret: this.webhookSecret.ref,
      reportDeadlineSeconds: config.reportDeadlineSeconds,
      reminderHours: config.reminderHours,
      memoryMb: config.memoryMb,
      timeoutSeconds: config.timeoutSeconds,
      logRetentionDays: config.logRetentionDays,
      accounts: config.accounts,
      ...(props.handlerEntry ? { entry: props.handlerEntry } : {}),
    });
    this.schedule = new ScannerSchedule(this, 'Schedule', {
      target: this.scanner.function,
      expression: config.schedule,
      ...(config.timeZone ? { timeZone: config.timeZone } : {}),
    });
    this.alarms = new ScannerAlarms(this, 'Alarms', {
      function: this.scanner.function,
      timeout: Duration.seconds(config.timeoutSeconds),
      heartbeatMinutes: config.heartbeatMinutes,
      deadLetterQueue: this.schedule.deadLetterQueue,
      alarmEmails: config.alarmEmails,
    });

    new CfnOutput(this, 'WebhookSecretArn', {
      description: 'Put the Slack webhook URL here: aws secretsmanager put-secret-value --secret-id <this>',
      value: this.webhookSecret.ref.secretArn,
    });
    new CfnOutput(this, 'FunctionName', { value: this.scanner.function.functionName });
    new CfnOutput(this, 'LogGroupName', { value: this.scanner.logGroup.logGroupName });
    new CfnOutput(this, 'StateTableName', { value: this.stateTable.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.alarms.dashboard.dashboardName });
    if (config.accounts.source !== 'self') {
      new CfnOutput(this, 'ScannerRoleArn', {
        description: 'The role the member-account roles trust (their ScannerRoleArn parameter)',
        value: this.scanner.role.roleArn,
      });
      new CfnOutput(this, 'MemberRoleParameters', {
        description:
          'The parameters of templates/credwatch-member-role.template.json for this deployment, as a CloudFormation parameters file (docs/organization.md)',
        value: this.toJsonString(memberRoleParameters(this.scanner.role.roleArn, config.accounts)),
      });
    }

    this.acknowledgeNagFindings();
  }

  /** Every cdk-nag finding this stack accepts, each by its exact id, with the reason. */
  private acknowledgeNagFindings(): void {
    const ack = (construct: IConstruct, ...rules: [id: string, reason: string][]) =>
      Validations.of(construct).acknowledge(...rules.map(([id, reason]) => ({ id, reason })));

    const accounts = this.config.accounts;
    const discovers = accounts.source === 'organization';
    // Any account's member role, when the scanned accounts are only known at run time.
    const anyMemberRole = accounts.source !== 'self' && knownAccountIds(accounts) === undefined;
    ack(
      this.scanner.role,
      [
        'AwsSolutions-IAM5[Resource::*]',
        discovers
          ? 'iam:GenerateCredentialReport, iam:GetCredentialReport, iam:GetAccountAuthorizationDetails and organizations:ListAccounts have no resource type; IAM accepts only "*" for them. organizations:ListAccountsForParent and ListOrganizationalUnitsForParent would need the management account and organization ids, unknown at synth. All of them only read.'
          : 'iam:GenerateCredentialReport, iam:GetCredentialReport and iam:GetAccountAuthorizationDetails have no resource type; IAM accepts only "*" for them. All three only read.',
      ],
      [
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]',
        'iam:ListAccessKeys and iam:GetAccessKeyLastUsed must read every IAM user of the account (read-only); the user ARN pattern is the narrowest resource that covers them.',
      ],
      ...(anyMemberRole
        ? [
            [
              `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${accounts.memberRoleName}]`,
              'The scanned accounts are discovered in the organization at run time, so the account of the member role cannot be named; only the one role name is assumable, and each member role trusts only this role (docs/organization.md).',
            ] as [string, string],
          ]
        : []),
      [
        'Serverless-LambdaStarPermissions',
        `The only wildcards are the ones above (AwsSolutions-IAM5): read-only IAM${discovers ? ' and Organizations' : ''} actions that IAM scopes to "*" or to every user${anyMemberRole ? ', and the member role by name in any account' : ''}; every other statement names its resources.`,
      ],
    );
    ack(
      this.scanner.function,
      [
        'Serverless-LambdaTracing',
        'X-Ray tracing would add xray:PutTraceSegments/PutTelemetryRecords on "*" to a role kept to the actions the scan needs; one scheduled function is observed through its EMF metrics, JSON logs and alarms.',
      ],
      [
        'Serverless-LambdaDLQ',
        'Only EventBridge Scheduler invokes the function; a failed run is retried by Lambda, alarmed on (Errors), and redone by the next scheduled run (state advances only after delivery). A Lambda DLQ would need sqs:SendMessage on the role for events that carry nothing but a timestamp.',
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
    if (this.webhookSecret.secret) {
      ack(this.webhookSecret.secret, [
        'AwsSolutions-SMG4',
        'The secret holds a Slack incoming webhook URL that only Slack can issue; it is rotated by hand (docs/deploy.md), a rotation Lambda cannot.',
      ]);
    }
    if (this.config.alarmEmails.length > 0) {
      // Reported per subscription: without alarm e-mails there is nothing to acknowledge.
      ack(this.alarms.topic, [
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
): { ParameterKey: string; ParameterValue: string }[] {
  const p = (ParameterKey: string, ParameterValue: string) => ({ ParameterKey, ParameterValue });
  return [
    p('ScannerRoleArn', scannerRoleArn),
    p('RoleName', accounts.memberRoleName),
    p('ExternalId', accounts.externalId ?? ''),
    p('OrganizationId', accounts.organizationId ?? ''),
  ];
}
