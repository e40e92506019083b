/**
 * Least privilege, simulated: the synthesized identity and resource policies of the stack, decided
 * by IAM's rules (@cloud-copilot/iam-simulate) for the requests the scanner makes and for others.
 *
 * Synthesizes the single-account stacks and the multi-account stacks once for this file (test/infra/support.ts).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DEFAULT_NOTIFICATION_POLICY } from '../../lambda/core/notification-plan';
import type { AccountsConfig } from '../../lib/config';
import {
  type AccountPlacementNeeds,
  discoveryActions,
  ScannerFunction,
} from '../../lib/constructs/scanner-function';
import type { CredwatchStack } from '../../lib/credwatch-stack';
import {
  ACCOUNT,
  ADMIN_ROLE,
  BUNDLING_STACKS,
  cdkJson,
  customConfig,
  decideForScanner,
  type Json,
  listedConfig,
  logicalId,
  MEMBER_A,
  MEMBER_B,
  MEMBER_C,
  multiAccountStacks,
  organizationConfig,
  REGION,
  SSO_ADMIN_ROLE,
  singleAccountStacks,
} from './support';

let custom: CredwatchStack;
let template: Template;
let organization: CredwatchStack;
let listed: CredwatchStack;
let organizationTemplate: Template;
let listedTemplate: Template;

beforeAll(() => {
  ({ custom, template } = singleAccountStacks());
  ({ organization, listed, organizationTemplate, listedTemplate } = multiAccountStacks());
}, 180_000);

describe('least privilege, simulated on the synthesized policy', () => {
  const ids = () => ({
    secret: logicalId(custom.webhookSecret.created!),
    secretKey: logicalId(custom.webhookSecret.createdKey!),
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
    const keyPolicy = resolve(resources[logicalId(on.webhookSecret.createdKey!)]!.Properties.KeyPolicy, on);
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
    ['iam:ListVirtualMFADevices', '*', {}],
    ['iam:ListAccessKeys', `arn:aws:iam::${ACCOUNT}:user/alice`, {}],
    ['iam:GetAccessKeyLastUsed', `arn:aws:iam::${ACCOUNT}:user/engineering/bob`, {}],
    ['secretsmanager:GetSecretValue', SECRET_ARN, {}],
    ['kms:Decrypt', KEY_ARN, VIA_SECRETS_MANAGER],
    ['dynamodb:PutItem', TABLE_ARN, {}],
    ['dynamodb:Query', TABLE_ARN, {}],
    // A finding's state of a channel moved to its own key (relocate).
    ['dynamodb:DeleteItem', TABLE_ARN, {}],
    // The event outbox, 25 entries a request: added with the states, removed once published.
    ['dynamodb:BatchWriteItem', TABLE_ARN, { 'dynamodb:LeadingKeys': 'outbox' }],
    // The Slack app mode reads back the record of a posted message, and only that.
    ['dynamodb:GetItem', TABLE_ARN, { 'dynamodb:LeadingKeys': 'thread#C0123456789' }],
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
    ['dynamodb:GetItem', TABLE_ARN, { 'dynamodb:LeadingKeys': 'account#123456789012' }],
    ['dynamodb:GetItem', TABLE_ARN, { 'dynamodb:LeadingKeys': 'run#lease' }],
    ['dynamodb:UpdateItem', TABLE_ARN, {}],
    // A batch never writes a finding's state (its PutItem is conditional), nor anything but the outbox.
    ['dynamodb:BatchWriteItem', TABLE_ARN, { 'dynamodb:LeadingKeys': 'account#123456789012' }],
    ['dynamodb:BatchWriteItem', TABLE_ARN, { 'dynamodb:LeadingKeys': 'run#lease' }],
    ['dynamodb:BatchWriteItem', TABLE_ARN, {}],
    [
      'dynamodb:BatchWriteItem',
      `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`,
      { 'dynamodb:LeadingKeys': 'outbox' },
    ],
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
    // Its accounts are under given OUs: it walks them and never lists the whole organization.
    ['Organization', 'organizations:ListAccounts', '*', 'ImplicitlyDenied'],
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

/**
 * Routes by OU or account tag (docs/alerts.md, "Routing"): the scanner reads each account's
 * placement from Organizations (lambda/adapters/organizations.ts, `placement`), and its role gets
 * exactly the actions that takes, only when routes need them (ScannerFunction, from `notifications.routes`).
 * Proven on the policy of a scanner built on its own, for each source and need.
 */
