/**
 * `npm run bench -- --only engine`: the Step Functions engine (lib/constructs/scanner-state-machine.ts)
 * on the local interpreter, against the stand-ins the other parts use (an organization of member
 * accounts of {@link ORG_USERS} users, each member's IAM endpoint with 20 ms latency and its own
 * throttle, dynalite for the state table, Secrets Manager, EventBridge, the Slack receiver).
 *
 * - The definition is the one `cdk synth` produces for an organization with the construct's defaults
 *   (test/support/bundled-lambda.ts `synthesizeStateMachine`); its map's `MaxConcurrency` is set to
 *   each level measured (10, the default, 40, 100) in the resolved definition, nothing else changed.
 * - Executions run on aws-local-stepfunctions with the harness's Distributed Map emulation
 *   (test/support/state-machine.ts `runLocally`), each Lambda task bound to lambda/steps.ts
 *   `createSteps` IN THIS PROCESS, with a file-backed run store ({@link FileRunStore}) in place of S3.
 *   Everything (steps, stand-ins, interpreter) shares one Node thread: wall times here are bounded by
 *   that thread's CPU once enough children run at once; the service runs each child in its own Lambda.
 * - One child (scanBatch of the org's first accounts: the same accounts, as many in every organization
 *   measured, {@link CHILD_SAMPLES} fresh processes each) and the deliver step are also run in a fresh
 *   Node process on the synthesized bundle, exactly what Lambda runs, for their own wall time, CPU and
 *   peak RSS (its own: bench/peak-rss.cjs).
 * - The single-invocation engine (lambda/handler.ts `createHandler`, in this process) on the same
 *   organization: its steady state on the state table the engine left (a switch of engine), and its
 *   first scan of the smaller organization.
 *
 * What is measured and what is derived from it ({@link engineText}) is said on the page.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DELTA_READ_CONCURRENCY, WHOLE_READ_CONCURRENCY } from '../lambda/adapters/run-store';
import { DynamoStateStore } from '../lambda/adapters/state-store';
import { EXECUTION_TIMEOUT_MS } from '../lambda/contracts';
import { DEFAULT_CHANNEL } from '../lambda/core/routing';
import { PART_FLUSH_BYTES } from '../lambda/delta-parts';
import { createHandler } from '../lambda/handler';
import type { AccountItem, DeltaPart, DeltaReadOptions, RunStore } from '../lambda/ports';
import { createSteps, ROLL_UP_PART } from '../lambda/steps';
import { DELIVERY_MARGIN_MS } from '../lambda/wiring';
import { loadConfig } from '../lib/config';
import { schedulePeriodMinutes } from '../lib/config/schedule';
import { STATE_MACHINE_DEFAULTS } from '../lib/constructs/scanner-state-machine';
import { generateAccount } from '../test/support/account-generator';
import { startEventBridgeEndpoint, startSecretsManagerEndpoint } from '../test/support/aws-json-endpoints';
import {
  localStepEnvironment,
  type SynthesizedStateMachine,
  synthesizeStateMachine,
} from '../test/support/bundled-lambda';
import { startDynalite } from '../test/support/dynalite';
import { startOrganization } from '../test/support/organization-endpoints';
import { startSlackReceiver } from '../test/support/slack-receiver';
import { runLocally } from '../test/support/state-machine';
import { runNode } from './child';
import { generateReports, settle } from './endpoints';
import { BenchError } from './errors';
import { num } from './markdown';
import { PEAK_RSS_MODULE } from './peak-rss.cjs';
import { HARNESS, MEMBER_ROLE, ORG_USERS, SEED } from './settings';

/** Accounts per map child and children at once: the construct's defaults (STATE_MACHINE_DEFAULTS). */
const BATCH: number = STATE_MACHINE_DEFAULTS.batchSize;
const DEFAULT_CONCURRENCY = 10;
/** The map concurrency levels measured on the larger organization. */
const CONCURRENCY_LEVELS = [10, 40, 100] as const;
export const DEFAULT_ENGINE_ACCOUNTS = [50, 200];
/** Fresh processes a child is run in, per organization and scan: its figures are the median's. */
const CHILD_SAMPLES = 3;
/** Executions a first scan is given to finish in (each deliver step within its timeout). */
const MAX_FIRST_RUNS = 4;
const SECRET_NAME = 'credwatch/slack-webhooks';
/** The default schedule: every 10 minutes, 30 days. */
const RUNS_PER_MONTH = 4_320;
const EXTRAPOLATE_TO = [100, 1_000, 5_000] as const;
const MIB = 1024 * 1024;
/** Sizes the deliver step is measured at on copied deltas (`--engine-deliver-accounts`). */
export const DEFAULT_SCALE_ACCOUNTS = [1_000, 5_000] as const;
/**
 * V8's old space for the deliver step on copied deltas: what a 512 MB function leaves it once the
 * bundle's code, the young generation and buffers have their share (the target is 512 MB of RSS).
 */
const DELIVER_SCALE_HEAP_MIB = 384;
const DELIVER_TARGET_MIB = 512;

/**
 * us-east-1 list prices (checked 2026-12; see docs/organization.md, "Engines", for the pages):
 * Step Functions Standard per state transition, Express per request and per GB-s (64 MB chunks,
 * 100 ms increments), Lambda Arm per request and per GB-s (the functions are ARM_64), S3 Standard
 * per PUT/LIST and per GET request.
 */
export const PRICES = {
  standardTransition: 0.025 / 1_000,
  expressRequest: 1 / 1_000_000,
  expressGbS: 0.00001667,
  expressMemoryGb: 64 / 1024,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaArmGbS: 0.0000133334,
  s3Put: 0.005 / 1_000,
  s3Get: 0.0004 / 1_000,
} as const;
/** The functions' memory (ScannerFunction default 512 MB; the deliver step's default 1,024 MB). */
const STEP_MEMORY_MB = { discover: 512, scanBatch: 512, deliver: 1_024 } as const;
/** Lambda gives one vCPU at 1,769 MB, in proportion below it. */
const MB_PER_VCPU = 1_769;
const ORCHESTRATION_TARGET_USD = 20;
/** The default schedule's period (lib/config), and what a deliver step has of its timeout. */
const SCHEDULE_PERIOD_MS = schedulePeriodMinutes(loadConfig({}, 'the default configuration')) * 60_000;
/** The default configuration's reminder interval (lib/config), which the bundle's steps run with. */
const REMINDER_INTERVAL_MS = loadConfig({}, 'the default configuration').reminderHours * 3_600_000;
const DELIVER_USABLE_MS = STATE_MACHINE_DEFAULTS.stepTimeout.toMilliseconds() - DELIVERY_MARGIN_MS;

const log = (message: string) => process.stderr.write(`[bench] engine: ${message}\n`);

// ---------------------------------------------------------------------------------------------
// The run store: the S3RunStore's objects, as files (the in-process steps and the fresh children)
// ---------------------------------------------------------------------------------------------

/**
 * The run bucket's objects (`runs/<runId>/accounts.json`, `runs/<runId>/deltas/<batch>-<attempt>-<part>.jsonl`) in a
 * directory; a part is JSON Lines of deltas here too, read a line at a time (the header line and the
 * checks are lambda/adapters/run-store.ts's, tested on moto).
 */
class FileRunStore implements RunStore {
  bytesWritten = 0;
  objectsWritten = 0;
  constructor(private readonly dir: string) {}
  private path(runId: string, ...rest: string[]) {
    return join(this.dir, runId, ...rest);
  }
  async putAccounts(runId: string, accounts: readonly AccountItem[]) {
    mkdirSync(this.path(runId), { recursive: true });
    writeFileSync(this.path(runId, 'accounts.json'), JSON.stringify(accounts));
    return { key: `runs/${runId}/accounts.json` };
  }
  async getAccounts(runId: string) {
    return JSON.parse(readFileSync(this.path(runId, 'accounts.json'), 'utf8')) as AccountItem[];
  }
  async putDeltas(runId: string, at: DeltaPart, deltas: readonly unknown[]) {
    mkdirSync(this.path(runId, 'deltas'), { recursive: true });
    // JSON Lines, a delta a line, as S3RunStore writes (and reads, a line at a time).
    const text = deltas.map((d) => JSON.stringify(d)).join('\n');
    this.bytesWritten += Buffer.byteLength(text);
    this.objectsWritten++;
    const name = `${at.batch}-${at.attempt}-${String(at.part).padStart(4, '0')}.jsonl`;
    writeFileSync(this.path(runId, 'deltas', name), text);
    return { key: `runs/${runId}/deltas/${name}` };
  }
  async deltas(runId: string, options: DeltaReadOptions = {}) {
    const dir = this.path(runId, 'deltas');
    const deltas = new Map<string, unknown>();
    const sources = new Map<string, string>();
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // no delta written
    }
    // (The bench's runs have one attempt a child: no account is in two files.)
    const only = options.sources;
    for (const f of names) {
      const key = `runs/${runId}/deltas/${f}`;
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const d = JSON.parse(line) as { accountId: string };
        if (only && only.get(d.accountId) !== key) continue;
        deltas.set(d.accountId, options.project ? await options.project(d) : d);
        sources.set(d.accountId, key);
      }
    }
    return { deltas, unreadable: [], sources };
  }
}

/**
 * Runs in a fresh process: the synthesized bundle's `createSteps` with the same file-backed store
 * (plain JS), one invocation of one step, then what it cost. argv: entry, event JSON, options JSON.
 */
