/**
 * The scanner Lambda exactly as `cdk synth` bundles it (esbuild, ESM, minified), run in a child Node
 * process with the environment the template gives it and AWS endpoints pointed at local stand-ins.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config';
import type { ScannerStep } from '../../lib/constructs/scanner-function';
import {
  ScannerStateMachine,
  type ScannerStateMachineProps,
} from '../../lib/constructs/scanner-state-machine';
import { StateTable } from '../../lib/constructs/state-table';
import { WebhookSecret } from '../../lib/constructs/webhook-secret';
import { CredwatchStack, scannerPropsOf } from '../../lib/credwatch-stack';
import { type CfnTemplate, definitionOf, type ResolvedDefinition } from './state-machine';

export interface SynthesizedScanner {
  /** Path of the bundled handler (`asset.<hash>/index.mjs` in the cloud assembly). */
  readonly entry: string;
  /** The function's environment in the template; references (secret ARN, table name) left as objects. */
  readonly environment: Readonly<Record<string, unknown>>;
}

/**
 * Synthesizes the stack with its default configuration (and `overrides`, a configuration's fields:
 * docs/configuration.md) and returns the scanner's bundle and environment.
 */
export function synthesizeScanner(overrides: Readonly<Record<string, unknown>> = {}): SynthesizedScanner {
  const outdir = mkdtempSync(join(tmpdir(), 'credwatch-synth-'));
  const app = new App({ outdir });
  // The defaults, with someone to notify (a deployment must have someone: CredwatchStack checks it).
  const config = loadConfig({ alarmEmails: ['ops@example.com'], ...overrides }, 'integration test');
  const stack = new CredwatchStack(app, 'Credwatch', { config });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const functions = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::Lambda::Function' && (r.Properties.Handler as string | undefined) === 'index.handler',
  );
  if (functions.length !== 1) throw new Error(`expected one scanner function, found ${functions.length}`);
  const props = functions[0]!.Properties as {
    Code: { S3Key: string };
    Environment: { Variables: Record<string, unknown> };
  };
  const entry = join(outdir, `asset.${props.Code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
  if (!existsSync(entry)) throw new Error(`the synthesized bundle is missing: ${entry}`);
  return { entry, environment: props.Environment.Variables };
}

/**
 * Every change in its own entry (`notifications` as before baselines and roll-ups): the configuration
 * of the tests that check how each announcement is delivered.
 */
export const ANNOUNCE_EVERYTHING_CONFIG = {
  notifications: { baseline: false, reminders: 'per-finding', maxMessagesPerRun: 1000 },
} as const;

export interface Invocation {
  /** The handler's return value, or undefined when it threw. */
  readonly result?: Record<string, unknown>;
  /** The error message when the handler threw. */
  readonly error?: string;
  /** The error's name when the handler threw (what Lambda reports as its `errorType`). */
  readonly errorName?: string;
  /** Everything the function printed (Powertools JSON logs and EMF metrics). */
  readonly stdout: string;
  readonly stderr: string;
  /** EMF metric values by name, summed over the invocation. */
  readonly metrics: Record<string, number>;
}

/**
 * Runs in the child: fakes the wall clock when asked (a Date whose time runs from the given instant,
 * installed before the bundle loads), builds the handler through the bundle's own `createHandler` with
 * the injected webhook hosts, and invokes it once.
 */
const RUNNER = `
const [entry, event, optionsJson] = process.argv.slice(1);
const options = JSON.parse(optionsJson);
if (options.now !== undefined) {
  const RealDate = Date;
  const offset = options.now - RealDate.now();
  class FakeDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = FakeDate;
}
const built = {
  ...(options.webhookHosts ? { webhookHosts: options.webhookHosts } : {}),
  ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
};
let handler;
if (options.step !== undefined) {
  // A step of the state machine engine: the steps bundle's createSteps, keyed discover/scanBatch/deliver.
  const { createSteps } = await import(entry);
  handler = createSteps(built)[options.step];
  if (typeof handler !== 'function') throw new Error('createSteps() has no step ' + options.step);
} else {
  const { createHandler } = await import(entry);
  handler = createHandler(built);
}
const started = Date.now();
const timeoutMs = options.timeoutMs ?? 300000;
const context = {
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:credwatch-scanner',
  getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
};
try {
  const result = await handler(JSON.parse(event), context);
  process.stdout.write('\\n@@RESULT ' + JSON.stringify(result) + '\\n');
} catch (err) {
  process.stdout.write('\\n@@ERROR ' + JSON.stringify(String(err && err.message)) + '\\n');
  process.stdout.write('\\n@@ERROR_NAME ' + JSON.stringify(String((err && err.name) || 'Error')) + '\\n');
}
`;

export interface InvokeOptions {
  /** The child's wall clock starts at this instant (and runs on). @default the real clock */
  readonly now?: Date;
  /** Hosts the handler may post the webhook to, injected through `createHandler` (e.g. `127.0.0.1:PORT`). */
  readonly webhookHosts?: readonly string[];
  /** The Slack Web API base URL the handler calls (the workspace stand-in), through `createHandler`. */
  readonly slackApiUrl?: string;
  /** The function's timeout: what `context.getRemainingTimeInMillis()` counts down from. @default 300_000 */
  readonly timeoutMs?: number;
  /**
   * Run one step of the steps bundle (lambda/steps.ts, {@link synthesizeStateMachine}) instead of the
   * whole-run handler: the child calls `createSteps({ webhookHosts })[step]` of the bundle. `deliver`
   * is the key in what createSteps returns (the Lambda handler export is `deliverRun`).
   * @default the bundle's `createHandler`
   */
  readonly step?: ScannerStep;
  /** Aborting it kills the child (a task the state machine gave up on); the promise then rejects. */
  readonly signal?: AbortSignal;
}

/** Runs the bundled handler once in a fresh Node process (a cold start), with only the given environment. */
export function invokeBundled(
  entry: string,
  env: Record<string, string>,
  event: unknown,
  options: InvokeOptions = {},
): Promise<Invocation> {
  const childOptions = JSON.stringify({
    ...(options.now ? { now: options.now.getTime() } : {}),
    ...(options.webhookHosts ? { webhookHosts: options.webhookHosts } : {}),
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.step !== undefined ? { step: options.step } : {}),
  });
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--input-type=module',
        '--enable-source-maps',
        '-e',
        RUNNER,
        entry,
        JSON.stringify(event),
        childOptions,
      ],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (err, stdout, stderr) => {
        if (options.signal?.aborted)
          return reject(new Error('the bundled handler was aborted (its task was abandoned)'));
        const result = /^@@RESULT (.*)$/m.exec(stdout)?.[1];
        const error = /^@@ERROR (.*)$/m.exec(stdout)?.[1];
        const errorName = /^@@ERROR_NAME (.*)$/m.exec(stdout)?.[1];
        if (err && !result && !error)
          return reject(new Error(`the bundled handler crashed: ${stderr || err.message}`));
        const metrics: Record<string, number> = {};
        for (const line of stdout.split('\n')) {
          if (!line.includes('"_aws"')) continue;
          const doc = JSON.parse(line) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
          };
          for (const m of doc._aws.CloudWatchMetrics.flatMap((d) => d.Metrics)) {
            const v = doc[m.Name];
            metrics[m.Name] =
              (metrics[m.Name] ?? 0) + (Array.isArray(v) ? v.reduce((a, b) => a + b, 0) : Number(v));
          }
        }
        resolve({
          ...(result ? { result: JSON.parse(result) } : {}),
          ...(error ? { error: JSON.parse(error) } : {}),
          ...(errorName ? { errorName: JSON.parse(errorName) } : {}),
          stdout,
          stderr,
          metrics,
        });
      },
    );
  });
}

/** The local stand-ins a bundled run talks to. */
export interface LocalEndpoints {
  readonly secretName: string;
  readonly tableName: string;
  readonly iam: string;
  readonly dynamodb: string;
  readonly secretsManager: string;
  readonly eventBridge: string;
}

/**
 * The function's environment from the template, its two deploy-time references (the secret, the
 * table) resolved to the stand-ins, and the AWS endpoints pointed at them. Fake keys: nothing here
 * can reach AWS.
 */
export function localEnvironment(scanner: SynthesizedScanner, local: LocalEndpoints): Record<string, string> {
  const env: Record<string, string> = {};
  const references: string[] = [];
  for (const [key, value] of Object.entries(scanner.environment)) {
    if (typeof value === 'string') env[key] = value;
    else references.push(key);
  }
  if (references.sort().join() !== 'CREDWATCH_SLACK_SECRET_ARN,CREDWATCH_STATE_TABLE') {
    throw new Error(`unexpected deploy-time references in the environment: ${references.join(', ')}`);
  }
  return {
    ...env,
    CREDWATCH_SLACK_SECRET_ARN: local.secretName,
    CREDWATCH_STATE_TABLE: local.tableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake',
    AWS_ENDPOINT_URL_IAM: local.iam,
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamodb,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: local.secretsManager,
    AWS_ENDPOINT_URL_EVENTBRIDGE: local.eventBridge,
  };
}

/** One step function of a synthesized {@link ScannerStateMachine}: its bundle, environment and logical id. */
export interface SynthesizedStep extends SynthesizedScanner {
  /** The function's CloudFormation logical id: the key of its handler in `runLocally`'s `handlers`. */
  readonly logicalId: string;
  /** Its Lambda `Timeout`, in seconds. */
  readonly timeoutSeconds: number;
}

export interface SynthesizedStateMachine {
  /** The whole stack's template (for CDK assertions). */
  readonly template: CfnTemplate & {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  /** The state machine's definition, resolved by the harness (test/support/state-machine.ts). */
  readonly machine: ResolvedDefinition;
  /** Each step's function, by the key `createSteps` returns it under. */
  readonly steps: Readonly<Record<ScannerStep, SynthesizedStep>>;
  /** The run bucket's logical id. */
  readonly runBucketLogicalId: string;
  /** The run bucket's name as the resolved definition has it (`definitionOf` turns a bucket's Ref into this). */
  readonly runBucketName: string;
}

const STEP_OF_HANDLER: Record<string, ScannerStep> = {
  'index.discover': 'discover',
  'index.scanBatch': 'scanBatch',
  'index.deliverRun': 'deliver',
};

/**
 * Synthesizes a {@link ScannerStateMachine} with bundling, in a stack of its own with what
 * CredwatchStack gives its scanner (the state table, the webhook secret, the configuration's
 * settings): the configuration's defaults with `accounts.source: "organization"`, plus `overrides`
 * (a configuration's fields, docs/configuration.md) and `props` (the construct's own: batchSize,
 * maxConcurrency, batchTimeout, …). Returns the template, the resolved definition and each step's
 * bundle (`asset.<hash>/index.mjs`) and environment.
 */
export function synthesizeStateMachine(
  overrides: Readonly<Record<string, unknown>> = {},
  props: Partial<
    Pick<
      ScannerStateMachineProps,
      | 'batchSize'
      | 'maxConcurrency'
      | 'batchTimeout'
      | 'stepTimeout'
      | 'executionTimeout'
      | 'deliverMemorySize'
    >
  > = {},
): SynthesizedStateMachine {
  const outdir = mkdtempSync(join(tmpdir(), 'credwatch-synth-sfn-'));
  const app = new App({ outdir });
  const config = loadConfig(
    { alarmEmails: ['ops@example.com'], accounts: { source: 'organization' }, ...overrides },
    'integration test',
  );
  const stack = new Stack(app, 'CredwatchStateMachine', { analyticsReporting: false });
  const webhookSecret = new WebhookSecret(stack, 'WebhookSecret', { source: config.slackSecret });
  const stateTable = new StateTable(stack, 'State');
  const construct = new ScannerStateMachine(stack, 'Scanner', {
    // What CredwatchStack gives its scanner functions.
    ...scannerPropsOf(config, stateTable, webhookSecret),
    ...props,
  });
  const template = app.synth().getStackByName(stack.stackName)
    .template as SynthesizedStateMachine['template'];
  const steps: Partial<Record<ScannerStep, SynthesizedStep>> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const step = STEP_OF_HANDLER[String(resource.Properties.Handler)];
    if (!step) continue;
    if (steps[step])
      throw new Error(`two functions run the ${step} step: ${steps[step].logicalId}, ${logicalId}`);
    const p = resource.Properties as {
      Code: { S3Key: string };
      Timeout: number;
      Environment: { Variables: Record<string, unknown> };
    };
    const entry = join(outdir, `asset.${p.Code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
    if (!existsSync(entry))
      throw new Error(`the synthesized bundle of the ${step} step is missing: ${entry}`);
    steps[step] = { logicalId, entry, environment: p.Environment.Variables, timeoutSeconds: p.Timeout };
  }
  const missing = (['discover', 'scanBatch', 'deliver'] as const).filter((s) => !steps[s]);
  if (missing.length > 0) throw new Error(`no function runs the step(s) ${missing.join(', ')}`);
  const runBucketLogicalId = stack.getLogicalId(construct.runBucket.node.defaultChild as never);
  const machine = definitionOf(
    template,
    stack.getLogicalId(construct.stateMachine.node.defaultChild as never),
  );
  return {
    template,
    machine,
    steps: steps as Record<ScannerStep, SynthesizedStep>,
    runBucketLogicalId,
    runBucketName: runBucketLogicalId.toLowerCase(),
  };
}

/**
 * A step's environment ({@link localEnvironment}) with its third deploy-time reference, the run
 * bucket (a `Ref` to the bucket of the same state machine, checked), resolved to `runBucket`, and S3
 * pointed at `s3` (e.g. moto_server).
 */
export function localStepEnvironment(
  step: SynthesizedStep,
  runBucketLogicalId: string,
  local: LocalEndpoints & { readonly runBucket: string; readonly s3: string },
): Record<string, string> {
  const { CREDWATCH_RUN_BUCKET: bucket, ...rest } = step.environment;
  if (JSON.stringify(bucket) !== JSON.stringify({ Ref: runBucketLogicalId })) {
    throw new Error(
      `CREDWATCH_RUN_BUCKET of ${step.logicalId} is ${JSON.stringify(bucket)}, not the run bucket ${runBucketLogicalId}`,
    );
  }
  return {
    ...localEnvironment({ entry: step.entry, environment: rest }, local),
    CREDWATCH_RUN_BUCKET: local.runBucket,
    AWS_ENDPOINT_URL_S3: local.s3,
  };
}
