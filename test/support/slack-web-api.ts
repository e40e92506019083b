/**
 * A Slack workspace's Web API on 127.0.0.1, for the four methods credwatch's app mode calls:
 * `chat.postMessage`, `chat.update`, `conversations.open`, `users.lookupByEmail`. It keeps what a
 * workspace would show (channels with their messages and threads, direct messages) and answers the
 * way Slack does (docs.slack.dev reference/methods/*; error names from each method's "Errors"):
 *
 * - auth: no `Authorization: Bearer` token → `not_authed`; another token → `invalid_auth`; a
 *   method whose scope the app lacks → `missing_scope` with `needed` and `provided`
 *   (chat:write, im:write, users:read.email);
 * - chat.postMessage: unknown conversation `channel_not_found`, one the app is not in
 *   `not_in_channel`, archived `is_archived`, blocks over Block Kit's limits `invalid_blocks`
 *   (./block-kit.ts), nothing to show `no_text`; a `thread_ts` makes a reply in that thread;
 * - chat.update: unknown message `message_not_found`, one another user posted `cant_update_message`;
 * - users.lookupByEmail: no such e-mail `users_not_found`;
 * - conversations.open: unknown user `user_not_found`, deactivated `user_disabled`, a bot
 *   `cannot_dm_bot`;
 * - rate limits (when `rateLimit` is given): posting about one message a second per conversation
 *   with a short burst, Tier 3 methods 50 a minute per method; beyond, HTTP 429 with `Retry-After`
 *   and `{"ok":false,"error":"ratelimited"}`, nothing done.
 *
 * Every answer is HTTP 200 with `ok` true or false, except 429 (Slack: "Slack's Web API doesn't use
 * meaningful status codes besides 429 and 200", as @slack/web-api puts it). Scripted faults take
 * precedence for the next calls of a method. It never reads or answers channel history: credwatch
 * must not need it.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkWebhookPayload } from './block-kit';
import { type LocalServer, readBody, serveLocally } from './local-server';

export interface WorkspaceUser {
  readonly id: string;
  readonly email?: string;
  readonly deleted?: boolean;
  readonly isBot?: boolean;
}

export interface WorkspaceChannel {
  readonly id: string;
  /** The app is a member (it can post). @default true */
  readonly member?: boolean;
  readonly archived?: boolean;
}

export interface SlackMessageInWorkspace {
  readonly channel: string;
  readonly ts: string;
  text: string;
  blocks: unknown[];
  /** The parent's ts, for a reply. */
  readonly threadTs?: string;
  /** Who posted it: the app, or someone else (seeded). */
  readonly by: 'app' | 'other';
  /** How many times chat.update changed it. */
  updates: number;
}

/** A scripted answer for the next call of a method: an error code, a raw answer, or `destroy`. */
export type ScriptedApiAnswer =
  | { readonly error: string; readonly retryAfter?: number }
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body: string }
  | 'destroy';

export interface SlackApiCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
  /** `ok`, the error code answered, or `destroyed`. */
  readonly answer: string;
  readonly at: number;
}

export interface SlackWorkspaceOptions {
  readonly token?: string;
  readonly users?: readonly WorkspaceUser[];
  readonly channels?: readonly WorkspaceChannel[];
  /** Scopes the app was granted. @default chat:write, im:write, users:read, users:read.email */
  readonly scopes?: readonly string[];
  /** Hold Slack's rates (see the module comment). Omit for none. */
  readonly rateLimit?: {
    /** Posts a second per conversation, sustained. @default 1 */
    readonly postPerSecond?: number;
    /** Posts taken at once per conversation. @default 2 */
    readonly postBurst?: number;
    /** Calls a minute per Tier 3 method. @default 50 */
    readonly tier3PerMinute?: number;
    /** Tier 3 calls taken at once. @default 10 */
    readonly tier3Burst?: number;
    /** @default Date.now */
    readonly clock?: () => number;
  };
}

