/**
 * `npm run notify -- --test` as a user runs it: a child process reading the webhook from the
 * Secrets Manager stand-in and posting to the Slack receiver, which refuses what Slack refuses.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type SecretsManagerEndpoint, startSecretsManagerEndpoint } from '../support/aws-json-endpoints';
import { ROOT } from '../support/run-cli';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';

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
  let secrets: SecretsManagerEndpoint;
  let env: NodeJS.ProcessEnv;
  let host: string;

  beforeAll(async () => {
    slack = await startSlackReceiver();
    host = new URL(slack.url).host;
    secrets = await startSecretsManagerEndpoint({
      secrets: {
        'credwatch/slack-webhook': JSON.stringify({ webhookUrl: slack.url }),
        'credwatch/elsewhere': 'https://example.com/services/T0/B0/abc',
        'credwatch/gone': `http://${host}/services/T00000000/B00000000/not-this-one`,
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
    await Promise.all([slack.close(), secrets.close()]);
  });

  it('posts one test message through the secret and names the secret, never the URL', async () => {
    const before = slack.delivered().length;
    const r = await runNotify(['--test', '--secret', 'credwatch/slack-webhook', '--webhook-host', host], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'credwatch-notify: posted a test message through the webhook of credwatch/slack-webhook\n',
    );
    const posted = slack.delivered().slice(before);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0])).toContain('credwatch: test message');
    expect(r.stdout + r.stderr).not.toContain(slack.secret);
  });

  it('exits 3 naming the secret when Slack refuses the webhook, without the URL', async () => {
    const r = await runNotify(['--test', '--secret', 'credwatch/gone', '--webhook-host', host], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^credwatch-notify: .*Slack/);
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

  it('exits 2 without --test or --secret', async () => {
    expect((await runNotify([], env)).code).toBe(2);
    const r = await runNotify(['--test'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secret is required');
  });
});
