/**
 * The Slack Web API methods credwatch's app mode calls (`chat.postMessage`, `chat.update`,
 * `conversations.open`, `users.lookupByEmail`) as a {@link SlackAppApi}, through `@slack/web-api`
 * with its own retries off and credwatch's rules on:
 *
 * - every request has a timeout, and every call a time budget that retries and waits stay inside;
 * - a 429 (`ratelimited`) waits what `Retry-After` says (at least a second) when the budget allows;
 * - calls are paced per method and, for posts, per conversation (docs.slack.dev "Rate limits":
 *   posting is about one message a second per channel; chat.update, conversations.open and
 *   users.lookupByEmail are Tier 3, 50+ a minute), so a run does not provoke the limits it honours;
 * - a post whose answer was lost is retried once and counted as uncertain (it may have been
 *   posted twice), never more; idempotent calls retry on any transient fault;
 * - answers a retry cannot fix (`not_in_channel`, `invalid_auth`, `missing_scope`…) fail at once
 *   with a hint saying what to do.
 *
 * The bot token is a secret: it is only ever the Authorization header; no error, log or warning
 * contains it.
 */

import {
  type FetchFunction,
  type Logger,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { CredwatchError } from '../../core/errors';
import type { SlackAppApi } from './app-notifier';
import { MIN_RETRY_AFTER_MS } from './sender';

/** What Slack answered to a Web API call that failed. Never carries the token. */
export class SlackApiError extends CredwatchError {
  constructor(
    message: string,
    /** The method called (`chat.postMessage`…). */
    readonly method: string,
    /** Slack's error code (`channel_not_found`, `ratelimited`…); `answer_lost` when no answer came. */
    readonly slackError: string,
    /** True when calling again cannot help (the token, scopes, channel or payload is wrong). */
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What Slack's permanent error codes mean for the one who set credwatch up (docs/deploy.md). */
const HINTS: Readonly<Record<string, string>> = {
  not_authed: 'no bot token was sent (a credwatch bug)',
  invalid_auth: 'the bot token is not valid; copy the Bot User OAuth Token into the secret again',
  account_inactive: "the bot token's app was removed or its user deactivated; reinstall the app",
  token_revoked: 'the bot token was revoked; reinstall the app and update the secret',
  token_expired: 'the bot token expired (token rotation is on); use a token that does not expire',
  missing_scope: 'the app lacks a scope this needs; add the scopes docs/deploy.md lists and reinstall',
  not_in_channel: 'the app is not a member of the channel; invite it (/invite @credwatch)',
  channel_not_found: 'no conversation has this id for the app (wrong id, or private and the app not in it)',
  is_archived: 'the channel is archived; unarchive it or choose another',
  restricted_action: 'a workspace admin restricted posting to the channel',
  msg_too_long: 'the message was too long (a credwatch bug)',
  invalid_blocks: 'Slack refused the Block Kit blocks (a credwatch bug)',
  no_text: 'the message had no text (a credwatch bug)',
  message_not_found: 'the message is gone (deleted in Slack)',
  cant_update_message: 'the message was not posted by this app',
  edit_window_closed: "the workspace's edit window for messages has closed",
  users_not_found: 'no user of the workspace has this e-mail',
  user_not_found: 'no user of the workspace has this id',
  user_disabled: 'the user is deactivated',
  cannot_dm_bot: 'the user is a bot',
};

/** Answers a later call can succeed with (Slack's own transient codes). */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** Pace of each kind of call: least milliseconds between two starts. */
export const SLACK_API_PACE_MS = {
  /** chat.postMessage, per conversation (about one a second per channel). */
  postPerConversation: 1_000,
  /** Tier 3 methods (50+ a minute), per method. */
  tier3: 1_200,
} as const;

export interface SlackApiProps {
  /** The bot token (`xoxb-…`), read from the channels secret. */
  readonly token: string;
  /** Base URL of the Web API, ending in `/`. @default https://slack.com/api/ */
  readonly apiUrl?: string;
  /** Longest wait for one HTTP answer (capped by what is left of the budget). @default 10_000 */
  readonly requestTimeoutMs?: number;
  /** Time one call may take, retries and waits included. @default 20_000 */
  readonly timeBudgetMs?: number;
  /** First backoff after a transient fault; doubled each time, up to 8 s. @default 500 */
  readonly initialBackoffMs?: number;
  /** Pacing; zero turns it off (tests with a virtual clock). @default SLACK_API_PACE_MS */
  readonly pace?: { readonly postPerConversation: number; readonly tier3: number };
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => number;
  readonly fetch?: FetchFunction;
}

const MAX_BACKOFF_MS = 8_000;

/** @slack/web-api's logger, silenced: credwatch reports what matters through its errors. */
const QUIET: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** The Slack Web API as credwatch's app mode uses it. */
export class SlackWebApi implements SlackAppApi {
  private readonly token: string;
  private readonly apiUrl: string;
  private readonly requestTimeoutMs: number;
  private readonly timeBudgetMs: number;
  private readonly initialBackoffMs: number;
  private readonly pace: { readonly postPerConversation: number; readonly tier3: number };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  private readonly fetchFn: FetchFunction | undefined;
  private readonly clients = new Map<number, WebClient>();
  private readonly lastStart = new Map<string, number>();
  private uncertainPosts = 0;
  private deadline: number | undefined;

  constructor(props: SlackApiProps) {
    this.token = props.token;
    this.apiUrl = props.apiUrl ?? 'https://slack.com/api/';
    this.requestTimeoutMs = props.requestTimeoutMs ?? 10_000;
    this.timeBudgetMs = props.timeBudgetMs ?? 20_000;
    this.initialBackoffMs = props.initialBackoffMs ?? 500;
    this.pace = props.pace ?? SLACK_API_PACE_MS;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.clock = props.clock ?? Date.now;
    this.fetchFn = props.fetch;
    if (!/^xox[bp]-[\x21-\x7e]{8,}$/.test(this.token)) {
      throw new SlackApiError('the Slack bot token is not an xoxb- token', 'auth', 'invalid_auth', true);
    }
    if (!URL.canParse(this.apiUrl) || !this.apiUrl.endsWith('/')) {
      throw new SlackApiError('the Slack API URL must be a URL ending in /', 'auth', 'invalid_url', true);
    }
  }

  async postMessage(
    conversation: string,
    message: { readonly text: string; readonly blocks?: readonly unknown[] },
    threadTs?: string,
  ): Promise<{ readonly conversation: string; readonly ts: string }> {
    const result = await this.call(
      'chat.postMessage',
      `post:${conversation}`,
      this.pace.postPerConversation,
      false,
      {
        channel: conversation,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      },
    );
    const channel = result.channel;
    const ts = result.ts;
    if (typeof channel !== 'string' || typeof ts !== 'string' || !/^\d{1,12}\.\d{1,9}$/.test(ts)) {
      throw new SlackApiError(
        'chat.postMessage answered ok without the channel and ts of the message',
        'chat.postMessage',
        'invalid_answer',
        false,
      );
    }
    return { conversation: channel, ts };
  }

  async updateMessage(
    conversation: string,
    ts: string,
    message: { readonly text: string; readonly blocks?: readonly unknown[] },
  ): Promise<void> {
    await this.call('chat.update', 'chat.update', this.pace.tier3, true, {
      channel: conversation,
      ts,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
    });
  }

  async openDirect(userId: string): Promise<string> {
    const result = await this.call('conversations.open', 'conversations.open', this.pace.tier3, true, {
      users: userId,
      return_im: false,
    });
    const id = (result.channel as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || id === '') {
      throw new SlackApiError(
        'conversations.open answered ok without a channel id',
        'conversations.open',
        'invalid_answer',
        false,
      );
    }
    return id;
  }

  async lookupUserByEmail(email: string): Promise<string | undefined> {
    try {
      const result = await this.call('users.lookupByEmail', 'users.lookupByEmail', this.pace.tier3, true, {
        email,
      });
      const user = result.user as { id?: unknown; deleted?: unknown; is_bot?: unknown } | undefined;
      if (typeof user?.id !== 'string') return undefined;
      return user.deleted === true || user.is_bot === true ? undefined : user.id;
    } catch (err) {
      if (err instanceof SlackApiError && err.slackError === 'users_not_found') return undefined;
      throw err;
    }
  }

  /** Posts whose answer was lost and that were retried (the message may have been posted twice). */
  uncertain(): number {
    return this.uncertainPosts;
  }

  /** No call outlasts `deadline` (epoch ms): each call's budget is cut to it. */
  setDeadline(deadline: number | undefined): void {
    this.deadline = deadline;
  }

  /** One method call, paced, retried within the budget, classified. */
  private async call(
    method: string,
    paceKey: string,
    paceMs: number,
    idempotent: boolean,
    args: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const start = this.clock();
    const budget =
      this.deadline === undefined ? this.timeBudgetMs : Math.min(this.timeBudgetMs, this.deadline - start);
    if (budget <= 0) {
      throw new SlackApiError(
        `${method}: not called, out of time for this run; the next scan sends the rest`,
        method,
        'out_of_time',
        false,
      );
    }
    let backoffMs = this.initialBackoffMs;
    let lostAnswers = 0;
    for (let attempt = 1; ; attempt++) {
      await this.paced(paceKey, paceMs);
      const remaining = budget - (this.clock() - start);
      const timeout = Math.max(1, Math.min(this.requestTimeoutMs, remaining));
      let fault: { code: string; waitMs?: number; cause: unknown; lost?: boolean };
      try {
        const result = (await this.client(timeout).apiCall(method, args)) as unknown as Record<
          string,
          unknown
        >;
        return result;
      } catch (err) {
        if (err instanceof WebAPIPlatformError) {
          // A body that was not Slack's JSON (a proxy's HTML page) arrives as the "error": never
          // echoed, and retried as any unexpected answer.
          const raw = String(err.data.error);
          const code = /^[a-z0-9_]{1,64}$/.test(raw) ? raw : 'unexpected_answer';
          if (code === 'ratelimited') {
            fault = { code, waitMs: MIN_RETRY_AFTER_MS, cause: err };
          } else if (!TRANSIENT.has(code) && code !== 'unexpected_answer') {
            throw this.refused(method, code, err);
          } else {
            fault = { code, cause: err };
          }
        } else if (err instanceof WebAPIRateLimitedError) {
          fault = {
            code: 'ratelimited',
            waitMs: Math.max(MIN_RETRY_AFTER_MS, err.retryAfter * 1000),
            cause: err,
          };
        } else if (err instanceof WebAPIHTTPError) {
          if (err.statusCode < 500) throw this.refused(method, `http_${err.statusCode}`, err);
          fault = { code: `http_${err.statusCode}`, cause: err };
        } else if (err instanceof WebAPIRequestError) {
          fault = { code: 'answer_lost', cause: err, lost: true };
        } else {
          // Not one of the library's own errors (a 429 without Retry-After, a bug): transient, said.
          fault = { code: 'unexpected_answer', cause: err };
        }
      }
      if (fault.lost && !idempotent) {
        // No answer: Slack may have posted it. Retried once (and counted), so a lost answer costs
        // at most one duplicate.
        lostAnswers++;
        if (lostAnswers > 1) {
          throw new SlackApiError(
            `${method}: Slack's answer was lost twice (${attempt} attempts); not retried again, the message may have been posted`,
            method,
            'answer_lost',
            false,
            { cause: fault.cause },
          );
        }
        this.uncertainPosts++;
      }
      const waitMs = fault.waitMs ?? backoffMs;
      if (fault.waitMs === undefined) backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      if (this.clock() - start + waitMs >= budget) {
        throw new SlackApiError(
          `${method}: Slack did not answer within the ${budget} ms budget ` +
            `(${attempt} attempt${attempt === 1 ? '' : 's'}; last answer ${fault.code}; next retry was due in ${waitMs} ms)`,
          method,
          fault.code,
          false,
          { cause: fault.cause },
        );
      }
      await this.sleep(waitMs);
    }
  }

  private refused(method: string, code: string, cause: unknown): SlackApiError {
    const hint = HINTS[code];
    return new SlackApiError(
      `${method}: Slack refused the call with ${code}${hint ? `: ${hint}` : ''}; not retried`,
      method,
      code,
      true,
      { cause },
    );
  }

  /** Waits until `key` may start again, then marks its start. */
  private async paced(key: string, paceMs: number): Promise<void> {
    const last = this.lastStart.get(key);
    if (last !== undefined && paceMs > 0) {
      const wait = paceMs - (this.clock() - last);
      if (wait > 0) await this.sleep(wait);
    }
    this.lastStart.set(key, this.clock());
  }

  /** A client whose requests time out after `timeoutMs` (the library's timeout is per client). */
  private client(exactTimeoutMs: number): WebClient {
    // Rounded down to whole seconds (at least 1 ms) so that retries share a client.
    const timeoutMs = exactTimeoutMs >= 1_000 ? Math.floor(exactTimeoutMs / 1_000) * 1_000 : exactTimeoutMs;
    const existing = this.clients.get(timeoutMs);
    if (existing) return existing;
    const client = new WebClient(this.token, {
      slackApiUrl: this.apiUrl,
      logger: QUIET,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: timeoutMs,
      allowAbsoluteUrls: false,
      ...(this.fetchFn ? { fetch: this.fetchFn } : {}),
    });
    if (this.clients.size > 8) this.clients.clear();
    this.clients.set(timeoutMs, client);
    return client;
  }
}
