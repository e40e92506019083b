/**
 * Shared fixtures of the stack tests (test/infra/*.test.ts): the configurations every file
 * synthesizes, the stacks built from them, and helpers to read grants and references out of a
 * template. Each test file synthesizes what it needs once, in its beforeAll.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { loadConfig } from '../../lib/config';
import { CredwatchStack } from '../../lib/credwatch-stack';

export const ACCOUNT = '123456789012';
/** The CDK context key that limits bundling to the stacks it names; none = no bundling. */
export const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';
export const REGION = 'eu-west-1';
export const IMPORTED_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

export type Json = Record<string, unknown>;

// The feature flags of cdk.json, so the tests synthesize what `cdk synth` does.
export const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as {
  context: Json;
};

export const customConfig = loadConfig(
  {
    schedule: 'cron(0 8 * * ? *)',
    timeZone: 'Europe/Berlin',
    thresholds: { accessKeyAge: { warningDays: 60, criticalDays: 75 } },
    reminderHours: 12,
    alarmEmails: ['secops@example.com', 'oncall@example.org'],
    logRetentionDays: 30,
    memoryMb: 1024,
    timeoutSeconds: 600,
    reportDeadlineSeconds: 120,
  },
  'test',
);
/** An existing topic the Imported stack's alarms notify. */
export const OPS_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:ops-alarms`;
export const importedConfig = loadConfig(
  {
    schedule: 'rate(2 hours)',
    slackSecret: { name: 'credwatch/slack-webhook', kmsKeyArn: IMPORTED_KEY },
    alarmTopicArn: OPS_TOPIC,
  },
  'test',
);

/** Scanned by the multi-account stacks. */
export const [MEMBER_A, MEMBER_B, MEMBER_C] = ['111111111111', '222222222222', '333333333333'];
/** Roles that may read the Organization stack's secret besides its scanner (one with a path). */
export const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
export const SSO_ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef`;
export const organizationConfig = loadConfig(
  {
    accounts: {
      source: 'organization',
      // The single-invocation engine, which these tests prove; the Step Functions engine (the default
      // for an organization) has its own (test/infra/state-machine.test.ts).
      engine: 'lambda',
      organizationalUnits: ['ou-ab12-cdefgh34', 'r-ab12'],
      exclude: [MEMBER_C],
      externalId: 'credwatch-7f3a',
      organizationId: 'o-a1b2c3d4e5',
      concurrency: 4,
      thresholds: { [MEMBER_A]: { rootAccessKey: 'warning' } },
    },
    alarmEmails: ['secops@example.com'],
    slackSecret: { create: true, adminRoleArns: [ADMIN_ROLE, SSO_ADMIN_ROLE] },
    reservedConcurrency: false,
  },
  'test',
);
export const listedConfig = loadConfig(
  {
    accounts: {
      source: 'list',
      ids: [MEMBER_A, MEMBER_B, MEMBER_C],
      exclude: [MEMBER_C],
      memberRoleName: 'secops-credwatch-reader',
      scannerRoleName: 'secops-credwatch',
    },
    // Alarms and dashboard without actions (not recommended, but allowed).
    alarms: 'none',
  },
  'test',
);

/**
 * The Step Functions engine (lib/constructs/scanner-state-machine.ts): an organization source with
 * the default engine (step-functions), an organization id and external id, secret admin roles.
 */
export const stepFunctionsConfig = loadConfig(
  {
    accounts: {
      source: 'organization',
      externalId: 'credwatch-7f3a',
      organizationId: 'o-a1b2c3d4e5',
    },
    alarmEmails: ['secops@example.com'],
    slackSecret: { create: true, adminRoleArns: [ADMIN_ROLE] },
  },
  'test',
);

export const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnResource);
export const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });
export const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [logicalId(construct), 'Arn'] });

export const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
export const PARTITION = { Ref: 'AWS::Partition' };
export const ACCOUNT_ID = { Ref: 'AWS::AccountId' };
export const REGION_REF = { Ref: 'AWS::Region' };

export interface Grant {
  readonly action: string;
  readonly resource: unknown;
  readonly condition?: unknown;
}

/** Every (action, resource) pair the role's policies allow, with the statement's condition. */
export function grantsOf(t: Template, role: IConstruct): Grant[] {
  const resource = t.toJSON().Resources[logicalId(role)] as { Properties: Json };
  const policies = (resource.Properties.Policies ?? []) as { PolicyDocument: { Statement: Json[] } }[];
  const grants: Grant[] = [];
  for (const policy of policies) {
    for (const s of policy.PolicyDocument.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const action of [s.Action].flat() as string[]) {
        for (const res of [s.Resource].flat()) {
          grants.push({ action, resource: res, ...(s.Condition ? { condition: s.Condition } : {}) });
        }
      }
    }
  }
  return sortGrants(grants);
}

export const sortGrants = (grants: Grant[]) =>
  [...grants].sort((a, b) =>
    `${a.action} ${JSON.stringify(a.resource)}`.localeCompare(`${b.action} ${JSON.stringify(b.resource)}`),
  );

