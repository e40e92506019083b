/**
 * Runs a synthesized Step Functions state machine locally, on a real Amazon States Language
 * interpreter (`aws-local-stepfunctions` 3.0.0), with its Lambda tasks bound to local functions.
 *
 *   const { definition } = definitionOf(template, 'ScannerStateMachine1234');
 *   expect(validate(definition)).toEqual([]);          // asl-validator 4
 *   const run = await runLocally(definition, { handlers: { ScanFn1234: scanAccount }, input });
 *   // run.status 'SUCCEEDED' + run.output, or 'FAILED' + run.error / run.cause, or 'TIMED_OUT'
 *
 * Lambda tasks. `handlers` is keyed by the function's CloudFormation logical id. `definitionOf`
 * replaces every function ARN by `arn:aws:lambda:us-east-1:123456789012:function:<LogicalId>`, so a
 * Task whose Resource is that ARN (`LambdaInvoke` with `payloadResponseOnly: true`) calls the
 * handler with the state's effective input and returns what it returns; a Task on
 * `arn:aws:states:::lambda:invoke` (the default `LambdaInvoke`) calls it with `Parameters.Payload`
 * and returns the service's envelope `{ ExecutedVersion, Payload, SdkHttpMetadata,
 * SdkResponseMetadata, StatusCode: 200 }`. Payloads and results go through JSON as they do in
 * Lambda (`undefined` becomes `null`). An error thrown by a handler surfaces with its `name` as the
 * ASL error, so `Retry`/`Catch` on `Lambda.TooManyRequestsException` or `AccountScanFailed` match;
 * the cause is the Lambda runtime's JSON `{"errorType","errorMessage","trace"}`, except for names
 * starting with `Lambda.` (errors of the Lambda service, not of the function), whose cause is the
 * plain message. Any other Task resource needs `tasks[stateName]`, or the run is refused.
 *
 * What the interpreter (aws-local-stepfunctions 3.0.0) does:
 * - supported, shown by test/unit/support/state-machine.test.ts: Task with a local handler,
 *   `TimeoutSeconds` (a slower handler fails with `States.Timeout`), Pass (Parameters), Choice,
 *   Fail (Error, Cause), Wait, an inline Map (`ItemProcessor`, `ItemsPath`, `MaxConcurrency`),
 *   `Retry` (ErrorEquals by error name, IntervalSeconds, BackoffRate, MaxAttempts,
 *   MaxDelaySeconds), `Catch` with `ResultPath`, OutputPath, the `$$.Map.Item` context.
 * - supported per its docs and source, not exercised here: Succeed, Parallel, JitterStrategy,
 *   InputPath, ResultSelector, intrinsic functions, the top-level `TimeoutSeconds`.
 * - not supported: a DISTRIBUTED Map runs as an inline Map (`ProcessorConfig` ignored); it ignores
 *   `ItemBatcher` and `ToleratedFailurePercentage` (shown by the last test: children get single
 *   items and one failure fails the map with the child's error), and, by its source
 *   (MapStateAction), `ItemReader`, `ResultWriter`, `ToleratedFailureCount`, every `*Path` variant
 *   of these; also `HeartbeatSeconds`, JSONata, `.sync` / `.waitForTaskToken` integrations (every
 *   Task calls the Lambda API or a local handler), the 256 KiB payload limit. A Task without
 *   TimeoutSeconds times out after 60 s (the service has no default). It needs Node 22's
 *   `Promise.withResolvers` (polyfilled below: this repository runs on Node 20), and it sleeps
 *   for real between retries and in Wait states unless told otherwise (done below).
 *   A Pass state's falsy `Result` (`false`, `0`, `""`) is ignored (it tests `if (Result)`).
 *
 * What this harness adds on top, so tests stay fast and the parts we rely on behave like the service:
 * - Waits: every `Wait` state and every retry pause is 0 ms unless `realWaits: true`. What the
 *   service would have waited is reported in `run.retries[].intervalSeconds`
 *   (IntervalSeconds x BackoffRate^(attempt-1), capped by MaxDelaySeconds, before jitter).
 * - Task timeouts: `timeoutScale` multiplies every Task's and the machine's `TimeoutSeconds`
 *   (0.001 turns 30 s into 30 ms). A Task without TimeoutSeconds gets none (as in the service)
 *   instead of the interpreter's 60 s.
 * - Distributed Map emulation. A Map whose `ItemProcessor.ProcessorConfig.Mode` is `DISTRIBUTED` is
 *   run by the harness, not by the interpreter's Map: the state becomes a Task bound to
 *   `runDistributedMap` below, keeping its InputPath, ResultSelector, ResultPath, OutputPath, Retry,
 *   Catch and Next/End (which the interpreter applies as it does for a Map). Each item or batch
 *   runs as its own child execution of the `ItemProcessor` on the same interpreter. It follows the
 *   service's order ItemReader/ItemsPath -> ItemSelector (with `$$.Map.Item.Index` / `.Value`) ->
 *   ItemBatcher: `MaxItemsPerBatch(Path)`, `MaxInputBytesPerBatch(Path)` and `BatchInput` give each
 *   child `{ BatchInput, Items }`. `MaxConcurrency(Path)` (0 or absent: 10,000) bounds the children
 *   in flight (`run.mapRuns[].peakConcurrency`). Failures are counted in items (a failed batch
 *   fails all its items) against `ToleratedFailureCount(Path)` / `ToleratedFailurePercentage(Path)`
 *   (default 0: any failure fails); over the threshold the state fails with
 *   `States.ExceedToleratedFailureThreshold`, after every child has run. The output is the
 *   children's outputs in item order; a tolerated failed child's slot holds `{ Error, Cause }`
 *   (NOT verified against the service: do not build on it). `ItemReader` needs
 *   `options.itemReader` (there is no S3 here) and `ResultWriter` needs `options.resultWriter`;
 *   without them the run is refused. With a writer the state's output is the service's
 *   `{ MapRunArn, ResultWriterDetails: { Bucket, Key: '<Prefix>/<run id>/manifest.json' } }`.
 *   Child executions are not limited to 5 minutes when `ExecutionType` is EXPRESS. Since the
 *   state runs as a Task, its events say `type: 'Task'`, and a Retry/Catch on `States.TaskFailed`
 *   matches its failures (on a real Map it would not).
 * - Payload limit: a state input or output over 256 KiB (262,144 bytes of JSON) makes the outcome
 *   FAILED with `States.DataLimitExceeded`, as the service does (uncatchable there too). It is
 *   checked from the execution's events once the run is over.
 *
 * Not emulated: a Lambda function's own Timeout (`Sandbox.Timedout`), reserved concurrency,
 * service throttling (throw `Lambda.TooManyRequestsException` from a handler to test it), the
 * 6 MB Lambda payload limit, the 25,000-event history limit.
 */
