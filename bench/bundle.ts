/**
 * The Lambda bundle: lambda/handler.ts built with esbuild's JS API and the options the stack gives
 * NodejsFunction (lib/constructs/scanner-function.ts), the AWS SDK bundled, minified (what is
 * deployed) and not (the "unminified-equivalent" the design budgets), the packages that make it up,
 * and the cold import time of the deployed file.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { runNode } from './child';
import { BenchError } from './errors';
import { median } from './markdown';

/** Copied from lib/constructs/scanner-function.ts (bundling.banner). */
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * The stack's `bundling.externalModules` (lib/constructs/scanner-function.ts): none. The AWS SDK is
 * bundled, not taken from the Lambda runtime, so the bundle holds every `@aws-sdk/*` and `@smithy/*`
 * module the handler reaches.
 */
export const STACK_EXTERNALS: readonly string[] = [];

/** One npm package's share of a bundle (its modules' `bytesInOutput`, esbuild's metafile). */
export interface PackageShare {
  /** `@scope/name`, `name`, or `(credwatch)` for the project's own sources. */
  readonly name: string;
  readonly minifiedBytes: number;
  readonly unminifiedBytes: number;
}

export interface BundleFigures {
  readonly minifiedBytes: number;
  readonly unminifiedBytes: number;
  /** The external source map NodejsFunction writes beside the minified file (`sourceMap: true`). */
  readonly sourceMapBytes: number;
  /** `await import()` of the minified bundle in fresh `node` processes, ms, in run order. */
  readonly coldImportMs: readonly number[];
  readonly coldImportMedianMs: number;
  /** The largest packages in the bundle, largest (unminified) first. */
  readonly packages: readonly PackageShare[];
  /** How many npm packages the bundle holds modules of. */
  readonly packageCount: number;
  /** The AWS SDK's share: every `@aws-sdk/*`, `@smithy/*` and `@aws-crypto/*` package together. */
  readonly sdk: PackageShare;
  /** The same bundle with `@aws-sdk/*` external (NodejsFunction's default before), for comparison. */
  readonly sdkExternal: { readonly minifiedBytes: number; readonly unminifiedBytes: number };
}

/** The packages counted as the AWS SDK. */
const SDK_SCOPES = ['@aws-sdk/', '@smithy/', '@aws-crypto/'];

/** How many fresh processes time the cold import. */
const IMPORT_RUNS = 5;
/** How many packages the size table lists. */
const TOP_PACKAGES = 8;

/** The package a bundled module comes from: the last `node_modules/` segment of its path. */
export function packageOf(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at < 0) return '(credwatch)';
  const [first, second] = path.slice(at + 'node_modules/'.length).split('/');
  return first?.startsWith('@') && second ? `${first}/${second}` : (first ?? path);
}

/** Bytes in `outfile` by package, from esbuild's metafile. */
function bytesByPackage(metafile: Metafile | undefined, outfile: string): Map<string, number> {
  if (!metafile) throw new BenchError(`bundle: esbuild wrote no metafile for ${outfile}`);
  const output = Object.entries(metafile.outputs).find(([path]) => outfile.endsWith(path));
  if (!output) throw new BenchError(`bundle: esbuild's metafile has no output ${outfile}`);
  const sizes = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output[1].inputs)) {
    const name = packageOf(path);
    sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
  }
  return sizes;
}

/**
 * Builds the bundle both ways under `root`/node_modules/.cache and measures it. Nothing is external,
 * so the cold import resolves no package at run time, as in Lambda.
 */
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
      external: [...STACK_EXTERNALS],
      sourcemap: true,
      metafile: true,
      absWorkingDir: root,
      logLevel: 'silent',
    };
    const minified = join(dir, 'min', 'index.mjs');
    const plain = join(dir, 'plain', 'index.mjs');
    const min = await build({ ...options, minify: true, outfile: minified });
    const unmin = await build({ ...options, minify: false, outfile: plain });
    const minSizes = bytesByPackage(min.metafile, minified);
    const plainSizes = bytesByPackage(unmin.metafile, plain);
    const packages = [...plainSizes]
      .map(([name, bytes]) => ({ name, unminifiedBytes: bytes, minifiedBytes: minSizes.get(name) ?? 0 }))
      .sort((a, b) => b.unminifiedBytes - a.unminifiedBytes);

    const isSdk = (name: string) => SDK_SCOPES.some((scope) => name.startsWith(scope));
    const sdkPackages = packages.filter((p) => isSdk(p.name));
    const sdk: PackageShare = {
      name: `AWS SDK (${sdkPackages.length} packages: ${SDK_SCOPES.map((s) => `${s}*`).join(', ')})`,
      minifiedBytes: sdkPackages.reduce((n, p) => n + p.minifiedBytes, 0),
      unminifiedBytes: sdkPackages.reduce((n, p) => n + p.unminifiedBytes, 0),
    };
    const externalMin = join(dir, 'ext-min', 'index.mjs');
    const externalPlain = join(dir, 'ext-plain', 'index.mjs');
    const external = { ...options, external: ['@aws-sdk/*'], sourcemap: false };
    await build({ ...external, minify: true, outfile: externalMin });
    await build({ ...external, minify: false, outfile: externalPlain });

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
      packages: packages.slice(0, TOP_PACKAGES),
      packageCount: packages.filter((p) => p.name !== '(credwatch)').length,
      sdk,
      sdkExternal: {
        minifiedBytes: statSync(externalMin).size,
        unminifiedBytes: statSync(externalPlain).size,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
