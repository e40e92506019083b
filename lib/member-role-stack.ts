/**
 * The member-account stack: the role the credwatch scanner assumes in each scanned account
 * (docs/organization.md). One template, with parameters, serves every account: it is committed as
 * templates/credwatch-member-role.template.json and deployed with a service-managed StackSet (or as
 * a plain stack). It needs no CDK bootstrap: no assets, no bootstrap version rule, no CDK metadata.
 *
 * Regenerate the committed template (test/infra/member-role.test.ts checks it is up to date):
 *   npx tsx lib/member-role-stack.ts > templates/credwatch-member-role.template.json
 *   npx biome format --write templates/credwatch-member-role.template.json
 *
 * With enforcement in mode `enforce` (docs/deploy.md, "Enforcement"), the member roles must also
 * deactivate access keys: that template is synthesized from the deployment's configuration file,
 *   npx tsx lib/member-role-stack.ts --config credwatch.config.json > member-role.template.json
 * and is the committed one with the statements of scanner-function.ts `deactivationStatements` added.
 */
import {
  App,
  BootstraplessSynthesizer,
  CfnCondition,
  CfnOutput,
  CfnParameter,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  ConfigError,
  type CredwatchConfig,
  EXTERNAL_ID,
  enforcementSettings,
  enforces,
  loadConfig,
  ORGANIZATION_ID,
  ROLE_NAME,
  readConfigFile,
  USER_DIRECTORY_MODES,
} from './config';
import { DEFAULT_MEMBER_ROLE_NAME, MemberRole, type MemberRoleEnforcement } from './constructs/member-role';

/** The stack's name in the CDK app, and the name of the plain stack in docs/organization.md. */
export const MEMBER_ROLE_STACK_NAME = 'CredwatchMemberRole';
/** Where the synthesized template is committed, relative to the repository root. */
export const MEMBER_ROLE_TEMPLATE_FILE = 'templates/credwatch-member-role.template.json';

/** A CloudFormation AllowedPattern from a validation regex of lib/config/patterns.ts, optionally allowing ''. */
const pattern = (re: RegExp, orEmpty: boolean) => (orEmpty ? `^$|${re.source}` : re.source);

export interface CredwatchMemberRoleStackProps extends StackProps {
  /**
   * Let the role deactivate access keys (enforcement mode `enforce`; {@link memberRoleEnforcement}
   * from the configuration). @default none: the committed, read-only template
   */
  readonly enforcement?: MemberRoleEnforcement;
}

/**
 * What the member roles of a deployment need for its enforcement: the protected users when some
 * policy (the deployment's or an account's) has mode `enforce` and the deployment scans member
 * accounts; `undefined` otherwise (`off` and `dry-run` only read: the committed template).
 */
export function memberRoleEnforcement(
  config: Pick<CredwatchConfig, 'accounts' | 'enforcement'>,
): MemberRoleEnforcement | undefined {
  if (config.accounts.source === 'self' || !enforces(enforcementSettings(config.enforcement)))
    return undefined;
  return { protectedUsers: [...config.enforcement.protectedUsers] };
}

/**
 * The member role with its settings as CloudFormation parameters: `ScannerRoleArn` (required),
 * `ExternalId` and `OrganizationId` (`''` = no such trust condition), `RoleName`, `UserDirectory`
 * (how the scanner reads users: GetAccountAuthorizationDetails, or ListUsers and ListUserTags).
 */
export class CredwatchMemberRoleStack extends Stack {
  readonly scannerRoleArn: CfnParameter;
  readonly externalId: CfnParameter;
  readonly organizationId: CfnParameter;
  readonly roleName: CfnParameter;
  readonly userDirectory: CfnParameter;
  readonly memberRole: MemberRole;

