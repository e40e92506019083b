/**
 * The synthesized credwatch stack: what it grants, runs, schedules, stores and alarms on. The app is
 * synthesized once (bundling the real handler with the local esbuild) and shared by every test.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { DEFAULT_THRESHOLDS } from '../../lambda/core/policy';
import { ConfigError, type CredwatchConfig, loadConfig } from '../../lib/config';
import { heartbeatWindow, ScannerAlarms } from '../../lib/constructs/alarms';
import { accountsEnvironment, ScannerFunction } from '../../lib/constructs/scanner-function';
import { ScannerSchedule } from '../../lib/constructs/scanner-schedule';
import { WebhookSecret } from '../../lib/constructs/webhook-secret';
import { CredwatchStack, NOTIFY_NO_ONE } from '../../lib/credwatch-stack';

const ACCOUNT = '123456789012';
/** The CDK context key that limits bundling to the stacks it names; none = no bundling. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';
const REGION = 'eu-west-1';
const IMPORTED_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

type Json = Record<string, unknown>;

// The feature flags of cdk.json, so the tests synthesize what `cdk synth` does.
const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as { context: Json };

const customConfig = loadConfig(
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
const OPS_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:ops-alarms`;
const importedConfig = loadConfig(
  {
    schedule: 'rate(2 hours)',
    slackSecret: { name: 'credwatch/slack-webhook', kmsKeyArn: IMPORTED_KEY },
    alarmTopicArn: OPS_TOPIC,
  },
  'test',
);

/** Scanned by the multi-account stacks. */
const [MEMBER_A, MEMBER_B, MEMBER_C] = ['111111111111', '222222222222', '333333333333'];
/** Roles that may read the Organization stack's secret besides its scanner (one with a path). */
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
const SSO_ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef`;
const organizationConfig = loadConfig(
  {
    accounts: {
      source: 'organization',
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
const listedConfig = loadConfig(
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

let custom: CredwatchStack;
let imported: CredwatchStack;
let organization: CredwatchStack;
let listed: CredwatchStack;
let template: Template;
let importedTemplate: Template;
let organizationTemplate: Template;
let listedTemplate: Template;

beforeAll(() => {
  const app = new App({ context: cdkJson.context });
  custom = new CredwatchStack(app, 'Custom', { config: customConfig });
  imported = new CredwatchStack(app, 'Imported', { config: importedConfig });
  app.synth();
  template = Template.fromStack(custom);
  importedTemplate = Template.fromStack(imported);
  // The multi-account stacks differ in their role and environment only: no need to bundle again.
  const multi = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
  organization = new CredwatchStack(multi, 'Organization', { config: organizationConfig });
  listed = new CredwatchStack(multi, 'Listed', { config: listedConfig });
  multi.synth();
  organizationTemplate = Template.fromStack(organization);
  listedTemplate = Template.fromStack(listed);
}, 180_000);

const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnResource);
const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });
const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [logicalId(construct), 'Arn'] });

const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const PARTITION = { Ref: 'AWS::Partition' };
const ACCOUNT_ID = { Ref: 'AWS::AccountId' };
const REGION_REF = { Ref: 'AWS::Region' };

interface Grant {
  readonly action: string;
  readonly resource: unknown;
  readonly condition?: unknown;
}

/** Every (action, resource) pair the role's policies allow, with the statement's condition. */
function grantsOf(t: Template, role: IConstruct): Grant[] {
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

const sortGrants = (grants: Grant[]) =>
  [...grants].sort((a, b) =>
    `${a.action} ${JSON.stringify(a.resource)}`.localeCompare(`${b.action} ${JSON.stringify(b.resource)}`),
  );

/** What reading the own account's IAM takes: only a single-account scanner has it. */
const OWN_ACCOUNT_IAM_READS: Grant[] = [
  { action: 'iam:GenerateCredentialReport', resource: '*' },
  { action: 'iam:GetCredentialReport', resource: '*' },
  { action: 'iam:GetAccountAuthorizationDetails', resource: '*' },
  { action: 'iam:ListAccountAliases', resource: '*' },
  ...['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'].map((action) => ({
    action,
    resource: join('arn:', PARTITION, ':iam::', ACCOUNT_ID, ':user/*'),
  })),
];

function scannerGrants(stack: CredwatchStack, secret: { arn: unknown; key: unknown }): Grant[] {
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
    ...['Query', 'PutItem'].map((a) => ({
      action: `dynamodb:${a}`,
      resource: arnOf(stack.stateTable.table),
    })),
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

describe('the scanner role', () => {
  it('grants exactly the actions and resources the scanner uses, and nothing else', () => {
    const secret = custom.webhookSecret;
    expect(grantsOf(template, custom.scanner.role)).toEqual(
      scannerGrants(custom, { arn: ref(secret.secret!), key: arnOf(secret.key!) }),
    );
  });

  it('grants the imported secret by name (any random suffix) and its given key', () => {
    const secretArn = join(
      'arn:',
      PARTITION,
      ':secretsmanager:',
      REGION_REF,
      ':',
      ACCOUNT_ID,
      ':secret:credwatch/slack-webhook-??????',
    );
    expect(grantsOf(importedTemplate, imported.scanner.role)).toEqual(
      scannerGrants(imported, { arn: secretArn, key: IMPORTED_KEY }),
    );
  });

  it('has no managed policy and no policy attached from elsewhere', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
    const roles = template.findResources('AWS::IAM::Role');
    expect(
      Object.values(roles).filter((r) => (r as { Properties: Json }).Properties.ManagedPolicyArns),
    ).toEqual([]);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });
});

describe('a multi-account deployment', () => {
  const createdSecret = (stack: CredwatchStack) => ({
    arn: ref(stack.webhookSecret.secret!),
    key: arnOf(stack.webhookSecret.key!),
  });
  const memberRole = (account: unknown, name: string) =>
    account === '*'
      ? join('arn:', PARTITION, `:iam::*:role/${name}`)
      : join('arn:', PARTITION, `:iam::${account as string}:role/${name}`);

  it('lets the scanner assume the member role in any account of its organization and list the organization', () => {
    expect(grantsOf(organizationTemplate, organization.scanner.role)).toEqual(
      sortGrants([
        ...scannerGrants(organization, createdSecret(organization)),
        {
          action: 'sts:AssumeRole',
          resource: memberRole('*', 'credwatch-member'),
          condition: { StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } },
        },
        { action: 'organizations:ListAccounts', resource: '*' },
        { action: 'organizations:ListAccountsForParent', resource: '*' },
        { action: 'organizations:ListOrganizationalUnitsForParent', resource: '*' },
      ]),
    );
  });

  it('lets a listed deployment assume the member role in exactly the scanned accounts', () => {
    expect(grantsOf(listedTemplate, listed.scanner.role)).toEqual(
      sortGrants([
        ...scannerGrants(listed, createdSecret(listed)),
        // MEMBER_C is excluded.
        { action: 'sts:AssumeRole', resource: memberRole(MEMBER_A, 'secops-credwatch-reader') },
        { action: 'sts:AssumeRole', resource: memberRole(MEMBER_B, 'secops-credwatch-reader') },
      ]),
    );
  });

  it.each<[string, Record<string, unknown>]>([
    ['without an organization id', { source: 'organization' }],
    // The accounts are named in the resources: nothing to narrow.
    [
      'with included accounts',
      { source: 'organization', include: [MEMBER_A], organizationId: 'o-a1b2c3d4e5' },
    ],
  ])('puts no organization condition on AssumeRole %s', (_what, accounts) => {
    const app = new App({ context: { [BUNDLING_STACKS]: [] } });
    const config = loadConfig({ accounts, alarmEmails: ['secops@example.com'] }, 'test');
    const stack = new CredwatchStack(app, 'NoOrgCondition', { config });
    const assume = stack.scanner.statements.find((st) => st.sid === 'AssumeMemberRoles')!;
    expect(assume.toStatementJson().Condition).toBeUndefined();
  });

  it('names each statement it adds', () => {
    const sids = (t: Template, stack: CredwatchStack) =>
      (
        (t.toJSON().Resources[logicalId(stack.scanner.role)].Properties.Policies as Json[])[0]!
          .PolicyDocument as { Statement: Json[] }
      ).Statement.map((st) => st.Sid);
    expect(sids(organizationTemplate, organization)).toEqual(
      expect.arrayContaining(['AssumeMemberRoles', 'DiscoverAccounts']),
    );
    expect(sids(listedTemplate, listed)).toContain('AssumeMemberRoles');
    expect(sids(listedTemplate, listed)).not.toContain('DiscoverAccounts');
    expect(sids(template, custom)).not.toContain('AssumeMemberRoles');
  });

  it.each([
    ['Organization', () => [organizationTemplate, organization] as const, 'credwatch-scanner'],
    ['Listed', () => [listedTemplate, listed] as const, 'secops-credwatch'],
  ])('gives the %s scanner role its fixed name, which member trust policies name', (_name, get, roleName) => {
    const [t, stack] = get();
    expect(t.toJSON().Resources[logicalId(stack.scanner.role)].Properties.RoleName).toBe(roleName);
  });

  it('leaves the single-account scanner role unnamed', () => {
    expect(template.toJSON().Resources[logicalId(custom.scanner.role)].Properties.RoleName).toBeUndefined();
  });

  const environmentOf = (t: Template) =>
    (
      Object.values(t.findResources('AWS::Lambda::Function'))[0] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }
    ).Properties.Environment.Variables;

  it('passes the organization settings and the merged per-account thresholds as CREDWATCH_ACCOUNTS', () => {
    const env = environmentOf(organizationTemplate);
    expect(JSON.parse(env.CREDWATCH_ACCOUNTS as string)).toEqual({
      source: 'organization',
      organizationalUnits: ['ou-ab12-cdefgh34', 'r-ab12'],
      exclude: [MEMBER_C],
      memberRoleName: 'credwatch-member',
      externalId: 'credwatch-7f3a',
      concurrency: 4,
      thresholds: { [MEMBER_A]: { ...DEFAULT_THRESHOLDS, rootAccessKey: 'warning' } },
    });
    // The organization id is for the member trust policies, the scanner role name for the role: neither is the handler's.
    expect(env.CREDWATCH_ACCOUNTS).not.toContain('o-a1b2c3d4e5');
    expect(env.CREDWATCH_THRESHOLDS).toBe(JSON.stringify(DEFAULT_THRESHOLDS));
  });

  it('passes the listed accounts as CREDWATCH_ACCOUNTS', () => {
    expect(JSON.parse(environmentOf(listedTemplate).CREDWATCH_ACCOUNTS as string)).toEqual({
      source: 'list',
      ids: [MEMBER_A, MEMBER_B, MEMBER_C],
      exclude: [MEMBER_C],
      memberRoleName: 'secops-credwatch-reader',
      concurrency: 8,
    });
  });

  it('passes no CREDWATCH_ACCOUNTS for the own account', () => {
    expect(Object.keys(environmentOf(template))).not.toContain('CREDWATCH_ACCOUNTS');
  });

  it('outputs the scanner role ARN and the member-role parameters file', () => {
    const outputs = organizationTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    const roleArn = arnOf(organization.scanner.role);
    expect(outputs.ScannerRoleArn!.Value).toEqual(roleArn);
    // The parameters file: JSON around the role ARN, which CloudFormation fills in.
    const [sep, parts] = (outputs.MemberRoleParameters!.Value as { 'Fn::Join': [string, unknown[]] })[
      'Fn::Join'
    ];
    const text = parts.map((p) => (typeof p === 'string' ? p : 'SCANNER-ROLE-ARN')).join(sep);
    expect(parts.filter((p) => typeof p !== 'string')).toEqual([roleArn]);
    expect(JSON.parse(text)).toEqual([
      { ParameterKey: 'ScannerRoleArn', ParameterValue: 'SCANNER-ROLE-ARN' },
      { ParameterKey: 'RoleName', ParameterValue: 'credwatch-member' },
      { ParameterKey: 'ExternalId', ParameterValue: 'credwatch-7f3a' },
      { ParameterKey: 'OrganizationId', ParameterValue: 'o-a1b2c3d4e5' },
      { ParameterKey: 'UserDirectory', ParameterValue: 'authorization-details' },
    ]);
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('ScannerRoleArn');
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('MemberRoleParameters');
  });
});

describe('the schedule role', () => {
  it('may only invoke the scanner and dead-letter a run, assumed by Scheduler for its own schedule group in this account', () => {
    expect(grantsOf(template, custom.schedule.role)).toEqual(
      sortGrants([
        { action: 'lambda:InvokeFunction', resource: arnOf(custom.scanner.function) },
        { action: 'sqs:SendMessage', resource: arnOf(custom.schedule.deadLetterQueue) },
      ]),
    );
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT_ID },
              ArnEquals: { 'aws:SourceArn': arnOf(custom.schedule.group) },
            },
          },
        ],
      },
    });
  });

  it('puts the schedule in that group, created before it', () => {
    const resources = template.toJSON().Resources as Record<string, Json>;
    const group = resources[logicalId(custom.schedule.group)] as { Properties: { Name: string } };
    const schedule = resources[logicalId(custom.schedule.schedule)] as {
      Properties: { GroupName: unknown };
      DependsOn?: string[];
    };
    expect(schedule.Properties.GroupName).toBe(group.Properties.Name);
    expect(schedule.DependsOn).toContain(logicalId(custom.schedule.group));
  });
});

describe('the scanner function', () => {
  it('runs Node 24 on arm64, one at a time, with the configured memory, timeout and JSON logs', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      MemorySize: 1024,
      Timeout: 600,
      Handler: 'index.handler',
      Role: arnOf(custom.scanner.role),
      LoggingConfig: { LogFormat: 'JSON', LogGroup: ref(custom.scanner.logGroup) },
    });
    template.resourceCountIs('AWS::Lambda::Function', 1);
  });

  it('gets the configuration, the secret ARN and resource names in its environment, and nothing secret', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Json } };
    };
    const env = fn.Properties.Environment.Variables;
    expect(env).toEqual({
      CREDWATCH_THRESHOLDS: JSON.stringify(customConfig.thresholds),
      CREDWATCH_REPORT_DEADLINE_SECONDS: '120',
      CREDWATCH_REMINDER_HOURS: '12',
      CREDWATCH_SLACK_SECRET_ARN: ref(custom.webhookSecret.secret!),
      CREDWATCH_STATE_TABLE: ref(custom.stateTable.table),
      CREDWATCH_EVENT_BUS_NAME: 'default',
      // A cron schedule: its period is heartbeatMinutes (default 1440).
      CREDWATCH_SCHEDULE_PERIOD_MINUTES: '1440',
      POWERTOOLS_SERVICE_NAME: 'credwatch',
      POWERTOOLS_METRICS_NAMESPACE: 'Credwatch',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    expect(JSON.parse(env.CREDWATCH_THRESHOLDS as string).accessKeyAge).toEqual({
      warningDays: 60,
      criticalDays: 75,
    });
  });

  it("passes a rate schedule's period as CREDWATCH_SCHEDULE_PERIOD_MINUTES", () => {
    importedTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CREDWATCH_SCHEDULE_PERIOD_MINUTES: '120' }) },
    });
  });

  it.each<[string, () => Template, number]>([
    // rate(2 hours): one period.
    ['a rate schedule', () => importedTemplate, 7200],
    // A daily cron (heartbeat 1440 minutes): one day, clamped to Lambda's 6 hours.
    ['a daily cron schedule', () => template, 21_600],
  ])('never retries an asynchronous run and drops it after one period for %s', (_what, t, seconds) => {
    t().resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    t().hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: Match.anyValue(),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: seconds,
    });
  });

  it('reserves no concurrency when reservedConcurrency is false', () => {
    const fn = Object.values(organizationTemplate.findResources('AWS::Lambda::Function'))[0] as {
      Properties: Json;
    };
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    importedTemplate.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1 });
  });

  it('gets the partial ARN of a secret imported by name', () => {
    importedTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CREDWATCH_SLACK_SECRET_ARN: join(
            'arn:',
            PARTITION,
            ':secretsmanager:',
            REGION_REF,
            ':',
            ACCOUNT_ID,
            ':secret:credwatch/slack-webhook',
          ),
        }),
      },
    });
  });

  it('keeps its logs in its own group for the configured retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
  });

  it('is bundled as an ES module with the require shim', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Code: { S3Key: string } };
    };
    const assetHash = fn.Properties.Code.S3Key.replace(/\.zip$/, '');
    const assetDir = path.join((custom.node.root as App).outdir, `asset.${assetHash}`);
    const code = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    expect(
      code.startsWith(
        "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      ),
    ).toBe(true);
    expect(readFileSync(path.join(assetDir, 'index.mjs.map'), 'utf8')).toContain('handler.ts');
  });
});

describe('the webhook secret', () => {
  it('is encrypted with its own rotated key and created with a generated placeholder, never a value', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: arnOf(custom.webhookSecret.key!),
      GenerateSecretString: Match.objectLike({}),
      SecretString: Match.absent(),
    });
    expect(
      template.toJSON().Resources[logicalId(custom.webhookSecret.key!)].Properties.EnableKeyRotation,
    ).toBe(true);
  });

  it('appears nowhere in either template as a webhook', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('hooks.slack.com');
    expect(JSON.stringify(importedTemplate.toJSON())).not.toContain('hooks.slack.com');
  });

  it('is not created when it is imported', () => {
    importedTemplate.resourceCountIs('AWS::SecretsManager::Secret', 0);
    importedTemplate.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
    // No key at all: the secret and the alarm topic are both imported.
    importedTemplate.resourceCountIs('AWS::KMS::Key', 0);
  });

  const secretPolicyOf = (t: Template) =>
    (
      Object.values(t.findResources('AWS::SecretsManager::ResourcePolicy'))[0] as {
        Properties: { SecretId: unknown; ResourcePolicy: { Statement: Json[] } };
      }
    ).Properties;

  it('denies reading a created secret to every principal but the scanner role (by its ARN, path included)', () => {
    const policy = secretPolicyOf(template);
    expect(policy.SecretId).toEqual(ref(custom.webhookSecret.secret!));
    expect(policy.ResourcePolicy.Statement).toEqual([
      {
        Sid: 'DenyReadingToAllButTheScannerAndAdmins',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': [arnOf(custom.scanner.role)] } },
      },
    ]);
  });

  it('also lets the configured admin roles read it', () => {
    expect(secretPolicyOf(organizationTemplate).ResourcePolicy.Statement[0]!.Condition).toEqual({
      StringNotEquals: { 'aws:PrincipalArn': [arnOf(organization.scanner.role), ADMIN_ROLE, SSO_ADMIN_ROLE] },
    });
  });

  it('is referenced by its complete ARN when imported by ARN', () => {
    const stack = new Stack(new App(), 'ByArn');
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch/slack-AbC123`;
    expect(new WebhookSecret(stack, 'Secret', { source: { arn } }).ref).toEqual({
      secretArn: arn,
      policyResourceArn: arn,
    });
  });
});