/** What reading the own account's IAM takes: only a single-account scanner has it. */
export const OWN_ACCOUNT_IAM_READS: Grant[] = [
  { action: 'iam:GenerateCredentialReport', resource: '*' },
  { action: 'iam:GetCredentialReport', resource: '*' },
  { action: 'iam:GetAccountAuthorizationDetails', resource: '*' },
  { action: 'iam:ListAccountAliases', resource: '*' },
  { action: 'iam:ListVirtualMFADevices', resource: '*' },
  ...['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'].map((action) => ({
    action,
    resource: join('arn:', PARTITION, ':iam::', ACCOUNT_ID, ':user/*'),
  })),
];

export function scannerGrants(stack: CredwatchStack, secret: { arn: unknown; key: unknown }): Grant[] {
  const grants: Grant[] = [
    ...(stack.config.accounts.source === 'self' ? OWN_ACCOUNT_IAM_READS : []),
    { action: 'secretsmanager:GetSecretValue', resource: secret.arn },
    {
      action: 'kms:Decrypt',
      resource: secret.key,
      condition: {
        StringEquals: {
          'kms:ViaService': join('secretsmanager.', REGION_REF, '.', { Ref: 'AWS::URLSuffix' }),
        },
      },
    },
    ...['Query', 'PutItem', 'DeleteItem'].map((a) => ({
      action: `dynamodb:${a}`,
      resource: arnOf(stack.stateTable.table),
    })),
    // The event outbox, batch-written 25 entries a request, and only its partition.
    {
      action: 'dynamodb:BatchWriteItem',
      resource: arnOf(stack.stateTable.table),
      condition: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['outbox'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    },
    // The Slack app mode's message records, and only those items.
    {
      action: 'dynamodb:GetItem',
      resource: arnOf(stack.stateTable.table),
      condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['thread#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    },
    {
      action: 'events:PutEvents',
      resource: join('arn:', PARTITION, ':events:', REGION_REF, ':', ACCOUNT_ID, ':event-bus/default'),
    },
    ...['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({
      action,
      resource: arnOf(stack.scanner.logGroup),
    })),
  ];
  return sortGrants(grants);
}

/** The confused-deputy conditions on what CloudWatch may do with the alarm topic and its key. */
export const OWN_ALARMS = {
  StringEquals: { 'aws:SourceAccount': ACCOUNT_ID },
  ArnLike: {
    'aws:SourceArn': join('arn:', PARTITION, ':cloudwatch:', REGION_REF, ':', ACCOUNT_ID, ':alarm:*'),
  },
};

export function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

export interface SingleAccountStacks {
  /** A created secret and topic, a cron schedule in a time zone, custom thresholds and sizes. */
  readonly custom: CredwatchStack;
  /** An imported secret (by name, with its key) and an existing alarm topic, a rate schedule. */
  readonly imported: CredwatchStack;
  readonly template: Template;
  readonly importedTemplate: Template;
}

export interface MultiAccountStacks {
  /** Organization OUs, an external id, per-account thresholds, secret admin roles, no reserved concurrency. */
  readonly organization: CredwatchStack;
  /** Listed accounts with named roles, alarms "none". */
  readonly listed: CredwatchStack;
  readonly organizationTemplate: Template;
  readonly listedTemplate: Template;
}

/**
 * The Custom and Imported stacks of one app, synthesized as `cdk synth` does (the feature flags of
 * cdk.json). With `bundle`, the real handler is bundled with the local esbuild (slower: only the
 * tests that read the bundle need it); without, the templates are the same but for the asset.
 */
export function singleAccountStacks(options: { readonly bundle?: boolean } = {}): SingleAccountStacks {
  const app = new App({
    context: { ...cdkJson.context, ...(options.bundle ? {} : { [BUNDLING_STACKS]: [] }) },
  });
  const custom = new CredwatchStack(app, 'Custom', { config: customConfig });
  const imported = new CredwatchStack(app, 'Imported', { config: importedConfig });
  app.synth();
  return {
    custom,
    imported,
    template: Template.fromStack(custom),
    importedTemplate: Template.fromStack(imported),
  };
}

/** The Organization and Listed stacks of one app; they differ in their role and environment only, so they are not bundled. */
export function multiAccountStacks(): MultiAccountStacks {
  const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
  const organization = new CredwatchStack(app, 'Organization', { config: organizationConfig });
  const listed = new CredwatchStack(app, 'Listed', { config: listedConfig });
  app.synth();
  return {
    organization,
    listed,
    organizationTemplate: Template.fromStack(organization),
    listedTemplate: Template.fromStack(listed),
  };
}

/** The Engine stack (stepFunctionsConfig), synthesized as `cdk synth` does but not bundled. */
export function stepFunctionsStack(): { readonly stack: CredwatchStack; readonly template: Template } {
  const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
  const stack = new CredwatchStack(app, 'Engine', { config: stepFunctionsConfig });
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

/** The scanner function's role session, as the simulated requests name it. */
export const SCANNER_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/scanner/credwatch`;

/**
 * IAM's decision (@cloud-copilot/iam-simulate) on one request of the scanner's session, in this
 * account, under the scanner's identity policy alone.
 */
export async function decideForScanner(policy: unknown, action: string, resource: string) {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'scanner', policy }] as never,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: SCANNER_SESSION,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: {},
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}
