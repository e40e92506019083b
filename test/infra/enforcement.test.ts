/**
 * Opt-in enforcement in the infrastructure (lib/config/enforcement.ts, lib/constructs/scanner-function.ts
 * `deactivationStatements`): the permissions added only with mode `enforce`, proved on the synthesized
 * policies by IAM's rules (@cloud-copilot/iam-simulate) for the scanner's role in its own account, the
 * member role, and the Step Functions engine's scanBatch step; nothing added with `off` or `dry-run`;
 * the function's CREDWATCH_ENFORCEMENT; cdk-nag and cfn-lint on the enforcing templates.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DEFAULT_ENFORCEMENT, type EnforcementPolicy } from '../../lambda/core/enforcement';
import { ConfigError } from '../../lambda/core/errors';
import { decodeSettings, enforcementOf } from '../../lambda/settings';
import { type CredwatchConfig, loadConfig } from '../../lib/config';
import { ScannerFunction } from '../../lib/constructs/scanner-function';
import { CredwatchStack } from '../../lib/credwatch-stack';
import {
  CredwatchMemberRoleStack,
  MEMBER_ROLE_STACK_NAME,
  memberRoleEnforcement,
  memberRoleTemplate,
  memberRoleTemplateFor,
} from '../../lib/member-role-stack';
import { findExecutable } from '../support/moto-server';
import {
  ACCOUNT,
  BUNDLING_STACKS,
  cdkJson,
  customConfig,
  type Json,
  listedConfig,
  logicalId,
  MEMBER_A,
  MEMBER_B,
  REGION,
  stepFunctionsConfig,
  thrown,
} from './support';

type Mode = EnforcementPolicy['mode'];
const AGES = { finalNoticeKeyAgeDays: 80, deactivateKeyAgeDays: 90 };
const PROTECTED = ['break-glass', 'ci-*'];
const policyOf = (mode: Mode) => ({ mode, ...AGES, protectedUsers: PROTECTED });
const withEnforcement = (config: CredwatchConfig, enforcement: unknown) =>
  loadConfig({ ...config, enforcement }, 'test');

const MODES: readonly Mode[] = ['off', 'dry-run', 'enforce'];
const stacks = new Map<string, CredwatchStack>();
const templates = new Map<string, Json>();
/** The stacks' names: `Self-<mode>`, `Listed-<mode>` (the listed accounts' policy), `Engine-<mode>`. */
const name = (kind: 'Self' | 'Listed' | 'Engine', mode: Mode) => `${kind}-${mode.replace('-', '')}`;

beforeAll(() => {
  const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
  for (const mode of MODES) {
    const configs: [string, CredwatchConfig][] = [
      [name('Self', mode), withEnforcement(customConfig, policyOf(mode))],
      // The deployment's policy dry-run, one account's the mode: "some policy" decides.
      [
        name('Listed', mode),
        withEnforcement(listedConfig, { ...policyOf('dry-run'), accounts: { [MEMBER_A]: { mode } } }),
      ],
      [name('Engine', mode), withEnforcement(stepFunctionsConfig, policyOf(mode))],
    ];
    for (const [id, config] of configs) stacks.set(id, new CredwatchStack(app, id, { config }));
  }
  app.synth();
  for (const [id, stack] of stacks) templates.set(id, Template.fromStack(stack).toJSON());
}, 180_000);

const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/state`;
const OTHER = '999999999999';
const user = (userName: string, account = ACCOUNT) => `arn:aws:iam::${account}:user/${userName}`;

type Resources = Record<string, { Type: string; Properties: Json }>;

/**
 * What CloudFormation makes of a template fragment: pseudo parameters, parameters at `params`,
 * Fn::Join, Fn::If over `conditions` (Fn::Equals, Fn::Not, Fn::Or), AWS::NoValue; a table's ARN is
 * TABLE_ARN, any other resource a placeholder ARN of its own.
 */
function resolve(
  value: unknown,
  resources: Resources,
  params: Record<string, string> = {},
  conditions: Json = {},
): unknown {
  const NO_VALUE = Symbol('AWS::NoValue');
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const physical = (id: string) =>
    resources[id]?.Type === 'AWS::DynamoDB::Table'
      ? TABLE_ARN
      : `arn:aws:placeholder:${REGION}:${ACCOUNT}:${id}`;
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
      const ref = o.Ref as string;
      if (ref === 'AWS::NoValue') return NO_VALUE;
      return pseudo[ref] ?? params[ref] ?? physical(ref);
    }
    if ('Fn::GetAtt' in o) return physical((o['Fn::GetAtt'] as [string, string])[0]);
    if ('Fn::If' in o) {
      const [c, yes, no] = o['Fn::If'] as [string, unknown, unknown];
      return walk(condition(conditions[c]) ? yes : no);
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

/** The inline policies of a role of a template, resolved. */
function policiesOf(template: Json, roleId: string, params?: Record<string, string>) {
  const resources = template.Resources as Resources;
  const role = resources[roleId];
  if (!role) throw new Error(`no role ${roleId}`);
  return (role.Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[]).map((p) => ({
    name: p.PolicyName,
    policy: resolve(p.PolicyDocument, resources, params, template.Conditions as Json | undefined),
  }));
}

/** IAM's decision on one request of a role's session under its identity policies alone. */
async function decide(
  policies: { name: string; policy: unknown }[],
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
) {
  const result = await runSimulation(
    {
      identityPolicies: policies as never,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/credwatch/session`,
        action,
        resource: { resource, accountId: resource.split(':')[4] || ACCOUNT },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

