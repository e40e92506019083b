/**
 * `npm run bench`: credwatch's scale and IAM-call figures against local IAM endpoints (one account,
 * then organizations of many), next to the seed's per-user scan, and the Lambda bundle; delivery of a
 * 5,000-user first run within the stack's timeout (bench/delivery.ts); the CLI on a 50,000-user report
 * (bench/cli.ts); what one Slack channel gets from a 200-account organization under the default
 * notification policy and announce-everything (bench/alerts.ts). Printed as markdown and written to
 * docs/benchmarks.md.
 *
 * Options:
 * - `--only scans,delivery,cli,alerts,engine` measures only these parts (default: all five); the sections
 *   of the others are kept as they are on the page (bench/report.ts, `renderPage`; bench/engine.ts
 *   `withEngineSection` for the Step Functions engine's);
 * - `--sizes 100,1000` users of the single account (default 100,1000,5000);
 * - `--accounts 50,200` member accounts of the organizations (default 50,200; `none` skips them);
 * - `--full-naive` runs the per-user scan at every size instead of extrapolating it above 1,000 users;
 * - `--full-org` runs the first scan of every organization instead of extrapolating its wall time
 *   above 50 accounts;
 * - `--full-reminder` runs the reminder scan (+24 h) at every size, not only up to 100 users;
 * - `--cli-scan` also runs the CLI's scan (every finding confirmed live) of the single account;
 * - `--alerts-accounts N` member accounts of the alerts part (default 200, the figure);
 * - `--engine-accounts 50,200` organization sizes of the engine part (default 50,200; the largest is
 *   also measured at map concurrency 40 and 100);
 * - `--engine-deliver-accounts 1000,5000` sizes its deliver step is measured at on the largest
 *   organization's deltas, copied (default 1000,5000);
 * - `--rates 10,20` IAM requests/s of the delivery runs (default 10,20); `--delivery-users N` their
 *   account's users (default 5,000);
 * - `--render-only` measures nothing: re-renders the page from the figures the last run of each part
 *   picked by `--only` kept in the OS temp directory;
 * - `--no-write` prints only.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { parseCredentialReport } from '../lambda/core/credential-report';
import { evaluate } from '../lambda/core/evaluate';
import { DEFAULT_THRESHOLDS } from '../lambda/core/policy';
import { type FakeAccount, generateAccount, renderCredentialReport } from '../test/support/account-generator';
import { startIamEndpoint } from '../test/support/iam-endpoint';
import { type Organization, startOrganization } from '../test/support/organization-endpoints';
import { measureAlerts } from './alerts';
import { measureBundle } from './bundle';
import { runNode } from './child';
import { measureCli } from './cli';
import { type DeliveryFigures, measureDelivery } from './delivery';
import { generateReports, settle } from './endpoints';
import {
  DEFAULT_ENGINE_ACCOUNTS,
  DEFAULT_SCALE_ACCOUNTS,
  type EngineFigures,
  measureEngine,
  withEngineSection,
} from './engine';
import { BenchError } from './errors';
import { median, num } from './markdown';
import { NAIVE_PAGE_SIZE, naiveCallCount } from './naive-scan';
import {
  type CpuFigures,
  type Figures,
  type NaiveFigures,
  type OrgFigures,
  type OrgRun,
  renderPage,
  type ScanReport,
  type SizeFigures,
} from './report';
import type { MonitorTarget, WorkerInput, WorkerOutput } from './scan-worker';
import {
  ALERTS,
  CPU_RUNS,
  CPU_WARMUPS,
  DEFAULT_ACCOUNTS,
  DEFAULT_SIZES,
  DELIVERY,
  HARNESS,
  MEMBER_ROLE,
  NAIVE_RUN_LIMIT,
  NOW,
  ORG_CONCURRENCY,
  ORG_FIRST_RUN_LIMIT,
  ORG_USERS,
  REMINDER_INTERVAL_MS,
  REMINDER_RUN_LIMIT,
  SCAN_TIMEOUT_MS,
  SEED,
  STEADY_AFTER_MS,
} from './settings';

const ROOT = join(__dirname, '..');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const STEADY_NOW = new Date(NOW.getTime() + STEADY_AFTER_MS);

const sum = (counts: Record<string, number>, skip: readonly string[] = []) =>
  Object.entries(counts)
    .filter(([k]) => !skip.includes(k))
    .reduce((a, [, v]) => a + v, 0);

const addInto = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
};

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

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

/** Distributes `Omit` over the union, so each mode keeps its own fields. */
type WithoutOut<T> = T extends unknown ? Omit<T, 'out'> : never;

