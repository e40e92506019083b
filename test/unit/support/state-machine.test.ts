/**
 * The local Step Functions harness (test/support/state-machine.ts) on state machines synthesized
 * here with CDK, and what the interpreter under it (aws-local-stepfunctions) does and does not do.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  type AslDefinition,
  type CfnTemplate,
  definitionOf,
  type ExecutionOutcome,
  fakeFunctionArn,
  interpreter,
  type Json,
  PAYLOAD_LIMIT_BYTES,
  runLocally,
  validate,
} from '../../support/state-machine';

function fn(scope: Construct, id: string): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => null;'),
  });
}
const logicalId = (stack: Stack, construct: Construct): string =>
  stack.getLogicalId((construct.node.defaultChild ?? construct) as lambda.CfnFunction);

/**
 * Pipeline: Discover (payloadResponseOnly) -> Each (Distributed Map over $.accounts, batches of 2,
 * concurrency 2, 50 % tolerated) whose child is Scan (default LambdaInvoke, Retry on throttling,
 * 30 s timeout, Catch AccountDenied into $.failure) -> Deliver. Each's threshold error is caught
 * into MapFailed (a Fail state).
 */
class Pipeline extends Construct {
  readonly machine: sfn.StateMachine;
  readonly fns: Record<'discover' | 'scan' | 'deliver', lambda.Function>;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.fns = { discover: fn(this, 'DiscoverFn'), scan: fn(this, 'ScanFn'), deliver: fn(this, 'DeliverFn') };
    const discover = new tasks.LambdaInvoke(this, 'Discover', {
      lambdaFunction: this.fns.discover,
      payloadResponseOnly: true,
    });
    const scan = new tasks.LambdaInvoke(this, 'Scan', {
      lambdaFunction: this.fns.scan,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
    });
    scan.addRetry({
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(2),
      backoffRate: 3,
      maxAttempts: 2,
    });
    scan.addCatch(new sfn.Pass(this, 'Denied'), { errors: ['AccountDenied'], resultPath: '$.failure' });
    const each = new sfn.DistributedMap(this, 'Each', {
      itemsPath: '$.accounts',
      itemSelector: {
        'accountId.$': '$$.Map.Item.Value',
        'position.$': '$$.Map.Item.Index',
      },
      itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: 2, batchInput: { 'runId.$': '$.runId' } }),
      maxConcurrency: 2,
      toleratedFailurePercentage: 50,
      resultPath: '$.results',
    });
    each.itemProcessor(scan);
    each.addCatch(
      new sfn.Fail(this, 'MapFailed', { error: 'ScanFailed', cause: 'too many accounts failed' }),
      {
        errors: ['States.ExceedToleratedFailureThreshold'],
      },
    );
    const deliver = new tasks.LambdaInvoke(this, 'Deliver', {
      lambdaFunction: this.fns.deliver,
      payloadResponseOnly: true,
    });
    this.machine = new sfn.StateMachine(this, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(discover.next(each).next(deliver)),
    });
  }
}

