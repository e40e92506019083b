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
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
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
  /** Accounts per child execution: fewer children (each costs a state transition) per run. */
  batchSize: 25,
  /** Children at once. */
  maxConcurrency: 10,
  /** A child's Lambda timeout: an Express child lives at most 5 minutes. */
  batchTimeout: Duration.minutes(4),
  /** The whole execution: a first scan of 5,000 accounts fits well within it. */
  executionTimeout: Duration.hours(2),
} as const;

export interface ScannerStateMachineProps
  extends Omit<ScannerFunctionProps, 'step' | 'runBucket' | 'entry' | 'timeout' | 'reservedConcurrency'> {
  /** Accounts per map child (ItemBatcher MaxItemsPerBatch), 1 to 100. @default 25 */
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
    if (batchTimeout.toSeconds() >= 300) {
      throw new ConfigError(
        `ScannerStateMachine: batchTimeout: must be under the 5 minutes an Express child may run, got ${batchTimeout.toSeconds()} seconds`,
      );
    }

    this.runBucket = new s3.Bucket(this, 'RunBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // What one run hands its next step: needed for minutes, kept a week for a look after a failure.
      lifecycleRules: [
        { expiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const stepFunction = (name: 'Discover' | 'ScanBatch' | 'Deliver', extra: Partial<ScannerFunctionProps>) =>
      new ScannerFunction(this, `${name}Function`, {
        ...props,
        runBucket: this.runBucket,
        // A run holds the lease (one at a time) at most as long as its execution may last.
        runLease: props.executionTimeout ?? STATE_MACHINE_DEFAULTS.executionTimeout,
        timeout: props.stepTimeout ?? Duration.minutes(5),
        ...extra,
      });
    this.discover = stepFunction('Discover', { step: 'discover' });
    this.scanBatch = stepFunction('ScanBatch', { step: 'scanBatch', timeout: batchTimeout });
    this.deliver = stepFunction('Deliver', {
      step: 'deliver',
      memorySize: props.deliverMemorySize ?? Size.mebibytes(1024),
    });

    const invoke = (scopeId: string, fn: ScannerFunction, timeout: Duration, payload?: sfn.TaskInput) =>
      new tasks.LambdaInvoke(this, scopeId, {
        lambdaFunction: fn.function,
        ...(payload ? { payload } : {}),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(timeout.plus(Duration.seconds(30))),
      }).addRetry({
        errors: [...LAMBDA_RETRY_ERRORS],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
        jitterStrategy: sfn.JitterType.FULL,
      });

    // The schedule's event, and the execution's name (part of the run id: a re-run is its own run).
    const discover = invoke(
      'Discover accounts',
      this.discover,
      props.stepTimeout ?? Duration.minutes(5),
      sfn.TaskInput.fromObject({
        schedule: sfn.JsonPath.entirePayload,
        execution: sfn.JsonPath.stringAt('$$.Execution.Name'),
      }),
    );
    const deliver = invoke('Deliver', this.deliver, props.stepTimeout ?? Duration.minutes(5));
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
      scanMap.itemProcessor(invoke(`Scan batch (${mapId})`, this.scanBatch, batchTimeout));
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
  }
}
