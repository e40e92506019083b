/**
 * The member-account role template (lib/member-role-stack.ts): its parameters, trust policy and
 * permissions, what CloudFormation makes of them for each choice of parameters, and the committed
 * copy in templates/.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import fc from 'fast-check';
import { USER_DIRECTORY_MODES } from '../../lambda/adapters/iam';
import { ConfigError } from '../../lambda/core/errors';
import { MemberRole } from '../../lib/constructs/member-role';
import { credentialReadStatements } from '../../lib/constructs/scanner-function';
import {
  CredwatchMemberRoleStack,
  MEMBER_ROLE_STACK_NAME,
  MEMBER_ROLE_TEMPLATE_FILE,
  memberRoleTemplate,
} from '../../lib/member-role-stack';

type Json = Record<string, unknown>;

const ROOT = path.join(__dirname, '../..');
const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Json };
// Biome formats JSON (npm run lint), so the committed file is compared as JSON, not as text.
const REGENERATE = `npx tsx lib/member-role-stack.ts > ${MEMBER_ROLE_TEMPLATE_FILE} && npx biome format --write ${MEMBER_ROLE_TEMPLATE_FILE}`;

const MEMBER = '210987654321';
const SCANNER_ACCOUNT = '123456789012';
const SCANNER_ROLE = `arn:aws:iam::${SCANNER_ACCOUNT}:role/credwatch-scanner`;
const ORG = 'o-a1b2c3d4e5';

let stack: CredwatchMemberRoleStack;
let template: Json;

beforeAll(() => {
  // As `cdk synth` builds it: with the feature flags of cdk.json.
  const app = new App({ context: cdkJson.context });
  stack = new CredwatchMemberRoleStack(app, MEMBER_ROLE_STACK_NAME);
  template = Template.fromStack(stack).toJSON();
});

/** The role resource of a template. */
const roleOf = (t: Json) => (t.Resources as Record<string, { Type: string; Properties: Json }>).MemberRole!;

type Parameters = Partial<
  Record<'ScannerRoleArn' | 'ExternalId' | 'OrganizationId' | 'RoleName' | 'UserDirectory', string>
>;

/**
 * What CloudFormation makes of a template fragment for the given parameters: Ref, Fn::Join,
 * Fn::GetAtt (as a marker), Fn::If over the template's Conditions (Fn::Equals, Fn::Not, Fn::Or), and
 * AWS::NoValue removing the key or item it stands for.
 */
function deploy(value: unknown, given: Parameters): unknown {
  const declared = template.Parameters as Record<string, { Default?: string }>;
  const params: Record<string, string | undefined> = {
    ...Object.fromEntries(Object.entries(declared).map(([k, p]) => [k, p.Default])),
    ...given,
  };
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::AccountId': MEMBER };
  const NO_VALUE = Symbol('AWS::NoValue');
  const conditions = template.Conditions as Json;

  const condition = (expr: unknown): boolean => {
    const o = expr as Json;
    if ('Condition' in o) return condition(conditions[o.Condition as string]);
    if ('Fn::Not' in o) return !condition((o['Fn::Not'] as unknown[])[0]);
    if ('Fn::Or' in o) return (o['Fn::Or'] as unknown[]).some(condition);
    if ('Fn::Equals' in o) {
      const [a, b] = (o['Fn::Equals'] as unknown[]).map(walk);
      return a === b;
    }
    throw new Error(`unsupported condition ${JSON.stringify(o)}`);
  };
  function walk(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    if ('Ref' in o) {
      const name = o.Ref as string;
      if (name === 'AWS::NoValue') return NO_VALUE;
      const resolved = pseudo[name] ?? params[name];
      if (resolved === undefined) throw new Error(`no value for Ref ${name}`);
      return resolved;
    }
    if ('Fn::If' in o) {
      const [name, yes, no] = o['Fn::If'] as [string, unknown, unknown];
      return walk(condition(conditions[name]) ? yes : no);
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(walk).join(sep);
    }
    return Object.fromEntries(
      Object.entries(o)
        .map(([k, x]) => [k, walk(x)] as const)
        .filter(([, x]) => x !== NO_VALUE),
    );
  }
  return walk(value);
}

