/**
 * The region in the synthesized Credwatch template: a stack bound to eu-west-1 names no other region,
 * and an environment-agnostic one (what bin/app.ts builds) names none at all, not even through the
 * CDK metadata resource's region list. Both pass cdk-nag with exactly the acknowledgements they need.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { loadConfig } from '../../lib/config';
import { CredwatchStack } from '../../lib/credwatch-stack';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
/** Any AWS region name. */
const REGION_NAME =
  /\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:east|west|north|south|central|northeast|southeast|northwest|southwest)-\d\b/g;

const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** Configurations that between them use every construct that could name a region. */
const CONFIGS: Record<string, Record<string, unknown>> = {
  defaults: { alarmEmails: ['secops@example.com'] },
  organization: {
    alarmEmails: ['secops@example.com'],
    accounts: { source: 'organization', organizationId: 'o-a1b2c3d4e5', externalId: 'credwatch-7f3a' },
    slackSecret: { create: true, adminRoleArns: ['arn:aws:iam::210987654321:role/break-glass'] },
  },
  listed: {
    alarms: 'none',
    accounts: { source: 'list', ids: ['111111111111', '222222222222'] },
    schedule: 'cron(0 8 ? * MON-FRI *)',
    heartbeatMinutes: 4320 / 3,
  },
  imported: {
    slackSecret: {
      name: 'credwatch/slack-webhook',
      kmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    },
    alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ops-alarms`,
  },
};

/** Synthesizes one stack per configuration, as the CDK CLI would (metadata on), without bundling. */
function synthesize(env: Environment | undefined, names: readonly string[]): Record<string, CredwatchStack> {
  const app = new App({
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], 'aws:cdk:version-reporting': true },
  });
  const stacks = Object.fromEntries(
    names.map((name) => [
      name,
      new CredwatchStack(app, `Credwatch-${name}`, {
        config: loadConfig(CONFIGS[name], name),
        ...(env ? { env } : {}),
      }),
    ]),
  );
  app.synth();
  return stacks;
}

const regionsIn = (stack: CredwatchStack) =>
  new Set(JSON.stringify(Template.fromStack(stack).toJSON()).match(REGION_NAME) ?? []);

/** Unacknowledged cdk-nag findings, and acknowledgements of findings the packs do not report. */
function nagProblems(stack: CredwatchStack): string[] {
  const packs = () => [new AwsSolutionsChecks(), new ServerlessChecks()];
  const unacknowledged = packs().flatMap((pack) =>
    pack.validateScope(stack).violations.map((v) => `unacknowledged ${v.ruleName}`),
  );
  const reported = new Set(
    packs().flatMap((pack) => {
      (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
      return pack.validateScope(stack).violations.map((v) => v.ruleName);
    }),
  );
  const acknowledged = stack.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
    .flatMap((entry) => Object.keys(entry.data as Record<string, unknown>))
    .map((id) => id.replace(/^annotation::/i, ''));
  return [
    ...unacknowledged,
    ...acknowledged.filter((id) => !reported.has(id)).map((id) => `acknowledged but not reported: ${id}`),
  ];
}

describe('a stack bound to an account and eu-west-1', () => {
  let stacks: Record<string, CredwatchStack>;
  beforeAll(() => {
    stacks = synthesize({ account: ACCOUNT, region: REGION }, Object.keys(CONFIGS));
  }, 120_000);

  it.each(Object.keys(CONFIGS))('names no region but eu-west-1 (%s)', (name) => {
    expect([...regionsIn(stacks[name]!)].filter((r) => r !== REGION)).toEqual([]);
  });

  it('builds region-bound names from its region: the key policy, the bus, the alarm ARNs', () => {
    const text = JSON.stringify(Template.fromStack(stacks.defaults!).toJSON());
    expect(text).toContain(`secretsmanager.${REGION}.`);
    expect(text).toContain(`:events:${REGION}:${ACCOUNT}:event-bus/default`);
    expect(text).toContain(`:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`);
  });

  it.each(Object.keys(CONFIGS))(
    'passes cdk-nag with exactly the acknowledgements it needs, account ids literal (%s)',
    (name) => {
      expect(nagProblems(stacks[name]!)).toEqual([]);
    },
  );
});

describe('an environment-agnostic stack (bin/app.ts)', () => {
  // Every configuration but the one whose own ARNs name a region.
  const NAMES = Object.keys(CONFIGS).filter((name) => name !== 'imported');
  let stacks: Record<string, CredwatchStack>;
  beforeAll(() => {
    stacks = synthesize(undefined, NAMES);
  }, 120_000);

  it.each(NAMES)('names no region at all, and no account (%s)', (name) => {
    expect([...regionsIn(stacks[name]!)]).toEqual([]);
    expect(JSON.stringify(Template.fromStack(stacks[name]!).toJSON())).not.toContain(ACCOUNT);
  });

  it('has no CDK metadata resource, whose condition would list the regions', () => {
    const template = Template.fromStack(stacks.defaults!).toJSON();
    expect(Object.keys(template.Conditions ?? {})).not.toContain('CDKMetadataAvailable');
    Template.fromStack(stacks.defaults!).resourceCountIs('AWS::CDK::Metadata', 0);
  });

  it.each(NAMES)('passes cdk-nag with exactly the acknowledgements it needs (%s)', (name) => {
    expect(nagProblems(stacks[name]!)).toEqual([]);
  });
});