const RUNNER = `
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
// The heap in use (JS heap and external memory) just after each full GC: what the step holds, not
// the garbage a lazy collector leaves on a large machine (peak RSS counts both).
let liveMax = 0;
let fullGcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
    fullGcs++;
    const m = process.memoryUsage();
    liveMax = Math.max(liveMax, m.heapUsed + m.external);
  }
}).observe({ entryTypes: ['gc'] });
const [entry, eventJson, optionsJson] = process.argv.slice(1);
const options = JSON.parse(optionsJson);
// This process's own peak RSS (maxRSS would count the bench's at the fork): bench/peak-rss.cjs.
const { peakRssKiB } = createRequire(options.peakRssModule)(options.peakRssModule);
const p = (runId, ...rest) => join(options.runDir, runId, ...rest);
let bytesWritten = 0;
let objectsWritten = 0;
const runStore = {
  async putAccounts(runId, accounts) {
    mkdirSync(p(runId), { recursive: true });
    writeFileSync(p(runId, 'accounts.json'), JSON.stringify(accounts));
    return { key: 'runs/' + runId + '/accounts.json' };
  },
  async getAccounts(runId) { return JSON.parse(readFileSync(p(runId, 'accounts.json'), 'utf8')); },
  async putDeltas(runId, at, deltas) {
    mkdirSync(p(runId, 'deltas'), { recursive: true });
    const text = deltas.map((d) => JSON.stringify(d)).join('\\n');
    bytesWritten += Buffer.byteLength(text);
    objectsWritten++;
    const name = at.batch + '-' + at.attempt + '-' + String(at.part).padStart(4, '0') + '.jsonl';
    writeFileSync(p(runId, 'deltas', name), text);
    return { key: 'runs/' + runId + '/deltas/' + name };
  },
  async deltas(runId, options = {}) {
    const dir = p(runId, 'deltas');
    const deltas = new Map();
    const sources = new Map();
    let names = [];
    try { names = readdirSync(dir); } catch {}
    const only = options.sources;
    // As many objects at once as S3RunStore reads, each a line at a time as it is read, as it does;
    // or, with whole (deliver's second read of a baseline), each read whole first, fewer at once.
    let next = 0;
    const reader = async () => {
      while (next < names.length) {
        const f = names[next++];
        const key = 'runs/' + runId + '/deltas/' + f;
        const lines = options.whole
          ? readFileSync(join(dir, f), 'utf8').split('\\n')
          : createInterface({ input: createReadStream(join(dir, f), { encoding: 'utf8' }), crlfDelay: Infinity });
        for await (const line of lines) {
          const d = JSON.parse(line);
          if (only && only.get(d.accountId) !== key) continue;
          deltas.set(d.accountId, options.project ? await options.project(d) : d);
          sources.set(d.accountId, key);
        }
      }
    };
    await Promise.all(Array.from({ length: options.whole ? ${WHOLE_READ_CONCURRENCY} : ${DELTA_READ_CONCURRENCY} }, reader));
    return { deltas, unreadable: [], sources };
  },
};
const { createSteps } = await import(entry);
const step = createSteps({ webhookHosts: options.webhookHosts, runStore })[options.step];
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
const started = Date.now();
const context = {
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:credwatch-' + options.step,
  getRemainingTimeInMillis: () => Math.max(0, options.timeoutMs - (Date.now() - started)),
};
let result, error;
try { result = await step(JSON.parse(eventJson), context); } catch (e) { error = String(e && e.message); }
const wallMs = Date.now() - started;
const cpu = process.cpuUsage(cpuBefore);
writeFileSync(options.out, JSON.stringify({
  result, error, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, bytesWritten, objectsWritten,
  rssBeforeMiB: rssBefore / ${MIB}, maxRssMiB: (peakRssKiB() * 1024) / ${MIB},
  liveHeapMaxMiB: liveMax / ${MIB}, fullGcs,
}));
`;

/** One step in a fresh process. */
export interface ChildRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  /** RSS once the bundle was loaded, before the invocation. */
  readonly rssBeforeMiB: number;
  readonly maxRssMiB: number;
  /** Delta bytes it wrote (scanBatch). */
  readonly bytesWritten: number;
  /** Run bucket objects it wrote (scanBatch: its parts). */
  readonly objectsWritten: number;
  /** The largest heap in use (JS heap + external) just after a full GC; 0 when none ran. */
  readonly liveHeapMaxMiB?: number;
  readonly fullGcs?: number;
  readonly error?: string;
}

/** One execution on the interpreter. */
export interface ExecutionRun {
  readonly accounts: number;
  readonly maxConcurrency: number;
  readonly scan: 'first' | 'steady';
  readonly status: string;
  readonly error?: string;
  readonly wallMs: number;
  /** This process's CPU over the execution: steps, stand-ins and interpreter. */
  readonly processCpuMs: number;
  readonly children: number;
  readonly peakConcurrency: number;
  /** States entered in the parent (retries included) plus one per child started: what Standard bills. */
  readonly parentTransitions: number;
  /** State transitions inside the children (Express bills duration, not transitions). */
  readonly childTransitions: number;
  readonly lambdaInvocations: number;
  /** Wall of each step (discover, deliver) and the children's (in this process, sharing its thread). */
  readonly discoverMs: number;
  readonly deliverMs: number;
  readonly childMs: { readonly min: number; readonly median: number; readonly max: number };
  readonly iamCalls: number;
  readonly findings: number;
  readonly changes: number;
  readonly slackMessages: number;
  readonly deltaBytes: number;
  /** Delta objects (parts) the children wrote. */
  readonly deltaObjects?: number;
  /** The deliver step of this execution ran in a fresh process: its figures. */
  readonly deliverChild?: ChildRun;
  /** A first scan that took several executions: which one this is (1, 2, …). */
  readonly run?: number;
  /**
   * The run after the first scan, which also publishes the events the first left in the outbox (a
   * first scan's deliver step can run out of time publishing them): not a steady state.
   */
  readonly afterFirst?: boolean;
}

/** The deliver step on copied deltas (measureOrg `deliverAtScale`). */
export interface ScaleDeliver {
  /** `roll-up`: the steady state's deltas, every one with its channel's roll-up due. */
  readonly scan: 'first' | 'steady' | 'roll-up';
  readonly accounts: number;
  /** The organization whose deltas were copied: its size. */
  readonly copiedFrom: number;
  readonly deltaBytes: number;
  readonly deltaObjects: number;
  /** Its figures, when the process finished (`run.error`: the step failed, e.g. out of time). */
  readonly run?: ChildRun;
  /** Why the process itself died (out of memory at the cap, the watchdog). */
  readonly died?: string;
}

export interface OrgEngineFigures {
  readonly accounts: number;
  /** The child measured alone: its accounts (the organization's first). @default BATCH (older runs: the last BATCH) */
  readonly childAccounts?: number;
  /** The sample of median peak RSS of {@link CHILD_SAMPLES}. */
  readonly batchFirst: ChildRun;
  readonly batchSteady: ChildRun;
  /** Every sample's peak RSS (MiB), in the order run. */
  readonly batchFirstRssMiB?: readonly number[];
  readonly batchSteadyRssMiB?: readonly number[];
  readonly executions: ExecutionRun[];
  /** The deliver step on this organization's deltas copied to larger sizes (the largest organization only). */
  readonly atScale?: readonly ScaleDeliver[];
  /** The single-invocation engine on the same organization. */
  readonly single: { readonly scan: 'first' | 'steady'; readonly wallMs: number; readonly changes: number }[];
}

export interface EngineFigures {
  readonly started: string;
  readonly durationMs: number;
  readonly machine: string;
  /** 1-minute load average before and after (the machine may be shared). */
  readonly load?: { readonly before: number; readonly after: number };
  readonly usersPerAccount: number;
  readonly orgs: OrgEngineFigures[];
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};