describe('the schedule', () => {
  it('uses the configured expression and time zone and sends the run id', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 8 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: arnOf(custom.scanner.function),
        RoleArn: arnOf(custom.schedule.role),
        Input:
          '{"source":"credwatch.schedule","scheduledTime":"<aws.scheduler.scheduled-time>","executionId":"<aws.scheduler.execution-id>"}',
        // One period of the daily cron: 24 hours (Scheduler's maximum).
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: arnOf(custom.schedule.deadLetterQueue) },
      },
    });
  });

  it('runs in UTC by default, and stops retrying a run after one period of its rate', () => {
    importedTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(2 hours)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } }),
    });
  });

  it('dead-letters to an encrypted queue that refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });
});

describe('the state table', () => {
  it('is on-demand with pk/sk, PITR, deletion protection, TTL, encryption, and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });
});

describe('the alarms', () => {
  const credwatchDims = [{ Name: 'service', Value: 'credwatch' }];
  it.each([
    ['Errors', 'AWS/Lambda', 'Errors', 'Sum', 300, 1, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
    [
      'Throttles',
      'AWS/Lambda',
      'Throttles',
      'Sum',
      300,
      1,
      1,
      'GreaterThanOrEqualToThreshold',
      'notBreaching',
    ],
    [
      'Duration',
      'AWS/Lambda',
      'Duration',
      'Maximum',
      300,
      1,
      480_000,
      'GreaterThanOrEqualToThreshold',
      'notBreaching',
    ],
    ['Heartbeat', 'Credwatch', 'ScansCompleted', 'Sum', 86_400, 3, 1, 'LessThanThreshold', 'breaching'],
    [
      'DeliveryFailures',
      'Credwatch',
      'DeliveryFailures',
      'Sum',
      300,
      1,
      0,
      'GreaterThanThreshold',
      'notBreaching',
    ],
    [
      'DeadLetters',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'Maximum',
      300,
      1,
      0,
      'GreaterThanThreshold',
      'notBreaching',
    ],
    [
      'RefusedInvocations',
      'Credwatch',
      'InvocationsRefused',
      'Sum',
      300,
      1,
      0,
      'GreaterThanThreshold',
      'notBreaching',
    ],
  ] as const)(
    '%s watches %s %s (%s over %i s, %i periods) against %d and notifies the topic',
    (name, namespace, metricName, statistic, period, evaluationPeriods, threshold, comparison, missing) => {
      const alarms = custom.alarms as unknown as Record<string, IConstruct>;
      const key = name.charAt(0).toLowerCase() + name.slice(1);
      const alarm = template.toJSON().Resources[logicalId(alarms[key]!)] as { Properties: Json };
      const dimensions =
        namespace === 'Credwatch'
          ? credwatchDims
          : namespace === 'AWS/SQS'
            ? [
                {
                  Name: 'QueueName',
                  Value: { 'Fn::GetAtt': [logicalId(custom.schedule.deadLetterQueue), 'QueueName'] },
                },
              ]
            : [{ Name: 'FunctionName', Value: ref(custom.scanner.function) }];
      expect(alarm.Properties).toMatchObject({
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: dimensions,
        Statistic: statistic,
        Period: period,
        EvaluationPeriods: evaluationPeriods,
        Threshold: threshold,
        ComparisonOperator: comparison,
        TreatMissingData: missing,
        AlarmActions: [ref(custom.alarms.ownTopic!)],
        OKActions: [ref(custom.alarms.ownTopic!)],
      });
      expect(alarm.Properties.AlarmDescription).toContain('docs/deploy.md');
    },
  );

  const alarmsOf = (t: Template) =>
    Object.values(t.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: Json }).Properties,
    );

  it('notifies the configured existing topic, with no topic, key or subscription of its own', () => {
    const alarms = alarmsOf(importedTemplate);
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([OPS_TOPIC]);
      expect(alarm.OKActions).toEqual([OPS_TOPIC]);
    }
    importedTemplate.resourceCountIs('AWS::SNS::Topic', 0);
    importedTemplate.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    importedTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(imported.alarms.topic?.topicArn).toBe(OPS_TOPIC);
    expect(importedTemplate.toJSON().Outputs.AlarmTopicArn.Value).toBe(OPS_TOPIC);
  });

  it('with alarms "none" keeps the alarms and the dashboard, without any action or topic', () => {
    const alarms = alarmsOf(listedTemplate);
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.OKActions).toBeUndefined();
    }
    listedTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    listedTemplate.resourceCountIs('AWS::SNS::Topic', 0);
    listedTemplate.resourceCountIs('AWS::KMS::Key', 1); // the secret's
    expect(Object.keys(listedTemplate.toJSON().Outputs)).not.toContain('AlarmTopicArn');
  });

  it('fires the heartbeat after three periods of a rate schedule', () => {
    importedTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ScansCompleted',
      Period: 7200,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  it('is the only thing in the stack that alarms: seven alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });

  it.each([
    [10, 600, 3],
    [60, 3600, 3],
    [1440, 86_400, 3],
    [2880, 86_400, 6],
    [3360, 86_400, 7],
  ])(
    'gives a heartbeat of %i minutes a period of %i s and %i evaluation periods',
    (minutes, period, evaluations) => {
      const window = heartbeatWindow(minutes);
      expect(window.period.toSeconds()).toBe(period);
      expect(window.evaluationPeriods).toBe(evaluations);
      // CloudWatch: at most 7 days in all, and at most 1 day for periods under an hour.
      expect(period * evaluations).toBeLessThanOrEqual(period < 3600 ? 86_400 : 604_800);
    },
  );
});

/** The confused-deputy conditions on what CloudWatch may do with the alarm topic and its key. */
const OWN_ALARMS = {
  StringEquals: { 'aws:SourceAccount': ACCOUNT_ID },
  ArnLike: {
    'aws:SourceArn': join('arn:', PARTITION, ':cloudwatch:', REGION_REF, ':', ACCOUNT_ID, ':alarm:*'),
  },
};

describe('the alarm topic', () => {
  it('is encrypted with a rotated key, TLS-only, and e-mails every configured address', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(custom.alarms.key!) });
    expect(template.toJSON().Resources[logicalId(custom.alarms.key!)].Properties.EnableKeyRotation).toBe(
      true,
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: OWN_ALARMS,
          }),
        ]),
      },
    });
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (s) => (s as { Properties: Json }).Properties,
    );
    expect(subscriptions.map((s) => [s.Protocol, s.Endpoint]).sort()).toEqual([
      ['email', 'oncall@example.org'],
      ['email', 'secops@example.com'],
    ]);
    importedTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('lets CloudWatch use the topic key only for alarms of this account and region', () => {
    const policy = template.toJSON().Resources[logicalId(custom.alarms.key!)].Properties.KeyPolicy as {
      Statement: Json[];
    };
    expect(policy.Statement.filter((st) => JSON.stringify(st.Principal).includes('cloudwatch'))).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsToPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: OWN_ALARMS,
      },
    ]);
  });
});

