/**
 * The Step Functions engine in the stack (issue 11, "least privilege and alarms for the new parts"):
 * which configurations choose it (lib/config/accounts.ts `engineOf`), what the stack builds for it
 * (lib/credwatch-stack.ts), what each new role may and may not do, decided by IAM's rules
 * (@cloud-copilot/iam-simulate) on the synthesized policies, that a failed execution alarms through
 * the same topic, cdk-nag on the engine stack, and cfn-lint's second opinion on its template.
 *
 * The execution itself is tested in test/integration/state-machine.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { engineOf, loadConfig, STEP_FUNCTIONS_LIST_THRESHOLD } from '../../lib/config';
import { CredwatchStack } from '../../lib/credwatch-stack';
import { findExecutable } from '../support/moto-server';
import {
  ACCOUNT,
  ADMIN_ROLE,
  arnOf,
  BUNDLING_STACKS,
  cdkJson,
  grantsOf,
  type Json,
  logicalId,
  MEMBER_A,
  REGION,
  ref,
  stepFunctionsConfig,
  stepFunctionsStack,
  thrown,
} from './support';

let stack: CredwatchStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  ({ stack, template } = stepFunctionsStack());
  resources = template.toJSON().Resources;
}, 180_000);

/** The engine of the Engine stack (it has one: its configuration chooses step-functions). */
const engineOfStack = () => {
  if (!stack.engine) throw new Error('the Engine stack has no state machine');
  return stack.engine;
};

/** `n` distinct 12-digit account ids. */
const accountIds = (n: number) => Array.from({ length: n }, (_, i) => String(100_000_000_000 + i));

describe('choosing the engine (accounts.engine, engineOf)', () => {
  const engine = (accounts: unknown) => engineOf(loadConfig({ accounts }, 'test').accounts);

  it('runs an organization on Step Functions by default: it may grow past one invocation at any time', () => {
    expect(engine({ source: 'organization' })).toBe('step-functions');
    expect(engine({ source: 'organization', organizationalUnits: ['ou-ab12-cdefgh34'] })).toBe(
      'step-functions',
    );
    expect(engineOf(stepFunctionsConfig.accounts)).toBe('step-functions');
  });

  it(`runs a list of more than ${STEP_FUNCTIONS_LIST_THRESHOLD} accounts on Step Functions, ${STEP_FUNCTIONS_LIST_THRESHOLD} or fewer in one invocation`, () => {
    expect(STEP_FUNCTIONS_LIST_THRESHOLD).toBe(50);
    expect(engine({ source: 'list', ids: accountIds(51) })).toBe('step-functions');
    expect(engine({ source: 'list', ids: accountIds(50) })).toBe('lambda');
    expect(engine({ source: 'list', ids: accountIds(1) })).toBe('lambda');
    // The deployment's own account is one invocation.
    expect(engine({})).toBe('lambda');
    expect(engine({ source: 'self' })).toBe('lambda');
  });

  it('takes an explicit engine over the default, either way', () => {
    expect(engine({ source: 'organization', engine: 'lambda' })).toBe('lambda');
    expect(engine({ source: 'list', ids: accountIds(51), engine: 'lambda' })).toBe('lambda');
    expect(engine({ source: 'list', ids: accountIds(2), engine: 'step-functions' })).toBe('step-functions');
  });

  it('keeps batchSize and mapConcurrency when the engine is Step Functions', () => {
    const accounts = loadConfig(
      { accounts: { source: 'organization', batchSize: 5, mapConcurrency: 40 } },
      'test',
    ).accounts;
    expect([accounts.batchSize, accounts.mapConcurrency]).toEqual([5, 40]);
  });

  it.each<[string, unknown, string]>([
    [
      'batchSize with a short list (lambda by default)',
      { source: 'list', ids: [MEMBER_A], batchSize: 10 },
      'test: accounts.batchSize: only with the step-functions engine, got engine "lambda"',
    ],
    [
      'mapConcurrency with an organization on the lambda engine',
      { source: 'organization', engine: 'lambda', mapConcurrency: 10 },
      'test: accounts.mapConcurrency: only with the step-functions engine, got engine "lambda"',
    ],
    [
      'engine with source self',
      { source: 'self', engine: 'lambda' },
      'test: accounts.engine: not allowed when source is "self" (only with "list" or "organization")',
    ],
    [
      'engine with the default source (self)',
      { engine: 'step-functions' },
      'test: accounts.engine: not allowed when source is "self" (only with "list" or "organization")',
    ],
    [
      'an unknown engine',
      { source: 'organization', engine: 'fargate' },
      'test: accounts.engine: expected one of lambda, step-functions, got "fargate"',
    ],
  ])('refuses %s', (_what, accounts, message) => {
    expect(thrown(() => loadConfig({ accounts }, 'test')).message).toBe(message);
  });

  it.each<[number, boolean]>([
    [51, true],
    [50, false],
  ])('builds a stack for a list of %i accounts with a state machine: %s', (n, machine) => {
    const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
    const listed = new CredwatchStack(app, `Listed${n}`, {
      config: loadConfig(
        { accounts: { source: 'list', ids: accountIds(n) }, alarmEmails: ['secops@example.com'] },
        'test',
      ),
    });
    const t = Template.fromStack(listed);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', machine ? 1 : 0);
    t.resourceCountIs('AWS::Lambda::Function', machine ? 3 : 1);
    expect(listed.engine !== undefined).toBe(machine);
    // The role that assumes the member roles may do so in exactly the listed accounts.
    const assumable = grantsOf(t, listed.scanner.role)
      .filter((g) => g.action === 'sts:AssumeRole')
      .map((g) => JSON.stringify(g.resource));
    expect(assumable).toHaveLength(n);
  });
});

