/**
 * Reads the channels secret from Secrets Manager (Powertools parameters, cached) and checks every
 * entry before anything posts to it (docs/deploy.md, step 2). One secret holds one Slack webhook
 * (the `default` channel) or several named channels, each one destination: a Slack incoming webhook,
 * a Slack conversation reached with the app's bot token (`slackBotToken`), or a Microsoft Teams
 * Workflows webhook. URLs must be https on an allowed host. No error repeats a value: an entry is
 * named by its channel, never by what it holds.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredwatchError } from '../../core/errors';
import { CHANNEL_NAME, CHANNEL_NAME_RULE, DEFAULT_CHANNEL } from '../../core/routing';

/** The webhook secret cannot be read, or does not hold a usable webhook URL. */
export class WebhookSecretError extends CredwatchError {}

/** Where one channel's messages go. */
export type ChannelDestination =
  | { readonly kind: 'slack-webhook'; readonly url: string }
  | {
      readonly kind: 'slack-app';
      /** The Slack conversation id (`C…` public, `G…` private channel) the app posts to with its bot token. */
      readonly conversation: string;
      /** Owners' lists go to each owner as a direct message (falling back to this channel). @default true */
      readonly directMessages: boolean;
    }
  | { readonly kind: 'teams-workflow'; readonly url: string };

/** What a channels secret holds, validated. */
export interface ChannelSecret {
  /** Channel name -> destination, in the secret's order. */
  readonly channels: ReadonlyMap<string, ChannelDestination>;
  /** The Slack app's bot token (`xoxb-…`); present when some channel is a Slack conversation. */
  readonly slackBotToken?: string;
}

/** Hosts a Teams Workflows webhook may be on: Power Automate's (`…logic.azure.com`, `…api.powerplatform.com`). */
export const TEAMS_WORKFLOW_HOST_SUFFIXES: readonly string[] = ['.logic.azure.com', '.api.powerplatform.com'];

/** A Slack conversation id a bot posts to: a public (`C…`) or private (`G…`) channel. */
const SLACK_CONVERSATION = /^[CG][A-Z0-9]{8,20}$/;
/** A Slack bot token (`xoxb-` then digits, letters and dashes). */
const SLACK_BOT_TOKEN = /^xoxb-[A-Za-z0-9-]{10,250}$/;
/** The fields of an object entry, one naming its kind. */
const ENTRY_KINDS = ['slackWebhook', 'slackChannel', 'teamsWorkflow'] as const;

