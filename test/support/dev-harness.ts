#!/usr/bin/env -S npx tsx
/**
 * Local development: serves a generated account on the local IAM endpoint until Ctrl-C, and prints
 * the environment that points the CLI (or the bundled Lambda) at it. See docs/development.md.
 *
 *   npx tsx test/support/dev-harness.ts [--users N] [--seed S] [--latency MS] [--rate N]
 */
import { parseArgs } from 'node:util';
import { generateAccount } from './account-generator';
import { startIamEndpoint } from './iam-endpoint';

async function main() {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '50' },
      seed: { type: 'string', default: 'dev' },
      latency: { type: 'string', default: '0' },
      rate: { type: 'string' },
    },
  });
  const users = Number(values.users);
  if (!Number.isInteger(users) || users < 0 || users > 50_000)
    throw new Error('--users: a whole number up to 50000');
  const now = new Date();
  const account = generateAccount({ users, seed: values.seed, now, root: { accessKey: true } });
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  const endpoint = await startIamEndpoint({
    account,
    latencyMs: Number(values.latency),
    ...(rate ? { throttle: { ratePerSecond: rate, burst: Math.max(1, Math.ceil(rate)) } } : {}),
  });
  process.stdout.write(
    [
      `IAM endpoint with ${users} generated users (seed "${values.seed}") on ${endpoint.url}`,
      'Point the CLI at it from another shell:',
      `  AWS_ENDPOINT_URL_IAM=${endpoint.url} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE AWS_SECRET_ACCESS_KEY=fake npm run scan`,
      'Ctrl-C stops it; request counts by action are printed then.',
      '',
    ].join('\n'),
  );
  process.on('SIGINT', async () => {
    process.stdout.write(`\n${JSON.stringify(endpoint.counts())}\n`);
    await endpoint.close();
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`dev-harness: ${(err as Error).message}\n`);
  process.exit(2);
});
