/**
 * A real HTTP server on 127.0.0.1 that answers like a Slack incoming webhook, from a scripted queue
 * of answers (bodies exactly as Slack sends them: test/fixtures/slack/webhook-responses.json), and
 * records every payload it receives.
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fixture from '../fixtures/slack/webhook-responses.json';
import { readBody } from './local-server';

export type SlackResponseName = keyof typeof fixture.responses;

export interface CustomAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A fixture answer by name, a custom answer, or `destroy`: close the connection without answering. */
export type ScriptedAnswer = SlackResponseName | CustomAnswer | 'destroy';

export interface ReceivedRequest {
  /** The JSON body, parsed (or the raw text when it is not JSON). */
  readonly payload: unknown;
  /** The status answered, or `destroyed`. */
  readonly answeredWith: number | 'destroyed';
}

export interface SlackReceiver {
  /** The webhook URL: `http://127.0.0.1:PORT/services/T…/B…/<secret path>`. */
  readonly url: string;
  /** The secret part of the path, to check it never leaks. */
  readonly secret: string;
  /** Every POST to the webhook path, in order. */
  readonly requests: readonly ReceivedRequest[];
  /** Payloads answered with 200 `ok`: what a channel would show. */
  delivered(): unknown[];
  /** Queues answers for the next requests; once the queue is empty, requests get 200 `ok`. */
  script(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export const SLACK_RESPONSES = fixture.responses;

/** Starts a receiver on 127.0.0.1 with a free port. */
export async function startSlackReceiver(): Promise<SlackReceiver> {
  const secret = 'XXfakeSECRETpath0123456789';
  const path = `/services/T00000000/B00000000/${secret}`;
  const queue: ScriptedAnswer[] = [];
  const requests: ReceivedRequest[] = [];

  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    if (req.method !== 'POST' || req.url !== path) {
      // What Slack answers for a webhook that does not exist.
      respond(res, SLACK_RESPONSES.no_service);
      return;
    }
    const payload = parseJson(text);
    const answer = queue.shift() ?? 'ok';
    if (answer === 'destroy') {
      requests.push({ payload, answeredWith: 'destroyed' });
      req.socket.destroy();
      return;
    }
    const response = typeof answer === 'string' ? SLACK_RESPONSES[answer] : answer;
    requests.push({ payload, answeredWith: response.status });
    respond(res, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    secret,
    requests,
    delivered: () => requests.filter((r) => r.answeredWith === 200).map((r) => r.payload),
    script: (...answers) => {
      queue.push(...answers);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function respond(
  res: ServerResponse,
  answer: {
    readonly status: number;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body: string;
  },
): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
