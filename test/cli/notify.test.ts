/**
 * `npm run notify -- --test` as a user runs it: a child process reading the webhooks from the
 * Secrets Manager stand-in and posting to the Slack receivers (one per channel), which refuse what
 * Slack refuses.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type SecretsManagerEndpoint, startSecretsManagerEndpoint } from '../support/aws-json-endpoints';
import { ROOT } from '../support/run-cli';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';
import { startSlackWorkspace } from '../support/slack-web-api';
import { startTeamsReceiver } from '../support/teams-receiver';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const runNotify = (args: string[], env: NodeJS.ProcessEnv): Promise<Result> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin/notify.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, AWS_PROFILE: '', ...env } },
      (err, stdout, stderr) => {
        const status = (err as { code?: unknown } | null)?.code;
        resolve({ code: err ? (typeof status === 'number' ? status : 1) : 0, stdout, stderr });
      },
    );
  });

describe('credwatch notify --test', () => {
  let slack: SlackReceiver;
  let payments: SlackReceiver;
  let secrets: SecretsManagerEndpoint;
  let env: NodeJS.ProcessEnv;
  let host: string;

  beforeAll(async () => {
    slack = await startSlackReceiver();
    payments = await startSlackReceiver();
    host = new URL(slack.url).host;
    const gone = `http://${host}/services/T00000000/B00000000/not-this-one`;
    secrets = await startSecretsManagerEndpoint({
      secrets: {
        'credwatch/slack-webhook': JSON.stringify({ webhookUrl: slack.url }),
        'credwatch/elsewhere': 'https://example.com/services/T0/B0/abc',
        'credwatch/gone': gone,
        'credwatch/channels': JSON.stringify({ channels: { default: slack.url, payments: payments.url } }),
        // ops: a webhook Slack does not know (404 no_service), between two that work.
        'credwatch/one-gone': JSON.stringify({
          channels: { default: slack.url, ops: gone, payments: payments.url },
        }),
        'credwatch/bad-channel': JSON.stringify({
          channels: { default: slack.url, payments: 'https://evil.example/services/T0/B0/evil-token' },
        }),
      },
    });
    env = {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake',
      AWS_REGION: 'us-east-1',
    };
  });
  afterAll(async () => {
    await Promise.all([slack.close(), payments.close(), secrets.close()]);
  });

  it('posts one test message through the secret and names the secret, never the URL', async () => {
    const before = slack.delivered().length;
    const r = await runNotify(['--test', '--secret', 'credwatch/slack-webhook', '--webhook-host', host], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'credwatch-notify: default: posted a test message through the webhook of credwatch/slack-webhook\n',
    );
    const posted = slack.delivered().slice(before);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0])).toContain('credwatch: test message');
    expect(r.stdout + r.stderr).not.toContain(slack.secret);
  });

  it('exits 3 naming the secret when Slack refuses the webhook, without the URL', async () => {
    const r = await runNotify(['--test', '--secret', 'credwatch/gone', '--webhook-host', host], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^credwatch-notify: default: Slack refused the message with HTTP 404 no_service/,
    );
    expect(r.stderr).toContain(
      'credwatch-notify: 1 of 1 channel of credwatch/gone did not take the test message: default\n',
    );
    expect(r.stderr).not.toContain('not-this-one');
  });

  it('exits 3 when the secret does not exist or its webhook is not on an allowed host', async () => {
    const missing = await runNotify(['--test', '--secret', 'credwatch/none'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('Slack webhook secret credwatch/none could not be read');
    const elsewhere = await runNotify(['--test', '--secret', 'credwatch/elsewhere'], env);
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toContain('expected an https URL on hooks.slack.com');
    expect(elsewhere.stderr).not.toContain('example.com/services');
  });

  describe('a secret with several channels', () => {
    const hosts = () => ['--webhook-host', host, '--webhook-host', new URL(payments.url).host];
    const since = () => {
      const marks = [slack.delivered().length, payments.delivered().length];
      return () => [slack.delivered().slice(marks[0]), payments.delivered().slice(marks[1])];
    };

    it('posts to every channel, in the order of the secret, each message naming its channel', async () => {
      const sent = since();
      const r = await runNotify(['--test', '--secret', 'credwatch/channels', ...hosts()], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        'credwatch-notify: default: posted a test message through the webhook of credwatch/channels\n' +
          'credwatch-notify: payments: posted a test message through the webhook of credwatch/channels\n',
      );
      const [toDefault, toPayments] = sent();
      expect(toDefault).toHaveLength(1);
      expect(toPayments).toHaveLength(1);
      expect(JSON.stringify(toDefault)).toContain('channel \\"default\\"');
      expect(JSON.stringify(toDefault)).not.toContain('payments');
      expect(JSON.stringify(toPayments)).toContain('channel \\"payments\\"');
      expect(r.stdout).not.toContain(slack.secret);
    });

    it('still posts to the other channels when one fails, then exits 3 naming it, never its URL', async () => {
      const sent = since();
      const r = await runNotify(['--test', '--secret', 'credwatch/one-gone', ...hosts()], env);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe(
        'credwatch-notify: default: posted a test message through the webhook of credwatch/one-gone\n' +
          'credwatch-notify: payments: posted a test message through the webhook of credwatch/one-gone\n',
      );
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^credwatch-notify: ops: Slack refused the message with HTTP 404 no_service/);
      expect(lines[1]).toBe(
        'credwatch-notify: 1 of 3 channels of credwatch/one-gone did not take the test message: ops',
      );
      expect(sent().map((messages) => messages.length)).toEqual([1, 1]);
      expect(r.stdout + r.stderr).not.toContain('not-this-one');
      expect(r.stdout + r.stderr).not.toContain(slack.secret);
    });

    it.each([
      ['one --channel', ['--channel', 'payments'], [0, 1], ['payments']],
      ['a comma list', ['--channel', 'payments,default'], [1, 1], ['default', 'payments']],
      ['a repeated --channel', ['--channel', 'default', '--channel', 'default'], [1, 0], ['default']],
    ])('posts only to the channels of %s, in the order of the secret', async (_, args, counts, names) => {
      const sent = since();
      const r = await runNotify(['--test', '--secret', 'credwatch/channels', ...hosts(), ...args], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        names
          .map(
            (n) =>
              `credwatch-notify: ${n}: posted a test message through the webhook of credwatch/channels\n`,
          )
          .join(''),
      );
      expect(sent().map((messages) => messages.length)).toEqual(counts);
    });

    it('exits 2 for a --channel the secret does not have, listing its channels, and sends nothing', async () => {
      const sent = since();
      const r = await runNotify(
        ['--test', '--secret', 'credwatch/channels', ...hosts(), '--channel', 'default,ops'],
        env,
      );
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        'credwatch-notify: --channel: Slack webhook secret credwatch/channels has no channel "ops"; it has: default, payments\n',
      );
      expect(sent().map((messages) => messages.length)).toEqual([0, 0]);
    });

    it('exits 2 for a --channel that is not a channel name, without repeating it', async () => {
      const r = await runNotify(
        ['--test', '--secret', 'credwatch/channels', '--channel', 'default,https://hooks.slack.com/x/T0KEN'],
        env,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^credwatch-notify: --channel: name 2 is not a channel name \(1-64 characters/,
      );
      expect(r.stderr).not.toContain('T0KEN');
    });

    it('exits 3 naming the bad entry of the secret, never its value, and sends nothing', async () => {
      const sent = since();
      const r = await runNotify(['--test', '--secret', 'credwatch/bad-channel', ...hosts()], env);
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(
        'credwatch-notify: Slack webhook secret credwatch/bad-channel: channels.payments: expected an https URL on one of ' +
          `hooks.slack.com, ${host}, ${new URL(payments.url).host}, got host evil.example\n`,
      );
      expect(r.stderr).not.toContain('evil-token');
      expect(sent().map((messages) => messages.length)).toEqual([0, 0]);
    });
  });

  it('exits 2 without --test or --secret', async () => {
    expect((await runNotify([], env)).code).toBe(2);
    const r = await runNotify(['--test'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secret is required');
  });
});

describe('credwatch notify --test, Slack app and Teams channels', () => {
  it('posts the test message to each conversation with the bot token and to the Teams workflow, and names a missing invitation', async () => {
    const teams = await startTeamsReceiver();
    const ws = await startSlackWorkspace({
      channels: [{ id: 'C0SECURITY1' }, { id: 'C0PAYMENTS1', member: false }],
    });
    const secrets = await startSecretsManagerEndpoint({
      secrets: {
        'credwatch/app': JSON.stringify({
          slackBotToken: ws.token,
          channels: {
            default: { slackChannel: 'C0SECURITY1' },
            payments: { slackChannel: 'C0PAYMENTS1' },
            platform: { teamsWorkflow: teams.workflowUrl },
          },
        }),
      },
    });
    try {
      const r = await runNotify(
        [
          '--test',
          '--secret',
          'credwatch/app',
          '--slack-api-url',
          ws.apiUrl,
          '--webhook-host',
          new URL(teams.url).host,
        ],
        {
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
          AWS_SECRET_ACCESS_KEY: 'fake',
          AWS_REGION: 'us-east-1',
        },
      );
      expect(r.code).toBe(3);
      expect(r.stdout).toBe(
        'credwatch-notify: default: posted a test message to Slack conversation C0SECURITY1 with the bot token of credwatch/app\n' +
          'credwatch-notify: platform: posted a test message through the Teams workflow of credwatch/app\n',
      );
      expect(teams.cards().map((c) => (c.body as { text: string }[])[0]?.text)).toEqual([
        'credwatch: test message',
      ]);
      expect(r.stdout + r.stderr).not.toContain(teams.sig);
      expect(r.stderr).toMatch(
        /^credwatch-notify: payments: chat\.postMessage: Slack refused the call with not_in_channel: the app is not a member of the channel; invite it/,
      );
      expect(ws.messagesIn('C0SECURITY1').map((m) => m.text)).toEqual([
        'credwatch test message: this channel will hear about IAM credentials (credwatch channel "default")',
      ]);
      expect(r.stdout + r.stderr).not.toContain(ws.token);
    } finally {
      await Promise.all([ws.close(), secrets.close(), teams.close()]);
    }
  });
});