  constructor(scope: Construct, id: string, props: CredwatchMemberRoleStackProps = {}) {
    const { enforcement, ...stackProps } = props;
    super(scope, id, {
      description: enforcement
        ? 'credwatch member role: lets the credwatch scanner read IAM credential metadata and deactivate access keys (enforcement) in this account (docs/organization.md, docs/deploy.md)'
        : 'credwatch member role: lets the credwatch scanner read IAM credential metadata in this account (docs/organization.md)',
      // Deployable by StackSets and plain CloudFormation: no bootstrap resources, no CDK metadata.
      synthesizer: new BootstraplessSynthesizer(),
      analyticsReporting: false,
      ...stackProps,
    });

    this.scannerRoleArn = new CfnParameter(this, 'ScannerRoleArn', {
      type: 'String',
      description: 'ARN of the credwatch scanner role (output ScannerRoleArn of the Credwatch stack)',
      allowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[A-Za-z0-9_+=,.@/-]+$',
      constraintDescription: 'must be an IAM role ARN: arn:PARTITION:iam::ACCOUNT:role/NAME',
    });
    this.externalId = new CfnParameter(this, 'ExternalId', {
      type: 'String',
      default: '',
      description: 'The external id the scanner presents (accounts.externalId); empty: none required',
      allowedPattern: pattern(EXTERNAL_ID, true),
      constraintDescription: 'must be empty or 2-1224 characters of A-Z a-z 0-9 + = , . @ : / _ -',
    });
    this.organizationId = new CfnParameter(this, 'OrganizationId', {
      type: 'String',
      default: '',
      description:
        "The scanner's organization id (o-...) for an aws:PrincipalOrgID condition (accounts.organizationId); empty: none",
      allowedPattern: pattern(ORGANIZATION_ID, true),
      constraintDescription: 'must be empty or an organization id: o- and 10-32 lowercase letters or digits',
    });
    this.roleName = new CfnParameter(this, 'RoleName', {
      type: 'String',
      default: DEFAULT_MEMBER_ROLE_NAME,
      description: 'The name of the member role (accounts.memberRoleName)',
      allowedPattern: pattern(ROLE_NAME, false),
      constraintDescription: 'must be an IAM role name: 1-64 characters of A-Z a-z 0-9 + = , . @ _ -',
    });
    this.userDirectory = new CfnParameter(this, 'UserDirectory', {
      type: 'String',
      default: 'authorization-details',
      allowedValues: [...USER_DIRECTORY_MODES],
      description:
        "How the scanner reads users and tags (the scanner's userDirectory): authorization-details allows iam:GetAccountAuthorizationDetails (which can read every policy document); list-users allows iam:ListUsers and iam:ListUserTags instead",
    });

    this.memberRole = new MemberRole(this, 'MemberRole', {
      scannerRoleArn: this.scannerRoleArn.valueAsString,
      roleName: this.roleName.valueAsString,
      externalId: this.externalId.valueAsString,
      organizationId: this.organizationId.valueAsString,
      userDirectory: this.userDirectory.valueAsString,
      ...(enforcement ? { enforcement } : {}),
    });
    // Fixed logical ids: the template is a contract deployed to every account (a changed role id
    // would replace the role, which fails on its fixed name).
    this.memberRole.resource.overrideLogicalId('MemberRole');
    for (const condition of this.memberRole.node.findAll()) {
      if (condition instanceof CfnCondition) condition.overrideLogicalId(condition.node.id);
    }

    new CfnOutput(this, 'RoleArn', { value: this.memberRole.roleArn });

    Validations.of(this.memberRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'iam:GenerateCredentialReport, iam:GetCredentialReport, iam:ListAccountAliases, iam:ListVirtualMFADevices and iam:GetAccountAuthorizationDetails or (UserDirectory list-users) iam:ListUsers have no resource type; IAM accepts only "*" for them. All of them only read.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]',
        reason: enforcement
          ? 'iam:ListAccessKeys, iam:GetAccessKeyLastUsed and (UserDirectory list-users) iam:ListUserTags must read every IAM user of the account (read-only), and enforcement (mode enforce) deactivates the keys of any user that reaches its deactivation age with iam:UpdateAccessKey (the only IAM write; explicitly denied on users tagged credwatch:protected and on enforcement.protectedUsers); the user ARN pattern is the narrowest resource that covers them.'
          : 'iam:ListAccessKeys, iam:GetAccessKeyLastUsed and (UserDirectory list-users) iam:ListUserTags must read every IAM user of the account (read-only); the user ARN pattern is the narrowest resource that covers them.',
      },
    );
  }
}

/**
 * The member-role template as committed: synthesized on its own (no context, no feature flags), as
 * pretty-printed JSON with a final newline. With `enforcement`, the template for a deployment that
 * enforces (not committed: it depends on the configuration).
 */
export function memberRoleTemplate(enforcement?: MemberRoleEnforcement): string {
  const app = new App({ analyticsReporting: false });
  const stack = new CredwatchMemberRoleStack(app, MEMBER_ROLE_STACK_NAME, enforcement ? { enforcement } : {});
  const template = app.synth().getStackArtifact(stack.artifactId).template as unknown;
  return `${JSON.stringify(template, null, 2)}\n`;
}

/**
 * The template for `argv`: none, the committed one; `--config FILE`, the one FILE's configuration
 * needs (with the deactivation statements when it enforces in member accounts).
 * @throws ConfigError for other arguments, or a configuration FILE refuses
 */
export function memberRoleTemplateFor(argv: readonly string[]): string {
  if (argv.length === 0) return memberRoleTemplate();
  if (argv.length !== 2 || argv[0] !== '--config') {
    throw new ConfigError(`expected no arguments or --config FILE, got ${JSON.stringify(argv.join(' '))}`);
  }
  const file = argv[1]!;
  const raw = readConfigFile(file);
  if (raw === undefined) throw new ConfigError(`${file}: no such file`);
  return memberRoleTemplate(memberRoleEnforcement(loadConfig(raw, file)));
}

if (require.main === module) {
  try {
    process.stdout.write(memberRoleTemplateFor(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`credwatch member role: ${err.message}\n`);
    process.exit(1);
  }
}
