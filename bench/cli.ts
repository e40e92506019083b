/**
 * The CLI on a large credential report (issue 14): `node --import tsx bin/scan.ts --report FILE
 * --format F --output FILE --now NOW`, as a user runs it, once per format and run, each in a fresh
 * process. Wall time is measured from outside (spawn to exit); peak RSS by a `--require` preload that
 * writes the process's own peak RSS (bench/peak-rss.cjs) when it exits. A format that misses a target is
 * run once more with `--cpu-prof`, and the profile's heaviest functions are listed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { generateAccount, renderCredentialReport } from '../test/support/account-generator';
import { BenchError } from './errors';
import { PEAK_RSS_MODULE } from './peak-rss.cjs';
import { CLI, NOW, SEED } from './settings';

export interface CliRun {
  readonly wallMs: number;
  /** Peak RSS of the CLI process, MB (10^6 bytes, as the target is stated). */
  readonly maxRssMB: number;
  readonly cpuMs: number;
}

export interface HotSpot {
  /** `name (file:line)`, the file relative to the repository or `node:`/package for others. */
  readonly fn: string;
  readonly ms: number;
  readonly share: number;
}

export interface CliFormat {
  readonly format: string;
  readonly runs: readonly CliRun[];
  readonly bestWallMs: number;
  /** The lowest peak RSS of the runs (best of them, as for the wall time). */
  readonly bestRssMB: number;
  readonly outputBytes: number;
  readonly meetsWall: boolean;
  readonly meetsRss: boolean;
  /** When a target was missed: the `--cpu-prof` run's total, heaviest functions by self time and credwatch's by total time. */
  readonly profile?: {
    readonly sampledMs: number;
    readonly self: readonly HotSpot[];
    readonly inclusive: readonly HotSpot[];
  };
}

export interface CliFigures {
  readonly users: number;
  readonly reportBytes: number;
  readonly findings: number;
  readonly formats: readonly CliFormat[];
  readonly loadAverage: { readonly before: number; readonly after: number };
  readonly startedAt: string;
  readonly durationMs: number;
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** Writes the peak RSS and CPU time of the process it is preloaded into, at exit, to `$CREDWATCH_BENCH_PROBE`. */
const PROBE = `const { writeFileSync } = require('node:fs');
const { peakRssKiB } = require(${JSON.stringify(PEAK_RSS_MODULE)});
process.on('exit', () => {
  const u = process.resourceUsage();
  writeFileSync(process.env.CREDWATCH_BENCH_PROBE, JSON.stringify({ maxRssKiB: peakRssKiB(), cpuUs: u.userCPUTime + u.systemCPUTime }));
});
`;

function runCli(
  root: string,
  args: readonly string[],
  probeFile: string,
  resultFile: string,
): Promise<{ wallMs: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--require', probeFile, '--import', 'tsx', ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CREDWATCH_BENCH_PROBE: resultFile, NO_COLOR: '1' },
    });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new BenchError(`CLI: could not start node: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code === 0) resolve({ wallMs, stderr });
      else reject(new BenchError(`CLI ${args.join(' ')}: exited with ${code}: ${stderr.slice(-1000)}`));
    });
  });
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time per function, and total (inclusive) time per credwatch function, from a V8 CPU profile. */
export function hotSpots(profile: CpuProfile, root: string, limit: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const label = (n: ProfileNode) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
    // tsx compiles the project's own files without keeping their lines: name the file only.
    const line = url.startsWith('file://') && !url.includes('/node_modules/') ? '' : `:${lineNumber + 1}`;
    const where = file === '' ? '' : ` (${file.replace(/^.*node_modules\//, '')}${line})`;
    return `${functionName || '(anonymous)'}${where}`;
  };
  const own = (n: ProfileNode) =>
    n.callFrame.url.startsWith('file://') && !n.callFrame.url.includes('/node_modules/');
  const self = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
  }
  // Total time: a function's self time plus its callees', counted once per stack (recursion).
  const inclusive = new Map<string, number>();
  const totalOf = new Map<number, number>();
  const total = (n: ProfileNode): number => {
    const cached = totalOf.get(n.id);
    if (cached !== undefined) return cached;
    const t = (selfUs.get(n.id) ?? 0) + (n.children ?? []).reduce((s, c) => s + total(byId.get(c)!), 0);
    totalOf.set(n.id, t);
    return t;
  };
  const walk = (n: ProfileNode, onStack: ReadonlySet<string>) => {
    const key = label(n);
    const next = new Set(onStack);
    if (own(n) && !onStack.has(key)) {
      inclusive.set(key, (inclusive.get(key) ?? 0) + total(n));
      next.add(key);
    }
    for (const c of n.children ?? []) walk(byId.get(c)!, next);
  };
  const rootNode = profile.nodes[0];
  if (rootNode) walk(rootNode, new Set());
  const sampledUs = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const top = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([fn, us]) => ({ fn, ms: us / 1000, share: us / sampledUs }));
  return { sampledMs: sampledUs / 1000, self: top(self), inclusive: top(inclusive) };
}