const TAGGED = { 'iam:ResourceTag/credwatch:protected': 'true' };
const TAGGED_EMPTY = { 'iam:ResourceTag/credwatch:protected': '' };

/** The requests every deactivating role is judged on. */
const DEACTIVATION_CASES: [string, string, string, Record<string, string>, string][] = [
  ['deactivates a key of a plain user', 'iam:UpdateAccessKey', user('alice'), {}, 'Allowed'],
  ['deactivates a key of a user with a path', 'iam:UpdateAccessKey', user('engineering/bob'), {}, 'Allowed'],
  [
    'never a user tagged credwatch:protected',
    'iam:UpdateAccessKey',
    user('alice'),
    TAGGED,
    'ExplicitlyDenied',
  ],
  [
    'never a user tagged credwatch:protected with an empty value',
    'iam:UpdateAccessKey',
    user('alice'),
    TAGGED_EMPTY,
    'ExplicitlyDenied',
  ],
  ['never a protected name', 'iam:UpdateAccessKey', user('break-glass'), {}, 'ExplicitlyDenied'],
  [
    'never a protected name with a path',
    'iam:UpdateAccessKey',
    user('admins/break-glass'),
    {},
    'ExplicitlyDenied',
  ],
  [
    'never a protected name with a nested path',
    'iam:UpdateAccessKey',
    user('a/b/break-glass'),
    {},
    'ExplicitlyDenied',
  ],
  ['never a protected prefix', 'iam:UpdateAccessKey', user('ci-deploy'), {}, 'ExplicitlyDenied'],
  [
    'never a protected prefix with a path',
    'iam:UpdateAccessKey',
    user('pipelines/ci-deploy'),
    {},
    'ExplicitlyDenied',
  ],
  [
    'a name that only ends like a protected one is not protected',
    'iam:UpdateAccessKey',
    user('not-break-glass'),
    {},
    'Allowed',
  ],
  ['never in another account', 'iam:UpdateAccessKey', user('alice', OTHER), {}, 'ImplicitlyDenied'],
  ['never CreateAccessKey', 'iam:CreateAccessKey', user('alice'), {}, 'ImplicitlyDenied'],
  ['never DeleteAccessKey', 'iam:DeleteAccessKey', user('alice'), {}, 'ImplicitlyDenied'],
  ['never UpdateUser', 'iam:UpdateUser', user('alice'), {}, 'ImplicitlyDenied'],
  ['never DeleteUser', 'iam:DeleteUser', user('alice'), {}, 'ImplicitlyDenied'],
  ['never TagUser', 'iam:TagUser', user('alice'), {}, 'ImplicitlyDenied'],
  [
    'never UntagUser (the protection tag stays)',
    'iam:UntagUser',
    user('break-glass'),
    {},
    'ImplicitlyDenied',
  ],
  ['never a login profile', 'iam:UpdateLoginProfile', user('alice'), {}, 'ImplicitlyDenied'],
];

/** The IAM write actions of a template's resolved policies (Allow statements). */
const iamWrites = (policies: { policy: unknown }[]) =>
  policies
    .flatMap((p) => (p.policy as { Statement: { Effect: string; Action: string | string[] }[] }).Statement)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => [s.Action].flat())
    .filter((a) => a.startsWith('iam:') && !/^iam:(Get|List|Generate)/.test(a));