let runSeq = 0;
/** Runs one scan in a fresh process (the bundled worker) and returns what it measured. */
async function runWorker(workerJs: string, tmp: string, input: WithoutOut<WorkerInput>) {
  const out = join(tmp, `result-${++runSeq}.json`);
  const full = { ...input, out } as WorkerInput;
  await runNode([workerJs, JSON.stringify(full)], { timeoutMs: SCAN_TIMEOUT_MS, what: `${input.mode} scan` });
  const result = JSON.parse(readFileSync(out, 'utf8')) as WorkerOutput;
  rmSync(out);
  return result;
}

async function measureSize(
  users: number,
  workerJs: string,
  tmp: string,
  opts: { runNaive: boolean; naiveRate: number | undefined; reminder: boolean; cliScan: boolean },
): Promise<SizeFigures> {
  const account = generateAccount({ users, seed: SEED, now: NOW });
  const keys = account.users().reduce((n, u) => n + u.accessKeys.length, 0);
  log(`${num(users)} users (${num(keys)} keys): parse + evaluate CPU`);
  const cpu = measureCpu(account);

  const endpoint = await startIamEndpoint({ account, ...HARNESS });
  try {
    await generateReports([endpoint.url]);
    await settle([endpoint]);
    const stateDir = join(tmp, `state-${users}`);
    const target: MonitorTarget = { kind: 'account', url: endpoint.url };
    const scheduled = {
      mode: 'monitor',
      target,
      stateDir,
      reminderIntervalMs: REMINDER_INTERVAL_MS,
    } as const;

    log(`${num(users)} users: first scheduled scan`);
    const first = await runWorker(workerJs, tmp, { ...scheduled, now: NOW.toISOString() });
    const firstEndpoint = endpoint.counts();
    await settle([endpoint]);
    log(`${num(users)} users: steady-state scheduled scan (+10 min)`);
    const steady = await runWorker(workerJs, tmp, { ...scheduled, now: STEADY_NOW.toISOString() });
    const steadyEndpoint = endpoint.counts();

    let reminder: SizeFigures['reminder'];
    if (opts.reminder) {
      await settle([endpoint]);
      log(`${num(users)} users: reminder scan (+24 h)`);
      const at = new Date(NOW.getTime() + REMINDER_INTERVAL_MS);
      const worker = await runWorker(workerJs, tmp, { ...scheduled, now: at.toISOString() });
      reminder = { worker, endpoint: endpoint.counts() };
    }

    let cli: SizeFigures['cli'];
    if (opts.cliScan) {
      await settle([endpoint]);
      log(`${num(users)} users: CLI scan`);
      const worker = await runWorker(workerJs, tmp, {
        mode: 'cli',
        url: endpoint.url,
        now: NOW.toISOString(),
      });
      cli = { worker, endpoint: endpoint.counts() };
    }

    const formulaCalls = naiveCallCount(users, keys);
    let naive: NaiveFigures;
    if (opts.runNaive) {
      await settle([endpoint]);
      log(`${num(users)} users: per-user scan (~${num(formulaCalls / HARNESS.throttle.ratePerSecond)} s)`);
      const measured = await runWorker(workerJs, tmp, {
        mode: 'naive',
        url: endpoint.url,
        now: NOW.toISOString(),
      });
      naive = {
        calls: measured.calls,
        totalCalls: sum(measured.calls),
        endpoint: endpoint.counts(),
        wallMs: measured.wallMs,
        extrapolated: false,
        formulaCalls,
      };
    } else {
      if (opts.naiveRate === undefined)
        throw new BenchError('per-user scan: nothing measured to extrapolate from');
      naive = {
        calls: {
          ListUsers: Math.max(1, Math.ceil(users / NAIVE_PAGE_SIZE)),
          ListAccessKeys: users,
          GetAccessKeyLastUsed: keys,
        },
        totalCalls: formulaCalls,
        wallMs: formulaCalls / opts.naiveRate,
        extrapolated: true,
        formulaCalls,
      };
    }
    return {
      users,
      keys,
      cpu,
      first: { worker: first, endpoint: firstEndpoint },
      steady: { worker: steady, endpoint: steadyEndpoint },
      ...(reminder ? { reminder } : {}),
      ...(cli ? { cli } : {}),
      naive,
    };
  } finally {
    await endpoint.close();
  }
}

