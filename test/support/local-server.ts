/** What every local stand-in server shares: listening on 127.0.0.1 and reading a request body. */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Serves `handle` on 127.0.0.1 (a free port). A failure of `handle` itself (a bug in the stand-in,
 * not an AWS error it means to send) answers `failureStatus` with the error's text.
 */
export async function serveLocally(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  failureStatus = 500,
): Promise<LocalServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(failureStatus, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The whole request body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Sends `req` (its method, path and headers, with `body` already read) on to `upstream` and pipes the
 * answer back unchanged: what the local proxies in front of a stand-in do for the requests they let
 * through.
 */
export function forwardRequest(
  upstream: URL,
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', resolve);
      },
    );
    forward.on('error', reject);
    forward.end(body);
  });
}