export interface SlackWorkspace extends LocalServer {
  /** The Web API base URL, ending in `/` (what `slackApiUrl` takes). */
  readonly apiUrl: string;
  readonly token: string;
  readonly calls: readonly SlackApiCall[];
  /** Every message the workspace shows, in posting order. */
  readonly messages: readonly SlackMessageInWorkspace[];
  /** Top-level messages of a conversation. */
  messagesIn(conversation: string): SlackMessageInWorkspace[];
  /** Replies in the thread of `ts`. */
  repliesTo(conversation: string, ts: string): SlackMessageInWorkspace[];
  /** The direct-message conversation of a user, once opened. */
  directOf(userId: string): string;
  /** Queues answers for the next calls of `method`. */
  script(method: string, ...answers: ScriptedApiAnswer[]): void;
}

export const DEFAULT_SCOPES = ['chat:write', 'im:write', 'users:read', 'users:read.email'];

const SCOPE_OF: Readonly<Record<string, string>> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'conversations.open': 'im:write',
  'users.lookupByEmail': 'users:read.email',
};

class Bucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly perMs: number,
    private readonly burst: number,
    private readonly clock: () => number,
  ) {
    this.tokens = burst;
    this.at = clock();
  }
  /** Takes a token; else the ms until one is there. */
  take(): number {
    const t = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.at) * this.perMs);
    this.at = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / this.perMs);
  }
}

