#!/usr/bin/env node
/**
 * `npm run -s notify -- --test --secret <arn-or-name> [--channel NAME]`: posts one test message to
 * each channel of the deployed secret (the stack's `WebhookSecretArn` output), as the scanner would
 * read it: through a Slack webhook, to a Slack conversation with the app's bot token, or through a
 * Teams workflow. Proof that every channel is one its service accepts, before any credential
 * crosses a threshold. Prints each channel's outcome, never a URL or token. Exit codes: 0 posted to
 * every channel, 2 bad usage (a channel the secret does not have), 3 the secret could not be read or
 * a service refused the message of some channel.
 */
import { hostname, userInfo } from 'node:os';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Command, Option } from 'commander';
import { REQUEST_TIMEOUTS } from '../lambda/adapters/sdk';
import { buildTestMessage } from '../lambda/adapters/slack/message';
import { SlackSender } from '../lambda/adapters/slack/sender';
import { SlackWebApi } from '../lambda/adapters/slack/web-api';
import {
  type ChannelDestination,
  type ChannelSecret,
  createChannelSecretReader,
  destinationFor,
} from '../lambda/adapters/slack/webhook-secret';
import { toTeamsPayload } from '../lambda/adapters/teams/card';
import { TeamsSender } from '../lambda/adapters/teams/sender';
import { CHANNEL_NAME, CHANNEL_NAME_RULE } from '../lambda/core/routing';
import { checkProfile } from './cli/aws';
import { parseCommandLine } from './cli/command';
import { exitQuietlyOnEpipe } from './cli/output';

interface Options {
  test?: boolean;
  secret?: string;
  profile?: string;
  webhookHost: string[];
  slackApiUrl?: string;
  channel: string[];
}

const HELP_AFTER = `
Exit codes:
  0  the test message was posted to every channel
  2  bad usage, or a --channel the secret does not have
  3  the secret could not be read, or Slack or Teams refused the message of a channel (the others are
     still sent)

Environment:
  AWS_PROFILE, AWS_REGION, ...        the AWS credential chain (--profile overrides AWS_PROFILE)
  AWS_ENDPOINT_URL_SECRETS_MANAGER    another Secrets Manager endpoint (local stand-ins)

Examples:
  npm run -s notify -- --test --secret "$(aws cloudformation describe-stacks --stack-name Credwatch \\
    --query "Stacks[0].Outputs[?OutputKey=='WebhookSecretArn'].OutputValue" --output text)"
  npm run -s notify -- --test --secret "$SECRET_ARN" --channel payments,ops
`;

export async function main(argv: string[]): Promise<number> {
  const collect = (value: string, previous: string[]) => [...previous, value];
  const program = new Command()
    .name('credwatch-notify')
    .description(
      'Posts a test message to each channel of the deployed secret (Slack webhook, Slack app, Teams workflow): says each channel will hear credwatch.',
    )
    .option('--test', 'post the test message (the only action so far; required)')
    .option('--secret <arn-or-name>', "the webhook secret: the stack's WebhookSecretArn output")
    .option('--profile <name>', 'the AWS profile to read the secret with (instead of AWS_PROFILE)')
    .option(
      '--webhook-host <host>',
      'also accept webhooks (Slack or Teams) on this host (host or host:port; http only for loopback: local stand-ins)',
      collect,
      [],
    )
    .addOption(new Option('--slack-api-url <url>', 'the Slack Web API base URL (local stand-ins)').hideHelp())
    .addOption(
      new Option('--channel <names>', 'only these channels of the secret; repeat it or give a comma list')
        .argParser(collect)
        .default([], 'every channel'),
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
  const wanted = opts.channel.flatMap((list) => list.split(',')).map((name) => name.trim());
  // A name that is not one is not repeated: it may be a URL pasted in the wrong place.
  const badName = wanted.findIndex((name) => !CHANNEL_NAME.test(name));
  if (badName >= 0) {
    return fail(
      2,
      `--channel: name ${badName + 1} is not a channel name (${CHANNEL_NAME_RULE}) (run with --help for usage)`,
    );
  }
  if (opts.slackApiUrl !== undefined) {
    // The bot token goes to it: https, or http on this machine only (a local stand-in).
    const url = URL.canParse(opts.slackApiUrl) ? new URL(opts.slackApiUrl) : undefined;
    const loopback = url !== undefined && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (
      !url ||
      !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) ||
      !opts.slackApiUrl.endsWith('/')
    ) {
      return fail(2, '--slack-api-url must be an https URL (http only on loopback) ending in /');
    }
  }
  const secret = opts.secret.trim();
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
  let channels: ChannelSecret;
  try {
    channels = await createChannelSecretReader({
      secretArn: secret,
      client,
      maxAgeSeconds: 0,
      allowedHosts: ['hooks.slack.com', ...opts.webhookHost],
      extraTeamsHosts: opts.webhookHost,
      allowInsecureHosts: opts.webhookHost.length > 0,
    })();
  } catch (err) {
    return fail(3, (err as Error).message ?? String(err));
  } finally {
    client.destroy();
  }
  // Every name is checked before anything is sent; the secret's order, each channel once.
  try {
    for (const name of wanted) destinationFor(channels, name, secret);
  } catch (err) {
    return fail(2, `--channel: ${(err as Error).message}`);
  }
  const targets = [...channels.channels.keys()].filter(
    (name) => wanted.length === 0 || wanted.includes(name),
  );
  const by = `${userInfo().username}@${hostname()}`;
  const failed: string[] = [];
  for (const channel of targets) {
    const destination = destinationFor(channels, channel, secret);
    const test = buildTestMessage(new Date(), `credwatch notify --test, channel "${channel}" (${by})`);
    const message = { ...test, text: `${test.text} (credwatch channel "${channel}")` };
    try {
      await sendTest(destination, message, channels, opts.slackApiUrl);
      process.stdout.write(
        `credwatch-notify: ${channel}: posted a test message ${where(destination)} of ${secret}\n`,
      );
    } catch (err) {
      failed.push(channel);
      process.stderr.write(`credwatch-notify: ${channel}: ${(err as Error).message ?? String(err)}\n`);
    }
  }
  if (failed.length === 0) return 0;
  return fail(
    3,
    `${failed.length} of ${targets.length} channel${targets.length === 1 ? '' : 's'} of ${secret} did not take the test message: ${failed.join(', ')}`,
  );
}

/** Where a test message went, in words (no URL, no token). */
function where(destination: ChannelDestination): string {
  if (destination.kind === 'slack-app')
    return `to Slack conversation ${destination.conversation} with the bot token`;
  return destination.kind === 'teams-workflow' ? 'through the Teams workflow' : 'through the webhook';
}

/** Posts the test message where a channel's messages go, the way the scanner posts them. */
async function sendTest(
  destination: ChannelDestination,
  message: ReturnType<typeof buildTestMessage>,
  secret: ChannelSecret,
  slackApiUrl: string | undefined,
): Promise<void> {
  switch (destination.kind) {
    case 'slack-webhook':
      await new SlackSender({ webhookUrl: destination.url }).send(message);
      return;
    case 'slack-app': {
      if (secret.slackBotToken === undefined) throw new Error('the secret has no "slackBotToken"');
      const api = new SlackWebApi({
        token: secret.slackBotToken,
        ...(slackApiUrl ? { apiUrl: slackApiUrl } : {}),
      });
      await api.postMessage(destination.conversation, message);
      return;
    }
    case 'teams-workflow':
      await new TeamsSender({ url: destination.url }).send(toTeamsPayload(message));
      return;
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
