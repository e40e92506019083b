/**
 * Slack's rate limit in front of the test's Slack receiver (test/support/slack-receiver.ts, which
 * checks every payload as Slack would but takes any number of messages a second): a token bucket of
 * {@link SlackLimitOptions.ratePerSecond} messages a second with short bursts, as Slack documents for
 * incoming webhooks ("1 per second, short bursts >1 allowed", api.slack.com/docs/rate-limits). Beyond
 * it, Slack's own 429 answer (`rate_limited`, `Retry-After: 1`, from the receiver's fixture); within
 * it, the request is forwarded to the receiver and its answer passed back.
 */
import { forwardRequest, readBody, serveLocally } from '../test/support/local-server';
import { SLACK_RESPONSES, type SlackReceiver } from '../test/support/slack-receiver';

export interface SlackLimitOptions {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface LimitedSlack {
  /** The webhook URL to post to (the receiver's path, on the limiter's port). A fake secret, never printed. */
  readonly url: string;
  /** Requests forwarded to the receiver, and those answered 429 here. */
  counts(): { readonly forwarded: number; readonly rateLimited: number };
  close(): Promise<void>;
}

export async function startLimitedSlack(
  receiver: SlackReceiver,
  options: SlackLimitOptions,
): Promise<LimitedSlack> {
  const upstream = new URL(receiver.url);
  let tokens = options.burst;
  let refilledAt = performance.now();
  let forwarded = 0;
  let rateLimited = 0;
  const take = () => {
    const now = performance.now();
    tokens = Math.min(options.burst, tokens + ((now - refilledAt) / 1000) * options.ratePerSecond);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const server = await serveLocally(async (req, res) => {
    const body = await readBody(req);
    if (!take()) {
      rateLimited++;
      const answer = SLACK_RESPONSES.rate_limited;
      res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
      return;
    }
    forwarded++;
    await forwardRequest(upstream, req, body, res);
  });
  return {
    url: `${server.url}${upstream.pathname}`,
    counts: () => ({ forwarded, rateLimited }),
    close: () => server.close(),
  };
}
