/**
 * `npm run bench`: credwatch's scale and IAM-call figures against the local IAM endpoint, next to the
 * seed's per-user scan, and the Lambda bundle; printed as markdown and written to docs/benchmarks.md.
 *
 * Options: `--sizes 100,1000` (default 100,1000,5000), `--full-naive` (run the per-user scan at
 * every size instead of extrapolating it above 1,000 users), `--no-write` (print only).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { IamAdapter } from '../lambda/adapters/iam';
import { parseCredentialReport } from '../lambda/core/credential-report';
import { diff } from '../lambda/core/diff';
import { evaluate } from '../lambda/core/evaluate';
import { DEFAULT_THRESHOLDS } from '../lambda/core/policy';
import { buildDigest } from '../lambda/core/slack-message';
import { type FakeAccount, generateAccount, renderCredentialReport } from '../test/support/account-generator';
import { type IamEndpoint, startIamEndpoint } from '../test/support/iam-endpoint';
import { type BundleFigures, measureBundle, STACK_EXTERNALS } from './bundle';
import { runNode } from './child';
import { benchClient } from './client';
import { BenchError } from './errors';
import { median, num, table } from './markdown';
import { NAIVE_PAGE_SIZE, naiveCallCount } from './naive-scan';
import type { WorkerInput, WorkerOutput } from './scan-worker';

const ROOT = join(__dirname, '..');
const DOC = join(ROOT, 'docs', 'benchmarks.md');

/** The harness: every scan of every size meets the same endpoint settings. */
const HARNESS = {
  latencyMs: 20,
  throttle: { ratePerSecond: 20, burst: 10 },
} as const;
/** Accounts are generated from this seed at this instant: the same accounts every run. */
const SEED = 'credwatch-bench';
const NOW = new Date('2025-06-01T12:00:00Z');
const DEFAULT_SIZES = [100, 1_000, 5_000];
/** Above this many users the per-user scan is extrapolated unless `--full-naive` (5,000 users take ~8 min). */
const NAIVE_RUN_LIMIT = 1_000;
/** parse + evaluate CPU: warm-up runs, then timed runs (the best is reported). */
const CPU_WARMUPS = 2;
const CPU_RUNS = 7;
/** The first digest's diff: reminders do not matter when nothing is remembered yet (the Lambda default). */
const REMINDER_INTERVAL_MS = 24 * 3_600_000;
/** A scan child is killed after this long (naive at 10,000 users takes ~16 min). */
const SCAN_TIMEOUT_MS = 30 * 60_000;

/** The DESIGN.md targets (section "Targets"). */
const TARGETS = {
  naiveCallRatio: 100,
  wallMs: 2_000,
  cpuMs: 50,
  peakRssMiB: 128,
  bundleBytes: 1024 * 1024,
  atUsers: 5_000,
};

interface CpuFigures {
  /** Process CPU time (user + system, V8's GC helper threads included). */
  readonly bestMs: number;
  readonly medianMs: number;
  /** Wall time of the fastest run. */
  readonly bestWallMs: number;
  readonly records: number;
  readonly findings: number;
}

interface NaiveFigures {
  readonly calls: Record<string, number>;
  readonly totalCalls: number;
  /** HTTP requests by action as the endpoint saw them (absent when extrapolated). */
  readonly endpoint?: Record<string, number>;
  readonly wallMs: number;
  readonly extrapolated: boolean;
  /** The exact formula's count, to cross-check a measured run. */
  readonly formulaCalls: number;
}

interface SizeFigures {
  readonly users: number;
  readonly keys: number;
  readonly credwatch: WorkerOutput;
  readonly credwatchTotalCalls: number;
  /** HTTP requests by action as the endpoint saw them, throttled answers included, plus `throttled`. */
  readonly credwatchEndpoint: Record<string, number>;
  readonly cpu: CpuFigures;
  readonly changes: number;
  readonly digestMessages: number;
  readonly naive: NaiveFigures;
}