/** `count` member accounts of {@link ORG_USERS} users each, every one generated from its own seed. */
function members(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const id = String(100_000_000_000 + i);
    return {
      account: generateAccount({ accountId: id, users: ORG_USERS, seed: `${SEED}:${id}`, now: NOW }),
      name: `bench-member-${String(i + 1).padStart(3, '0')}`,
    };
  });
}

/** Starts an organization of `accounts` members whose reports are COMPLETE, its counters at zero. */
async function startOrg(accounts: ReturnType<typeof members>, throttled: boolean): Promise<Organization> {
  const org = await startOrganization({
    accounts,
    memberRoleName: MEMBER_ROLE,
    ...(throttled ? { iam: { ...HARNESS } } : {}),
  });
  try {
    const endpoints = accounts.map((m) => org.iam(m.account.accountId));
    await generateReports(endpoints.map((e) => e.url));
    await settle(endpoints);
    return org;
  } catch (err) {
    await org.close();
    throw err;
  }
}

/** One scheduled scan of every member of `org`, with what the endpoints and STS saw. */
async function scanOrg(
  org: Organization,
  accounts: ReturnType<typeof members>,
  now: Date,
  stateDir: string,
  workerJs: string,
  tmp: string,
): Promise<Omit<OrgRun, 'extrapolatedWallMs'>> {
  const stsBefore = org.counts().sts;
  const target: MonitorTarget = {
    kind: 'organization',
    iamUrl: org.iamUrl,
    stsUrl: org.stsUrl,
    memberRoleName: MEMBER_ROLE,
    accounts: accounts.map((m) => ({ id: m.account.accountId, name: m.name })),
  };
  const worker = await runWorker(workerJs, tmp, {
    mode: 'monitor',
    target,
    now: now.toISOString(),
    stateDir,
    reminderIntervalMs: REMINDER_INTERVAL_MS,
    concurrency: ORG_CONCURRENCY,
  });
  if (worker.failedAccounts > 0) {
    throw new BenchError(
      `organization of ${accounts.length} accounts: ${worker.failedAccounts} accounts failed to scan (${worker.failures.join('; ')})`,
    );
  }
  const iamEndpoint: Record<string, number> = {};
  for (const m of accounts) {
    const endpoint = org.iam(m.account.accountId);
    addInto(iamEndpoint, endpoint.counts());
    endpoint.resetCounts();
  }
  const stsAfter = org.counts().sts;
  const sts = Object.fromEntries(Object.entries(stsAfter).map(([k, v]) => [k, v - (stsBefore[k] ?? 0)]));
  return { worker, iamEndpoint, sts, stateBytes: directoryBytes(stateDir) };
}

/**
 * The first and the steady-state scan of an organization of `count` members. When `measureFirst` is
 * false, the first scan runs against an organization without latency or throttle (to leave the
 * state the steady-state scan needs, and its exact calls and messages), and its harness wall time
 * is extrapolated at `firstAccountsPerMs`.
 */
