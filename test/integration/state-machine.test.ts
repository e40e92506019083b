/**
 * The state machine engine (lib/constructs/scanner-state-machine.ts) end to end, offline: the
 * definition `cdk synth` produces, run on a real Amazon States Language interpreter
 * (test/support/state-machine.ts `runLocally`, aws-local-stepfunctions with the harness's
 * Distributed Map emulation), each Lambda task bound to its step of the esbuild bundle `cdk synth`
 * built (test/support/bundled-lambda.ts `invokeBundled` with `step`, a fresh Node process per
 * invocation), against the stand-ins: Organizations + STS + IAM per account, dynalite, Secrets
 * Manager, EventBridge, the Slack receiver, and moto_server's S3 for the run bucket. What the
 * interpreter cannot check is asserted on the template (last block); docs/organization.md, "How the
 * state machine is tested".
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { STATE_TABLE_SCHEMA } from '../../lambda/contracts';
import { INLINE_ACCOUNTS_BYTES } from '../../lambda/steps';
import type { ScannerStep } from '../../lib/constructs/scanner-function';
import {
  type EventBridgeEndpoint,
  type SecretsManagerEndpoint,
  startEventBridgeEndpoint,
  startSecretsManagerEndpoint,
} from '../support/aws-json-endpoints';
import {
  type Invocation,
  invokeBundled,
  localStepEnvironment,
  type SynthesizedStateMachine,
  synthesizeStateMachine,
} from '../support/bundled-lambda';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { forwardRequest, type LocalServer, readBody, serveLocally } from '../support/local-server';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import {
  type Organization,
  type OrganizationMember,
  startOrganization,
} from '../support/organization-endpoints';
import { sampleAccount } from '../support/sample-account';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';
import {
  childStartOnClock,
  type ExecutionOutcome,
  type ItemReaderRequest,
  type Json,
  runLocally,
  validate,
} from '../support/state-machine';

const SECRET_NAME = 'credwatch/slack-webhooks';
const PROD = '111111111111';
const STAGING = '222222222222';
const SANDBOX = '333333333333';
const STEPS: readonly ScannerStep[] = ['discover', 'scanBatch', 'deliver'];
/** Two accounts per child: three accounts make two batches, so one batch can fail while the other does not. */
const BATCH_SIZE = 2;

/** Answers nothing, ever, to the IAM requests signed by the member-role sessions of `slow`; forwards the rest. */
async function startStallingIamProxy(
  upstream: string,
  slow: string,
): Promise<LocalServer & { stalled: number }> {
  const target = new URL(upstream);
  const proxy = { stalled: 0 };
  const server = await serveLocally(async (req, res) => {
    const body = await readBody(req);
    // The member session keys are ASIA + the 12-digit account id (test/support/organization-endpoints.ts).
    if (String(req.headers.authorization ?? '').includes(`Credential=ASIA${slow}`)) {
      proxy.stalled++;
      return; // held open until the client gives up or the proxy closes
    }
    await forwardRequest(target, req, body, res);
  });
  return Object.assign(proxy, server);
}

