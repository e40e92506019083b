import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { createWebhookUrlReader, WebhookSecretError } from '../../../lambda/adapters/slack/webhook-secret';
import { type SecretsManagerEndpoint, startSecretsManagerEndpoint } from '../../support/aws-json-endpoints';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:credwatch/slack-AbCdEf';
const SLACK_URL = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';

async function rejection(promise: Promise<unknown>): Promise<WebhookSecretError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WebhookSecretError) return error;
    throw error;
  }
  throw new Error('expected a WebhookSecretError, but the promise resolved');
}

describe('createWebhookUrlReader', () => {
  // A real Secrets Manager endpoint (awsJson1_1 on 127.0.0.1) and the real SDK client.
  let sm: SecretsManagerEndpoint;
  let client: SecretsManagerClient;
  const calls = () => sm.requests.length;
  beforeEach(async () => {
    sm = await startSecretsManagerEndpoint({ secrets: {}, region: 'eu-west-1' });
    client = new SecretsManagerClient({
      endpoint: sm.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    jest.useRealTimers();
    client.destroy();
    await sm.close();
  });

  it.each([
    ['a plain URL', SLACK_URL],
    ['a plain URL with surrounding whitespace', `  ${SLACK_URL}\n`],
    ['JSON with webhookUrl', JSON.stringify({ webhookUrl: SLACK_URL, note: 'rotated 2025-01' })],
  ])('reads the webhook URL from %s', async (_, value) => {
    sm.putSecret(ARN, value);
    await expect(createWebhookUrlReader({ secretArn: ARN, client })()).resolves.toBe(SLACK_URL);
  });

  it('asks Secrets Manager once while the cached value is fresh', async () => {
    sm.putSecret(ARN, SLACK_URL);
    const read = createWebhookUrlReader({ secretArn: ARN, client });
    await read();
    await read();
    await read();
    expect(calls()).toBe(1);
  });

  it('asks again once maxAgeSeconds have passed, and sees a rotated value', async () => {
    const rotated = SLACK_URL.replace('XXXXXXXX', 'YYYYYYYY');
    const start = Date.UTC(2025, 0, 1);
    // Only Date is faked: the HTTP server and the SDK still need real timers.
    jest.useFakeTimers({
      now: start,
      doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval'],
    });
    sm.putSecret(ARN, SLACK_URL);
    const read = createWebhookUrlReader({ secretArn: ARN, client, maxAgeSeconds: 300 });
    await read();
    sm.putSecret(ARN, rotated);
    jest.setSystemTime(start + 299_000);
    await expect(read()).resolves.toBe(SLACK_URL);
    jest.setSystemTime(start + 301_000);
    await expect(read()).resolves.toBe(rotated);
    expect(calls()).toBe(2);
  });

  it('does not cache when maxAgeSeconds is 0', async () => {
    sm.putSecret(ARN, SLACK_URL);
    const read = createWebhookUrlReader({ secretArn: ARN, client, maxAgeSeconds: 0 });
    await read();
    await read();
    expect(calls()).toBe(2);
  });

  it('names the secret and the service error when the secret cannot be read', async () => {
    const error = await rejection(createWebhookUrlReader({ secretArn: ARN, client })());
    expect(error.message).toBe(
      `Slack webhook secret ${ARN} could not be read: Secrets Manager can't find the specified secret.`,
    );
    expect(error.cause).toBeInstanceOf(Error);
  });

  it.each([
    ['not a URL', 'hooks.slack.com/services/T0/B0/s3cr3tvalue', 'a value that is not a URL'],
    ['a token', 'xoxb-s3cr3tvalue:123', 'a value that is not an http(s) URL'],
    ['another host', 'https://example.com/services/s3cr3tvalue', 'host example.com'],
    [
      'a look-alike host',
      'https://hooks.slack.com.evil.example/s3cr3tvalue',
      'host hooks.slack.com.evil.example',
    ],
    ['a non-default port', 'https://hooks.slack.com:8443/services/s3cr3tvalue', 'host hooks.slack.com:8443'],
    ['plain http', 'http://hooks.slack.com/services/s3cr3tvalue', 'an http URL'],
    ['credentials', 'https://user:s3cr3tvalue@hooks.slack.com/services/x', 'a URL with credentials in it'],
    ['no path', 'https://hooks.slack.com/', 'a URL without a path'],
    ['blank', '   ', 'an empty value'],
    ['broken JSON', '{"webhookUrl": "s3cr3tvalue"', 'a value that is neither a URL nor valid JSON'],
    ['JSON without webhookUrl', '{"url": "s3cr3tvalue"}', 'JSON without a string "webhookUrl"'],
    [
      'JSON with a bad webhookUrl',
      '{"webhookUrl": "ftp://s3cr3tvalue"}',
      'a value that is not an http(s) URL',
    ],
  ])('refuses %s without echoing the value', async (_, value, got) => {
    sm.putSecret(ARN, value);
    const error = await rejection(createWebhookUrlReader({ secretArn: ARN, client })());
    expect(error.message).toBe(
      `Slack webhook secret ${ARN}: expected an https URL on hooks.slack.com, got ${got}`,
    );
    expect(error.message).not.toContain('s3cr3tvalue');
  });

  it('refuses a binary secret', async () => {
    // The local endpoint stores strings only; this one case uses a mocked client.
    const binaryClient = new SecretsManagerClient({ region: 'eu-west-1' });
    mockClient(binaryClient)
      .on(GetSecretValueCommand)
      .resolves({ ARN, SecretBinary: new TextEncoder().encode(SLACK_URL) });
    const error = await rejection(createWebhookUrlReader({ secretArn: ARN, client: binaryClient })());
    expect(error.message).toMatch(/got a binary secret$/);
  });

  it('never echoes a value that is refused', async () => {
    const read = createWebhookUrlReader({ secretArn: ARN, client, maxAgeSeconds: 0 });
    const marker = 'Zq9SECRETq9Z';
    const values = fc.oneof(
      fc.string().map((s) => `${marker}${s}`),
      fc.string().map((s) => `${s}:${marker}`),
      fc.string().map((s) => JSON.stringify({ webhookUrl: `${marker}${s}` })),
      fc.string().map((s) => `{${marker}${s}`),
      fc.string().map((s) => `https://hooks.slack.com:1/${marker}${s}`),
    );
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        sm.putSecret(ARN, value);
        const error = await rejection(read());
        expect(error.message).not.toContain(marker);
      }),
      { numRuns: 60 },
    );
  });

  it('accepts an http URL on a loopback host when the host policy allows it', async () => {
    const local = 'http://127.0.0.1:4567/services/T0/B0/local';
    sm.putSecret(ARN, local);
    const read = createWebhookUrlReader({
      secretArn: ARN,
      client,
      allowedHosts: ['127.0.0.1:4567', 'hooks.slack.com'],
      allowInsecureHosts: true,
    });
    await expect(read()).resolves.toBe(local);
  });

  it('refuses http to a non-loopback host even when the policy allows insecure hosts', async () => {
    sm.putSecret(ARN, 'http://example.com/services/x');
    const read = createWebhookUrlReader({
      secretArn: ARN,
      client,
      allowedHosts: ['example.com', '127.0.0.1:4567'],
      allowInsecureHosts: true,
    });
    await expect(read()).rejects.toThrow(
      `Slack webhook secret ${ARN}: expected an https URL on one of example.com, 127.0.0.1:4567, got an http URL`,
    );
  });

  it('refuses an empty host list when it is created', () => {
    expect(() => createWebhookUrlReader({ secretArn: ARN, allowedHosts: [] })).toThrow(WebhookSecretError);
  });
});
