/**
 * Reads the Slack webhook URL from Secrets Manager (Powertools parameters, cached) and checks that
 * it is an https URL on an allowed host before anything posts to it. No error repeats the value.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredwatchError } from '../../core/errors';

/** The webhook secret cannot be read, or does not hold a usable webhook URL. */
export class WebhookSecretError extends CredwatchError {}

export interface WebhookUrlReaderProps {
  /** ARN (or name) of the secret holding the webhook URL, plain or as JSON `{"webhookUrl": "..."}`. */
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
 * Returns a function that resolves to the validated webhook URL, read through a Powertools
 * SecretsProvider that caches it for `maxAgeSeconds`.
 * @throws WebhookSecretError (from the returned function) when the secret cannot be read or is not a usable URL.
 */
export function createWebhookUrlReader(props: WebhookUrlReaderProps): () => Promise<string> {
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

  return async () => {
    let value: string | Uint8Array | undefined;
    try {
      value = await provider.get(props.secretArn, { maxAge });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new WebhookSecretError(`${where} could not be read: ${reason}`, { cause: error });
    }
    if (typeof value !== 'string') throw refuse(value === undefined ? 'no value' : 'a binary secret');
    return checkWebhookUrl(extractUrl(value, refuse), allowedHosts, allowInsecure, refuse);
  };
}

/** The URL in a secret value: the whole (trimmed) value, or the `webhookUrl` of a JSON object. */
function extractUrl(raw: string, refuse: (got: string) => WebhookSecretError): string {
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
  const url = (parsed as { webhookUrl?: unknown }).webhookUrl;
  if (typeof url !== 'string') throw refuse('JSON without a string "webhookUrl"');
  return url.trim();
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
