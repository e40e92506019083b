/**
 * Reads the Slack webhooks from Secrets Manager (Powertools parameters, cached) and checks that each
 * is an https URL on an allowed host before anything posts to it. One secret holds one webhook (the
 * `default` channel) or several named channels (docs/deploy.md, step 2). No error repeats a value.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredwatchError } from '../../core/errors';
import { CHANNEL_NAME, CHANNEL_NAME_RULE, DEFAULT_CHANNEL } from '../../core/routing';

/** The webhook secret cannot be read, or does not hold a usable webhook URL. */
export class WebhookSecretError extends CredwatchError {}

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
 * Returns a function that resolves to the secret's channels and their validated webhook URLs, read
 * through a Powertools SecretsProvider that caches the value for `maxAgeSeconds`. The secret holds
 * a plain URL, `{"webhookUrl": "…"}` (both: the `default` channel) or
 * `{"channels": {"default": "…", "payments": "…"}}`.
 * @throws WebhookSecretError (from the returned function) when the secret cannot be read or holds
 *   no usable webhook; the message names the entry (`channels.payments`), never a value.
 */
export function createWebhookChannelsReader(props: WebhookUrlReaderProps): () => Promise<WebhookChannels> {
  const maxAge = props.maxAgeSeconds ?? 300;
  const allowedHosts = (props.allowedHosts ?? ['hooks.slack.com']).map((h) => h.trim().toLowerCase());
  const allowInsecure = props.allowInsecureHosts ?? false;
  if (allowedHosts.length === 0 || allowedHosts.some((h) => h === '')) {
    throw new WebhookSecretError('Slack webhook allowedHosts must name at least one host, and no empty one');
  }
  const provider = new SecretsProvider(props.client ? { awsSdkV3Client: props.client } : {});
  const where = `Slack webhook secret ${props.secretArn}`;
  const expected = `expected an https URL on ${allowedHosts.length === 1 ? allowedHosts[0] : `one of ${allowedHosts.join(', ')}`}`;
  const refuse = (got: string) => new WebhookSecretError(`${where}: ${expected}, got ${got}`);
  const check = (url: string, refuseEntry: (got: string) => WebhookSecretError) =>
    checkWebhookUrl(url, allowedHosts, allowInsecure, refuseEntry);

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
    if (typeof parsed === 'string') return new Map([[DEFAULT_CHANNEL, check(parsed, refuse)]]);
    return checkChannels(parsed, where, expected, check);
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

function checkChannels(
  secret: Readonly<Record<string, unknown>>,
  where: string,
  expected: string,
  check: (url: string, refuse: (got: string) => WebhookSecretError) => string,
): WebhookChannels {
  const keys = Object.keys(secret);
  if (Object.hasOwn(secret, 'webhookUrl')) {
    throw new WebhookSecretError(
      `${where}: "webhookUrl" and "channels" together: expected one of them (a single webhookUrl is the "${DEFAULT_CHANNEL}" channel)`,
    );
  }
  keys.forEach((key, i) => {
    if (key === 'channels') return;
    throw new WebhookSecretError(
      `${where}: unexpected top-level key ${keyText(key)} (key ${i + 1}): a channels secret holds only "channels"`,
    );
  });
  const channels = secret.channels;
  if (typeof channels !== 'object' || channels === null || Array.isArray(channels)) {
    throw new WebhookSecretError(
      `${where}: channels: expected an object of channel name to webhook URL, got ${kindOf(channels)}`,
    );
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
  const result = new Map<string, string>();
  entries.forEach(([name, value], i) => {
    if (!CHANNEL_NAME.test(name)) {
      throw new WebhookSecretError(
        `${where}: channels: entry ${i + 1} has a channel name that is not ${CHANNEL_NAME_RULE}`,
      );
    }
    const at = `${where}: channels.${name}`;
    const refuseEntry = (got: string) => new WebhookSecretError(`${at}: ${expected}, got ${got}`);
    if (typeof value !== 'string') throw refuseEntry(kindOf(value));
    const url = value.trim();
    if (url === '') throw refuseEntry('an empty value');
    result.set(name, check(url, refuseEntry));
  });
  return result;
}

function checkWebhookUrl(
  value: string,
  allowedHosts: readonly string[],
  allowInsecure: boolean,
  refuse: (got: string) => WebhookSecretError,
): string {
  if (!URL.canParse(value)) throw refuse('a value that is not a URL');
  const url = new URL(value);
  // The scheme is not echoed: for a pasted token (`xoxb-…:…`) it would be part of the secret.
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw refuse('a value that is not an http(s) URL');
  if (url.username !== '' || url.password !== '') throw refuse('a URL with credentials in it');
  if (!allowedHosts.includes(url.host)) throw refuse(`host ${url.host}`);
  if (url.protocol === 'http:' && !(allowInsecure && LOOPBACK.has(url.hostname))) throw refuse('an http URL');
  if (url.pathname === '/' || url.pathname === '') throw refuse('a URL without a path');
  return url.toString();
}