describe('the scanner role in its own account (source self)', () => {
  const scannerPolicies = (mode: Mode) => {
    const stack = stacks.get(name('Self', mode))!;
    return policiesOf(templates.get(name('Self', mode))!, logicalId(stack.scanner.role));
  };

  it.each(DEACTIVATION_CASES)('with enforce: %s', async (_what, action, resource, context, decision) => {
    await expect(decide(scannerPolicies('enforce'), action, resource, context)).resolves.toBe(decision);
  });

  it('with enforce, UpdateAccessKey is its only IAM write', () => {
    expect(iamWrites(scannerPolicies('enforce'))).toEqual(['iam:UpdateAccessKey']);
  });

  it.each<Mode>(['off', 'dry-run'])('with %s: no UpdateAccessKey anywhere in the template', async (mode) => {
    expect(JSON.stringify(templates.get(name('Self', mode)))).not.toContain('UpdateAccessKey');
    await expect(decide(scannerPolicies(mode), 'iam:UpdateAccessKey', user('alice'))).resolves.toBe(
      'ImplicitlyDenied',
    );
    expect(iamWrites(scannerPolicies(mode))).toEqual([]);
  });

  it('with dry-run, the role is the role of off (only the environment differs)', () => {
    const role = (mode: Mode) =>
      (templates.get(name('Self', mode))!.Resources as Resources)[
        logicalId(stacks.get(name('Self', mode))!.scanner.role)
      ];
    expect(role('dry-run')).toEqual(role('off'));
  });

  it('with off, the template is the one without an enforcement section (byte for byte)', () => {
    const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
    const plain = new CredwatchStack(app, name('Self', 'off'), { config: customConfig });
    expect(JSON.stringify(Template.fromStack(plain).toJSON())).toBe(
      JSON.stringify(templates.get(name('Self', 'off'))),
    );
  });

  it('already writes the table with PutItem (the record of each action)', async () => {
    await expect(decide(scannerPolicies('enforce'), 'dynamodb:PutItem', TABLE_ARN)).resolves.toBe('Allowed');
  });
});