/** Basics: Wait 1 h -> Choice on $.mode -> Slow (2 s timeout) | Flaky (Retry) | Inline Map | Fail | Pass. */
class Basics extends Construct {
  readonly machine: sfn.StateMachine;
  readonly fns: Record<'slow' | 'flaky' | 'square', lambda.Function>;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.fns = { slow: fn(this, 'SlowFn'), flaky: fn(this, 'FlakyFn'), square: fn(this, 'SquareFn') };
    const slow = new tasks.LambdaInvoke(this, 'Slow', {
      lambdaFunction: this.fns.slow,
      payloadResponseOnly: true,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(2)),
    });
    const flaky = new tasks.LambdaInvoke(this, 'Flaky', {
      lambdaFunction: this.fns.flaky,
      outputPath: '$.Payload',
    });
    flaky.addRetry({
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(1),
      backoffRate: 2,
      maxAttempts: 3,
      maxDelay: Duration.seconds(3),
    });
    const inline = new sfn.Map(this, 'Inline', {
      itemsPath: '$.numbers',
      maxConcurrency: 1,
      resultPath: '$.squares',
    });
    inline.itemProcessor(
      new tasks.LambdaInvoke(this, 'Square', { lambdaFunction: this.fns.square, payloadResponseOnly: true }),
    );
    const route = new sfn.Choice(this, 'Route')
      .when(sfn.Condition.stringEquals('$.mode', 'slow'), slow)
      .when(sfn.Condition.stringEquals('$.mode', 'flaky'), flaky)
      .when(sfn.Condition.stringEquals('$.mode', 'inline'), inline)
      .when(
        sfn.Condition.stringEquals('$.mode', 'fail'),
        new sfn.Fail(this, 'Refused', { error: 'Refused', cause: 'mode is fail' }),
      )
      .otherwise(new sfn.Pass(this, 'Echo', { parameters: { 'echoed.$': '$.mode', constant: 42 } }));
    const pause = new sfn.Wait(this, 'Pause', { time: sfn.WaitTime.duration(Duration.hours(1)) });
    this.machine = new sfn.StateMachine(this, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(pause.next(route)),
    });
  }
}

/** FromS3: a Distributed Map reading accounts.json from a bucket and writing its results there. */
class FromS3 extends Construct {
  readonly machine: sfn.StateMachine;
  readonly bucket: s3.Bucket;
  readonly scanFn: lambda.Function;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Items');
    this.scanFn = fn(this, 'S3ScanFn');
    const map = new sfn.DistributedMap(this, 'EachObject', {
      itemReader: new sfn.S3JsonItemReader({ bucket: this.bucket, key: 'accounts.json' }),
      resultWriterV2: new sfn.ResultWriterV2({ bucket: this.bucket, prefix: 'results' }),
    });
    map.itemProcessor(
      new tasks.LambdaInvoke(this, 'ScanObject', { lambdaFunction: this.scanFn, payloadResponseOnly: true }),
    );
    this.machine = new sfn.StateMachine(this, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(map),
    });
  }
}

// Without this feature flag (absent from cdk.json), CDK renders no ResultWriter at all for
// `resultWriterV2`: see the test 'resultWriterV2 needs a feature flag'.
const RESULT_WRITER_V2 = '@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2';
const app = new App({ context: { [RESULT_WRITER_V2]: true } });
const stack = new Stack(app, 'HarnessTest', { env: { account: '999999999999', region: 'eu-west-1' } });
const pipeline = new Pipeline(stack, 'Pipeline');
const basics = new Basics(stack, 'Basics');
const fromS3 = new FromS3(stack, 'FromS3');
const template = Template.fromStack(stack).toJSON() as CfnTemplate;
const idOf = (construct: Construct) => logicalId(stack, construct);

const pipelineDef = definitionOf(template, idOf(pipeline.machine));
const basicsDef = definitionOf(template, idOf(basics.machine));
const s3Def = definitionOf(template, idOf(fromS3.machine));
const ids = {
  discover: idOf(pipeline.fns.discover),
  scan: idOf(pipeline.fns.scan),
  deliver: idOf(pipeline.fns.deliver),
  slow: idOf(basics.fns.slow),
  flaky: idOf(basics.fns.flaky),
  square: idOf(basics.fns.square),
  s3Scan: idOf(fromS3.scanFn),
};

type States = Record<string, Record<string, unknown>>;
const statesOf = (definition: AslDefinition): States => definition.States as unknown as States;
const childStates = (definition: AslDefinition, map: string): States =>
  (statesOf(definition)[map]!.ItemProcessor as { States: States }).States;