describe('the Engine stack (an organization, the default engine)', () => {
  const STEP_FUNCTIONS = () => {
    const e = engineOfStack();
    return { discover: e.discover, scanBatch: e.scanBatch, deliver: e.deliver };
  };

  it('has one state machine and no whole-run scanner: the three steps are the only functions', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    // `Scanner` is the map's child now (where the whole-run scanner was: see the engine change below).
    expect(stack.node.tryFindChild('Scanner')).toBe(STEP_FUNCTIONS().scanBatch);
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'))
      .map(([id, r]) => [id, (r as { Properties: Json }).Properties.Handler])
      .sort();
    const steps = STEP_FUNCTIONS();
    expect(functions).toEqual(
      [
        [logicalId(steps.discover.function), 'index.discover'],
        [logicalId(steps.scanBatch.function), 'index.scanBatch'],
        [logicalId(steps.deliver.function), 'index.deliverRun'],
      ].sort(),
    );
    // The role the member accounts trust is the scanBatch step's, the only one that assumes them.
    expect(stack.scanner).toBe(steps.scanBatch);
  });

  it('keeps the role member accounts trust, and the function, at the logical ids of the single-invocation engine: changing engine updates them in place', () => {
    const lambdaEngine = new CredwatchStack(new App({ context: { [BUNDLING_STACKS]: [] } }), 'Engine', {
      config: { ...stepFunctionsConfig, accounts: { ...stepFunctionsConfig.accounts, engine: 'lambda' } },
    });
    const ids = (s: CredwatchStack) => ({
      role: logicalId(s.scanner.role),
      function: logicalId(s.scanner.function),
    });
    expect(ids(stack)).toEqual(ids(lambdaEngine));
    const roleName = (s: CredwatchStack) =>
      (Template.fromStack(s).toJSON().Resources[ids(s).role] as { Properties: { RoleName: string } })
        .Properties.RoleName;
    expect(roleName(stack)).toBe('credwatch-scanner');
    expect(roleName(lambdaEngine)).toBe('credwatch-scanner');
  });

  it("lets the schedule's role start exactly this state machine (and dead-letter a run), nothing else", () => {
    expect(grantsOf(template, stack.schedule.role)).toEqual([
      { action: 'sqs:SendMessage', resource: arnOf(stack.schedule.deadLetterQueue) },
      { action: 'states:StartExecution', resource: ref(engineOfStack().stateMachine) },
    ]);
  });

  it('targets the state machine from the schedule, with the scheduled event as the execution input', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: {
        Arn: ref(engineOfStack().stateMachine),
        RoleArn: arnOf(stack.schedule.role),
        DeadLetterConfig: { Arn: arnOf(stack.schedule.deadLetterQueue) },
        Input: JSON.stringify({
          source: 'credwatch.schedule',
          scheduledTime: '<aws.scheduler.scheduled-time>',
          executionId: '<aws.scheduler.execution-id>',
        }),
      },
    });
  });

  it('alarms on a failed, timed-out or aborted execution through the same topic as every other alarm', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm') as Record<string, { Properties: Json }>;
    const failed = alarms[logicalId(stack.alarms.executionsFailed!)]!.Properties;
    const topic = [ref(stack.alarms.ownTopic!)];
    expect(failed.AlarmActions).toEqual(topic);
    expect(failed.OKActions).toEqual(topic);
    expect(failed).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const metrics = (failed.Metrics as Json[]).filter((m) => m.MetricStat);
    expect(
      metrics.map((m) => {
        const stat = m.MetricStat as { Metric: Json; Stat: string; Period: number };
        return [stat.Metric.Namespace, stat.Metric.MetricName, stat.Metric.Dimensions, stat.Stat];
      }),
    ).toEqual(
      ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((name) => [
        'AWS/States',
        name,
        [{ Name: 'StateMachineArn', Value: ref(engineOfStack().stateMachine) }],
        'Sum',
      ]),
    );
    expect((failed.Metrics as Json[]).find((m) => m.ReturnData !== false)?.Expression).toBe(
      'failed + timedOut + aborted',
    );
    // Every alarm of the stack notifies that one topic.
    expect(Object.keys(alarms)).toHaveLength(8);
    for (const [id, alarm] of Object.entries(alarms)) {
      expect([id, alarm.Properties.AlarmActions, alarm.Properties.OKActions]).toEqual([id, topic, topic]);
    }
  });

  it('outputs the state machine and, as ScannerRoleArn, the scanBatch role named scannerRoleName', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const { scanBatch, discover, deliver } = STEP_FUNCTIONS();
    expect(outputs.StateMachineArn!.Value).toEqual(ref(engineOfStack().stateMachine));
    expect(outputs.ScannerRoleArn!.Value).toEqual(arnOf(scanBatch.role));
    expect(JSON.stringify(outputs.MemberRoleParameters!.Value)).toContain(
      JSON.stringify(arnOf(scanBatch.role)),
    );
    expect(resources[logicalId(scanBatch.role)]!.Properties.RoleName).toBe(
      stepFunctionsConfig.accounts.scannerRoleName,
    );
    // Only that role has the name the member roles trust.
    for (const other of [discover.role, deliver.role, engineOfStack().stateMachine.role]) {
      expect(resources[logicalId(other)]!.Properties.RoleName).toBeUndefined();
    }
  });

  it("lets only the deliver step's role (and the admin roles) read the webhook secret", () => {
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: ref(stack.webhookSecret.created!),
      ResourcePolicy: {
        Statement: [
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:GetSecretValue',
            Condition: {
              StringNotEquals: { 'aws:PrincipalArn': [arnOf(STEP_FUNCTIONS().deliver.role), ADMIN_ROLE] },
            },
          },
        ],
      },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// IAM's decisions on the synthesized policies.

/** The names CloudFormation would give: literal ARNs for the template's references. */
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:EngineWebhookSecret-AbCdEf`;
const OTHER_FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:payments-refund`;
const OTHER_BUCKET = 'arn:aws:s3:::payments-exports';
const RUN = '2026-11-23T12:00:00.000Z-exec-1';
const MEMBER_ROLE = `arn:aws:iam::${MEMBER_A}:role/credwatch-member`;
const IN_ORGANIZATION = { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' };
/**
 * A request on an account's items of the state table (partition key `account#ID`, as DynamoDB puts
 * it in `dynamodb:LeadingKeys` for every item request): what a step that only coordinates must not touch.
 */
const ACCOUNT_ITEMS = { 'dynamodb:LeadingKeys': [`account#${MEMBER_A}`] };

/** What CloudFormation would make of a reference to a resource of the template. */
function physical(id: string, attribute: 'Ref' | 'Arn'): string {
  const resource = resources[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  const name = `engine-${id.toLowerCase()}`;
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  switch (resource.Type) {
    case 'AWS::SecretsManager::Secret':
      return SECRET_ARN;
    case 'AWS::StepFunctions::StateMachine':
      return arn('states', `stateMachine:${name}`);
    case 'AWS::SNS::Topic':
      return arn('sns', name);
    case 'AWS::S3::Bucket':
      return attribute === 'Ref' ? name : `arn:aws:s3:::${name}`;
    case 'AWS::Lambda::Function':
      return attribute === 'Ref' ? name : arn('lambda', `function:${name}`);
    case 'AWS::Logs::LogGroup':
      return attribute === 'Ref' ? name : arn('logs', `log-group:${name}:*`);
    case 'AWS::DynamoDB::Table':
      return attribute === 'Ref' ? name : arn('dynamodb', `table/${name}`);
    case 'AWS::KMS::Key':
      return attribute === 'Ref'
        ? '11111111-2222-3333-4444-555555555555'
        : arn('kms', 'key/11111111-2222-3333-4444-555555555555');
    case 'AWS::SQS::Queue':
      return attribute === 'Ref'
        ? `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`
        : arn('sqs', name);
    case 'AWS::IAM::Role': {
      const roleName = (resource.Properties.RoleName as string | undefined) ?? name;
      return attribute === 'Ref' ? roleName : `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
    }
    case 'AWS::Scheduler::ScheduleGroup':
      return arn('scheduler', `schedule-group/${String(resource.Properties.Name ?? name)}`);
    default:
      throw new Error(`no physical name for ${id} (${resource.Type})`);
  }
}

/** A template fragment with every intrinsic replaced by the value CloudFormation would give it. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (!value || typeof value !== 'object') return value;
  const o = value as Json;
  if ('Ref' in o) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[o.Ref as string] ?? physical(o.Ref as string, 'Ref');
  }
  if ('Fn::GetAtt' in o) {
    const [id, attribute] = o['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn') throw new Error(`unresolved GetAtt ${id}.${attribute}`);
    return physical(id, 'Arn');
  }
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(sep);
  }
  if ('Fn::Split' in o) {
    const [sep, source] = o['Fn::Split'] as [string, unknown];
    return String(resolve(source)).split(sep);
  }
  if ('Fn::Select' in o) {
    const [index, list] = o['Fn::Select'] as [number, unknown];
    return (resolve(list) as unknown[])[index];
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
}

/** Every identity policy of a role: its inline policies and the AWS::IAM::Policy resources attached to it. */
function policiesOf(role: IConstruct): { name: string; policy: unknown }[] {
  const id = logicalId(role);
  const inline = (
    (resources[id]!.Properties.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]
  ).map((p) => ({ name: p.PolicyName, policy: resolve(p.PolicyDocument) }));
  const attached = Object.entries(resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === id),
    )
    .map(([policyId, r]) => ({ name: policyId, policy: resolve(r.Properties.PolicyDocument) }));
  return [...inline, ...attached];
}

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

interface Request {
  readonly context?: Record<string, string | string[]>;
  /** The resource's own policy (a trust policy, the secret's or the key's policy). */
  readonly resourcePolicy?: unknown;
  /** @default ACCOUNT */
  readonly resourceAccount?: string;
}

/** IAM's decision on one request of `role`'s session, under its identity policies and the resource's policy. */
async function decide(role: IConstruct, action: string, resource: string, request: Request = {}) {
  const principal = physical(logicalId(role), 'Arn');
  const result = await runSimulation(
    {
      identityPolicies: policiesOf(role) as never,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy as never } : {}),
      request: {
        action,
        principal,
        resource: { resource, accountId: request.resourceAccount ?? ACCOUNT },
        // For a role session IAM sets aws:PrincipalArn to the role's ARN.
        contextVariables: { 'aws:PrincipalArn': principal, ...request.context },
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult as Decision;
}

describe("least privilege of the engine's roles, simulated on the synthesized policies", () => {
  type Who = 'discover' | 'scanBatch' | 'deliver' | 'stateMachine';
  const roleOf = (who: Who): IConstruct => {
    const e = engineOfStack();
    return who === 'stateMachine' ? e.stateMachine.role : e[who].role;
  };
  const bucket = () => physical(logicalId(engineOfStack().runBucket), 'Arn');
  const object = (key: string) => `${bucket()}/${key}`;
  const table = () => physical(logicalId(stack.stateTable.table), 'Arn');
  const logStream = (who: Exclude<Who, 'stateMachine'>) =>
    `${physical(logicalId(engineOfStack()[who].logGroup), 'Arn').replace(/:\*$/, '')}:log-stream:2026/11/23/[$LATEST]abc`;
  const fn = (who: Exclude<Who, 'stateMachine'>) => physical(logicalId(engineOfStack()[who].function), 'Arn');
  const keyArn = () => physical(logicalId(stack.webhookSecret.createdKey!), 'Arn');
  const keyPolicy = () =>
    resolve(resources[logicalId(stack.webhookSecret.createdKey!)]!.Properties.KeyPolicy);
  const secretPolicy = () =>
    resolve(
      (
        Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy'))[0] as {
          Properties: { ResourcePolicy: unknown };
        }
      ).Properties.ResourcePolicy,
    );
  /** A member role that trusts `who`'s role: only `who`'s own policy decides. */
  const trusting = (who: Who) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: physical(logicalId(roleOf(who)), 'Arn') },
        Action: 'sts:AssumeRole',
      },
    ],
  });
  const assumeMember = (who: Who, context: Record<string, string> = IN_ORGANIZATION) =>
    decide(roleOf(who), 'sts:AssumeRole', MEMBER_ROLE, {
      resourceAccount: MEMBER_A,
      resourcePolicy: trusting(who),
      context,
    });
  const EVENT_BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;
  const VIA_SECRETS_MANAGER = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };

  /** [what, action, resource, request] for each check, resolved once the stack is synthesized. */
  type Check = [string, () => [action: string, resource: string, request?: Request]];
  const checks = (list: [string, string, () => string, Request?][]): Check[] =>
    list.map(([what, action, resource, request]) => [what, () => [action, resource(), request]]);

  describe('discover', () => {
    it.each(
      checks([
        ["lists the organization's accounts", 'organizations:ListAccounts', () => '*'],
        ["writes a run's account list", 's3:PutObject', () => object(`runs/${RUN}/accounts.json`)],
        ['writes its own logs', 'logs:PutLogEvents', () => logStream('discover')],
      ]),
    )('may: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('discover'), action, resource, options)).resolves.toBe('Allowed');
    });

    it.each(
      checks([
        [
          "read the account list it wrote (only the map's ItemReader does)",
          's3:GetObject',
          () => object(`runs/${RUN}/accounts.json`),
        ],
        ["write an account's delta", 's3:PutObject', () => object(`runs/${RUN}/deltas/${MEMBER_A}.json`)],
        ['write anything else of the run bucket', 's3:PutObject', () => object('accounts.json')],
        ['read the webhook secret', 'secretsmanager:GetSecretValue', () => SECRET_ARN],
        ["decrypt with the secret's key", 'kms:Decrypt', keyArn, { context: VIA_SECRETS_MANAGER }],
        ['query the state table', 'dynamodb:Query', table, { context: ACCOUNT_ITEMS }],
        ["write an account's state", 'dynamodb:PutItem', table, { context: ACCOUNT_ITEMS }],
        ["read an account's state", 'dynamodb:GetItem', table, { context: ACCOUNT_ITEMS }],
        ["delete an account's state", 'dynamodb:DeleteItem', table, { context: ACCOUNT_ITEMS }],
        [
          'write the event outbox',
          'dynamodb:BatchWriteItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['outbox'] } },
        ],
        [
          'mark a delivery on the run lease (only deliver does)',
          'dynamodb:UpdateItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['run#lease'] } },
        ],
        ['scan the state table', 'dynamodb:Scan', table],
        ['publish events', 'events:PutEvents', () => EVENT_BUS],
        [
          'describe an account',
          'organizations:DescribeAccount',
          () => `arn:aws:organizations::${ACCOUNT}:account/o-a1b2c3d4e5/${MEMBER_A}`,
        ],
        ["write another step's logs", 'logs:PutLogEvents', () => logStream('deliver')],
      ]),
    )('may not: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('discover'), action, resource, options)).resolves.toBe('ImplicitlyDenied');
    });

    it('may not assume a member role, even one that trusts it', async () => {
      await expect(assumeMember('discover')).resolves.toBe('ImplicitlyDenied');
    });
  });

  describe('scanBatch (the role member accounts trust)', () => {
    it('may assume the member role in an account of the organization', async () => {
      await expect(assumeMember('scanBatch')).resolves.toBe('Allowed');
    });

    it.each<[string, Record<string, string>]>([
      ['an account of another organization', { 'aws:ResourceOrgID': 'o-zzzzzzzzzz' }],
      ['an account in no organization', {}],
    ])('may not assume the member role in %s', async (_what, context) => {
      await expect(assumeMember('scanBatch', context)).resolves.toBe('ImplicitlyDenied');
    });

    it('may not assume another role of a member account that trusts it', async () => {
      await expect(
        decide(
          roleOf('scanBatch'),
          'sts:AssumeRole',
          `arn:aws:iam::${MEMBER_A}:role/OrganizationAccountAccessRole`,
          {
            resourceAccount: MEMBER_A,
            resourcePolicy: trusting('scanBatch'),
            context: IN_ORGANIZATION,
          },
        ),
      ).resolves.toBe('ImplicitlyDenied');
    });

    it.each(
      checks([
        ["queries the accounts' remembered states", 'dynamodb:Query', table, { context: ACCOUNT_ITEMS }],
        ["writes an account's delta", 's3:PutObject', () => object(`runs/${RUN}/deltas/${MEMBER_A}.json`)],
        ['writes its own logs', 'logs:PutLogEvents', () => logStream('scanBatch')],
      ]),
    )('may: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('scanBatch'), action, resource, options)).resolves.toBe('Allowed');
    });

    it.each(
      checks([
        ['write the state table', 'dynamodb:PutItem', table, { context: ACCOUNT_ITEMS }],
        ['delete from the state table', 'dynamodb:DeleteItem', table, { context: ACCOUNT_ITEMS }],
        [
          'write the event outbox',
          'dynamodb:BatchWriteItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['outbox'] } },
        ],
        ['scan the state table', 'dynamodb:Scan', table],
        ['read the webhook secret', 'secretsmanager:GetSecretValue', () => SECRET_ARN],
        ["decrypt with the secret's key", 'kms:Decrypt', keyArn, { context: VIA_SECRETS_MANAGER }],
        ['publish events', 'events:PutEvents', () => EVENT_BUS],
        ["list the organization's accounts", 'organizations:ListAccounts', () => '*'],
        ["write a run's account list", 's3:PutObject', () => object(`runs/${RUN}/accounts.json`)],
        ["read an account's delta", 's3:GetObject', () => object(`runs/${RUN}/deltas/${MEMBER_A}.json`)],
        ['read its own IAM', 'iam:GetAccountAuthorizationDetails', () => '*'],
        [
          'mark a delivery on the run lease',
          'dynamodb:UpdateItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['run#lease'] } },
        ],
      ]),
    )('may not: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('scanBatch'), action, resource, options)).resolves.toBe('ImplicitlyDenied');
    });
  });

  describe('deliver', () => {
    it.each(
      checks([
        ['reads the webhook secret', 'secretsmanager:GetSecretValue', () => SECRET_ARN],
        ['queries the state table', 'dynamodb:Query', table, { context: ACCOUNT_ITEMS }],
        ['commits to the state table', 'dynamodb:PutItem', table, { context: ACCOUNT_ITEMS }],
        [
          "moves a finding's state to its channel's key",
          'dynamodb:DeleteItem',
          table,
          { context: ACCOUNT_ITEMS },
        ],
        [
          'writes and empties the event outbox, 25 entries a request',
          'dynamodb:BatchWriteItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['outbox'] } },
        ],
        [
          'reads the record of a posted Slack message',
          'dynamodb:GetItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['thread#C0123456789'] } },
        ],
        ['publishes events on the default bus', 'events:PutEvents', () => EVENT_BUS],
        [
          'marks the start of its delivery on the run lease',
          'dynamodb:UpdateItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['run#lease'] } },
        ],
        [
          'reads the run lease (why a delivery is refused)',
          'dynamodb:GetItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['run#lease'] } },
        ],
        ["reads a run's account list", 's3:GetObject', () => object(`runs/${RUN}/accounts.json`)],
        ["reads an account's delta", 's3:GetObject', () => object(`runs/${RUN}/deltas/${MEMBER_A}.json`)],
        ["lists a run's objects", 's3:ListBucket', bucket, { context: { 's3:prefix': `runs/${RUN}/` } }],
        ['writes its own logs', 'logs:PutLogEvents', () => logStream('deliver')],
      ]),
    )('may: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('deliver'), action, resource, options)).resolves.toBe('Allowed');
    });

    it("may decrypt the secret through Secrets Manager only (the key's own policy included)", async () => {
      const on = (context: Record<string, string>) =>
        decide(roleOf('deliver'), 'kms:Decrypt', keyArn(), { context, resourcePolicy: keyPolicy() });
      await expect(on(VIA_SECRETS_MANAGER)).resolves.toBe('Allowed');
      await expect(on({})).resolves.toBe('ImplicitlyDenied');
    });

    it("may read the secret past its resource policy, which denies the other steps' roles", async () => {
      await expect(
        decide(roleOf('deliver'), 'secretsmanager:GetSecretValue', SECRET_ARN, {
          resourcePolicy: secretPolicy(),
        }),
      ).resolves.toBe('Allowed');
    });

    it.each(
      checks([
        ["write an account's delta", 's3:PutObject', () => object(`runs/${RUN}/deltas/${MEMBER_A}.json`)],
        ["write a run's account list", 's3:PutObject', () => object(`runs/${RUN}/accounts.json`)],
        ["delete a run's objects", 's3:DeleteObject', () => object(`runs/${RUN}/accounts.json`)],
        [
          'list the run bucket outside runs/',
          's3:ListBucket',
          bucket,
          { context: { 's3:prefix': 'other/' } },
        ],
        ['list the whole run bucket', 's3:ListBucket', bucket],
        ['read another bucket', 's3:GetObject', () => `${OTHER_BUCKET}/runs/${RUN}/accounts.json`],
        ["list the organization's accounts", 'organizations:ListAccounts', () => '*'],
        [
          'read another secret',
          'secretsmanager:GetSecretValue',
          () => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-XyZ987`,
        ],
        ['update the state table', 'dynamodb:UpdateItem', table, { context: ACCOUNT_ITEMS }],
        [
          'update the lease and an account in one request',
          'dynamodb:UpdateItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['run#lease', `account#${MEMBER_A}`] } },
        ],
        ['update an item without naming its partition', 'dynamodb:UpdateItem', table],
        [
          "batch-write an account's states (past their conditional PutItem)",
          'dynamodb:BatchWriteItem',
          table,
          { context: ACCOUNT_ITEMS },
        ],
        [
          'batch-write the outbox and an account in one request',
          'dynamodb:BatchWriteItem',
          table,
          { context: { 'dynamodb:LeadingKeys': ['outbox', `account#${MEMBER_A}`] } },
        ],
        ['batch-write without naming the partitions', 'dynamodb:BatchWriteItem', table],
        ["get an account's item one by one", 'dynamodb:GetItem', table, { context: ACCOUNT_ITEMS }],
        [
          'publish on another bus',
          'events:PutEvents',
          () => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/payments`,
        ],
      ]),
    )('may not: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('deliver'), action, resource, options)).resolves.toBe('ImplicitlyDenied');
    });

    it('may not assume a member role, even one that trusts it', async () => {
      await expect(assumeMember('deliver')).resolves.toBe('ImplicitlyDenied');
    });
  });

  describe("the state machine's role", () => {
    it.each<Exclude<Who, 'stateMachine'>>(['discover', 'scanBatch', 'deliver'])(
      'may invoke the %s step (and its versions)',
      async (step) => {
        await expect(decide(roleOf('stateMachine'), 'lambda:InvokeFunction', fn(step))).resolves.toBe(
          'Allowed',
        );
        await expect(decide(roleOf('stateMachine'), 'lambda:InvokeFunction', `${fn(step)}:7`)).resolves.toBe(
          'Allowed',
        );
      },
    );

    it('invokes exactly the three steps: every function it may invoke is one of them', () => {
      const invocable = policiesOf(roleOf('stateMachine'))
        .flatMap((p) => (p.policy as { Statement: Json[] }).Statement)
        .filter((s) => ([s.Action].flat() as string[]).some((a) => a.startsWith('lambda:')))
        .flatMap((s) => {
          expect(s.Action).toBe('lambda:InvokeFunction');
          return [s.Resource].flat() as string[];
        })
        .sort();
      const steps = (['discover', 'scanBatch', 'deliver'] as const).map(fn);
      expect(invocable).toEqual([...steps, ...steps.map((arn) => `${arn}:*`)].sort());
    });

    it.each(
      checks([
        [
          "reads a run's account list (the map's ItemReader)",
          's3:GetObject',
          () => object(`runs/${RUN}/accounts.json`),
        ],
        [
          'starts its own map children',
          'states:StartExecution',
          () => physical(logicalId(engineOfStack().stateMachine), 'Ref'),
        ],
      ]),
    )('may: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('stateMachine'), action, resource, options)).resolves.toBe('Allowed');
    });

    it.each(
      checks([
        ['invoke another function', 'lambda:InvokeFunction', () => OTHER_FUNCTION],
        ['write the run bucket', 's3:PutObject', () => object(`runs/${RUN}/accounts.json`)],
        ["delete the run bucket's objects", 's3:DeleteObject', () => object(`runs/${RUN}/accounts.json`)],
        ['read another bucket', 's3:GetObject', () => `${OTHER_BUCKET}/runs/${RUN}/accounts.json`],
        [
          'start another state machine',
          'states:StartExecution',
          () => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:payments-refunds`,
        ],
        ['read the webhook secret', 'secretsmanager:GetSecretValue', () => SECRET_ARN],
        ['query the state table', 'dynamodb:Query', table, { context: ACCOUNT_ITEMS }],
        ['publish events', 'events:PutEvents', () => EVENT_BUS],
        ["list the organization's accounts", 'organizations:ListAccounts', () => '*'],
      ]),
    )('may not: %s', async (_what, request) => {
      const [action, resource, options] = request();
      await expect(decide(roleOf('stateMachine'), action, resource, options)).resolves.toBe(
        'ImplicitlyDenied',
      );
    });

    it('may not assume a member role, even one that trusts it', async () => {
      await expect(assumeMember('stateMachine')).resolves.toBe('ImplicitlyDenied');
    });
  });

  it.each<Who>(['discover', 'scanBatch', 'stateMachine'])(
    "keeps the %s role from reading the webhook secret whatever its own policies allow (the secret's policy)",
    async (who) => {
      const result = await runSimulation(
        {
          identityPolicies: [
            {
              name: 'AdministratorAccess',
              policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
            },
          ] as never,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: secretPolicy() as never,
          request: {
            action: 'secretsmanager:GetSecretValue',
            principal: physical(logicalId(roleOf(who)), 'Arn'),
            resource: { resource: SECRET_ARN, accountId: ACCOUNT },
            contextVariables: { 'aws:PrincipalArn': physical(logicalId(roleOf(who)), 'Arn') },
          },
        },
        {},
      );
      if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
      expect(result.overallResult).toBe('ExplicitlyDenied');
    },
  );

  it.each<[string, () => string, Decision]>([
    ['this state machine', () => physical(logicalId(engineOfStack().stateMachine), 'Ref'), 'Allowed'],
    [
      'another state machine',
      () => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:payments-refunds`,
      'ImplicitlyDenied',
    ],
  ])("lets the schedule's role start %s: %s", async (_what, target, expected) => {
    await expect(decide(stack.schedule.role, 'states:StartExecution', target())).resolves.toBe(expected);
  });

  it("keeps the schedule's role from invoking any step directly", async () => {
    for (const step of ['discover', 'scanBatch', 'deliver'] as const) {
      await expect(decide(stack.schedule.role, 'lambda:InvokeFunction', fn(step))).resolves.toBe(
        'ImplicitlyDenied',
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('cdk-nag on the Engine stack', () => {
  /** Every acknowledgement on the stack's constructs: [construct path, finding id, reason]. */
  const acknowledgements = (s: Stack): [string, string, unknown][] =>
    s.node
      .findAll()
      .flatMap((c) => c.node.metadata.map((entry) => [c.node.path, entry] as const))
      .filter(([, entry]) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap(([where, entry]) =>
        Object.entries(entry.data as Json).map(([id, reason]): [string, string, unknown] => [
          where,
          id.replace(/^annotation::/i, ''),
          reason,
        ]),
      );
  /** The packs' findings with acknowledgements ignored (NagPack's private check, replaced here only). */
  const reported = (s: Stack) =>
    new Set(
      [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) => {
        (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
        return pack.validateScope(s).violations.map((v) => v.ruleName);
      }),
    );

  it('finds nothing unacknowledged (AwsSolutions, Serverless)', () => {
    const violations = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap(
      (pack) => pack.validateScope(stack).violations,
    );
    expect(
      violations.map(
        (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
  });

  it('acknowledges only findings the packs really report, each under its exact id', () => {
    const acknowledged = new Set(acknowledgements(stack).map(([, id]) => id));
    const found = reported(stack);
    expect([...acknowledged].filter((id) => !found.has(id))).toEqual([]);
    expect([...found].filter((id) => !acknowledged.has(id))).toEqual([]);
  });

  it('gives every acknowledgement an exact finding id and a reason', () => {
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(10);
    for (const [, id, reason] of acks) {
      // A finding's resource may itself hold brackets (an Fn::Select in the map policy's ARN).
      expect(id).toMatch(/^(?:AwsSolutions|Serverless)-[A-Za-z0-9]+(?:\[.+\])?$/);
      expect(typeof reason === 'string' ? reason.length : 0).toBeGreaterThan(40);
    }
  });

  it("acknowledges the engine's findings where they are: the run bucket, each role, each step", () => {
    const e = engineOfStack();
    const on = (c: IConstruct) =>
      acknowledgements(stack)
        .filter(([where]) => where === c.node.path)
        .map(([, id]) => id)
        .sort();
    const bucket = logicalId(e.runBucket);
    expect(on(e.runBucket)).toEqual(['AwsSolutions-S1']);
    expect(on(e.discover.role)).toEqual(
      [
        'AwsSolutions-IAM5[Resource::*]',
        `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/runs/*/accounts.json]`,
        'Serverless-LambdaStarPermissions',
      ].sort(),
    );
    expect(on(e.scanBatch.role)).toEqual(
      [
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/credwatch-member]',
        `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/runs/*/deltas/*]`,
        'Serverless-LambdaStarPermissions',
      ].sort(),
    );
    expect(on(e.deliver.role)).toEqual(
      [`AwsSolutions-IAM5[Resource::<${bucket}.Arn>/runs/*]`, 'Serverless-LambdaStarPermissions'].sort(),
    );
    for (const step of [e.discover, e.scanBatch, e.deliver]) {
      expect(on(step.function)).toEqual(['Serverless-LambdaDLQ', 'Serverless-LambdaTracing']);
    }
    expect(on(e.stateMachine.role)).toEqual(
      [
        'AwsSolutions-IAM5[Resource::*]',
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<${bucket}>/*]`,
        ...[e.discover, e.scanBatch, e.deliver].map(
          (step) => `AwsSolutions-IAM5[Resource::<${logicalId(step.function)}.Arn>:*]`,
        ),
      ].sort(),
    );
  });

  it('names in its reason every action the state machine\'s role has on "*"', () => {
    const e = engineOfStack();
    const onStar = policiesOf(e.stateMachine.role)
      .flatMap((p) => (p.policy as { Statement: Json[] }).Statement)
      .filter((s) => ([s.Resource].flat() as string[]).includes('*'))
      .flatMap((s) => [s.Action].flat() as string[]);
    expect(onStar.length).toBeGreaterThan(0);
    const reason = String(
      acknowledgements(stack).find(
        ([where, id]) => where === e.stateMachine.role.node.path && id === 'AwsSolutions-IAM5[Resource::*]',
      )?.[2],
    );
    // An operator reviewing the acknowledgement must see everything it lets through on "*".
    const named = (action: string) => {
      const [service, name] = action.split(':') as [string, string];
      return reason.includes(action) || (reason.includes(name) && reason.includes(service));
    };
    expect(onStar.filter((action) => !named(action))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('cfn-lint 1.51 on the Engine template (a second opinion)', () => {
  interface Match {
    readonly Rule: { readonly Id: string };
    readonly Level: 'Error' | 'Warning' | 'Informational';
    readonly Message: string;
    readonly Filename: string;
    readonly Location: { readonly Path?: readonly (string | number)[] | null };
  }
  const lint = (executable: string, files: string[], cwd: string) =>
    new Promise<Match[]>((resolvePromise, reject) => {
      execFile(
        executable,
        ['--format', 'json', '--regions', 'ALL_REGIONS', '--', ...files],
        { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
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

  it('finds no error in the template (and does find the errors of a broken control template)', async () => {
    const executable = findExecutable('cfn-lint');
    if (!executable) throw new Error('cfn-lint is not on PATH: pip install cfn-lint==1.51.0');
    const dir = mkdtempSync(path.join(tmpdir(), 'credwatch-sfn-cfn-lint-'));
    try {
      const file = path.join(dir, 'Engine.template.json');
      writeFileSync(file, JSON.stringify(template.toJSON(), null, 1));
      const control = path.join(dir, 'control.template.json');
      writeFileSync(
        control,
        JSON.stringify({
          Resources: {
            Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { RoleArn: 7, Bogus: 1 } },
          },
        }),
      );
      const matches = await lint(executable, [file, control], dir);
      const errorsIn = (f: string) =>
        matches
          .filter((m) => m.Level === 'Error' && path.resolve(dir, m.Filename) === f)
          .map((m) => `${m.Rule.Id} ${(m.Location.Path ?? []).join('/')}: ${m.Message}`);
      expect(errorsIn(control).some((e) => e.includes('Bogus'))).toBe(true);
      expect(errorsIn(file)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