describe('the member role', () => {
  const memberTemplate = (config: CredwatchConfig) => {
    const enforcement = memberRoleEnforcement(config);
    const app = new App({ context: cdkJson.context });
    const stack = new CredwatchMemberRoleStack(
      app,
      MEMBER_ROLE_STACK_NAME,
      enforcement ? { enforcement } : {},
    );
    return { stack, template: Template.fromStack(stack).toJSON() };
  };
  const listedStack = (mode: Mode) => stacks.get(name('Listed', mode))!;
  const memberPolicies = (mode: Mode, params: Record<string, string> = {}) => {
    const { template } = memberTemplate(listedStack(mode).config);
    const declared = template.Parameters as Record<string, { Default?: string }>;
    return policiesOf(template, 'MemberRole', {
      ...Object.fromEntries(Object.entries(declared).map(([k, p]) => [k, p.Default ?? ''])),
      ScannerRoleArn: `arn:aws:iam::${ACCOUNT}:role/secops-credwatch`,
      ...params,
    });
  };

  it.each(DEACTIVATION_CASES)(
    'with enforce in some account: %s',
    async (_what, action, resource, context, decision) => {
      await expect(decide(memberPolicies('enforce'), action, resource, context)).resolves.toBe(decision);
    },
  );

  it('keeps the deactivation statements with UserDirectory list-users', async () => {
    const policies = memberPolicies('enforce', { UserDirectory: 'list-users' });
    await expect(decide(policies, 'iam:UpdateAccessKey', user('alice'))).resolves.toBe('Allowed');
    await expect(decide(policies, 'iam:UpdateAccessKey', user('ci-runner'))).resolves.toBe(
      'ExplicitlyDenied',
    );
    expect(iamWrites(policies)).toEqual(['iam:UpdateAccessKey']);
  });

  it.each<Mode>(['off', 'dry-run'])('with %s everywhere: the committed, read-only template', (mode) => {
    expect(memberRoleEnforcement(listedStack(mode).config)).toBeUndefined();
    const { template } = memberTemplate(listedStack(mode).config);
    expect(JSON.stringify(template)).not.toContain('UpdateAccessKey');
    expect(template).toEqual(JSON.parse(memberRoleTemplate()));
  });

  it('is not needed for a deployment that scans its own account only', () => {
    expect(memberRoleEnforcement(stacks.get(name('Self', 'enforce'))!.config)).toBeUndefined();
  });

  it('with enforce: the committed template plus the deactivation statements, the same as the scanner gets', () => {
    const { template } = memberTemplate(listedStack('enforce').config);
    const committed = JSON.parse(memberRoleTemplate()) as Json;
    const statements = (t: Json) =>
      (
        (t.Resources as Resources).MemberRole!.Properties.Policies as {
          PolicyDocument: { Statement: { Sid?: string }[] };
        }[]
      )[0]!.PolicyDocument.Statement;
    expect(statements(template).slice(0, statements(committed).length)).toEqual(statements(committed));
    expect(
      statements(template)
        .slice(statements(committed).length)
        .map((s) => s.Sid),
    ).toEqual(['DeactivateAccessKeys', 'NeverTouchTaggedUsers', 'NeverTouchListedUsers']);
    expect(template.Parameters).toEqual(committed.Parameters);
    expect(memberRoleTemplate(memberRoleEnforcement(listedStack('enforce').config))).toBe(
      `${JSON.stringify(Template.fromStack(new CredwatchMemberRoleStack(new App({ analyticsReporting: false }), MEMBER_ROLE_STACK_NAME, { enforcement: { protectedUsers: PROTECTED } })).toJSON(), null, 2)}\n`,
    );
  });

  it('the multi-account scanner itself gets no IAM write: it deactivates through the member role', () => {
    const stack = listedStack('enforce');
    const policies = policiesOf(templates.get(name('Listed', 'enforce'))!, logicalId(stack.scanner.role));
    expect(iamWrites(policies)).toEqual([]);
    expect(JSON.stringify(policies)).not.toContain('UpdateAccessKey');
  });

  it('memberRoleTemplateFor: --config FILE synthesizes the template the file needs; other arguments are refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'credwatch-member-enforce-'));
    try {
      const file = path.join(dir, 'credwatch.config.json');
      writeFileSync(
        file,
        JSON.stringify({
          accounts: { source: 'list', ids: [MEMBER_A, MEMBER_B] },
          enforcement: { ...policyOf('enforce') },
        }),
      );
      const text = memberRoleTemplateFor(['--config', file]);
      expect(text).toBe(memberRoleTemplate({ protectedUsers: PROTECTED }));
      expect(text).toContain('iam:UpdateAccessKey');
      writeFileSync(file, JSON.stringify({ accounts: { source: 'list', ids: [MEMBER_A] } }));
      expect(memberRoleTemplateFor(['--config', file])).toBe(memberRoleTemplate());
      expect(memberRoleTemplateFor([])).toBe(memberRoleTemplate());
      writeFileSync(file, JSON.stringify({ enforcement: { mode: 'enforce' } }));
      expect(() => memberRoleTemplateFor(['--config', file])).toThrow(
        `${file}: enforcement.mode: mode enforce needs finalNoticeKeyAgeDays/deactivateKeyAgeDays or finalNoticeUnusedDays/deactivateUnusedDays`,
      );
      expect(() => memberRoleTemplateFor(['--config', path.join(dir, 'missing.json')])).toThrow(ConfigError);
      expect(() => memberRoleTemplateFor(['--enforce'])).toThrow(
        'expected no arguments or --config FILE, got "--enforce"',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the Step Functions engine's scanBatch step", () => {
  const stepPolicies = (mode: Mode, step: 'scanBatch' | 'discover' | 'deliver' = 'scanBatch') => {
    const stack = stacks.get(name('Engine', mode))!;
    return policiesOf(templates.get(name('Engine', mode))!, logicalId(stack.engine![step].role));
  };
  const ACTION_ITEM = { 'dynamodb:LeadingKeys': [`account#${MEMBER_A}`] };
  const LEASE = { 'dynamodb:LeadingKeys': ['run#lease'] };

  it('with enforce, records an action in an account partition', async () => {
    await expect(decide(stepPolicies('enforce'), 'dynamodb:PutItem', TABLE_ARN, ACTION_ITEM)).resolves.toBe(
      'Allowed',
    );
  });

  it.each<[string, string, Record<string, string[]>]>([
    ['never the run lease', 'dynamodb:PutItem', LEASE],
    ['never an item outside the accounts', 'dynamodb:PutItem', { 'dynamodb:LeadingKeys': ['other#1'] }],
    ['never DeleteItem', 'dynamodb:DeleteItem', ACTION_ITEM],
    ['never UpdateItem', 'dynamodb:UpdateItem', ACTION_ITEM],
    ['never BatchWriteItem', 'dynamodb:BatchWriteItem', ACTION_ITEM],
  ])('with enforce, %s', async (_what, action, context) => {
    await expect(decide(stepPolicies('enforce'), action, TABLE_ARN, context)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });

  it('with enforce, the PutItem on another table is refused', async () => {
    await expect(
      decide(
        stepPolicies('enforce'),
        'dynamodb:PutItem',
        `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`,
        ACTION_ITEM,
      ),
    ).resolves.toBe('ImplicitlyDenied');
  });

  it.each<Mode>(['off', 'dry-run'])('with %s, it writes nothing to the table', async (mode) => {
    await expect(decide(stepPolicies(mode), 'dynamodb:PutItem', TABLE_ARN, ACTION_ITEM)).resolves.toBe(
      'ImplicitlyDenied',
    );
    expect(JSON.stringify(templates.get(name('Engine', mode)))).not.toContain('UpdateAccessKey');
  });

  it('with enforce, the discover and deliver steps get nothing new', () => {
    for (const step of ['discover', 'deliver'] as const) {
      expect(stepPolicies('enforce', step)).toEqual(stepPolicies('off', step));
    }
    // The scanBatch step deactivates through the member roles: no IAM write of its own.
    expect(iamWrites(stepPolicies('enforce'))).toEqual([]);
  });
});

describe('the function is told the policy (CREDWATCH_ENFORCEMENT)', () => {
  const environmentOf = (id: string, fnId: string) => {
    const resources = templates.get(id)!.Resources as Resources;
    const variables = resources[fnId]!.Properties.Environment as { Variables: Record<string, unknown> };
    return Object.fromEntries(
      Object.entries(variables.Variables).map(([k, v]) => [k, typeof v === 'string' ? v : 'token']),
    );
  };

  it('off: no variable (the environment of every existing deployment), and each account is off', () => {
    const stack = stacks.get(name('Self', 'off'))!;
    const env = environmentOf(name('Self', 'off'), logicalId(stack.scanner.function));
    expect(env.CREDWATCH_ENFORCEMENT).toBeUndefined();
    expect(enforcementOf(decodeSettings(env), ACCOUNT)).toEqual(DEFAULT_ENFORCEMENT);
  });

  it.each<Mode>(['dry-run', 'enforce'])(
    '%s: the policy, decoded as the configuration resolved it',
    (mode) => {
      const stack = stacks.get(name('Listed', mode))!;
      const decoded = decodeSettings(environmentOf(name('Listed', mode), logicalId(stack.scanner.function)));
      const policy = { ...DEFAULT_ENFORCEMENT, ...policyOf('dry-run') };
      expect(decoded.enforcement).toEqual({ policy, accounts: { [MEMBER_A]: { ...policy, mode } } });
      expect(enforcementOf(decoded, MEMBER_A).mode).toBe(mode);
      expect(enforcementOf(decoded, MEMBER_B).mode).toBe('dry-run');
    },
  );

  it('every step of the engine is given the same policy', () => {
    const stack = stacks.get(name('Engine', 'enforce'))!;
    for (const step of ['discover', 'scanBatch', 'deliver'] as const) {
      const env = environmentOf(name('Engine', 'enforce'), logicalId(stack.engine![step].function));
      expect(decodeSettings(env).enforcement?.policy.mode).toBe('enforce');
    }
  });
});

describe('ScannerFunction (the construct, as a library user builds it)', () => {
  const build = (enforcement: unknown) => {
    const stack = new Stack(new App({ context: { [BUNDLING_STACKS]: [] } }), 'S');
    return new ScannerFunction(stack, 'F', {
      thresholds: customConfig.thresholds,
      schedulePeriod: Duration.minutes(10),
      stateTable: dynamodb.Table.fromTableName(stack, 'T', 'state'),
      webhookSecret: secretsmanager.Secret.fromSecretCompleteArn(
        stack,
        'W',
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch-AbC123`,
      ),
      enforcement: enforcement as never,
    });
  };

  it('checks the policy it is given, naming the field', () => {
    expect(
      thrown(() => build({ policy: { ...DEFAULT_ENFORCEMENT, mode: 'enforce', finalNoticeKeyAgeDays: 9 } }))
        .message,
    ).toBe(
      'ScannerFunction: enforcement.policy.deactivateKeyAgeDays: finalNoticeKeyAgeDays and deactivateKeyAgeDays are set together',
    );
    expect(
      thrown(() =>
        build({
          policy: { ...DEFAULT_ENFORCEMENT, ...policyOf('dry-run') },
          accounts: { [MEMBER_A]: { ...DEFAULT_ENFORCEMENT, mode: 'enforce' } },
        }),
      ).message,
    ).toMatch(/^ScannerFunction: enforcement\.accounts\.111111111111\.mode: mode enforce needs /);
  });

  it('adds the protected-names Deny only when there are names', () => {
    const fn = build({ policy: { ...DEFAULT_ENFORCEMENT, mode: 'enforce', ...AGES } });
    expect(fn.statements.map((s) => s.sid)).toEqual(
      expect.arrayContaining(['DeactivateAccessKeys', 'NeverTouchTaggedUsers']),
    );
    expect(fn.statements.map((s) => s.sid)).not.toContain('NeverTouchListedUsers');
  });
});

describe('cdk-nag and cfn-lint on the enforcing templates', () => {
  /** The packs' findings, acknowledged or not. */
  const findings = (stack: Stack, acknowledged: boolean) =>
    [
      ...new Set(
        [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) => {
          if (!acknowledged)
            (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
          return pack.validateScope(stack).violations.map((v) => v.ruleName);
        }),
      ),
    ].sort();

  it.each(['Self', 'Listed', 'Engine'] as const)(
    '%s: nothing unacknowledged, and no finding that off does not have',
    (kind) => {
      const enforcing = stacks.get(name(kind, 'enforce'))!;
      expect(findings(enforcing, true)).toEqual([]);
      expect(findings(enforcing, false)).toEqual(findings(stacks.get(name(kind, 'off'))!, false));
    },
  );

  it('the enforcing member role: nothing unacknowledged', () => {
    const stack = new CredwatchMemberRoleStack(new App(), MEMBER_ROLE_STACK_NAME, {
      enforcement: { protectedUsers: PROTECTED },
    });
    expect(findings(stack, true)).toEqual([]);
  });

  it('the acknowledgement of user/* says that it deactivates keys, only when it does', () => {
    const reasons = (stack: Stack) =>
      JSON.stringify(
        stack.node
          .findAll()
          .flatMap((c) => c.node.metadata)
          .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
          .map((entry) => entry.data),
      );
    expect(reasons(stacks.get(name('Self', 'enforce'))!)).toContain('iam:UpdateAccessKey');
    expect(reasons(stacks.get(name('Self', 'dry-run'))!)).not.toContain('iam:UpdateAccessKey');
  });

  interface Match {
    readonly Rule: { readonly Id: string };
    readonly Level: 'Error' | 'Warning' | 'Informational';
    readonly Message: string;
    readonly Filename: string;
    readonly Location: { readonly Path?: readonly (string | number)[] | null };
  }

  it('cfn-lint finds no error in them', async () => {
    const executable = findExecutable('cfn-lint');
    if (!executable) throw new Error('cfn-lint is not on PATH: pip install cfn-lint==1.51.0');
    const dir = mkdtempSync(path.join(tmpdir(), 'credwatch-enforce-cfn-lint-'));
    try {
      const files = ['Self', 'Engine'].map((kind) => {
        const file = path.join(dir, `${kind}.template.json`);
        writeFileSync(file, JSON.stringify(templates.get(name(kind as 'Self', 'enforce')), null, 1));
        return file;
      });
      const member = path.join(dir, 'member.template.json');
      writeFileSync(member, memberRoleTemplate({ protectedUsers: PROTECTED }));
      files.push(member);
      const matches = await new Promise<Match[]>((resolvePromise, reject) => {
        execFile(
          executable,
          ['--format', 'json', '--regions', 'ALL_REGIONS', '--', ...files],
          { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
          (err, stdout, stderr) => {
            // The exit code is a bit mask of the levels found (2 error, 4 warning, 8 info); 1 is a crash.
            const code = err && typeof err.code === 'number' ? err.code : err ? -1 : 0;
            if (code === 1 || code < 0) return reject(new Error(`cfn-lint failed (exit ${code}): ${stderr}`));
            try {
              resolvePromise(JSON.parse(stdout || '[]') as Match[]);
            } catch {
              reject(new Error(`cfn-lint printed no JSON (exit ${code}): ${stdout.slice(0, 2000)}${stderr}`));
            }
          },
        );
      });
      const errors = matches
        .filter((m) => m.Level === 'Error')
        .map((m) => `${m.Filename} ${m.Rule.Id} ${(m.Location.Path ?? []).join('/')}: ${m.Message}`);
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
