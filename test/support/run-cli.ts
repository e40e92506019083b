/** Runs the CLI (bin/scan.ts) as a child process through tsx, as a user would. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a child: this one, without what `npm test` adds that would change the CLI's
 * behaviour (INIT_CWD: where relative paths are read from; NO_COLOR, COLUMNS), then `env`.
 */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, CREDWATCH_DEBUG: '' };
  for (const name of ['INIT_CWD', 'NO_COLOR', 'COLUMNS', 'AWS_PROFILE']) delete base[name];
  return { ...base, ...env };
}

const resultOf =
  (resolve: (r: CliResult) => void) =>
  (err: Error | null, stdout: string | Buffer, stderr: string | Buffer) => {
    const status = (err as { code?: unknown } | null)?.code;
    resolve({
      code: err ? (typeof status === 'number' ? status : 1) : 0,
      stdout: String(stdout),
      stderr: String(stderr),
    });
  };

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin/scan.ts'), ...args],
      { cwd: options.cwd ?? ROOT, env: childEnv(env), maxBuffer: 64 * 1024 * 1024 },
      resultOf(resolve),
    );
  });
}

/** Runs a bash command line (pipes, redirects, `npm run -s scan`) as a user would type it. */
export function runShell(
  script: string,
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { cwd: options.cwd ?? ROOT, env: childEnv(env), maxBuffer: 64 * 1024 * 1024 },
      resultOf(resolve),
    );
  });
}
