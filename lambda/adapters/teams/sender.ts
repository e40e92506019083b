/**
 * Delivers Adaptive Cards to a Microsoft Teams Workflows webhook (a Power Automate flow triggered
 * by "When a Teams webhook request is received", which posts the card to its channel or chat).
 *
 * The trigger answers `202 Accepted` once it has the request (the flow then posts it); credwatch
 * counts that as delivered. 429 honours `Retry-After`, 408 and 5xx back off exponentially, all
 * inside a time budget; an answer lost in transit is retried once and counted as uncertain (the
 * flow may have run). Any other 4xx is permanent: 400 a request the trigger refused, 401/403 a
 * signature that is no longer valid, 404 a flow that was deleted, 409 a flow that was turned off.
 *
 * The workflow URL is a secret (its `sig` query parameter signs every request): no error message
 * contains it, nor the body of an answer, which may quote it.
 */
import { CredwatchError } from '../../core/errors';
import { MIN_RETRY_AFTER_MS, retryAfterMs, type SendAllOptions, sendInOrder } from '../slack/sender';
import type { TeamsPayload } from './card';

/** What the Workflows trigger told us about a card it did not take. Never carries the URL. */
export class TeamsDeliveryError extends CredwatchError {
  constructor(
    message: string,
    /** True when retrying the same card cannot help. */
    readonly permanent: boolean,
    /** HTTP status of the last answer; undefined when none came. */
    readonly status: number | undefined,
    /** The error code of the answer's JSON (`error.code`), when it has one. */
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface TeamsSenderProps {
  /** The workflow's HTTP POST URL (a secret: from Secrets Manager only). */
  readonly url: string;
  /** Time one card may take, retries and waits included. @default 20_000 */
  readonly timeBudgetMs?: number;
  /** Longest wait for one answer (capped by what is left of the budget). @default 10_000 */
  readonly requestTimeoutMs?: number;
  /** Least time between two cards' starts (keeps the channel readable, the flow unthrottled). @default 1_000 */
  readonly minIntervalMs?: number;
  /** First backoff after a 5xx or network error; doubled, up to 8 s. @default 500 */
  readonly initialBackoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => number;
  readonly fetch?: typeof globalThis.fetch;
}

const HINTS: Readonly<Record<number, string>> = {
  400: 'the workflow refused the request (a credwatch bug, or a trigger schema that does not take an Adaptive Card message)',
  401: "the workflow URL's signature is not valid; copy the URL of the trigger again and update the secret",
  403: 'the workflow refused the caller; copy the URL of the trigger again and update the secret',
  404: 'no workflow answers at this URL (deleted?); create the workflow again and update the secret',
  409: 'the workflow is turned off; turn it on in Power Automate or Teams Workflows',
};

const MAX_BACKOFF_MS = 8_000;

/** Posts cards to one Teams workflow. */
export class TeamsSender {
  private readonly url: string;
  private readonly timeBudgetMs: number;
  private readonly requestTimeoutMs: number;
  private readonly minIntervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  private readonly fetchFn: typeof globalThis.fetch;
  private uncertainSends = 0;

  constructor(props: TeamsSenderProps) {
    this.url = props.url;
    this.timeBudgetMs = props.timeBudgetMs ?? 20_000;
    this.requestTimeoutMs = props.requestTimeoutMs ?? 10_000;
    this.minIntervalMs = props.minIntervalMs ?? 1_000;
    this.initialBackoffMs = props.initialBackoffMs ?? 500;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.clock = props.clock ?? Date.now;
    this.fetchFn = props.fetch ?? globalThis.fetch;
    if (!URL.canParse(this.url)) {
      throw new TeamsDeliveryError('Teams workflow URL is not a valid URL', true, undefined, undefined);
    }
  }

  /**
   * Posts one card, retrying 429, 408, 5xx and lost answers within the budget.
   * @throws TeamsDeliveryError — `permanent` for answers a retry cannot fix.
   */
  async send(payload: TeamsPayload): Promise<void> {
    const start = this.clock();
    const body = JSON.stringify(payload);
    let backoffMs = this.initialBackoffMs;
    let lost = 0;
    for (let attempt = 1; ; attempt++) {
      const left = this.timeBudgetMs - (this.clock() - start);
      let status: number | undefined;
      let code: string | undefined;
      let waitMs: number | undefined;
      let cause: unknown;
      try {
        const response = await this.fetchFn(this.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(Math.max(1, Math.min(this.requestTimeoutMs, left))),
        });
        status = response.status;
        const text = await response.text().catch(() => '');
        if (status >= 200 && status < 300) return;
        code = errorCode(text);
        if (status === 429)
          waitMs = Math.max(
            MIN_RETRY_AFTER_MS,
            retryAfterMs(response.headers.get('retry-after'), '', this.clock()),
          );
        else if (status !== 408 && status < 500) {
          const hint = HINTS[status];
          throw new TeamsDeliveryError(
            `Teams workflow refused the card with HTTP ${status}${code ? ` ${code}` : ''}${hint ? `: ${hint}` : ''}; not retried`,
            true,
            status,
            code,
          );
        }
      } catch (err) {
        if (err instanceof TeamsDeliveryError) throw err;
        // No answer: the flow may have run. Retried once (and counted), never more.
        cause = err;
        lost++;
        if (lost > 1) {
          throw new TeamsDeliveryError(
            `the Teams workflow's answer was lost twice (${attempt} attempts); not retried again, the card may have been posted`,
            false,
            undefined,
            'answer_lost',
            { cause: sanitized(err) },
          );
        }
        this.uncertainSends++;
      }
      const wait = waitMs ?? backoffMs;
      if (waitMs === undefined) backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      if (this.clock() - start + wait >= this.timeBudgetMs) {
        const last =
          status === undefined
            ? 'no answer (network error or timeout)'
            : `HTTP ${status}${code ? ` ${code}` : ''}`;
        throw new TeamsDeliveryError(
          `the Teams workflow did not take the card within the ${this.timeBudgetMs} ms budget (${attempt} attempt${attempt === 1 ? '' : 's'}; last answer ${last}; next retry was due in ${wait} ms)`,
          false,
          status,
          code,
          ...(cause ? [{ cause: sanitized(cause) }] : []),
        );
      }
      await this.sleep(wait);
    }
  }

  /** Posts cards in order, paced, stopping at the first that fails. */
  async sendAll(
    payloads: readonly TeamsPayload[],
    options: SendAllOptions = {},
  ): Promise<{ readonly delivered: number; readonly error?: TeamsDeliveryError }> {
    return sendInOrder(
      payloads,
      (payload) => this.send(payload),
      { minIntervalMs: this.minIntervalMs, clock: this.clock, sleep: this.sleep },
      options,
      (error): error is TeamsDeliveryError => error instanceof TeamsDeliveryError,
      (index, total) =>
        new TeamsDeliveryError(
          `Teams delivery stopped before card ${index + 1} of ${total}: out of time for this run; the next scan sends the rest`,
          false,
          undefined,
          'out_of_time',
        ),
    );
  }

  /** Sends whose answer was lost and that were retried (the card may show twice). */
  uncertain(): number {
    return this.uncertainSends;
  }
}

/** `error.code` of a Power Automate / Logic Apps error answer (`{"error":{"code":…,"message":…}}`). */
function errorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,80}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A network error without what fetch may have put in it (undici quotes the URL in some causes). */
function sanitized(err: unknown): Error {
  const name = (err as Error)?.name ?? 'Error';
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  return new Error(`${name}${typeof code === 'string' ? ` (${code})` : ''}`);
}
