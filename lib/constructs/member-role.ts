import { Aws, CfnCondition, Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { UserDirectoryMode } from '../../lambda/adapters/iam';
import { ConfigError } from '../../lambda/core/errors';
import { credentialReadStatements, deactivationStatements } from './scanner-function';

/** The member role's name unless configured otherwise (`accounts.memberRoleName`). */
export const DEFAULT_MEMBER_ROLE_NAME = 'credwatch-member';
/** The longest session the scanner can ask the member role for, in seconds. */
export const MEMBER_SESSION_SECONDS = 3600;

export interface MemberRoleProps {
  /** ARN of the credwatch scanner's role: the only principal the role trusts. May be a token. */
  readonly scannerRoleArn: string;
  /** @default DEFAULT_MEMBER_ROLE_NAME ('credwatch-member') */
  readonly roleName?: string;
  /**
   * The external id AssumeRole must present (`sts:ExternalId`). A token (a CfnParameter) that
   * resolves to `''` means none: the condition is then left out by a CloudFormation condition.
   * @default none
   */
  readonly externalId?: string;
  /**
   * The organization the scanner's account must belong to (`aws:PrincipalOrgID`). A token that
   * resolves to `''` means none, as for `externalId`.
   * @default none
   */
  readonly organizationId?: string;
  /**
   * How the scanner reads users and their tags in this account (lib/config/scanner.ts `userDirectory`): the
   * role may call `iam:GetAccountAuthorizationDetails` (`authorization-details`) or `iam:ListUsers`
   * and `iam:ListUserTags` (`list-users`), never both. A token (a CfnParameter) chooses at deploy time,
   * through the CloudFormation condition `ListsUsers`.
   * @default 'authorization-details'
   */
  readonly userDirectory?: UserDirectoryMode | string;
  /**
   * Enforcement in mode `enforce` in some scanned account (lib/config/enforcement.ts): the role may
   * also deactivate access keys, `iam:UpdateAccessKey` on the account's users, explicitly denied on
   * users tagged `credwatch:protected` and on `protectedUsers` (scanner-function.ts
   * `deactivationStatements`, the same statements the scanner gets in its own account). Fixed at
   * synth: the committed template (no enforcement) stays read-only.
   * @default none: read-only
   */
  readonly enforcement?: MemberRoleEnforcement;
}

/** What a member role that deactivates access keys needs to know (lib/member-role-stack.ts `memberRoleEnforcement`). */
export interface MemberRoleEnforcement {
  /** `enforcement.protectedUsers`: IAM user names (a trailing `*` is a prefix) whose keys are never updated. */
  readonly protectedUsers: readonly string[];
}

type StatementJson = { readonly Sid?: string } & Record<string, unknown>;

/**
 * The role's permission statements for a directory mode; for a token, both modes' statements merged
 * by Sid, each statement that differs chosen whole by the condition (true: `list-users`), so that each
 * mode deploys exactly the statements credentialReadStatements gives the scanner for it. (cdk-nag does
 * not look into Fn::If: the chosen statements have the resources of the plain ones, `*` and `user/*`.)
 */
function memberStatements(
  scope: Construct,
  userDirectory: string,
  conditionFor: () => CfnCondition,
): unknown[] {
  const json = (mode: UserDirectoryMode): StatementJson[] =>
    credentialReadStatements(Stack.of(scope), { userDirectory: mode }).map(
      (s) => s.toStatementJson() as StatementJson,
    );
  if (!Token.isUnresolved(userDirectory)) return json(userDirectory as UserDirectoryMode);
  const byDetails = json('authorization-details');
  const byListUsers = json('list-users');
  const sids = [...new Set([...byDetails, ...byListUsers].map((s) => s.Sid))];
  return sids.map((sid) => {
    const details = byDetails.find((s) => s.Sid === sid);
    const listUsers = byListUsers.find((s) => s.Sid === sid);
    if (details && listUsers && JSON.stringify(details) === JSON.stringify(listUsers)) return details;
    return Fn.conditionIf(conditionFor().logicalId, listUsers ?? Aws.NO_VALUE, details ?? Aws.NO_VALUE);
  });
}

/**
 * The role the credwatch scanner assumes in a member account: trusted by the scanner's role only
 * (with an external id and organization condition when given), it may read the account's IAM
 * credential metadata, exactly what the scanner reads in its own account, and nothing else.
 */
export class MemberRole extends Construct {
  /** The role (L1: its trust policy may hold CloudFormation conditions). */
  readonly resource: iam.CfnRole;
  readonly roleArn: string;
  /** The conditions that leave out a trust condition whose value is an empty parameter. */
  readonly conditions: readonly CfnCondition[];

  constructor(scope: Construct, id: string, props: MemberRoleProps) {
    super(scope, id);
    const roleName = props.roleName ?? DEFAULT_MEMBER_ROLE_NAME;
    const conditions: CfnCondition[] = [];

    // A literal value always applies; a token applies only when it is not empty at deploy time.
    const fixed: Record<string, string> = {};
    const optional: Record<string, unknown> = {};
    const optionalConditions: CfnCondition[] = [];
    for (const [key, name, value] of [
      ['sts:ExternalId', 'HasExternalId', props.externalId],
      ['aws:PrincipalOrgID', 'HasOrganizationId', props.organizationId],
    ] as const) {
      if (value === undefined || value === '') continue;
      if (!Token.isUnresolved(value)) {
        fixed[key] = value;
        continue;
      }
      const condition = new CfnCondition(this, name, {
        expression: Fn.conditionNot(Fn.conditionEquals(value, '')),
      });
      optional[key] = Fn.conditionIf(condition.logicalId, value, Aws.NO_VALUE);
      optionalConditions.push(condition);
    }
    conditions.push(...optionalConditions);

    const stringEquals = { StringEquals: { ...fixed, ...optional } };
    let trustCondition: unknown;
    if (Object.keys(fixed).length > 0) {
      trustCondition = stringEquals;
    } else if (optionalConditions.length > 0) {
      // With every value empty the whole Condition goes: IAM has no use for an empty StringEquals.
      let applies = optionalConditions[0]!;
      if (optionalConditions.length > 1) {
        applies = new CfnCondition(this, 'HasTrustCondition', {
          expression: Fn.conditionOr(...optionalConditions),
        });
        conditions.push(applies);
      }
      trustCondition = Fn.conditionIf(applies.logicalId, stringEquals, Aws.NO_VALUE);
    }
    const userDirectory = props.userDirectory ?? 'authorization-details';
    if (
      !Token.isUnresolved(userDirectory) &&
      userDirectory !== 'authorization-details' &&
      userDirectory !== 'list-users'
    ) {
      throw new ConfigError(
        `MemberRole: userDirectory must be "authorization-details" or "list-users", got ${JSON.stringify(userDirectory)}`,
      );
    }
    let listsUsers: CfnCondition | undefined;
    const statements = memberStatements(this, userDirectory, () => {
      listsUsers ??= new CfnCondition(this, 'ListsUsers', {
        expression: Fn.conditionEquals(userDirectory, 'list-users'),
      });
      return listsUsers;
    });
    if (listsUsers) conditions.push(listsUsers);
    this.conditions = conditions;
    if (props.enforcement) {
      statements.push(
        ...deactivationStatements(Stack.of(this), props.enforcement.protectedUsers).map((st) =>
          st.toStatementJson(),
        ),
      );
    }

    this.resource = new iam.CfnRole(this, 'Resource', {
      roleName,
      description: props.enforcement
        ? 'credwatch: lets the credwatch scanner read IAM credential metadata and deactivate access keys (enforcement) in this account'
        : 'credwatch: lets the credwatch scanner read IAM credential metadata in this account',
      maxSessionDuration: MEMBER_SESSION_SECONDS,
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CredwatchScanner',
            Effect: 'Allow',
            Principal: { AWS: props.scannerRoleArn },
            Action: 'sts:AssumeRole',
            ...(trustCondition === undefined ? {} : { Condition: trustCondition }),
          },
        ],
      },
      // Plain JSON rather than an iam.PolicyDocument: the template must not change with feature flags
      // (it is committed and deployed by StackSets).
      policies: [
        {
          policyName: 'CredwatchMember',
          policyDocument: {
            Version: '2012-10-17',
            Statement: statements,
          },
        },
      ],
    });
    this.roleArn = this.resource.attrArn;
  }
}
