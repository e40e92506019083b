/**
 * A fault proxy on 127.0.0.1 in front of an AWS JSON endpoint (dynalite, EventBridge): forwards every
 * request unchanged, except those a test's predicate picks, which get the AWS error answer a failing
 * service gives (HTTP 500 `InternalServerError` by default). Lets a test break one service part-way
 * through a run of the bundled Lambda.
 */
import { forwardRequest, type LocalServer, readBody, serveLocally } from './local-server';

export interface ProxiedRequest {
  /** The `X-Amz-Target` header, e.g. `DynamoDB_20120810.PutItem`. */
  readonly target: string;
  readonly body: string;
}

export interface FaultProxy extends LocalServer {
  /** Requests that got the fault answer. */
  readonly faulted: ProxiedRequest[];
  /** Fail the requests `when` picks (until `heal`). */
  failWhen(when: (req: ProxiedRequest) => boolean): void;
  heal(): void;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let when: ((req: ProxiedRequest) => boolean) | undefined;
  const faulted: ProxiedRequest[] = [];
  const server = await serveLocally(async (req, res) => {
    const body = await readBody(req);
    const seen = { target: String(req.headers['x-amz-target'] ?? ''), body };
    if (when?.(seen)) {
      faulted.push(seen);
      const answer = JSON.stringify({
        __type: 'InternalServerError',
        message: 'Internal server error (injected)',
      });
      res.writeHead(500, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': 'fault' });
      res.end(answer);
      return;
    }
    await forwardRequest(target, req, body, res);
  });
  return {
    ...server,
    faulted,
    failWhen: (w) => {
      when = w;
    },
    heal: () => {
      when = undefined;
    },
  };
}
