/**
 * `userDirectory` (docs/deploy.md, "Reading users"): how the scanner reads users and their tags, from
 * the configuration to the scanner role and the function environment. The role may call exactly one of
 * GetAccountAuthorizationDetails (`authorization-details`, the default) and ListUsers + ListUserTags
 * (`list-users`), proven on the synthesized policy with @cloud-copilot/iam-simulate. The member role's
 * `UserDirectory` parameter is tested in test/infra/member-role.test.ts.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { USER_DIRECTORY_MODES as ADAPTER_MODES, type UserDirectoryMode } from '../../lambda/adapters/iam';
import { ConfigError, loadConfig, USER_DIRECTORY_MODES } from '../../lib/config';
import { CredwatchStack } from '../../lib/credwatch-stack';
import { decideForScanner } from './support';

type Json = Record<string, unknown>;

const ACCOUNT = '123456789012';
const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as { context: Json };
/** The CDK context key that limits bundling to the stacks it names; none = no bundling. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

describe('the userDirectory configuration field', () => {
  it('defaults to authorization-details and keeps list-users', () => {
    expect(loadConfig({}, 'test').userDirectory).toBe('authorization-details');
    expect(loadConfig({ userDirectory: 'authorization-details' }, 'test').userDirectory).toBe(
      'authorization-details',
    );
    expect(loadConfig({ userDirectory: 'list-users' }, 'test').userDirectory).toBe('list-users');
  });

  it.each([['users'], [''], [true], [['list-users']]])(
    'refuses %j, naming the field and the values',
    (value) => {
      let error: unknown;
      try {
        loadConfig({ userDirectory: value }, 'credwatch.config.json');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `credwatch.config.json: userDirectory: expected one of "authorization-details", "list-users", got ${JSON.stringify(value)}`,
      );
    },
  );

  it("allows exactly the adapter's modes", () => {
    expect([...USER_DIRECTORY_MODES]).toEqual([...ADAPTER_MODES]);
  });
});

describe('the scanner', () => {
  const stacks: Partial<Record<string, CredwatchStack>> = {};
  const configs: Record<string, Json> = {
    Default: { alarmEmails: ['secops@example.com'] },
    AuthorizationDetails: { alarmEmails: ['secops@example.com'], userDirectory: 'authorization-details' },
    ListUsers: { alarmEmails: ['secops@example.com'], userDirectory: 'list-users' },
    ListedListUsers: {
      alarmEmails: ['secops@example.com'],
      userDirectory: 'list-users',
      accounts: { source: 'list', ids: ['111111111111'] },
    },
  };

  beforeAll(() => {
    // The role and environment are what is tested: no bundling.
    const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
    for (const [name, config] of Object.entries(configs)) {
      stacks[name] = new CredwatchStack(app, name, { config: loadConfig(config, name) });
    }
    app.synth();
  }, 120_000);

  const stack = (name: string) => stacks[name]!;
  const templateOf = (name: string) => Template.fromStack(stack(name)).toJSON();

  /** The scanner role's policy document, with the stack's pseudo parameters resolved. */
  function scannerPolicy(name: string): { Statement: Json[] } {
    const s = stack(name);
    const logicalId = s.getLogicalId(s.scanner.role.node.defaultChild as CfnResource);
    const role = (templateOf(name).Resources as Record<string, { Properties: Json }>)[logicalId]!;
    const [policy] = role.Properties.Policies as { PolicyDocument: unknown }[];
    return resolve(policy!.PolicyDocument) as { Statement: Json[] };
  }

  /** Ref of pseudo parameters and Fn::Join; anything else (a resource's ARN) as a marker string. */
  function resolve(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(resolve);
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    if ('Ref' in o) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::AccountId': ACCOUNT,
        'AWS::Region': 'eu-west-1',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[o.Ref as string] ?? `ref:${String(o.Ref)}`;
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    if ('Fn::GetAtt' in o) return `getatt:${(o['Fn::GetAtt'] as string[]).join('.')}`;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  }

  /** [action, resource] for every IAM action the role grants. */
  const iamGrants = (name: string): [string, string][] =>
    scannerPolicy(name)
      .Statement.flatMap((s) =>
        [s.Action].flat().flatMap((a) => [s.Resource].flat().map((r) => [a, r] as [string, string])),
      )
      .filter(([action]) => action.startsWith('iam:'))
      .sort();

  const users = `arn:aws:iam::${ACCOUNT}:user/*`;
  const common: [string, string][] = [
    ['iam:GenerateCredentialReport', '*'],
    ['iam:GetAccessKeyLastUsed', users],
    ['iam:GetCredentialReport', '*'],
    ['iam:ListAccessKeys', users],
    ['iam:ListAccountAliases', '*'],
    ['iam:ListVirtualMFADevices', '*'],
  ];

  it.each(['Default', 'AuthorizationDetails'])(
    '%s: grants GetAccountAuthorizationDetails and neither ListUsers nor ListUserTags',
    (name) => {
      expect(iamGrants(name)).toEqual([...common, ['iam:GetAccountAuthorizationDetails', '*']].sort());
    },
  );

  it('list-users: grants ListUsers on "*" and ListUserTags on every user, and not GetAccountAuthorizationDetails', () => {
    expect(iamGrants('ListUsers')).toEqual(
      [
        ...common,
        ['iam:ListUsers', '*'] as [string, string],
        ['iam:ListUserTags', users] as [string, string],
      ].sort(),
    );
    expect(scannerPolicy('ListUsers').Statement.map((s) => s.Sid)).toEqual(
      expect.arrayContaining(['ReadCredentialReport', 'ReadUsers', 'ReadAccessKeys', 'ReadUserTags']),
    );
  });

  const environmentOf = (name: string): Json => {
    const fn = Object.values(
      templateOf(name).Resources as Record<string, { Type: string; Properties: Json }>,
    ).find((r) => r.Type === 'AWS::Lambda::Function')!;
    return (fn.Properties.Environment as { Variables: Json }).Variables;
  };

  it.each<[string, string | undefined]>([
    ['Default', undefined],
    ['AuthorizationDetails', undefined],
    ['ListUsers', 'list-users'],
    ['ListedListUsers', 'list-users'],
  ])('%s: passes CREDWATCH_USER_DIRECTORY %s (absent: the default, authorization-details)', (name, value) => {
    expect(environmentOf(name).CREDWATCH_USER_DIRECTORY).toBe(value);
  });

  it('list-users in a multi-account deployment: the mode travels to the function, the member roles grant the reads', () => {
    // lib/constructs/scanner-function.ts: a multi-account scanner reads every account through the
    // member role, whose UserDirectory parameter must then be list-users too (docs/organization.md).
    expect(iamGrants('ListedListUsers')).toEqual([]);
  });

  it.each(['Default', 'ListUsers'])('%s: cdk-nag finds nothing unacknowledged', (name) => {
    const violations = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap(
      (pack) => pack.validateScope(stack(name)).violations,
    );
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  });

  describe('least privilege, simulated on the synthesized policy', () => {
    const user = (userPath: string, account = ACCOUNT) => `arn:aws:iam::${account}:user/${userPath}`;

    const decide = (name: string, action: string, resource: string) =>
      decideForScanner(scannerPolicy(name), action, resource);

    it.each<[UserDirectoryMode, string, string, 'Allowed' | 'ImplicitlyDenied']>([
      ['list-users', 'iam:ListUsers', '*', 'Allowed'],
      ['list-users', 'iam:ListUserTags', user('alice'), 'Allowed'],
      ['list-users', 'iam:ListUserTags', user('engineering/bob'), 'Allowed'],
      ['list-users', 'iam:GetAccountAuthorizationDetails', '*', 'ImplicitlyDenied'],
      ['list-users', 'iam:ListUserTags', user('alice', '111122223333'), 'ImplicitlyDenied'],
      ['list-users', 'iam:ListRoleTags', `arn:aws:iam::${ACCOUNT}:role/admin`, 'ImplicitlyDenied'],
      ['list-users', 'iam:GetUserPolicy', user('alice'), 'ImplicitlyDenied'],
      ['list-users', 'iam:TagUser', user('alice'), 'ImplicitlyDenied'],
      ['authorization-details', 'iam:GetAccountAuthorizationDetails', '*', 'Allowed'],
      ['authorization-details', 'iam:ListUsers', '*', 'ImplicitlyDenied'],
      ['authorization-details', 'iam:ListUserTags', user('alice'), 'ImplicitlyDenied'],
    ])('%s: %s on %s is %s', async (mode, action, resource, expected) => {
      await expect(decide(mode === 'list-users' ? 'ListUsers' : 'Default', action, resource)).resolves.toBe(
        expected,
      );
    });
  });
});