describe('the dashboard', () => {
  it.each([
    'ScanDuration',
    'FindingsCritical',
    'FindingsWarning',
    'FindingsInfo',
    'IamCalls',
    'DeliveryFailures',
    'InvocationsRefused',
  ])('graphs %s', (metric) => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
    expect(JSON.stringify(dashboard)).toContain(
      `\\"Credwatch\\",\\"${metric}\\",\\"service\\",\\"credwatch\\"`,
    );
  });
});

describe('cdk-nag', () => {
  const stacks = () => ({ Custom: custom, Imported: imported, Organization: organization, Listed: listed });
  type Name = keyof ReturnType<typeof stacks>;
  const NAMES: Name[] = ['Custom', 'Imported', 'Organization', 'Listed'];

  /** Every acknowledgement on a stack's constructs: [finding id, reason]. */
  const acknowledgements = (stack: Stack): [string, unknown][] =>
    stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) => Object.entries(entry.data as Json))
      .map(([id, reason]) => [id.replace(/^annotation::/i, ''), reason]);

  it.each(NAMES)('finds nothing unacknowledged in the %s stack (AwsSolutions, Serverless)', (name) => {
    const stack = stacks()[name];
    const violations = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap(
      (pack) => pack.validateScope(stack).violations,
    );
    expect(
      violations.map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
  });

  it.each(NAMES)(
    'acknowledges in the %s stack only findings the packs really report, each under its exact id',
    (name) => {
      const stack = stacks()[name];
      const acknowledged = new Set(acknowledgements(stack).map(([id]) => id));
      // The same packs with acknowledgements ignored (NagPack's private check, replaced for this test only).
      const reported = new Set(
        [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) => {
          (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
          return pack.validateScope(stack).violations.map((v) => v.ruleName);
        }),
      );
      expect([...acknowledged].filter((id) => !reported.has(id))).toEqual([]);
      expect([...reported].filter((id) => !acknowledged.has(id))).toEqual([]);
    },
  );

  it.each<[Name, boolean]>([
    ['Custom', true],
    ['Imported', true],
    ['Organization', true],
    // No IAM reads of its own and the member role in named accounts only: nothing on "*".
    ['Listed', false],
  ])('acknowledges wildcard resources in the %s stack: %s', (name, wildcards) => {
    const ids = acknowledgements(stacks()[name]).map(([id]) => id);
    expect(ids.includes('AwsSolutions-IAM5[Resource::*]')).toBe(wildcards);
    expect(ids.includes('Serverless-LambdaStarPermissions')).toBe(wildcards);
    expect(
      ids.includes('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]'),
    ).toBe(name === 'Custom' || name === 'Imported');
  });

  it.each<[Name, boolean]>([
    ['Custom', false],
    ['Listed', false],
    ['Organization', true],
  ])(
    'acknowledges assuming the member role in any account in the %s stack: %s',
    (name, acknowledgesAnyAccount) => {
      const ids = acknowledgements(stacks()[name]).map(([id]) => id);
      expect(
        ids.includes('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/credwatch-member]'),
      ).toBe(acknowledgesAnyAccount);
    },
  );

  it('has no CDK warnings or errors on any stack', () => {
    for (const stack of Object.values(stacks())) {
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    }
  });

  it.each(NAMES)('gives every acknowledgement in the %s stack an exact finding id and a reason', (name) => {
    const acks = acknowledgements(stacks()[name]);
    expect(acks.length).toBeGreaterThanOrEqual(6);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/^(?:AwsSolutions|Serverless)-[A-Za-z0-9]+(?:\[[^\]]+\])?$/);
      expect(typeof reason === 'string' ? reason.length : 0).toBeGreaterThan(40);
    }
  });
});