const ACTIONS = [
  'GenerateCredentialReport',
  'GetCredentialReport',
  'GetAccountAuthorizationDetails',
  'ListUsers',
  'ListAccessKeys',
  'GetAccessKeyLastUsed',
] as const;

const sum = (counts: Record<string, number>, skip: readonly string[] = []) =>
  Object.entries(counts)
    .filter(([k]) => !skip.includes(k))
    .reduce((a, [, v]) => a + v, 0);

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => num(ms / 1000, 2);
const kib = (bytes: number) => num(bytes / 1024, 1);

/** The credwatch call bound of DESIGN.md: 3 + 2 x ceil(users/1000) + users needing confirmation. */
const callBound = (users: number, confirmed: number) => 3 + 2 * Math.ceil(users / 1000) + confirmed;

/** CPU time of parseCredentialReport + evaluate on the account's report (best and median of CPU_RUNS). */
function measureCpu(account: FakeAccount): CpuFigures {
  const csv = renderCredentialReport(account);
  const tags = new Map(account.users().map((u) => [u.name, u.tags]));
  const samples: number[] = [];
  const walls: number[] = [];
  let records = 0;
  let findings = 0;
  for (let i = 0; i < CPU_WARMUPS + CPU_RUNS; i++) {
    const before = process.cpuUsage();
    const started = performance.now();
    const parsed = parseCredentialReport(csv);
    const result = evaluate({ records: parsed.records, thresholds: DEFAULT_THRESHOLDS, tags, now: NOW });
    const wall = performance.now() - started;
    const used = process.cpuUsage(before);
    if (i >= CPU_WARMUPS) {
      samples.push((used.user + used.system) / 1000);
      walls.push(wall);
    }
    records = parsed.records.length;
    findings = result.findings.length;
  }
  return {
    bestMs: Math.min(...samples),
    medianMs: median(samples),
    bestWallMs: Math.min(...walls),
    records,
    findings,
  };
}

/** Runs one scan in a fresh process (the bundled worker) and returns what it measured. */
async function runWorker(workerJs: string, tmp: string, mode: WorkerInput['mode'], url: string) {
  const out = join(tmp, `${mode}-result.json`);
  const input: WorkerInput = { mode, url, now: NOW.toISOString(), out };
  await runNode([workerJs, JSON.stringify(input)], { timeoutMs: SCAN_TIMEOUT_MS, what: `${mode} scan` });
  const result = JSON.parse(readFileSync(out, 'utf8')) as WorkerOutput;
  rmSync(out);
  return result;
}

/** Lets the token bucket refill, and forgets what the endpoint counted so far. */
async function settle(endpoint: IamEndpoint): Promise<void> {
  await sleep((HARNESS.throttle.burst / HARNESS.throttle.ratePerSecond) * 1000 + 100);
  endpoint.resetCounts();
}