type LocalModule = typeof import('aws-local-stepfunctions', { with: { 'resolution-mode': 'import' }});
declare namespace Local {
  type StateMachine = InstanceType<LocalModule['StateMachine']>;
  type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
  type StateMachineDefinition = ConstructorParameters<LocalModule['StateMachine']>[0];
}

// aws-local-stepfunctions 3.0.0 declares Node >= 22 and calls Promise.withResolvers (ES2024, Node
// 22). Node 20 lacks it; this is the standard definition, installed only where it is missing.
interface PromiseWithResolversShim {
  withResolvers?: <T>() => {
    promise: Promise<T>;
    resolve: (value: T | PromiseLike<T>) => void;
    reject: (reason?: unknown) => void;
  };
}
const promiseConstructor = Promise as unknown as PromiseWithResolversShim;
if (typeof promiseConstructor.withResolvers !== 'function') {
  promiseConstructor.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// The package is "type": "module" with a CommonJS build; its typings are ESM-only, so its types come
// from an import type with resolution-mode (above) and the CommonJS build is loaded with require.
const local: LocalModule = require('aws-local-stepfunctions');
/** aws-local-stepfunctions itself, for tests that show what it does without this harness. */
export const interpreter: LocalModule = local;

interface AslValidatorError {
  'Error code': string;
  Message: string;
}
type AslValidator = (
  definition: unknown,
  options: { checkPaths: boolean; checkArn: boolean },
) => { isValid: boolean; errors: AslValidatorError[] };
const aslValidator: AslValidator = require('asl-validator');

type EventOf<G> = G extends AsyncGenerator<infer E> ? E : never;
/** An event of the interpreter's execution log (its type is not exported by the package). */
export type EventLog = EventOf<ReturnType<Local.StateMachine['run']>['eventLogs']>;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A batch's payload on the clock its bundled step runs on: the interpreter takes
 * `$$.Execution.StartTime` (the payload's `childStartedAt`) from the wall clock, a test's steps run
 * on a clock of their own (`toClock`: wall epoch ms to that clock's time).
 */
export function childStartOnClock(payload: Json, toClock: (wallMs: number) => Date): Json {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload;
  const at = payload.childStartedAt;
  if (typeof at !== 'string') return payload;
  return { ...payload, childStartedAt: toClock(Date.parse(at)).toISOString() };
}
export type AslState = { Type: string; [field: string]: unknown };
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

export const FAKE_REGION = 'us-east-1';
export const FAKE_ACCOUNT = '123456789012';
export const fakeFunctionArn = (logicalId: string): string =>
  `arn:aws:lambda:${FAKE_REGION}:${FAKE_ACCOUNT}:function:${logicalId}`;

/** The service's limit on a state's input or output, in bytes of JSON. */
export const PAYLOAD_LIMIT_BYTES = 262_144;
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const HARNESS_MAP_RESOURCE = 'arn:aws:states:::credwatch-harness:distributedMap';
/** Under Node's setTimeout ceiling (2^31 - 1 ms); stands for "no timeout". */
const NO_TIMEOUT_SECONDS = 2_000_000;
const DISTRIBUTED_DEFAULT_CONCURRENCY = 10_000;

// ---------------------------------------------------------------------------------------------
// definitionOf: CloudFormation template -> plain ASL
// ---------------------------------------------------------------------------------------------

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
}

export interface ResolvedDefinition {
  /** Logical id of the AWS::StepFunctions::StateMachine resource. */
  logicalId: string;
  definition: AslDefinition;
  /** Logical id of each Lambda function the definition references -> its fake ARN. */
  functionArns: Record<string, string>;
}

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': FAKE_REGION,
  'AWS::AccountId': FAKE_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** ARN (`Fn::GetAtt [X, Arn]`) of the resource types a definition may reference. */
const FAKE_ARNS: Record<string, (logicalId: string) => string> = {
  'AWS::Lambda::Function': fakeFunctionArn,
  'AWS::S3::Bucket': (id) => `arn:aws:s3:::${id.toLowerCase()}`,
  'AWS::DynamoDB::Table': (id) => `arn:aws:dynamodb:${FAKE_REGION}:${FAKE_ACCOUNT}:table/${id}`,
  'AWS::SQS::Queue': (id) => `arn:aws:sqs:${FAKE_REGION}:${FAKE_ACCOUNT}:${id}`,
  'AWS::SNS::Topic': (id) => `arn:aws:sns:${FAKE_REGION}:${FAKE_ACCOUNT}:${id}`,
};
/** What `Ref` returns for those types: a name, except SNS (the topic ARN). */
const FAKE_REFS: Record<string, (logicalId: string) => string> = {
  'AWS::Lambda::Function': (id) => id,
  'AWS::S3::Bucket': (id) => id.toLowerCase(),
  'AWS::DynamoDB::Table': (id) => id,
  'AWS::SQS::Queue': (id) => `https://sqs.${FAKE_REGION}.amazonaws.com/${FAKE_ACCOUNT}/${id}`,
  'AWS::SNS::Topic': (id) => `arn:aws:sns:${FAKE_REGION}:${FAKE_ACCOUNT}:${id}`,
};

/**
 * Finds a state machine in a synthesized template and resolves its DefinitionString (Fn::Join,
 * Fn::GetAtt [X, Arn], Ref to pseudo parameters and to Lambda/S3/DynamoDB/SQS/SNS resources,
 * Fn::Select, Fn::Split, DefinitionSubstitutions) into a plain ASL object. Throws, naming the
 * intrinsic and where it is, for anything else.
 */
export function definitionOf(
  template: CfnTemplate,
  which?: string | ((logicalId: string, resource: CfnResource) => boolean),
): ResolvedDefinition {
  const resources = template.Resources ?? {};
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const names = machines.map(([id]) => id).join(', ') || 'none';
  let chosen: [string, CfnResource][];
  if (typeof which === 'string') chosen = machines.filter(([id]) => id === which);
  else if (which) chosen = machines.filter(([id, r]) => which(id, r));
  else chosen = machines;
  if (chosen.length !== 1) {
    const wanted = typeof which === 'string' ? `"${which}"` : which ? 'matching the predicate' : '';
    throw new Error(
      `definitionOf: expected exactly one AWS::StepFunctions::StateMachine ${wanted}, found ${chosen.length} (state machines in the template: ${names})`,
    );
  }
  const [logicalId, machine] = chosen[0]!;
  const props = machine.Properties ?? {};
  const functionArns: Record<string, string> = {};
  const where = `Resources.${logicalId}.Properties`;
  const resolve = (value: unknown, path: string): unknown => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${path}[${i}]`));
    if (value === null || typeof value !== 'object')
      throw new Error(`definitionOf: unexpected ${value} at ${path}`);
    const keys = Object.keys(value);
    const obj = value as Record<string, unknown>;
    if (keys.length !== 1) return Object.fromEntries(keys.map((k) => [k, resolve(obj[k], `${path}.${k}`)]));
    const key = keys[0]!;
    const arg = obj[key];
    const at = `${path}.${key}`;
    switch (key) {
      case 'Fn::Join': {
        const [sep, parts] = resolve(arg, at) as [string, unknown[]];
        return parts.map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = resolve(arg, at) as [number | string, unknown[]];
        const picked = list[Number(index)];
        if (picked === undefined)
          throw new Error(`definitionOf: Fn::Select index ${index} out of range at ${at}`);
        return picked;
      }
      case 'Fn::Split': {
        const [sep, text] = resolve(arg, at) as [string, string];
        return String(text).split(sep);
      }
      case 'Ref': {
        const name = String(arg);
        const pseudo = PSEUDO_PARAMETERS[name];
        if (pseudo !== undefined) return pseudo;
        const target = resources[name];
        const fake = target && FAKE_REFS[target.Type];
        if (!target || !fake) {
          throw new Error(
            `definitionOf: cannot resolve {"Ref": "${name}"}${target ? ` (a ${target.Type})` : ''} at ${at}`,
          );
        }
        if (target.Type === 'AWS::Lambda::Function') functionArns[name] = fakeFunctionArn(name);
        return fake(name);
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = (Array.isArray(arg) ? arg : String(arg).split('.')) as [string, string];
        const target = resources[id];
        const fake = target && FAKE_ARNS[target.Type];
        if (!target || !fake || attribute !== 'Arn') {
          throw new Error(
            `definitionOf: cannot resolve {"Fn::GetAtt": ["${id}", "${attribute}"]}${target ? ` (a ${target.Type})` : ''} at ${at}`,
          );
        }
        if (target.Type === 'AWS::Lambda::Function') functionArns[id] = fakeFunctionArn(id);
        return fake(id);
      }
      default:
        if (key.startsWith('Fn::') || key === 'Condition') {
          throw new Error(`definitionOf: cannot resolve ${key} at ${at}`);
        }
        return { [key]: resolve(arg, at) };
    }
  };

  let text: string;
  if (props.DefinitionString !== undefined) {
    text = String(resolve(props.DefinitionString, `${where}.DefinitionString`));
  } else if (props.Definition !== undefined) {
    text = JSON.stringify(resolve(props.Definition, `${where}.Definition`));
  } else {
    throw new Error(`definitionOf: ${logicalId} has neither DefinitionString nor Definition`);
  }
  const substitutions = props.DefinitionSubstitutions as Record<string, unknown> | undefined;
  for (const [name, raw] of Object.entries(substitutions ?? {})) {
    const value = String(resolve(raw, `${where}.DefinitionSubstitutions.${name}`));
    text = text.split(`\${${name}}`).join(value);
  }
  let definition: AslDefinition;
  try {
    definition = JSON.parse(text) as AslDefinition;
  } catch (error) {
    throw new Error(
      `definitionOf: the resolved definition of ${logicalId} is not JSON: ${(error as Error).message}`,
    );
  }
  return { logicalId, definition, functionArns };
}

// ---------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------

/** asl-validator 4 (JSON schema, paths, ARNs, transitions); [] when valid. */
export function validate(definition: AslDefinition): string[] {
  // asl-validator writes QueryLanguage into every state it sees: give it a copy.
  const { errors } = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
  return errors.map((e) => `${e['Error code']}: ${e.Message}`);
}

// ---------------------------------------------------------------------------------------------
// runLocally
// ---------------------------------------------------------------------------------------------

export type LambdaHandler = (payload: Json) => unknown;
export type TaskHandler = (input: Json) => unknown;

export interface ItemReaderRequest {
  state: string;
  resource: string;
  readerConfig: Json;
  /** The reader's Parameters, with its paths resolved against the Map's input. */
  parameters: Json;
}
export interface ChildResult {
  index: number;
  input: Json;
  status: 'SUCCEEDED' | 'FAILED';
  output?: Json;
  error?: string;
  cause?: string;
}
export interface ResultWriterRequest {
  state: string;
  resource: string;
  parameters: Json;
  mapRunArn: string;
  results: ChildResult[];
}

export interface RunLocallyOptions {
  /** Lambda functions, by CloudFormation logical id (the function name in the fake ARN). */
  handlers: Record<string, LambdaHandler>;
  input: unknown;
  /** Task states whose Resource is not a Lambda function, by state name. */
  tasks?: Record<string, TaskHandler>;
  /** Multiplies every TimeoutSeconds (Task and machine). Default 1. */
  timeoutScale?: number;
  /** Really wait in Wait states and between retries. Default false: no pause. */
  realWaits?: boolean;
  /** Items of a Map with an ItemReader (there is no S3 here). */
  itemReader?: (request: ItemReaderRequest) => unknown[] | Promise<unknown[]>;
  /** Receives a Map's results when it has a ResultWriter. */
  resultWriter?: (request: ResultWriterRequest) => void | Promise<void>;
  /** Extra Context Object fields ($$). */
  context?: Record<string, unknown>;
}

export interface LambdaInvocation {
  state: string;
  function: string;
  payload: Json;
}
export interface RetryRecord {
  state: string;
  error: string;
  /** 1 for the first retry. */
  attempt: number;
  /** What the service would wait before this retry (before jitter). */
  intervalSeconds: number;
}
export interface MapRunRecord {
  state: string;
  items: number;
  /** Number of child executions (batches, or items when there is no ItemBatcher). */
  children: number;
  childInputs: Json[];
  peakConcurrency: number;
  failedItems: number;
  results: ChildResult[];
}
interface OutcomeBase {
  invocations: LambdaInvocation[];
  retries: RetryRecord[];
  mapRuns: MapRunRecord[];
  /** The interpreter's events of the root execution and of every emulated Map child. */
  events: EventLog[];
}
export type ExecutionOutcome =
  | (OutcomeBase & { status: 'SUCCEEDED'; output: Json })
  | (OutcomeBase & { status: 'FAILED'; error: string; cause: string })
  | (OutcomeBase & { status: 'TIMED_OUT' });

/** An error the interpreter matches by `name`; `retryable`/`catchable` as its own errors have. */
class AslError extends Error {
  constructor(
    name: string,
    message: string,
    private readonly retryable = true,
    private readonly catchable = true,
  ) {
    super(message);
    this.name = name;
  }
  get isRetryable(): boolean {
    return this.retryable;
  }
  get isCatchable(): boolean {
    return this.catchable;
  }
}

const toJson = (value: unknown): Json =>
  value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

function lambdaError(thrown: unknown): AslError {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  const name = error.name || 'Error';
  if (name.startsWith('Lambda.')) return new AslError(name, error.message);
  const envelope = { errorType: name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return new AslError(name, JSON.stringify(envelope));
}

/** The function name in a Lambda ARN, name or partial ARN (`fn`, `fn:alias`, `123:function:fn`). */
function functionNameOf(reference: string): string {
  const parts = reference.split(':');
  const at = parts.indexOf('function');
  return at >= 0 ? (parts[at + 1] ?? reference) : parts[0]!;
}

/** Every States map of a definition, nested Map/Parallel included, with its owner's name. */
function* allStates(
  definition: { States: Record<string, AslState> },
  owner = '',
): Generator<[string, AslState, string]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state, owner];
    const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    if (processor) yield* allStates(processor, name);
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? [])
      yield* allStates(branch, name);
  }
}

const isDistributedMap = (state: AslState): boolean =>
  state.Type === 'Map' &&
  ((state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig?.Mode ??
    'INLINE') === 'DISTRIBUTED';

interface RunContext {
  options: RunLocallyOptions;
  runOptions: Local.RunOptions;
  outcome: OutcomeBase;
  distributed: Map<string, AslState>;
  mapRunCount: number;
  /** Misuses of the harness met during the run (a Lambda without a handler): runLocally throws them. */
  problems: string[];
}

/**
 * Runs the definition on aws-local-stepfunctions with the Lambda tasks bound to `handlers`. Throws
 * before running for an invalid definition, a Task resource it cannot run, JSONata, an
 * ItemReader/ResultWriter without its option; and after running when a Lambda the execution
 * reached has no handler (that task fails with an error no Retry or Catch matches).
 */
export async function runLocally(
  definition: AslDefinition,
  options: RunLocallyOptions,
): Promise<ExecutionOutcome> {
  const errors = validate(definition);
  if (errors.length > 0) throw new Error(`runLocally: invalid definition:\n${errors.join('\n')}`);
  const scale = options.timeoutScale ?? 1;
  const working = structuredClone(definition);
  const outcome: OutcomeBase = { invocations: [], retries: [], mapRuns: [], events: [] };
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const waits: Record<string, number> = {};
  const retryPauses: Record<string, number> = {};
  const runOptions: Local.RunOptions = {
    overrides: {
      taskResourceLocalHandlers: handlers,
      ...(options.realWaits ? {} : { waitTimeOverrides: waits, retryIntervalOverrides: retryPauses }),
    },
    ...(options.context ? { context: options.context } : {}),
  };
  const ctx: RunContext = {
    options,
    runOptions,
    outcome,
    distributed: new Map(),
    mapRunCount: 0,
    problems: [],
  };
  if (working.QueryLanguage === 'JSONata')
    throw new Error('runLocally: JSONata is not supported by the interpreter');
  if (working.TimeoutSeconds !== undefined) working.TimeoutSeconds = Number(working.TimeoutSeconds) * scale;

  // Listed first: the loop rewrites Distributed Maps, which would hide their children from the walk.
  for (const [name, state] of [...allStates(working)]) {
    if (state.QueryLanguage === 'JSONata') {
      throw new Error(`runLocally: state "${name}" uses JSONata, which the interpreter does not support`);
    }
    if (Array.isArray(state.Retry)) retryPauses[name] = 0;
    if (state.Type === 'Wait') waits[name] = 0;
    if (isDistributedMap(state)) {
      if (state.ItemReader && !options.itemReader) {
        throw new Error(
          `runLocally: Map "${name}" reads its items with an ItemReader (${(state.ItemReader as { Resource?: string }).Resource}); the harness has no S3: pass options.itemReader`,
        );
      }
      if (state.ResultWriter && !options.resultWriter) {
        throw new Error(
          `runLocally: Map "${name}" has a ResultWriter (${(state.ResultWriter as { Resource?: string }).Resource}); the harness has no S3: pass options.resultWriter`,
        );
      }
      ctx.distributed.set(name, { ...state });
      for (const field of Object.keys(state)) {
        if (
          ![
            'Type',
            'Comment',
            'InputPath',
            'ResultSelector',
            'ResultPath',
            'OutputPath',
            'Retry',
            'Catch',
            'Next',
            'End',
          ].includes(field)
        ) {
          delete state[field];
        }
      }
      state.Type = 'Task';
      state.Resource = HARNESS_MAP_RESOURCE;
      state.TimeoutSeconds = NO_TIMEOUT_SECONDS;
      handlers[name] = (input) => runDistributedMap(ctx, name, input);
      continue;
    }
    if (state.Type !== 'Task') continue;
    if (state.TimeoutSeconds !== undefined) state.TimeoutSeconds = Number(state.TimeoutSeconds) * scale;
    else if (state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = NO_TIMEOUT_SECONDS;
    const resource = String(state.Resource);
    if (options.tasks?.[name]) {
      const task = options.tasks[name];
      handlers[name] = async (input) => toJson(await task(input));
    } else if (resource === LAMBDA_INVOKE) {
      const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
      const reference = parameters.FunctionName;
      if (typeof reference !== 'string') {
        throw new Error(
          `runLocally: state "${name}" calls lambda:invoke with a FunctionName that is not a string`,
        );
      }
      handlers[name] = async (input) => {
        const params = input as { FunctionName: string; Payload?: Json };
        const fn = functionNameOf(params.FunctionName);
        const payload = await invokeHandler(ctx, name, fn, params.Payload ?? {});
        return {
          ExecutedVersion: '$LATEST',
          Payload: payload,
          SdkHttpMetadata: { HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: `local-${outcome.invocations.length}` },
          StatusCode: 200,
        };
      };
    } else if (resource.startsWith('arn:aws:lambda:')) {
      const fn = functionNameOf(resource);
      handlers[name] = (input) => invokeHandler(ctx, name, fn, input);
    } else {
      throw new Error(
        `runLocally: state "${name}" calls ${resource}, which the harness cannot run: pass options.tasks["${name}"]`,
      );
    }
  }

  const machine = new local.StateMachine(working as unknown as Local.StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  const execution = machine.run(toJson(options.input), runOptions);
  const collecting = collect(execution.eventLogs, outcome.events);
  let settled: ExecutionOutcome;
  try {
    const output = await execution.result;
    settled = { ...outcome, status: 'SUCCEEDED', output };
  } catch (error) {
    if (error instanceof local.ExecutionTimeoutError) settled = { ...outcome, status: 'TIMED_OUT' };
    else {
      const cause = (error as Error).cause as Error | undefined;
      if (!(error instanceof local.ExecutionError) || !cause) throw error;
      settled = { ...outcome, status: 'FAILED', error: cause.name, cause: cause.message };
    }
  }
  await collecting;
  if (ctx.problems.length > 0) throw new Error([...new Set(ctx.problems)].join('\n'));
  recordRetries(outcome.events, outcome.retries);
  const oversized = outcome.events.find(
    (e) =>
      (e.type === 'StateEntered' || e.type === 'StateExited') &&
      jsonBytes(e.type === 'StateExited' ? e.state.output : e.state.input) > PAYLOAD_LIMIT_BYTES,
  );
  if (oversized && 'state' in oversized) {
    const which = oversized.type === 'StateEntered' ? 'input to' : 'output of';
    const bytes = jsonBytes(
      oversized.type === 'StateExited' ? oversized.state.output : oversized.state.input,
    );
    return {
      ...outcome,
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause: `The state/task '${oversized.state.name}' returned a result with a size exceeding the maximum number of bytes service limit: the ${which} it is ${bytes} bytes, over ${PAYLOAD_LIMIT_BYTES}.`,
    };
  }
  return { ...settled, ...outcome };
}

async function invokeHandler(ctx: RunContext, state: string, fn: string, payload: Json): Promise<Json> {
  const handler = ctx.options.handlers[fn];
  if (!handler) {
    const known = Object.keys(ctx.options.handlers).join(', ') || 'none';
    const problem = `runLocally: no handler for Lambda function "${fn}" (state "${state}"); handlers given: ${known}`;
    ctx.problems.push(problem);
    // Neither retried nor caught, so the execution stops here; runLocally then throws `problem`.
    throw new AslError('States.Runtime', problem, false, false);
  }
  const event = toJson(payload);
  ctx.outcome.invocations.push({ state, function: fn, payload: event });
  let result: unknown;
  try {
    result = await handler(structuredClone(event));
  } catch (error) {
    throw lambdaError(error);
  }
  return toJson(result);
}

async function collect(events: AsyncGenerator<EventLog>, into: EventLog[]): Promise<void> {
  for await (const event of events) into.push(event);
}

function recordRetries(events: EventLog[], into: RetryRecord[]): void {
  const lastError = new Map<string, string>();
  for (const event of events) {
    if (event.type === 'StateFailed') lastError.set(event.state.name, event.Error);
    if (event.type !== 'StateRetried') continue;
    const { retrier, attempt } = event.retry;
    const raw = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (attempt - 1);
    const intervalSeconds =
      retrier.MaxDelaySeconds !== undefined ? Math.min(raw, retrier.MaxDelaySeconds) : raw;
    into.push({
      state: event.state.name,
      error: lastError.get(event.state.name) ?? '',
      attempt,
      intervalSeconds,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Distributed Map emulation
// ---------------------------------------------------------------------------------------------

/** Evaluates ASL fields (InputPath or Parameters) with the real interpreter, on a one-state machine. */
async function evaluate(
  fields: { InputPath?: string; Parameters?: unknown },
  input: Json,
  context?: Record<string, unknown>,
): Promise<Json> {
  const machine = new local.StateMachine(
    {
      StartAt: 'Evaluate',
      States: { Evaluate: { Type: 'Pass', ...fields, End: true } },
    } as unknown as Local.StateMachineDefinition,
    { validationOptions: { noValidate: true } },
  );
  try {
    return await machine.run(input, context ? { context } : {}).result;
  } catch (error) {
    const cause = (error as Error).cause;
    throw cause instanceof Error ? cause : error;
  }
}

async function numberField(state: AslState, field: string, input: Json): Promise<number | undefined> {
  if (state[field] !== undefined) return Number(state[field]);
  const path = state[`${field}Path`];
  if (path === undefined) return undefined;
  const value = await evaluate({ InputPath: String(path) }, input);
  if (typeof value !== 'number') {
    throw new AslError(
      'States.Runtime',
      `${field}Path ${path} evaluated to ${JSON.stringify(value)}, not a number`,
      false,
      false,
    );
  }
  return value;
}

async function runDistributedMap(ctx: RunContext, name: string, input: Json): Promise<Json> {
  const state = ctx.distributed.get(name)!;
  const runId = `run-${++ctx.mapRunCount}`;
  const mapRunArn = `arn:aws:states:${FAKE_REGION}:${FAKE_ACCOUNT}:mapRun:local/${name}:${runId}`;
  const executionInput = toJson(ctx.options.input);

  // 1. items: ItemReader or ItemsPath
  let items: Json;
  const reader = state.ItemReader as
    | { Resource: string; ReaderConfig?: Json; Parameters?: unknown }
    | undefined;
  if (reader) {
    const parameters = reader.Parameters ? await evaluate({ Parameters: reader.Parameters }, input) : {};
    const read = await ctx.options.itemReader!({
      state: name,
      resource: reader.Resource,
      readerConfig: reader.ReaderConfig ?? {},
      parameters,
    });
    const maxItems = (reader.ReaderConfig as { MaxItems?: number } | undefined)?.MaxItems;
    items = toJson(maxItems ? read.slice(0, maxItems) : read);
  } else {
    items = await evaluate({ InputPath: String(state.ItemsPath ?? '$') }, input);
  }
  if (!Array.isArray(items)) {
    throw new AslError(
      'States.Runtime',
      `Map "${name}": the items are not an array: ${JSON.stringify(items)}`,
      false,
      false,
    );
  }

  // 2. ItemSelector, per item
  const selector = state.ItemSelector ?? state.Parameters;
  const selected: Json[] = [];
  for (const [index, value] of items.entries()) {
    selected.push(
      selector
        ? await evaluate({ Parameters: selector }, input, {
            Execution: { Input: executionInput },
            Map: { Item: { Index: index, Value: value } },
          })
        : value,
    );
  }

  // 3. ItemBatcher
  const batcher = state.ItemBatcher as AslState | undefined;
  const childInputs: Json[] = [];
  const itemCounts: number[] = [];
  if (batcher) {
    const maxItems = (await numberField(batcher, 'MaxItemsPerBatch', input)) || Number.POSITIVE_INFINITY;
    const maxBytes = (await numberField(batcher, 'MaxInputBytesPerBatch', input)) || PAYLOAD_LIMIT_BYTES;
    const batchInput =
      batcher.BatchInput !== undefined
        ? await evaluate({ Parameters: batcher.BatchInput }, input)
        : undefined;
    const wrap = (batch: Json[]): Json =>
      batchInput === undefined ? { Items: batch } : { BatchInput: batchInput, Items: batch };
    let batch: Json[] = [];
    for (const item of selected) {
      if (batch.length > 0 && (batch.length >= maxItems || jsonBytes(wrap([...batch, item])) > maxBytes)) {
        childInputs.push(wrap(batch));
        itemCounts.push(batch.length);
        batch = [];
      }
      batch.push(item);
    }
    if (batch.length > 0) {
      childInputs.push(wrap(batch));
      itemCounts.push(batch.length);
    }
  } else {
    childInputs.push(...selected);
    itemCounts.push(...selected.map(() => 1));
  }

  // 4. children, at most MaxConcurrency at once
  const concurrency = (await numberField(state, 'MaxConcurrency', input)) || DISTRIBUTED_DEFAULT_CONCURRENCY;
  const processor = state.ItemProcessor as AslDefinition;
  const child = new local.StateMachine(processor as unknown as Local.StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  const results: ChildResult[] = new Array(childInputs.length);
  const record: MapRunRecord = {
    state: name,
    items: selected.length,
    children: childInputs.length,
    childInputs,
    peakConcurrency: 0,
    failedItems: 0,
    results,
  };
  ctx.outcome.mapRuns.push(record);
  let next = 0;
  let inFlight = 0;
  const worker = async (): Promise<void> => {
    while (next < childInputs.length) {
      const index = next++;
      const childInput = childInputs[index]!;
      inFlight++;
      record.peakConcurrency = Math.max(record.peakConcurrency, inFlight);
      const execution = child.run(childInput, ctx.runOptions);
      const collecting = collect(execution.eventLogs, ctx.outcome.events);
      try {
        results[index] = { index, input: childInput, status: 'SUCCEEDED', output: await execution.result };
      } catch (error) {
        const cause = ((error as Error).cause as Error | undefined) ?? (error as Error);
        results[index] = {
          index,
          input: childInput,
          status: 'FAILED',
          error: cause.name,
          cause: cause.message,
        };
        record.failedItems += itemCounts[index]!;
      } finally {
        inFlight--;
      }
      await collecting;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, childInputs.length) }, worker));

  // 5. tolerated failures
  const toleratedCount = await numberField(state, 'ToleratedFailureCount', input);
  const toleratedPercentage = await numberField(state, 'ToleratedFailurePercentage', input);
  const failed = record.failedItems;
  const percentage = selected.length === 0 ? 0 : (failed / selected.length) * 100;
  const exceeded =
    toleratedCount === undefined && toleratedPercentage === undefined
      ? failed > 0
      : (toleratedCount !== undefined && failed > toleratedCount) ||
        (toleratedPercentage !== undefined && percentage > toleratedPercentage);
  if (exceeded) {
    throw new AslError(
      'States.ExceedToleratedFailureThreshold',
      `The specified tolerated failure threshold was exceeded: ${failed} of ${selected.length} items failed (Map "${name}")`,
    );
  }

  // 6. output: inline, or ResultWriter
  const writer = state.ResultWriter as { Resource: string; Parameters?: unknown } | undefined;
  if (writer) {
    const parameters = writer.Parameters ? await evaluate({ Parameters: writer.Parameters }, input) : {};
    await ctx.options.resultWriter!({
      state: name,
      resource: writer.Resource,
      parameters,
      mapRunArn,
      results,
    });
    const { Bucket, Prefix } = parameters as { Bucket?: string; Prefix?: string };
    const key = `${Prefix ? `${String(Prefix).replace(/\/$/, '')}/` : ''}${runId}/manifest.json`;
    return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: Bucket ?? null, Key: key } };
  }
  return results.map((r) => (r.status === 'SUCCEEDED' ? r.output! : { Error: r.error!, Cause: r.cause! }));
}