/** Starts a workspace's Web API on a free port. */
export async function startSlackWorkspace(options: SlackWorkspaceOptions = {}): Promise<SlackWorkspace> {
  const token = options.token ?? 'xoxb-000000000000-0000000000000-standInBotTokenValue';
  const scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
  const users = new Map((options.users ?? []).map((u) => [u.id, u]));
  const channels = new Map((options.channels ?? []).map((c) => [c.id, { member: true, ...c }]));
  const messages: SlackMessageInWorkspace[] = [];
  const calls: SlackApiCall[] = [];
  const scripted = new Map<string, ScriptedApiAnswer[]>();
  const directs = new Map<string, string>();
  const limit = options.rateLimit;
  const clock = limit?.clock ?? Date.now;
  const buckets = new Map<string, Bucket>();
  let seq = 0;

  const bucketFor = (method: string, channel: string): Bucket | undefined => {
    if (!limit) return undefined;
    const key = method === 'chat.postMessage' ? `post:${channel}` : method;
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket =
        method === 'chat.postMessage'
          ? new Bucket((limit.postPerSecond ?? 1) / 1000, limit.postBurst ?? 2, clock)
          : new Bucket((limit.tier3PerMinute ?? 50) / 60_000, limit.tier3Burst ?? 10, clock);
      buckets.set(key, bucket);
    }
    return bucket;
  };

  const answer = (
    res: ServerResponse,
    record: (answer: string) => void,
    body: Record<string, unknown>,
    status = 200,
    headers: Record<string, string> = {},
  ) => {
    record(body.ok === true ? 'ok' : String(body.error));
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const args = parseArgs(raw, String(req.headers['content-type'] ?? ''));
    const record = (a: string) => calls.push({ method, args, answer: a, at: clock() });
    const fail = (error: string, extra: Record<string, unknown> = {}) =>
      answer(res, record, { ok: false, error, ...extra });
    if (req.method !== 'POST' || !(method in SCOPE_OF)) {
      answer(res, record, { ok: false, error: 'unknown_method' }, 404);
      return;
    }
    const auth = String(req.headers.authorization ?? '');
    const given = auth.startsWith('Bearer ')
      ? auth.slice(7)
      : typeof args.token === 'string'
        ? args.token
        : '';
    if (given === '') return fail('not_authed');
    if (given !== token) return fail('invalid_auth');
    const next = scripted.get(method)?.shift();
    if (next === 'destroy') {
      record('destroyed');
      req.socket.destroy();
      return;
    }
    if (next && 'status' in next) {
      record(`http_${next.status}`);
      res.writeHead(next.status, next.headers ?? {});
      res.end(next.body);
      return;
    }
    if (next) {
      if (next.error === 'ratelimited') {
        return answer(res, record, { ok: false, error: 'ratelimited' }, 429, {
          'Retry-After': String(next.retryAfter ?? 1),
        });
      }
      return fail(next.error);
    }
    const needed = SCOPE_OF[method]!;
    if (!scopes.has(needed)) return fail('missing_scope', { needed, provided: [...scopes].join(',') });
    const wait = bucketFor(method, String(args.channel ?? ''))?.take() ?? 0;
    if (wait > 0) {
      return answer(res, record, { ok: false, error: 'ratelimited' }, 429, {
        'Retry-After': String(Math.max(1, Math.ceil(wait / 1000))),
      });
    }

    if (method === 'users.lookupByEmail') {
      const email = String(args.email ?? '').toLowerCase();
      const user = [...users.values()].find((u) => u.email?.toLowerCase() === email);
      if (!user) return fail('users_not_found');
      return answer(res, record, {
        ok: true,
        user: {
          id: user.id,
          deleted: user.deleted === true,
          is_bot: user.isBot === true,
          profile: { email: user.email },
        },
      });
    }
    if (method === 'conversations.open') {
      const id = String(args.users ?? '');
      const user = users.get(id);
      if (!user) return fail('user_not_found');
      if (user.deleted) return fail('user_disabled');
      if (user.isBot) return fail('cannot_dm_bot');
      const direct = directs.get(id) ?? `D${id.slice(1)}`;
      directs.set(id, direct);
      return answer(res, record, { ok: true, channel: { id: direct } });
    }

    const channel = String(args.channel ?? '');
    const isDirect = [...directs.values()].includes(channel);
    const known = channels.get(channel);
    if (!isDirect && !known) return fail('channel_not_found');
    const payload = {
      ...(typeof args.text === 'string' ? { text: args.text } : {}),
      ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
    };
    const verdict = checkWebhookPayload(payload);
    if (method === 'chat.postMessage') {
      if (known && !known.member) return fail('not_in_channel');
      if (known?.archived) return fail('is_archived');
      if (!verdict.ok) return fail(verdict.error === 'no_text' ? 'no_text' : 'invalid_blocks');
      seq++;
      const ts = `${1_767_225_600 + seq}.${String(seq).padStart(6, '0')}`;
      const threadTs =
        typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
      messages.push({
        channel,
        ts,
        text: String(verdict.shown.text ?? ''),
        blocks: (verdict.shown.blocks as unknown[] | undefined) ?? [],
        ...(threadTs ? { threadTs } : {}),
        by: 'app',
        updates: 0,
      });
      return answer(res, record, { ok: true, channel, ts, message: { text: payload.text ?? '', ts } });
    }
    // chat.update
    const ts = String(args.ts ?? '');
    const message = messages.find((m) => m.channel === channel && m.ts === ts);
    if (!message) return fail('message_not_found');
    if (message.by !== 'app') return fail('cant_update_message');
    if (!verdict.ok) return fail(verdict.error === 'no_text' ? 'no_text' : 'invalid_blocks');
    message.text = String(verdict.shown.text ?? '');
    message.blocks = (verdict.shown.blocks as unknown[] | undefined) ?? [];
    message.updates++;
    return answer(res, record, { ok: true, channel, ts, text: message.text });
  };

  const server = await serveLocally(handle);
  return {
    ...server,
    apiUrl: `${server.url}/api/`,
    token,
    calls,
    messages,
    messagesIn: (c) => messages.filter((m) => m.channel === c && m.threadTs === undefined),
    repliesTo: (c, ts) => messages.filter((m) => m.channel === c && m.threadTs === ts),
    directOf: (userId) => {
      const d = directs.get(userId);
      if (!d) throw new Error(`no direct conversation was opened with ${userId}`);
      return d;
    },
    script: (method, ...answers) => {
      scripted.set(method, [...(scripted.get(method) ?? []), ...answers]);
    },
  };
}

/**
 * The arguments of a call: a form (what @slack/web-api sends; `blocks` a JSON string) or JSON.
 * A form field that holds JSON (blocks, attachments) is parsed.
 */
function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (/application\/json/i.test(contentType)) {
    try {
      const v: unknown = JSON.parse(raw);
      return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if ((k === 'blocks' || k === 'attachments') && v.startsWith('[')) {
      try {
        args[k] = JSON.parse(v);
        continue;
      } catch {
        // kept as text: Slack refuses it as invalid_blocks
      }
    }
    args[k] = v;
  }
  return args;
}
