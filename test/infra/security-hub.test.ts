/**
 * `securityHub` (docs/operations.md, "Security Hub"): from the configuration to the function
 * environment (`CREDWATCH_SECURITY_HUB`, read by lambda/env.ts) and the scanner role, which may then
 * import findings into its own account's default product and nothing else, proven on the synthesized
 * policy with @cloud-copilot/iam-simulate.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { defaultProductArn } from '../../lambda/adapters/security-hub';
import { readEnv } from '../../lambda/env';
import { ConfigError, loadConfig } from '../../lib/config';
import { CredwatchStack } from '../../lib/credwatch-stack';
import { decideForScanner } from './support';

type Json = Record<string, unknown>;

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as { context: Json };
/** The CDK context key that limits bundling to the stacks it names; none = no bundling. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

describe('the securityHub configuration field', () => {
  it('defaults to false and keeps what it is given', () => {
    expect(loadConfig({}, 'test').securityHub).toBe(false);
    expect(loadConfig({ securityHub: true }, 'test').securityHub).toBe(true);
    expect(loadConfig({ securityHub: false }, 'test').securityHub).toBe(false);
  });

  it.each([['true'], [1], [null]])('refuses %j, naming the field', (value) => {
    let error: unknown;
    try {
      loadConfig({ securityHub: value }, 'credwatch.config.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `credwatch.config.json: securityHub: expected true or false, got ${JSON.stringify(value)}`,
    );
  });
});

describe('CREDWATCH_SECURITY_HUB', () => {
  const base = { CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10' };
  it('is read as a boolean: "true" on, absent or "false" off', () => {
    expect(readEnv({ ...base, CREDWATCH_SECURITY_HUB: 'true' }).securityHub).toBe(true);
    expect(readEnv({ ...base, CREDWATCH_SECURITY_HUB: 'false' }).securityHub).toBe(false);
    expect(readEnv(base).securityHub).toBe(false);
  });
  it('refuses anything else, naming the variable', () => {
    expect(() => readEnv({ ...base, CREDWATCH_SECURITY_HUB: 'yes' })).toThrow(
      'environment: CREDWATCH_SECURITY_HUB: CREDWATCH_SECURITY_HUB must be "true", "false" or absent',
    );
  });
});

describe('the scanner with securityHub', () => {
  const stacks: Partial<Record<string, CredwatchStack>> = {};
  const configs: Record<string, Json> = {
    Off: { alarmEmails: ['secops@example.com'] },
    On: { alarmEmails: ['secops@example.com'], securityHub: true },
    ListedOn: {
      alarmEmails: ['secops@example.com'],
      securityHub: true,
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

  /** Ref of pseudo parameters and Fn::Join; anything else (a resource's ARN) as a marker string. */
  function resolve(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(resolve);
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    if ('Ref' in o) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::AccountId': ACCOUNT,
        'AWS::Region': REGION,
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

  /** The scanner role's policy document, with the stack's pseudo parameters resolved. */
  function scannerPolicy(name: string): { Statement: Json[] } {
    const s = stack(name);
    const logicalId = s.getLogicalId(s.scanner.role.node.defaultChild as CfnResource);
    const role = (templateOf(name).Resources as Record<string, { Properties: Json }>)[logicalId]!;
    const [policy] = role.Properties.Policies as { PolicyDocument: unknown }[];
    return resolve(policy!.PolicyDocument) as { Statement: Json[] };
  }

  const securityHubStatements = (name: string) =>
    scannerPolicy(name).Statement.filter((s) =>
      [s.Action].flat().some((a) => String(a).startsWith('securityhub:')),
    );

  const environmentOf = (name: string): Json => {
    const fn = Object.values(
      templateOf(name).Resources as Record<string, { Type: string; Properties: Json }>,
    ).find((r) => r.Type === 'AWS::Lambda::Function')!;
    return (fn.Properties.Environment as { Variables: Json }).Variables;
  };

  const PRODUCT = defaultProductArn('aws', REGION, ACCOUNT);

  it('off (the default): no Security Hub grant and no CREDWATCH_SECURITY_HUB', () => {
    expect(securityHubStatements('Off')).toEqual([]);
    expect(environmentOf('Off').CREDWATCH_SECURITY_HUB).toBeUndefined();
  });

  it.each(['On', 'ListedOn'])(
    '%s: BatchImportFindings on its own default product only, and CREDWATCH_SECURITY_HUB=true',
    (name) => {
      expect(securityHubStatements(name)).toEqual([
        {
          Sid: 'ExportToSecurityHub',
          Effect: 'Allow',
          Action: 'securityhub:BatchImportFindings',
          Resource: PRODUCT,
        },
      ]);
      expect(environmentOf(name).CREDWATCH_SECURITY_HUB).toBe('true');
    },
  );

  it.each(['Off', 'On'])('%s: cdk-nag finds nothing unacknowledged', (name) => {
    const violations = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap(
      (pack) => pack.validateScope(stack(name)).violations,
    );
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  });

  describe('least privilege, simulated on the synthesized policy', () => {
    const decide = (name: string, action: string, resource: string) =>
      decideForScanner(scannerPolicy(name), action, resource);

    const hub = `arn:aws:securityhub:${REGION}:${ACCOUNT}:hub/default`;
    it.each<[string, string, string, 'Allowed' | 'ImplicitlyDenied']>([
      ['On', 'securityhub:BatchImportFindings', PRODUCT, 'Allowed'],
      ['ListedOn', 'securityhub:BatchImportFindings', PRODUCT, 'Allowed'],
      ['Off', 'securityhub:BatchImportFindings', PRODUCT, 'ImplicitlyDenied'],
      // Another product (the simulator needs an account in the ARN), another account's default
      // product, another region's.
      [
        'On',
        'securityhub:BatchImportFindings',
        `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/aws/guardduty`,
        'ImplicitlyDenied',
      ],
      [
        'On',
        'securityhub:BatchImportFindings',
        defaultProductArn('aws', REGION, '111122223333'),
        'ImplicitlyDenied',
      ],
      [
        'On',
        'securityhub:BatchImportFindings',
        defaultProductArn('aws', 'us-east-1', ACCOUNT),
        'ImplicitlyDenied',
      ],
      // The customer's side of findings, and reading them: not the scanner's.
      ['On', 'securityhub:BatchUpdateFindings', hub, 'ImplicitlyDenied'],
      ['On', 'securityhub:GetFindings', hub, 'ImplicitlyDenied'],
      ['On', 'securityhub:DisableSecurityHub', hub, 'ImplicitlyDenied'],
    ])('%s: %s on %s is %s', async (name, action, resource, expected) => {
      await expect(decide(name, action, resource)).resolves.toBe(expected);
    });
  });
});
