/**
 * The state machine engine (docs/organization.md, "Engines"): an organization of thousands of
 * accounts scanned by an AWS Step Functions Distributed Map instead of one Lambda invocation.
 *
 *   Discover ─ refused? ─> Refused (succeeds: the schedule's event was not accepted; nothing read)
 *      └─ skipped? ─> Skipped (an earlier run still holds the run lease: one run at a time)
 *      └─ accounts inline? ─> ScanInline (map over `$.accounts`) ─┐
 *      └─ else ──────────────> ScanFromBucket (ItemReader: the run bucket's account list) ─┴─> Deliver
 *
 * Each map child (an Express execution) scans a batch of accounts (`scanBatch`, lambda/steps.ts) and
 * writes each account's delta to the run bucket; a child that fails or times out is tolerated (every
 * batch may fail without failing the map), and the deliver step announces its accounts as not
 * scanned. The three steps run the same code as the single-invocation engine, each with a role that
 * has only what the step calls (ScannerFunction `step`).
 */
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  DELIVERY_IN_PROGRESS_ERROR,
  EXECUTION_TIMEOUT_MS,
  EXPRESS_EXECUTION_LIMIT_MS,
  STATE_TABLE_SCHEMA,
} from '../../lambda/contracts';
import { ConfigError } from '../../lambda/core/errors';
import { ScannerFunction, type ScannerFunctionProps } from './scanner-function';

/** Errors a Lambda task is retried on: the service's own, and throttling. */
export const LAMBDA_RETRY_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
] as const;

/** Bounds and defaults of the map (docs/organization.md, "Engines", for the figures behind them). */
export const STATE_MACHINE_DEFAULTS = {
  /**
   * Accounts per child execution: each child costs a state transition of the parent, so 5,000
   * accounts every 10 minutes stay under $20 a month of orchestration from 53 a child on
   * (docs/organization.md, "Engines"); a child of 60 scans well inside its 4 minutes.
   */
  batchSize: 60,
  /** Children at once. */
  maxConcurrency: 10,
  /** A child's Lambda timeout: an Express child lives at most 5 minutes. */
  batchTimeout: Duration.minutes(4),
  /** The discover and deliver functions' timeout: shorter than one schedule period. */
  stepTimeout: Duration.minutes(5),
  /** The whole execution: a first scan of 5,000 accounts fits well within it. */
  executionTimeout: Duration.millis(EXECUTION_TIMEOUT_MS),
} as const;

export interface ScannerStateMachineProps
  extends Omit<ScannerFunctionProps, 'step' | 'runBucket' | 'entry' | 'timeout' | 'reservedConcurrency'> {
  /** Accounts per map child (ItemBatcher MaxItemsPerBatch), 1 to 100. @default 60 */
  readonly batchSize?: number;
  /** Map children at once (MaxConcurrency), 1 to 1000. @default 10 */
  readonly maxConcurrency?: number;
  /** The scanBatch function's timeout: under the 5 minutes of an Express child. @default 4 minutes */
  readonly batchTimeout?: Duration;
  /** The discover and deliver functions' timeout; shorter than one schedule period. @default 5 minutes */
  readonly stepTimeout?: Duration;
  /** The whole execution's timeout. @default 2 hours */
  readonly executionTimeout?: Duration;
  /** The memory of the deliver step (it holds every account's delta). @default Size.mebibytes(1024) */
  readonly deliverMemorySize?: Size;
  /** The run bucket, when made outside ({@link createRunBucket}). @default a bucket of its own */
  readonly runBucket?: s3.Bucket;
  /**
   * The scanBatch step, when made outside (a `ScannerFunction` with `step: 'scanBatch'` on the same
   * run bucket): CredwatchStack keeps it where the single-invocation scanner was, so that the named
   * role member accounts trust stays the same role when a deployment changes engine.
   * @default a step of its own
   */
  readonly scanBatch?: ScannerFunction;
}