describe('the synthesized state machine, run locally with its bundled steps', () => {
  let sm: SynthesizedStateMachine;
  let moto: MotoServer;
  let s3: S3Client;
  let now: Date;
  let org: Organization | undefined;
  let dynamo: LocalDynamo;
  let slack: SlackReceiver;
  let secrets: SecretsManagerEndpoint;
  let bus: EventBridgeEndpoint;
  let iamProxy: LocalServer | undefined;

  beforeAll(async () => {
    // The construct's defaults (batch timeout 4 minutes, concurrency 10, …) but batches of 2, and a
    // longer timeout of discover and deliver (9 minutes) than the batches' (4): the child-timeout case
    // scales every timeout down by one factor and still leaves discover and deliver ample time.
    sm = synthesizeStateMachine({}, { batchSize: BATCH_SIZE, stepTimeout: Duration.minutes(9) });
    moto = await startMotoServer();
    // No forcePathStyle: for an endpoint whose host is an IP address the SDK's S3 endpoint rules
    // address the bucket by path, as the bundled steps' clients do with the same endpoint.
    s3 = new S3Client({ ...moto.clientConfig });
  }, 120_000);
  afterAll(async () => {
    s3?.destroy();
    await moto?.close();
  });

  beforeEach(async () => {
    now = new Date('2026-11-23T12:00:00Z');
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: sm.runBucketName }));
    [dynamo, slack, bus] = await Promise.all([
      startDynalite(),
      startSlackReceiver(),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({
      // One webhook, as a single-channel deployment has it.
      secrets: { [SECRET_NAME]: slack.url },
    });
  });
  afterEach(async () => {
    await Promise.all([
      org?.close(),
      iamProxy?.close(),
      dynamo.close(),
      slack.close(),
      secrets.close(),
      bus.close(),
    ]);
    org = undefined;
    iamProxy = undefined;
  });

  const later = (m: number) => {
    now = new Date(now.getTime() + m * 60_000);
  };
  const startOrg = async (accounts: OrganizationMember[], denied: ReadonlySet<string> = new Set()) => {
    org = await startOrganization({
      accounts,
      denyAssumeRole: denied,
      now: () => now,
      iam: { now: () => now, datedByNow: true },
    });
    return org;
  };
  const member = (id: string, name: string, extra: Partial<OrganizationMember> = {}): OrganizationMember => ({
    account: sampleAccount(now, id, name),
    name,
    ...extra,
  });

  interface StepCall {
    readonly step: ScannerStep;
    readonly payload: Json;
    readonly run: Invocation;
  }

  /**
   * One execution: the definition `cdk synth` produced, on the interpreter, each Lambda task bound to
   * its step of the bundle, in a fresh process whose clock is `now` plus the execution's elapsed time.
   */
  async function execute(
    options: {
      env?: Record<string, string>;
      timeoutScale?: number;
      secretsIn?: readonly SlackReceiver[];
      /** A batch's attempt begins this long after its child execution started (earlier attempts ran). */
      batchAttemptLateMs?: number;
      /** Runs before the deliver step is invoked. */
      beforeDeliver?: () => Promise<void>;
    } = {},
  ): Promise<{
    run: ExecutionOutcome;
    calls: StepCall[];
    reads: ItemReaderRequest[];
    /** One step of the bundle again, as a redrive runs it: the same environment, the clock moved on. */
    again: (step: ScannerStep, payload: Json) => Promise<Invocation>;
  }> {
    const o = org!;
    const calls: StepCall[] = [];
    const reads: ItemReaderRequest[] = [];
    const abandoned = new AbortController();
    const started = Date.now();
    const environment = (step: ScannerStep) => ({
      ...localStepEnvironment(sm.steps[step], sm.runBucketLogicalId, {
        secretName: SECRET_NAME,
        tableName: dynamo.tableName,
        iam: o.iamUrl,
        dynamodb: dynamo.endpoint,
        secretsManager: secrets.url,
        eventBridge: bus.url,
        runBucket: sm.runBucketName,
        s3: moto.url,
      }),
      AWS_ENDPOINT_URL_STS: o.stsUrl,
      AWS_ENDPOINT_URL_ORGANIZATIONS: o.organizationsUrl,
      ...options.env,
    });
    const receivers = options.secretsIn ?? [slack];
    const handlers = Object.fromEntries(
      STEPS.map((step) => [
        sm.steps[step].logicalId,
        async (payload: Json) => {
          if (step === 'deliver') await options.beforeDeliver?.();
          const onClock = (wallMs: number) => new Date(now.getTime() + (wallMs - started));
          const run = await invokeBundled(
            sm.steps[step].entry,
            environment(step),
            childStartOnClock(payload, onClock),
            {
              step,
              now: new Date(
                onClock(Date.now()).getTime() +
                  (step === 'scanBatch' ? (options.batchAttemptLateMs ?? 0) : 0),
              ),
              webhookHosts: receivers.map((r) => new URL(r.url).host),
              timeoutMs: sm.steps[step].timeoutSeconds * 1000,
              signal: abandoned.signal,
            },
          );
          calls.push({ step, payload, run });
          for (const r of receivers) expect(run.stdout + run.stderr).not.toContain(r.secret);
          if (run.error !== undefined) {
            // What Lambda reports: the error's name is its errorType (Retry/Catch match on it).
            throw Object.assign(new Error(run.error), { name: run.errorName ?? 'Error' });
          }
          return run.result;
        },
      ]),
    );
    try {
      const run = await runLocally(sm.machine.definition, {
        handlers,
        // The DynamoDB integration that gives the lease back after a failure, on dynalite, with the
        // service's error name when the condition fails.
        tasks: {
          'Release the run lease': async (input) => {
            const params = input as unknown as {
              TableName: string;
              Key: Record<string, AttributeValue>;
              ConditionExpression: string;
              ExpressionAttributeValues: Record<string, AttributeValue>;
            };
            try {
              // The definition names the table by its logical id (resolved to a fake name): the stand-in's.
              // aws-local-stepfunctions leaves the `S.$` under a `:run` key unresolved: the run id it
              // stands for ($.runId, the scheduled time and the execution's name) is put in here.
              const run = params.ExpressionAttributeValues[':run'] as { S?: string; 'S.$'?: string };
              const values =
                run['S.$'] === '$.runId'
                  ? { ':run': { S: `${now.toISOString()}_credwatch-${now.getTime()}` } }
                  : params.ExpressionAttributeValues;
              await dynamo.client.send(
                new DeleteItemCommand({
                  ...params,
                  TableName: dynamo.tableName,
                  ExpressionAttributeValues: values,
                }),
              );
              return {};
            } catch (err) {
              if (err instanceof ConditionalCheckFailedException) {
                throw Object.assign(new Error(err.message), {
                  name: 'DynamoDB.ConditionalCheckFailedException',
                });
              }
              throw err;
            }
          },
        },
        input: { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' },
        // The context object Step Functions gives every execution: its name is part of the run id.
        context: { Execution: { Name: `credwatch-${now.getTime()}` } },
        ...(options.timeoutScale !== undefined ? { timeoutScale: options.timeoutScale } : {}),
        // The map's ItemReader (S3 getObject, InputType JSON): the object in moto's run bucket.
        itemReader: async (req) => {
          reads.push(req);
          const { Bucket, Key } = req.parameters as { Bucket: string; Key: string };
          const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
          return JSON.parse(await object.Body!.transformToString('utf-8')) as unknown[];
        },
      });
      const again = (step: ScannerStep, payload: Json) =>
        invokeBundled(sm.steps[step].entry, environment(step), payload, {
          step,
          now: new Date(now.getTime() + (Date.now() - started)),
          webhookHosts: receivers.map((r) => new URL(r.url).host),
          timeoutMs: sm.steps[step].timeoutSeconds * 1000,
        });
      return { run, calls, reads, again };
    } finally {
      // A task the interpreter gave up on (timed out) is still running in its process: end it.
      abandoned.abort();
    }
  }

  const text = (payload: unknown) => JSON.stringify(payload);
  const header = (payload: unknown) =>
    (payload as { blocks: { text?: { text: string } }[] }).blocks[0]?.text?.text ?? '';
  const statesIn = (run: ExecutionOutcome) => run.invocations.map((i) => i.state);
  const errorMessage = (run: ExecutionOutcome) =>
    run.status === 'FAILED' ? (JSON.parse(run.cause) as { errorMessage: string }).errorMessage : '';
  /** The state items by account (every item but the accounts' `known` markers). */
  const storedStates = async () => {
    const items = (await dynamo.client.send(new ScanCommand({ TableName: dynamo.tableName }))).Items ?? [];
    const byAccount: Record<string, string[]> = {};
    for (const item of items) {
      if (item.sk?.S === STATE_TABLE_SCHEMA.knownMarkerSortKey) continue;
      const account = /account#(\d{12})/.exec(item.pk?.S ?? '')?.[1] ?? item.pk?.S ?? '?';
      byAccount[account] = [...(byAccount[account] ?? []), item.sk?.S ?? ''];
    }
    return byAccount;
  };
  const runKeys = async (prefix = 'runs/') =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: sm.runBucketName, Prefix: prefix }))).Contents ?? [])
      .map((c) => c.Key!)
      .sort();

  it('the synthesized definition is valid ASL (asl-validator)', () => {
    expect(validate(sm.machine.definition)).toEqual([]);
    expect(Object.keys(sm.machine.functionArns).sort()).toEqual(
      STEPS.map((s) => sm.steps[s].logicalId).sort(),
    );
  });

  it('3 accounts, one denied: both batches succeed, deliver announces the failure once, the execution fails at Deliver', async () => {
    await startOrg(
      [member(PROD, 'prod'), member(STAGING, 'staging'), member(SANDBOX, 'sandbox')],
      new Set([SANDBOX]),
    );

    const first = await execute();
    expect(first.run.status).toBe('FAILED');
    expect(statesIn(first.run)).toEqual([
      'Discover accounts',
      'Scan batch (ScanInline)',
      'Scan batch (ScanInline)',
      'Deliver',
    ]);
    // The denial is the account's own delta, not a failed batch: both children succeeded.
    expect(first.run.mapRuns).toMatchObject([{ state: 'ScanInline', items: 3, children: 2, failedItems: 0 }]);
    // (In the order the children finished.)
    const batches = first.calls.filter((c) => c.step === 'scanBatch').map((c) => c.run.result!);
    expect(batches.sort((a, b) => Number(b.scanned) - Number(a.scanned))).toEqual([
      { scanned: 2, failed: [], unwritten: [], changes: 6 },
      { scanned: 0, failed: [SANDBOX], unwritten: [], changes: 1 },
    ]);
    if (first.run.status !== 'FAILED') return;
    expect(first.run.error).toBe('AccountsIncompleteError');
    expect(errorMessage(first.run)).toMatch(
      /^1 of 3 accounts could not be scanned: 333333333333 \(could not assume arn:aws:iam::333333333333:role\/credwatch-member: AccessDenied/,
    );
    // Each account's delta went through the run bucket.
    const runId = (first.calls[0]!.run.result as { runId: string }).runId;
    // One object a batch (each child wrote its accounts in one part), named by the batch's first account.
    const parts = await runKeys();
    // (and the attempt's start: a retry writes beside it, never over it).
    expect(parts).toHaveLength(2);
    [PROD, SANDBOX].forEach((id, i) => {
      expect(parts[i]).toMatch(new RegExp(`^runs/${runId}/deltas/${id}-\\d{13}-0000\\.jsonl$`));
    });
    const headers = await Promise.all(
      parts.map(async (Key) => {
        const body = await (
          await s3.send(new GetObjectCommand({ Bucket: sm.runBucketName, Key }))
        ).Body!.transformToString();
        const lines = body.trimEnd().split('\n');
        return { header: JSON.parse(lines[0]!), deltas: lines.slice(1).map((l) => JSON.parse(l).accountId) };
      }),
    );
    // A delta a line in the header's order (the order the accounts finished in).
    for (const { header, deltas } of headers) expect(header.accounts).toEqual(deltas);
    expect(headers.map(({ header }) => ({ ...header, accounts: [...header.accounts].sort() }))).toEqual([
      { credwatchDeltas: 1, accounts: [PROD, STAGING] },
      { credwatchDeltas: 1, accounts: [SANDBOX] },
    ]);

    // The default policy: the scanned accounts' findings in one baseline summary, the failure said at
    // once in a digest of its own (an account that could not be scanned is never baselined).
    expect(slack.delivered().map(header)).toEqual([
      'credwatch: 6 findings on first scan — 2 accounts',
      // Headed by the account it is about, not the first one scanned.
      'credwatch: 1 new — sandbox (333333333333)',
    ]);
    expect(text(slack.delivered()[0])).toContain(
      '*By account:* prod (111111111111) 3 · staging (222222222222) 3',
    );
    expect(text(slack.delivered()[1])).toContain(
      'credwatch could not scan account sandbox (333333333333): could not assume arn:aws:iam::333333333333:role/credwatch-member: AccessDenied',
    );
    const states = await storedStates();
    expect(Object.keys(states).sort()).toEqual([PROD, STAGING, SANDBOX]);
    expect(states[PROD]!.length).toBeGreaterThanOrEqual(3);
    expect(states[STAGING]!.length).toBe(states[PROD]!.length);
    expect(states[SANDBOX]).toHaveLength(1); // its account-scan-failed finding, remembered as announced
    expect(org!.iam(SANDBOX).counts().GetCredentialReport).toBeUndefined();

    later(10);
    const second = await execute();
    expect(second.run.status).toBe('FAILED');
    expect(errorMessage(second.run)).toMatch(/^1 of 3 accounts could not be scanned: 333333333333/);
    expect(slack.requests).toHaveLength(2); // the failure was already announced; nothing else is new
  }, 120_000);

  it('a roll-up due in steady state: deliver reads the roll-ups only then, and the channel gets one roll-up of every account', async () => {
    // The sandbox cannot be scanned at first: its findings are first seen 12 hours after the others'.
    const denied = new Set([SANDBOX]);
    await startOrg([member(PROD, 'prod'), member(STAGING, 'staging'), member(SANDBOX, 'sandbox')], denied);
    const partsOf = async (runId: string) =>
      Promise.all(
        (await runKeys(`runs/${runId}/deltas/`)).map(async (Key) => {
          const object = await s3.send(new GetObjectCommand({ Bucket: sm.runBucketName, Key }));
          const lines = (await object.Body!.transformToString()).trimEnd().split('\n').slice(1);
          return lines.map(
            (l) => JSON.parse(l) as { accountId: string; rollUp?: unknown[]; dueChannels?: string[] },
          );
        }),
      ).then((parts) => parts.flat());
    const runIdOf = (calls: StepCall[]) => (calls[0]!.run.result as { runId: string }).runId;
    const posted = () => slack.delivered().map(header);

    await execute();
    later(12 * 60);
    denied.delete(SANDBOX);
    const joined = await execute();
    expect(joined.run.status).toBe('SUCCEEDED');
    expect(posted()).toContain('credwatch: 3 findings on first scan — sandbox (333333333333)');

    // Ten minutes later: every delta carries its roll-up (the open findings as reminders), none is due.
    later(10);
    const before = posted().length;
    const quiet = await execute();
    expect(quiet.run.status).toBe('SUCCEEDED');
    const steady = await partsOf(runIdOf(quiet.calls));
    expect(steady.map((d) => d.accountId).sort()).toEqual([PROD, STAGING, SANDBOX]);
    for (const d of steady) {
      expect(d.rollUp).toHaveLength(3);
      expect(d.dueChannels).toBeUndefined();
    }
    expect(posted()).toHaveLength(before);

    // A day after the first scan, prod's and staging's reminders are due, not the sandbox's: the
    // channel's one roll-up names all three, the sandbox's findings from its delta's roll-up.
    later(12 * 60);
    const due = await execute();
    expect(due.run.status).toBe('SUCCEEDED');
    const dueParts = await partsOf(runIdOf(due.calls));
    expect(
      dueParts
        .filter((d) => d.dueChannels !== undefined)
        .map((d) => d.accountId)
        .sort(),
    ).toEqual([PROD, STAGING]);
    const rollUp = slack.delivered().slice(before);
    expect(rollUp.map(header)).toEqual([
      'credwatch: 9 still open — 3 accounts',
      // The owners' list of the users tagged with one (the sample accounts have one each).
      'credwatch: 3 still open, yours — 3 accounts',
    ]);
    for (const name of ['prod (111111111111)', 'staging (222222222222)', 'sandbox (333333333333)']) {
      expect(text(rollUp[0])).toContain(name);
    }

    // Remembered: ten minutes later nothing is said again.
    later(10);
    const after = await execute();
    expect(after.run.status).toBe('SUCCEEDED');
    expect(posted()).toHaveLength(before + 2);
  }, 180_000);

  it('a roll-up larger than deliver holds comes in parts, a run each: every account reminded once, none lost', async () => {
    await startOrg([member(PROD, 'prod'), member(STAGING, 'staging'), member(SANDBOX, 'sandbox')]);
    // Deliver holds 4 reminders a run: one account's 3 (the first always fits), not two accounts'.
    const env = { CREDWATCH_ROLL_UP_PART: '4' };
    expect((await execute({ env })).run.status).toBe('SUCCEEDED');
    expect(slack.delivered().map(header)).toEqual(['credwatch: 9 findings on first scan — 3 accounts']);
    /** The deliver step's "scan complete" line. */
    const completed = (calls: StepCall[]) => {
      const stdout = calls.find((c) => c.step === 'deliver')!.run.stdout;
      const line = stdout.split('\n').find((l) => l.includes('"message":"scan complete"'));
      if (!line) throw new Error(`no "scan complete" line in:\n${stdout.slice(-4000)}`);
      return JSON.parse(line) as { remindersDeferred?: number };
    };

    // A day later (and a minute: the first run's clock ran on) every reminder is due: three runs,
    // ten minutes apart, a part each.
    later(24 * 60 + 1);
    const parts: { account: string; deferred?: number }[] = [];
    for (let run = 0; run < 3; run++) {
      const before = slack.delivered().length;
      const r = await execute({ env });
      expect(r.run.status).toBe('SUCCEEDED');
      const posts = slack.delivered().slice(before);
      // The part's roll-up and its owner's list (a sample account has one user with an owner tag).
      expect(posts).toHaveLength(2);
      const account = /^credwatch: 3 still open — \w+ \((\d{12})\)$/.exec(header(posts[0]))?.[1];
      expect(account).toBeDefined();
      expect(header(posts[1])).toMatch(/^credwatch: 1 still open, yours — /);
      // The other two accounts' six findings: left to the next runs, or said by the runs before.
      expect(text(posts[0])).toContain(
        'one part of a larger one: 6 more open findings are in its other parts',
      );
      parts.push({ account: account!, deferred: completed(r.calls).remindersDeferred });
      later(10);
    }
    expect(parts.map((p) => p.account).sort()).toEqual([PROD, STAGING, SANDBOX]);
    expect(parts.map((p) => p.deferred)).toEqual([6, 3, undefined]);

    // Every finding reminded once: ten minutes later (and a day after the first reminders) nothing is due.
    const before = slack.delivered().length;
    expect((await execute({ env })).run.status).toBe('SUCCEEDED');
    expect(slack.delivered()).toHaveLength(before);
  }, 240_000);

  it('a roll-up due only by the reminder of an account whose batch never answers still rolls up every scanned account', async () => {
    const o = await startOrg([member(PROD, 'prod'), member(STAGING, 'staging'), member(SANDBOX, 'sandbox')]);
    // The sandbox's IAM never answers: its batch times out every run, and deliver announces it.
    const stalling = await startStallingIamProxy(o.iamUrl, SANDBOX);
    iamProxy = stalling;
    const env = { AWS_ENDPOINT_URL_IAM: stalling.url };
    // At first only the sandbox is in the run; prod and staging come 12 hours later.
    const accounts = JSON.parse(String(sm.steps.discover.environment.CREDWATCH_ACCOUNTS)) as Record<
      string,
      unknown
    >;
    await execute({
      timeoutScale: 0.03,
      env: { ...env, CREDWATCH_ACCOUNTS: JSON.stringify({ ...accounts, exclude: [PROD, STAGING] }) },
    });
    expect(slack.delivered().map(header)).toEqual(['credwatch: 1 new — sandbox (333333333333)']);
    later(12 * 60);
    await execute({ timeoutScale: 0.03, env });
    const before = slack.delivered().length;
    // A day after the first run only the sandbox's failure is due (a delta deliver made, not one a
    // child wrote); prod's and staging's findings (12 hours old) come with it in the channel's one
    // roll-up, from their deltas' roll-ups.
    later(12 * 60 + 10);
    const due = await execute({ timeoutScale: 0.03, env });
    expect(due.run.status).toBe('FAILED');
    const rollUp = slack.delivered().slice(before);
    expect(rollUp.map(header)[0]).toBe('credwatch: 7 still open — 3 accounts');
    for (const name of ['prod (111111111111)', 'staging (222222222222)', 'sandbox (333333333333)']) {
      expect(text(rollUp[0])).toContain(name);
    }
  }, 180_000);

  it('an empty organization: the execution succeeds, with no child and no message', async () => {
    await startOrg([]);
    const { run, calls } = await execute();
    expect(run.status).toBe('SUCCEEDED');
    if (run.status !== 'SUCCEEDED') return;
    expect(run.output).toEqual({
      // The scheduled time and the execution's name.
      runId: '2026-11-23T12:00:00.000Z_credwatch-1795435200000',
      accounts: 0,
      findings: 0,
      changes: 0,
      delivered: 0,
    });
    expect(calls.map((c) => c.step)).toEqual(['discover', 'deliver']);
    expect(calls[0]!.run.result).toMatchObject({ count: 0, accounts: [] });
    expect(run.mapRuns).toMatchObject([{ state: 'ScanInline', items: 0, children: 0 }]);
    expect(slack.requests).toEqual([]);
    expect(bus.entries).toEqual([]);
  }, 60_000);

  it('a run while an earlier one still holds the run lease is skipped: nothing scanned, nothing sent, the lease kept', async () => {
    await startOrg([{ account: sampleAccount(now, PROD, 'prod'), name: 'prod' }]);
    const until = new Date(now.getTime() + 60 * 60_000);
    // An earlier execution (a first scan of a large organization) is still under way.
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: {
          pk: { S: STATE_TABLE_SCHEMA.runLease.partitionKey },
          sk: { S: STATE_TABLE_SCHEMA.runLease.sortKey },
          runId: { S: 'earlier-run' },
          leaseUntil: { N: String(until.getTime()) },
        },
      }),
    );
    const { run, calls } = await execute();
    expect(run.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.step)).toEqual(['discover']);
    expect(calls[0]!.run.result).toEqual({
      skipped: `run earlier-run is still in progress (its lease ends at ${until.toISOString()}); this run does nothing`,
    });
    expect(calls[0]!.run.metrics).toMatchObject({ RunsSkipped: 1 });
    expect(calls[0]!.run.metrics.InvocationsRefused).toBeUndefined();
    expect(slack.requests).toEqual([]);
    const lease = await dynamo.client.send(
      new GetItemCommand({
        TableName: dynamo.tableName,
        Key: {
          pk: { S: STATE_TABLE_SCHEMA.runLease.partitionKey },
          sk: { S: STATE_TABLE_SCHEMA.runLease.sortKey },
        },
      }),
    );
    expect(lease.Item?.runId?.S).toBe('earlier-run');
  }, 60_000);

  it('a redriven deliver announces nothing twice: refused once its run gave the lease back, or once a delivery of it began', async () => {
    await startOrg([member(PROD, 'prod')]);
    const first = await execute();
    expect(first.run.status).toBe('SUCCEEDED');
    // Something to announce twice: the account's baseline summary.
    expect(slack.delivered().map(header)).toEqual([
      'credwatch: 3 findings on first scan — prod (111111111111)',
    ]);
    const runId = (first.calls[0]!.run.result as { runId: string }).runId;
    const delivered = first.calls.find((c) => c.step === 'deliver')!;
    const before = await storedStates();
    const events = bus.entries.length;

    // The same deliver again (a redrive of the execution): the run ended and gave the lease back.
    const afterEnd = await first.again('deliver', delivered.payload);
    expect(afterEnd.errorName).toBe('StepInputError');
    expect(afterEnd.error).toBe(
      `deliver: run ${runId} no longer holds the run lease (it was given back when the run ended, or ran out); a redriven or repeated deliver is not carried on: the next scheduled run scans again`,
    );
    expect(afterEnd.metrics).toMatchObject({ ScanIncomplete: 1 });

    // A later run holds the lease: the old run's deliver would announce over it.
    const lease = {
      pk: { S: STATE_TABLE_SCHEMA.runLease.partitionKey },
      sk: { S: STATE_TABLE_SCHEMA.runLease.sortKey },
    };
    const until = String(now.getTime() + 60 * 60_000);
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: { ...lease, runId: { S: 'later-run' }, leaseUntil: { N: until } },
      }),
    );
    const overLater = await first.again('deliver', delivered.payload);
    expect(overLater.error).toContain(
      `deliver: run ${runId} no longer holds the run lease (run later-run holds it)`,
    );
    // Not the old run's to give back.
    const kept = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: lease }));
    expect(kept.Item?.runId?.S).toBe('later-run');

    // The execution stopped while its deliver step ran, redriven after that delivery's Lambda died
    // without giving the lease back (longer ago than the deliver function's timeout): the lease is
    // still the run's, marked with the start of that delivery.
    const began = now.getTime() - (sm.steps.deliver.timeoutSeconds + 60) * 1000;
    await dynamo.client.send(
      new PutItemCommand({
        TableName: dynamo.tableName,
        Item: {
          ...lease,
          runId: { S: runId },
          leaseUntil: { N: until },
          deliveringSince: { N: String(began) },
        },
      }),
    );
    const redriven = await first.again('deliver', delivered.payload);
    expect(redriven.errorName).toBe('StepInputError');
    expect(redriven.error).toBe(
      `deliver: a delivery of run ${runId} began at ${new Date(began).toISOString()} and ended without giving the lease back; it is not started twice (what it sent would be announced again): the lease is given back and the next scheduled run announces what is left`,
    );
    const freed = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: lease }));
    expect(freed.Item).toBeUndefined();

    // Nothing posted or written again.
    expect(slack.requests).toHaveLength(1);
    expect(await storedStates()).toEqual(before);
    expect(bus.entries).toHaveLength(events);
  }, 120_000);

  it('a part of the run bucket deliver cannot read: its accounts are announced as not scanned, naming the object, and the rest is delivered', async () => {
    await startOrg([member(PROD, 'prod'), member(STAGING, 'staging'), member(SANDBOX, 'sandbox')]);
    const broken: Record<string, string> = {};
    const { run } = await execute({
      // Between the map and deliver: one delta line of the first batch's part cut short, and the
      // second batch's part left without a header that says which accounts it holds.
      beforeDeliver: async () => {
        for (const Key of await runKeys()) {
          const object = await s3.send(new GetObjectCommand({ Bucket: sm.runBucketName, Key }));
          const lines = (await object.Body!.transformToString()).trimEnd().split('\n');
          const accounts = (JSON.parse(lines[0]!) as { accounts: string[] }).accounts;
          if (accounts.length === 2) {
            broken.line = accounts[0]!;
            broken.kept = accounts[1]!;
            broken.lineKey = Key;
            lines[1] = lines[1]!.slice(0, 200);
          } else {
            broken.headerKey = Key;
            lines[0] = '{"credwatchDeltas": 1, "accounts": [';
          }
          await s3.send(
            new PutObjectCommand({ Bucket: sm.runBucketName, Key, Body: `${lines.join('\n')}\n` }),
          );
        }
      },
    });
    expect(Object.keys(broken).sort()).toEqual(['headerKey', 'kept', 'line', 'lineKey']);
    expect(run.status).toBe('FAILED');
    if (run.status !== 'FAILED') return;
    expect(run.error).toBe('AccountsIncompleteError');
    const message = errorMessage(run);
    expect(message).toMatch(/^2 of 3 accounts could not be scanned: /);
    expect(message).toContain(
      `${broken.line} (its result in the run bucket could not be read (${broken.lineKey}: line 2: not JSON (invalid at character 200)))`,
    );
    expect(message).toContain(
      `${SANDBOX} (its batch of the map did not finish (it failed or timed out: see the map run), or its result is in an object of the run bucket that cannot be read (${broken.headerKey}: its header line is not JSON (it ends too soon)))`,
    );
    // The readable account of the damaged part is delivered as scanned: its baseline summary.
    const kept = broken.kept === PROD ? 'prod' : 'staging';
    expect(slack.delivered().map(header)).toEqual([
      `credwatch: 3 findings on first scan — ${kept} (${broken.kept})`,
      'credwatch: 2 new — 2 accounts',
    ]);
    const states = await storedStates();
    expect(states[broken.kept!]!.length).toBeGreaterThanOrEqual(3);
    expect(states[broken.line!]).toHaveLength(1);
    expect(states[SANDBOX]).toHaveLength(1);
  }, 120_000);

  it('a deliver step that finds a delivery of its run still running fails the execution and leaves the lease with that delivery', async () => {
    await startOrg([member(PROD, 'prod')]);
    const lease = {
      pk: { S: STATE_TABLE_SCHEMA.runLease.partitionKey },
      sk: { S: STATE_TABLE_SCHEMA.runLease.sortKey },
    };
    const began = now.getTime();
    // A first attempt of this run's deliver step began a moment ago (its execution was stopped
    // and redriven while its Lambda still runs).
    const { run, calls } = await execute({
      beforeDeliver: async () => {
        await dynamo.client.send(
          new UpdateItemCommand({
            TableName: dynamo.tableName,
            Key: lease,
            UpdateExpression: 'SET deliveringSince = :t',
            ExpressionAttributeValues: { ':t': { N: String(began) } },
          }),
        );
      },
    });
    const runId = (calls[0]!.run.result as { runId: string }).runId;
    expect(run.status).toBe('FAILED');
    if (run.status !== 'FAILED') return;
    expect(run.error).toBe('DeliveryInProgressError');
    expect(errorMessage(run)).toBe(
      `deliver: a delivery of run ${runId} began at ${new Date(began).toISOString()} and may still be running (stopping an execution does not stop its task); it is not started twice: the lease stays with it, given back when it ends or when the lease runs out`,
    );
    // Not given back, neither by the step nor by the state machine's catch.
    expect(statesIn(run)).not.toContain('Release the run lease');
    const kept = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: lease }));
    expect(kept.Item?.runId?.S).toBe(runId);
    expect(slack.requests).toEqual([]);
  }, 120_000);

  it('an account list above the inline limit goes through the run bucket: the map reads it with its ItemReader', async () => {
    // 12 accounts with 50 long tags each (a route by account tag makes discovery read them): about
    // 230 KB of account list, over INLINE_ACCOUNTS_BYTES (200 KiB) and under a state's 256 KiB.
    const ids = Array.from({ length: 12 }, (_, i) => String(444444444400 + i));
    const tags = (i: number) => ({
      ...Object.fromEntries(
        Array.from({ length: 49 }, (_, t) => [
          `${`cost-allocation-${t}-`.padEnd(128, 'k')}`,
          'v'.repeat(256),
        ]),
      ),
      team: i % 2 === 0 ? 'payments' : 'platform',
    });
    await startOrg(ids.map((id, i) => member(id, `account-${i}`, { tags: tags(i) })));
    const payments = await startSlackReceiver();
    try {
      await secrets.close();
      secrets = await startSecretsManagerEndpoint({
        secrets: {
          [SECRET_NAME]: JSON.stringify({ channels: { security: slack.url, payments: payments.url } }),
        },
      });
      const { run, calls, reads } = await execute({
        secretsIn: [slack, payments],
        env: {
          CREDWATCH_NOTIFICATIONS: JSON.stringify({
            baseline: true,
            reminders: 'roll-up',
            maxMessagesPerRun: 10,
            routes: [{ channel: 'payments', accountTags: { team: ['payments'] } }],
            defaultChannel: 'security',
          }),
        },
      });
      const discovered = calls[0]!.run.result as { runId: string; count: number; accountsKey?: string };
      expect(discovered).toEqual({
        // The scheduled time and the execution's name.
        runId: '2026-11-23T12:00:00.000Z_credwatch-1795435200000',
        now: expect.any(String),
        count: 12,
        accountsKey: 'runs/2026-11-23T12:00:00.000Z_credwatch-1795435200000/accounts.json',
      });
      const list = await s3.send(
        new GetObjectCommand({ Bucket: sm.runBucketName, Key: discovered.accountsKey! }),
      );
      const body = await list.Body!.transformToString('utf-8');
      expect(Buffer.byteLength(body)).toBeGreaterThan(INLINE_ACCOUNTS_BYTES);
      expect((JSON.parse(body) as { id: string }[]).map((a) => a.id)).toEqual(ids);

      expect(run.status).toBe('SUCCEEDED');
      expect(reads).toEqual([
        {
          state: 'ScanFromBucket',
          resource: 'arn:aws:states:::s3:getObject',
          readerConfig: { InputType: 'JSON' },
          parameters: { Bucket: sm.runBucketName, Key: discovered.accountsKey },
        },
      ]);
      expect(run.mapRuns).toMatchObject([
        { state: 'ScanFromBucket', items: 12, children: 6, failedItems: 0 },
      ]);
      expect(statesIn(run).filter((s) => s === 'Scan batch (ScanInline)')).toEqual([]);
      // Deliver read the list back from the bucket: every account is in the summary of its channel.
      if (run.status === 'SUCCEEDED') expect(run.output).toMatchObject({ accounts: 12, findings: 36 });
      expect(payments.delivered().map(header)).toEqual(['credwatch: 18 findings on first scan — 6 accounts']);
      expect(slack.delivered().map(header)).toEqual(['credwatch: 18 findings on first scan — 6 accounts']);
      ids.forEach((id, i) => {
        expect(text(payments.delivered()).includes(`account-${i} (${id})`)).toBe(i % 2 === 0);
        expect(text(slack.delivered()).includes(`account-${i} (${id})`)).toBe(i % 2 === 1);
      });
    } finally {
      await payments.close();
    }
  }, 180_000);

  it('a batch that outlives its task timeout is tolerated by the map, and deliver announces its accounts as not scanned', async () => {
    const o = await startOrg([member(PROD, 'prod'), member(STAGING, 'staging'), member(SANDBOX, 'sandbox')]);
    // The sandbox's IAM never answers: its batch (the second; batches of 2) runs past its timeout.
    const stalling = await startStallingIamProxy(o.iamUrl, SANDBOX);
    iamProxy = stalling;
    // Every timeout times 0.03: a batch task's 270 s become 8.1 s, discover's and deliver's 570 s 17.1 s.
    const { run, calls } = await execute({ timeoutScale: 0.03, env: { AWS_ENDPOINT_URL_IAM: stalling.url } });
    expect(stalling.stalled).toBeGreaterThan(0);
    expect(run.mapRuns).toHaveLength(1);
    const [mapRun] = run.mapRuns;
    expect(mapRun).toMatchObject({ items: 3, children: 2, failedItems: 1 });
    expect(mapRun!.results.map((r) => [r.status, r.error ?? null])).toEqual([
      ['SUCCEEDED', null],
      ['FAILED', 'States.Timeout'],
    ]);
    // The map did not fail the execution: deliver ran, and only then the execution failed.
    expect(statesIn(run).at(-1)).toBe('Deliver');
    expect(calls.filter((c) => c.step === 'scanBatch')).toHaveLength(1); // the stalled one never answered
    expect(run.status).toBe('FAILED');
    if (run.status !== 'FAILED') return;
    expect(run.error).toBe('AccountsIncompleteError');
    expect(errorMessage(run)).toBe(
      '1 of 3 accounts could not be scanned: 333333333333 (its batch of the map did not finish (it failed or timed out: see the map run))',
    );
    expect(slack.delivered().map(header)).toEqual([
      'credwatch: 6 findings on first scan — 2 accounts',
      expect.stringMatching(/^credwatch: 1 new — /),
    ]);
    expect(text(slack.delivered()[1])).toContain(
      'credwatch could not scan account sandbox (333333333333): its batch of the map did not finish (it failed or timed out: see the map run)',
    );
    // Counted once each: the account its batch never reported, and the incomplete run (by deliver).
    const deliverCall = calls.find((c) => c.step === 'deliver')!;
    expect(deliverCall.run.metrics).toMatchObject({
      AccountsScanned: 2,
      AccountsFailed: 1,
      ScanIncomplete: 1,
    });
    // A batch counts its findings and calls, not its accounts: deliver counts each account once.
    const answered = calls.find((c) => c.step === 'scanBatch')!;
    expect(answered.run.metrics.IamCalls).toBeGreaterThan(0);
    expect(answered.run.metrics.AccountsScanned).toBeUndefined();
  }, 120_000);

  it("a retried batch shares its child execution's 5 minutes: it starts no scan near their end, and deliver announces its accounts as not scanned", async () => {
    await startOrg([member(PROD, 'prod'), member(STAGING, 'staging')]);
    // The attempt begins 4 minutes after its child started (a first attempt ran long, then failed):
    // its own 4 minutes would outlive the Express execution's 5.
    const { run, calls } = await execute({ batchAttemptLateMs: 4 * 60_000 });
    const batch = calls.find((c) => c.step === 'scanBatch')!;
    expect(typeof (batch.payload as { childStartedAt?: unknown }).childStartedAt).toBe('string');
    // The batch answered (the map saw no failed child), having started no account's scan.
    expect(run.mapRuns).toMatchObject([{ state: 'ScanInline', items: 2, children: 1, failedItems: 0 }]);
    expect(batch.run.result).toMatchObject({ scanned: 0, failed: [PROD, STAGING], unwritten: [] });
    for (const id of [PROD, STAGING]) expect(org!.iam(id).counts().GetCredentialReport).toBeUndefined();
    expect(run.status).toBe('FAILED');
    const why =
      "its batch's time ran out before its scan started (a batch ends 5 minutes after its child execution started, retries included, or at its function's timeout)";
    expect(errorMessage(run)).toBe(
      `2 of 2 accounts could not be scanned: ${PROD} (${why}); ${STAGING} (${why})`,
    );
    expect(text(slack.delivered())).toContain(`credwatch could not scan account prod (${PROD}): ${why}`);
  }, 120_000);

  it('a batch that fails counts no incomplete run of its own: deliver counts the run, once', async () => {
    // A batch given an input it refuses throws; the map tolerates it and deliver decides the run.
    const env = localStepEnvironment(sm.steps.scanBatch, sm.runBucketLogicalId, {
      secretName: SECRET_NAME,
      tableName: dynamo.tableName,
      iam: 'http://127.0.0.1:9',
      dynamodb: dynamo.endpoint,
      secretsManager: secrets.url,
      eventBridge: bus.url,
      runBucket: sm.runBucketName,
      s3: moto.url,
    });
    const run = await invokeBundled(
      sm.steps.scanBatch.entry,
      env,
      { BatchInput: {} },
      {
        step: 'scanBatch',
        now,
        timeoutMs: 30_000,
      },
    );
    expect(run.error).toMatch(/^scanBatch: input\.BatchInput\./);
    // A failing step's metrics are captured (the deliver step's ScanIncomplete in the test above);
    // a failing batch has none to publish.
    expect(run.metrics.ScanIncomplete).toBeUndefined();
  }, 60_000);

  describe('what the interpreter cannot check, on the template', () => {
    const template = () => Template.fromJSON(sm.template);

    it('the map over the bucket reads the run bucket at the key discover returns (S3 getObject, JSON)', () => {
      const states = sm.machine.definition.States;
      expect(states.ScanFromBucket!.ItemReader).toEqual({
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        // definitionOf renders a bucket's Ref as its lowercased logical id: this Ref is the run bucket's.
        Parameters: { Bucket: sm.runBucketName, 'Key.$': '$.accountsKey' },
      });
      // …the bucket every step is given.
      for (const step of STEPS) {
        expect(sm.steps[step].environment.CREDWATCH_RUN_BUCKET).toEqual({ Ref: sm.runBucketLogicalId });
      }
    });

    it('both maps run Express children in batches, tolerate every failure, and fit a child in Express limits', () => {
      const states = sm.machine.definition.States;
      for (const name of ['ScanInline', 'ScanFromBucket']) {
        const map = states[name]!;
        expect(map).toMatchObject({
          Type: 'Map',
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' } },
          ItemBatcher: {
            MaxItemsPerBatch: BATCH_SIZE,
            BatchInput: { 'runId.$': '$.runId', 'now.$': '$.now' },
          },
          ToleratedFailurePercentage: 100,
          MaxConcurrency: 10,
          ResultPath: null,
          Next: 'Deliver',
        });
        const child = Object.values(
          (map.ItemProcessor as { States: Record<string, { TimeoutSeconds: number }> }).States,
        );
        // An Express execution lives at most 5 minutes: the child's task and its function end before.
        expect(child).toHaveLength(1);
        expect(child[0]!.TimeoutSeconds).toBeLessThan(300);
        expect(sm.steps.scanBatch.timeoutSeconds).toBeLessThan(child[0]!.TimeoutSeconds);
      }
    });

    it('the run bucket is encrypted, private, TLS-only, and forgets a run after a week', () => {
      const t = template();
      t.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [
            {
              ExpirationInDays: 7,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Status: 'Enabled',
            },
          ],
        },
      });
      t.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: sm.runBucketLogicalId },
        PolicyDocument: {
          Statement: [
            {
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Resource: [
                { 'Fn::GetAtt': [sm.runBucketLogicalId, 'Arn'] },
                { 'Fn::Join': ['', [{ 'Fn::GetAtt': [sm.runBucketLogicalId, 'Arn'] }, '/*']] },
              ],
            },
          ],
        },
      });
    });

    it("the state machine's role may read the run bucket's runs/* (the ItemReader reads through it)", () => {
      const machine = sm.template.Resources[sm.machine.logicalId]!;
      const roleRef = (machine.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = Object.values(sm.template.Resources)
        .filter(
          (r) =>
            r.Type === 'AWS::IAM::Policy' &&
            (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleRef),
        )
        .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
      // A statement's resources as ARNs (the bucket's Ref and Arn rendered with its name), as globs.
      const arnOf = (v: unknown): string => {
        if (typeof v === 'string') return v;
        const o = v as Record<string, unknown>;
        if (o['Fn::Join']) {
          const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
          return parts.map(arnOf).join(sep);
        }
        if (o['Fn::GetAtt']) return `arn:aws:s3:::${String((o['Fn::GetAtt'] as string[])[0]).toLowerCase()}`;
        if (o.Ref === 'AWS::Partition') return 'aws';
        return typeof o.Ref === 'string' ? o.Ref.toLowerCase() : JSON.stringify(v);
      };
      const covers = (glob: string, arn: string) =>
        new RegExp(
          `^${glob
            .split('*')
            .map((p) => p.replace(/[.?+^$()[\]{}|\\]/g, '\\$&'))
            .join('.*')}$`,
        ).test(arn);
      const allows = (action: string, arn: string) =>
        statements.some(
          (st) =>
            st.Effect === 'Allow' &&
            ([st.Action].flat() as string[]).some((a) => covers(a, action)) &&
            [st.Resource].flat().some((r) => covers(arnOf(r), arn)),
        );
      const accountList = `arn:aws:s3:::${sm.runBucketName}/runs/2026-11-23T12:00:00.000Z/accounts.json`;
      expect(allows('s3:GetObject', accountList)).toBe(true);
      expect(allows('s3:PutObject', accountList)).toBe(false);
      expect(allows('s3:GetObject', `arn:aws:s3:::another-bucket/runs/x/accounts.json`)).toBe(false);
      // It invokes exactly the three step functions, and nothing writes through it.
      const invoked = statements
        .filter((s) => s.Action === 'lambda:InvokeFunction')
        .map((s) => (s.Resource as { 'Fn::GetAtt': [string] }[])[0]!['Fn::GetAtt'][0])
        .sort();
      expect(invoked).toEqual(STEPS.map((s) => sm.steps[s].logicalId).sort());
      const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
      expect(actions.filter((a) => /^s3:(Put|Delete)/.test(a))).toEqual([]);
    });
  });
});
