import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import {
  createWebhookChannelsReader,
  createWebhookUrlReader,
  MAX_WEBHOOK_CHANNELS,
  WebhookSecretError,
  webhookFor,
} from '../../../lambda/adapters/slack/webhook-secret';
import { CHANNEL_NAME_RULE } from '../../../lambda/core/routing';
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

describe('createWebhookChannelsReader', () => {
  const PAYMENTS_URL = 'https://hooks.slack.com/services/T00000000/B11111111/PAYMENTSpaymentsPAYMENTS';
  const OPS_URL = 'https://hooks.slack.com/services/T00000000/B22222222/OPSopsOPSopsOPSopsOPSops';
  const EXPECTED = 'expected an https URL on hooks.slack.com';
  let sm: SecretsManagerEndpoint;
  let client: SecretsManagerClient;
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
    client.destroy();
    await sm.close();
  });
  const channelsOf = (value: string) => {
    sm.putSecret(ARN, value);
    return createWebhookChannelsReader({ secretArn: ARN, client, maxAgeSeconds: 0 })();
  };
  const channelsSecret = (channels: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ channels, ...extra });

  it.each([
    ['a plain URL', SLACK_URL],
    ['JSON with webhookUrl', JSON.stringify({ webhookUrl: SLACK_URL, note: 'rotated 2025-01' })],
    ['a channels object with only the default channel', channelsSecret({ default: SLACK_URL })],
  ])('reads %s as the one channel "default"', async (_, value) => {
    await expect(channelsOf(value)).resolves.toEqual(new Map([['default', SLACK_URL]]));
  });

  it('reads every channel of a channels secret, in the order of the secret, values trimmed', async () => {
    const channels = await channelsOf(
      channelsSecret({ payments: ` ${PAYMENTS_URL}\n`, default: SLACK_URL, 'ops_2-eu': OPS_URL }),
    );
    expect([...channels]).toEqual([
      ['payments', PAYMENTS_URL],
      ['default', SLACK_URL],
      ['ops_2-eu', OPS_URL],
    ]);
  });

  it(`accepts ${MAX_WEBHOOK_CHANNELS} channels and refuses one more`, async () => {
    const many = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`team-${i}`, `${SLACK_URL}${i}`]));
    await expect(channelsOf(channelsSecret(many(MAX_WEBHOOK_CHANNELS)))).resolves.toHaveProperty(
      'size',
      MAX_WEBHOOK_CHANNELS,
    );
    const error = await rejection(channelsOf(channelsSecret(many(MAX_WEBHOOK_CHANNELS + 1))));
    expect(error.message).toBe(
      `Slack webhook secret ${ARN}: channels: at most ${MAX_WEBHOOK_CHANNELS} channels, got ${MAX_WEBHOOK_CHANNELS + 1}`,
    );
  });

  it('accepts http channels on a loopback host when the host policy allows it', async () => {
    const local = 'http://127.0.0.1:4567/services/T0/B0/local';
    sm.putSecret(ARN, channelsSecret({ default: SLACK_URL, local }));
    const read = createWebhookChannelsReader({
      secretArn: ARN,
      client,
      allowedHosts: ['127.0.0.1:4567', 'hooks.slack.com'],
      allowInsecureHosts: true,
    });
    await expect(read()).resolves.toEqual(
      new Map([
        ['default', SLACK_URL],
        ['local', local],
      ]),
    );
  });

  it.each([
    // Today's URL checks, on one entry.
    [
      'an entry that is not a URL',
      { payments: 'hooks.slack.com/services/s3cr3tvalue' },
      'channels.payments',
      'a value that is not a URL',
    ],
    [
      'an entry that is a token',
      { payments: 'xoxb-s3cr3tvalue:123' },
      'channels.payments',
      'a value that is not an http(s) URL',
    ],
    [
      'an entry on another host',
      { payments: 'https://evil.example/services/s3cr3tvalue' },
      'channels.payments',
      'host evil.example',
    ],
    [
      'an entry on a look-alike host',
      { ops: 'https://hooks.slack.com.evil.example/s3cr3tvalue' },
      'channels.ops',
      'host hooks.slack.com.evil.example',
    ],
    [
      'an entry on plain http',
      { ops: 'http://hooks.slack.com/services/s3cr3tvalue' },
      'channels.ops',
      'an http URL',
    ],
    [
      'an entry with credentials',
      { ops: 'https://user:s3cr3tvalue@hooks.slack.com/services/x' },
      'channels.ops',
      'a URL with credentials in it',
    ],
    ['an entry without a path', { ops: 'https://hooks.slack.com/' }, 'channels.ops', 'a URL without a path'],
    ['an empty entry', { ops: '   ' }, 'channels.ops', 'an empty value'],
    ['an entry that is a number', { ops: 12345 }, 'channels.ops', 'a number'],
    ['an entry that is null', { ops: null }, 'channels.ops', 'null'],
  ])('refuses %s, naming the entry and not the value', async (_, bad, entry, got) => {
    const error = await rejection(channelsOf(channelsSecret({ default: SLACK_URL, ...bad })));
    expect(error.message).toBe(`Slack webhook secret ${ARN}: ${entry}: ${EXPECTED}, got ${got}`);
    expect(error.message).not.toContain('s3cr3tvalue');
    expect(error.message).not.toContain('XXXXXXXX');
  });

  it.each([
    [
      'channels that are a string',
      channelsSecret('https://hooks.slack.com/services/s3cr3tvalue'),
      'channels: expected an object of channel name to webhook URL, got a string',
    ],
    [
      'channels that are an array',
      channelsSecret(['https://hooks.slack.com/services/s3cr3tvalue']),
      'channels: expected an object of channel name to webhook URL, got an array',
    ],
    [
      'channels that are null',
      channelsSecret(null),
      'channels: expected an object of channel name to webhook URL, got null',
    ],
    [
      'no channel at all',
      channelsSecret({}),
      'channels: expected at least one channel (e.g. "default"), got none',
    ],
    [
      'an upper-case channel name',
      channelsSecret({ default: SLACK_URL, S3cr3tValue: SLACK_URL }),
      `channels: entry 2 has a channel name that is not ${CHANNEL_NAME_RULE}`,
    ],
    [
      'a URL pasted as a channel name',
      channelsSecret({ 'https://hooks.slack.com/services/s3cr3tvalue': SLACK_URL }),
      `channels: entry 1 has a channel name that is not ${CHANNEL_NAME_RULE}`,
    ],
    [
      'an empty channel name',
      channelsSecret({ default: SLACK_URL, ops: SLACK_URL, '': SLACK_URL }),
      `channels: entry 3 has a channel name that is not ${CHANNEL_NAME_RULE}`,
    ],
    [
      'a channel name starting with _',
      channelsSecret({ _s3cr3tvalue: SLACK_URL }),
      `channels: entry 1 has a channel name that is not ${CHANNEL_NAME_RULE}`,
    ],
    [
      'a channel name of 65 characters',
      channelsSecret({ [`s3cr3tvalue${'a'.repeat(54)}`]: SLACK_URL }),
      `channels: entry 1 has a channel name that is not ${CHANNEL_NAME_RULE}`,
    ],
    [
      'webhookUrl and channels together',
      channelsSecret({ default: SLACK_URL }, { webhookUrl: 'https://hooks.slack.com/services/s3cr3tvalue' }),
      '"webhookUrl" and "channels" together: expected one of them (a single webhookUrl is the "default" channel)',
    ],
    [
      'another top-level key',
      channelsSecret({ default: SLACK_URL }, { note: 's3cr3tvalue' }),
      'unexpected top-level key "note" (key 2): a channels secret holds only "channels" and "slackBotToken"',
    ],
    [
      'a top-level key that is not a name',
      channelsSecret({ default: SLACK_URL }, { 'S3CR3TVALUE/x': 1 }),
      `unexpected top-level key (a name that is not ${CHANNEL_NAME_RULE}) (key 2): a channels secret holds only "channels" and "slackBotToken"`,
    ],
  ])('refuses %s, naming the entry and not the value', async (_, value, problem) => {
    const error = await rejection(channelsOf(value));
    expect(error.message).toBe(`Slack webhook secret ${ARN}: ${problem}`);
    expect(error.message.toLowerCase()).not.toContain('s3cr3tvalue');
    expect(error.message).not.toContain('XXXXXXXX');
  });

  it("keeps today's messages for a single-webhook secret", async () => {
    const error = await rejection(channelsOf('https://example.com/services/s3cr3tvalue'));
    expect(error.message).toBe(`Slack webhook secret ${ARN}: ${EXPECTED}, got host example.com`);
  });

  it('never echoes a refused channel name or URL', async () => {
    const marker = 'Zq9SECRETq9Z';
    const values = fc.oneof(
      fc.string().map((s) => channelsSecret({ default: `${marker}${s}` })),
      fc.string().map((s) => channelsSecret({ default: `https://hooks.slack.com:1/${marker}${s}` })),
      fc.string().map((s) => channelsSecret({ default: `${s}:${marker}` })),
      fc.string().map((s) => channelsSecret({ [`${marker}${s}`]: SLACK_URL })),
      fc.string().map((s) => channelsSecret({ default: SLACK_URL }, { [`${marker}${s}`]: SLACK_URL })),
      fc.string().map((s) => channelsSecret(`${marker}${s}`)),
      fc.string().map((s) => channelsSecret([`${marker}${s}`])),
    );
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        const error = await rejection(channelsOf(value));
        expect(error.message).not.toContain(marker);
      }),
      { numRuns: 80 },
    );
  });

  describe('createWebhookUrlReader on a channels secret', () => {
    it('reads the default channel', async () => {
      sm.putSecret(ARN, channelsSecret({ payments: PAYMENTS_URL, default: SLACK_URL }));
      await expect(createWebhookUrlReader({ secretArn: ARN, client })()).resolves.toBe(SLACK_URL);
    });

    it('refuses a secret without a default channel, listing its channel names and no URL', async () => {
      sm.putSecret(ARN, channelsSecret({ payments: PAYMENTS_URL, ops: OPS_URL }));
      const error = await rejection(createWebhookUrlReader({ secretArn: ARN, client })());
      expect(error.message).toBe(
        `Slack webhook secret ${ARN} has no channel "default"; it has: payments, ops`,
      );
      expect(error.message).not.toContain('hooks.slack.com');
    });
  });
});

describe('webhookFor', () => {
  const channels = new Map([
    ['default', SLACK_URL],
    ['ops', 'https://hooks.slack.com/services/T0/B0/OPSopsOPS'],
  ]);

  it('returns the URL of the channel', () => {
    expect(webhookFor(channels, 'ops', ARN)).toBe('https://hooks.slack.com/services/T0/B0/OPSopsOPS');
  });

  it('names the missing channel and the channels there are, never a URL', () => {
    let error: unknown;
    try {
      webhookFor(channels, 'payments', ARN);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebhookSecretError);
    expect((error as Error).message).toBe(
      `Slack webhook secret ${ARN} has no channel "payments"; it has: default, ops`,
    );
    expect((error as Error).message).not.toContain('hooks.slack.com');
  });
});