function assertFailed(run: ExecutionOutcome): asserts run is Extract<ExecutionOutcome, { status: 'FAILED' }> {
  if (run.status !== 'FAILED') throw new Error(`expected FAILED, got ${run.status}: ${JSON.stringify(run)}`);
}
function assertSucceeded(
  run: ExecutionOutcome,
): asserts run is Extract<ExecutionOutcome, { status: 'SUCCEEDED' }> {
  if (run.status !== 'SUCCEEDED') throw new Error(`expected SUCCEEDED, got ${JSON.stringify(run)}`);
}
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

/** Pipeline handlers: Discover lists 5 accounts; Scan returns its batch's ids; Deliver echoes. */
function pipelineHandlers(scan: (batch: { BatchInput: Json; Items: { accountId: string }[] }) => unknown) {
  return {
    [ids.discover]: () => ({ runId: 'r1', accounts: ['111', '222', '333', '444', '555'] }),
    [ids.scan]: (payload: Json) => scan(payload as never),
    [ids.deliver]: (payload: Json) => ({ delivered: payload }),
  };
}

describe('definitionOf', () => {
  test('resolves the DefinitionString to plain ASL with stable fake Lambda ARNs', () => {
    const { definition, functionArns, logicalId: id } = pipelineDef;
    expect(id).toBe(idOf(pipeline.machine));
    expect(JSON.stringify(definition)).not.toMatch(/Fn::|"Ref"|\$\{Token/);
    expect(functionArns).toEqual({
      [ids.discover]: fakeFunctionArn(ids.discover),
      [ids.scan]: fakeFunctionArn(ids.scan),
      [ids.deliver]: fakeFunctionArn(ids.deliver),
    });
    expect(statesOf(definition).Discover!.Resource).toBe(
      `arn:aws:lambda:us-east-1:123456789012:function:${ids.discover}`,
    );
    const scan = childStates(definition, 'Each').Scan!;
    expect(scan.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(scan.Parameters).toEqual({ FunctionName: fakeFunctionArn(ids.scan), 'Payload.$': '$' });
  });

  test('resolves a Ref to a bucket to a stable fake bucket name', () => {
    const reader = statesOf(s3Def.definition).EachObject!.ItemReader as { Parameters: Json };
    expect(reader.Parameters).toEqual({ Bucket: idOf(fromS3.bucket).toLowerCase(), Key: 'accounts.json' });
  });

  test('refuses an intrinsic it cannot resolve, naming it and where it is', () => {
    const broken: CfnTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString: { 'Fn::Join': ['', ['{"a":"', { 'Fn::ImportValue': 'x' }, '"}']] },
          },
        },
        Role: { Type: 'AWS::IAM::Role' },
      },
    };
    expect(() => definitionOf(broken, 'Machine')).toThrow(
      'definitionOf: cannot resolve Fn::ImportValue at Resources.Machine.Properties.DefinitionString.Fn::Join[1][1].Fn::ImportValue',
    );
    const roleArn = structuredClone(broken);
    roleArn.Resources!.Machine!.Properties = { DefinitionString: { 'Fn::GetAtt': ['Role', 'Arn'] } };
    expect(() => definitionOf(roleArn, 'Machine')).toThrow(
      'definitionOf: cannot resolve {"Fn::GetAtt": ["Role", "Arn"]} (a AWS::IAM::Role) at Resources.Machine.Properties.DefinitionString.Fn::GetAtt',
    );
  });

  test('refuses an ambiguous or unknown selection, listing the state machines', () => {
    expect(() => definitionOf(template)).toThrow(
      /found 3 \(state machines in the template: .*Pipeline.*Basics.*FromS3/,
    );
    expect(() => definitionOf(template, 'Nope')).toThrow(
      /exactly one AWS::StepFunctions::StateMachine "Nope", found 0/,
    );
    expect(definitionOf(template, (id) => id.startsWith('Basics')).logicalId).toBe(basicsDef.logicalId);
  });
});

