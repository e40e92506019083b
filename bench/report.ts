/**
 * docs/benchmarks.md from the figures of one `npm run bench` run: tables, the targets of
 * docs/design.md, how many accounts one Lambda invocation covers, and the figures that size the
 * planned design past one invocation. The design itself (architecture, guarantees, plans) is
 * docs/design.md; this file only renders measurements.
 */
import os from 'node:os';
import {
  ANNOUNCE_EVERYTHING,
  DEFAULT_NOTIFICATION_POLICY,
  MESSAGE_CAP_BOUNDS,
} from '../lambda/core/notification-plan';
import type { AlertsFigures, AlertsRun, PolicyFigures, PolicyName } from './alerts';
import type { BundleFigures } from './bundle';
import type { CliFigures, CliFormat, HotSpot } from './cli';
import type { DeliveryFigures } from './delivery';
import { BenchError } from './errors';
import { num, table } from './markdown';
import type { WorkerOutput } from './scan-worker';
import {
  ALERTS,
  CLI,
  CPU_RUNS,
  CPU_WARMUPS,
  DELIVERY,
  HARNESS,
  LAMBDA,
  MEMBER_ROLE,
  MESSAGE_KINDS,
  type MessageKind,
  NOW,
  ORG_CONCURRENCY,
  ORG_FIRST_RUN_LIMIT,
  REMINDER_INTERVAL_MS,
  REMINDER_RUN_LIMIT,
  SEED,
  STEADY_AFTER_MS,
  TARGETS,
} from './settings';

export interface CpuFigures {
  /** Process CPU time (user + system, V8's GC helper threads included). */
  readonly bestMs: number;
  readonly medianMs: number;
  /** Wall time of the fastest run. */
  readonly bestWallMs: number;
  readonly records: number;
  readonly findings: number;
}

export interface NaiveFigures {
  readonly calls: Record<string, number>;
  readonly totalCalls: number;
  /** HTTP requests by action as the endpoint saw them (absent when extrapolated). */
  readonly endpoint?: Record<string, number>;
  readonly wallMs: number;
  readonly extrapolated: boolean;
  /** The exact formula's count, to cross-check a measured run. */
  readonly formulaCalls: number;
}

/** One scan of the single account. */
export interface ScanRun {
  readonly worker: WorkerOutput;
  /** HTTP requests by action as the endpoint saw them, throttled answers included, plus `throttled`. */
  readonly endpoint: Record<string, number>;
}

export interface SizeFigures {
  readonly users: number;
  readonly keys: number;
  readonly cpu: CpuFigures;
  /** monitor() with no state: the first scheduled scan. */
  readonly first: ScanRun;
  /** monitor() 10 minutes later, with the state the first left. */
  readonly steady: ScanRun;
  /** monitor() 24 hours after the first, with the state the steady state left: every reminder due. */
  readonly reminder?: ScanRun;
  /** scan() as the CLI runs it (`--cli-scan`). */
  readonly cli?: ScanRun;
  readonly naive: NaiveFigures;
}

/** One scheduled scan of an organization. */
export interface OrgRun {
  readonly worker: WorkerOutput;
  /** HTTP requests by action summed over the members' IAM endpoints, plus `throttled`. */
  readonly iamEndpoint: Record<string, number>;
  /** STS requests by action. */
  readonly sts: Record<string, number>;
  /** Bytes of the state files after the scan: what the scan's changes leave in the state store. */
  readonly stateBytes: number;
  /**
   * Set when the scan ran without latency or throttle (to make the state and count the calls): its
   * harness wall time, extrapolated from the largest measured first scan.
   */
  readonly extrapolatedWallMs?: number;
}

export interface OrgFigures {
  readonly accounts: number;
  readonly usersPerAccount: number;
  readonly first: OrgRun;
  readonly steady: OrgRun;
}

export interface Report {
  readonly started: Date;
  readonly durationMs: number;
  readonly sizes: readonly SizeFigures[];
  readonly orgs: readonly OrgFigures[];
  readonly bundle: BundleFigures;
}

const ACTIONS = [
  'GenerateCredentialReport',
  'GetCredentialReport',
  'GetAccountAuthorizationDetails',
  'ListAccessKeys',
  'GetAccessKeyLastUsed',
  'ListAccountAliases',
  'ListUsers',
] as const;

const sum = (counts: Record<string, number>, skip: readonly string[] = []) =>
  Object.entries(counts)
    .filter(([k]) => !skip.includes(k))
    .reduce((a, [, v]) => a + v, 0);
const seconds = (ms: number) => num(ms / 1000, 2);
const kib = (bytes: number) => num(bytes / 1024, 1);
const mib = (m: number) => `${num(m, 1)} MiB`;
const yes = (ok: boolean) => (ok ? 'met' : '**not met**');

/** The credwatch call bound (docs/design.md, "Targets"): 3 + 2 x ceil(users/1000) + users needing confirmation. */
export const callBound = (users: number, confirmed: number) => 3 + 2 * Math.ceil(users / 1000) + confirmed;

/** Logical calls of one action, and the endpoint's HTTP requests for it in brackets when retries made them differ. */
function action(calls: Record<string, number>, requests: Record<string, number> | undefined, name: string) {
  const n = calls[name];
  if (n === undefined) return '–';
  const sent = requests?.[name];
  return sent === undefined || sent === n ? num(n) : `${num(n)} (${num(sent)})`;
}

