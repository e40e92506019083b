/**
 * moto (https://github.com/getmoto/moto), a Python mock of AWS written by people outside this
 * project, run as a real server on 127.0.0.1 for the conformance tests (test/conformance/). One
 * server answers every service (IAM, Secrets Manager, DynamoDB, EventBridge, SQS, …) on one port,
 * so `AWS_ENDPOINT_URL=http://127.0.0.1:PORT` points a whole SDK at it.
 *
 * The suite starts and stops it: {@link startMotoServer} spawns `moto_server -H 127.0.0.1 -p PORT`
 * in its own process group, waits until it answers, and `close()` ends that group. A machine without
 * `moto_server` fails with the install hint; the suite never skips.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The moto release the conformance suite was written against (its quirks are documented for it). */
export const MOTO_VERSION = '5.2.1';
export const MOTO_INSTALL_HINT = `pip install "moto[server]==${MOTO_VERSION}"`;

/** The account moto serves when the credentials are not one of its own users' keys. */
export const MOTO_ACCOUNT_ID = '123456789012';
export const MOTO_REGION = 'us-east-1';
/** Credentials moto accepts (it checks no signature): not the access key of any moto user. */
export const MOTO_FAKE_KEYS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' } as const;

export interface MotoServer {
  /** `http://127.0.0.1:PORT`: the endpoint of every service. */
  readonly url: string;
  /** SDK v3 client settings for the server: endpoint, region, fake credentials. */
  readonly clientConfig: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  /**
   * One awsJson call (SQS, EventBridge, Secrets Manager, …) without a client library: `target` is
   * e.g. `AmazonSQS.ReceiveMessage` (awsJson 1.0 for SQS, 1.1 for the others).
   * The request is not signed (moto checks no signature); its Authorization header names the service,
   * region and fake key, from which moto picks the service and the account.
   * @throws Error with moto's answer when it is not 2xx
   */
  json<T = Record<string, unknown>>(
    service: string,
    target: string,
    input: Record<string, unknown>,
  ): Promise<T>;
  /** One Query-protocol call (IAM, …) without a client library; moto's raw XML answer. */
  query(service: string, params: Record<string, string>): Promise<string>;
  /** What the server printed so far (its request log), for failure messages. */
  output(): string;
  /** Forgets every resource of every service (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the server (SIGTERM to its process group, SIGKILL after 5 s). */
  close(): Promise<void>;
}

/** Finds an executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!port) throw new Error('could not find a free port on 127.0.0.1');
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ends the process group the child leads (it was spawned detached); SIGKILL when SIGTERM is not enough. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface StartMotoOptions {
  /** How long to wait for the server to answer. @default 30 s */
  readonly startTimeoutMs?: number;
}

/**
 * Starts `moto_server` on 127.0.0.1 with a free port and waits until it answers.
 * @throws Error with the install hint when `moto_server` is not on PATH, or with its output when it
 *   does not come up.
 */
export async function startMotoServer(options: StartMotoOptions = {}): Promise<MotoServer> {
  const executable = findExecutable('moto_server');
  if (!executable) {
    throw new Error(
      `moto_server is not on PATH. The conformance tests need moto's server: ${MOTO_INSTALL_HINT}`,
    );
  }
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let lastError = '';
  // A port found free can be taken before moto binds it: try again with another one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    let up = false;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.ok) {
          up = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    if (up) {
      const authorization = (service: string) =>
        `AWS4-HMAC-SHA256 Credential=${MOTO_FAKE_KEYS.accessKeyId}/20260101/${MOTO_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
      const send = async (service: string, headers: Record<string, string>, body: string) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { ...headers, authorization: authorization(service) },
          body,
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`moto ${service} answered ${res.status}: ${text.slice(0, 2000)}`);
        return text;
      };
      return {
        url,
        json: async <T>(service: string, target: string, input: Record<string, unknown>) =>
          JSON.parse(
            (await send(
              service,
              {
                'content-type': `application/x-amz-json-${service === 'sqs' ? '1.0' : '1.1'}`,
                'x-amz-target': target,
              },
              JSON.stringify(input),
            )) || '{}',
          ) as T,
        query: (service: string, params: Record<string, string>) =>
          send(
            service,
            { 'content-type': 'application/x-www-form-urlencoded' },
            new URLSearchParams(params).toString(),
          ),
        clientConfig: { endpoint: url, region: MOTO_REGION, credentials: { ...MOTO_FAKE_KEYS } },
        output: () => output,
        reset: async () => {
          const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
          await res.arrayBuffer();
          if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
        },
        close: () => stop(child),
      };
    }
    await stop(child);
    lastError = exited
      ? `moto_server exited (code ${child.exitCode ?? child.signalCode}): ${output.trim()}`
      : `moto_server did not answer on ${url} within ${timeoutMs} ms: ${output.trim()}`;
    if (!/address already in use/i.test(output)) break;
  }
  throw new Error(`${lastError}\n(${MOTO_INSTALL_HINT} installs the version these tests expect)`);
}