describe('validate (asl-validator)', () => {
  test('accepts the synthesized definitions, Distributed Map fields included', () => {
    expect(validate(pipelineDef.definition)).toEqual([]);
    expect(validate(basicsDef.definition)).toEqual([]);
    expect(validate(s3Def.definition)).toEqual([]);
  });

  test('reports a transition to a missing state, and leaves the definition untouched', () => {
    const broken = structuredClone(basicsDef.definition);
    (statesOf(broken).Pause as { Next: string }).Next = 'Nowhere';
    const before = JSON.stringify(broken);
    expect(validate(broken).join('\n')).toMatch(/Nowhere/);
    expect(JSON.stringify(broken)).toBe(before);
  });
});

describe('runLocally: tasks, Choice, Pass, Fail, Wait, Retry, timeouts', () => {
  test('Pass and Choice; the one-hour Wait is skipped', async () => {
    const run = await runLocally(basicsDef.definition, { handlers: {}, input: { mode: 'other' } });
    assertSucceeded(run);
    expect(run.output).toEqual({ echoed: 'other', constant: 42 });
  });

  test('Fail ends the execution with its Error and Cause', async () => {
    const run = await runLocally(basicsDef.definition, { handlers: {}, input: { mode: 'fail' } });
    assertFailed(run);
    expect([run.error, run.cause]).toEqual(['Refused', 'mode is fail']);
  });

  test('a handler slower than TimeoutSeconds fails with States.Timeout; timeoutScale shortens it', async () => {
    const slowBy = (ms: number) => async () => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return 'done';
    };
    // 2 s x 0.01 = 20 ms: a 200 ms handler times out ...
    const late = await runLocally(basicsDef.definition, {
      handlers: { [ids.slow]: slowBy(200) },
      input: { mode: 'slow' },
      timeoutScale: 0.01,
    });
    assertFailed(late);
    expect(late.error).toBe('States.Timeout');
    // ... and a 1 ms one does not.
    const onTime = await runLocally(basicsDef.definition, {
      handlers: { [ids.slow]: slowBy(1) },
      input: { mode: 'slow' },
      timeoutScale: 0.01,
    });
    assertSucceeded(onTime);
    expect(onTime.output).toBe('done');
  });

  test('Retry on a thrown Lambda.TooManyRequestsException, with the backoff the service would wait', async () => {
    let calls = 0;
    const run = await runLocally(basicsDef.definition, {
      handlers: {
        [ids.flaky]: () => {
          calls++;
          if (calls <= 3) throw named('Lambda.TooManyRequestsException', 'Rate Exceeded.');
          return { calls };
        },
      },
      input: { mode: 'flaky' },
    });
    assertSucceeded(run);
    expect(run.output).toEqual({ calls: 4 }); // OutputPath $.Payload unwraps the lambda:invoke envelope
    // IntervalSeconds 1, BackoffRate 2, MaxDelaySeconds 3: 1, 2, 4 capped to 3
    expect(run.retries).toEqual(
      [1, 2, 3].map((attempt) => ({
        state: 'Flaky',
        error: 'Lambda.TooManyRequestsException',
        attempt,
        intervalSeconds: Math.min(2 ** (attempt - 1), 3),
      })),
    );
  });

  test('once MaxAttempts is spent the handler error fails the execution by its name', async () => {
    const throttled = await runLocally(basicsDef.definition, {
      handlers: {
        [ids.flaky]: () => {
          throw named('Lambda.TooManyRequestsException', 'Rate Exceeded.');
        },
      },
      input: { mode: 'flaky' },
    });
    assertFailed(throttled);
    expect([throttled.error, throttled.cause]).toEqual(['Lambda.TooManyRequestsException', 'Rate Exceeded.']);
    expect(throttled.invocations).toHaveLength(4);

    class AccountScanFailed extends Error {
      override name = 'AccountScanFailed';
    }
    const custom = await runLocally(basicsDef.definition, {
      handlers: {
        [ids.flaky]: () => {
          throw new AccountScanFailed('account 111 denied');
        },
      },
      input: { mode: 'flaky' },
    });
    assertFailed(custom);
    expect(custom.error).toBe('AccountScanFailed');
    expect(JSON.parse(custom.cause)).toMatchObject({
      errorType: 'AccountScanFailed',
      errorMessage: 'account 111 denied',
    });
    expect(custom.invocations).toHaveLength(1); // not retried: only throttling is
  });

  test('an inline Map runs natively, MaxConcurrency included', async () => {
    let inFlight = 0;
    let peak = 0;
    const run = await runLocally(basicsDef.definition, {
      handlers: {
        [ids.square]: async (n) => {
          peak = Math.max(peak, ++inFlight);
          await tick();
          inFlight--;
          return (n as number) ** 2;
        },
      },
      input: { mode: 'inline', numbers: [1, 2, 3] },
    });
    assertSucceeded(run);
    expect(run.output).toEqual({ mode: 'inline', numbers: [1, 2, 3], squares: [1, 4, 9] });
    expect(peak).toBe(1);
  });
});