/** Measures the engine at each organization size (sorted); the largest also at every concurrency level. */
export async function measureEngine(
  tmp: string,
  sizes: readonly number[],
  scaleSizes: readonly number[] = DEFAULT_SCALE_ACCOUNTS,
): Promise<EngineFigures> {
  if (sizes.length < 2) {
    throw new BenchError(
      '--engine-accounts: give two organization sizes (the per-account costs are the line through them)',
    );
  }
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = os.loadavg()[0]!;
  // The steps and the stand-ins print their Powertools logs and EMF metrics on stdout, where the
  // benchmark writes its page: swallowed while measuring (Lambda pays for them; they cost little CPU).
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const savedEnv = { ...process.env };
  try {
    log('synthesizing the state machine (organization source, construct defaults)');
    const sm = synthesizeStateMachine();
    const orgs: OrgEngineFigures[] = [];
    const largest = Math.max(...sizes);
    // The same accounts in every organization: as many as the smallest has, up to a batch.
    const childAccounts = Math.min(BATCH, ...sizes);
    for (const count of sizes) {
      orgs.push(await measureOrg(count, count === largest, tmp, sm, childAccounts, scaleSizes));
    }
    return {
      started: startedAt.toISOString(),
      durationMs: performance.now() - t0,
      machine: `${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'CPU'} × ${os.cpus().length}, Node ${process.version}`,
      load: { before: loadBefore, after: os.loadavg()[0]! },
      usersPerAccount: ORG_USERS,
      orgs,
    };
  } finally {
    process.stdout.write = realWrite;
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
}

type Step = 'discover' | 'scanBatch' | 'deliver';

async function measureOrg(
  count: number,
  sweep: boolean,
  tmp: string,
  sm: SynthesizedStateMachine,
  childAccounts: number,
  scaleSizes: readonly number[],
): Promise<OrgEngineFigures> {
  // The scans part's accounts (same ids and seeds), dated by the real clock: the steps judge by it.
  const now = new Date();
  const members = Array.from({ length: count }, (_, i) => {
    const id = String(100_000_000_000 + i);
    return {
      account: generateAccount({ accountId: id, users: ORG_USERS, seed: `${SEED}:${id}`, now }),
      name: `bench-member-${String(i + 1).padStart(3, '0')}`,
    };
  });
  log(`${count} accounts × ${ORG_USERS} users: starting the organization and the stand-ins`);
  const org = await startOrganization({
    accounts: members,
    memberRoleName: MEMBER_ROLE,
    iam: { ...HARNESS },
  });
  const endpoints = members.map((m) => org.iam(m.account.accountId));
  const slack = await startSlackReceiver();
  const secrets = await startSecretsManagerEndpoint({ secrets: { [SECRET_NAME]: slack.url } });
  const bus = await startEventBridgeEndpoint();
  let dynamo = await startDynalite();
  const webhookHosts = [new URL(slack.url).host];
  const iamCalls = () => {
    let n = 0;
    for (const e of endpoints) for (const v of Object.values(e.counts() as Record<string, number>)) n += v;
    return n;
  };
  const quiet = () => settle(endpoints);
  const envOf = (step: Step) => ({
    ...localStepEnvironment(sm.steps[step], sm.runBucketLogicalId, {
      secretName: SECRET_NAME,
      tableName: dynamo.tableName,
      iam: org.iamUrl,
      dynamodb: dynamo.endpoint,
      secretsManager: secrets.url,
      eventBridge: bus.url,
      runBucket: sm.runBucketName,
      // Never called: the steps are given a file-backed run store.
      s3: 'http://127.0.0.1:9',
    }),
    AWS_ENDPOINT_URL_STS: org.stsUrl,
    AWS_ENDPOINT_URL_ORGANIZATIONS: org.organizationsUrl,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const useEnv = (env: Record<string, string>) => {
    Object.assign(process.env, env);
  };
  let seq = 0;
  const runDir = join(tmp, `engine-runs-${count}`);
  /** Copies of the organization's accounts made so far by deliverAtScale. */
  let copiesMade = 0;
  /** The state table's run lease, as discover takes it and deliver gives it back. */
  const leases = () =>
    new DynamoStateStore({
      tableName: dynamo.tableName,
      client: dynamo.client,
      defaultChannel: DEFAULT_CHANNEL,
    });
  /** The first run of each kind that discover started: its id and accounts (for {@link deliverAtScale}). */
  const discovered: Partial<Record<'first' | 'steady', { runId: string; accounts: readonly AccountItem[] }>> =
    {};

  /** One step in a fresh process, on the synthesized bundle. */
  const inChild = async (
    step: Step,
    event: unknown,
    dir: string,
    how: { readonly nodeArgs?: readonly string[]; readonly tolerate?: boolean } = {},
  ): Promise<ChildRun & { result?: unknown }> => {
    const out = join(tmp, `engine-child-${++seq}.json`);
    const options = {
      step,
      runDir: dir,
      out,
      webhookHosts,
      timeoutMs: sm.steps[step].timeoutSeconds * 1000,
      peakRssModule: PEAK_RSS_MODULE,
    };
    const env = envOf(step);
    const saved = { ...process.env };
    // runNode passes this process's environment on: the step's own, for the child only.
    Object.assign(process.env, env);
    try {
      await runNode(
        [
          ...(how.nodeArgs ?? []),
          '--input-type=module',
          '-e',
          RUNNER,
          sm.steps[step].entry,
          JSON.stringify(event),
          JSON.stringify(options),
        ],
        { timeoutMs: 10 * 60_000, what: `engine ${step} child` },
      );
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const r = JSON.parse(readFileSync(out, 'utf8')) as ChildRun & { result?: unknown };
    rmSync(out);
    if (r.error !== undefined && !how.tolerate) throw new BenchError(`engine ${step} child: ${r.error}`);
    return r;
  };

  /** One execution of the definition at `maxConcurrency`; deliver in a fresh process when asked. */
  const execute = async (
    maxConcurrency: number,
    scan: 'first' | 'steady',
    deliverInChild: boolean,
    /** A first scan's run that may fail (its deliver step out of time): its figures are returned. */
    first?: { readonly run: number; readonly mayFail: boolean },
    /** The run after the first scan: it also publishes what the first left in the outbox. */
    afterFirst = false,
  ): Promise<ExecutionRun> => {
    let runId: string | undefined;
    const definition = structuredClone(sm.machine.definition);
    for (const state of Object.values(definition.States)) {
      if (state.Type === 'Map') state.MaxConcurrency = maxConcurrency;
    }
    const store = new FileRunStore(runDir);
    const env = { scanBatch: envOf('scanBatch'), discover: envOf('discover'), deliver: envOf('deliver') };
    // One createSteps per step, each wired on its first call from its own function's environment
    // (the steps run one after the other: discover, the children, deliver).
    const steps = {
      discover: createSteps({ webhookHosts, runStore: store }).discover,
      scanBatch: createSteps({ webhookHosts, runStore: store }).scanBatch,
      deliver: createSteps({ webhookHosts, runStore: store }).deliver,
    };
    const timings = { discover: 0, deliver: 0, children: [] as number[] };
    let deliverChild: ChildRun | undefined;
    const context = (step: Step) => {
      const started = Date.now();
      return {
        invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:credwatch-${step}`,
        getRemainingTimeInMillis: () =>
          Math.max(0, sm.steps[step].timeoutSeconds * 1000 - (Date.now() - started)),
      } as never;
    };
    const handlers = {
      [sm.steps.discover.logicalId]: async (payload: unknown) => {
        useEnv(env.discover);
        const t = performance.now();
        const r = await steps.discover(payload, context('discover'));
        timings.discover = performance.now() - t;
        if ('runId' in r) {
          runId = r.runId;
          if (!afterFirst)
            discovered[scan] ??= {
              runId: r.runId,
              accounts: r.accounts ?? (await store.getAccounts(r.runId)),
            };
        }
        useEnv(env.scanBatch);
        return r;
      },
      [sm.steps.scanBatch.logicalId]: async (payload: unknown) => {
        const t = performance.now();
        const r = await steps.scanBatch(payload, context('scanBatch'));
        timings.children.push(performance.now() - t);
        return r;
      },
      [sm.steps.deliver.logicalId]: async (payload: unknown) => {
        const t = performance.now();
        if (deliverInChild) {
          const r = await inChild('deliver', payload, runDir, { tolerate: first?.mayFail ?? false });
          deliverChild = r;
          timings.deliver = performance.now() - t;
          // The task fails as the function would (its result incomplete: out of time).
          if (r.error !== undefined) throw new Error(r.error);
          return r.result;
        }
        useEnv(env.deliver);
        const r = await steps.deliver(payload, context('deliver'));
        timings.deliver = performance.now() - t;
        return r;
      },
    };
    const slackBefore = slack.delivered().length;
    const callsBefore = iamCalls();
    const cpu = process.cpuUsage();
    const t = performance.now();
    const at = new Date();
    const run = await runLocally(definition, {
      handlers: handlers as never,
      input: { source: 'credwatch.schedule', scheduledTime: at.toISOString(), executionId: `bench-${++seq}` },
      context: { Execution: { Name: `credwatch-bench-${at.getTime()}` } },
      // A failed map or deliver gives the run lease back through a DynamoDB task; the benchmark's
      // runs succeed, so it is never reached: refused loudly if it is.
      tasks: {
        'Release the run lease': async () => {
          if (!first?.mayFail || runId === undefined) {
            throw new BenchError('engine: a run failed and reached "Release the run lease"');
          }
          // A first scan whose deliver step ran out of time: the step gave the lease back already
          // (its finally); the state machine's conditional delete finds nothing to delete.
          await leases().release(runId);
          return {};
        },
      },
      // The map's ItemReader (the run bucket's account list, when it is not inline): the store's file.
      itemReader: async (req) => {
        const { Key } = req.parameters as { Key: string };
        return JSON.parse(readFileSync(join(runDir, Key.replace(/^runs\//, '')), 'utf8')) as unknown[];
      },
    });
    const wallMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    const top = new Set(Object.keys(definition.States));
    let parentEntered = 0;
    let childEntered = 0;
    for (const e of run.events) {
      if (e.type !== 'StateEntered' && e.type !== 'StateRetried') continue;
      if (top.has(e.state.name)) parentEntered++;
      else if (e.type === 'StateEntered') childEntered++;
    }
    const mapRun = run.mapRuns[0];
    const children = mapRun?.children ?? 0;
    const results = (mapRun?.results ?? []).map((r) => r.output as { changes?: number } | undefined);
    const summary = run.status === 'SUCCEEDED' ? (run.output as { findings?: number; changes?: number }) : {};
    const figures: ExecutionRun = {
      accounts: count,
      maxConcurrency,
      scan,
      status: run.status,
      ...(run.status === 'FAILED' ? { error: `${run.error}: ${run.cause.slice(0, 300)}` } : {}),
      wallMs,
      processCpuMs: (used.user + used.system) / 1000,
      children,
      peakConcurrency: mapRun?.peakConcurrency ?? 0,
      parentTransitions: parentEntered + children,
      childTransitions: childEntered,
      lambdaInvocations: run.invocations.length + (deliverInChild ? 1 : 0),
      discoverMs: timings.discover,
      deliverMs: timings.deliver,
      childMs: {
        min: Math.min(...timings.children),
        median: median(timings.children),
        max: Math.max(...timings.children),
      },
      iamCalls: iamCalls() - callsBefore,
      findings: summary.findings ?? 0,
      changes: summary.changes ?? results.reduce((n, r) => n + (r?.changes ?? 0), 0),
      slackMessages: slack.delivered().length - slackBefore,
      deltaBytes: store.bytesWritten,
      deltaObjects: store.objectsWritten,
      ...(deliverChild ? { deliverChild } : {}),
      ...(first ? { run: first.run } : {}),
      ...(afterFirst ? { afterFirst: true } : {}),
    };
    if (run.status !== 'SUCCEEDED' && !first?.mayFail) {
      throw new BenchError(
        `engine: ${count} accounts, ${scan} scan at concurrency ${maxConcurrency}: ${figures.error}`,
      );
    }
    log(
      `${count} accounts, ${scan} scan, concurrency ${maxConcurrency}: ${num(wallMs / 1000, 1)} s, ${children} children, ${figures.parentTransitions} parent transitions`,
    );
    return figures;
  };

  /**
   * One child of the organization's first `childAccounts` accounts (the same accounts in every
   * organization measured) in {@link CHILD_SAMPLES} fresh processes: the median's figures, and every
   * sample's peak RSS.
   */
  const sampleBatch = async (): Promise<{ run: ChildRun; rss: number[] }> => {
    const items = members.slice(0, childAccounts).map((m) => ({ id: m.account.accountId, name: m.name }));
    const runs: ChildRun[] = [];
    for (let n = 0; n < CHILD_SAMPLES; n++) {
      const runId = `scheduled-bench-batch-${++seq}`;
      runs.push(
        await inChild(
          'scanBatch',
          { BatchInput: { runId, now: new Date().toISOString() }, Items: items },
          join(tmp, 'scratch'),
        ),
      );
      await quiet();
    }
    const rss = runs.map((r) => r.maxRssMiB);
    const byRss = [...runs].sort((a, b) => a.maxRssMiB - b.maxRssMiB);
    return { run: byRss[Math.floor(byRss.length / 2)]!, rss };
  };

  /**
   * The deliver step at `target` accounts (rounded up to whole copies of this organization),
   * measured, not extrapolated: the parts this organization's children wrote in its first run of
   * `scan` are copied under account ids it does not have (copy k of account i: its id + k × the
   * organization's size, k counting on from the copies made before), and deliver reads them in a
   * fresh process on the bundle, with V8's old space capped at {@link DELIVER_SCALE_HEAP_MIB} (a 512 MB function's room). The copies'
   * state partitions are new: a first scan's deliver commits every copied finding as new, a steady
   * state's has nothing to commit (its deltas are known and say nothing).
   */
  const deliverAtScale = async (scan: ScaleDeliver['scan'], target: number): Promise<ScaleDeliver> => {
    const from = discovered[scan === 'roll-up' ? 'steady' : scan];
    if (!from) throw new BenchError(`engine: no ${scan} run to copy the deltas of`);
    const size = from.accounts.length;
    const copies = Math.ceil(target / size);
    const accounts = copies * size;
    const runId = `${from.runId.split('_')[0]}_credwatch-bench-scale-${scan}-${accounts}-${Date.now()}`;
    const base = new Set(from.accounts.map((a) => a.id));
    // Ids no account of the organization, nor an earlier copy, has: their state partitions are new.
    const offset = copiesMade + 1;
    copiesMade += copies;
    const idOf = (id: string, k: number) => String(Number(id) + (offset + k) * size);
    const items: AccountItem[] = [];
    for (let k = 0; k < copies; k++) {
      for (const a of from.accounts) {
        items.push({ ...a, id: idOf(a.id, k), ...(a.name ? { name: `${a.name}-${offset + k}` } : {}) });
      }
    }
    const dir = join(runDir, runId, 'deltas');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(runDir, runId, 'accounts.json'), JSON.stringify(items));
    const src = join(runDir, from.runId, 'deltas');
    let bytes = 0;
    let objects = 0;
    for (const f of readdirSync(src)) {
      const text = readFileSync(join(src, f), 'utf8');
      const first = f.slice(0, 12);
      if (!base.has(first)) throw new BenchError(`engine: ${f}: not named by its batch's first account`);
      for (let k = 0; k < copies; k++) {
        const copied = text
          .replace(/\b\d{12}\b/g, (id) => (base.has(id) ? idOf(id, k) : id))
          .replace(/"name":"(bench-member-\d+)"/g, `"name":"$1-${offset + k}"`);
        // A roll-up due, as a day after the findings were last said: each delta says its account's
        // reminders are due in the default channel (every delta's roll-up is then read), and each
        // remembered state was last said a reminder interval and an hour ago (not minutes ago, by the
        // first scan just run: those a roll-up in parts would leave out as said).
        const copy =
          scan === 'roll-up'
            ? copied
                .replace(/^\{"/gm, `{"dueChannels":["${DEFAULT_CHANNEL}"],"`)
                .replace(/"lastNotifiedAt":"([^"]+)"/g, (_all, at: string) => {
                  const earlier = Date.parse(at) - REMINDER_INTERVAL_MS - 3_600_000;
                  if (Number.isNaN(earlier))
                    throw new BenchError(`engine: ${f}: lastNotifiedAt ${at} is not a time`);
                  return `"lastNotifiedAt":"${new Date(earlier).toISOString()}"`;
                })
            : copied;
        if (scan === 'roll-up' && copy === copied) {
          throw new BenchError(`engine: ${f}: no delta line (a JSON object) to make its roll-up due`);
        }
        writeFileSync(join(dir, `${idOf(first, k)}${f.slice(12)}`), copy);
        bytes += Buffer.byteLength(copy);
        objects++;
      }
    }
    const state = leases();
    const now = new Date();
    // discover's lease, which deliver checks and gives back.
    const lease = await state.acquire(runId, now, new Date(now.getTime() + EXECUTION_TIMEOUT_MS));
    if (!lease.acquired) throw new BenchError(`engine: run ${lease.heldBy} holds the run lease`);
    log(
      `deliver at ${accounts} accounts (${scan}): ${num(bytes / MIB, 1)} MiB of deltas in ${objects} parts`,
    );
    const figures = { scan, accounts, copiedFrom: size, deltaBytes: bytes, deltaObjects: objects };
    try {
      const run = await inChild(
        'deliver',
        { runId, now: now.toISOString(), accountsKey: `runs/${runId}/accounts.json` },
        runDir,
        { nodeArgs: [`--max-old-space-size=${DELIVER_SCALE_HEAP_MIB}`], tolerate: true },
      );
      log(
        `deliver at ${accounts} accounts (${scan}): ${num(run.wallMs / 1000, 1)} s, peak RSS ${num(run.maxRssMiB, 1)} MiB${run.error ? `, failed: ${run.error}` : ''}`,
      );
      return { ...figures, run };
    } catch (err) {
      // The process itself died: out of memory at the cap, or the watchdog.
      const message = (err as Error).message;
      const why = OUT_OF_MEMORY.test(message)
        ? `out of memory (V8's old space capped at ${DELIVER_SCALE_HEAP_MIB} MiB)`
        : (message.split('\n')[0] ?? '').slice(0, 200);
      log(`deliver at ${accounts} accounts (${scan}): ${why}`);
      return { ...figures, died: why };
    } finally {
      await state.release(runId).catch(() => {});
      rmSync(join(runDir, runId), { recursive: true, force: true });
    }
  };

  try {
    await generateReports(endpoints.map((e) => e.url));
    await quiet();
    const executions: ExecutionRun[] = [];
    const single: OrgEngineFigures['single'] = [];
    log(
      `${count} accounts: one child (${childAccounts} accounts) in ${CHILD_SAMPLES} fresh processes, first scan`,
    );
    const batchFirst = await sampleBatch();
    await quiet();
    // A first scan whose deliver step runs out of its time fails its execution (its result is
    // incomplete) and the next run announces the rest, as on AWS: run again until one succeeds.
    for (let n = 1; ; n++) {
      const e = await execute(DEFAULT_CONCURRENCY, 'first', true, { run: n, mayFail: n < MAX_FIRST_RUNS });
      executions.push(e);
      await quiet();
      if (e.status === 'SUCCEEDED') break;
      log(`${count} accounts, first scan, run ${n} failed (${e.error}); the next run goes on`);
    }
    await quiet();
    // The next run publishes what the first scan's deliver step left in the outbox (it may run out of
    // time publishing a first scan's events): measured apart, so that the steady state is one.
    executions.push(await execute(DEFAULT_CONCURRENCY, 'steady', true, undefined, true));
    await quiet();
    log(`${count} accounts: one child in ${CHILD_SAMPLES} fresh processes, steady state`);
    const batchSteady = await sampleBatch();
    await quiet();
    executions.push(await execute(DEFAULT_CONCURRENCY, 'steady', true));
    await quiet();
    if (sweep) {
      // Steady state only: the first scan's plan is the same at every level while the children are
      // no more than the lowest level (8 children of 25 at 200 accounts), and its time is the deliver
      // step's (below), which concurrency does not change.
      for (const c of CONCURRENCY_LEVELS.filter((l) => l !== DEFAULT_CONCURRENCY)) {
        executions.push(await execute(c, 'steady', false));
        await quiet();
      }
    }
    // The single-invocation engine, the same code below the handler: its steady state on the state
    // the engine left (switching engine keeps the table), then (smaller organization) its first scan.
    const runHandler = async (scan: 'first' | 'steady') => {
      useEnv(envOf('discover'));
      const handler = createHandler({ webhookHosts });
      const t = performance.now();
      const at = new Date();
      let changes = 0;
      try {
        const r = (await handler(
          { source: 'credwatch.schedule', scheduledTime: at.toISOString(), executionId: `single-${++seq}` },
          context(),
        )) as { changes?: number };
        changes = r.changes ?? 0;
      } catch (err) {
        throw new BenchError(
          `engine: the single invocation (${count} accounts, ${scan}): ${(err as Error).message}`,
        );
      }
      const wallMs = performance.now() - t;
      log(
        `${count} accounts, single invocation, ${scan} scan: ${num(wallMs / 1000, 1)} s, ${changes} changes`,
      );
      single.push({ scan, wallMs, changes });
    };
    const context = () =>
      ({
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:credwatch-scanner',
        getRemainingTimeInMillis: () => 900_000,
      }) as never;
    await runHandler('steady');
    await quiet();
    if (!sweep) {
      await dynamo.close();
      dynamo = await startDynalite();
      await runHandler('first');
    }
    // Last (a first scan's copies write the state table): the deliver step at larger sizes.
    const atScale: ScaleDeliver[] = [];
    if (sweep) {
      for (const target of scaleSizes.filter((n) => n > count)) {
        for (const scan of ['steady', 'roll-up', 'first'] as const) {
          atScale.push(await deliverAtScale(scan, target));
        }
      }
    }
    return {
      accounts: count,
      childAccounts,
      batchFirst: batchFirst.run,
      batchSteady: batchSteady.run,
      batchFirstRssMiB: batchFirst.rss,
      batchSteadyRssMiB: batchSteady.rss,
      executions,
      single,
      ...(atScale.length > 0 ? { atScale } : {}),
    };
  } finally {
    await Promise.all([org.close(), slack.close(), secrets.close(), bus.close(), dynamo.close()]);
    rmSync(runDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

const KEY = 'section:engine';
const open = `<!-- bench:${KEY} -->`;
const close = `<!-- /bench:${KEY} -->`;
const RERUN_MARK = '<!-- bench:rerun -->';

/**
 * The page with the engine's section: rendered from `figures` when measured now, else kept from
 * `previous`; placed before the rerun region (renderPage rebuilds the rest of the page without it).
 */
export function withEngineSection(
  doc: string,
  figures: EngineFigures | undefined,
  previous?: string,
): string {
  const keptText = (() => {
    if (!previous) return undefined;
    const a = previous.indexOf(open);
    const b = previous.indexOf(close);
    return a >= 0 && b > a
      ? previous
          .slice(a + open.length, b)
          .replace(/^\n/, '')
          .replace(/\n$/, '')
      : undefined;
  })();
  const text = figures ? engineText(figures) : keptText;
  if (text === undefined) return doc;
  const block = `${open}\n${text}\n${close}`;
  const a = doc.indexOf(open);
  const b = doc.indexOf(close);
  if (a >= 0 && b > a) return doc.slice(0, a) + block + doc.slice(b + close.length);
  const at = doc.indexOf(RERUN_MARK);
  if (at < 0) throw new BenchError('docs/benchmarks.md: no rerun region to put the engine section before');
  return `${doc.slice(0, at)}${block}\n\n${doc.slice(at)}`;
}

const sec = (ms: number, digits = 1) => `${num(ms / 1000, digits)} s`;
const mib = (m: number) => `${num(m, 1)} MiB`;
const usd = (x: number) => `$${num(x, 2)}`;
const yes = (ok: boolean) => (ok ? 'met' : '**not met**');

/** The line through two points (x = accounts), evaluated at `x`; never below 0 (a time, a size). */
function line(points: readonly (readonly [number, number])[], x: number): number {
  const [a, b] = [points[0]!, points[points.length - 1]!];
  if (a[0] === b[0]) return Math.max(0, (a[1] / a[0]) * x);
  const slope = (b[1] - a[1]) / (b[0] - a[0]);
  return Math.max(0, a[1] + slope * (x - a[0]));
}

/** What the figures say about N accounts (extrapolated). */
export interface Projection {
  readonly accounts: number;
  readonly batchSize: number;
  readonly children: number;
  readonly waves: number;
  /** Lambda duration of one child at 512 MB, steady state and first scan. */
  readonly childSteadyMs: number;
  readonly childFirstMs: number;
  readonly discoverMs: number;
  readonly deliverSteadyMs: number;
  readonly deliverFirstMs: number;
  readonly deliverFirstRssMiB: number;
  readonly deliverSteadyRssMiB: number;
  /** The same line through the heap in use after a full GC (undefined: not measured, or no full GC). */
  readonly deliverFirstLiveMiB?: number;
  readonly deliverSteadyLiveMiB?: number;
  readonly steadyWallMs: number;
  /** The first scan as if one deliver step could take all it needs. */
  readonly firstWallMs: number;
  /** Runs the first scan takes, each deliver step within its timeout, and their time from the first run's start. */
  readonly firstRuns: number;
  readonly firstInRunsMs: number;
  readonly monthly: {
    readonly transitions: number;
    readonly transitionsUsd: number;
    readonly expressRequestsUsd: number;
    readonly expressGbS: number;
    readonly expressGbSUsd: number;
    readonly lambdaRequestsUsd: number;
    readonly lambdaGbS: number;
    readonly lambdaGbSUsd: number;
    readonly s3Usd: number;
    /** Run bucket objects a run writes (the children's parts). */
    readonly s3Objects: number;
    readonly orchestrationUsd: number;
  };
}

const SHARE = {
  scanBatch: STEP_MEMORY_MB.scanBatch / MB_PER_VCPU,
  deliver: STEP_MEMORY_MB.deliver / MB_PER_VCPU,
};

/** A step's duration in Lambda: its wall here, or its CPU at the function's share of a vCPU if longer. */
const lambdaMs = (wallMs: number, cpuMs: number, share: number) => Math.max(wallMs, cpuMs / share);

/**
 * The steady-state execution measured with its deliver step in a fresh process (at the default
 * concurrency; not the run after the first scan): the figures every steady-state line is drawn from.
 */
function steadyRun(o: OrgEngineFigures): ExecutionRun | undefined {
  return o.executions.find(
    (e) => e.scan === 'steady' && !e.afterFirst && e.maxConcurrency === DEFAULT_CONCURRENCY && e.deliverChild,
  );
}

/** A first scan's executions (several when a deliver step ran out of time), in order. */
function firstRuns(o: OrgEngineFigures): ExecutionRun[] {
  return o.executions.filter((e) => e.scan === 'first' && e.maxConcurrency === DEFAULT_CONCURRENCY);
}

/**
 * A first scan as one execution: its runs' walls, CPU and calls summed. Its deliver step is every run's,
 * and the run after's (which publishes what the first left in the outbox), less each later run's read
 * of the deltas (a steady state's deliver): one read and all the first scan's commits and events.
 * Peaks are the largest.
 */
function firstScan(o: OrgEngineFigures): ExecutionRun {
  const runs = firstRuns(o);
  const after = o.executions.find((e) => e.afterFirst && e.deliverChild);
  const delivers = [...runs, ...(after ? [after] : [])].map((e) => e.deliverChild!);
  if (delivers.length === 1) return runs[0]!;
  const read = steadyRun(o)?.deliverChild;
  const reads = delivers.length - 1;
  const sum = (pick: (c: ChildRun) => number) => delivers.reduce((n, c) => n + pick(c), 0);
  const fullGcs = sum((c) => c.fullGcs ?? 0);
  const { error: _error, ...first } = delivers[0]!;
  return {
    // The first run's plan and changes (what the first scan had to announce), the runs' costs summed.
    ...runs[0]!,
    wallMs: runs.reduce((n, e) => n + e.wallMs, 0),
    processCpuMs: runs.reduce((n, e) => n + e.processCpuMs, 0),
    iamCalls: runs.reduce((n, e) => n + e.iamCalls, 0),
    deliverMs: runs.reduce((n, e) => n + e.deliverMs, 0),
    status: runs[runs.length - 1]!.status,
    deliverChild: {
      ...first,
      wallMs: Math.max(first.wallMs, sum((c) => c.wallMs) - reads * (read?.wallMs ?? 0)),
      cpuMs: Math.max(first.cpuMs, sum((c) => c.cpuMs) - reads * (read?.cpuMs ?? 0)),
      maxRssMiB: Math.max(...delivers.map((c) => c.maxRssMiB)),
      ...(fullGcs > 0 ? { liveHeapMaxMiB: Math.max(...delivers.map((c) => c.liveHeapMaxMiB ?? 0)) } : {}),
      fullGcs,
    },
  };
}

/** The deliver step at 5,000 accounts or more on a first scan's copied deltas died (out of memory at the cap). */
const firstDied = (o: OrgEngineFigures) =>
  (o.atScale ?? []).some((d) => d.scan === 'first' && d.accounts >= 5_000 && d.died !== undefined);

/**
 * Whether the deliver step's memory holds a first scan at the projection's size: measured at 5,000
 * accounts when it was (under the cap), otherwise its line.
 */
const firstFits = (o: OrgEngineFigures, p: Projection) => {
  const measured = measuredAtScale(o, 'first');
  return measured ? scaleMet(measured) : p.deliverFirstRssMiB <= STEP_MEMORY_MB.deliver && !firstDied(o);
};

/** How many runs the largest organization's first scan took (measured), for the targets' list. */
function firstRunsMeasured(o: OrgEngineFigures): string {
  const runs = firstRuns(o);
  const measured =
    runs.length < 2
      ? ''
      : ` Measured at ${num(o.accounts)} accounts: ${runs.length} runs (${runs.map((e) => `${sec(e.deliverMs, 0)} of deliver`).join(', ')}).`;
  return measured + rateAtScale(o);
}

/**
 * A first scan at 5,000 accounts from the deliver step measured there (copied deltas): the accounts
 * one run remembered before its deadline, from the error it ended with, give the runs it needs.
 */
function rateAtScale(o: OrgEngineFigures): string {
  const d = measuredAtScale(o, 'first');
  const left = d?.run?.error ? /: (\d+) of its (\d+) accounts are not remembered/.exec(d.run.error) : null;
  if (!d?.run || !left) return '';
  const here = Number(left[2]) - Number(left[1]);
  // On Lambda the step has its memory's share of a vCPU: what took this much CPU takes longer there.
  const slower = lambdaMs(d.run.wallMs, d.run.cpuMs, SHARE.deliver) / d.run.wallMs;
  const remembered = Math.floor(here / slower);
  if (remembered <= 0) return '';
  const runs = Math.ceil(d.accounts / remembered);
  const firstExecution = firstRuns(o)[0]?.wallMs ?? 0;
  const until = (runs - 1) * SCHEDULE_PERIOD_MS + firstExecution;
  return ` **Measured at ${num(d.accounts)} accounts** (copied deltas, above): one deliver step remembered ${num(here)} accounts' baselines before its deadline, ${slower > 1 ? `${num(remembered)} at the deliver function's share of a vCPU (its CPU ${sec(d.run.cpuMs, 0)} over ${sec(d.run.wallMs, 0)} of wall)` : "no fewer at the function's share of a vCPU"}, so a first scan of ${num(d.accounts)} needs ${runs} runs at that rate, the last ending about ${sec(until, 0)} after the first started (its execution taken as the ${num(o.accounts)}-account one's): ${yes(until <= 3_600_000)} by that rate. The line above is fitted through the 200- and 1,000-account first scans' deliver times instead; the two differ by how fast dynalite (in a neighbouring process, not DynamoDB) committed in each run.`;
}

/** An execution's row label: a first scan's run, and why it failed. */
function runLabel(o: OrgEngineFigures, e: ExecutionRun): string {
  if (e.afterFirst) return 'the run after the first scan (publishes the events it left in the outbox)';
  if (e.scan !== 'first') return 'steady state';
  const runs = firstRuns(o).length;
  const which = runs > 1 ? `, run ${e.run} of ${runs}` : '';
  if (e.status === 'SUCCEEDED') return `first scan${which}`;
  const why = e.deliverChild?.error ?? e.error ?? 'unknown';
  return `first scan${which} (failed: ${why.length > 140 ? `${why.slice(0, 140)}…` : why})`;
}

export function project(
  f: EngineFigures,
  accounts: number,
  batchSize = BATCH,
  concurrency = DEFAULT_CONCURRENCY,
): Projection {
  const orgs = [...f.orgs].sort((a, b) => a.accounts - b.accounts);
  const largest = orgs[orgs.length - 1]!;
  const exec = (o: OrgEngineFigures, scan: 'first' | 'steady') =>
    scan === 'first' ? firstScan(o) : steadyRun(o)!;
  const at = (pick: (o: OrgEngineFigures) => number) =>
    line(
      orgs.map((o) => [o.accounts, pick(o)] as const),
      accounts,
    );
  const perBatch = batchSize / (largest.childAccounts ?? BATCH);
  const childSteadyMs =
    lambdaMs(largest.batchSteady.wallMs, largest.batchSteady.cpuMs, SHARE.scanBatch) * perBatch;
  const childFirstMs =
    lambdaMs(largest.batchFirst.wallMs, largest.batchFirst.cpuMs, SHARE.scanBatch) * perBatch;
  /** The live heap's line, when every organization's deliver had a full GC to measure it by. */
  const liveLine = <K extends 'deliverFirstLiveMiB' | 'deliverSteadyLiveMiB'>(
    scan: 'first' | 'steady',
    key: K,
  ) =>
    orgs.every((o) => exec(o, scan).deliverChild?.fullGcs)
      ? ({ [key]: at((o) => exec(o, scan).deliverChild!.liveHeapMaxMiB!) } as Record<K, number>)
      : {};
  const deliver = (scan: 'first' | 'steady') =>
    lambdaMs(
      at((o) => exec(o, scan).deliverChild!.wallMs),
      at((o) => exec(o, scan).deliverChild!.cpuMs),
      SHARE.deliver,
    );
  const discoverMs = Math.max(
    0,
    at((o) => exec(o, 'steady').discoverMs),
  );
  const children = Math.ceil(accounts / batchSize);
  const waves = Math.ceil(children / concurrency);
  const deliverSteadyMs = deliver('steady');
  const deliverFirstMs = deliver('first');
  // Each run's deliver step first reads every delta (about what a steady state's deliver costs), then
  // commits what it has time left for; what it does not commit the next scheduled run does.
  const commitMs = Math.max(0, deliverFirstMs - deliverSteadyMs);
  const perRunMs = DELIVER_USABLE_MS - deliverSteadyMs;
  const firstRuns =
    commitMs === 0
      ? 1
      : perRunMs <= 0
        ? Number.POSITIVE_INFINITY
        : Math.max(1, Math.ceil(commitMs / perRunMs));
  const fixedTransitions = exec(largest, 'steady').parentTransitions - exec(largest, 'steady').children;
  const transitions = (fixedTransitions + children) * RUNS_PER_MONTH;
  const expressGbS =
    children * (Math.ceil(childSteadyMs / 100) / 10) * PRICES.expressMemoryGb * RUNS_PER_MONTH;
  const lambdaGbS =
    ((children * childSteadyMs * STEP_MEMORY_MB.scanBatch +
      deliverSteadyMs * STEP_MEMORY_MB.deliver +
      discoverMs * STEP_MEMORY_MB.discover) /
      1000 /
      1024) *
    RUNS_PER_MONTH;
  const transitionsUsd = transitions * PRICES.standardTransition;
  const expressRequestsUsd = children * RUNS_PER_MONTH * PRICES.expressRequest;
  const expressGbSUsd = expressGbS * PRICES.expressGbS;
  // The children's parts: a PUT each (a retried child writes its parts again) and a GET each (deliver),
  // a LIST per 1,000 keys. A child writes a part per PART_FLUSH_BYTES of its deltas (the minute's
  // flush never comes in children of ~13 s), its deltas as large as the steady state's measured ones.
  const steady = exec(largest, 'steady');
  const perChild = Math.max(
    1,
    Math.ceil(((steady.deltaBytes / steady.accounts) * Math.min(batchSize, accounts)) / PART_FLUSH_BYTES),
  );
  const objects = children * perChild;
  const s3Usd =
    RUNS_PER_MONTH * (objects * (PRICES.s3Put + PRICES.s3Get) + Math.ceil(objects / 1000) * PRICES.s3Put);
  return {
    accounts,
    batchSize,
    children,
    waves,
    childSteadyMs,
    childFirstMs,
    discoverMs,
    deliverSteadyMs,
    deliverFirstMs,
    deliverFirstRssMiB: at((o) => exec(o, 'first').deliverChild!.maxRssMiB),
    deliverSteadyRssMiB: at((o) => exec(o, 'steady').deliverChild!.maxRssMiB),
    ...liveLine('first', 'deliverFirstLiveMiB'),
    ...liveLine('steady', 'deliverSteadyLiveMiB'),
    steadyWallMs: discoverMs + waves * childSteadyMs + deliverSteadyMs,
    firstWallMs: discoverMs + waves * childFirstMs + deliverFirstMs,
    // One schedule period a run before the last, which reads and commits what is left.
    firstRuns,
    firstInRunsMs: Number.isFinite(firstRuns)
      ? (firstRuns - 1) * SCHEDULE_PERIOD_MS +
        discoverMs +
        waves * childFirstMs +
        deliverSteadyMs +
        (commitMs - (firstRuns - 1) * perRunMs)
      : Number.POSITIVE_INFINITY,
    monthly: {
      transitions,
      transitionsUsd,
      expressRequestsUsd,
      expressGbS,
      expressGbSUsd,
      lambdaRequestsUsd: (children + 2) * RUNS_PER_MONTH * PRICES.lambdaRequest,
      lambdaGbS,
      lambdaGbSUsd: lambdaGbS * PRICES.lambdaArmGbS,
      s3Usd,
      s3Objects: objects,
      orchestrationUsd: transitionsUsd + expressRequestsUsd + expressGbSUsd,
    },
  };
}

/** The smallest batch size (25 to 100) whose orchestration at `accounts` costs at most the target. */
export function batchSizeForTarget(f: EngineFigures, accounts: number): number | undefined {
  for (let b = BATCH; b <= 100; b++) {
    if (project(f, accounts, b).monthly.orchestrationUsd <= ORCHESTRATION_TARGET_USD) return b;
  }
  return undefined;
}

/** What V8 prints when a heap reaches its limit: its last GCs' header, the fatal error, its handler in the native stack. */
const OUT_OF_MEMORY = /<--- Last few GCs --->|heap out of memory|Allocation failed|FatalProcessOutOfMemory/;

/** A kind of run of the deliver step on copied deltas, in words. */
const scaleRun = (d: ScaleDeliver) =>
  d.scan === 'first'
    ? 'first scan'
    : d.scan === 'steady'
      ? 'steady state'
      : 'steady state, every roll-up due';

/** What a deliver step on copied deltas came to, in a table cell. */
function scaleOutcome(d: ScaleDeliver): string {
  if (d.died) {
    return OUT_OF_MEMORY.test(d.died)
      ? `died: out of memory (V8's old space capped at ${DELIVER_SCALE_HEAP_MIB} MiB)`
      : `died: ${d.died}`;
  }
  const r = d.run!;
  const deferred = (r as { result?: { remindersDeferred?: number } }).result?.remindersDeferred;
  if (!r.error && deferred) {
    return `finished, a roll-up in parts: ${num(deferred)} reminders left to the next runs (lambda/steps.ts ROLL_UP_PART ${num(ROLL_UP_PART)})`;
  }
  if (!r.error) return 'finished';
  if (d.scan === 'first' && OUT_OF_TIME.test(r.error))
    return `ended at its deadline, as a first scan spread over runs does (${r.error})`;
  return `failed: ${r.error.length > 160 ? `${r.error.slice(0, 160)}…` : r.error}`;
}

/**
 * Whether the deliver step at that size stayed under the target: it ended on its own (a first scan
 * may end at its deadline, as designed: the next run goes on) under the target's peak RSS.
 */
const scaleMet = (d: ScaleDeliver) =>
  d.run !== undefined &&
  (!d.run.error || (d.scan === 'first' && OUT_OF_TIME.test(d.run.error))) &&
  d.run.maxRssMiB < DELIVER_TARGET_MIB;

/** A first scan's deliver step ending at its deadline (lambda/monitor.ts), which the next run carries on. */
const OUT_OF_TIME = /^out of time remembering /;

/** The measurement at 5,000 accounts or more of one kind of run, when one was made. */
const measuredAtScale = (o: OrgEngineFigures, scan: 'first' | 'steady') =>
  (o.atScale ?? []).find((d) => d.scan === scan && d.accounts >= 5_000);

/** The deliver step at larger sizes, on the largest organization's deltas copied (measured). */
function scaleText(o: OrgEngineFigures): string {
  const at = o.atScale ?? [];
  if (at.length === 0) return '';
  const rows = at.map((d) => {
    const r = d.run;
    const summary = (
      r as { result?: { accounts?: number; changes?: number; delivered?: number } } | undefined
    )?.result;
    const said = summary
      ? `${num(summary.accounts ?? 0)} / ${num(summary.changes ?? 0)} / ${num(summary.delivered ?? 0)}`
      : '–';
    return `| ${num(d.accounts)} | ${said} | ${scaleRun(d)} | ${num(d.deltaBytes / MIB, 1)} MiB in ${num(d.deltaObjects)} | ${r ? sec(r.wallMs) : '–'} | ${r ? sec(r.cpuMs) : '–'} | ${r ? `**${mib(r.maxRssMiB)}** (${mib(r.rssBeforeMiB)})` : '–'} | ${r?.fullGcs ? `${mib(r.liveHeapMaxMiB!)} (${r.fullGcs} full GCs)` : r ? 'no full GC' : '–'} | ${scaleOutcome(d)} |`;
  });
  return `### The deliver step at ${at
    .map((d) => d.accounts)
    .filter((n, i, all) => all.indexOf(n) === i)
    .map((n) => num(n))
    .join(' and ')} accounts (measured, on copied deltas)

The deltas the ${o.accounts}-account organization's children wrote in its first scan and its steady state (once more with
\`"dueChannels":["default"]\` put in each: every roll-up due, as a day after the findings were last said), copied
under account ids the organization does not have (copy k of account i: its id + k × ${o.accounts}, k from 1), each run's parts so many times over, then the
deliver step of the bundle in a fresh process with V8's old space capped at ${DELIVER_SCALE_HEAP_MIB} MiB
(\`--max-old-space-size\`: the room a ${DELIVER_TARGET_MIB} MB function leaves the heap: the issue's target; the stack deploys
deliver with ${num(STEP_MEMORY_MB.deliver)} MB), its 300 s timeout and the same stand-ins. Its run store is the bench's
file-backed one, which reads ${DELTA_READ_CONCURRENCY} parts at once a line at a time as S3RunStore does, and, for the second read of a
first scan's baselines, ${WHOLE_READ_CONCURRENCY} parts at once each whole, as S3RunStore does too (without the part's header
line and its checks: lambda/adapters/run-store.ts, tested on moto). The copies' state partitions are new: the first scan's deliver commits every copied finding as a new
state (dynalite, in this process's neighbour, not DynamoDB), the steady state's has nothing to commit, and with every roll-up due it remembers the reminders of its part (at most
${num(ROLL_UP_PART)}: lambda/steps.ts \`ROLL_UP_PART\`; the other accounts' are left to the next runs).

| accounts | accounts / changes / changes remembered (its summary) | run | deltas read (parts) | wall | CPU | peak RSS (after load) | heap in use after a full GC: largest | outcome |
| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

`;
}

/** The measured deliver step at 5,000 accounts against the 512 MB target, for the targets' list. */
/**
 * The deliver step's memory at 5,000 accounts: each kind of run judged by its measurement on copied
 * deltas when there is one (it is what a 512 MB function would do), otherwise by its line.
 */
function deliverVerdict(o: OrgEngineFigures, p: Projection): string {
  const part = (scan: 'first' | 'steady', line: number) => {
    const measured = measuredAtScale(o, scan);
    const what = scan === 'first' ? 'first scan' : 'steady';
    return measured
      ? {
          text: `${what} ${measured.run ? mib(measured.run.maxRssMiB) : 'died'} measured (${mib(line)} on the line through the sizes measured, uncapped)`,
          met: scaleMet(measured),
        }
      : {
          text: `${what} ${mib(line)} (on the line through the sizes measured)`,
          met: line < DELIVER_TARGET_MIB,
        };
  };
  const steady = part('steady', p.deliverSteadyRssMiB);
  const first = part('first', p.deliverFirstRssMiB);
  // A roll-up due everywhere: measured only (no line: the sizes measured have none due).
  const due = (o.atScale ?? []).find((d) => d.scan === 'roll-up' && d.accounts >= 5_000);
  const rollUp = due
    ? {
        text: `, every roll-up due ${due.run ? mib(due.run.maxRssMiB) : 'died'} measured`,
        met: scaleMet(due),
      }
    : { text: '', met: true };
  return `peak RSS ${steady.text}, ${first.text}${rollUp.text}: ${yes(steady.met && first.met && rollUp.met)}`;
}

function scaleVerdict(o: OrgEngineFigures): string {
  const at = (o.atScale ?? []).filter((d) => d.accounts >= 5_000);
  if (at.length === 0) return '';
  return ` **Measured** on copied deltas (above): ${at
    .map(
      (d) =>
        `${scaleRun(d)} at ${num(d.accounts)} accounts ${d.run ? `${mib(d.run.maxRssMiB)} peak RSS, ${scaleOutcome(d)}` : scaleOutcome(d)}: ${yes(scaleMet(d))}`,
    )
    .join('; ')}.`;
}

export function engineText(f: EngineFigures): string {
  const orgs = [...f.orgs].sort((a, b) => a.accounts - b.accounts);
  const largest = orgs[orgs.length - 1]!;
  const smallest = orgs[0]!;
  const rows = orgs.flatMap((o) =>
    o.executions.map(
      (e) =>
        `| ${o.accounts} | ${runLabel(o, e)} | ${e.maxConcurrency} | ${sec(e.wallMs)} | ${sec(e.processCpuMs)} | ${e.children} (${e.peakConcurrency}) | ${e.parentTransitions} | ${e.childTransitions} | ${sec(e.discoverMs, 2)} | ${sec(e.childMs.median)} (${sec(e.childMs.max)}) | ${sec(e.deliverMs)}${e.deliverChild ? ' ¹' : ''} | ${num(e.iamCalls)} | ${num(e.changes)} / ${e.slackMessages} | ${num(e.deltaBytes / e.accounts / 1024, 1)} KiB | ${e.deltaObjects ?? e.accounts} |`,
    ),
  );
  const childRows = orgs.flatMap((o) => {
    const firsts = o.executions.filter((e) => e.scan === 'first' && e.deliverChild);
    const steady = steadyRun(o)?.deliverChild;
    const after = o.executions.find((e) => e.afterFirst)?.deliverChild;
    const r = (what: string, c: ChildRun | undefined, samples?: readonly number[]) =>
      c
        ? [
            `| ${o.accounts} | ${what} | ${sec(c.wallMs)} | ${sec(c.cpuMs)} | **${mib(c.maxRssMiB)}** (${mib(c.rssBeforeMiB)})${samples && samples.length > 1 ? `; samples ${samples.map((v) => num(v, 1)).join(', ')}` : ''} | ${c.liveHeapMaxMiB === undefined ? '–' : c.fullGcs ? `${mib(c.liveHeapMaxMiB)} (${c.fullGcs} full GCs)` : 'no full GC'} |`,
          ]
        : [];
    const child = o.childAccounts === undefined ? `the last ${BATCH}` : `the first ${o.childAccounts}`;
    return [
      ...r(`scanBatch of ${child} accounts, first scan`, o.batchFirst, o.batchFirstRssMiB),
      ...r(`scanBatch of ${child} accounts, steady state`, o.batchSteady, o.batchSteadyRssMiB),
      ...firsts.flatMap((e) =>
        r(
          `deliver, first scan${firsts.length > 1 ? `, run ${e.run} of ${firsts.length}` : ''} (all ${o.accounts} accounts)${e.status === 'SUCCEEDED' ? '' : ': failed'}`,
          e.deliverChild,
        ),
      ),
      ...r(`deliver, the run after the first scan (its left events published)`, after),
      ...r(`deliver, steady state (all ${o.accounts} accounts)`, steady),
    ];
  });
  const engineWall = (o: OrgEngineFigures, scan: 'first' | 'steady') =>
    scan === 'first'
      ? firstRuns(o).reduce((n, e) => n + e.wallMs, 0)
      : o.executions.find(
          (e) => e.scan === scan && e.maxConcurrency === DEFAULT_CONCURRENCY && !e.afterFirst,
        )!.wallMs;
  const singleRows = orgs.flatMap((o) =>
    o.single.map(
      (s) =>
        `| ${o.accounts} | ${s.scan === 'first' ? 'first scan (its own fresh table)' : "steady state, on the table the engine's runs left"} | ${sec(s.wallMs)} | ${sec(engineWall(o, s.scan))} | ${num(s.changes)} |`,
    ),
  );
  const projections = EXTRAPOLATE_TO.map((n) => project(f, n));
  const p5 = projections[projections.length - 1]!;
  const needed = batchSizeForTarget(f, 5_000);
  const pNeeded = needed !== undefined ? project(f, 5_000, needed) : undefined;
  const costRows = projections.map((p) => {
    const m = p.monthly;
    return `| ${num(p.accounts)} | ${p.children} | ${num(m.transitions)} → ${usd(m.transitionsUsd)} | ${usd(m.expressRequestsUsd)} + ${num(m.expressGbS)} GB-s → ${usd(m.expressGbSUsd)} | **${usd(m.orchestrationUsd)}** | ${usd(m.lambdaRequestsUsd)} + ${num(m.lambdaGbS)} GB-s → ${usd(m.lambdaGbSUsd)} | ${usd(m.s3Usd)}: ${num(m.s3Objects)} |`;
  });
  const timeRows = projections.map(
    (p) =>
      `| ${num(p.accounts)} | ${p.children} / ${p.waves} | ${sec(p.childSteadyMs)} / ${sec(p.childFirstMs)} | ${sec(p.deliverSteadyMs)} / ${sec(p.deliverFirstMs)} | ${sec(p.steadyWallMs)} | ${sec(p.firstWallMs)} | ${Number.isFinite(p.firstRuns) ? `${p.firstRuns} / ${sec(p.firstInRunsMs)}` : 'never'} | ${mib(p.deliverSteadyRssMiB)} / ${mib(p.deliverFirstRssMiB)} |`,
  );
  const live = (scan: 'first' | 'steady', o: OrgEngineFigures) =>
    scan === 'first' ? firstScan(o).deliverChild : steadyRun(o)?.deliverChild;
  const liveOf = (
    scan: 'first' | 'steady',
    key: 'deliverFirstLiveMiB' | 'deliverSteadyLiveMiB',
    what: string,
  ) => {
    // Measured at 5,000 under the cap beats the line through smaller, uncapped runs.
    const scaled = measuredAtScale(largest, scan)?.run;
    if (scaled?.fullGcs && scaled.liveHeapMaxMiB !== undefined) {
      return `${what} ${mib(scaled.liveHeapMaxMiB)} measured at 5,000 accounts under the cap${p5[key] !== undefined ? ` (the line through the uncapped sizes measured gives ${mib(p5[key])})` : ''}`;
    }
    if (p5[key] !== undefined) return `${mib(p5[key])} ${what} (on the line through the sizes measured)`;
    const at = live(scan, largest);
    return at?.fullGcs
      ? `${what} ${mib(at.liveHeapMaxMiB!)} at ${largest.accounts} accounts (measured; no full GC ran at every size, so no line)`
      : `${what}: not measured (no full GC ran)`;
  };
  const liveText = ` What it holds, the heap in use after a full GC: ${liveOf('first', 'deliverFirstLiveMiB', 'first scan')}; ${liveOf('steady', 'deliverSteadyLiveMiB', 'steady state')}. The rest of the peak RSS is memory a collector with room to spare leaves uncollected (the lines are drawn through runs with no heap cap, so they overstate what a capped run holds).`;
  const b1 = largest.batchFirst;
  const b0 = smallest.batchFirst;
  /** The child samples are the same accounts in every organization (runs before: the last of each). */
  const sameChild = smallest.childAccounts !== undefined && smallest.childAccounts === largest.childAccounts;
  const childGrowth = (a: number, b: number) => Math.abs(b - a) < 0.15 * a;
  const sweep = largest.executions.filter((e) => e.scan === 'steady' && !e.afterFirst);
  return `## Step Functions engine

Measured ${new Date(f.started).toISOString()} (${num(f.durationMs / 60_000, 1)} min) on ${f.machine}${f.load ? `, 1-minute load average ${num(f.load.before, 1)} before and ${num(f.load.after, 1)} after (2 cores, shared with other work)` : ''}: \`npm run bench -- --only engine\`
(\`--engine-accounts ${orgs.map((o) => o.accounts).join(',')}\`${orgs.map((o) => o.accounts).join(',') === DEFAULT_ENGINE_ACCOUNTS.join(',') ? ', the default' : ''}). Organizations of ${orgs.map((o) => o.accounts).join(' and ')} member accounts × ${f.usersPerAccount} users (the scans part's accounts,
same ids and seeds, dated by the real clock), each member's IAM endpoint with 20 ms latency and its own throttle of
20 requests/s; dynalite, Secrets Manager, EventBridge and the Slack receiver as in the integration tests.

- **What runs**: the definition \`cdk synth\` produces for \`source: "organization"\` with the construct's defaults
  (${BATCH} accounts per child, MaxConcurrency ${DEFAULT_CONCURRENCY}, Express children, Standard parent), on aws-local-stepfunctions with
  the harness's Distributed Map emulation (test/support/state-machine.ts). Each Lambda task is bound to lambda/steps.ts
  \`createSteps\` **in the bench process**, with a file-backed run store in place of S3 (same keys). Other concurrency
  levels: only the map's \`MaxConcurrency\` changed in the resolved definition.
- **One thread**: the steps, the stand-ins and the interpreter share the bench's Node thread, so once more than a few
  children run at once an execution's wall time here is this thread's CPU ("process CPU"), not what the service would
  take; in the service each child is its own Lambda invocation. The children's wall times in the table overlap for the
  same reason.
- ¹ **Fresh processes**: the deliver step of each first scan and steady state at concurrency ${DEFAULT_CONCURRENCY}, and one child (scanBatch of
  ${sameChild ? `the organization's first ${smallest.childAccounts} accounts: the same accounts in every organization, each scan in ${largest.batchFirstRssMiB?.length ?? 1} fresh processes, the median's figures shown with every sample's peak RSS` : `the organization's last ${BATCH} accounts`}), ran in a fresh \`node\` on the **synthesized bundle** (what Lambda runs), for
  their own wall time, CPU and peak RSS (\`VmHWM\` of /proc/self/status, bench/peak-rss.cjs; in brackets the RSS once the
  bundle was loaded. Before 2026-12-03 this was getrusage's \`maxRSS\`, which on Linux a spawned process inherits from its
  parent at the fork: the bench's own RSS, larger with a larger organization's stand-ins). The heap in use after a full GC (JS heap + external memory) is read when Node reports the GC to a
  \`PerformanceObserver\`, which runs after it: it also counts what was allocated in between, so it is an upper bound
  of what the step held, closest to it when the step allocates little.
- **First scan** here is the first run under the default notification policy: one baseline summary, nothing confirmed
  live (hence ${num(largest.executions.find((e) => e.scan === 'first')!.iamCalls / largest.accounts, 1)} IAM calls an account, as in the steady state); its cost is the deliver step committing
  every finding's state. Then the run after it (it publishes what the first scan's deliver step left in the outbox), and
  **steady state**: the run after that, minutes later (the real clock), nothing new.

### Each execution (measured)

| accounts | run | map concurrency | wall | process CPU | children (peak at once) | parent transitions | child transitions | discover | child: median (max) | deliver | IAM calls | changes / Slack messages | delta per account | run bucket objects written |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Parent transitions are the states the Standard parent entered (Discover, the Choice, the map, Deliver; retries
would count too) plus **one per child started**, which is how a Distributed Map is billed (docs/organization.md,
"Engines"). With ${BATCH} accounts per child, ${largest.accounts} accounts are ${Math.ceil(largest.accounts / BATCH)} children${Math.ceil(largest.accounts / BATCH) <= 10 ? ': MaxConcurrency 10, 40 and 100 give the same plan (every child at once)' : `: MaxConcurrency 10 runs them in ${Math.ceil(Math.ceil(largest.accounts / BATCH) / 10)} waves, 40 and 100 all at once`}, and the steady state was run at each level (${sweep.map((e) => `${e.maxConcurrency}: ${sec(e.wallMs)}`).join(', ')});
the first scan only at 10. On one thread an execution cannot show more than that thread's CPU, so the levels
differ here by less than they would in the service.

### One child and the deliver step, each in a fresh process (measured)

| accounts in the organization | step | wall | CPU | peak RSS (after load) | heap in use after a full GC: largest |
| ---: | --- | ---: | ---: | ---: | ---: |
${childRows.join('\n')}

A child is handed only its batch: its peak RSS was ${mib(b0.maxRssMiB)} in the ${smallest.accounts}-account organization and ${mib(b1.maxRssMiB)} in the
${largest.accounts}-account one on the first scan, ${mib(smallest.batchSteady.maxRssMiB)} and ${mib(largest.batchSteady.maxRssMiB)} in steady state (see the targets below). The deliver step holds
every account's delta and grows with the accounts; it reads a delta without its roll-up (every open finding as a reminder,
most of the ${num(largest.executions.find((e) => e.scan === 'steady' && !e.afterFirst)!.deltaBytes / largest.accounts / 1024, 0)} KiB a steady-state delta has here) unless some channel's roll-up is due, which none is in these runs.

### Against the single invocation (measured)

lambda/handler.ts \`createHandler\` in the bench process, the same stand-ins, \`accounts.concurrency\` 8:

| accounts | run | single invocation | engine (concurrency ${DEFAULT_CONCURRENCY}) | changes of the single invocation |
| ---: | --- | ---: | ---: | ---: |
${singleRows.join('\n')}

The single invocation's steady state on the state table the engine left finds **0 changes**: switching engine on a
deployment keeps its table and announces nothing twice. Both engines run the same code below the handler; on one
thread the engine's extra cost is the interpreter, the run store's JSON and its per-step wiring.

${scaleText(largest)}### 5,000 accounts, and the cost per month (extrapolated)

Not measured: derived from the figures above, and marked so.

- **A child in Lambda** (512 MB, Arm: ${num(SHARE.scanBatch, 2)} of a vCPU): the fresh child's wall time, or its CPU / ${num(SHARE.scanBatch, 2)} when longer
  (this machine's CPU, not Graviton's): steady state ${sec(projections[0]!.childSteadyMs)}, first scan ${sec(projections[0]!.childFirstMs)} for ${BATCH} accounts.
- **Deliver** (1,024 MB: ${num(SHARE.deliver, 2)} of a vCPU): the line through its two measured sizes (wall and CPU), the same rule; its peak RSS on
  the line through its two sizes too.
- **An execution** = discover + ⌈children / ${DEFAULT_CONCURRENCY}⌉ waves × a child + deliver (Lambda cold starts, Step Functions' own
  latency and real IAM/STS latency left out). **A first scan in runs**: a deliver step has ${sec(DELIVER_USABLE_MS, 0)}, of which each run's read of the deltas takes what a
  steady state's deliver takes; ⌈(deliver − that read) / (${sec(DELIVER_USABLE_MS, 0)} − that read)⌉ runs, one schedule period
  (${num(SCHEDULE_PERIOD_MS / 60_000)} minutes) apart, the last one's execution with what is left.
- **Per month**: ${num(RUNS_PER_MONTH)} runs (every 10 minutes), each costing what the steady state costs. Standard: $${PRICES.standardTransition * 1000} per 1,000 transitions;
  Express: ${usd(PRICES.expressRequest * 1e6)} per million requests + $${PRICES.expressGbS} per GB-s (64 MB, the minimum chunk, rounded up to 100 ms);
  Lambda Arm: $0.20 per million requests + $${PRICES.lambdaArmGbS} per GB-s; S3 Standard: $0.005 per 1,000 PUT/LIST, $0.0004 per
  1,000 GET (us-east-1 list prices, no free tier). Orchestration = transitions + Express.

| accounts | children / waves | a child: steady / first | deliver: steady / first | steady-state execution | first-scan execution (one deliver step) | first scan: runs / until the last ends | deliver peak RSS: steady / first |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${timeRows.join('\n')}

| accounts | children a run | Standard transitions a month | Express children | **orchestration a month** | Lambda (requests + GB-s) | S3 run bucket (a PUT and a GET per part: objects a run) |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${costRows.join('\n')}

The issue's targets at 5,000 accounts (extrapolated):

- **Steady state inside the 10-minute period**: ${sec(p5.steadyWallMs, 0)}: ${yes(p5.steadyWallMs <= 600_000)}${p5.deliverSteadyMs > 300_000 ? `, but its deliver step alone (${sec(p5.deliverSteadyMs, 0)}) is longer than the step's 5-minute timeout` : ''}.
- **First scan within an hour**: ${p5.firstRuns === 1 ? `${sec(p5.firstWallMs, 0)} in one run` : Number.isFinite(p5.firstRuns) ? `**${p5.firstRuns} runs**, the last ending ${sec(p5.firstInRunsMs, 0)} after the first started` : `**never**: a deliver step's read of the deltas alone (${sec(p5.deliverSteadyMs, 0)}) takes all of its ${sec(DELIVER_USABLE_MS, 0)}`}${firstFits(largest, p5) ? '' : ` by time alone, but the deliver step's memory does not hold a first scan of 5,000 accounts: ${mib(p5.deliverFirstRssMiB)} of peak RSS on the line through the sizes measured, above the function's ${num(STEP_MEMORY_MB.deliver)} MB${firstDied(largest) ? ', and out of memory under the 512 MB cap (measured above)' : ''}`}: ${yes(p5.firstInRunsMs <= 3_600_000 && firstFits(largest, p5))}. The map takes ${sec(p5.waves * p5.childFirstMs, 0)} a run; the deliver step, committing every finding's
  state, needs ${sec(p5.deliverFirstMs, 0)}${p5.firstRuns > 1 ? `, more than the ${sec(DELIVER_USABLE_MS, 0)} a deliver step has (its ${sec(STATE_MACHINE_DEFAULTS.stepTimeout.toMilliseconds(), 0)} timeout less the margin): each run's deliver step reads every delta (${sec(p5.deliverSteadyMs, 0)}, what a steady state's deliver takes), commits until its deadline, and fails its execution (its result is incomplete, and says so); the next scheduled run (every ${num(SCHEDULE_PERIOD_MS / 60_000)} minutes) scans again and commits what is left${firstFits(largest, p5) ? `. Its memory holds: measured at 5,000 accounts above, a deliver step reading every delta and committing until its deadline under the 512 MB cap` : `. This assumes the deliver step's memory holds a first scan's deltas, which it does not at 5,000 accounts under the 512 MB target (measured above): the function's 1,024 MB is not measured at that size`}` : ''}.${firstRunsMeasured(largest)}
- **Deliver under 512 MB**: ${deliverVerdict(largest, p5)} (the function has 1,024 MB).${liveText}${scaleVerdict(largest)} A first scan's baselined changes are not held (their tallies are, and they are read again to be remembered); a run in which a roll-up is due holds at most ${num(ROLL_UP_PART)} reminders (lambda/steps.ts \`ROLL_UP_PART\`; the rest wait for the next runs: a roll-up in parts, measured above with every roll-up due).
- **A child's peak RSS does not grow with the organization**: ${yes(childGrowth(b0.maxRssMiB, b1.maxRssMiB) && childGrowth(smallest.batchSteady.maxRssMiB, largest.batchSteady.maxRssMiB))} (within 15%): ${mib(b0.maxRssMiB)} → ${mib(b1.maxRssMiB)} (first scan), ${mib(smallest.batchSteady.maxRssMiB)} → ${mib(largest.batchSteady.maxRssMiB)} (steady state) from ${smallest.accounts} to ${largest.accounts} accounts, ${sameChild ? `for the same ${smallest.childAccounts} accounts a child (the first of each organization), the median of ${largest.batchFirstRssMiB?.length ?? 1} fresh processes each. A child is given only its batch and reads only its accounts' state partitions${b0.fullGcs && b1.fullGcs && smallest.batchSteady.fullGcs && largest.batchSteady.fullGcs ? `; the heap it holds after a full GC went ${mib(b0.liveHeapMaxMiB!)} → ${mib(b1.liveHeapMaxMiB!)} (first scan) and ${mib(smallest.batchSteady.liveHeapMaxMiB!)} → ${mib(largest.batchSteady.liveHeapMaxMiB!)} (steady state)${!(childGrowth(b0.maxRssMiB, b1.maxRssMiB) && childGrowth(smallest.batchSteady.maxRssMiB, largest.batchSteady.maxRssMiB)) && childGrowth(b0.liveHeapMaxMiB!, b1.liveHeapMaxMiB!) && childGrowth(smallest.batchSteady.liveHeapMaxMiB!, largest.batchSteady.liveHeapMaxMiB!) ? `: what it holds does not grow with the organization; what grows is memory it no longer holds and the process has not given back (why the same ${smallest.childAccounts} accounts leave more of it in a larger organization is not known)` : ''}` : ''}` : `for ${BATCH} accounts a child (different accounts of the same generator: the last of each organization). A child is given only its batch and reads only its accounts' state partitions; one sample per size cannot tell noise from growth`}.
- **Orchestration ≤ ${usd(ORCHESTRATION_TARGET_USD)} a month with the default batch size (${BATCH})**: ${usd(p5.monthly.orchestrationUsd)}: ${yes(p5.monthly.orchestrationUsd <= ORCHESTRATION_TARGET_USD)}.${
    p5.monthly.orchestrationUsd > ORCHESTRATION_TARGET_USD
      ? needed !== undefined && pNeeded
        ? ` The smallest batch size that meets it is **${needed}** (${pNeeded.children} children a run, ${usd(pNeeded.monthly.orchestrationUsd)}; a child's time taken as proportional to its accounts: ${sec(pNeeded.childSteadyMs)} steady, ${sec(pNeeded.childFirstMs)} first, well under the 4-minute batch timeout). Not changed here: the construct's default is the lead's call.`
        : ' No batch size up to 100 meets it.'
      : ''
  }
- **Also**: Lambda GB-s cost more than the orchestration; the run bucket's requests (a PUT and a GET for each part a
  child writes: a part per ${num(PART_FLUSH_BYTES / 1024 / 1024, 0)} MiB of its deltas, by the deltas' measured size) cost ${usd(p5.monthly.s3Usd)} a month at 5,000 accounts
  (${num(p5.monthly.s3Objects)} objects a run); they are the engine's too (the single invocation has no run bucket).
`;
}
