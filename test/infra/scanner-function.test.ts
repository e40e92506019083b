/**
 * The scanner function (lib/constructs/scanner-function.ts) as synthesized in the stack: its role and
 * what it grants in one and in many accounts, its runtime, environment, logs and bundle.
 *
 * Synthesizes the single-account stacks and the multi-account stacks once for this file (test/infra/support.ts).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_THRESHOLDS } from '../../lambda/core/policy';
import { decodeSettings, type ScannerSettings } from '../../lambda/settings';
import { loadConfig, schedulePeriodMinutes } from '../../lib/config';
import { CredwatchStack } from '../../lib/credwatch-stack';
import {
  ACCOUNT_ID,
  arnOf,
  BUNDLING_STACKS,
  customConfig,
  grantsOf,
  IMPORTED_KEY,
  type Json,
  join,
  logicalId,
  MEMBER_A,
  MEMBER_B,
  MEMBER_C,
  multiAccountStacks,
  PARTITION,
  REGION_REF,
  ref,
  scannerGrants,
  singleAccountStacks,
  sortGrants,
} from './support';

let custom: CredwatchStack;
let imported: CredwatchStack;
let template: Template;
let importedTemplate: Template;
let organization: CredwatchStack;
let listed: CredwatchStack;
let organizationTemplate: Template;
let listedTemplate: Template;

beforeAll(() => {
  ({ custom, imported, template, importedTemplate } = singleAccountStacks({ bundle: true }));
  ({ organization, listed, organizationTemplate, listedTemplate } = multiAccountStacks());
}, 180_000);

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
    arn: ref(stack.webhookSecret.created!),
    key: arnOf(stack.webhookSecret.createdKey!),
  });
  const memberRole = (account: unknown, name: string) =>
    account === '*'
      ? join('arn:', PARTITION, `:iam::*:role/${name}`)
      : join('arn:', PARTITION, `:iam::${account as string}:role/${name}`);

  it('lets the scanner assume the member role in any account of its organization and list the accounts below its OUs', () => {
    expect(grantsOf(organizationTemplate, organization.scanner.role)).toEqual(
      sortGrants([
        ...scannerGrants(organization, createdSecret(organization)),
        {
          action: 'sts:AssumeRole',
          resource: memberRole('*', 'credwatch-member'),
          condition: { StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } },
        },
        // Below its organizationalUnits: the walk, never ListAccounts (test/infra/least-privilege.test.ts).
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
      CREDWATCH_SLACK_SECRET_ARN: ref(custom.webhookSecret.created!),
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

describe('the settings in the template', () => {
  /** A template value as text: a reference as `{LogicalId}` (or `{AWS::Region}`), a join joined. */
  const text = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const o = value as Json;
    if (typeof o.Ref === 'string') return `{${o.Ref}}`;
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(text).join(sep);
  };
  const environmentOf = (t: Template): Record<string, string> => {
    const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Json } };
    };
    return Object.fromEntries(
      Object.entries(fn.Properties.Environment.Variables).map(([k, v]) => [k, text(v)]),
    );
  };
  const IMPORTED_SECRET =
    'arn:{AWS::Partition}:secretsmanager:{AWS::Region}:{AWS::AccountId}:secret:credwatch/slack-webhook';

  /** The settings a stack's configuration asks for, worked out from the configuration alone. */
  const settingsOf = (
    stack: CredwatchStack,
    slackSecretArn: string,
    accounts?: ScannerSettings['accounts'],
  ): ScannerSettings => ({
    thresholds: stack.config.thresholds,
    reportDeadlineMs: stack.config.reportDeadlineSeconds * 1000,
    reminderIntervalMs: stack.config.reminderHours * 3_600_000,
    notifications: stack.config.notifications,
    slackSecretArn,
    stateTable: `{${logicalId(stack.stateTable.table)}}`,
    eventBusName: 'default',
    schedulePeriodMs: schedulePeriodMinutes(stack.config) * 60_000,
    userDirectory: stack.config.userDirectory,
    ...(accounts ? { accounts } : {}),
    securityHub: stack.config.securityHub,
  });

  it.each<[string, () => [Template, CredwatchStack], () => ScannerSettings]>([
    [
      'Custom (created secret, cron schedule, custom sizes)',
      () => [template, custom],
      () => settingsOf(custom, `{${logicalId(custom.webhookSecret.created!)}}`),
    ],
    [
      'Imported (secret by name, rate schedule)',
      () => [importedTemplate, imported],
      () => settingsOf(imported, IMPORTED_SECRET),
    ],
    [
      'Organization',
      () => [organizationTemplate, organization],
      () =>
        settingsOf(organization, `{${logicalId(organization.webhookSecret.created!)}}`, {
          source: 'organization',
          organizationalUnits: ['ou-ab12-cdefgh34', 'r-ab12'],
          exclude: [MEMBER_C],
          memberRoleName: 'credwatch-member',
          externalId: 'credwatch-7f3a',
          concurrency: 4,
          thresholds: { [MEMBER_A]: { ...DEFAULT_THRESHOLDS, rootAccessKey: 'warning' } },
        }),
    ],
    [
      'Listed',
      () => [listedTemplate, listed],
      () =>
        settingsOf(listed, `{${logicalId(listed.webhookSecret.created!)}}`, {
          source: 'list',
          ids: [MEMBER_A, MEMBER_B, MEMBER_C],
          exclude: [MEMBER_C],
          memberRoleName: 'secops-credwatch-reader',
          concurrency: 8,
        }),
    ],
  ])(
    '%s: the synthesized environment decodes to the settings the stack was given',
    (_name, get, expected) => {
      const [t, stack] = get();
      const decoded = decodeSettings(environmentOf(t));
      expect(decoded).toEqual(expected());
      // The construct says what it gave the function: the same value, its tokens resolved.
      const given = stack.resolve(stack.scanner.settings) as Json;
      expect(decoded).toEqual({
        ...given,
        slackSecretArn: text(given.slackSecretArn),
        stateTable: text(given.stateTable),
      });
    },
  );
});