describe('runLocally: Distributed Map (emulated by the harness)', () => {
  test('batches, BatchInput, MaxConcurrency and the lambda:invoke Payload envelope', async () => {
    let inFlight = 0;
    let peak = 0;
    const run = await runLocally(pipelineDef.definition, {
      handlers: pipelineHandlers(async (batch) => {
        peak = Math.max(peak, ++inFlight);
        await tick();
        inFlight--;
        return { runId: batch.BatchInput, scanned: batch.Items.map((i) => i.accountId) };
      }),
      input: {},
    });
    assertSucceeded(run);
    const [map] = run.mapRuns;
    expect(map).toMatchObject({ state: 'Each', items: 5, children: 3, peakConcurrency: 2, failedItems: 0 });
    expect(map!.childInputs[0]).toEqual({
      BatchInput: { runId: 'r1' },
      Items: [
        { accountId: '111', position: 0 },
        { accountId: '222', position: 1 },
      ],
    });
    expect(peak).toBe(2);
    const delivered = (run.output as { delivered: { results: Json[] } }).delivered;
    expect(delivered.results).toHaveLength(3);
    expect(delivered.results[2]).toEqual({
      ExecutedVersion: '$LATEST',
      Payload: { runId: { runId: 'r1' }, scanned: ['555'] },
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: expect.stringMatching(/^local-/) },
      StatusCode: 200,
    });
    expect(run.invocations.map((i) => i.function)).toEqual([
      ids.discover,
      ids.scan,
      ids.scan,
      ids.scan,
      ids.deliver,
    ]);
  });

  test('Catch with ResultPath inside the child keeps the batch and adds the error', async () => {
    const run = await runLocally(pipelineDef.definition, {
      handlers: pipelineHandlers((batch) => {
        if (batch.Items.some((i) => i.accountId === '333'))
          throw named('AccountDenied', 'AssumeRole denied for 333');
        return 'ok';
      }),
      input: {},
    });
    assertSucceeded(run);
    const denied = run.mapRuns[0]!.results[1]!;
    expect(denied.status).toBe('SUCCEEDED');
    const output = denied.output as { Items: Json[]; failure: { Error: string; Cause: string } };
    expect(output.Items).toHaveLength(2);
    expect(output.failure.Error).toBe('AccountDenied');
    expect(JSON.parse(output.failure.Cause).errorMessage).toBe('AssumeRole denied for 333');
  });

  test('failures within ToleratedFailurePercentage do not fail the map; a failed batch counts all its items', async () => {
    const run = await runLocally(pipelineDef.definition, {
      handlers: pipelineHandlers((batch) => {
        if (batch.Items[0]!.accountId === '111') throw named('Boom', 'scan crashed');
        return 'ok';
      }),
      input: {},
    });
    assertSucceeded(run);
    expect(run.mapRuns[0]).toMatchObject({ failedItems: 2, items: 5 }); // 40 % <= 50 %
    expect(run.mapRuns[0]!.results.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED', 'SUCCEEDED']);
    const results = (run.output as { delivered: { results: Json[] } }).delivered.results;
    expect(results[0]).toMatchObject({ Error: 'Boom' });
  });

  test('beyond the threshold the map fails with States.ExceedToleratedFailureThreshold (caught here)', async () => {
    const run = await runLocally(pipelineDef.definition, {
      handlers: pipelineHandlers((batch) => {
        if (batch.Items[0]!.accountId !== '555') throw named('Boom', 'scan crashed');
        return 'ok';
      }),
      input: {},
    });
    assertFailed(run);
    expect(run.mapRuns[0]).toMatchObject({ failedItems: 4, items: 5 }); // 80 % > 50 %
    // Each's Catch on the threshold error leads to MapFailed, a Fail state.
    expect([run.error, run.cause]).toEqual(['ScanFailed', 'too many accounts failed']);
    expect(run.events.some((e) => e.type === 'StateCaught' && e.state.name === 'Each')).toBe(true);
  });

  test('ToleratedFailureCount and MaxInputBytesPerBatch, on a hand-edited definition', async () => {
    const definition = structuredClone(pipelineDef.definition);
    const each = statesOf(definition).Each!;
    delete each.ToleratedFailurePercentage;
    each.ToleratedFailureCount = 1;
    // {"BatchInput":{"runId":"r1"},"Items":[{"accountId":"111","position":0}]} is 72 bytes; two items 105
    each.ItemBatcher = { MaxInputBytesPerBatch: 100, BatchInput: { 'runId.$': '$.runId' } };
    const failOn = (ids: string[]) =>
      runLocally(definition, {
        handlers: pipelineHandlers((batch) => {
          if (batch.Items.some((i) => ids.includes(i.accountId))) throw named('Boom', 'scan crashed');
          return 'ok';
        }),
        input: {},
      });
    const one = await failOn(['222']);
    assertSucceeded(one);
    expect(one.mapRuns[0]).toMatchObject({ items: 5, children: 5, failedItems: 1 });
    const two = await failOn(['222', '444']);
    assertFailed(two);
    expect(two.error).toBe('ScanFailed'); // the threshold error, caught into MapFailed
    expect(two.mapRuns[0]).toMatchObject({ failedItems: 2 });
  });

  test('an empty item list runs no child', async () => {
    const run = await runLocally(pipelineDef.definition, {
      handlers: { ...pipelineHandlers(() => 'never'), [ids.discover]: () => ({ runId: 'r1', accounts: [] }) },
      input: {},
    });
    assertSucceeded(run);
    expect(run.mapRuns[0]).toMatchObject({ items: 0, children: 0 });
    expect(run.output).toEqual({ delivered: { runId: 'r1', accounts: [], results: [] } });
  });

  test('ItemReader and ResultWriter are refused without a local stand-in for S3', async () => {
    await expect(
      runLocally(s3Def.definition, { handlers: { [ids.s3Scan]: () => 1 }, input: {} }),
    ).rejects.toThrow(
      'runLocally: Map "EachObject" reads its items with an ItemReader (arn:aws:states:::s3:getObject); the harness has no S3: pass options.itemReader',
    );
    await expect(
      runLocally(s3Def.definition, { handlers: { [ids.s3Scan]: () => 1 }, input: {}, itemReader: () => [] }),
    ).rejects.toThrow(/Map "EachObject" has a ResultWriter \(arn:aws:states:::s3:putObject\)/);
  });

  test('resultWriterV2 needs a feature flag, or CDK silently drops the ResultWriter', () => {
    const bare = new Stack(new App(), 'NoFlag');
    const s3Machine = new FromS3(bare, 'FromS3').machine;
    const { definition } = definitionOf(
      Template.fromStack(bare).toJSON() as CfnTemplate,
      logicalId(bare, s3Machine),
    );
    expect(statesOf(definition).EachObject!.ResultWriter).toBeUndefined();
    expect(statesOf(s3Def.definition).EachObject!.ResultWriter).toMatchObject({
      Resource: 'arn:aws:states:::s3:putObject',
    });
  });

  test('with itemReader and resultWriter the map reads and writes through them', async () => {
    const bucket = idOf(fromS3.bucket).toLowerCase();
    const written: Json[] = [];
    const run = await runLocally(s3Def.definition, {
      handlers: { [ids.s3Scan]: (item) => ({ scanned: item }) },
      input: {},
      itemReader: (request) => {
        expect(request.parameters).toEqual({ Bucket: bucket, Key: 'accounts.json' });
        return ['111', '222'];
      },
      resultWriter: (request) => {
        written.push(...request.results.map((r) => r.output!));
      },
    });
    assertSucceeded(run);
    expect(written).toEqual([{ scanned: '111' }, { scanned: '222' }]);
    expect(run.output).toEqual({
      MapRunArn: expect.stringContaining(':mapRun:'),
      ResultWriterDetails: { Bucket: bucket, Key: expect.stringMatching(/^results\/run-1\/manifest\.json$/) },
    });
  });
});