const trustPolicy = (given: Parameters) =>
  deploy(roleOf(template).Properties.AssumeRolePolicyDocument, given) as {
    Statement: Json[];
  };
const permissions = (given: Parameters = {}) =>
  (roleOf(template).Properties.Policies as { PolicyDocument: unknown }[]).map((p) =>
    deploy(p.PolicyDocument, { ScannerRoleArn: SCANNER_ROLE, ...given }),
  );

const readReportLiteral = {
  Sid: 'ReadCredentialReport',
  Effect: 'Allow',
  Action: ['iam:GenerateCredentialReport', 'iam:GetCredentialReport', 'iam:ListAccountAliases'],
  Resource: '*',
};
const readUsersLiteral = (action: string) => ({
  Sid: 'ReadUsers',
  Effect: 'Allow',
  Action: action,
  Resource: '*',
});
const readRootMfaTypeLiteral = {
  Sid: 'ReadRootMfaType',
  Effect: 'Allow',
  Action: 'iam:ListVirtualMFADevices',
  Resource: '*',
};
const readAccessKeysLiteral = {
  Sid: 'ReadAccessKeys',
  Effect: 'Allow',
  Action: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'],
  Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${MEMBER}:user/*`]] },
};
const readUserTagsLiteral = { ...readAccessKeysLiteral, Sid: 'ReadUserTags', Action: 'iam:ListUserTags' };

describe('the committed template', () => {
  it(`is what the stack synthesizes (regenerate: ${REGENERATE})`, () => {
    const committed = JSON.parse(readFileSync(path.join(ROOT, MEMBER_ROLE_TEMPLATE_FILE), 'utf8')) as unknown;
    if (!isDeepStrictEqual(committed, JSON.parse(memberRoleTemplate()))) {
      throw new Error(`${MEMBER_ROLE_TEMPLATE_FILE} is out of date; regenerate it with: ${REGENERATE}`);
    }
    // And the app's synth (with cdk.json's feature flags) is the same template.
    expect(committed).toEqual(template);
  });

  it('deploys without CDK: no bootstrap parameter or rule, no CDK metadata, no assets', () => {
    expect(Object.keys(template).sort()).toEqual([
      'Conditions',
      'Description',
      'Outputs',
      'Parameters',
      'Resources',
    ]);
    expect(Object.keys(template.Parameters as Json)).toEqual([
      'ScannerRoleArn',
      'ExternalId',
      'OrganizationId',
      'RoleName',
      'UserDirectory',
    ]);
    expect(Object.keys(template.Resources as Json)).toEqual(['MemberRole']);
    expect(JSON.stringify(template)).not.toMatch(/cdk-|BootstrapVersion|CDKMetadata|aws:cdk:/);
  });
});

describe('the parameters', () => {
  const parameter = (name: string) => (template.Parameters as Record<string, Json>)[name]!;

  it('require the scanner role ARN and default the rest', () => {
    expect(parameter('ScannerRoleArn').Default).toBeUndefined();
    expect(parameter('ExternalId').Default).toBe('');
    expect(parameter('OrganizationId').Default).toBe('');
    expect(parameter('RoleName').Default).toBe('credwatch-member');
    expect(parameter('UserDirectory').Default).toBe('authorization-details');
  });

  it('lets UserDirectory be exactly the modes of the scanner (lambda/adapters/iam.ts)', () => {
    expect(parameter('UserDirectory').AllowedValues).toEqual([...USER_DIRECTORY_MODES]);
    expect(parameter('UserDirectory').Type).toBe('String');
  });

  // CloudFormation matches AllowedPattern against the whole value, as these anchored patterns do in JS.
  it.each<[string, string, boolean]>([
    ['ScannerRoleArn', SCANNER_ROLE, true],
    ['ScannerRoleArn', 'arn:aws-cn:iam::123456789012:role/secops/credwatch-scanner', true],
    ['ScannerRoleArn', 'arn:aws:iam::123456789012:user/credwatch-scanner', false],
    ['ScannerRoleArn', 'arn:aws:iam::1234:role/credwatch-scanner', false],
    ['ScannerRoleArn', '', false],
    ['ExternalId', '', true],
    ['ExternalId', 'credwatch:2025/ext-id', true],
    ['ExternalId', 'x', false],
    ['ExternalId', 'has space', false],
    ['OrganizationId', '', true],
    ['OrganizationId', ORG, true],
    ['OrganizationId', 'o-abc', false],
    ['OrganizationId', 'O-A1B2C3D4E5', false],
    ['RoleName', 'credwatch-member', true],
    ['RoleName', 'Credwatch.Reader@team+1', true],
    ['RoleName', '', false],
    ['RoleName', 'r'.repeat(65), false],
    ['RoleName', 'secops/credwatch', false],
  ])('%s %j: accepted %s', (name, value, accepted) => {
    expect(new RegExp(parameter(name).AllowedPattern as string).test(value)).toBe(accepted);
  });
});

describe('the member role', () => {
  it('is named by the RoleName parameter, with one inline policy, no managed policy, one-hour sessions', () => {
    const role = roleOf(template);
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(role.Properties.RoleName).toEqual({ Ref: 'RoleName' });
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.PermissionsBoundary).toBeUndefined();
    expect((role.Properties.Policies as unknown[]).length).toBe(1);
    expect(deploy(role.Properties.RoleName, { ScannerRoleArn: SCANNER_ROLE, RoleName: 'x-reader' })).toBe(
      'x-reader',
    );
  });

  const readReport = {
    Sid: 'ReadCredentialReport',
    Effect: 'Allow',
    Action: ['iam:GenerateCredentialReport', 'iam:GetCredentialReport', 'iam:ListAccountAliases'],
    Resource: '*',
  };
  const readUsers = (action: string) => ({
    Sid: 'ReadUsers',
    Effect: 'Allow',
    Action: action,
    Resource: '*',
  });
  const readRootMfaType = {
    Sid: 'ReadRootMfaType',
    Effect: 'Allow',
    Action: 'iam:ListVirtualMFADevices',
    Resource: '*',
  };
  const readAccessKeys = {
    Sid: 'ReadAccessKeys',
    Effect: 'Allow',
    Action: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'],
    Resource: `arn:aws:iam::${MEMBER}:user/*`,
  };
  const readUserTags = {
    Sid: 'ReadUserTags',
    Effect: 'Allow',
    Action: 'iam:ListUserTags',
    Resource: `arn:aws:iam::${MEMBER}:user/*`,
  };

  it.each<[string, Parameters, Json[]]>([
    [
      'by default: GetAccountAuthorizationDetails',
      {},
      [readReport, readUsers('iam:GetAccountAuthorizationDetails'), readRootMfaType, readAccessKeys],
    ],
    [
      'UserDirectory authorization-details: GetAccountAuthorizationDetails',
      { UserDirectory: 'authorization-details' },
      [readReport, readUsers('iam:GetAccountAuthorizationDetails'), readRootMfaType, readAccessKeys],
    ],
    [
      'UserDirectory list-users: ListUsers and ListUserTags, no GetAccountAuthorizationDetails',
      { UserDirectory: 'list-users' },
      [readReport, readUsers('iam:ListUsers'), readRootMfaType, readAccessKeys, readUserTags],
    ],
  ])('may read credential metadata, %s: exactly these actions on these resources', (_, given, statements) => {
    expect(permissions(given)).toEqual([{ Version: '2012-10-17', Statement: statements }]);
  });

  it.each(USER_DIRECTORY_MODES)(
    'grants for UserDirectory %s exactly what the scanner role gets for that userDirectory',
    (mode) => {
      const own = new Stack(new App(), 'Own', { env: { account: MEMBER, region: 'eu-west-1' } });
      const statements = credentialReadStatements(own, { userDirectory: mode }).map((st) =>
        own.resolve(st.toStatementJson()),
      );
      expect(permissions({ UserDirectory: mode })).toEqual([
        { Version: '2012-10-17', Statement: deploy(statements, {}) },
      ]);
    },
  );

  it('outputs its ARN', () => {
    expect(template.Outputs).toEqual({ RoleArn: { Value: { 'Fn::GetAtt': ['MemberRole', 'Arn'] } } });
  });
});

describe('the trust policy', () => {
  const statement = (condition?: Json) => ({
    Sid: 'CredwatchScanner',
    Effect: 'Allow',
    Principal: { AWS: SCANNER_ROLE },
    Action: 'sts:AssumeRole',
    ...(condition ? { Condition: condition } : {}),
  });

  it.each<[string, Parameters, Json | undefined]>([
    ['no external id and no organization: the scanner role only', {}, undefined],
    [
      'an external id',
      { ExternalId: 'credwatch-7f3a' },
      { StringEquals: { 'sts:ExternalId': 'credwatch-7f3a' } },
    ],
    ['an organization', { OrganizationId: ORG }, { StringEquals: { 'aws:PrincipalOrgID': ORG } }],
    [
      'both',
      { ExternalId: 'credwatch-7f3a', OrganizationId: ORG },
      { StringEquals: { 'sts:ExternalId': 'credwatch-7f3a', 'aws:PrincipalOrgID': ORG } },
    ],
  ])('with %s, trusts exactly the scanner role', (_what, given, condition) => {
    expect(trustPolicy({ ScannerRoleArn: SCANNER_ROLE, ...given })).toEqual({
      Version: '2012-10-17',
      Statement: [statement(condition)],
    });
  });

  it('decides each condition by its own parameter, for any external id and organization id', () => {
    const externalId = fc.option(fc.stringMatching(/^[A-Za-z0-9_+=,.@:/-]{2,40}$/), { nil: undefined });
    const organizationId = fc.option(fc.stringMatching(/^o-[a-z0-9]{10,32}$/), { nil: undefined });
    fc.assert(
      fc.property(externalId, organizationId, (ext, org) => {
        const [s] = trustPolicy({
          ScannerRoleArn: SCANNER_ROLE,
          ...(ext ? { ExternalId: ext } : {}),
          ...(org ? { OrganizationId: org } : {}),
        }).Statement;
        const expected = {
          ...(ext ? { 'sts:ExternalId': ext } : {}),
          ...(org ? { 'aws:PrincipalOrgID': org } : {}),
        };
        expect(s!.Condition).toEqual(ext || org ? { StringEquals: expected } : undefined);
      }),
    );
  });

  it('declares the conditions it uses', () => {
    expect(template.Conditions).toEqual({
      HasExternalId: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ExternalId' }, ''] }] },
      HasOrganizationId: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OrganizationId' }, ''] }] },
      HasTrustCondition: { 'Fn::Or': [{ Condition: 'HasExternalId' }, { Condition: 'HasOrganizationId' }] },
      ListsUsers: { 'Fn::Equals': [{ Ref: 'UserDirectory' }, 'list-users'] },
    });
  });

  it('grants one mode without a CloudFormation condition in a construct given a literal userDirectory, and refuses another value', () => {
    const literal = new Stack(new App(), 'Literal', { env: { account: MEMBER, region: 'eu-west-1' } });
    new MemberRole(literal, 'ListsUsers', { scannerRoleArn: SCANNER_ROLE, userDirectory: 'list-users' });
    const t = Template.fromStack(literal).toJSON();
    const role = Object.values(t.Resources as Record<string, { Properties: Json }>)[0]!;

    expect(t.Conditions).toBeUndefined();
    expect((role.Properties.Policies as { PolicyDocument: unknown }[])[0]!.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        readReportLiteral,
        readUsersLiteral('iam:ListUsers'),
        readRootMfaTypeLiteral,
        readAccessKeysLiteral,
        readUserTagsLiteral,
      ],
    });
    expect(
      () =>
        new MemberRole(literal, 'Bad', {
          scannerRoleArn: SCANNER_ROLE,
          userDirectory: 'both',
        }),
    ).toThrow(
      new ConfigError(
        'MemberRole: userDirectory must be "authorization-details" or "list-users", got "both"',
      ),
    );
  });

  it('uses fixed values as they are, without CloudFormation conditions, in a construct given literals', () => {
    const literal = new Stack(new App(), 'Literal');
    new MemberRole(literal, 'WithId', { scannerRoleArn: SCANNER_ROLE, externalId: 'credwatch-7f3a' });
    new MemberRole(literal, 'Plain', { scannerRoleArn: SCANNER_ROLE, roleName: 'other', externalId: '' });
    const t = Template.fromStack(literal);
    expect(t.toJSON().Conditions).toBeUndefined();
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'credwatch-member',
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({ Condition: { StringEquals: { 'sts:ExternalId': 'credwatch-7f3a' } } }),
        ],
      },
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'other',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Condition: Match.absent() })] },
    });
  });
});

describe('least privilege, simulated on the deployed policies', () => {
  const SESSION = `arn:aws:sts::${SCANNER_ACCOUNT}:assumed-role/credwatch-scanner/credwatch`;

  async function decide(request: {
    principal: string;
    action: string;
    resource: string;
    identity: unknown[];
    resourcePolicy?: unknown;
    context?: Record<string, string>;
  }) {
    const result = await runSimulation(
      {
        identityPolicies: request.identity.map((policy, i) => ({ name: `p${i}`, policy })) as never,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy as never } : {}),
        request: {
          principal: request.principal,
          action: request.action,
          resource: { resource: request.resource, accountId: MEMBER },
          contextVariables: request.context ?? {},
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  }

  const MEMBER_SESSION = `arn:aws:sts::${MEMBER}:assumed-role/credwatch-member/credwatch`;
  const user = (name: string, account = MEMBER) => `arn:aws:iam::${account}:user/${name}`;

  it.each<[string, string]>([
    ['iam:GenerateCredentialReport', '*'],
    ['iam:GetCredentialReport', '*'],
    ['iam:GetAccountAuthorizationDetails', '*'],
    ['iam:ListAccountAliases', '*'],
    ['iam:ListVirtualMFADevices', '*'],
    ['iam:ListAccessKeys', user('alice')],
    ['iam:GetAccessKeyLastUsed', user('engineering/bob')],
  ])('lets the member role %s on %s', async (action, resource) => {
    await expect(
      decide({ principal: MEMBER_SESSION, action, resource, identity: permissions() }),
    ).resolves.toBe('Allowed');
  });

  const LIST_USERS = { UserDirectory: 'list-users' };
  const DETAILS = { UserDirectory: 'authorization-details' };
  it.each<[string, string, string, Parameters, 'Allowed' | 'ImplicitlyDenied']>([
    ['list-users', 'iam:ListUsers', '*', LIST_USERS, 'Allowed'],
    ['list-users', 'iam:ListUserTags', user('alice'), LIST_USERS, 'Allowed'],
    ['list-users', 'iam:ListUserTags', user('engineering/bob'), LIST_USERS, 'Allowed'],
    ['list-users', 'iam:ListAccessKeys', user('alice'), LIST_USERS, 'Allowed'],
    ['list-users', 'iam:GenerateCredentialReport', '*', LIST_USERS, 'Allowed'],
    ['list-users', 'iam:GetAccountAuthorizationDetails', '*', LIST_USERS, 'ImplicitlyDenied'],
    ['list-users', 'iam:ListUserTags', user('alice', '111122223333'), LIST_USERS, 'ImplicitlyDenied'],
    ['list-users', 'iam:ListRoleTags', `arn:aws:iam::${MEMBER}:role/admin`, LIST_USERS, 'ImplicitlyDenied'],
    ['list-users', 'iam:GetUserPolicy', user('alice'), LIST_USERS, 'ImplicitlyDenied'],
    [
      'list-users',
      'iam:GetPolicyVersion',
      `arn:aws:iam::${MEMBER}:policy/admin`,
      LIST_USERS,
      'ImplicitlyDenied',
    ],
    ['list-users', 'iam:TagUser', user('alice'), LIST_USERS, 'ImplicitlyDenied'],
    ['authorization-details', 'iam:GetAccountAuthorizationDetails', '*', DETAILS, 'Allowed'],
    ['authorization-details', 'iam:ListUsers', '*', DETAILS, 'ImplicitlyDenied'],
    ['authorization-details', 'iam:ListUserTags', user('alice'), DETAILS, 'ImplicitlyDenied'],
  ])('with UserDirectory %s, decides %s on %s', async (_mode, action, resource, given, expected) => {
    await expect(
      decide({ principal: MEMBER_SESSION, action, resource, identity: permissions(given) }),
    ).resolves.toBe(expected);
  });

  it.each<[string, string]>([
    ['iam:CreateAccessKey', user('alice')],
    ['iam:UpdateAccessKey', user('alice')],
    ['iam:DeleteAccessKey', user('alice')],
    ['iam:DeleteUser', user('alice')],
    ['iam:CreateUser', user('mallory')],
    ['iam:AttachUserPolicy', user('alice')],
    ['iam:PassRole', `arn:aws:iam::${MEMBER}:role/admin`],
    ['iam:ListAccessKeys', user('alice', '111122223333')],
    ['sts:AssumeRole', `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`],
    ['s3:GetObject', 'arn:aws:s3:::bucket/key'],
  ])('denies the member role %s on %s', async (action, resource) => {
    await expect(
      decide({ principal: MEMBER_SESSION, action, resource, identity: permissions() }),
    ).resolves.toBe('ImplicitlyDenied');
  });

  // The scanner's side allows AssumeRole on the member role (test/infra/scanner-function.test.ts); here the
  // member role's trust policy decides.
  const scannerMayAssume = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/credwatch-member' },
    ],
  };
  const BOTH = { ExternalId: 'credwatch-7f3a', OrganizationId: ORG };

  it.each<[string, 'Allowed' | 'ImplicitlyDenied', string, Parameters, Record<string, string>]>([
    ['the scanner, with no conditions set', 'Allowed', SESSION, {}, {}],
    [
      'the scanner with the external id, in the organization',
      'Allowed',
      SESSION,
      BOTH,
      { 'sts:ExternalId': 'credwatch-7f3a', 'aws:PrincipalOrgID': ORG },
    ],
    ['the scanner without the external id', 'ImplicitlyDenied', SESSION, BOTH, { 'aws:PrincipalOrgID': ORG }],
    [
      'the scanner with a wrong external id',
      'ImplicitlyDenied',
      SESSION,
      BOTH,
      { 'sts:ExternalId': 'guess', 'aws:PrincipalOrgID': ORG },
    ],
    [
      'the scanner from outside the organization',
      'ImplicitlyDenied',
      SESSION,
      { OrganizationId: ORG },
      { 'aws:PrincipalOrgID': 'o-zzzzzzzzzz' },
    ],
    [
      'another role of the scanner account',
      'ImplicitlyDenied',
      `arn:aws:sts::${SCANNER_ACCOUNT}:assumed-role/admin/alice`,
      {},
      {},
    ],
    [
      'the same role name in another account',
      'ImplicitlyDenied',
      'arn:aws:sts::111122223333:assumed-role/credwatch-scanner/credwatch',
      {},
      {},
    ],
  ])(
    'decides whether %s may assume the member role: %s',
    async (_who, expected, principal, given, context) => {
      await expect(
        decide({
          principal,
          action: 'sts:AssumeRole',
          resource: `arn:aws:iam::${MEMBER}:role/credwatch-member`,
          identity: [scannerMayAssume],
          resourcePolicy: trustPolicy({ ScannerRoleArn: SCANNER_ROLE, ...given }),
          context,
        }),
      ).resolves.toBe(expected);
    },
  );
});

describe('cdk-nag', () => {
  const packs = () => [new AwsSolutionsChecks(), new ServerlessChecks()];

  it('finds nothing unacknowledged (AwsSolutions, Serverless)', () => {
    const violations = packs().flatMap((pack) => pack.validateScope(stack).violations);
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('acknowledges exactly the findings the packs report, each with a reason', () => {
    const acks = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) => Object.entries(entry.data as Json));
    const reported = packs().flatMap((pack) => {
      (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
      return pack.validateScope(stack).violations.map((v) => v.ruleName);
    });
    expect(acks.map(([id]) => id.replace(/^annotation::/i, '')).sort()).toEqual(
      [...new Set(reported)].sort(),
    );
    expect(reported.sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]',
    ]);
    for (const [, reason] of acks) expect(typeof reason === 'string' ? reason.length : 0).toBeGreaterThan(40);
  });

  it('has no CDK warnings or errors', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });
});
