import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConfigError } from '../../lambda/core/errors';
import type { Thresholds } from '../../lambda/core/policy';

/** The CloudWatch namespace of the scanner's metrics (Powertools EMF). */
export const METRICS_NAMESPACE = 'Credwatch';
/** The Powertools service name: also the `service` dimension of every metric. */
export const SERVICE_NAME = 'credwatch';

/** The handler the function bundles. */
export const DEFAULT_HANDLER_ENTRY = path.join(__dirname, '../../lambda/handler.ts');

/** The secret that holds the Slack webhook URL, as the scanner needs to read it. */
export interface WebhookSecretRef {
  /** The ARN the function is given (a partial ARN for a secret imported by name). */
  readonly secretArn: string;
  /** The resource ARN an IAM policy grants `secretsmanager:GetSecretValue` on. */
  readonly policyResourceArn: string;
  /** ARN of the customer-managed key that encrypts the secret, when there is one. */
  readonly kmsKeyArn?: string;
}

export interface ScannerFunctionProps {
  /** The validated thresholds, passed to the function as JSON. */
  readonly thresholds: Thresholds;
  /** The table the scanner remembers announced findings in. */
  readonly stateTable: dynamodb.ITable;
  /** The Slack webhook secret. */
  readonly webhookSecret: WebhookSecretRef;
  /** Seconds the scanner waits for IAM's credential report. @default 60 */
  readonly reportDeadlineSeconds?: number;
  /** Hours after which a still-open finding is announced again. @default 24 */
  readonly reminderHours?: number;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default 300 */
  readonly timeoutSeconds?: number;
  /** Retention of the function's log group, in days (a CloudWatch Logs retention value). @default 90 */
  readonly logRetentionDays?: number;
  /** The handler source to bundle. @default DEFAULT_HANDLER_ENTRY (lambda/handler.ts) */
  readonly entry?: string;
}

/**
 * The scanner Lambda: Node 24 on arm64, bundled locally with esbuild as ESM, one concurrent run, its
 * own log group, and a hand-written role that can read IAM credential metadata and its own secret,
 * write its own table, events and logs, and nothing else.
 */
export class ScannerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Every statement of the role's only (inline) policy. */
  readonly statements: readonly iam.PolicyStatement[];

  constructor(scope: Construct, id: string, props: ScannerFunctionProps) {
    super(scope, id);
    const reportDeadlineSeconds = props.reportDeadlineSeconds ?? 60;
    const reminderHours = props.reminderHours ?? 24;
    const memoryMb = props.memoryMb ?? 512;
    const timeoutSeconds = props.timeoutSeconds ?? 300;
    const logRetentionDays = props.logRetentionDays ?? 90;
    const entry = props.entry ?? DEFAULT_HANDLER_ENTRY;

    if (reportDeadlineSeconds >= timeoutSeconds - 30) {
      throw new ConfigError(
        `ScannerFunction: reportDeadlineSeconds must be less than timeoutSeconds - 30 (${timeoutSeconds - 30}), got ${reportDeadlineSeconds}`,
      );
    }
    if (!Object.values(logs.RetentionDays).includes(logRetentionDays) || logRetentionDays === 9999) {
      throw new ConfigError(
        `ScannerFunction: logRetentionDays must be a CloudWatch Logs retention value, got ${logRetentionDays}`,
      );
    }

    const stack = Stack.of(this);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: logRetentionDays as logs.RetentionDays,
    });

    this.statements = [
      new iam.PolicyStatement({
        sid: 'ReadCredentialReportAndUsers',
        actions: [
          'iam:GenerateCredentialReport',
          'iam:GetCredentialReport',
          'iam:GetAccountAuthorizationDetails',
          'iam:ListAccountAliases',
        ],
        // These actions have no resource type: IAM only accepts "*".
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ReadAccessKeys',
        actions: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'],
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' })],
      }),
      new iam.PolicyStatement({
        sid: 'ReadWebhookSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.webhookSecret.policyResourceArn],
      }),
      ...(props.webhookSecret.kmsKeyArn
        ? [
            new iam.PolicyStatement({
              sid: 'DecryptWebhookSecret',
              actions: ['kms:Decrypt'],
              resources: [props.webhookSecret.kmsKeyArn],
              conditions: {
                StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
              },
            }),
          ]
        : []),
      new iam.PolicyStatement({
        sid: 'ReadWriteState',
        // What lambda/adapters/state-store.ts calls: Query to load, conditional PutItem to commit.
        actions: ['dynamodb:Query', 'dynamodb:PutItem'],
        resources: [props.stateTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'PublishChanges',
        actions: ['events:PutEvents'],
        resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
      }),
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's Arn attribute ends in ":*", which covers its log streams.
        resources: [this.logGroup.logGroupArn],
      }),
    ];

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'credwatch scanner: reads IAM credential metadata, its secret; writes its table, events, logs',
      inlinePolicies: { Scanner: new iam.PolicyDocument({ statements: [...this.statements] }) },
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: memoryMb,
      timeout: Duration.seconds(timeoutSeconds),
      reservedConcurrentExecutions: 1,
      // The role is complete as written: nothing (CDK grants included) may add to it unnoticed.
      role: this.role.withoutPolicyUpdates(),
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: 'credwatch: scans IAM credentials and reports changes to Slack',
      environment: {
        CREDWATCH_THRESHOLDS: JSON.stringify(props.thresholds),
        CREDWATCH_REPORT_DEADLINE_SECONDS: String(reportDeadlineSeconds),
        CREDWATCH_REMINDER_HOURS: String(reminderHours),
        CREDWATCH_SLACK_SECRET_ARN: props.webhookSecret.secretArn,
        CREDWATCH_STATE_TABLE: props.stateTable.tableName,
        CREDWATCH_EVENT_BUS_NAME: 'default',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        forceDockerBundling: false,
        // The AWS SDK is bundled, not taken from the runtime: the artifact the integration tests run
        // is exactly what Lambda runs, with the SDK versions the lock file pins.
        externalModules: [],
      },
    });
  }
}