async function measureOrganization(
  count: number,
  workerJs: string,
  tmp: string,
  measureFirst: boolean,
  firstAccountsPerMs: number | undefined,
): Promise<OrgFigures> {
  const accounts = members(count);
  const stateDir = join(tmp, `org-state-${count}`);
  let first: OrgRun | undefined;
  if (!measureFirst) {
    if (firstAccountsPerMs === undefined)
      throw new BenchError(`organization of ${count} accounts: no first scan measured to extrapolate from`);
    log(`${count} accounts: first scan, unthrottled (to make the state; harness time extrapolated)`);
    const fast = await startOrg(accounts, false);
    try {
      const run = await scanOrg(fast, accounts, NOW, stateDir, workerJs, tmp);
      first = { ...run, extrapolatedWallMs: count / firstAccountsPerMs };
    } finally {
      await fast.close();
    }
  }
  const org = await startOrg(accounts, true);
  try {
    if (measureFirst) {
      log(`${count} accounts × ${ORG_USERS} users: first scan`);
      first = await scanOrg(org, accounts, NOW, stateDir, workerJs, tmp);
      await settle([]);
    }
    log(`${count} accounts × ${ORG_USERS} users: steady-state scan (+10 min)`);
    const steady = await scanOrg(org, accounts, STEADY_NOW, stateDir, workerJs, tmp);
    return { accounts: count, usersPerAccount: ORG_USERS, first: first!, steady };
  } finally {
    await org.close();
  }
}