describe('runLocally: refusals and limits', () => {
  test('reaching a Lambda without a handler makes runLocally throw, naming the function and the state', async () => {
    await expect(runLocally(pipelineDef.definition, { handlers: {}, input: {} })).rejects.toThrow(
      `runLocally: no handler for Lambda function "${ids.discover}" (state "Discover"); handlers given: none`,
    );
  });

  test('a Task resource that is not Lambda needs tasks[state]', async () => {
    const definition: AslDefinition = {
      StartAt: 'Put',
      States: {
        Put: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:putItem',
          Parameters: { TableName: 't' },
          End: true,
        },
      },
    };
    await expect(runLocally(definition, { handlers: {}, input: {} })).rejects.toThrow(
      'runLocally: state "Put" calls arn:aws:states:::dynamodb:putItem, which the harness cannot run: pass options.tasks["Put"]',
    );
    const run = await runLocally(definition, {
      handlers: {},
      input: {},
      tasks: { Put: (input) => ({ put: input }) },
    });
    expect(run).toMatchObject({ status: 'SUCCEEDED', output: { put: { TableName: 't' } } });
  });

  test('a state output over 256 KiB fails the execution with States.DataLimitExceeded', async () => {
    const run = await runLocally(basicsDef.definition, {
      handlers: { [ids.slow]: () => 'x'.repeat(PAYLOAD_LIMIT_BYTES) },
      input: { mode: 'slow' },
    });
    assertFailed(run);
    expect(run.error).toBe('States.DataLimitExceeded');
    expect(run.cause).toMatch(/'Slow'/);
  });
});