/** The run bucket: private, TLS-only, encrypted, every object gone after 7 days. */
export function createRunBucket(scope: Construct, id: string): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    // What one run hands its next step: needed for minutes, kept a week for a look after a failure.
    lifecycleRules: [{ expiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

export class ScannerStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly runBucket: s3.Bucket;
  readonly discover: ScannerFunction;
  readonly scanBatch: ScannerFunction;
  readonly deliver: ScannerFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ScannerStateMachineProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? STATE_MACHINE_DEFAULTS.batchSize;
    const maxConcurrency = props.maxConcurrency ?? STATE_MACHINE_DEFAULTS.maxConcurrency;
    const batchTimeout = props.batchTimeout ?? STATE_MACHINE_DEFAULTS.batchTimeout;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100) {
      throw new ConfigError(
        `ScannerStateMachine: batchSize: expected a whole number from 1 to 100, got ${batchSize}`,
      );
    }
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 1000) {
      throw new ConfigError(
        `ScannerStateMachine: maxConcurrency: expected a whole number from 1 to 1000, got ${maxConcurrency}`,
      );
    }
    if (batchTimeout.toMilliseconds() >= EXPRESS_EXECUTION_LIMIT_MS) {
      throw new ConfigError(
        `ScannerStateMachine: batchTimeout: must be under the 5 minutes an Express child may run, got ${batchTimeout.toSeconds()} seconds`,
      );
    }

    this.runBucket = props.runBucket ?? createRunBucket(this, 'RunBucket');
    if (props.scanBatch && props.scanBatch.settings.runBucket !== this.runBucket.bucketName) {
      throw new ConfigError('ScannerStateMachine: scanBatch: must be a scanBatch step on the same runBucket');
    }

    const stepFunction = (name: 'Discover' | 'ScanBatch' | 'Deliver', extra: Partial<ScannerFunctionProps>) =>
      new ScannerFunction(this, `${name}Function`, {
        ...props,
        runBucket: this.runBucket,
        // A run holds the lease (one at a time) at most as long as its execution may last.
        runLease: props.executionTimeout ?? STATE_MACHINE_DEFAULTS.executionTimeout,
        timeout: props.stepTimeout ?? STATE_MACHINE_DEFAULTS.stepTimeout,
        ...extra,
      });
    this.discover = stepFunction('Discover', { step: 'discover' });
    this.scanBatch =
      props.scanBatch ?? stepFunction('ScanBatch', { step: 'scanBatch', timeout: batchTimeout });
    this.deliver = stepFunction('Deliver', {
      step: 'deliver',
      memorySize: props.deliverMemorySize ?? Size.mebibytes(1024),
    });

    const invoke = (
      scopeId: string,
      fn: ScannerFunction,
      timeout: Duration,
      options: { payload?: sfn.TaskInput; retryOn?: readonly string[]; maxAttempts?: number } = {},
    ) =>
      new tasks.LambdaInvoke(this, scopeId, {
        lambdaFunction: fn.function,
        ...(options.payload ? { payload: options.payload } : {}),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(timeout.plus(Duration.seconds(30))),
      }).addRetry({
        errors: [...(options.retryOn ?? LAMBDA_RETRY_ERRORS)],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: options.maxAttempts ?? 6,
        maxDelay: Duration.seconds(30),
        jitterStrategy: sfn.JitterType.FULL,
      });

    // The schedule's event, and the execution's name (part of the run id: a re-run is its own run).
    const discover = invoke(
      'Discover accounts',
      this.discover,
      props.stepTimeout ?? STATE_MACHINE_DEFAULTS.stepTimeout,
      {
        payload: sfn.TaskInput.fromObject({
          schedule: sfn.JsonPath.entirePayload,
          execution: sfn.JsonPath.stringAt('$$.Execution.Name'),
        }),
      },
    );
    // Deliver posts to Slack: retried only when Lambda refused to start it (throttled), never after
    // an answer was lost, which would post what it posted again.
    const deliver = invoke('Deliver', this.deliver, props.stepTimeout ?? STATE_MACHINE_DEFAULTS.stepTimeout, {
      retryOn: ['Lambda.TooManyRequestsException'],
    });
    // A map or deliver that fails gives the run lease back (deliver does it itself when it can), then
    // fails the execution with the error: the next scheduled run may start at once.
    const failed = new sfn.Fail(this, 'Failed', {
      errorPath: sfn.JsonPath.stringAt('$.failure.Error'),
      causePath: sfn.JsonPath.stringAt('$.failure.Cause'),
    });
    const releaseLease = new tasks.DynamoDeleteItem(this, 'Release the run lease', {
      table: props.stateTable,
      key: {
        [STATE_TABLE_SCHEMA.partitionKey]: tasks.DynamoAttributeValue.fromString(
          STATE_TABLE_SCHEMA.runLease.partitionKey,
        ),
        [STATE_TABLE_SCHEMA.sortKey]: tasks.DynamoAttributeValue.fromString(
          STATE_TABLE_SCHEMA.runLease.sortKey,
        ),
      },
      conditionExpression: 'runId = :run',
      expressionAttributeValues: {
        ':run': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.runId')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    releaseLease.addRetry({
      errors: [
        'DynamoDB.ProvisionedThroughputExceededException',
        'DynamoDB.ThrottlingException',
        'DynamoDB.InternalServerErrorException',
      ],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
    });
    // Held by another run already (or given back): nothing to release. Any other failure to release
    // must not hide the run's own failure either: the lease then ends at its time.
    releaseLease.addCatch(failed, { errors: ['States.ALL'], resultPath: sfn.JsonPath.DISCARD });
    releaseLease.next(failed);
    // An earlier delivery of the run may still be running (a redrive of an execution stopped during
    // its deliver step): the lease stays with it, the execution fails.
    deliver.addCatch(failed, { errors: [DELIVERY_IN_PROGRESS_ERROR], resultPath: '$.failure' });
    deliver.addCatch(releaseLease, { errors: ['States.ALL'], resultPath: '$.failure' });
    const map = (mapId: string, source: { itemsPath: string } | { itemReader: sfn.IItemReader }) => {
      const scanMap = new sfn.DistributedMap(this, mapId, {
        ...source,
        itemBatcher: new sfn.ItemBatcher({
          maxItemsPerBatch: batchSize,
          batchInput: { 'runId.$': '$.runId', 'now.$': '$.now' },
        }),
        maxConcurrency,
        // One bad batch never fails the map: the deliver step announces its accounts as not scanned.
        toleratedFailurePercentage: 100,
        mapExecutionType: sfn.StateMachineType.EXPRESS,
        // The children's answers are small but many; what deliver needs is in the run bucket.
        resultPath: sfn.JsonPath.DISCARD,
      });
      // A child: retried (3 times at most, 2-8 s apart) only when Lambda throttled or failed to start
      // it. Its attempts share the 5 minutes of an Express execution: each is given the child's
      // start, and a batch starts no account's scan near the end of that time (lambda/steps.ts).
      scanMap.itemProcessor(
        invoke(`Scan batch (${mapId})`, this.scanBatch, batchTimeout, {
          maxAttempts: 3,
          payload: sfn.TaskInput.fromObject({
            BatchInput: sfn.JsonPath.objectAt('$.BatchInput'),
            Items: sfn.JsonPath.listAt('$.Items'),
            childStartedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
          }),
        }),
      );
      scanMap.addCatch(releaseLease, { errors: ['States.ALL'], resultPath: '$.failure' });
      return scanMap.next(deliver);
    };
    const inline = map('ScanInline', { itemsPath: '$.accounts' });
    const fromBucket = map('ScanFromBucket', {
      itemReader: new sfn.S3JsonItemReader({
        bucket: this.runBucket,
        key: sfn.JsonPath.stringAt('$.accountsKey'),
      }),
    });
    const definition = discover.next(
      new sfn.Choice(this, 'Accepted?')
        .when(sfn.Condition.isPresent('$.refused'), new sfn.Succeed(this, 'Refused'))
        .when(sfn.Condition.isPresent('$.skipped'), new sfn.Succeed(this, 'Skipped'))
        .when(sfn.Condition.isPresent('$.accountsKey'), fromBucket)
        .otherwise(inline),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.executionTimeout ?? STATE_MACHINE_DEFAULTS.executionTimeout,
      tracingEnabled: true,
      // Every event, without execution data: inputs and outputs carry account ids and findings.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'credwatch: scans the accounts of an organization in batches, then delivers what changed',
    });
    // The map's ItemReader is granted s3:GetObject on the run bucket's objects by CDK (nothing else).
    // CDK grants the lease release dynamodb:DeleteItem on the whole state table: only the lease item.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOnlyTheRunLease',
        effect: iam.Effect.DENY,
        actions: ['dynamodb:DeleteItem'],
        resources: [props.stateTable.tableArn],
        conditions: {
          'ForAnyValue:StringNotEquals': {
            'dynamodb:LeadingKeys': [STATE_TABLE_SCHEMA.runLease.partitionKey],
          },
        },
      }),
    );
  }
}