export interface WebhookUrlReaderProps {
  /**
   * ARN (or name) of the secret holding the webhook URL, plain or as JSON `{"webhookUrl": "..."}`,
   * or several: `{"channels": {"default": "...", "payments": "..."}}`.
   */
  readonly secretArn: string;
  /**
   * Secrets Manager client.
   * @default a new SecretsManagerClient with the default configuration
   */
  readonly client?: SecretsManagerClient;
  /**
   * How long a read value is reused before Secrets Manager is asked again, in seconds.
   * @default 300
   */
  readonly maxAgeSeconds?: number;
  /**
   * Hosts (`host` or `host:port`, compared with the URL's host exactly) the URL may point at.
   * @default ['hooks.slack.com']
   */
  readonly allowedHosts?: readonly string[];
  /**
   * Also accept `http:` URLs, for loopback hosts only (127.0.0.1, localhost, [::1]): local tests.
   * @default false
   */
  readonly allowInsecureHosts?: boolean;
  /**
   * Hosts a Teams workflow URL may be on besides those ending in {@link TEAMS_WORKFLOW_HOST_SUFFIXES}
   * (exact `host` or `host:port`): local tests.
   * @default none
   */
  readonly extraTeamsHosts?: readonly string[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The webhooks of a secret: channel name -> validated URL, in the secret's order. A secret holding
 * one URL (plain or `{"webhookUrl": …}`) is the one channel `default`.
 */
export type WebhookChannels = ReadonlyMap<string, string>;

/** The most channels one secret may hold. */
export const MAX_WEBHOOK_CHANNELS = 100;

/**
 * Returns a function that resolves to the validated webhook URL of the `default` channel, read
 * through a Powertools SecretsProvider that caches it for `maxAgeSeconds`.
 * @throws WebhookSecretError (from the returned function) when the secret cannot be read, is not a
 *   usable URL or channels object, or (a channels secret) has no `default` channel.
 */
export function createWebhookUrlReader(props: WebhookUrlReaderProps): () => Promise<string> {
  const read = createWebhookChannelsReader(props);
  return async () => webhookFor(await read(), DEFAULT_CHANNEL, props.secretArn);
}

/**
 * Returns a function that resolves to the secret's Slack webhook channels and their validated URLs
 * (see {@link createChannelSecretReader}; every channel must be a Slack webhook).
 * @throws WebhookSecretError (from the returned function) when the secret cannot be read, holds no
 *   usable webhook, or has a channel of another kind; the message names the entry, never a value.
 */
export function createWebhookChannelsReader(props: WebhookUrlReaderProps): () => Promise<WebhookChannels> {
  const read = createChannelSecretReader(props);
  return async () => {
    const secret = await read();
    const urls = new Map<string, string>();
    for (const [name, destination] of secret.channels) {
      if (destination.kind !== 'slack-webhook') {
        throw new WebhookSecretError(
          `Slack webhook secret ${props.secretArn}: channels.${name}: expected a Slack webhook here, got ${describeKind(destination)}`,
        );
      }
      urls.set(name, destination.url);
    }
    return urls;
  };
}

/** What kind of destination it is, in words. */
export function describeKind(destination: ChannelDestination): string {
  return destination.kind === 'slack-webhook'
    ? 'a Slack webhook'
    : destination.kind === 'slack-app'
      ? 'a Slack channel of the app (slackChannel)'
      : 'a Teams workflow (teamsWorkflow)';
}

/**
 * Returns a function that resolves to the secret's channels and their checked destinations, read
 * through a Powertools SecretsProvider that caches the value for `maxAgeSeconds`. The secret holds
 * a plain Slack webhook URL, `{"webhookUrl": "…"}` (both: the `default` channel) or
 * `{"channels": {NAME: ENTRY, …}, "slackBotToken": "xoxb-…"}` where an ENTRY is a Slack webhook URL,
 * `{"slackWebhook": URL}`, `{"slackChannel": "C…", "directMessages": false?}` (needs the bot token)
 * or `{"teamsWorkflow": URL}`.
 * @throws WebhookSecretError (from the returned function) when the secret cannot be read or holds
 *   no usable channel; the message names the entry (`channels.payments`), never a value.
 */
export function createChannelSecretReader(props: WebhookUrlReaderProps): () => Promise<ChannelSecret> {
  const maxAge = props.maxAgeSeconds ?? 300;
  const allowedHosts = (props.allowedHosts ?? ['hooks.slack.com']).map((h) => h.trim().toLowerCase());
  const allowInsecure = props.allowInsecureHosts ?? false;
  if (allowedHosts.length === 0 || allowedHosts.some((h) => h === '')) {
    throw new WebhookSecretError('Slack webhook allowedHosts must name at least one host, and no empty one');
  }
  const teamsHosts = (props.extraTeamsHosts ?? []).map((h) => h.trim().toLowerCase());
  const provider = new SecretsProvider(props.client ? { awsSdkV3Client: props.client } : {});
  const where = `Slack webhook secret ${props.secretArn}`;
  const expected = `expected an https URL on ${allowedHosts.length === 1 ? allowedHosts[0] : `one of ${allowedHosts.join(', ')}`}`;
  const refuse = (got: string) => new WebhookSecretError(`${where}: ${expected}, got ${got}`);
  const checks: EntryChecks = {
    where,
    expected,
    slack: (url, refuseEntry) =>
      checkWebhookUrl(url, (h) => allowedHosts.includes(h), allowInsecure, refuseEntry),
    teams: (url, refuseEntry) =>
      checkWebhookUrl(
        url,
        (h) => teamsHosts.includes(h) || TEAMS_WORKFLOW_HOST_SUFFIXES.some((suffix) => h.endsWith(suffix)),
        allowInsecure,
        refuseEntry,
      ),
  };

  return async () => {
    let value: string | Uint8Array | undefined;
    try {
      value = await provider.get(props.secretArn, { maxAge });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new WebhookSecretError(`${where} could not be read: ${reason}`, { cause: error });
    }
    if (typeof value !== 'string') throw refuse(value === undefined ? 'no value' : 'a binary secret');
    const parsed = parseSecretValue(value, refuse);
    if (typeof parsed === 'string') {
      return {
        channels: new Map([[DEFAULT_CHANNEL, { kind: 'slack-webhook', url: checks.slack(parsed, refuse) }]]),
      };
    }
    return checkChannels(parsed, checks);
  };
}

/**
 * The webhook URL of `channel`.
 * @throws WebhookSecretError naming the secret, the channel and the channels it has (names only).
 */
export function webhookFor(channels: WebhookChannels, channel: string, secretArn: string): string {
  const url = channels.get(channel);
  if (url !== undefined) return url;
  throw new WebhookSecretError(
    `Slack webhook secret ${secretArn} has no channel "${channel}"; it has: ${[...channels.keys()].join(', ')}`,
  );
}

/**
 * The destination of `channel`.
 * @throws WebhookSecretError naming the secret, the channel and the channels it has (names only).
 */
export function destinationFor(
  secret: ChannelSecret,
  channel: string,
  secretArn: string,
): ChannelDestination {
  const destination = secret.channels.get(channel);
  if (destination !== undefined) return destination;
  throw new WebhookSecretError(
    `Slack webhook secret ${secretArn} has no channel "${channel}"; it has: ${[...secret.channels.keys()].join(', ')}`,
  );
}

/**
 * What a secret value holds: the URL of a single webhook (the whole trimmed value, or the
 * `webhookUrl` of a JSON object), or the JSON object of a channels secret (checked by checkChannels).
 */
function parseSecretValue(
  raw: string,
  refuse: (got: string) => WebhookSecretError,
): string | Readonly<Record<string, unknown>> {
  const value = raw.trim();
  if (value === '') throw refuse('an empty value');
  if (!value.startsWith('{')) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // No cause: JSON.parse's message quotes the input, which is the secret.
    throw refuse('a value that is neither a URL nor valid JSON');
  }
  const object = parsed as Record<string, unknown>;
  if (Object.hasOwn(object, 'channels')) return object;
  const url = object.webhookUrl;
  if (typeof url !== 'string') throw refuse('JSON without a string "webhookUrl"');
  return url.trim();
}

/** A JSON value's kind, for an error that must not repeat the value. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

/** `"name"` when it is a valid channel name (safe to repeat); otherwise a description, never the key. */
function keyText(key: string): string {
  return CHANNEL_NAME.test(key) ? `"${key}"` : `(a name that is not ${CHANNEL_NAME_RULE})`;
}

interface EntryChecks {
  readonly where: string;
  /** What a Slack webhook URL must be, in words. */
  readonly expected: string;
  readonly slack: (url: string, refuse: (got: string) => WebhookSecretError) => string;
  readonly teams: (url: string, refuse: (got: string) => WebhookSecretError) => string;
}

const TOP_LEVEL_KEYS = ['channels', 'slackBotToken'];

function checkChannels(secret: Readonly<Record<string, unknown>>, checks: EntryChecks): ChannelSecret {
  const { where } = checks;
  const keys = Object.keys(secret);
  if (Object.hasOwn(secret, 'webhookUrl')) {
    throw new WebhookSecretError(
      `${where}: "webhookUrl" and "channels" together: expected one of them (a single webhookUrl is the "${DEFAULT_CHANNEL}" channel)`,
    );
  }
  keys.forEach((key, i) => {
    if (TOP_LEVEL_KEYS.includes(key)) return;
    throw new WebhookSecretError(
      `${where}: unexpected top-level key ${keyText(key)} (key ${i + 1}): a channels secret holds only "channels" and "slackBotToken"`,
    );
  });
  const channels = secret.channels;
  if (typeof channels !== 'object' || channels === null || Array.isArray(channels)) {
    throw new WebhookSecretError(
      `${where}: channels: expected an object of channel name to webhook URL, got ${kindOf(channels)}`,
    );
  }
  let slackBotToken: string | undefined;
  if (Object.hasOwn(secret, 'slackBotToken')) {
    const token = secret.slackBotToken;
    if (typeof token !== 'string' || !SLACK_BOT_TOKEN.test(token.trim())) {
      throw new WebhookSecretError(
        `${where}: slackBotToken: expected a Slack bot token (xoxb-…), got ${typeof token === 'string' ? 'a string of another form' : kindOf(token)}`,
      );
    }
    slackBotToken = token.trim();
  }
  const entries = Object.entries(channels as Record<string, unknown>);
  if (entries.length === 0) {
    throw new WebhookSecretError(
      `${where}: channels: expected at least one channel (e.g. "${DEFAULT_CHANNEL}"), got none`,
    );
  }
  if (entries.length > MAX_WEBHOOK_CHANNELS) {
    throw new WebhookSecretError(
      `${where}: channels: at most ${MAX_WEBHOOK_CHANNELS} channels, got ${entries.length}`,
    );
  }
  const result = new Map<string, ChannelDestination>();
  entries.forEach(([name, value], i) => {
    if (!CHANNEL_NAME.test(name)) {
      throw new WebhookSecretError(
        `${where}: channels: entry ${i + 1} has a channel name that is not ${CHANNEL_NAME_RULE}`,
      );
    }
    result.set(name, checkEntry(value, `${where}: channels.${name}`, checks, slackBotToken !== undefined));
  });
  if (slackBotToken === undefined) return { channels: result };
  return { channels: result, slackBotToken };
}

const ENTRY_EXPECTED =
  'expected a Slack webhook URL, {"slackWebhook": URL}, {"slackChannel": "C…"} or {"teamsWorkflow": URL}';

/** One channel's entry: a URL string (a Slack webhook) or an object naming its kind. */
function checkEntry(
  value: unknown,
  at: string,
  checks: EntryChecks,
  hasBotToken: boolean,
): ChannelDestination {
  const refuseSlack = (got: string) => new WebhookSecretError(`${at}: ${checks.expected}, got ${got}`);
  const url = (raw: unknown, refuseEntry: (got: string) => WebhookSecretError): string => {
    if (typeof raw !== 'string') throw refuseEntry(kindOf(raw));
    const trimmed = raw.trim();
    if (trimmed === '') throw refuseEntry('an empty value');
    return trimmed;
  };
  if (typeof value === 'string')
    return { kind: 'slack-webhook', url: checks.slack(url(value, refuseSlack), refuseSlack) };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuseSlack(kindOf(value));
  const entry = value as Record<string, unknown>;
  const kinds = ENTRY_KINDS.filter((k) => Object.hasOwn(entry, k));
  if (kinds.length !== 1) {
    throw new WebhookSecretError(
      `${at}: ${ENTRY_EXPECTED}, got an object with ${kinds.length === 0 ? 'none' : kinds.join(' and ')} of those fields`,
    );
  }
  const kind = kinds[0]!;
  const allowed: string[] = kind === 'slackChannel' ? ['slackChannel', 'directMessages'] : [kind];
  const unknown = Object.keys(entry).find((k) => !allowed.includes(k));
  if (unknown !== undefined) {
    throw new WebhookSecretError(
      `${at}: unexpected field ${CHANNEL_NAME.test(unknown) || /^[A-Za-z]{1,40}$/.test(unknown) ? `"${unknown}"` : '(a name not shown)'}; allowed here: ${allowed.join(', ')}`,
    );
  }
  if (kind === 'slackWebhook') {
    const refuseEntry = (got: string) =>
      new WebhookSecretError(`${at}.slackWebhook: ${checks.expected}, got ${got}`);
    return { kind: 'slack-webhook', url: checks.slack(url(entry.slackWebhook, refuseEntry), refuseEntry) };
  }
  if (kind === 'teamsWorkflow') {
    const refuseEntry = (got: string) =>
      new WebhookSecretError(
        `${at}.teamsWorkflow: expected an https URL of a Teams workflow (a host ending in ${TEAMS_WORKFLOW_HOST_SUFFIXES.join(' or ')}), got ${got}`,
      );
    return { kind: 'teams-workflow', url: checks.teams(url(entry.teamsWorkflow, refuseEntry), refuseEntry) };
  }
  const conversation = entry.slackChannel;
  if (typeof conversation !== 'string' || !SLACK_CONVERSATION.test(conversation.trim())) {
    // A conversation id is no secret, but a mistyped field could hold one: it is not echoed either.
    throw new WebhookSecretError(
      `${at}.slackChannel: expected a Slack channel id (C… or G…, from the channel's details; not its #name), got ${typeof conversation === 'string' ? 'a string of another form' : kindOf(conversation)}`,
    );
  }
  if (Object.hasOwn(entry, 'directMessages') && typeof entry.directMessages !== 'boolean') {
    throw new WebhookSecretError(
      `${at}.directMessages: expected true or false, got ${kindOf(entry.directMessages)}`,
    );
  }
  if (!hasBotToken) {
    throw new WebhookSecretError(
      `${at}: a Slack channel of the app needs the bot token: add "slackBotToken": "xoxb-…" at the top of the secret`,
    );
  }
  return {
    kind: 'slack-app',
    conversation: conversation.trim(),
    directMessages: entry.directMessages !== false,
  };
}

function checkWebhookUrl(
  value: string,
  hostAllowed: (host: string) => boolean,
  allowInsecure: boolean,
  refuse: (got: string) => WebhookSecretError,
): string {
  if (!URL.canParse(value)) throw refuse('a value that is not a URL');
  const url = new URL(value);
  // The scheme is not echoed: for a pasted token (`xoxb-…:…`) it would be part of the secret.
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw refuse('a value that is not an http(s) URL');
  if (url.username !== '' || url.password !== '') throw refuse('a URL with credentials in it');
  if (!hostAllowed(url.host)) throw refuse(`host ${url.host}`);
  if (url.protocol === 'http:' && !(allowInsecure && LOOPBACK.has(url.hostname))) throw refuse('an http URL');
  if (url.pathname === '/' || url.pathname === '') throw refuse('a URL without a path');
  return url.toString();
}