describe("least privilege: reading the accounts' placement for routing", () => {
  const NONE: AccountPlacementNeeds = { organizationalUnits: false, tags: false };
  const OUS: AccountPlacementNeeds = { organizationalUnits: true, tags: false };
  const TAGS: AccountPlacementNeeds = { organizationalUnits: false, tags: true };
  const BOTH: AccountPlacementNeeds = { organizationalUnits: true, tags: true };
  const ORG_ARN = (kind: string, id: string) =>
    `arn:aws:organizations::999999999999:${kind}/o-a1b2c3d4e5/${id}`;
  const ACCOUNT_ARN = ORG_ARN('account', MEMBER_A);
  const OU_ARN = ORG_ARN('ou', 'ou-ab12-cdefgh34');

  const sources = {
    /** Discovery under an OU and a root (test/infra/support.ts organizationConfig). */
    OrganizationOus: organizationConfig.accounts,
    /** Discovery of the whole organization. */
    Organization: { ...organizationConfig.accounts, organizationalUnits: undefined } as AccountsConfig,
    Listed: listedConfig.accounts,
    Self: customConfig.accounts,
  };
  type Source = keyof typeof sources;

  /** A scanner in a stack of its own (not bundled), and its role's only policy, with every intrinsic made a literal. */
  const build = (source: Source, accountPlacement: AccountPlacementNeeds) => {
    const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
    const stack = new Stack(app, 'Placement', { env: { account: ACCOUNT, region: REGION } });
    const scanner = new ScannerFunction(stack, 'Scanner', {
      thresholds: customConfig.thresholds,
      stateTable: dynamodb.Table.fromTableName(stack, 'T', 'state'),
      webhookSecret: secretsmanager.Secret.fromSecretCompleteArn(
        stack,
        'W',
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch-AbC123`,
      ),
      schedulePeriod: Duration.minutes(10),
      accounts: sources[source],
      notifications: {
        ...DEFAULT_NOTIFICATION_POLICY,
        routes: [
          ...(accountPlacement.organizationalUnits
            ? [{ channel: 'platform', organizationalUnits: ['ou-ab12-cdefgh34'] }]
            : []),
          ...(accountPlacement.tags ? [{ channel: 'prod', accountTags: { env: ['prod'] } }] : []),
        ],
      },
    });
    const role = Template.fromStack(stack).toJSON().Resources[logicalId(scanner.role)] as {
      Properties: { Policies: { PolicyDocument: unknown }[] };
    };
    return { stack, policy: literal(role.Properties.Policies[0]!.PolicyDocument) };
  };
  const literal = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(literal);
    if (!value || typeof value !== 'object') return value;
    const o = value as Json;
    if ('Ref' in o) return o.Ref === 'AWS::Partition' ? 'aws' : `arn:aws:unresolved:::${String(o.Ref)}`;
    if ('Fn::GetAtt' in o) return `arn:aws:unresolved:::${(o['Fn::GetAtt'] as string[]).join('.')}`;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(literal).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, literal(v)]));
  };

  const REQUESTS: [string, string][] = [
    ['organizations:ListAccounts', '*'],
    ['organizations:ListAccountsForParent', OU_ARN],
    ['organizations:ListOrganizationalUnitsForParent', OU_ARN],
    ['organizations:ListRoots', '*'],
    ['organizations:ListParents', ACCOUNT_ARN],
    ['organizations:ListParents', OU_ARN],
    ['organizations:ListTagsForResource', ACCOUNT_ARN],
    ['organizations:DescribeOrganization', '*'],
    ['organizations:DescribeAccount', ACCOUNT_ARN],
    ['organizations:ListChildren', OU_ARN],
    ['organizations:TagResource', ACCOUNT_ARN],
    ['organizations:UntagResource', ACCOUNT_ARN],
  ];
  const WALK = ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'];

  it.each<[Source, AccountPlacementNeeds, string[]]>([
    ['OrganizationOus', NONE, WALK],
    ['OrganizationOus', OUS, [...WALK, 'organizations:ListParents']],
    ['OrganizationOus', TAGS, [...WALK, 'organizations:ListTagsForResource']],
    ['OrganizationOus', BOTH, [...WALK, 'organizations:ListParents', 'organizations:ListTagsForResource']],
    ['Organization', NONE, ['organizations:ListAccounts']],
    ['Organization', OUS, [...WALK, 'organizations:ListRoots']],
    ['Organization', TAGS, ['organizations:ListAccounts', 'organizations:ListTagsForResource']],
    ['Organization', BOTH, [...WALK, 'organizations:ListRoots', 'organizations:ListTagsForResource']],
    ['Listed', NONE, []],
    ['Self', NONE, []],
  ])('%s scanner, placement %j: may call exactly %j of Organizations', async (source, placement, allowed) => {
    const { policy } = build(source, placement);
    const decisions = await Promise.all(
      REQUESTS.map(async ([action, resource]) => [action, await decideForScanner(policy, action, resource)]),
    );
    expect([...new Set(decisions.filter(([, d]) => d === 'Allowed').map(([a]) => a))].sort()).toEqual(
      [...allowed].sort(),
    );
    for (const [action, decision] of decisions) {
      expect([action, decision]).toEqual([
        action,
        allowed.includes(action!) ? 'Allowed' : 'ImplicitlyDenied',
      ]);
    }
    expect(discoveryActions(sources[source], placement)).toEqual(
      source === 'Self' ? [] : [...allowed].sort(),
    );
  });

  /** The packs' findings on the scanner's stack, acknowledgements ignored (as test/infra/stack.test.ts does). */
  const findings = (stack: Stack) =>
    [
      ...new Set(
        [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) => {
          (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
          return pack.validateScope(stack).violations.map((v) => v.ruleName);
        }),
      ),
    ].sort();

  it.each<Source>(['OrganizationOus', 'Organization'])(
    'cdk-nag: placement adds no finding to the %s scanner (the stack acknowledges the same ids)',
    (source) => {
      const without = findings(build(source, NONE).stack);
      expect(without).toContain('AwsSolutions-IAM5[Resource::*]');
      expect(findings(build(source, BOTH).stack)).toEqual(without);
    },
  );

  it.each<[Source, AccountPlacementNeeds]>([
    ['Listed', OUS],
    ['Listed', TAGS],
    ['Self', BOTH],
  ])(
    'refuses routes by OU or account tag for a %s scanner (%j): nothing can read them',
    (source, placement) => {
      expect(() => build(source, placement)).toThrow(
        /^ScannerFunction: notifications\.routes\[0\]\.(organizationalUnits|accountTags): routes by \w+ need accounts\.source "organization"/,
      );
    },
  );
});