describe('what aws-local-stepfunctions does on its own', () => {
  test('it runs a DISTRIBUTED Map as an inline one: no ItemBatcher, no ToleratedFailurePercentage', async () => {
    const definition = structuredClone(pipelineDef.definition);
    const machine = new interpreter.StateMachine(definition as never, {
      validationOptions: { noValidate: true },
    });
    const payloads: Json[] = [];
    const execution = machine.run(
      {},
      {
        overrides: {
          taskResourceLocalHandlers: {
            Discover: () => ({ runId: 'r1', accounts: ['111', '222', '333'] }),
            Scan: (input) => {
              payloads.push((input as { Payload: Json }).Payload);
              if ((input as { Payload: { accountId: string } }).Payload.accountId === '333') {
                throw named('Boom', 'scan crashed');
              }
              return { Payload: 'ok' };
            },
            Deliver: (input) => input,
          },
          retryIntervalOverrides: { Scan: 0, Discover: 0, Deliver: 0 },
        },
      },
    );
    // One item per child (ItemSelector applied, no batch), and 1 failure of 3 (33 %, within the 50 %
    // tolerated) fails the whole map with the child's own error, which Each's Catch does not match.
    await expect(execution.result).rejects.toMatchObject({ cause: { name: 'Boom' } });
    expect(payloads).toContainEqual({ accountId: '111', position: 0 });
  });
});