const machine = () => {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length}, ${num(os.totalmem() / 1024 ** 3, 1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`;
};

type Which = 'first' | 'steady';

/** Peak RSS of one kind of scan as a line over accounts, from the smallest and the largest organization. */
export interface MemoryLine {
  readonly perAccountMiB: number;
  readonly baseMiB: number;
  /** Accounts whose scan stays under {@link RSS_BUDGET_MIB}. */
  readonly fit: number;
  readonly from: OrgFigures;
  readonly to: OrgFigures;
}

/** What one account of a scheduled organization scan costs a Lambda invocation, and how many fit. */
export interface Capacity {
  readonly label: string;
  /** Wall time per account at the measured concurrency (wall / accounts), s. */
  readonly wallPerAccountS: number;
  /** Process CPU per account, s, and the wall time it needs at the stack's memory size. */
  readonly cpuPerAccountS: number;
  readonly cpuFloorPerAccountS: number;
  /** Slack messages per account (SlackSender sends one a second). */
  readonly messagesPerAccount: number;
  /** max(wall, CPU floor): the scan's share of an invocation per account, s. */
  readonly scanPerAccountS: number;
  /** Accounts whose scan fits the usable time; and whose scan AND digest delivery fit. */
  readonly byTime: number;
  readonly byTimeWithDigest: number;
  /** Accounts whose peak RSS fits the memory budget (undefined with one organization size). */
  readonly byMemory?: number;
  /** The smaller of time and memory: the accounts one invocation covers. */
  readonly accounts: number;
  readonly accountsWithDigest: number;
}

const USABLE_S = LAMBDA.timeoutS - LAMBDA.safetyMarginS;
const CPU_SHARE = LAMBDA.memoryMb / LAMBDA.memoryMbPerVcpu;
/** Peak RSS a Lambda of {@link LAMBDA.memoryMb} MB may reach (a quarter kept as headroom for the garbage collector). */
const RSS_BUDGET_MIB = LAMBDA.memoryMb * 0.75;

export function memoryLine(orgs: readonly OrgFigures[], which: Which): MemoryLine | undefined {
  const from = orgs[0];
  const to = orgs.at(-1);
  if (!from || !to || from.accounts === to.accounts) return undefined;
  const rss = (o: OrgFigures) => o[which].worker.maxRssMiB;
  const perAccountMiB = (rss(to) - rss(from)) / (to.accounts - from.accounts);
  const baseMiB = rss(from) - perAccountMiB * from.accounts;
  const fit =
    perAccountMiB > 0 ? Math.floor((RSS_BUDGET_MIB - baseMiB) / perAccountMiB) : Number.POSITIVE_INFINITY;
  return { perAccountMiB, baseMiB, fit, from, to };
}

export function capacity(orgs: readonly OrgFigures[], o: OrgFigures, which: Which): Capacity {
  const run = o[which];
  const wallMs = run.extrapolatedWallMs ?? run.worker.wallMs;
  const wallPerAccountS = wallMs / 1000 / o.accounts;
  const cpuPerAccountS = run.worker.cpuMs / 1000 / o.accounts;
  const cpuFloorPerAccountS = cpuPerAccountS / CPU_SHARE;
  const messagesPerAccount = run.worker.messages / o.accounts;
  const scanPerAccountS = Math.max(wallPerAccountS, cpuFloorPerAccountS);
  const byTime = Math.floor(USABLE_S / scanPerAccountS);
  const byTimeWithDigest = Math.floor(
    USABLE_S / (scanPerAccountS + messagesPerAccount * LAMBDA.slackMessageS),
  );
  const byMemory = memoryLine(orgs, which)?.fit;
  return {
    label: `${num(o.accounts)} accounts, ${which === 'first' ? 'first scan' : 'steady state'}`,
    wallPerAccountS,
    cpuPerAccountS,
    cpuFloorPerAccountS,
    messagesPerAccount,
    scanPerAccountS,
    byTime,
    byTimeWithDigest,
    ...(byMemory !== undefined ? { byMemory } : {}),
    accounts: Math.min(byTime, byMemory ?? byTime),
    accountsWithDigest: Math.min(byTimeWithDigest, byMemory ?? byTimeWithDigest),
  };
}

function singleAccount(sizes: readonly SizeFigures[]) {
  const runs = (s: SizeFigures) => [
    { label: 'first scheduled scan', run: s.first },
    { label: 'steady state (+10 min)', run: s.steady },
    ...(s.reminder ? [{ label: 'reminder scan (+24 h)', run: s.reminder }] : []),
    ...(s.cli ? [{ label: 'CLI scan', run: s.cli }] : []),
  ];
  const calls = table(
    ['users', 'scan', ...ACTIONS, 'calls', 'HTTP requests', 'throttled answers'],
    sizes.flatMap((s) => [
      ...runs(s).map(({ label, run }) => [
        num(s.users),
        label,
        ...ACTIONS.map((a) => action(run.worker.calls, run.endpoint, a)),
        num(sum(run.worker.calls)),
        num(sum(run.endpoint, ['throttled'])),
        num(run.endpoint.throttled ?? 0),
      ]),
      [
        num(s.users),
        s.naive.extrapolated ? 'per-user (extrapolated)' : 'per-user',
        ...ACTIONS.map((a) => action(s.naive.calls, s.naive.endpoint, a)),
        num(s.naive.totalCalls),
        s.naive.endpoint ? num(sum(s.naive.endpoint, ['throttled'])) : '–',
        s.naive.endpoint ? num(s.naive.endpoint.throttled ?? 0) : '–',
      ],
    ]),
    `rl${'r'.repeat(ACTIONS.length + 3)}`,
  );

  const scale = table(
    [
      'users',
      'scan',
      'wall time (report ready)',
      'process CPU',
      'peak RSS (before scan)',
      'peak heap used',
      'users confirmed live',
      'findings',
      'digest: changes / Slack messages',
    ],
    sizes.flatMap((s) =>
      runs(s).map(({ label, run }) => [
        num(s.users),
        label,
        `${seconds(run.worker.wallMs)} s`,
        `${seconds(run.worker.cpuMs)} s`,
        `${mib(run.worker.maxRssMiB)} (${mib(run.worker.rssBeforeMiB)})`,
        mib(run.worker.peakHeapUsedMiB),
        num(run.worker.usersConfirmed),
        num(run.worker.findings),
        run.worker.mode === 'monitor' ? `${num(run.worker.changes)} / ${num(run.worker.messages)}` : '–',
      ]),
    ),
    'rlrrrrrrr',
  );

  const cpu = table(
    ['users', 'report rows', 'findings', 'CPU best (median)', 'wall best'],
    sizes.map((s) => [
      num(s.users),
      num(s.cpu.records),
      num(s.cpu.findings),
      `${num(s.cpu.bestMs, 1)} ms (${num(s.cpu.medianMs, 1)} ms)`,
      `${num(s.cpu.bestWallMs, 1)} ms`,
    ]),
    'rrrrr',
  );

  const ratio = (a: number, b: number) => `${num(a / b, a / b >= 100 ? 0 : 1)}×`;
  const ratios = table(
    [
      'users',
      'calls: per-user',
      'first',
      'per-user / first',
      'steady',
      'per-user / steady',
      'wall: per-user',
      'first',
      'per-user / first',
      'steady',
      'per-user / steady',
      'per-user calls = formula',
    ],
    sizes.map((s) => {
      const first = sum(s.first.worker.calls);
      const steady = sum(s.steady.worker.calls);
      return [
        num(s.users),
        num(s.naive.totalCalls),
        num(first),
        ratio(s.naive.totalCalls, first),
        num(steady),
        ratio(s.naive.totalCalls, steady),
        `${seconds(s.naive.wallMs)} s${s.naive.extrapolated ? ' (extrapolated)' : ''}`,
        `${seconds(s.first.worker.wallMs)} s`,
        ratio(s.naive.wallMs, s.first.worker.wallMs),
        `${seconds(s.steady.worker.wallMs)} s`,
        ratio(s.naive.wallMs, s.steady.worker.wallMs),
        s.naive.extrapolated
          ? `by formula: ${num(s.naive.formulaCalls)}`
          : `${num(s.naive.formulaCalls)}: ${s.naive.formulaCalls === s.naive.totalCalls ? 'yes' : '**no**'}`,
      ];
    }),
    'rrrrrrrrrrrl',
  );
  return { calls, scale, cpu, ratios };
}

function targetsTable(sizes: readonly SizeFigures[], bundle: BundleFigures): string {
  const rows: string[][] = sizes.map((s) => {
    const cell = (run: ScanRun) => {
      const calls = sum(run.worker.calls);
      const bound = callBound(s.users, run.worker.usersConfirmed);
      return `${num(calls)} (bound ${num(bound)}, ${num(run.worker.usersConfirmed)} users confirmed): ${yes(calls <= bound)}`;
    };
    return [
      `IAM calls ≤ 3 + 2 × ⌈users/1000⌉ + users needing confirmation (${num(s.users)} users)`,
      cell(s.steady),
      cell(s.first),
    ];
  });
  const big = sizes.find((s) => s.users === TARGETS.atUsers);
  if (big) {
    const callRatio = (run: ScanRun) => {
      const r = big.naive.totalCalls / sum(run.worker.calls);
      return `${num(r, 1)}×: ${yes(r >= TARGETS.naiveCallRatio)}`;
    };
    const wall = (run: ScanRun) =>
      `${seconds(run.worker.wallMs)} s: ${yes(run.worker.wallMs <= TARGETS.wallMs)}`;
    const rss = (run: ScanRun) =>
      `${mib(run.worker.maxRssMiB)}: ${yes(run.worker.maxRssMiB <= TARGETS.peakRssMiB)}`;
    const cpu = `${num(big.cpu.bestMs, 1)} ms: ${yes(big.cpu.bestMs <= TARGETS.cpuMs)}`;
    rows.push(
      [
        `≥ ${TARGETS.naiveCallRatio}× fewer calls than the per-user scan (5,000 users)`,
        callRatio(big.steady),
        callRatio(big.first),
      ],
      ['scan wall time after the report is ready ≤ 2 s (5,000 users)', wall(big.steady), wall(big.first)],
      ['parse + evaluate ≤ 50 ms CPU (5,000 users; the same work in both scans)', cpu, cpu],
      ['peak memory ≤ 128 MB (5,000 users; MiB of RSS)', rss(big.steady), rss(big.first)],
    );
  } else {
    rows.push(['the 5,000-user targets', 'not run (`--sizes` left 5,000 out)', '–']);
  }
  const bundleOk = `${num(bundle.unminifiedBytes)} bytes (${kib(bundle.unminifiedBytes)} KiB): ${yes(bundle.unminifiedBytes <= TARGETS.bundleBytes)}`;
  rows.push(
    [
      'Lambda bundle ≤ 1 MB unminified-equivalent (1 MB read as 1 MiB = 1,048,576 bytes; one bundle for both)',
      bundleOk,
      bundleOk,
    ],
    [
      'cold import measured and reported',
      `${num(bundle.coldImportMedianMs)} ms median: reported`,
      'the same bundle',
    ],
  );
  return table(
    ['target ([design.md](design.md#targets))', 'steady state (+10 min): the target', 'first scheduled scan'],
    rows,
    'lll',
  );
}

function organizations(orgs: readonly OrgFigures[]) {
  const runs = (o: OrgFigures) => [
    { label: 'first scan', run: o.first },
    { label: 'steady state (+10 min)', run: o.steady },
  ];
  const ORG_ACTIONS = ACTIONS.filter((a) => a !== 'ListUsers' && a !== 'ListAccountAliases');
  const figures = table(
    [
      'accounts × users',
      'scan',
      'wall time',
      'per account',
      'process CPU',
      'peak RSS (before)',
      'peak heap used',
      'IAM calls (HTTP requests, throttled)',
      'STS AssumeRole',
      'users confirmed',
      'digest: changes / Slack messages',
    ],
    orgs.flatMap((o) =>
      runs(o).map(({ label, run }) => {
        const wallMs = run.extrapolatedWallMs ?? run.worker.wallMs;
        const est = run.extrapolatedWallMs !== undefined;
        return [
          `${num(o.accounts)} × ${num(o.usersPerAccount)}`,
          est ? `${label} (unthrottled run; wall extrapolated)` : label,
          `${est ? '≈ ' : ''}${seconds(wallMs)} s${est ? ` (unthrottled: ${seconds(run.worker.wallMs)} s)` : ''}`,
          `${num(wallMs / o.accounts, 0)} ms`,
          `${seconds(run.worker.cpuMs)} s`,
          `${mib(run.worker.maxRssMiB)} (${mib(run.worker.rssBeforeMiB)})`,
          mib(run.worker.peakHeapUsedMiB),
          `${num(sum(run.worker.calls))} (${num(sum(run.iamEndpoint, ['throttled']))}, ${num(run.iamEndpoint.throttled ?? 0)})`,
          num(run.sts.AssumeRole ?? 0),
          num(run.worker.usersConfirmed),
          `${num(run.worker.changes)} / ${num(run.worker.messages)}`,
        ];
      }),
    ),
    'rlrrrrrrrrr',
  );
  const byAction = table(
    ['accounts', 'scan', ...ORG_ACTIONS, 'per account'],
    orgs.flatMap((o) =>
      runs(o).map(({ label, run }) => [
        num(o.accounts),
        label,
        ...ORG_ACTIONS.map((a) =>
          action(run.worker.calls, run.extrapolatedWallMs ? undefined : run.iamEndpoint, a),
        ),
        num(sum(run.worker.calls) / o.accounts, 1),
      ]),
    ),
    `rl${'r'.repeat(ORG_ACTIONS.length + 1)}`,
  );
  return { figures, byAction };
}

function capacitySection(orgs: readonly OrgFigures[]): string {
  if (orgs.length === 0) return 'Not measured in this run (`--accounts none`).';
  const caps = orgs.flatMap((o) => [capacity(orgs, o, 'first'), capacity(orgs, o, 'steady')]);
  const capTable = table(
    [
      'measured on',
      'wall per account',
      'CPU per account → at 512 MB',
      'scan per account',
      'Slack messages per account',
      'accounts by time: scan (+ digest)',
      'by memory (line through both sizes)',
      'accounts per invocation: scan (+ digest)',
    ],
    caps.map((c) => [
      c.label,
      `${num(c.wallPerAccountS * 1000)} ms`,
      `${num(c.cpuPerAccountS * 1000)} ms → ${num(c.cpuFloorPerAccountS * 1000)} ms`,
      `${num(c.scanPerAccountS * 1000)} ms`,
      num(c.messagesPerAccount, 1),
      `${num(c.byTime)} (${num(c.byTimeWithDigest)})`,
      c.byMemory === undefined ? '–' : num(c.byMemory),
      `**${num(c.accounts)}** (${num(c.accountsWithDigest)})`,
    ]),
    'lrrrrrrr',
  );
  const largest = orgs.at(-1)!;
  const f = capacity(orgs, largest, 'first');
  const s = capacity(orgs, largest, 'steady');
  const memFirst = memoryLine(orgs, 'first');
  const memSteady = memoryLine(orgs, 'steady');
  const line = (m: MemoryLine, which: Which) =>
    `${which === 'first' ? 'First scan' : 'Steady state'}: ${mib(m.from[which].worker.maxRssMiB)} at ${num(m.from.accounts)} accounts, ${mib(m.to[which].worker.maxRssMiB)} at ${num(m.to.accounts)}${which === 'first' && m.to.first.extrapolatedWallMs !== undefined ? ' (the unthrottled run)' : ''}: ${num(m.perAccountMiB, 2)} MiB per account over ${mib(m.baseMiB)}, so **${Number.isFinite(m.fit) ? num(m.fit) : 'any number of'} accounts** stay under ${num(RSS_BUDGET_MIB)} MiB`;
  const memText =
    memFirst && memSteady
      ? `- **Memory.** monitor() keeps every account's scan result (findings) and state until the digest is built, so peak RSS
  grows with the accounts of one invocation. A ${LAMBDA.memoryMb} MB function is given a budget of ${num(RSS_BUDGET_MIB)} MiB of RSS (a quarter kept as headroom
  for the garbage collector). ${line(memFirst, 'first')}. ${line(memSteady, 'steady')}. RSS is measured here with V8
  collecting lazily (a 24 GiB machine), an upper estimate of what a 512 MB function, whose V8 collects sooner, would reach; the peak V8 heap used is in the table above.
  ${s.byMemory !== undefined && s.byMemory < s.byTime ? `Still, **at ${LAMBDA.memoryMb} MB memory, not time, bounds the steady state**: more memory (which also buys CPU) scans more.` : `At ${LAMBDA.memoryMb} MB time, not memory, bounds the steady state.`}\n`
      : '- **Memory.** Only one organization size was run, so no per-account memory slope is given.\n';
  const cpuMs = (c: Capacity) => num(c.cpuPerAccountS * 1000);
  return `${capTable}

The arithmetic, for the ${num(largest.accounts)}-account figures:

- **Usable time.** ${LAMBDA.timeoutS} s (the Lambda maximum; the stack's default timeout is 300 s and would have to be raised) less a
  safety margin of ${LAMBDA.safetyMarginS} s = **${USABLE_S} s**. The margin covers what the harness leaves out: IAM generating a
  credential report (the timed scans find it COMPLETE; the scanner waits up to 60 s for one, and IAM regenerates it every 4 hours),
  real IAM and STS latency (the local STS answers at once), DynamoDB reads and conditional writes of the state (the bench
  keeps it in files), the handler's 15 s delivery margin (\`DELIVERY_MARGIN_MS\`), and a slower CPU than this machine's.
- **CPU.** A ${LAMBDA.memoryMb} MB Lambda gets ${LAMBDA.memoryMb}/${num(LAMBDA.memoryMbPerVcpu)} = ${num(CPU_SHARE, 2)} of a vCPU, so a scan needs
  at least its CPU time / ${num(CPU_SHARE, 2)} of wall time there (this machine's CPU, not Graviton's). First scan: ${cpuMs(f)} ms CPU per account → ${num(f.cpuFloorPerAccountS * 1000)} ms at ${LAMBDA.memoryMb} MB, against
  ${num(f.wallPerAccountS * 1000)} ms of wall per account here; steady state: ${cpuMs(s)} ms → ${num(s.cpuFloorPerAccountS * 1000)} ms against ${num(s.wallPerAccountS * 1000)} ms. The larger of the two is the
  scan's cost per account at concurrency ${ORG_CONCURRENCY}.
- **First scan, by time**: ${USABLE_S} s / ${num(f.scanPerAccountS, 3)} s = **${num(f.byTime)} accounts** scanned.
- **First scan, digest delivered too**: SlackSender sends one message a second, after the scans, and the first digest has
  ${num(f.messagesPerAccount, 1)} messages per account: ${USABLE_S} s / (${num(f.scanPerAccountS, 3)} s + ${num(f.messagesPerAccount, 1)} × ${LAMBDA.slackMessageS} s) = **${num(f.byTimeWithDigest)} accounts**.${f.messagesPerAccount >= 1 ? ' Slack, not IAM, bounds the first scan.' : ''} What does not fit
  is not lost: delivery stops at the deadline, and what was not delivered is announced (and confirmed again) by the next scans.
- **Steady state, by time**: nothing to announce, so no message: ${USABLE_S} s / ${num(s.scanPerAccountS, 3)} s = **${num(s.byTime)} accounts**.
${memText}- **So one invocation covers** about **${num(f.accounts)} accounts** of ${num(largest.usersPerAccount)} users on a first scan (${num(f.accountsWithDigest)} if it must also deliver the
  digest) and about **${num(s.accounts)}** in steady state, at concurrency ${ORG_CONCURRENCY} and ${LAMBDA.memoryMb} MB.
- **The daily reminder scan costs IAM what the steady state costs.** Every finding the first scan announced
  was announced at the same instant, so all of them are due for their reminder ${REMINDER_INTERVAL_MS / 3_600_000} hours later, in the same scan. monitor()
  confirms live only what it announces as new or worse; a reminder carries the access key id it was announced with, so that
  scan makes no per-user IAM call (measured for one account: "reminder scan (+24 h)" in the tables above). Its digest is as
  long as the first one, though: delivery, not IAM, sizes that day's invocation.`;
}

/** The batch size of the design past one invocation: what a batch Lambda can scan on a first scan (time and memory). */
export function batchSize(orgs: readonly OrgFigures[]): number | undefined {
  const largest = orgs.at(-1);
  if (!largest) return undefined;
  const n = capacity(orgs, largest, 'first').accounts;
  return n >= 20 ? Math.floor(n / 10) * 10 : Math.max(1, n);
}

/**
 * The figures that size the planned Step Functions design (docs/design.md, "Planned: thousands of
 * accounts"); the design itself is described there, not here.
 */
function pastOneInvocation(orgs: readonly OrgFigures[]): string {
  const n = batchSize(orgs);
  const largest = orgs.at(-1);
  const f = largest && capacity(orgs, largest, 'first');
  const st = largest && capacity(orgs, largest, 'steady');
  const covers =
    f && st
      ? `One invocation covers about ${num(st.accounts)} accounts of ${num(largest.usersPerAccount)} users in steady state, ${f.accounts < st.accounts ? 'but only ' : ''}about ${num(f.accounts)} on a first
scan (${num(f.accountsWithDigest)} if it must also deliver that digest), by the figures above.`
      : 'How many accounts one invocation covers was not measured in this run.';
  const link =
    'Past that, credwatch runs as a Step Functions state machine (a Distributed Map of scan batches, then one deliver step: [design.md](design.md#thousands-of-accounts-the-step-functions-engine), measured in [Step Functions engine](#step-functions-engine)). What this run measured for it:';
  if (!largest || !f || n === undefined)
    return `${covers} ${link}

- nothing: no organization was scanned in this run.`;
  const batchS = f.scanPerAccountS * n;
  const batches = Math.ceil(5000 / n);
  const stateBytes = largest.first.stateBytes;
  const batchMiB = ((stateBytes / largest.accounts) * n) / 1024 ** 2;
  return `${covers} ${link}

- **Batch size** (\`MaxItemsPerBatch\`): N = **${num(n)}** accounts of ${num(largest.usersPerAccount)} users, the first-scan capacity of one invocation
  (scan only: a batch does not talk to Slack) and its memory bound, rounded down. Accounts with many more users need a
  smaller N; a batch function with more memory (and so more CPU) takes a larger one.
- **An example**: 5,000 accounts of this size make ⌈5,000 / ${num(n)}⌉ = ${num(batches)} batches; with MaxConcurrency 10 they run
  in ${num(Math.ceil(batches / 10))} waves of about ${num(batchS / 60, 1)} minutes of first-scan work each (plus the margin).
- **Why a batch hands its changes over in S3**: the state the first scan left is ${kib(stateBytes / largest.accounts)} KiB of JSON per account
  here, so a first scan's changes are about ${num(batchMiB, 1)} MiB for a batch of ${num(n)}: more than ${batchMiB > 6 ? "a Lambda response's 6 MB and " : ''}a
  state's 256 KiB.
- **Why one deliver step, and why a large first digest takes several runs**: one sender gets out at most about
  ${num(USABLE_S)} messages in an invocation (Slack's webhook takes about one a second), while a first (or daily reminder) digest has
  about ${num(f.messagesPerAccount, 1)} messages per account.`;
}

function summary(r: Report): string {
  const { sizes, orgs, bundle } = r;
  const lines: string[] = [];
  const big = sizes.find((s) => s.users === TARGETS.atUsers) ?? sizes.at(-1);
  if (big) {
    const steady = sum(big.steady.worker.calls);
    const first = sum(big.first.worker.calls);
    const ok = (cond: boolean, what: string) => (cond ? `${what}: met` : `${what}: **not met**`);
    lines.push(
      `- **Steady state** (the scan every 10 minutes), ${num(big.users)} users: **${num(steady)} IAM calls** (the report, users and tags; no per-user call) against ${num(big.naive.totalCalls)} for the per-user scan (${num(big.naive.totalCalls / steady)}× fewer), **${seconds(big.steady.worker.wallMs)} s**, peak RSS ${mib(big.steady.worker.maxRssMiB)}.`,
      `- **First scheduled scan**, ${num(big.users)} users: ${num(first)} IAM calls (${big.first.worker.usersConfirmed === 0 ? 'none confirmed live: under the default policy a first scan is a baseline, one summary, nothing announced one by one' : `${num(big.first.worker.usersConfirmed)} users confirmed live, as everything is about to be announced`}), ${seconds(big.first.worker.wallMs)} s${big.first.worker.usersConfirmed === 0 ? '' : `, bounded by the ${HARNESS.throttle.ratePerSecond} requests/s throttle`}: ${num(big.naive.totalCalls / first, 1)}× fewer calls than the per-user scan.`,
    );
    const rem = sizes.find((s) => s.reminder);
    if (rem?.reminder) {
      lines.push(
        `- **Reminder scan** (24 hours after the first, ${num(rem.users)} users): ${num(sum(rem.reminder.worker.calls))} IAM calls and ${num(rem.reminder.worker.messages)} messages, against ${num(sum(rem.first.worker.calls))} and ${num(rem.first.worker.messages)} for the first scan: a reminder is not confirmed live (it carries the key id it was announced with), so the daily reminder scan costs IAM what the steady state costs; its digest is what sizes that day's run.`,
      );
    }
    if (big.users === TARGETS.atUsers) {
      lines.push(
        `- **Targets ([design.md](design.md#targets)), steady state at 5,000 users**: ${[
          ok(steady <= callBound(big.users, big.steady.worker.usersConfirmed), 'call bound'),
          ok(big.naive.totalCalls / steady >= TARGETS.naiveCallRatio, '≥ 100× fewer calls'),
          ok(big.steady.worker.wallMs <= TARGETS.wallMs, 'wall ≤ 2 s'),
          ok(big.cpu.bestMs <= TARGETS.cpuMs, `parse + evaluate ≤ 50 ms CPU (${num(big.cpu.bestMs)} ms)`),
          ok(
            big.steady.worker.maxRssMiB <= TARGETS.peakRssMiB,
            `peak memory ≤ 128 MB (${num(big.steady.worker.maxRssMiB)} MiB)`,
          ),
        ].join(
          '; ',
        )}. The targets are the steady state's; the first scheduled scan's figures are in the table below.`,
      );
    }
  }
  const largest = orgs.at(-1);
  if (largest) {
    const f = capacity(orgs, largest, 'first');
    const st = capacity(orgs, largest, 'steady');
    const firstWall = largest.first.extrapolatedWallMs ?? largest.first.worker.wallMs;
    lines.push(
      `- **${num(largest.accounts)} accounts × ${num(largest.usersPerAccount)} users**, concurrency ${ORG_CONCURRENCY}: steady state ${seconds(largest.steady.worker.wallMs)} s (${num(sum(largest.steady.worker.calls))} IAM calls, ${num(largest.steady.sts.AssumeRole ?? 0)} AssumeRole), first scan ${largest.first.extrapolatedWallMs !== undefined ? '≈ ' : ''}${seconds(firstWall)} s${largest.first.extrapolatedWallMs !== undefined ? ' (extrapolated)' : ''} and a first digest of ${num(largest.first.worker.messages)} Slack message${largest.first.worker.messages === 1 ? '' : 's'}. One 15-minute invocation (${USABLE_S} s usable, ${LAMBDA.memoryMb} MB) covers about **${num(f.accounts)} accounts** on a first scan (${num(f.accountsWithDigest)} with its digest delivered) and **${num(st.accounts)}** in steady state.`,
    );
  }
  lines.push(
    `- **Lambda bundle**, AWS SDK bundled: ${kib(bundle.minifiedBytes)} KiB minified, ${kib(bundle.unminifiedBytes)} KiB unminified-equivalent: the 1 MiB budget is ${bundle.unminifiedBytes <= TARGETS.bundleBytes ? 'met' : '**not met**'}; cold import ${num(bundle.coldImportMedianMs)} ms.`,
  );
  return lines.join('\n');
}

export function render(r: Report): string {
  const { sizes, orgs, bundle } = r;
  const single = singleAccount(sizes);
  const org = organizations(orgs);

  const share = (bytes: number, of: number) => `${num((100 * bytes) / of)}%`;
  const packages = table(
    ['package', 'minified', 'share', 'unminified', 'share'],
    [...bundle.packages, bundle.sdk].map((p, i) => [
      i < bundle.packages.length ? `\`${p.name}\`` : `all of the ${p.name}`,
      `${kib(p.minifiedBytes)} KiB`,
      share(p.minifiedBytes, bundle.minifiedBytes),
      `${kib(p.unminifiedBytes)} KiB`,
      share(p.unminifiedBytes, bundle.unminifiedBytes),
    ]),
    'lrrrr',
  );
  const top = bundle.packages.find((p) => p.name !== '(credwatch)');
  const zodNote =
    top?.name === 'zod'
      ? ` The largest single package is \`zod\` (${share(top.unminifiedBytes, bundle.unminifiedBytes)} of the unminified bundle), imported as \`import { z } from 'zod'\` by lambda/settings.ts and lambda/core/policy.ts: zod 4's classic API brings its whole surface (JSON Schema conversion included) and every error-message locale. Validating the environment with \`zod/mini\` (tree-shakable) or by hand would shrink the bundle more than anything else; this is a finding for the owners of those files, not changed here.`
      : '';
  const bundleTable = table(
    ['bundle (lambda/handler.ts, AWS SDK bundled)', 'size'],
    [
      ['minified (deployed)', `${kib(bundle.minifiedBytes)} KiB (${num(bundle.minifiedBytes)} bytes)`],
      ['unminified-equivalent', `${kib(bundle.unminifiedBytes)} KiB (${num(bundle.unminifiedBytes)} bytes)`],
      ['source map beside the minified file', `${kib(bundle.sourceMapBytes)} KiB`],
      ['npm packages in the bundle', num(bundle.packageCount)],
      [
        "for comparison: `@aws-sdk/*` external (NodejsFunction's default, the previous setting), minified / unminified",
        `${kib(bundle.sdkExternal.minifiedBytes)} KiB / ${kib(bundle.sdkExternal.unminifiedBytes)} KiB`,
      ],
      [
        'cold `await import()` of the minified file, median of 5 fresh `node` processes',
        `${num(bundle.coldImportMedianMs)} ms (${bundle.coldImportMs.map((ms) => num(ms)).join(', ')})`,
      ],
    ],
    'lr',
  );

  const extrapolated = sizes.filter((s) => s.naive.extrapolated);
  const measuredNaive = sizes.filter((s) => !s.naive.extrapolated).at(-1);
  const naiveNote =
    extrapolated.length > 0 && measuredNaive
      ? `- The per-user scan at ${extrapolated.map((s) => num(s.users)).join(', ')} users was **not run; it is extrapolated**: its calls are exact by formula (⌈users/100⌉ ListUsers pages + one ListAccessKeys a user + one GetAccessKeyLastUsed a key, keys counted in the generated account; the formula matches the measured runs, see the last column of the ratio table) and its wall time is those calls at the throughput measured at ${num(measuredNaive.users)} users (${num(measuredNaive.naive.totalCalls / (measuredNaive.naive.wallMs / 1000), 1)} calls/s). \`npm run bench -- --full-naive\` runs it (about 8 more minutes).\n`
      : '';
  const estOrgs = orgs.filter((o) => o.first.extrapolatedWallMs !== undefined);
  const measuredOrg = orgs.filter((o) => o.first.extrapolatedWallMs === undefined).at(-1);
  const orgNote =
    estOrgs.length > 0 && measuredOrg
      ? `- The first scan of ${estOrgs.map((o) => `${num(o.accounts)} accounts`).join(', ')} was **not run under the harness; its wall time is extrapolated**: it ran against an organization of the same accounts without latency or throttle (to leave the state the steady-state scan starts from), so its calls, STS requests, changes, messages, CPU and RSS are measured (the calls and messages are the same under the harness: the accounts and the instant are), and its harness wall time is its accounts at the rate measured for ${num(measuredOrg.accounts)} accounts (${num((measuredOrg.accounts / measuredOrg.first.worker.wallMs) * 1000, 2)} accounts/s; the scan is throttle-bound per account, so it scales with the accounts at a fixed concurrency). \`npm run bench -- --full-org\` runs it (about 4 more minutes for 200 accounts).\n`
      : '';
  const confirmedShare = sizes
    .map((s) => `${num((100 * s.first.worker.usersConfirmed) / s.users)}% (${num(s.users)} users)`)
    .join(', ');

  return `# Benchmarks

${HEADER}

- Date: ${r.started.toISOString()} (the run took ${num(r.durationMs / 60_000, 1)} min)
- Machine: ${machine()}

## Summary

${summary(r)}

## Method

- **Harness**: the local IAM endpoint of the tests (test/support/iam-endpoint.ts) on 127.0.0.1, with
  ${HARNESS.latencyMs} ms latency on every answer and a token-bucket throttle of ${HARNESS.throttle.ratePerSecond} requests/s (burst ${HARNESS.throttle.burst})
  over every action, answering \`Throttling\` (HTTP 400) beyond it. Every scan uses the IAM client settings
  \`IAM_CLIENT_DEFAULTS\` (adaptive retry, 10 attempts).
- **Accounts**: \`generateAccount({ users, seed: '${SEED}', now: ${NOW.toISOString()} })\`, the same accounts on every run
  (the seed's mix of service accounts, people and dormant users; keys 0–400 days old; tags).
- **Scheduled scans**: \`monitor()\` (lambda/monitor.ts), as the Lambda runs it: \`IamAdapter\` + \`scan()\` with the default
  thresholds, live confirmation only of what is about to be announced, diff against the remembered state, a
  ${REMINDER_INTERVAL_MS / 3_600_000}-hour reminder interval. The notifier only counts the messages (no Slack server: delivery costs nothing here),
  and the state store keeps each account's states in a JSON file (bench/file-state.ts), read per account as the
  DynamoDB store reads a partition. The **first scheduled scan** starts with no state, at ${NOW.toISOString()}; the
  **steady state** is the next scheduled scan, ${STEADY_AFTER_MS / 60_000} minutes later, with the state the first left (the normal case:
  nothing new, no reminder due). Each runs in a fresh \`node\` process (bench/scan-worker.ts bundled by esbuild, no
  TypeScript loader). The credential report was **generated before the timed runs**, so each finds it COMPLETE: its
  wall time is Generate (COMPLETE) + Get + users and tags + live confirmation + diff + state, not IAM's report
  generation. Calls are the adapters' logical calls (\`calls()\`, one a page); HTTP requests are what the endpoint
  received (\`counts()\`), throttled answers and SDK retries included.
- **Reminder scan** (at ${num(REMINDER_RUN_LIMIT)} users and fewer; every size with \`--full-reminder\`): a third scheduled scan, ${REMINDER_INTERVAL_MS / 3_600_000}
  hours after the first, with the state the steady state left: every finding the first scan announced is due for its reminder.
- **CLI scan** (only with \`--cli-scan\`): \`scan()\` without \`selectForConfirmation\`, as the CLI runs it: every would-be
  access-key finding is confirmed live, info findings included.
- **parse + evaluate CPU**: \`process.cpuUsage()\` (user + system) around \`parseCredentialReport\` + \`evaluate\` (with the
  users' tags) on the same account's report CSV, in the bench process, best (and median) of ${CPU_RUNS} runs after ${CPU_WARMUPS}
  warm-ups. It is process CPU time, so V8's garbage-collector threads count: it can exceed the wall time, also shown.
  "process CPU" in the scan tables is the worker's CPU time over the whole scan (SDK, XML parsing, scan, diff, state).
- **Memory**: the worker's own peak RSS (\`VmHWM\` of /proc/self/status, bench/peak-rss.cjs: Node, the bundled SDK and
  the scan; the RSS before the scan is in brackets; getrusage's \`maxRSS\`, used before 2026-12-03, also counted the bench's
  own RSS when it spawned the worker) and the largest V8 \`heapUsed\` sampled every 25 ms during the scan. Node runs with its default
  heap limits on a ${num(os.totalmem() / 1024 ** 3)} GiB machine, where V8 collects lazily.
- **Per-user scan** (the seed's approach, as in the AWS access-key rotation sample): ListUsers (\`MaxItems\` 100), then
  for every user ListAccessKeys and GetAccessKeyLastUsed for each key, sequentially, in the same kind of fresh process
  against the same endpoint (token bucket refilled between runs).
- **Organizations**: \`startOrganization\` (test/support/organization-endpoints.ts): one IAM endpoint per member account, each
  with the harness's latency and its own throttle, behind one IAM router, and a local STS (no latency, no throttle).
  Members are \`generateAccount\` accounts with their own seeds. \`monitor()\` gets one job per account (its id and name):
  an \`IamAdapter\` whose \`IAMClient\` (adaptive retry) has \`endpoint\` = the router and \`credentials\` =
  \`assumeRoleCredentials({ roleArn: memberRoleArn(id, '${MEMBER_ROLE}'), client })\`, one \`STSClient\` for all; concurrency
  ${ORG_CONCURRENCY} (the default). First scan and steady state as above. IAM requests are summed over the members' endpoints;
  STS requests are counted by the local STS.
- **Bundle**: esbuild's JS API on lambda/handler.ts with the stack's options (platform node, target node24, format esm,
  bundle, \`mainFields\` module,main, the \`createRequire\` banner, source map, and \`externalModules: []\`: the AWS SDK is
  **bundled**), minified and not. Cold import: \`await import()\` of the minified file in a fresh \`node\` (Node ${process.version}
  here, not Lambda's Node 24). KiB = 1,024 bytes, MiB = 1,024 KiB.

## One account

### IAM calls by action

Logical calls (one a page); in brackets, the HTTP requests the endpoint received for that action when throttling
and SDK retries made them more.

${single.calls}

### Scheduled scans at scale

${single.scale}

### parse + evaluate

${single.cpu}

### Per-user scan vs credwatch

${single.ratios}

## Targets

The call, wall-time and memory targets of [design.md](design.md#targets) are for the steady state, the scan that runs every 10 minutes; the
first scheduled scan is shown beside them for comparison, not judged by them.

${targetsTable(sizes, bundle)}

## Many accounts

${
  orgs.length === 0
    ? 'Not measured in this run (`--accounts none`).'
    : `${org.figures}

IAM calls by action (logical calls; in brackets, HTTP requests when retries made them more):

${org.byAction}`
}

## Accounts per Lambda invocation

${capacitySection(orgs)}

## Lambda bundle

${bundleTable}

The largest packages in it (esbuild's metafile, bytes of each package's modules in the output; \`(credwatch)\` is
the project's own code):

${packages}

Bundling the SDK (so the artifact tested is exactly what runs, at the versions the lock file pins) costs the
difference with the comparison row. The bundle budget of [design.md](design.md#targets) is judged above on the bundle as deployed, SDK included.${zodNote}

## Notes

${naiveNote}${orgNote}- Wall times are bounded by the throttle (${HARNESS.throttle.ratePerSecond} requests/s per account): a scan takes about its calls / ${HARNESS.throttle.ratePerSecond} seconds. The first
  scheduled scan's calls are dominated by the live confirmation: ListAccessKeys for each user with an access-key finding
  about to be announced, and GetAccessKeyLastUsed for each key about to be called unused. In the generated accounts
  ${confirmedShare} of the users needed it on the first scan; the steady state confirms none, as nothing is about to be
  announced. The GetAccessKeyLastUsed re-reads and the account-alias lookup (ListAccountAliases, made only when there is
  a digest to send) are not in the call bound of [design.md](design.md#targets), which is why the first scan exceeds it.
- Wall times, CPU, HTTP requests and throttled answers vary from run to run (timers, the adaptive retry's rate estimate,
  the machine); the logical call counts, changes and messages do not.
- The local endpoints run in the bench's own process, on the same ${os.cpus().length} cores as the measured worker.

## Past one invocation

${pastOneInvocation(orgs)}
`;
}

/** The figures of one run of the report's parts (`--only` measures some of them). */
export type ScanReport = Report;
export interface Figures {
  scans?: ScanReport;
  delivery?: readonly DeliveryFigures[];
  cli?: CliFigures;
  alerts?: AlertsFigures;
}

const HEADER =
  'Written by `npm run bench` (bench/run.ts). Each part can be rerun alone (`--only scans|delivery|cli|alerts`): the one-account, organization and bundle figures are from the run dated below; the delivery, CLI and alerts sections say when they were measured.';
/** What earlier versions of this page said in its place. */
const OLD_HEADERS = [
  'Written by `npm run bench` (bench/run.ts); the figures below are from one run. Rerun to refresh.',
  'Written by `npm run bench` (bench/run.ts). Each part can be rerun alone (`--only scans|delivery|cli`): the one-account, organization and bundle figures are from the run dated below; the delivery and CLI sections say when they were measured.',
];

/** One part's text in the three places it appears: a Summary line, a Method paragraph, a section. */
interface PartText {
  readonly summary: string;
  readonly method: string;
  readonly section: string;
}

const pct = (part: number, whole: number) => (whole > 0 ? `${num((100 * part) / whole)}%` : '–');
const s1 = (ms: number) => `${num(ms / 1000, 1)} s`;
const when = (startedAt: string, durationMs: number, load: { before: number; after: number }) =>
  `Measured ${startedAt} (${num(durationMs / 60_000, 1)} min) on ${machine()}; 1-minute load average ${num(load.before, 1)} before, ${num(load.after, 1)} after (${os.cpus().length} cores${load.before >= os.cpus().length || load.after >= os.cpus().length ? ': **the machine was busy** with other work, so CPU-bound figures are slower than on an idle machine' : ''}).`;

type Accepted = DeliveryFigures['runs'][number]['worker']['accepted'][number];
const announcements = (accepted: readonly Accepted[]) =>
  accepted.flatMap((m) => m.changes).filter((c) => c.kind === 'opened' || c.kind === 'escalated');

/** `10/s`; with a rate measured more than once, also when (`10/s (00:13 UTC)`). */
function rateLabel(f: DeliveryFigures, figs: readonly DeliveryFigures[]): string {
  const same = figs.filter((g) => g.ratePerSecond === f.ratePerSecond).length > 1;
  return `${num(f.ratePerSecond)}/s${same ? ` (${f.startedAt.slice(11, 16)} UTC)` : ''}`;
}

/** What the runs that passed the deadline were doing then, and the events a killed run left to the next. */
function lateNotes(figs: readonly DeliveryFigures[]): string {
  const lines: string[] = [];
  for (const f of figs) {
    f.runs.forEach((r, i) => {
      const w = r.worker;
      const end = w.timedOut ? f.timeoutS * 1000 : (w.wallMs ?? 0);
      if (end <= w.deadlineMs) return;
      const lastMessage = w.accepted.at(-1)?.at ?? 0;
      lines.push(
        `- ${rateLabel(f, figs)}, run ${i + 1}: ${w.timedOut ? `killed at the ${f.timeoutS} s timeout` : `returned at ${s1(end)}`}, ${s1(end - w.deadlineMs)} after the deadline. Its last message was accepted at ${s1(lastMessage)}; after it came ${s1(r.phases.eventsMs)} of events (the outbox read, ${num(w.accepted.reduce((n, m) => n + m.changes.length, 0))} events in chunks of 10, the outbox removal)${w.timedOut ? `, cut off by the timeout: more than the ${num(f.deliveryMarginMs / 1000)} s margin the handler keeps after the deadline` : `: inside the ${num(f.deliveryMarginMs / 1000)} s margin, ${s1(f.timeoutS * 1000 - end)} before the timeout`}. Publishing the outbox has no deadline of its own.`,
      );
      const next = f.runs[i + 1]?.worker.result;
      if (w.timedOut && next) {
        const carried = next.eventsPublished - next.delivered;
        lines.push(
          `- The run after it published ${num(next.eventsPublished)} events: its own ${num(next.delivered)} and ${num(carried)} the killed run had left in the outbox (nothing lost; a chunk published but not yet removed when the process was killed is published again).`,
        );
      }
    });
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * Findings marked unconfirmed in a run: of the scan (from monitor()'s result), of the digest (what the
 * notifier was handed, known also for a killed run) and of the messages Slack took.
 */
function unconfirmedOf(r: DeliveryFigures['runs'][number]) {
  const w = r.worker;
  const flagged = w.accepted.some((m) => m.changes.some((c) => 'unconfirmed' in c)) || w.digest !== undefined;
  const ids = new Set(w.result?.unconfirmed ?? []);
  const posted = announcements(w.accepted).filter((c) =>
    flagged ? (c as { unconfirmed?: true }).unconfirmed === true : ids.has(c.id),
  ).length;
  const marked = w.result ? ids.size : w.digest ? w.digest.unconfirmed : undefined;
  return { marked, inDigest: w.digest?.unconfirmed, announced: posted };
}

function deliveryText(figs: readonly DeliveryFigures[]): PartText {
  const f0 = figs[0]!;
  const runRow = (f: DeliveryFigures, i: number) => {
    const r = f.runs[i]!;
    const w = r.worker;
    const res = w.result;
    const u = unconfirmedOf(r);
    const finished = w.timedOut
      ? '**no: killed at the timeout**'
      : (w.wallMs ?? 0) <= w.deadlineMs
        ? 'yes'
        : `**no** (${s1((w.wallMs ?? 0) - w.deadlineMs)} after the deadline, within the timeout)`;
    const stopped = res?.deliveryError
      ? res.deliveryError.includes('out of time')
        ? 'out of time'
        : res.deliveryError
      : res && res.messages > 0
        ? 'all sent'
        : '–';
    return [
      rateLabel(f, figs),
      `${i + 1} (+${num((i * DELIVERY.intervalMs) / 60_000)} min)`,
      w.timedOut ? `${s1(f.timeoutS * 1000)} (timeout)` : s1(w.wallMs ?? 0),
      finished,
      res
        ? `${num(w.accepted.length)} of ${num(res.messages)} (${stopped})`
        : `${num(w.accepted.length)} (digest unknown)`,
      num(r.announced),
      num(r.reminders),
      u.marked === undefined
        ? 'not recorded (killed)'
        : `${num(u.marked)}${u.inDigest !== undefined ? ` (${num(u.inDigest)} in the digest, ${num(u.announced)} posted)` : ''}`,
      res ? `${num(res.usersConfirmed)} / ${num(res.usersUnconfirmed)}` : '–',
      res ? num(Object.values(res.calls).reduce((a, b) => a + b, 0)) : '–',
      num(r.slackRateLimited),
      w.error ?? res?.commitError ?? res?.eventError ?? '–',
    ];
  };
  const runs = table(
    [
      'IAM rate',
      'run',
      'wall time',
      `finished before the deadline (timeout − ${num(f0.deliveryMarginMs / 1000)} s)`,
      'Slack messages posted, of the digest',
      'findings announced (new / worse)',
      'reminders',
      'findings marked unconfirmed (in the digest, posted)',
      'users confirmed live / not confirmed',
      'IAM calls',
      'Slack 429s',
      'error',
    ],
    figs.flatMap((f) => f.runs.map((_, i) => runRow(f, i))),
    'llrlrrrrrrrl',
  );
  const over = table(
    [
      'IAM rate',
      `findings to announce (paging, any run)`,
      'announced at least once',
      'duplicates (same id and severity announced twice) / extra announcements',
      `never said after ${f0.runs.length} runs`,
      'items in the table after the last run',
      'EventBridge events received (distinct)',
    ],
    figs.map((f) => [
      rateLabel(f, figs),
      num(f.toSay),
      num(f.toSay - f.neverSaid),
      `${num(f.duplicateFindings)} / ${num(f.duplicateAnnouncements)}`,
      f.neverSaid === 0 ? '0' : `**${num(f.neverSaid)}**`,
      num(f.stateItems),
      f.eventsReceived === undefined
        ? 'not counted'
        : `${num(f.eventsReceived)} (${num(f.eventsDistinct ?? 0)})`,
    ]),
    'lrrrrrr',
  );
  const cell = (ms: number, total: number) => `${s1(ms)} (${pct(ms, total)})`;
  const phases = table(
    [
      'IAM rate',
      'run',
      'report + users and tags',
      'evaluate',
      'live confirmation',
      'diff (+ alias)',
      'delivery to Slack',
      'state commit (state + outbox)',
      'events',
      'other (a killed run: the calls in flight at the timeout)',
      'total',
    ],
    figs.flatMap((f) =>
      f.runs.map((r, i) => {
        const p = r.phases;
        return [
          rateLabel(f, figs),
          String(i + 1),
          cell(p.reportUsersMs, p.totalMs),
          cell(p.evaluateMs, p.totalMs),
          cell(p.confirmMs, p.totalMs),
          `${cell(p.diffMs, p.totalMs)}${p.aliasMs > 0 ? ` (alias ${num(p.aliasMs)} ms)` : ''}`,
          cell(p.slackMs, p.totalMs),
          cell(p.commitMs, p.totalMs),
          cell(p.eventsMs, p.totalMs),
          cell(p.otherMs, p.totalMs),
          s1(p.totalMs),
        ];
      }),
    ),
    'lrrrrrrrrrr',
  );
  const commitPerMessage = figs.flatMap((f) =>
    f.runs
      .filter((r) => r.worker.accepted.length > 0)
      .map((r) => r.phases.commitMs / r.worker.accepted.length),
  );
  const avgCommit =
    commitPerMessage.length > 0 ? commitPerMessage.reduce((a, b) => a + b, 0) / commitPerMessage.length : 0;
  const reserve = (budgetMs: number) =>
    Math.min(Math.round(budgetMs / 2), Math.max(10_000, Math.round(budgetMs / 4)));
  const budgetMs = f0.timeoutS * 1000 - f0.deliveryMarginMs;
  const summaryParts = figs.map((f) => {
    const r = f.runs[0]!;
    const w = r.worker;
    const ok = !w.timedOut && (w.wallMs ?? 0) <= w.deadlineMs;
    return `at ${rateLabel(f, figs)} run 1 posted **${num(w.accepted.length)}${w.result ? ` of ${num(w.result.messages)}` : ''} messages** (${num(r.announced)} findings announced, ${unconfirmedOf(r).marked === undefined ? 'unconfirmed not recorded' : `${num(unconfirmedOf(r).inDigest ?? unconfirmedOf(r).marked!)} marked unconfirmed`}) and ${ok ? `finished before the deadline (${s1(w.wallMs ?? 0)})` : w.timedOut ? `**was killed at the ${f.timeoutS} s timeout**` : `**finished after the deadline** (${s1(w.wallMs ?? 0)}, within the ${f.timeoutS} s timeout)`}; over ${f.runs.length} runs ${num(f.duplicateFindings)} duplicates and ${f.neverSaid === 0 ? 'nothing' : `**${num(f.neverSaid)} findings**`} never said`;
  });
  const summary = `- **Delivery within the stack's ${f0.timeoutS} s timeout** (${num(f0.users)} users, first runs, real Slack pacing and state table): ${summaryParts.join('; ')}.`;
  const method = `- **Delivery within the timeout** (bench/delivery.ts, bench/delivery-worker.ts): a ${num(f0.users)}-user \`generateAccount\` account (${num(f0.keys)} keys) behind the local IAM endpoint with ${HARNESS.latencyMs} ms latency and a token bucket of ${figs.map((f) => num(f.ratePerSecond)).join(' and ')} requests/s (burst ${f0.burst}), its report generated before the runs. Each run is \`monitor()\` in a fresh \`node\` process, with \`notifications: ANNOUNCE_EVERYTHING\` (no baseline, per-finding reminders, the highest cap: the worst case for delivery; with the defaults a first run posts one baseline summary), wired as lambda/handler.ts wires it: \`IamAdapter\` (\`IAM_CLIENT_DEFAULTS\`), \`DynamoStateStore\` as state **and** outbox on **dynalite** (test/support/dynalite.ts; the real store, because the per-message commit is the store's conditional per-item writes and outbox entries), \`EventPublisher\` to the local EventBridge, and \`SlackNotifier\` + \`SlackSender\` posting to test/support/slack-receiver.ts behind a limiter of ${DELIVERY.slack.ratePerSecond} message/s (burst ${DELIVERY.slack.burst}) that answers Slack's 429 \`rate_limited\` with \`Retry-After: 1\` beyond it (bench/slack-limit.ts; the receiver itself has no rate limit). The deadline is the handler's: invocation start + \`getRemainingTimeInMillis()\` (the stack's default \`timeoutSeconds\`, ${f0.timeoutS}, read from lib/config/index.ts) − ${num(f0.deliveryMarginMs / 1000)} s (\`DELIVERY_MARGIN_MS\`), so monitor() keeps \`deliveryReserveMs\` = ${s1(reserve(budgetMs))} of its ${s1(budgetMs)} for delivery; a watchdog ends the process at ${f0.timeoutS} s as Lambda would. Runs 2 and 3 judge at +10 and +20 minutes (the scans' clock; the deadline is the wall clock), with the state the earlier runs committed; the ${DELIVERY.runs} runs use the default 24-hour reminder interval, so no reminder is due. What was said is what Slack accepted (each \`onDelivered\`); a duplicate is a finding id announced as new or worse twice at the same severity. Phases are measured from outside by timing the ports (no change to lambda/): report + users = up to the end of the last GetCredentialReport/GetAccountAuthorizationDetails (the state load and the CSV parse fall inside it); evaluate = from there to the first live confirmation; live confirmation = first to last ListAccessKeys/GetAccessKeyLastUsed; diff = from there to the first Slack message (the re-evaluation with the live keys, the diff and the ListAccountAliases lookup: not separable from outside, the alias call is shown apart); delivery to Slack = the notifier's time less the commits it waited for (rendering, posting, pacing, 429 waits); state commit = the state and outbox writes after each accepted message; events = the outbox read, PutEvents and outbox removal after the last message.`;
  const section = `## Delivery within the stack's timeout

${when(
  f0.startedAt,
  figs.reduce((n, f) => n + f.durationMs, 0),
  { before: f0.loadAverage.before, after: figs.at(-1)!.loadAverage.after },
)}

### Each run

${runs}

### Over the ${f0.runs.length} runs

${over}

### Where the time goes

Seconds and share of each run's wall time, by phase (see Method for where each phase starts and ends).

${phases}

${lateNotes(figs)}- The state commit after each accepted message took ${num(avgCommit)} ms on average here: dynalite (in-memory, in the bench's own process on the same cores), not DynamoDB, whose PutItem latency from a Lambda is different; the delivery-to-Slack share is bounded by Slack's pace of about one message a second, whatever the machine.
- \`SlackSender\` paces messages ${num(LAMBDA.slackMessageS)} s apart counted from the start of the previous one, and the commit runs inside that second: a commit shorter than the pace costs no delivery time, so "delivery to Slack" + "state commit" is about one second per message posted (more after a 429).
- A finding not confirmed live in time is announced from the report, marked unconfirmed (\`user-not-confirmed\` warning); the next run confirms only what it still has to announce.`;
  return { summary, method, section };
}

/** tsx compiles the project's files without keeping their lines: a project file is named without one. */
const ownFile = (fn: string) => fn.replace(/\(((?:lambda|bin|bench|lib|test)\/[^:()]+):\d+\)$/, '($1)');

function cliText(c: CliFigures): PartText {
  const mb = (v: number) => `${num(v)} MB`;
  const rows = c.formats.map((f) => [
    `\`${f.format}\``,
    `${num(f.bestWallMs / 1000, 2)} s`,
    f.runs.map((r) => num(r.wallMs / 1000, 2)).join(', '),
    mb(f.bestRssMB),
    `${num(Math.min(...f.runs.map((r) => r.cpuMs)) / 1000, 2)} s`,
    `${num(f.outputBytes / 1e6, 1)} MB`,
    f.meetsWall ? 'met' : '**not met**',
    f.meetsRss ? 'met' : '**not met**',
  ]);
  const results = table(
    [
      'format',
      'wall time (best)',
      `all ${CLI.runs} runs, s`,
      'peak RSS (lowest)',
      'process CPU (lowest)',
      'output',
      `< ${num(CLI.targetWallMs / 1000)} s`,
      `< ${num(CLI.targetRssMB)} MB`,
    ],
    rows,
    'lrrrrrll',
  );
  const missed = c.formats.filter((f) => f.profile);
  const profiles = missed
    .map((f) => {
      const p = f.profile!;
      const list = (spots: readonly HotSpot[]) =>
        table(
          ['function (file:line)', 'ms', 'share'],
          spots.map((h) => [`\`${ownFile(h.fn).replace(/\|/g, '\\|')}\``, num(h.ms), pct(h.share, 1)]),
          'lrr',
        );
      return `#### \`--format ${f.format}\` (${num(p.sampledMs)} ms sampled)

By self time (every function, Node's and the packages' included):

${list(p.self)}

credwatch's own functions by total time (self + callees):

${list(p.inclusive)}`;
    })
    .join('\n\n');
  const verdict = (f: CliFormat) =>
    `${f.format} ${num(f.bestWallMs / 1000, 1)} s / ${num(f.bestRssMB)} MB${f.meetsWall && f.meetsRss ? '' : ' (**missed**)'}`;
  const summary = `- **CLI on a ${num(c.users)}-user report** (targets < ${num(CLI.targetWallMs / 1000)} s and < ${num(CLI.targetRssMB)} MB each, best of ${CLI.runs}): ${c.formats.map(verdict).join(', ')}.`;
  const method = `- **CLI on a large report** (bench/cli.ts): \`renderCredentialReport(generateAccount({ users: ${num(c.users)}, seed: '${SEED}', now: ${NOW.toISOString()} }))\` (${num(c.reportBytes / 1e6, 1)} MB of CSV, ${num(c.findings)} findings), then for each format, ${CLI.runs} times, a fresh \`node --import tsx bin/scan.ts --report FILE --format F --output FILE --now ${NOW.toISOString()}\` from the repository root, as a user runs it (without \`--tags\`). Wall time is from spawn to exit, tsx's start-up and TypeScript compilation included (its cache warm after the first run); peak RSS is the CLI process's own (\`VmHWM\` of /proc/self/status, bench/peak-rss.cjs), written at exit by a \`--require\` preload; MB = 10^6 bytes, as the target is stated. The best of the ${CLI.runs} runs is reported. A format that misses a target is run once more with \`--cpu-prof\`, and its main thread's profile is summarised below.`;
  const section = `## CLI on a ${num(c.users)}-user report

${when(c.startedAt, c.durationMs, c.loadAverage)} These figures are CPU-bound: rerun them on a quiet machine with \`npm run bench -- --only cli\`.

${results}
${missed.length > 0 ? `\n### Where the time goes (\`--cpu-prof\`)\n\n${profiles}\n` : ''}`;
  return { summary, method, section };
}

/** Each kind's name, one and several. */
const KIND_LABELS: Record<MessageKind, readonly [string, string]> = {
  baseline: ['baseline summary', 'baseline summaries'],
  digest: ['digest message (new, worse, resolved)', 'digest messages (new, worse, resolved)'],
  'roll-up': ['roll-up', 'roll-ups'],
  owner: ["owner's list", "owners' lists"],
  overflow: ['overflow summary', 'overflow summaries'],
};

/** `1 roll-up + 8 owners' lists + 1 overflow summary`: the non-zero kinds, in sending order. */
const kinds = (counts: Record<MessageKind, number>) =>
  MESSAGE_KINDS.filter((k) => counts[k] > 0)
    .map((k) => `${num(counts[k])} ${KIND_LABELS[k][counts[k] === 1 ? 0 : 1]}`)
    .join(' + ') || 'none';

const total = (counts: Record<MessageKind, number>) => MESSAGE_KINDS.reduce((n, k) => n + counts[k], 0);
const POLICY_LABELS: Record<PolicyName, string> = {
  default: 'default (`DEFAULT_NOTIFICATION_POLICY`)',
  'announce-everything': 'announce-everything (`ANNOUNCE_EVERYTHING`)',
};
/** Slack's pace: how long a channel takes to show `n` messages at one a second. */
const atSlackPace = (n: number) => {
  const s = Math.max(0, n - 1) * LAMBDA.slackMessageS;
  return s >= 3600 ? `${num(s / 3600, 1)} h` : s >= 120 ? `${num(s / 60, 1)} min` : `${num(s)} s`;
};

function alertsText(a: AlertsFigures): PartText {
  const def = a.policies.find((p) => p.name === 'default');
  const all = a.policies.find((p) => p.name === 'announce-everything');
  if (!def || !all)
    throw new BenchError('alerts figures: a policy is missing (default, announce-everything)');
  const calls = (r: AlertsRun) => sum(r.worker.calls);
  const messagesOf = (r: AlertsRun) => r.worker.notified?.byKind;
  const sent = (r: AlertsRun) => r.worker.messages;
  const slackOf = (r: AlertsRun) => r.worker.notified?.slack;
  const capOf = (r: AlertsRun) => r.policy.maxMessagesPerRun;
  const runLabel = (p: PolicyFigures, r: AlertsRun) =>
    r === p.first
      ? 'first run'
      : r === p.steady
        ? `steady state (+${num(STEADY_AFTER_MS / 60_000)} min)`
        : `reminder run (+${num(ALERTS.reminderAfterMs / 3_600_000)} h)${r === p.reminderHighestCap ? ', highest cap' : ''}`;
  const runsOf = (p: PolicyFigures) => [
    p.first,
    p.steady,
    p.reminder,
    ...(p.reminderHighestCap ? [p.reminderHighestCap] : []),
  ];
  const burstCell = (r: AlertsRun) => {
    const sl = slackOf(r);
    return sl ? `${num(sl.largestBurst)} (${num(sl.rateLimited)} × 429)` : '– (nothing sent)';
  };
  const runs = table(
    [
      'policy',
      'run',
      'cap',
      'changes',
      'messages posted',
      'of which',
      'before the cap',
      'IAM calls (HTTP requests)',
      'users confirmed live',
      'largest burst in 1 s (429s)',
      'Slack time at 1/s',
    ],
    a.policies.flatMap((p) =>
      runsOf(p).map((r) => {
        const m = messagesOf(r);
        const u = r.worker.notified?.uncappedByKind;
        return [
          POLICY_LABELS[p.name],
          runLabel(p, r),
          num(capOf(r)),
          num(r.worker.changes),
          num(sent(r)),
          m ? kinds(m) : '–',
          u ? num(total(u)) : '–',
          `${num(calls(r))} (${num(sum(r.iamRequests, ['throttled']))})`,
          num(r.worker.usersConfirmed),
          burstCell(r),
          slackOf(r) ? s1(slackOf(r)!.deliveryMs) : '–',
        ];
      }),
    ),
    'llrrrlrrrrr',
  );

  // 1. messages per channel on the first run.
  const firstOk = (p: PolicyFigures) => sent(p.first) <= ALERTS.targets.firstRunMessages;
  const firstCell = (p: PolicyFigures) =>
    `${num(sent(p.first))} (${kinds(messagesOf(p.first) ?? ({} as Record<MessageKind, number>))}): ${yes(firstOk(p))}`;
  // 2. IAM calls of the first run against the steady state's.
  const over = (p: PolicyFigures) => calls(p.first) / calls(p.steady) - 1;
  const callsOk = (p: PolicyFigures) => over(p) <= ALERTS.targets.firstOverSteadyCalls;
  const callsCell = (p: PolicyFigures) =>
    `${num(calls(p.first))} against ${num(calls(p.steady))} (${over(p) >= 0 ? '+' : ''}${pct(calls(p.first) - calls(p.steady), calls(p.steady))}; ${num(p.first.worker.usersConfirmed)} users confirmed live): ${yes(callsOk(p))}`;
  // 3. the reminder run: 1 per channel plus 1 per owner, before the cap; and what the cap leaves.
  const expected = 1 + a.ownersOfRemindedFindings;
  const planned = (r: AlertsRun) => {
    const u = r.worker.notified?.uncappedByKind;
    return u ? u['roll-up'] + u.owner : 0;
  };
  const reminderOk = (p: PolicyFigures) => planned(p.reminder) === expected;
  const reminderCell = (p: PolicyFigures) => {
    const n = r0(p).worker.notified;
    if (p.reminder.policy.reminders !== 'roll-up') {
      return `no roll-up (per-finding reminders): ${num(sent(p.reminder))} messages of reminders and news (${num(total(n?.uncappedByKind ?? EMPTY))} before the cap), no owner's list: **not met**`;
    }
    return `${num(n?.uncappedByKind['roll-up'] ?? 0)} roll-up + ${num(n?.uncappedByKind.owner ?? 0)} owners' lists = ${num(planned(p.reminder))} before the cap, for ${num(a.ownersOfRemindedFindings)} owners: ${yes(reminderOk(p))} (and ${num(n?.uncappedByKind.digest ?? 0)} digest messages of the day's new, worse and resolved findings); posted at cap ${num(capOf(p.reminder))}: ${num(sent(p.reminder))}, ${num(n?.ownersMessaged ?? 0)} owner${n?.ownersMessaged === 1 ? "'s list" : "s' lists"} among them`;
  };
  const r0 = (p: PolicyFigures) => p.reminder;
  // 4. the largest burst against Slack's 1 message a second.
  const sentRuns = (p: PolicyFigures) => runsOf(p).filter((r) => slackOf(r));
  const burst = (p: PolicyFigures) => Math.max(0, ...sentRuns(p).map((r) => slackOf(r)!.largestBurst));
  const limited = (p: PolicyFigures) => sentRuns(p).reduce((n, r) => n + slackOf(r)!.rateLimited, 0);
  const burstOk = (p: PolicyFigures) => burst(p) <= ALERTS.slack.perSecond && limited(p) === 0;
  const burstCellP = (p: PolicyFigures) =>
    `${num(burst(p))} message in any second, ${num(limited(p))} answered 429, over ${num(sentRuns(p).reduce((n, r) => n + slackOf(r)!.shown, 0))} messages: ${yes(burstOk(p))}`;
  const targets = table(
    ['target (issue 12)', POLICY_LABELS.default, POLICY_LABELS['announce-everything']],
    [
      [
        `1. messages per channel on the first run ≤ ${ALERTS.targets.firstRunMessages}`,
        firstCell(def),
        firstCell(all),
      ],
      [
        `2. IAM calls of the first run within ${pct(ALERTS.targets.firstOverSteadyCalls, 1)} of the steady state's`,
        callsCell(def),
        callsCell(all),
      ],
      [
        `3. reminder run (+${num(ALERTS.reminderAfterMs / 3_600_000)} h): 1 message per channel + 1 per owner (${num(a.ownersOfRemindedFindings)} owners of reminded findings: ${num(expected)})`,
        reminderCell(def),
        reminderCell(all),
      ],
      [
        `4. largest burst per channel ≤ Slack's ${ALERTS.slack.perSecond} message a second (every run)`,
        burstCellP(def),
        burstCellP(all),
      ],
    ],
    'lll',
  );

  // The reminder run and the cap (default policy).
  const capRows = [def.reminder, ...(def.reminderHighestCap ? [def.reminderHighestCap] : [])].map((r) => {
    const n = r.worker.notified!;
    return [
      num(capOf(r)),
      num(n.byKind.digest),
      num(n.byKind['roll-up']),
      `${num(n.ownersMessaged)} of ${num(n.owners)}`,
      num(n.owners - n.ownersMessaged),
      num(n.byKind.overflow),
      num(sent(r)),
      atSlackPace(sent(r)),
    ];
  });
  const u = def.reminder.worker.notified!;
  capRows.push([
    `none (≥ ${num(total(u.uncappedByKind))})`,
    num(u.uncappedByKind.digest),
    num(u.uncappedByKind['roll-up']),
    `${num(u.owners)} of ${num(u.owners)}`,
    '0',
    '0',
    num(total(u.uncappedByKind)),
    atSlackPace(total(u.uncappedByKind)),
  ]);
  const capTable = table(
    [
      'cap',
      'digest (new, worse)',
      'roll-up',
      "owners' lists posted",
      'owners folded into the overflow summary',
      'overflow summary',
      'messages',
      'at Slack’s 1/s',
    ],
    capRows,
    'rrrrrrrr',
  );
  const heads = (r: AlertsRun) =>
    (r.worker.notified?.headers ?? [])
      .map((h, i) => `${i + 1}. ${h.replace(/[|*_`<>]/g, (c) => `\\${c}`)}`)
      .join('\n');
  const highest = def.reminderHighestCap;
  const summary = `- **Alerts at scale** (${num(a.accounts)} accounts × ${num(a.usersPerAccount)} users, ${num(a.pagingFindings)} paging findings, ${num(a.ownersOfOpenFindings)} owners, one channel), default policy: first run **${num(sent(def.first))} message${sent(def.first) === 1 ? '' : 's'}** (≤ ${ALERTS.targets.firstRunMessages}: ${yes(firstOk(def))}); first-run IAM calls ${num(calls(def.first))} against ${num(calls(def.steady))} in steady state (within ${pct(ALERTS.targets.firstOverSteadyCalls, 1)}: ${yes(callsOk(def))}); reminder run: 1 roll-up + ${num(u.uncappedByKind.owner)} owners' lists before the cap, 1 per owner of a reminded finding (${yes(reminderOk(def))}), after ${num(u.uncappedByKind.digest)} digest messages of the day's news; the cap of ${num(capOf(def.reminder))} posts ${num(sent(def.reminder))} (${num(u.ownersMessaged)} owner's list${u.ownersMessaged === 1 ? '' : 's'}, ${num(u.owners - u.ownersMessaged)} folded into the overflow summary)${highest ? ` and the highest cap, ${num(capOf(highest))}, ${num(sent(highest))}` : ''}; largest burst ${num(burst(def))} message a second with Slack's pacing, ${num(limited(def))} × 429 (${yes(burstOk(def))}). Announce-everything: ${num(sent(all.first))} messages on the first run, ${num(calls(all.first))} IAM calls (${num(calls(all.first) / calls(all.steady), 1)}× the steady state), ${num(sent(all.reminder))} on the reminder run.`;
  const method = `- **Alerts at scale** (bench/alerts.ts, bench/scan-worker.ts): the organizations' ${num(a.accounts)} member accounts of ${num(a.usersPerAccount)} users (\`generateAccount\` with their own seeds, ${num(a.keys)} keys) behind \`startOrganization\`, **without latency or throttle** (the figures are counts: messages and logical IAM calls do not depend on them). For each policy, \`monitor()\` in a fresh \`node\` process with \`notifications\` = \`DEFAULT_NOTIFICATION_POLICY\` (baseline on, roll-up reminders, cap ${num(DEFAULT_NOTIFICATION_POLICY.maxMessagesPerRun)}: what \`monitor()\` uses when none is given) or \`ANNOUNCE_EVERYTHING\` (no baseline, per-finding reminders, cap ${num(ANNOUNCE_EVERYTHING.maxMessagesPerRun)}), concurrency ${ORG_CONCURRENCY}, the state in files (bench/file-state.ts): the first run at ${NOW.toISOString()} with no state, the steady state ${num(STEADY_AFTER_MS / 60_000)} minutes later, the reminder run one reminder interval (${num(ALERTS.reminderAfterMs / 3_600_000)} h) after the first; for the default policy the reminder run is also made, from a copy of the same state, at the highest cap the configuration allows (\`MESSAGE_CAP_BOUNDS.max\`, ${num(MESSAGE_CAP_BOUNDS.max)}). Messages go through the real \`SlackNotifier\` (\`renderPosts\`: plan, Block Kit, cap and overflow summary) and \`SlackSender\` (its pacing, \`minIntervalMs\` ${num(def.first.worker.notified?.slack?.minIntervalMs ?? 1000)} ms, and its 429 handling) to test/support/slack-receiver.ts started with \`rateLimit\` ${ALERTS.slack.perSecond}/s, burst ${ALERTS.slack.burst} (Slack's webhook limit; beyond it Slack's 429 \`rate_limited\`), sender and receiver on **one virtual clock** (the sender's \`sleep\` advances it), so a run of 1,000 messages costs no real waiting: "largest burst" is the receiver's \`largestBurst()\`, the most messages it showed within any one second, and "Slack time" the virtual time from the first message to the last. "Before the cap" is \`renderPosts\` of the same posts without a cap. One channel: this build sends every account to one webhook. The owners are counted apart from \`monitor()\`: the generated accounts' reports evaluated (\`evaluate\`, default thresholds, the users' tags) at the first run's instant and a reminder interval later; the owners of open findings are the distinct \`credwatch:owner\` values of the findings that page on the first run (${num(a.notices)} \`exemption-granted\` notices, never reminded, aside), the owners of reminded findings those of the findings still paging a day later and not more severe (diff's rule for a reminder). Messages and calls are the same on every run.`;
  const section = `## Alerts at scale

${when(a.startedAt, a.durationMs, a.loadAverage)} Counts, not times: the same on every run.

The ${num(a.accounts)}-account × ${num(a.usersPerAccount)}-user organization has ${num(a.pagingFindings)} findings that page on the first run and ${num(a.ownersOfOpenFindings)} owners of open findings; a reminder interval later ${num(a.ownersOfRemindedFindings)} of them own a finding that is reminded (the other ${num(a.ownersOfOpenFindings - a.ownersOfRemindedFindings)} own only findings that got worse or were resolved that day: those are in the digest, which mentions the owners of new and worse ones). ${num(a.usersWithOwnerTag)} users have a \`credwatch:owner\` tag: the generator gives each tagged user an owner of their own, so there are about as many owners as tagged users with a finding; a real organization has fewer owners, each with more credentials.

### The issue's targets

${targets}

### Each run

${runs}

### The reminder run and the cap (default policy)

With roll-up reminders a reminder interval posts one roll-up and one list per owner, after any new or worse findings' digest; the cap keeps the first messages in that order and folds the rest (the owners' lists last) into one overflow summary, which names up to 5 of the owners whose lists were not posted. No cap the configuration allows (${num(MESSAGE_CAP_BOUNDS.min)} to ${num(MESSAGE_CAP_BOUNDS.max)}) is high enough for every owner here; the last row is the plan without a cap (\`renderPosts\` with none), not a run.

${capTable}

At Slack's one message a second, a Lambda's ${num(LAMBDA.timeoutS)} s (the maximum; the stack's default is 300 s) posts at most about ${num(LAMBDA.timeoutS / LAMBDA.slackMessageS)} messages: a cap of ${num(MESSAGE_CAP_BOUNDS.max)} does not fit one invocation${highest ? ` (${atSlackPace(sent(highest))} of pacing alone)` : ''}; delivery stops at the deadline and the next run sends the rest.

### What the channel shows (default policy)

First run:

${heads(def.first)}

Reminder run, cap ${num(capOf(def.reminder))}:

${heads(def.reminder)}`;
  return { summary, method, section };
}

const EMPTY = Object.fromEntries(MESSAGE_KINDS.map((k) => [k, 0])) as Record<MessageKind, number>;

const RERUN = `## How to rerun

\`\`\`sh
npm run bench                              # every part, writes docs/benchmarks.md (~50 min)
npm run bench -- --only scans              # one account, organizations, bundle (~9 min); the other sections are kept
npm run bench -- --only delivery,cli       # only delivery within the timeout (~30 min) and the CLI (~3 min)
npm run bench -- --only cli                # only the CLI on a 50,000-user report (CPU-bound: on a quiet machine)
npm run bench -- --only alerts             # only alerts at scale: what one channel gets from 200 accounts (~6 min)
npm run bench -- --only alerts --alerts-accounts 5 --no-write                 # a quick look, printed only
npm run bench -- --only delivery --rates 20 --delivery-users 500 --no-write   # a quick look, printed only
npm run bench -- --only scans --sizes 100 --accounts none --no-write           # a quick look, printed only
npm run bench -- --accounts 20,50          # other organization sizes (first scans above ${ORG_FIRST_RUN_LIMIT} accounts extrapolated)
npm run bench -- --full-org                # also run the first scan of every organization (~4 min more for 200 accounts)
npm run bench -- --full-naive              # also run the per-user scan at 5,000 users (~8 min more)
npm run bench -- --full-reminder           # also run the reminder scan (+24 h) at 1,000 and 5,000 users (~4 min more)
npm run bench -- --cli-scan                # also run the CLI's scan (every finding confirmed) of the single account
npm run bench -- --only engine             # the Step Functions engine at 50 and 200 accounts, deliver at 1,000 and 5,000 on copied deltas (~10 min)
npm run bench -- --only engine --engine-accounts 200,1000   # the page's engine figures: 1,000 accounts measured, deliver at 5,000 (~15 min)
npm run bench -- --only engine --engine-accounts 5,10 --engine-deliver-accounts 20 --no-write   # a quick look, printed only
npm run bench -- --only delivery --render-only   # re-render the page from the last run's figures (kept in the OS temp directory)
\`\`\`

A part that is not rerun keeps its sections as they are on the page.`;

const open = (key: string) => `<!-- bench:${key} -->`;
const close = (key: string) => `<!-- /bench:${key} -->`;

/** The text between a region's markers, when the page has them. */
function region(doc: string, key: string): string | undefined {
  const a = doc.indexOf(open(key));
  const b = doc.indexOf(close(key));
  if (a < 0 || b < a) return undefined;
  return doc
    .slice(a + open(key).length, b)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

/** Puts `content` in the region `key`: between its markers, or, when the page has none, before `heading`. */
function upsert(doc: string, key: string, content: string, heading: string): string {
  const block = `${open(key)}\n${content}\n${close(key)}`;
  const a = doc.indexOf(open(key));
  const b = doc.indexOf(close(key));
  if (a >= 0 && b > a) return doc.slice(0, a) + block + doc.slice(b + close(key).length);
  // Before the rerun region's marker when the heading is in it (a part added after the page was written).
  const marked = doc.indexOf(`\n${open('rerun')}\n${heading}\n`);
  const at = marked >= 0 ? marked : doc.indexOf(`\n${heading}\n`);
  if (at < 0)
    throw new BenchError(`docs/benchmarks.md: no "${heading}" heading to put the ${key} figures before`);
  return `${doc.slice(0, at + 1)}${block}\n\n${doc.slice(at + 1)}`;
}

/**
 * The page: the parts measured now rendered afresh, the others kept from `previous` (the page as it
 * is), each part in marked regions so that a later `--only` run replaces just its own.
 */
export function renderPage(f: Figures, previous?: string): string {
  let doc = f.scans ? render(f.scans) : previous;
  if (doc === undefined) {
    throw new BenchError('docs/benchmarks.md does not exist: run every part once (`npm run bench`)');
  }
  for (const old of OLD_HEADERS) doc = doc.replace(old, HEADER);
  const parts: { key: 'delivery' | 'cli' | 'alerts'; title: string; text?: PartText }[] = [
    {
      key: 'delivery',
      title: "## Delivery within the stack's timeout",
      ...(f.delivery ? { text: deliveryText(f.delivery) } : {}),
    },
    { key: 'cli', title: '## CLI on a 50,000-user report', ...(f.cli ? { text: cliText(f.cli) } : {}) },
    { key: 'alerts', title: '## Alerts at scale', ...(f.alerts ? { text: alertsText(f.alerts) } : {}) },
  ];
  const rerunAt = doc.indexOf('\n## How to rerun\n');
  if (rerunAt >= 0 && region(doc, 'rerun') === undefined)
    doc = `${doc.slice(0, rerunAt + 1)}## How to rerun\n`;
  if (region(doc, 'rerun') === undefined && rerunAt < 0) doc = `${doc.trimEnd()}\n\n## How to rerun\n`;
  for (const p of parts) {
    const kept = (where: string) => (previous ? region(previous, `${where}:${p.key}`) : undefined);
    const text = p.text ?? {
      summary: kept('summary') ?? '',
      method: kept('method') ?? '',
      section: kept('section') ?? `${p.title}\n\nNot measured yet: \`npm run bench -- --only ${p.key}\`.`,
    };
    doc = upsert(doc, `summary:${p.key}`, text.summary, '## Method');
    doc = upsert(doc, `method:${p.key}`, text.method, '## One account');
    doc = upsert(doc, `section:${p.key}`, text.section, '## How to rerun');
  }
  const a = doc.indexOf(open('rerun'));
  const tail = a >= 0 ? doc.slice(0, a) : doc.slice(0, doc.indexOf('## How to rerun\n'));
  return `${tail}${open('rerun')}\n${RERUN}\n${close('rerun')}\n`;
}
