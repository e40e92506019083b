import { spawn } from 'node:child_process';
import { BenchError } from './errors';

export interface ChildOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node ARGS` in a fresh process and resolves with its output when it exits with 0.
 * @throws BenchError when it exits otherwise, or is killed after `timeoutMs`.
 */
export function runNode(
  args: readonly string[],
  options: { readonly timeoutMs: number; readonly cwd?: string; readonly what: string },
): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) =>
      reject(new BenchError(`${options.what}: could not start node: ${e.message}`, { cause: e })),
    );
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code === 0) resolve({ stdout, stderr });
      else {
        const why = signal
          ? `was killed (${signal}; time limit ${options.timeoutMs} ms)`
          : `exited with ${code}`;
        // Its first lines say why a process died (V8's "FATAL ERROR: … heap out of memory"), its last what it was doing.
        const said = stderr.length > 2_000 ? `${stderr.slice(0, 500)} … ${stderr.slice(-1_500)}` : stderr;
        reject(new BenchError(`${options.what}: child process ${why}: ${said}`));
      }
    });
  });
}
