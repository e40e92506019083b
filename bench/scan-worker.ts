/**
 * One timed scan in a fresh process, so its peak memory (maxRSS) is the scan's own: bench/run.ts
 * bundles this file with esbuild and runs it with plain `node` (no tsx in the measured process).
 *
 * Argument: a {@link WorkerInput} as JSON. Writes a {@link WorkerOutput} as JSON to `input.out`.
 * Runs on load: import only its types.
 */
import { writeFileSync } from 'node:fs';
import { IamAdapter } from '../lambda/adapters/iam';
import { DEFAULT_THRESHOLDS } from '../lambda/core/policy';
import type { Finding } from '../lambda/core/types';
import { scan } from '../lambda/scan';
import { benchClient } from './client';
import { BenchError } from './errors';
import { naiveScan } from './naive-scan';

export interface WorkerInput {
  /** `credwatch`: IamAdapter + scan(); `naive`: the seed's per-user scan. */
  readonly mode: 'credwatch' | 'naive';
  /** The local IAM endpoint, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The instant the scan judges by (ISO). */
  readonly now: string;
  /** Where to write the {@link WorkerOutput}. */
  readonly out: string;
}

export interface WorkerOutput {
  readonly mode: WorkerInput['mode'];
  /** Wall time of the scan alone (the credential report was already COMPLETE). */
  readonly wallMs: number;
  /** RSS once the modules were loaded, before the scan, in MiB. */
  readonly rssBeforeMiB: number;
  /** Peak RSS of the process (process.resourceUsage().maxRSS), in MiB. */
  readonly maxRssMiB: number;
  /** Largest V8 heapUsed seen while scanning (sampled every {@link SAMPLE_MS} ms), in MiB. */
  readonly peakHeapUsedMiB: number;
  /** Logical IAM calls by action, as the scanner counted them. */
  readonly calls: Record<string, number>;
  /** HTTP requests by action, SDK retries included (credwatch mode only: the adapter counts them). */
  readonly requests: Record<string, number>;
  readonly users: number;
  /** credwatch: users whose keys were confirmed live; naive: 0. */
  readonly usersConfirmed: number;
  /** naive: keys found; credwatch: 0. */
  readonly keys: number;
  /** credwatch: the findings and account, for the digest figure. */
  readonly accountId: string;
  readonly findings: readonly Finding[];
}

const MIB = 1024 * 1024;
/** How often the heap is sampled during the scan. */
const SAMPLE_MS = 25;

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined)
    throw new BenchError('scan-worker: expected a JSON WorkerInput as the first argument');
  const input = JSON.parse(raw) as WorkerInput;
  const client = benchClient(input.url);
  const rssBefore = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, SAMPLE_MS);
  const started = performance.now();
  let output: Omit<WorkerOutput, 'wallMs' | 'rssBeforeMiB' | 'maxRssMiB' | 'peakHeapUsedMiB'>;
  if (input.mode === 'credwatch') {
    const adapter = new IamAdapter({ client });
    const result = await scan({
      report: adapter,
      directory: adapter,
      counter: adapter,
      thresholds: DEFAULT_THRESHOLDS,
      now: new Date(input.now),
    });
    output = {
      mode: input.mode,
      calls: result.iamCalls,
      requests: result.iamRequests,
      users: result.usersScanned,
      usersConfirmed: result.usersConfirmed,
      keys: 0,
      accountId: result.accountId,
      findings: result.findings,
    };
  } else {
    const result = await naiveScan(client);
    output = {
      mode: input.mode,
      calls: result.calls,
      requests: {},
      users: result.users,
      usersConfirmed: 0,
      keys: result.keys,
      accountId: '',
      findings: [],
    };
  }
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  // maxRSS is in KiB.
  const maxRssMiB = (process.resourceUsage().maxRSS * 1024) / MIB;
  client.destroy();
  const full: WorkerOutput = {
    ...output,
    wallMs,
    rssBeforeMiB: rssBefore / MIB,
    maxRssMiB,
    peakHeapUsedMiB: peakHeap / MIB,
  };
  writeFileSync(input.out, JSON.stringify(full));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