async function measureSize(
  users: number,
  workerJs: string,
  tmp: string,
  runNaive: boolean,
  naiveRate: number | undefined,
): Promise<SizeFigures> {
  const account = generateAccount({ users, seed: SEED, now: NOW });
  const keys = account.users().reduce((n, u) => n + u.accessKeys.length, 0);
  log(`${num(users)} users (${num(keys)} keys): parse + evaluate CPU`);
  const cpu = measureCpu(account);

  const endpoint = await startIamEndpoint({ account, ...HARNESS });
  try {
    // Generate the report once, so the timed scan finds it COMPLETE.
    const warmClient = benchClient(endpoint.url);
    await new IamAdapter({ client: warmClient, pollIntervalMs: 100, reportDeadlineMs: 30_000 }).getReport();
    warmClient.destroy();
    await settle(endpoint);

    log(`${num(users)} users: credwatch scan`);
    const credwatch = await runWorker(workerJs, tmp, 'credwatch', endpoint.url);
    const credwatchEndpoint = endpoint.counts();
    const changes = diff(credwatch.findings, [], NOW, { reminderIntervalMs: REMINDER_INTERVAL_MS });
    const digest = buildDigest(changes, { accountId: credwatch.accountId, scanTime: NOW });

    const formulaCalls = naiveCallCount(users, keys);
    let naive: NaiveFigures;
    if (runNaive) {
      await settle(endpoint);
      log(`${num(users)} users: per-user scan (~${num(formulaCalls / HARNESS.throttle.ratePerSecond)} s)`);
      const measured = await runWorker(workerJs, tmp, 'naive', endpoint.url);
      naive = {
        calls: measured.calls,
        totalCalls: sum(measured.calls),
        endpoint: endpoint.counts(),
        wallMs: measured.wallMs,
        extrapolated: false,
        formulaCalls,
      };
    } else {
      if (naiveRate === undefined)
        throw new BenchError('per-user scan: nothing measured to extrapolate from');
      const calls = {
        ListUsers: Math.max(1, Math.ceil(users / NAIVE_PAGE_SIZE)),
        ListAccessKeys: users,
        GetAccessKeyLastUsed: keys,
      };
      naive = {
        calls,
        totalCalls: formulaCalls,
        wallMs: formulaCalls / naiveRate,
        extrapolated: true,
        formulaCalls,
      };
    }
    return {
      users,
      keys,
      credwatch,
      credwatchTotalCalls: sum(credwatch.calls),
      credwatchEndpoint,
      cpu,
      changes: changes.length,
      digestMessages: digest.length,
      naive,
    };
  } finally {
    await endpoint.close();
  }
}

