#!/usr/bin/env node
/**
 * `npm run -s notify -- --test --secret <arn-or-name>`: posts one test message through the webhook
 * of the deployed secret (the stack's `WebhookSecretArn` output), as the scanner would read it:
 * proof that the secret holds a webhook Slack accepts, before any credential crosses a threshold.
 * Prints where it posted, never the URL. Exit codes: 0 posted, 2 bad usage, 3 the secret could not be
 * read or Slack refused the message.
 */
import { hostname, userInfo } from 'node:os';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Command } from 'commander';
import { REQUEST_TIMEOUTS } from '../lambda/adapters/sdk';
import { buildTestMessage } from '../lambda/adapters/slack/message';
import { SlackSender } from '../lambda/adapters/slack/sender';
import { createWebhookUrlReader } from '../lambda/adapters/slack/webhook-secret';
import { checkProfile } from './cli/aws';
import { parseCommandLine } from './cli/command';
import { exitQuietlyOnEpipe } from './cli/output';

interface Options {
  test?: boolean;
  secret?: string;
  profile?: string;
  webhookHost: string[];
}

const HELP_AFTER = `
Exit codes:
  0  the test message was posted
  2  bad usage
  3  the secret could not be read, or Slack refused the message

Environment:
  AWS_PROFILE, AWS_REGION, ...        the AWS credential chain (--profile overrides AWS_PROFILE)
  AWS_ENDPOINT_URL_SECRETS_MANAGER    another Secrets Manager endpoint (local stand-ins)

Example:
  npm run -s notify -- --test --secret "$(aws cloudformation describe-stacks --stack-name Credwatch \\
    --query "Stacks[0].Outputs[?OutputKey=='WebhookSecretArn'].OutputValue" --output text)"
`;

export async function main(argv: string[]): Promise<number> {
  const collect = (value: string, previous: string[]) => [...previous, value];
  const program = new Command()
    .name('credwatch-notify')
    .description(
      'Posts a test message through the deployed webhook secret: says the channel will hear credwatch.',
    )
    .option('--test', 'post the test message (the only action so far; required)')
    .option('--secret <arn-or-name>', "the webhook secret: the stack's WebhookSecretArn output")
    .option('--profile <name>', 'the AWS profile to read the secret with (instead of AWS_PROFILE)')
    .option(
      '--webhook-host <host>',
      'also accept webhooks on this host (host or host:port; http only for loopback: local stand-ins)',
      collect,
      [],
    );
  const parsed = parseCommandLine(program, argv, HELP_AFTER);
  if (parsed !== undefined) return parsed;
  const opts = program.opts<Options>();
  const fail = (code: number, message: string) => {
    process.stderr.write(`credwatch-notify: ${message}\n`);
    return code;
  };
  if (!opts.test) return fail(2, 'say what to send: --test (run with --help for usage)');
  if (!opts.secret?.trim()) return fail(2, "--secret is required: the stack's WebhookSecretArn output");
  const profile = opts.profile ?? (process.env.AWS_PROFILE || undefined);
  try {
    checkProfile(profile);
  } catch (err) {
    return fail(2, (err as Error).message);
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // The secret's own region when given an ARN; else the environment's.
  const arnRegion = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(opts.secret)?.[1];
  const region = arnRegion ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const client = new SecretsManagerClient({
    ...REQUEST_TIMEOUTS,
    region,
    ...(opts.profile ? { profile } : {}),
  });
  try {
    const webhookUrl = await createWebhookUrlReader({
      secretArn: opts.secret.trim(),
      client,
      maxAgeSeconds: 0,
      allowedHosts: ['hooks.slack.com', ...opts.webhookHost],
      allowInsecureHosts: opts.webhookHost.length > 0,
    })();
    const from = `credwatch notify --test (${userInfo().username}@${hostname()})`;
    await new SlackSender({ webhookUrl }).send(buildTestMessage(new Date(), from));
    process.stdout.write(
      `credwatch-notify: posted a test message through the webhook of ${opts.secret.trim()}\n`,
    );
    return 0;
  } catch (err) {
    return fail(3, (err as Error).message ?? String(err));
  } finally {
    client.destroy();
  }
}

if (require.main === module) {
  exitQuietlyOnEpipe(() => 0);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`credwatch-notify: ${(err as Error).message}\n`);
      process.exitCode = 3;
    },
  );
}
