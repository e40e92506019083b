/**
 * A real HTTP server on 127.0.0.1 that answers like a Slack incoming webhook, from a scripted queue
 * of answers (bodies exactly as Slack sends them: test/fixtures/slack/webhook-responses.json), and
 * records every payload it receives.
 *
 * Like Slack, it refuses what Slack refuses (see ./block-kit.ts): a body that is not a JSON object
 * gets 400 `invalid_payload`, one with neither text nor blocks 400 `no_text`, blocks that break a
 * Block Kit limit 400 `invalid_blocks`. A top-level text over 40,000 characters is delivered
 * truncated. Slack's webhook answers carry no request id (none in the headers quoted in
 * integrations/slack#770), so neither do these.
 *
 * With `rateLimit`, it also holds Slack's rate: about one message a second per webhook, with short
 * bursts allowed (Slack's "Rate limits" page: incoming webhooks, 1 per second). A message beyond it
 * gets Slack's 429 `rate_limited` with `Retry-After: 1` and is not shown. Time is the receiver's
 * `clock`, so a test can share one virtual clock with the sender's pacing.
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fixture from '../fixtures/slack/webhook-responses.json';
import { checkWebhookBody } from './block-kit';
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
  /** When the receiver refused the payload as Slack would: the rules it broke (Slack never says). */
  readonly refusedFor?: readonly string[];
  /** The top-level text was over 40,000 characters: the channel shows it cut there. */
  readonly truncated?: boolean;
}

export interface SlackRateLimit {
  /** Messages a second, sustained. @default 1 */
  readonly perSecond?: number;
  /** Messages taken at once before the rate applies. @default 1 */
  readonly burst?: number;
  /** Epoch ms now. @default Date.now */
  readonly clock?: () => number;
}

export interface SlackReceiverOptions {
  readonly rateLimit?: SlackRateLimit;
}

export interface SlackReceiver {
  /** The webhook URL: `http://127.0.0.1:PORT/services/T…/B…/<secret path>`. */
  readonly url: string;
  /** The secret part of the path, to check it never leaks. */
  readonly secret: string;
  /** Every POST to the webhook path, in order. */
  readonly requests: readonly ReceivedRequest[];
  /** Payloads answered with 200 `ok`: what a channel would show (a text over 40,000 characters cut). */
  delivered(): unknown[];
  /** The most messages shown within any one second (by the rate limit's clock, or the real one). */
  largestBurst(): number;
  /**
   * Queues answers for the next requests; once the queue is empty, requests get 200 `ok`. A
   * scripted failure (any status but 200) is answered whatever the payload; a scripted 200 is only
   * given to a payload Slack would accept, as an unscripted request.
   */
  script(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export const SLACK_RESPONSES = fixture.responses;

/** Starts a receiver on 127.0.0.1 with a free port. */
export async function startSlackReceiver(options: SlackReceiverOptions = {}): Promise<SlackReceiver> {
  const secret = 'XXfakeSECRETpath0123456789';
  const path = `/services/T00000000/B00000000/${secret}`;
  const queue: ScriptedAnswer[] = [];
  const requests: ReceivedRequest[] = [];
  const shown: unknown[] = [];
  const shownAt: number[] = [];
  const limit = options.rateLimit;
  const clock = limit?.clock ?? Date.now;
  const perSecond = limit?.perSecond ?? 1;
  const burst = limit?.burst ?? 1;
  // A token bucket: `burst` tokens, refilled at `perSecond`.
  let tokens = burst;
  let refilledAt = clock();
  const takeToken = () => {
    const t = clock();
    tokens = Math.min(burst, tokens + ((t - refilledAt) / 1000) * perSecond);
    refilledAt = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    if (req.method !== 'POST' || req.url !== path) {
      // What Slack answers for a webhook that does not exist.
      respond(res, SLACK_RESPONSES.no_service);
      return;
    }
    const verdict = checkWebhookBody(text, String(req.headers['content-type'] ?? 'application/json'));
    const { payload } = verdict;
    const answer = queue.shift() ?? 'ok';
    if (answer === 'destroy') {
      requests.push({ payload, answeredWith: 'destroyed' });
      req.socket.destroy();
      return;
    }
    const scripted = typeof answer === 'string' ? SLACK_RESPONSES[answer] : answer;
    if (scripted.status !== 200) {
      requests.push({ payload, answeredWith: scripted.status });
      respond(res, scripted);
    } else if (!verdict.ok) {
      const refusal = SLACK_RESPONSES[verdict.error];
      requests.push({ payload, answeredWith: refusal.status, refusedFor: verdict.reasons });
      respond(res, refusal);
    } else if (limit && !takeToken()) {
      requests.push({ payload, answeredWith: 429 });
      respond(res, SLACK_RESPONSES.rate_limited);
    } else {
      requests.push({ payload, answeredWith: 200, ...(verdict.truncated ? { truncated: true } : {}) });
      shown.push(verdict.shown);
      shownAt.push(clock());
      respond(res, scripted);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    secret,
    requests,
    delivered: () => [...shown],
    largestBurst: () => {
      let most = 0;
      for (let i = 0, j = 0; i < shownAt.length; i++) {
        while (shownAt[i]! - shownAt[j]! >= 1000) j++;
        most = Math.max(most, i - j + 1);
      }
      return most;
    },
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