describe('least privilege, simulated on the synthesized policy', () => {
  const ids = () => ({
    secret: logicalId(custom.webhookSecret.secret!),
    secretKey: logicalId(custom.webhookSecret.key!),
    table: logicalId(custom.stateTable.table),
    logGroup: logicalId(custom.scanner.logGroup),
  });
  const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:CustomWebhookSecret-AbCdEf`;
  const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
  const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Custom-State`;
  const LOG_GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:Custom-ScannerLogGroup`;

  const TOPIC_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-8888-7777-6666-555555555555`;
  const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:Custom-AlarmsTopic`;
  /** The ARN of a stack's schedule group (its generated name is in the template). */
  const groupArn = (stack: CredwatchStack) =>
    `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${
      (
        templateOf(stack).toJSON().Resources[logicalId(stack.schedule.group)] as {
          Properties: { Name: string };
        }
      ).Properties.Name
    }`;
  const templateOf = (stack: CredwatchStack) =>
    stack === custom ? template : stack === organization ? organizationTemplate : listedTemplate;

  /**
   * Replace the intrinsics of a template fragment with the values CloudFormation would give them.
   * The stacks share their logical ids; only the role and group names differ.
   */
  function resolve(value: unknown, stack: CredwatchStack = custom): unknown {
    const { secret, secretKey, table, logGroup } = ids();
    const refs: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::URLSuffix': 'amazonaws.com',
      [secret]: SECRET_ARN,
      ...(custom.alarms.ownTopic ? { [logicalId(custom.alarms.ownTopic)]: TOPIC_ARN } : {}),
    };
    const arns: Record<string, string> = {
      [secretKey]: KEY_ARN,
      [table]: TABLE_ARN,
      [logGroup]: `${LOG_GROUP}:*`,
      [logicalId(stack.scanner.role)]: scannerRoleArn(stack),
      [logicalId(stack.schedule.group)]: groupArn(stack),
      ...(custom.alarms.key ? { [logicalId(custom.alarms.key)]: TOPIC_KEY_ARN } : {}),
    };
    if (Array.isArray(value)) return value.map((v) => resolve(v, stack));
    if (value && typeof value === 'object') {
      const o = value as Json;
      if ('Ref' in o) return refs[o.Ref as string] ?? fail(`unresolved Ref ${String(o.Ref)}`);
      if ('Fn::GetAtt' in o) {
        const [id, attr] = o['Fn::GetAtt'] as [string, string];
        return (attr === 'Arn' && arns[id]) || fail(`unresolved GetAtt ${id}.${attr}`);
      }
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map((v) => resolve(v, stack)).join(sep);
      }
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, stack)]));
    }
    return value;
  }
  const fail = (message: string): never => {
    throw new Error(message);
  };

  interface Request {
    /** The stack whose scanner role asks. @default custom */
    readonly on?: CredwatchStack;
    readonly context?: Record<string, string>;
    /** The policy of the resource (a key policy, a role's trust policy). @default the key policy for kms: actions */
    readonly resourcePolicy?: unknown;
    /** @default ACCOUNT */
    readonly resourceAccount?: string;
  }

  /** The ARN of a stack's scanner role: its fixed name in a multi-account deployment. */
  const scannerRoleArn = (stack: CredwatchStack) =>
    `arn:aws:iam::${ACCOUNT}:role/${stack.config.accounts.source === 'self' ? `${stack.stackName}-ScannerRole` : stack.config.accounts.scannerRoleName}`;

  async function decide(action: string, resource: string, request: Request = {}) {
    const { on = custom, context = {}, resourceAccount = ACCOUNT } = request;
    const resources = templateOf(on).toJSON().Resources as Record<string, { Properties: Json }>;
    const role = resources[logicalId(on.scanner.role)]!.Properties;
    const policies = (role.Policies as { PolicyName: string; PolicyDocument: unknown }[]).map((p) => ({
      name: p.PolicyName,
      policy: resolve(p.PolicyDocument, on),
    }));
    const keyPolicy = resolve(resources[logicalId(on.webhookSecret.key!)]!.Properties.KeyPolicy, on);
    const resourcePolicy = request.resourcePolicy ?? (action.startsWith('kms:') ? keyPolicy : undefined);
    return simulate({
      principal: scannerRoleArn(on),
      action,
      resource,
      identityPolicies: policies,
      resourcePolicy,
      context,
      resourceAccount,
    });
  }

  /** One request of any principal, decided by IAM's rules on the given policies. */
  async function simulate(request: {
    principal: string;
    action: string;
    resource: string;
    identityPolicies?: { name: string; policy: unknown }[];
    resourcePolicy?: unknown;
    context?: Record<string, string>;
    resourceAccount?: string;
  }) {
    const result = await runSimulation(
      {
        identityPolicies: (request.identityPolicies ?? []) as never,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy as never } : {}),
        request: {
          action: request.action,
          principal: request.principal,
          resource: { resource: request.resource, accountId: request.resourceAccount ?? ACCOUNT },
          // What IAM puts in every request of an IAM principal: for a role session, the role's ARN
          // with its path (not the assumed-role session ARN).
          contextVariables: {
            ...(request.principal.startsWith('arn:') ? { 'aws:PrincipalArn': request.principal } : {}),
            ...request.context,
          },
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  }

  const VIA_SECRETS_MANAGER = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };

  it.each<[string, string, Record<string, string>]>([
    ['iam:GenerateCredentialReport', '*', {}],
    ['iam:GetCredentialReport', '*', {}],
    ['iam:GetAccountAuthorizationDetails', '*', {}],
    ['iam:ListAccountAliases', '*', {}],
    ['iam:ListAccessKeys', `arn:aws:iam::${ACCOUNT}:user/alice`, {}],
    ['iam:GetAccessKeyLastUsed', `arn:aws:iam::${ACCOUNT}:user/engineering/bob`, {}],
    ['secretsmanager:GetSecretValue', SECRET_ARN, {}],
    ['kms:Decrypt', KEY_ARN, VIA_SECRETS_MANAGER],
    ['dynamodb:PutItem', TABLE_ARN, {}],
    ['dynamodb:Query', TABLE_ARN, {}],
    ['events:PutEvents', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`, {}],
    ['logs:CreateLogStream', `${LOG_GROUP}:log-stream:2025/01/01/[$LATEST]abc`, {}],
    ['logs:PutLogEvents', `${LOG_GROUP}:log-stream:2025/01/01/[$LATEST]abc`, {}],
  ])('allows %s on %s', async (action, resource, context) => {
    await expect(decide(action, resource, { context })).resolves.toBe('Allowed');
  });

  it.each<[string, string, Record<string, string>]>([
    ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/alice`, {}],
    ['iam:UpdateAccessKey', `arn:aws:iam::${ACCOUNT}:user/alice`, {}],
    ['iam:DeleteAccessKey', `arn:aws:iam::${ACCOUNT}:user/alice`, {}],
    ['iam:DeleteUser', `arn:aws:iam::${ACCOUNT}:user/alice`, {}],
    ['iam:ListAccessKeys', `arn:aws:iam::210987654321:user/alice`, {}],
    ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`, {}],
    [
      'secretsmanager:GetSecretValue',
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-password-XyZ987`,
      {},
    ],
    ['secretsmanager:PutSecretValue', SECRET_ARN, {}],
    ['kms:Decrypt', KEY_ARN, {}],
    ['dynamodb:GetItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`, {}],
    ['dynamodb:PutItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`, {}],
    ['dynamodb:Scan', TABLE_ARN, {}],
    ['dynamodb:GetItem', TABLE_ARN, {}],
    ['dynamodb:DeleteItem', TABLE_ARN, {}],
    ['dynamodb:DeleteTable', TABLE_ARN, {}],
    ['events:PutEvents', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/payments`, {}],
    ['logs:PutLogEvents', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other:log-stream:x`, {}],
    ['cloudwatch:PutMetricData', '*', {}],
  ])('denies %s on %s', async (action, resource, context) => {
    await expect(decide(action, resource, { context })).resolves.toBe('ImplicitlyDenied');
  });

  const byName = () => ({ Custom: custom, Organization: organization, Listed: listed });
  type Multi = keyof ReturnType<typeof byName>;

  /** A role's trust policy that lets `principal` assume it. */
  const trusting = (principal: string) => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  });
  const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;
  const OU = 'arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdefgh34';

  /** The organization of a discovered account, as STS puts it in the request context. */
  const inOrganization = (id: string) => ({ 'aws:ResourceOrgID': id });

  it.each<[Multi, string, string, Record<string, string>]>([
    ['Organization', MEMBER_A, 'credwatch-member', inOrganization('o-a1b2c3d4e5')],
    ['Organization', '999999999999', 'credwatch-member', inOrganization('o-a1b2c3d4e5')],
    ['Listed', MEMBER_A, 'secops-credwatch-reader', {}],
    ['Listed', MEMBER_B, 'secops-credwatch-reader', {}],
  ])(
    'lets the %s scanner assume the member role in %s (%s), which trusts it',
    async (scanner, account, name, context) => {
      const stack = byName()[scanner];
      await expect(
        decide('sts:AssumeRole', role(account, name), {
          on: stack,
          resourceAccount: account,
          resourcePolicy: trusting(scannerRoleArn(stack)),
          context,
        }),
      ).resolves.toBe('Allowed');
    },
  );

  it.each<[string, Record<string, string>]>([
    ['an account of another organization', inOrganization('o-zzzzzzzzzz')],
    ['an account in no organization', {}],
  ])('denies the Organization scanner the member role, by name, in %s', async (_what, context) => {
    await expect(
      decide('sts:AssumeRole', role('999999999999', 'credwatch-member'), {
        on: organization,
        resourceAccount: '999999999999',
        resourcePolicy: trusting(scannerRoleArn(organization)),
        context,
      }),
    ).resolves.toBe('ImplicitlyDenied');
  });

  it.each<[Multi, string, string]>([
    ['Organization', 'iam:GenerateCredentialReport', '*'],
    ['Organization', 'iam:GetAccountAuthorizationDetails', '*'],
    ['Organization', 'iam:ListAccessKeys', `arn:aws:iam::${ACCOUNT}:user/alice`],
    ['Listed', 'iam:GetCredentialReport', '*'],
    ['Listed', 'iam:GetAccessKeyLastUsed', `arn:aws:iam::${ACCOUNT}:user/alice`],
  ])(
    'denies the %s scanner %s on %s in its own account: it reads every account through a member role',
    async (scanner, action, resource) => {
      await expect(decide(action, resource, { on: byName()[scanner] })).resolves.toBe('ImplicitlyDenied');
    },
  );

  describe("the webhook secret's resource policy", () => {
    const secretPolicy = (stack: CredwatchStack) =>
      resolve(
        (
          Object.values(templateOf(stack).findResources('AWS::SecretsManager::ResourcePolicy'))[0] as {
            Properties: { ResourcePolicy: unknown };
          }
        ).Properties.ResourcePolicy,
        stack,
      );
    /** What an account administrator's identity policy allows. */
    const ADMINISTRATOR = [
      {
        name: 'AdministratorAccess',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      },
    ];
    const read = (stack: CredwatchStack, principal: string) =>
      simulate({
        principal,
        action: 'secretsmanager:GetSecretValue',
        resource: SECRET_ARN,
        identityPolicies: ADMINISTRATOR,
        resourcePolicy: secretPolicy(stack),
      });

    it('still lets the scanner role read the secret (with its own identity policy)', async () => {
      for (const stack of [custom, organization, listed]) {
        await expect(
          decide('secretsmanager:GetSecretValue', SECRET_ARN, {
            on: stack,
            resourcePolicy: secretPolicy(stack),
          }),
        ).resolves.toBe('Allowed');
      }
    });

    it.each<[string, Multi, string, 'Allowed' | 'ExplicitlyDenied']>([
      ['an account administrator', 'Custom', `arn:aws:iam::${ACCOUNT}:role/Admin`, 'ExplicitlyDenied'],
      ['the account root user', 'Custom', `arn:aws:iam::${ACCOUNT}:root`, 'ExplicitlyDenied'],
      // The same role name under another path is another role.
      [
        'a role named like the scanner under another path',
        'Custom',
        `arn:aws:iam::${ACCOUNT}:role/ops/Custom-ScannerRole`,
        'ExplicitlyDenied',
      ],
      ['an admin role of another stack', 'Custom', ADMIN_ROLE, 'ExplicitlyDenied'],
      ['a configured admin role', 'Organization', ADMIN_ROLE, 'Allowed'],
      ['a configured admin role with a path (SSO)', 'Organization', SSO_ADMIN_ROLE, 'Allowed'],
      ['another administrator', 'Organization', `arn:aws:iam::${ACCOUNT}:role/Admin`, 'ExplicitlyDenied'],
    ])("%s reading the %s stack's secret (%s): %s", async (_who, stack, principal, expected) => {
      await expect(read(byName()[stack], principal)).resolves.toBe(expected);
    });

    it('lets an administrator still put a new webhook (only reading is denied)', async () => {
      await expect(
        simulate({
          principal: `arn:aws:iam::${ACCOUNT}:role/Admin`,
          action: 'secretsmanager:PutSecretValue',
          resource: SECRET_ARN,
          identityPolicies: ADMINISTRATOR,
          resourcePolicy: secretPolicy(custom),
        }),
      ).resolves.toBe('Allowed');
    });
  });

  describe('confused deputy: what AWS services may do on behalf of others', () => {
    const trustOf = (stack: CredwatchStack) =>
      resolve(
        (templateOf(stack).toJSON().Resources[logicalId(stack.schedule.role)] as { Properties: Json })
          .Properties.AssumeRolePolicyDocument,
        stack,
      );
    const scheduleRole = `arn:aws:iam::${ACCOUNT}:role/Custom-ScheduleRole`;

    it.each<[string, Record<string, string>, 'Allowed' | 'ImplicitlyDenied']>([
      ['for its own schedule group', {}, 'Allowed'],
      [
        'for the default schedule group',
        { 'aws:SourceArn': `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default` },
        'ImplicitlyDenied',
      ],
      ['for another account', { 'aws:SourceAccount': '999999999999' }, 'ImplicitlyDenied'],
    ])('lets Scheduler assume the schedule role %s: %s', async (_what, override, expected) => {
      await expect(
        simulate({
          principal: 'scheduler.amazonaws.com',
          action: 'sts:AssumeRole',
          resource: scheduleRole,
          resourcePolicy: trustOf(custom),
          context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': groupArn(custom), ...override },
        }),
      ).resolves.toBe(expected);
    });

    const ownAlarm = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:Custom-AlarmsErrors`;
    it.each<[string, string, Record<string, string>, 'Allowed' | 'ImplicitlyDenied']>([
      [
        'an alarm of this account',
        'kms:GenerateDataKey',
        { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': ownAlarm },
        'Allowed',
      ],
      [
        'an alarm of this account',
        'kms:Decrypt',
        { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': ownAlarm },
        'Allowed',
      ],
      [
        'an alarm of another account',
        'kms:GenerateDataKey',
        {
          'aws:SourceAccount': '999999999999',
          'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:999999999999:alarm:x`,
        },
        'ImplicitlyDenied',
      ],
      ['no alarm at all', 'kms:GenerateDataKey', {}, 'ImplicitlyDenied'],
    ])(
      'lets CloudWatch use the alarm topic key for %s (%s): %s',
      async (_what, action, context, expected) => {
        const keyPolicy = resolve(
          (template.toJSON().Resources[logicalId(custom.alarms.key!)] as { Properties: Json }).Properties
            .KeyPolicy,
        );
        await expect(
          simulate({
            principal: 'cloudwatch.amazonaws.com',
            action,
            resource: TOPIC_KEY_ARN,
            resourcePolicy: keyPolicy,
            context,
          }),
        ).resolves.toBe(expected);
      },
    );
  });

  // Each of these roles trusts the scanner's account (as OrganizationAccountAccessRole trusts the
  // management account): only the scanner's own policy can keep it out.
  it.each<[Multi, string, string]>([
    ['Organization', MEMBER_A, 'OrganizationAccountAccessRole'],
    ['Organization', MEMBER_A, 'credwatch-member-admin'],
    ['Listed', MEMBER_A, 'OrganizationAccountAccessRole'],
    ['Listed', MEMBER_A, 'credwatch-member'],
    ['Listed', MEMBER_C, 'secops-credwatch-reader'],
    ['Listed', '999999999999', 'secops-credwatch-reader'],
    ['Custom', MEMBER_A, 'credwatch-member'],
  ])('denies the %s scanner assuming a role in %s named %s', async (scanner, account, name) => {
    await expect(
      decide('sts:AssumeRole', role(account, name), {
        on: byName()[scanner],
        resourceAccount: account,
        resourcePolicy: trusting(`arn:aws:iam::${ACCOUNT}:root`),
      }),
    ).resolves.toBe('ImplicitlyDenied');
  });

  it.each<[Multi, string, string, 'Allowed' | 'ImplicitlyDenied']>([
    ['Organization', 'organizations:ListAccounts', '*', 'Allowed'],
    ['Organization', 'organizations:ListAccountsForParent', OU, 'Allowed'],
    ['Organization', 'organizations:ListOrganizationalUnitsForParent', OU, 'Allowed'],
    ['Organization', 'organizations:DescribeOrganization', '*', 'ImplicitlyDenied'],
    ['Organization', 'organizations:CreateAccount', '*', 'ImplicitlyDenied'],
    ['Organization', 'organizations:MoveAccount', OU, 'ImplicitlyDenied'],
    ['Listed', 'organizations:ListAccounts', '*', 'ImplicitlyDenied'],
    ['Custom', 'organizations:ListAccounts', '*', 'ImplicitlyDenied'],
  ])('gives the %s scanner %s on %s: %s', async (scanner, action, resource, expected) => {
    await expect(decide(action, resource, { on: byName()[scanner] })).resolves.toBe(expected);
  });
});

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