/** Bundles the worker into a plain-node script, so the measured process runs no TypeScript loader. */
async function bundleWorker(tmp: string): Promise<string> {
  const outfile = join(tmp, 'scan-worker.cjs');
  await build({
    entryPoints: [join(__dirname, 'scan-worker.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

interface Report {
  readonly started: Date;
  readonly durationMs: number;
  readonly sizes: readonly SizeFigures[];
  readonly bundle: BundleFigures;
}

const machine = () => {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length}, ${num(os.totalmem() / 1024 ** 3, 1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`;
};

function render(r: Report): string {
  const { sizes, bundle } = r;
  const at = (users: number) => sizes.find((s) => s.users === users);
  const yes = (ok: boolean) => (ok ? 'met' : '**not met**');
  /** Logical calls of one action, and the endpoint's HTTP requests for it in brackets when retries made them differ. */
  const action = (
    calls: Record<string, number>,
    requests: Record<string, number> | undefined,
    name: string,
  ) => {
    const n = calls[name];
    if (n === undefined) return '–';
    const sent = requests?.[name];
    return sent === undefined || sent === n ? num(n) : `${num(n)} (${num(sent)})`;
  };

  const calls = table(
    ['users', 'scan', ...ACTIONS, 'calls', 'HTTP requests', 'throttled answers'],
    sizes.flatMap((s) => [
      [
        num(s.users),
        'credwatch',
        ...ACTIONS.map((a) => action(s.credwatch.calls, s.credwatchEndpoint, a)),
        num(s.credwatchTotalCalls),
        num(sum(s.credwatchEndpoint, ['throttled'])),
        num(s.credwatchEndpoint.throttled ?? 0),
      ],
      [
        num(s.users),
        s.naive.extrapolated ? 'per-user (extrapolated)' : 'per-user',
        ...ACTIONS.map((a) => action(s.naive.calls, s.naive.endpoint, a)),
        num(s.naive.totalCalls),
        s.naive.endpoint ? num(sum(s.naive.endpoint, ['throttled'])) : '–',
        s.naive.endpoint ? num(s.naive.endpoint.throttled ?? 0) : '–',
      ],
    ]),
    'rlrrrrrrrrr',
  );

  const scale = table(
    [
      'users',
      'scan wall time (report ready)',
      'parse + evaluate: CPU best (median); wall best',
      'peak RSS (before scan)',
      'peak heap used',
      'users confirmed live',
      'findings',
      'first digest: changes / Slack messages',
    ],
    sizes.map((s) => [
      num(s.users),
      `${seconds(s.credwatch.wallMs)} s`,
      `${num(s.cpu.bestMs, 1)} ms (${num(s.cpu.medianMs, 1)} ms); ${num(s.cpu.bestWallMs, 1)} ms`,
      `${num(s.credwatch.maxRssMiB, 1)} MiB (${num(s.credwatch.rssBeforeMiB, 1)} MiB)`,
      `${num(s.credwatch.peakHeapUsedMiB, 1)} MiB`,
      num(s.credwatch.usersConfirmed),
      num(s.credwatch.findings.length),
      `${num(s.changes)} / ${num(s.digestMessages)}`,
    ]),
    'rrrrrrrr',
  );

  const ratios = table(
    [
      'users',
      'calls per-user / credwatch',
      'ratio',
      'wall per-user / credwatch',
      'ratio',
      'per-user calls = formula',
    ],
    sizes.map((s) => [
      num(s.users),
      `${num(s.naive.totalCalls)} / ${num(s.credwatchTotalCalls)}`,
      `${num(s.naive.totalCalls / s.credwatchTotalCalls, 1)}×`,
      `${seconds(s.naive.wallMs)} s${s.naive.extrapolated ? ' (extrapolated)' : ''} / ${seconds(s.credwatch.wallMs)} s`,
      `${num(s.naive.wallMs / s.credwatch.wallMs, 1)}×`,
      s.naive.extrapolated
        ? `by formula: ${num(s.naive.formulaCalls)}`
        : `${num(s.naive.formulaCalls)}: ${s.naive.formulaCalls === s.naive.totalCalls ? 'yes' : '**no**'}`,
    ]),
    'rrrrrl',
  );

  const targetRows: string[][] = sizes.map((s) => {
    const bound = callBound(s.users, s.credwatch.usersConfirmed);
    return [
      `IAM calls ≤ 3 + 2 × ⌈users/1000⌉ + users needing confirmation (${num(s.users)} users)`,
      `${num(s.credwatchTotalCalls)} (bound ${num(bound)}, ${num(s.credwatch.usersConfirmed)} users confirmed)`,
      yes(s.credwatchTotalCalls <= bound),
    ];
  });
  const big = at(TARGETS.atUsers);
  if (big) {
    const ratio = big.naive.totalCalls / big.credwatchTotalCalls;
    targetRows.push(
      [
        `≥ ${TARGETS.naiveCallRatio}× fewer calls than the per-user scan (5,000 users)`,
        `${num(ratio, 1)}×`,
        yes(ratio >= TARGETS.naiveCallRatio),
      ],
      [
        'scan wall time after the report is ready ≤ 2 s (5,000 users)',
        `${seconds(big.credwatch.wallMs)} s`,
        yes(big.credwatch.wallMs <= TARGETS.wallMs),
      ],
      [
        'parse + evaluate ≤ 50 ms CPU (5,000 users)',
        `${num(big.cpu.bestMs, 1)} ms`,
        yes(big.cpu.bestMs <= TARGETS.cpuMs),
      ],
      [
        'peak memory ≤ 128 MB (5,000 users; MiB of RSS)',
        `${num(big.credwatch.maxRssMiB, 1)} MiB`,
        yes(big.credwatch.maxRssMiB <= TARGETS.peakRssMiB),
      ],
    );
  } else {
    targetRows.push(['the 5,000-user targets', 'not run (`--sizes` left 5,000 out)', '–']);
  }
  targetRows.push(
    [
      'Lambda bundle ≤ 1 MB unminified-equivalent (1 MB read as 1 MiB = 1,048,576 bytes)',
      `${num(bundle.unminifiedBytes)} bytes (${kib(bundle.unminifiedBytes)} KiB)`,
      yes(bundle.unminifiedBytes <= TARGETS.bundleBytes),
    ],
    ['cold import measured and reported', `${num(bundle.coldImportMedianMs)} ms median`, 'reported'],
  );
  const targets = table(['target (DESIGN.md)', 'measured', ''], targetRows, 'lrl');

  const bundleTable = table(
    ['bundle (lambda/handler.ts)', 'size'],
    [
      ['minified (deployed)', `${kib(bundle.minifiedBytes)} KiB (${num(bundle.minifiedBytes)} bytes)`],
      ['unminified-equivalent', `${kib(bundle.unminifiedBytes)} KiB (${num(bundle.unminifiedBytes)} bytes)`],
      ['source map beside the minified file', `${kib(bundle.sourceMapBytes)} KiB`],
      [
        'cold `await import()` of the minified file, median of 5 fresh `node` processes',
        `${num(bundle.coldImportMedianMs)} ms (${bundle.coldImportMs.map((ms) => num(ms)).join(', ')})`,
      ],
    ],
    'lr',
  );

  const extrapolated = sizes.filter((s) => s.naive.extrapolated);
  const measuredNaive = sizes.filter((s) => !s.naive.extrapolated).at(-1);
  const extrapolationNote =
    extrapolated.length > 0 && measuredNaive
      ? `- The per-user scan at ${extrapolated.map((s) => num(s.users)).join(', ')} users was **not run; it is extrapolated**: its calls are exact by formula (⌈users/100⌉ ListUsers pages + one ListAccessKeys a user + one GetAccessKeyLastUsed a key, keys counted in the generated account; the formula matches the measured runs, see the last column of the ratio table) and its wall time is those calls at the throughput measured at ${num(measuredNaive.users)} users (${num(measuredNaive.naive.totalCalls / (measuredNaive.naive.wallMs / 1000), 1)} calls/s). \`npm run bench -- --full-naive\` runs it (about 8 more minutes).\n`
      : '';

  const confirmedShare = sizes
    .map((s) => `${num((100 * s.credwatch.usersConfirmed) / s.users)}% (${num(s.users)} users)`)
    .join(', ');

  return `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); the figures below are from one run. Rerun to refresh.

- Date: ${r.started.toISOString()} (the run took ${num(r.durationMs / 60_000, 1)} min)
- Machine: ${machine()}

## Method

- **Harness**: the local IAM endpoint of the tests (test/support/iam-endpoint.ts) on 127.0.0.1, with
  ${HARNESS.latencyMs} ms latency on every answer and a token-bucket throttle of ${HARNESS.throttle.ratePerSecond} requests/s (burst ${HARNESS.throttle.burst})
  over every action, answering \`Throttling\` (HTTP 400) beyond it. Both scans use the same IAM client settings:
  \`IAM_CLIENT_DEFAULTS\` (adaptive retry, 10 attempts).
- **Accounts**: \`generateAccount({ users, seed: '${SEED}', now: ${NOW.toISOString()} })\`, the same accounts on every run
  (the seed's mix of service accounts, people and dormant users; keys 0–400 days old; tags).
- **credwatch**: \`IamAdapter\` + \`scan()\` with the default thresholds, in a fresh \`node\` process (bench/scan-worker.ts
  bundled by esbuild, no TypeScript loader). The credential report was **generated once before the timed run**, so the
  timed scan finds it COMPLETE: its wall time is Generate (COMPLETE) + Get + users and tags + live confirmation, not
  IAM's report generation. Calls are the adapter's logical calls (\`calls()\`, one a page); HTTP requests are what the
  endpoint received (\`counts()\`), throttled answers and SDK retries included.
- **parse + evaluate CPU**: \`process.cpuUsage()\` (user + system) around \`parseCredentialReport\` + \`evaluate\` (with the
  users' tags) on the same account's report CSV, in the bench process, best (and median) of ${CPU_RUNS} runs after ${CPU_WARMUPS}
  warm-ups. It is process CPU time, so V8's garbage-collector threads count: it can exceed the wall time, also shown.
- **Memory**: the worker's peak RSS (\`process.resourceUsage().maxRSS\`: Node, the bundled SDK and the scan; the RSS before
  the scan is in brackets) and the largest V8 \`heapUsed\` sampled every 25 ms during the scan. Node runs with its default
  heap limits on a ${num(os.totalmem() / 1024 ** 3)} GiB machine, where V8 collects lazily.
- **First digest**: \`buildDigest(diff(findings, [], now))\` on the scan's findings, messages counted, nothing sent.
- **Per-user scan** (the seed's approach, as in the AWS access-key rotation sample): ListUsers (\`MaxItems\` 100), then
  for every user ListAccessKeys and GetAccessKeyLastUsed for each key, sequentially, in the same kind of fresh process
  against the same endpoint (token bucket refilled between runs).
- **Bundle**: esbuild's JS API on lambda/handler.ts with the stack's options (platform node, target node24, format esm,
  bundle, \`mainFields\` module,main, the \`createRequire\` banner, source map, and NodejsFunction's default external
  \`${STACK_EXTERNALS.join(', ')}\`, which the Lambda runtime provides), minified and not. Cold import: \`await import()\`
  of the minified file in a fresh \`node\` (Node ${process.version} here, not Lambda's Node 24), the SDK resolved from node_modules.
  KiB = 1,024 bytes, MiB = 1,024 KiB.

## IAM calls by action

Logical calls (one a page); in brackets, the HTTP requests the endpoint received for that action when throttling
and SDK retries made them more.

${calls}

## credwatch at scale

${scale}

## Per-user scan vs credwatch

${ratios}

## Lambda bundle

${bundleTable}

## Targets

${targets}

## Notes

${extrapolationNote}- Wall times are bounded by the throttle (${HARNESS.throttle.ratePerSecond} requests/s): a scan takes about its calls / ${HARNESS.throttle.ratePerSecond} seconds. The credwatch scan's
  calls are dominated by the live confirmation: ListAccessKeys for each user with an access-key finding, and
  GetAccessKeyLastUsed for each key about to be called unused. In the generated accounts ${confirmedShare} of the users
  have an access-key finding, so the confirmation, not the report, sets the call count and the wall time. The
  GetAccessKeyLastUsed re-reads are not in the DESIGN.md call bound, which is why that bound is exceeded.
- Wall times, HTTP requests and throttled answers vary from run to run (timers, the adaptive retry's rate estimate);
  the logical call counts do not.

## How to rerun

\`\`\`sh
npm run bench                          # all sizes, writes docs/benchmarks.md (~6 min)
npm run bench -- --sizes 100 --no-write   # a quick look, printed only
npm run bench -- --full-naive          # also run the per-user scan at 5,000 users (~8 min more)
\`\`\`
`;
}

async function main(): Promise<void> {
  // The SDK's notice that its 2027 releases need Node 22 (this machine runs Node 20); children inherit it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      'full-naive': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes ? values.sizes.split(',').map((s) => Number(s.trim())) : DEFAULT_SIZES;
  for (const n of sizes) {
    if (!Number.isInteger(n) || n < 1 || n > 10_000) {
      throw new BenchError(
        `--sizes: "${values.sizes}" must be whole numbers from 1 to 10,000, comma-separated`,
      );
    }
  }
  sizes.sort((a, b) => a - b);

  const started = new Date();
  const t0 = performance.now();
  const tmp = mkdtempSync(join(os.tmpdir(), 'credwatch-bench-'));
  try {
    const workerJs = await bundleWorker(tmp);
    const results: SizeFigures[] = [];
    let naiveRate: number | undefined;
    for (const users of sizes) {
      const runNaive = values['full-naive'] || users <= NAIVE_RUN_LIMIT || naiveRate === undefined;
      const s = await measureSize(users, workerJs, tmp, runNaive, naiveRate);
      if (!s.naive.extrapolated) naiveRate = s.naive.totalCalls / s.naive.wallMs;
      results.push(s);
    }
    log('Lambda bundle and cold import');
    const bundle = await measureBundle(ROOT);
    const markdown = render({ started, durationMs: performance.now() - t0, sizes: results, bundle });
    process.stdout.write(markdown);
    if (!values['no-write']) {
      writeFileSync(DOC, markdown);
      log(`written to ${DOC}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