export async function measureCli(root: string, tmp: string): Promise<CliFigures> {
  const started = new Date();
  const t0 = performance.now();
  const loadBefore = os.loadavg()[0]!;
  log(`CLI: generating a ${CLI.users.toLocaleString('en-US')}-user credential report`);
  const account = generateAccount({ users: CLI.users, seed: SEED, now: NOW });
  const report = join(tmp, 'credential-report-50k.csv');
  writeFileSync(report, renderCredentialReport(account));
  const probe = join(tmp, 'rss-probe.cjs');
  writeFileSync(probe, PROBE);
  const probeOut = join(tmp, 'probe.json');
  const scanArgs = (format: string, output: string) => [
    'bin/scan.ts',
    '--report',
    report,
    '--format',
    format,
    '--output',
    output,
    '--now',
    NOW.toISOString(),
  ];
  const formats: CliFormat[] = [];
  let findings = 0;
  for (const format of CLI.formats) {
    const output = join(tmp, `out.${format}`);
    const runs: CliRun[] = [];
    for (let i = 0; i < CLI.runs; i++) {
      rmSync(output, { force: true });
      const { wallMs } = await runCli(root, scanArgs(format, output), probe, probeOut);
      const used = JSON.parse(readFileSync(probeOut, 'utf8')) as { maxRssKiB: number; cpuUs: number };
      runs.push({ wallMs, maxRssMB: (used.maxRssKiB * 1024) / 1e6, cpuMs: used.cpuUs / 1000 });
    }
    const outputBytes = statSync(output).size;
    if (format === 'json') {
      findings = (JSON.parse(readFileSync(output, 'utf8')) as { findings: unknown[] }).findings.length;
    }
    const best = runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const bestRssMB = Math.min(...runs.map((r) => r.maxRssMB));
    const meetsWall = best.wallMs < CLI.targetWallMs;
    const meetsRss = bestRssMB < CLI.targetRssMB;
    log(
      `CLI --format ${format}: best ${(best.wallMs / 1000).toFixed(2)} s, ${bestRssMB.toFixed(0)} MB (${runs.map((r) => (r.wallMs / 1000).toFixed(2)).join(', ')} s)`,
    );
    let profile: CliFormat['profile'];
    if (!meetsWall || !meetsRss) {
      const dir = join(tmp, `prof-${format}`);
      mkdirSync(dir, { recursive: true });
      rmSync(output, { force: true });
      await runCli(root, ['--cpu-prof', '--cpu-prof-dir', dir, ...scanArgs(format, output)], probe, probeOut);
      // One profile per thread (the tsx loader's hooks run in their own): the main thread's is the largest.
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
      if (files.length === 0)
        throw new BenchError(`CLI --format ${format}: --cpu-prof wrote no profile in ${dir}`);
      const main = files.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
      profile = hotSpots(JSON.parse(readFileSync(main, 'utf8')) as CpuProfile, root, CLI.hotSpots);
      rmSync(dir, { recursive: true, force: true });
    }
    formats.push({
      format,
      runs,
      bestWallMs: best.wallMs,
      bestRssMB,
      outputBytes,
      meetsWall,
      meetsRss,
      ...(profile ? { profile } : {}),
    });
  }
  if (!existsSync(report)) throw new BenchError(`CLI: the report ${report} disappeared`);
  return {
    users: CLI.users,
    reportBytes: statSync(report).size,
    findings,
    formats,
    loadAverage: { before: loadBefore, after: os.loadavg()[0]! },
    startedAt: started.toISOString(),
    durationMs: performance.now() - t0,
  };
}