describe('validation', () => {
  it('rejects an invalid configuration before building anything, naming the stack', () => {
    const app = new App();
    const error = thrown(
      () => new CredwatchStack(app, 'Bad', { config: { memoryMb: 64 } as unknown as CredwatchConfig }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Bad props.config: memoryMb: expected a whole number from 128 to 10240, got 64',
    );
    expect(app.node.findChild('Bad').node.children).toEqual([]);
  });

  it('rejects a deployment whose alarms would notify no one, naming where to set it', () => {
    const config = loadConfig({}, 'test');
    const app = new App({ context: { [BUNDLING_STACKS]: [] } });
    const error = thrown(() => new CredwatchStack(app, 'Silent', { config }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`Silent props.config: alarmEmails: ${NOTIFY_NO_ONE}`);
    expect(error.message).not.toContain('\n');
    const named = thrown(
      () => new CredwatchStack(app, 'Named', { config, configSource: () => 'credwatch.config.json' }),
    );
    expect(named.message).toBe(
      'credwatch.config.json: alarmEmails: the alarms would notify no one: set alarmEmails (e.g. ["secops@example.com"]) or alarmTopicArn, or turn alarms off with "alarms": "none" (not recommended: a failing scanner then goes unnoticed)',
    );
  });

  it('rejects an alarm topic in another region than a region-bound stack', () => {
    const app = new App({ context: { [BUNDLING_STACKS]: [] } });
    const config = loadConfig({ alarmTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:ops` }, 'test');
    const error = thrown(
      () => new CredwatchStack(app, 'Elsewhere', { config, env: { account: ACCOUNT, region: REGION } }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      "Elsewhere props.config: alarmTopicArn: expected a topic in the deployment's region eu-west-1, got one in us-east-1",
    );
  });

  const table = () => {
    const stack = new Stack(new App(), 'S');
    return { stack, table: dynamodb.Table.fromTableName(stack, 'T', 'state') };
  };
  const secretRef = { secretArn: 'arn', policyResourceArn: 'arn' };

  it.each<[string, () => unknown, string]>([
    [
      'a scanner whose report deadline leaves no margin',
      () => {
        const { stack, table: t } = table();
        return new ScannerFunction(stack, 'F', {
          thresholds: customConfig.thresholds,
          stateTable: t,
          webhookSecret: secretRef,
          schedulePeriodMinutes: 10,
          timeoutSeconds: 60,
          reportDeadlineSeconds: 30,
        });
      },
      'ScannerFunction: reportDeadlineSeconds must be less than timeoutSeconds - 30 (30), got 30',
    ],
    [
      'a scanner with a retention CloudWatch does not offer',
      () => {
        const { stack, table: t } = table();
        return new ScannerFunction(stack, 'F', {
          thresholds: customConfig.thresholds,
          stateTable: t,
          webhookSecret: secretRef,
          schedulePeriodMinutes: 10,
          logRetentionDays: 100,
        });
      },
      'ScannerFunction: logRetentionDays must be a CloudWatch Logs retention value, got 100',
    ],
    [
      'a scanner whose timeout is not shorter than the schedule period',
      () => {
        const { stack, table: t } = table();
        return new ScannerFunction(stack, 'F', {
          thresholds: customConfig.thresholds,
          stateTable: t,
          webhookSecret: secretRef,
          schedulePeriodMinutes: 5,
        });
      },
      'ScannerFunction: timeoutSeconds (300) must be shorter than one schedule period (300 seconds)',
    ],
    [
      'alarms that notify a topic and e-mail addresses',
      () => {
        const stack = new Stack(new App(), 'S');
        const fn = lambda.Function.fromFunctionArn(
          stack,
          'F',
          `arn:aws:lambda:${REGION}:${ACCOUNT}:function:f`,
        );
        return new ScannerAlarms(stack, 'A', {
          function: fn,
          timeout: Duration.minutes(5),
          heartbeatMinutes: 10,
          deadLetterQueue: new sqs.Queue(stack, 'Q'),
          alarmEmails: ['ops@example.com'],
          alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ops`,
        });
      },
      'ScannerAlarms: alarmEmails: not allowed together with alarmTopicArn (subscribe the addresses to that topic)',
    ],
    [
      'a schedule that is not an expression',
      () => {
        const stack = new Stack(new App(), 'S');
        const fn = lambda.Function.fromFunctionArn(
          stack,
          'F',
          `arn:aws:lambda:${REGION}:${ACCOUNT}:function:f`,
        );
        return new ScannerSchedule(stack, 'S', { target: fn, expression: 'hourly' });
      },
      'ScannerSchedule: expression: expected rate(N minutes|hours|days) or cron(...), got "hourly"',
    ],
    [
      'alarms with a heartbeat CloudWatch cannot watch',
      () => {
        const stack = new Stack(new App(), 'S');
        const fn = lambda.Function.fromFunctionArn(
          stack,
          'F',
          `arn:aws:lambda:${REGION}:${ACCOUNT}:function:f`,
        );
        return new ScannerAlarms(stack, 'A', {
          function: fn,
          timeout: Duration.minutes(5),
          heartbeatMinutes: 5000,
          deadLetterQueue: new sqs.Queue(stack, 'Q'),
        });
      },
      'ScannerAlarms: heartbeatMinutes: expected a whole number from 1 to 3360, got 5000',
    ],
  ])('rejects %s with an exact message', (_what, build, message) => {
    const error = thrown(build);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(message);
  });

  /** A scanner for `n` listed accounts, in an app that does not bundle. */
  const listedScanner = (n: number) => {
    const stack = new Stack(new App({ context: { [BUNDLING_STACKS]: [] } }), 'S');
    const ids = Array.from({ length: n }, (_, i) => String(100_000_000_000 + i));
    const accounts = loadConfig({ accounts: { source: 'list', ids } }, 'test').accounts;
    const build = () =>
      new ScannerFunction(stack, 'F', {
        thresholds: customConfig.thresholds,
        schedulePeriodMinutes: 10,
        stateTable: dynamodb.Table.fromTableName(stack, 'T', 'state'),
        webhookSecret: {
          secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch-AbC123`,
          policyResourceArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch-AbC123`,
        },
        accounts,
      });
    return { accounts, build };
  };

  it('rejects more listed accounts than the 4 KB of Lambda environment can carry, saying how large it is', () => {
    const { accounts, build } = listedScanner(300);
    const error = thrown(build);
    expect(error).toBeInstanceOf(ConfigError);
    const m =
      /^ScannerFunction: the environment would take up to (\d+) bytes, more than Lambda's 4096 \(CREDWATCH_ACCOUNTS: (\d+)\); list fewer accounts or per-account thresholds$/.exec(
        error.message,
      );
    expect(m?.[0]).toBe(error.message);
    expect(Number(m?.[1])).toBeGreaterThan(4096);
    expect(Number(m?.[2])).toBe(Buffer.byteLength(accountsEnvironment(accounts)!));
  });

  it('accepts 150 listed accounts', () => {
    const { build } = listedScanner(150);
    expect(build().statements.find((st) => st.sid === 'AssumeMemberRoles')?.resources).toHaveLength(150);
  });
});
