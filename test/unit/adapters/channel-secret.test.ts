/**
 * The channels secret with every kind of destination (docs/deploy.md, step 2): Slack webhooks, Slack
 * conversations of the app (with its bot token) and Teams workflows, read through a real Secrets
 * Manager endpoint. Each refusal names the entry and never repeats a value.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type ChannelSecret,
  createChannelSecretReader,
  createWebhookChannelsReader,
  destinationFor,
  WebhookSecretError,
} from '../../../lambda/adapters/slack/webhook-secret';
import { type SecretsManagerEndpoint, startSecretsManagerEndpoint } from '../../support/aws-json-endpoints';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:credwatch/slack-AbCdEf';
const SLACK_URL = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const TOKEN = 'xoxb-1234567890-0987654321-s3cr3tTOKENs3cr3t';
const TEAMS_URL =
  'https://prod-12.westeurope.logic.azure.com/workflows/0123abcd/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3tSIG';
const POWER_URL =
  'https://default0123.ab.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/0123/triggers/manual/paths/invoke?api-version=1&sig=s3cr3tSIG';

describe('createChannelSecretReader', () => {
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
  const read = (value: unknown, props: { extraTeamsHosts?: string[] } = {}): Promise<ChannelSecret> => {
    sm.putSecret(ARN, typeof value === 'string' ? value : JSON.stringify(value));
    return createChannelSecretReader({ secretArn: ARN, client, maxAgeSeconds: 0, ...props })();
  };
  const refusal = async (value: unknown): Promise<string> => {
    try {
      await read(value);
    } catch (error) {
      if (error instanceof WebhookSecretError) return error.message;
      throw error;
    }
    throw new Error('expected a WebhookSecretError');
  };

  it('reads every kind of destination, in the order of the secret, with the bot token', async () => {
    const secret = await read({
      slackBotToken: ` ${TOKEN} `,
      channels: {
        default: SLACK_URL,
        payments: { slackWebhook: SLACK_URL },
        security: { slackChannel: 'C0123ABCD45' },
        quiet: { slackChannel: 'G0123ABCD45', directMessages: false },
        platform: { teamsWorkflow: TEAMS_URL },
        power: { teamsWorkflow: POWER_URL },
      },
    });
    expect(secret.slackBotToken).toBe(TOKEN);
    expect([...secret.channels]).toEqual([
      ['default', { kind: 'slack-webhook', url: SLACK_URL }],
      ['payments', { kind: 'slack-webhook', url: SLACK_URL }],
      ['security', { kind: 'slack-app', conversation: 'C0123ABCD45', directMessages: true }],
      ['quiet', { kind: 'slack-app', conversation: 'G0123ABCD45', directMessages: false }],
      ['platform', { kind: 'teams-workflow', url: TEAMS_URL }],
      ['power', { kind: 'teams-workflow', url: POWER_URL }],
    ]);
    expect(destinationFor(secret, 'platform', ARN)).toEqual({ kind: 'teams-workflow', url: TEAMS_URL });
    expect(() => destinationFor(secret, 'nope', ARN)).toThrow(
      `Slack webhook secret ${ARN} has no channel "nope"; it has: default, payments, security, quiet, platform, power`,
    );
  });

  it('reads a plain webhook as the default channel, without a token', async () => {
    const secret = await read(SLACK_URL);
    expect(secret).toEqual({ channels: new Map([['default', { kind: 'slack-webhook', url: SLACK_URL }]]) });
  });

  it('accepts a Teams workflow on a local host only when told (tests)', async () => {
    const local = 'http://127.0.0.1:4567/workflows/x?sig=s3cr3tSIG';
    sm.putSecret(ARN, JSON.stringify({ channels: { default: { teamsWorkflow: local } } }));
    const secret = await createChannelSecretReader({
      secretArn: ARN,
      client,
      maxAgeSeconds: 0,
      extraTeamsHosts: ['127.0.0.1:4567'],
      allowInsecureHosts: true,
    })();
    expect(secret.channels.get('default')).toEqual({ kind: 'teams-workflow', url: local });
  });

  const at = `Slack webhook secret ${ARN}`;
  it.each([
    [
      'a token of another form',
      { slackBotToken: 'xoxp-s3cr3tTOKENs3cr3t', channels: { default: SLACK_URL } },
      `${at}: slackBotToken: expected a Slack bot token (xoxb-…), got a string of another form`,
    ],
    [
      'a token that is not a string',
      { slackBotToken: 12, channels: { default: SLACK_URL } },
      `${at}: slackBotToken: expected a Slack bot token (xoxb-…), got a number`,
    ],
    [
      'a Slack channel of the app without the token',
      { channels: { default: { slackChannel: 'C0123ABCD45' } } },
      `${at}: channels.default: a Slack channel of the app needs the bot token: add "slackBotToken": "xoxb-…" at the top of the secret`,
    ],
    [
      'a channel name instead of its id',
      { slackBotToken: TOKEN, channels: { sec: { slackChannel: '#security' } } },
      `${at}: channels.sec.slackChannel: expected a Slack channel id (C… or G…, from the channel's details; not its #name), got a string of another form`,
    ],
    [
      'a bad directMessages',
      { slackBotToken: TOKEN, channels: { sec: { slackChannel: 'C0123ABCD45', directMessages: 'no' } } },
      `${at}: channels.sec.directMessages: expected true or false, got a string`,
    ],
    [
      'a Teams workflow on another host',
      { channels: { teams: { teamsWorkflow: 'https://evil.example/workflows/x?sig=s3cr3tSIG' } } },
      `${at}: channels.teams.teamsWorkflow: expected an https URL of a Teams workflow (a host ending in .logic.azure.com or .api.powerplatform.com), got host evil.example`,
    ],
    [
      'a Teams workflow on a look-alike host',
      { channels: { teams: { teamsWorkflow: 'https://logic.azure.com.evil.example/x?sig=s3cr3tSIG' } } },
      `${at}: channels.teams.teamsWorkflow: expected an https URL of a Teams workflow (a host ending in .logic.azure.com or .api.powerplatform.com), got host logic.azure.com.evil.example`,
    ],
    [
      'a Teams workflow on plain http',
      { channels: { teams: { teamsWorkflow: TEAMS_URL.replace('https:', 'http:') } } },
      `${at}: channels.teams.teamsWorkflow: expected an https URL of a Teams workflow (a host ending in .logic.azure.com or .api.powerplatform.com), got an http URL`,
    ],
    [
      'a Slack webhook object on another host',
      { channels: { pay: { slackWebhook: 'https://evil.example/s3cr3tSIG' } } },
      `${at}: channels.pay.slackWebhook: expected an https URL on hooks.slack.com, got host evil.example`,
    ],
    [
      'an entry with two kinds',
      { channels: { pay: { slackWebhook: SLACK_URL, teamsWorkflow: TEAMS_URL } } },
      `${at}: channels.pay: expected a Slack webhook URL, {"slackWebhook": URL}, {"slackChannel": "C…"} or {"teamsWorkflow": URL}, got an object with slackWebhook and teamsWorkflow of those fields`,
    ],
    [
      'an entry with no kind',
      { channels: { ops: { url: SLACK_URL } } },
      `${at}: channels.ops: expected a Slack webhook URL, {"slackWebhook": URL}, {"slackChannel": "C…"} or {"teamsWorkflow": URL}, got an object with none of those fields`,
    ],
    [
      'an unknown field beside the kind',
      { channels: { ops: { teamsWorkflow: TEAMS_URL, directMessages: true } } },
      `${at}: channels.ops: unexpected field "directMessages"; allowed here: teamsWorkflow`,
    ],
    [
      'an entry that is an array',
      { channels: { ops: [SLACK_URL] } },
      `${at}: channels.ops: expected an https URL on hooks.slack.com, got an array`,
    ],
  ])('refuses %s, naming the entry and not the value', async (_, value, message) => {
    const got = await refusal(value);
    expect(got).toBe(message);
    expect(got).not.toContain('s3cr3t');
  });

  it('names an unknown field by a placeholder when the name itself could be a value', async () => {
    const got = await refusal({ channels: { ops: { teamsWorkflow: TEAMS_URL, 'https://s3cr3t': 1 } } });
    expect(got).toBe(`${at}: channels.ops: unexpected field (a name not shown); allowed here: teamsWorkflow`);
  });

  it('the webhook-only reader refuses a channel of another kind by name', async () => {
    sm.putSecret(
      ARN,
      JSON.stringify({ channels: { default: SLACK_URL, platform: { teamsWorkflow: TEAMS_URL } } }),
    );
    await expect(createWebhookChannelsReader({ secretArn: ARN, client, maxAgeSeconds: 0 })()).rejects.toThrow(
      `${at}: channels.platform: expected a Slack webhook here, got a Teams workflow (teamsWorkflow)`,
    );
  });
});
