/**
 * The Lambda bundle: lambda/handler.ts built with esbuild's JS API and the options the stack gives
 * NodejsFunction (lib/constructs/scanner-function.ts), minified (what is deployed) and not (the
 * "unminified-equivalent" the design budgets), and the cold import time of the deployed file.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { runNode } from './child';
import { BenchError } from './errors';
import { median } from './markdown';

/** Copied from lib/constructs/scanner-function.ts (bundling.banner). */
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * What NodejsFunction adds for a Node 18+ runtime without `bundleAwsSDK`: the runtime provides SDK v3
 * (the `sdkV3ExcludeSmithyPackages` feature flag is not set in cdk.json, so `@smithy/*` is bundled).
 */
export const STACK_EXTERNALS = ['@aws-sdk/*'];

export interface BundleFigures {
  readonly minifiedBytes: number;
  readonly unminifiedBytes: number;
  /** The external source map NodejsFunction writes beside the minified file (`sourceMap: true`). */
  readonly sourceMapBytes: number;
  /** `await import()` of the minified bundle in fresh `node` processes, ms, in run order. */
  readonly coldImportMs: readonly number[];
  readonly coldImportMedianMs: number;
}

/** How many fresh processes time the cold import. */
const IMPORT_RUNS = 5;

/** Builds the bundle both ways under `root`/node_modules/.cache (so the SDK resolves, as in Lambda) and measures it. */
export async function measureBundle(root: string): Promise<BundleFigures> {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'credwatch-bench-'));
  try {
    const options: BuildOptions = {
      entryPoints: [join(root, 'lambda', 'handler.ts')],
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      mainFields: ['module', 'main'],
      banner: { js: BANNER },
      external: STACK_EXTERNALS,
      sourcemap: true,
      logLevel: 'silent',
    };
    const minified = join(dir, 'min', 'index.mjs');
    const plain = join(dir, 'plain', 'index.mjs');
    await build({ ...options, minify: true, outfile: minified });
    await build({ ...options, minify: false, outfile: plain });

    const coldImportMs: number[] = [];
    const code = [
      'const t0 = performance.now();',
      `await import(${JSON.stringify(pathToFileURL(minified).href)});`,
      'process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }));',
    ].join('\n');
    for (let i = 0; i < IMPORT_RUNS; i++) {
      const { stdout } = await runNode(['--input-type=module', '-e', code], {
        cwd: dir,
        timeoutMs: 60_000,
        what: 'cold import of the Lambda bundle',
      });
      const ms = (JSON.parse(stdout) as { ms?: unknown }).ms;
      if (typeof ms !== 'number') throw new BenchError(`cold import: unexpected output "${stdout}"`);
      coldImportMs.push(ms);
    }
    return {
      minifiedBytes: statSync(minified).size,
      unminifiedBytes: statSync(plain).size,
      sourceMapBytes: statSync(`${minified}.map`).size,
      coldImportMs,
      coldImportMedianMs: median(coldImportMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