/** Total size of the files in `dir` (0 when it does not exist). */
function directoryBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** Bundles a worker into a plain-node script, so the measured process runs no TypeScript loader. */
async function bundleWorker(tmp: string, entry = 'scan-worker.ts'): Promise<string> {
  const outfile = join(tmp, entry.replace(/\.ts$/, '.cjs'));
  await build({
    entryPoints: [join(__dirname, entry)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** `"50,200"` -> `[50, 200]`, sorted; throws naming the option when a value is not a whole number in range. */
function numbers(option: string, raw: string, max: number): number[] {
  const values = raw.split(',').map((s) => Number(s.trim()));
  for (const n of values) {
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new BenchError(
        `${option}: "${raw}" must be whole numbers from 1 to ${num(max)}, comma-separated`,
      );
    }
  }
  return values.sort((a, b) => a - b);
}

/** The parts of the benchmark `--only` can pick. */
const PARTS = ['scans', 'delivery', 'cli', 'alerts', 'engine'] as const;
type Part = (typeof PARTS)[number];

/** The raw figures of the last run of each part, kept to re-render the page without measuring (`--render-only`). */
const FIGURES_DIR = join(os.tmpdir(), 'credwatch-bench-figures');

function parts(raw: string | undefined): Part[] {
  if (raw === undefined) return [...PARTS];
  const picked = raw.split(',').map((s) => s.trim());
  for (const p of picked) {
    if (!(PARTS as readonly string[]).includes(p)) {
      throw new BenchError(
        `--only: "${p}" is not a part; the parts are ${PARTS.join(', ')} (comma-separated)`,
      );
    }
  }
  return PARTS.filter((p) => picked.includes(p));
}

function keep<T>(part: Part, figures: T): T {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(join(FIGURES_DIR, `${part}.json`), JSON.stringify(figures));
  return figures;
}

function kept<T>(part: Part): T {
  const file = join(FIGURES_DIR, `${part}.json`);
  if (!existsSync(file))
    throw new BenchError(`--render-only: no figures of "${part}" kept in ${file}; measure it first`);
  return JSON.parse(readFileSync(file, 'utf8'), (k, v) => (k === 'started' ? new Date(v) : v)) as T;
}

async function measureScans(
  values: { sizes?: string; accounts?: string } & Record<string, unknown>,
  tmp: string,
): Promise<ScanReport> {
  const sizes = values.sizes ? numbers('--sizes', values.sizes, 10_000) : DEFAULT_SIZES;
  const accountCounts =
    values.accounts === 'none'
      ? []
      : values.accounts
        ? numbers('--accounts', values.accounts, 1_000)
        : DEFAULT_ACCOUNTS;
  const started = new Date();
  const t0 = performance.now();
  const workerJs = await bundleWorker(tmp);
  const results: SizeFigures[] = [];
  let naiveRate: number | undefined;
  for (const users of sizes) {
    const runNaive = values['full-naive'] === true || users <= NAIVE_RUN_LIMIT || naiveRate === undefined;
    const s = await measureSize(users, workerJs, tmp, {
      runNaive,
      naiveRate,
      reminder: values['full-reminder'] === true || users <= REMINDER_RUN_LIMIT,
      cliScan: values['cli-scan'] === true,
    });
    if (!s.naive.extrapolated) naiveRate = s.naive.totalCalls / s.naive.wallMs;
    results.push(s);
  }
  const orgs: OrgFigures[] = [];
  let firstRate: number | undefined;
  for (const count of accountCounts) {
    const measureFirst =
      values['full-org'] === true || count <= ORG_FIRST_RUN_LIMIT || firstRate === undefined;
    const o = await measureOrganization(count, workerJs, tmp, measureFirst, firstRate);
    if (o.first.extrapolatedWallMs === undefined) firstRate = count / o.first.worker.wallMs;
    orgs.push(o);
  }
  log('Lambda bundle and cold import');
  const bundle = await measureBundle(ROOT);
  return { started, durationMs: performance.now() - t0, sizes: results, orgs, bundle };
}

async function main(): Promise<void> {
  // The SDK's notice that its 2027 releases need Node 22 (this machine runs Node 20); children inherit it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      sizes: { type: 'string' },
      accounts: { type: 'string' },
      rates: { type: 'string' },
      'delivery-users': { type: 'string' },
      'alerts-accounts': { type: 'string' },
      'engine-accounts': { type: 'string' },
      'engine-deliver-accounts': { type: 'string' },
      'full-naive': { type: 'boolean', default: false },
      'full-org': { type: 'boolean', default: false },
      'full-reminder': { type: 'boolean', default: false },
      'cli-scan': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      'render-only': { type: 'boolean', default: false },
    },
  });
  const picked = parts(values.only);
  const rates = values.rates ? numbers('--rates', values.rates, 1_000) : [...DELIVERY.rates];
  const deliveryUsers = values['delivery-users']
    ? numbers('--delivery-users', values['delivery-users'], 10_000)[0]!
    : DELIVERY.users;
  const tmp = mkdtempSync(join(os.tmpdir(), 'credwatch-bench-'));
  try {
    const figures: Figures = {};
    for (const part of picked) {
      if (values['render-only']) {
        Object.assign(figures, { [part]: kept(part) });
        continue;
      }
      if (part === 'scans') figures.scans = keep(part, await measureScans(values, tmp));
      if (part === 'delivery') {
        const workerJs = await bundleWorker(tmp, 'delivery-worker.ts');
        const byRate: DeliveryFigures[] = [];
        for (const rate of rates) byRate.push(await measureDelivery(rate, deliveryUsers, workerJs, tmp));
        figures.delivery = keep(part, byRate);
      }
      if (part === 'cli') figures.cli = keep(part, await measureCli(ROOT, tmp));
      if (part === 'alerts') {
        const workerJs = await bundleWorker(tmp);
        const harness = {
          members,
          startOrg,
          runWorker: (input: WithoutOut<WorkerInput>) => runWorker(workerJs, tmp, input),
        };
        const count = values['alerts-accounts']
          ? numbers('--alerts-accounts', values['alerts-accounts'], 1_000)[0]!
          : ALERTS.accounts;
        figures.alerts = keep(part, await measureAlerts(harness, tmp, count));
      }
      if (part === 'engine') {
        const sizes = values['engine-accounts']
          ? numbers('--engine-accounts', values['engine-accounts'], 1_000)
          : DEFAULT_ENGINE_ACCOUNTS;
        const scale = values['engine-deliver-accounts']
          ? numbers('--engine-deliver-accounts', values['engine-deliver-accounts'], 10_000)
          : DEFAULT_SCALE_ACCOUNTS;
        Object.assign(figures, { engine: keep(part, await measureEngine(tmp, sizes, scale)) });
      }
    }
    const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : undefined;
    const engine = (figures as { engine?: EngineFigures }).engine;
    const markdown = withEngineSection(renderPage(figures, previous), engine, previous);
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
