/**
 * Delivers Slack messages through an incoming webhook (`@slack/webhook`), with the retries the
 * library leaves to its caller: 429 honours `Retry-After`, 5xx and network errors back off
 * exponentially, all inside a time budget. Permanent answers (`no_service`, `invalid_payload`, any
 * other 4xx) fail at once. The webhook URL is a secret: no error message ever contains it.
 */
import {
  type FetchFunction,
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type IncomingWebhookSendArguments,
} from '@slack/webhook';
import { CredwatchError } from '../../core/errors';

/** What the sender posts: the structural shape of a digest message (`text` is the notification fallback). */
export interface SlackPayload {
  readonly text: string;
  readonly blocks?: readonly unknown[];
}

/** What Slack told us about a message it did not take. Never carries the webhook URL. */
export class SlackDeliveryError extends CredwatchError {
  constructor(
    message: string,
    /** True when retrying the same message cannot help (the webhook or the payload is wrong). */
    readonly permanent: boolean,
    /** HTTP status of the last answer; undefined when no answer came (network error, timeout). */
    readonly status: number | undefined,
    /** Slack's error code from the answer body (`no_service`, `invalid_payload`, `rate_limited`…). */
    readonly slackError: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Result of {@link SlackSender.sendAll}: delivery stops at the first message Slack did not take. */
export interface SendAllResult {
  /** How many payloads, counted from the first, Slack accepted. */
  readonly delivered: number;
  /** Why delivery stopped; absent when every payload was delivered. */
  readonly error?: SlackDeliveryError;
}

export interface SendAllOptions {
  /** Epoch ms after which no further message is started (the invocation's time is running out). */
  readonly deadline?: number;
  /**
   * Called after each accepted message, with its index, before the next one starts (the caller
   * remembers what it carried). A rejection stops delivery and is re-thrown by sendAll.
   */
  readonly afterEach?: (index: number) => Promise<void>;
}

export interface SlackSenderProps {
  /** The incoming-webhook URL (a secret: read it from Secrets Manager, never from env). */
  readonly webhookUrl: string;
  /**
   * Time one message may take, retries and waits included, before it is given up as not delivered.
   * @default 20_000
   */
  readonly timeBudgetMs?: number;
  /**
   * Longest wait for a single HTTP answer (capped by what is left of the budget).
   * @default 10_000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Least time between the starts of two messages in {@link SlackSender.sendAll} (Slack allows about
   * one message a second per webhook).
   * @default 1_000
   */
  readonly minIntervalMs?: number;
  /**
   * First backoff after a 5xx or network error; doubled each time, up to 8 s.
   * @default 500
   */
  readonly initialBackoffMs?: number;
  /**
   * How to wait.
   * @default a `setTimeout` promise
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Current time in epoch milliseconds.
   * @default Date.now
   */
  readonly clock?: () => number;
  /**
   * The fetch implementation handed to `@slack/webhook`.
   * @default globalThis.fetch
   */
  readonly fetch?: FetchFunction;
}

/** What Slack's permanent error codes mean, for the error message (see docs/operations.md). */
const HINTS: Readonly<Record<string, string>> = {
  no_service:
    'the webhook is disabled, revoked or its app was removed; create a new webhook and update the secret',
  channel_not_found: 'the webhook channel no longer exists; create a new webhook and update the secret',
  channel_is_archived: 'the webhook channel is archived; unarchive it or create a new webhook',
  action_prohibited: 'a workspace admin restricted posting to the channel',
  invalid_token: 'the webhook token is not valid; create a new webhook and update the secret',
  invalid_payload: 'Slack could not parse the message (a credwatch bug)',
  invalid_blocks: 'Slack refused the Block Kit blocks (a credwatch bug: a block over its limits)',
  no_text: 'the message had no text (a credwatch bug)',
};

const MAX_BACKOFF_MS = 8_000;
/** Least wait after a 429, whatever Retry-After says (`0` or a date in the past must not busy-loop). */
export const MIN_RETRY_AFTER_MS = 1_000;

type Attempt =
  | { readonly kind: 'delivered' }
  | {
      readonly kind: 'permanent';
      readonly status: number;
      readonly code: string | undefined;
      readonly cause: unknown;
    }
  | {
      readonly kind: 'transient';
      readonly status: number | undefined;
      readonly code: string | undefined;
      /** Wait Slack asked for (429 Retry-After), in ms. */
      readonly retryAfterMs?: number;
      readonly cause: unknown;
    };

/**
 * Sends digests to one Slack incoming webhook.
 *
 * @example
 * const sender = new SlackSender({ webhookUrl: await readWebhookUrl() });
 * const { delivered, error } = await sender.sendAll(messages);
 */
export class SlackSender {
  private readonly webhookUrl: string;
  private readonly timeBudgetMs: number;
  private readonly requestTimeoutMs: number;
  private readonly minIntervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  private readonly fetchFn: FetchFunction;
  private uncertainSends = 0;

  constructor(props: SlackSenderProps) {
    this.webhookUrl = props.webhookUrl;
    this.timeBudgetMs = props.timeBudgetMs ?? 20_000;
    this.requestTimeoutMs = props.requestTimeoutMs ?? 10_000;
    this.minIntervalMs = props.minIntervalMs ?? 1_000;
    this.initialBackoffMs = props.initialBackoffMs ?? 500;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.clock = props.clock ?? Date.now;
    this.fetchFn = props.fetch ?? (globalThis.fetch as unknown as FetchFunction);
    // Parse here so that a malformed URL fails now, with a message that does not echo it (fetch's would).
    if (!URL.canParse(this.webhookUrl)) {
      throw new SlackDeliveryError('Slack webhook URL is not a valid URL', true, undefined, undefined);
    }
    if (this.timeBudgetMs <= 0) {
      throw new SlackDeliveryError(
        `Slack timeBudgetMs must be positive, got ${this.timeBudgetMs}`,
        true,
        undefined,
        undefined,
      );
    }
  }

  /**
   * Posts one message, retrying 429 (after `Retry-After`), 5xx and network errors within the budget.
   * @throws SlackDeliveryError — `permanent` for answers a retry cannot fix; not permanent when the budget ran out.
   */
  async send(payload: SlackPayload): Promise<void> {
    const start = this.clock();
    let backoffMs = this.initialBackoffMs;
    let lostAnswers = 0;
    for (let attempt = 1; ; attempt++) {
      const remaining = this.timeBudgetMs - (this.clock() - start);
      const result = await this.attempt(payload, Math.max(1, Math.min(this.requestTimeoutMs, remaining)));
      if (result.kind === 'delivered') return;
      const answer = describeAnswer(result.status, result.code);
      if (result.kind === 'transient' && result.status === undefined) {
        // No answer: Slack may have posted the message. Retried once (and counted), never more, so a
        // lost answer costs at most one duplicate.
        lostAnswers++;
        if (lostAnswers > 1) {
          throw new SlackDeliveryError(
            `Slack's answer was lost twice (${attempt} attempts; ${answer}); not retried again, the message may have been posted`,
            false,
            undefined,
            'answer_lost',
            { cause: result.cause },
          );
        }
        this.uncertainSends++;
      }
      if (result.kind === 'permanent') {
        const hint = result.code ? HINTS[result.code] : undefined;
        throw new SlackDeliveryError(
          `Slack refused the message with ${answer}${hint ? `: ${hint}` : ''}; not retried`,
          true,
          result.status,
          result.code,
          { cause: result.cause },
        );
      }
      const waitMs =
        result.retryAfterMs !== undefined ? Math.max(MIN_RETRY_AFTER_MS, result.retryAfterMs) : backoffMs;
      if (result.retryAfterMs === undefined) backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      const elapsed = this.clock() - start;
      if (elapsed + waitMs >= this.timeBudgetMs) {
        throw new SlackDeliveryError(
          `Slack did not take the message within the ${this.timeBudgetMs} ms budget ` +
            `(${attempt} attempt${attempt === 1 ? '' : 's'}; last answer ${answer}; next retry was due in ${waitMs} ms)`,
          false,
          result.status,
          result.code,
          { cause: result.cause },
        );
      }
      await this.sleep(waitMs);
    }
  }

  /**
   * Posts messages in order, at most about one a second, stopping at the first that fails, so the
   * caller can advance its state for the delivered ones only.
   */
  async sendAll(payloads: readonly SlackPayload[], options: SendAllOptions = {}): Promise<SendAllResult> {
    return sendInOrder(
      payloads,
      (payload) => this.send(payload),
      { minIntervalMs: this.minIntervalMs, clock: this.clock, sleep: this.sleep },
      options,
      (error): error is SlackDeliveryError => error instanceof SlackDeliveryError,
      (index, total) =>
        new SlackDeliveryError(
          `Slack delivery stopped before message ${index + 1} of ${total}: out of time for this run; the next scan sends the rest`,
          false,
          undefined,
          'out_of_time',
        ),
    );
  }

  /** Sends so far whose answer was lost and that were retried (the message may have been posted twice). */
  uncertain(): number {
    return this.uncertainSends;
  }

  /** One HTTP request through `@slack/webhook` (its own retries off), classified. */
  private async attempt(payload: SlackPayload, timeoutMs: number): Promise<Attempt> {
    const seen: { retryAfter: string | null } = { retryAfter: null };
    const webhook = new IncomingWebhook(this.webhookUrl, {
      timeout: timeoutMs,
      retryConfig: { retries: 0 },
      // Wrapped only to read Retry-After: the library's HTTP error keeps status and body, not headers.
      fetch: async (url, init) => {
        const response = await this.fetchFn(url, init);
        seen.retryAfter = response.headers.get('retry-after');
        return response;
      },
    });
    const message: IncomingWebhookSendArguments = {
      text: payload.text,
      ...(payload.blocks ? { blocks: payload.blocks as IncomingWebhookSendArguments['blocks'] } : {}),
    };
    try {
      await webhook.send(message);
      return { kind: 'delivered' };
    } catch (error) {
      if (error instanceof IncomingWebhookHTTPError) {
        const status = error.statusCode;
        const code = slackErrorCode(error.body);
        if (status === 429) {
          return {
            kind: 'transient',
            status,
            code,
            retryAfterMs: retryAfterMs(seen.retryAfter, error.body, this.clock()),
            cause: error,
          };
        }
        if (status >= 500) return { kind: 'transient', status, code, cause: error };
        return { kind: 'permanent', status, code, cause: error };
      }
      if (error instanceof IncomingWebhookRequestError) {
        return { kind: 'transient', status: undefined, code: undefined, cause: error };
      }
      throw error;
    }
  }
}

/**
 * Sends `payloads` in order, at least `minIntervalMs` between two starts, stopping at the first that
 * fails with a delivery error (returned, with how many went before) or at the deadline (no payload
 * is started after it). `afterEach` runs after each delivered payload, before the next starts. Any
 * other error is re-thrown. Shared by the Slack webhook and the Teams workflow senders.
 */
export async function sendInOrder<P, E extends Error>(
  payloads: readonly P[],
  send: (payload: P) => Promise<void>,
  pacing: {
    readonly minIntervalMs: number;
    readonly clock: () => number;
    readonly sleep: (ms: number) => Promise<void>;
  },
  options: SendAllOptions,
  isDeliveryError: (error: unknown) => error is E,
  outOfTime: (index: number, total: number) => E,
): Promise<{ readonly delivered: number; readonly error?: E }> {
  let lastStart: number | undefined;
  for (const [index, payload] of payloads.entries()) {
    if (lastStart !== undefined) {
      const wait = pacing.minIntervalMs - (pacing.clock() - lastStart);
      if (wait > 0) await pacing.sleep(wait);
    }
    if (options.deadline !== undefined && pacing.clock() >= options.deadline) {
      return { delivered: index, error: outOfTime(index, payloads.length) };
    }
    lastStart = pacing.clock();
    try {
      await send(payload);
    } catch (error) {
      if (isDeliveryError(error)) return { delivered: index, error };
      throw error;
    }
    await options.afterEach?.(index);
  }
  return { delivered: payloads.length };
}

/** The Slack error code in an answer body: a plain `snake_case` word or a JSON `error` field. */
export function slackErrorCode(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const text = body.trim();
  if (/^[a-z][a-z0-9_]{0,63}$/.test(text)) return text;
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        'error' in parsed &&
        typeof parsed.error === 'string'
      ) {
        return parsed.error;
      }
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * How long a 429 asks us to wait, in ms: the `Retry-After` header in seconds or as an HTTP date,
 * else the body's `retry_after` seconds, else one second.
 */
export function retryAfterMs(header: string | null, body: unknown, now: number): number {
  const value = header?.trim();
  if (value) {
    if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  if (typeof body === 'string' && body.trim().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && 'retry_after' in parsed) {
        const seconds = Number(parsed.retry_after);
        if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
      }
    } catch {
      // fall through to the default
    }
  }
  return 1_000;
}

function describeAnswer(status: number | undefined, code: string | undefined): string {
  if (status === undefined) return 'no answer (network error or timeout)';
  return code ? `HTTP ${status} ${code}` : `HTTP ${status}`;
}
