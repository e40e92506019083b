/**
 * The shapes of the IAM and Organizations identifiers the configuration accepts and the rest of the
 * project reuses: IAM role ARNs (slack-secret.ts) and role names, STS external ids and organization
 * ids (accounts.ts), which the member-role stack also turns into CloudFormation AllowedPatterns
 * (lib/member-role-stack.ts). Identifiers only one section checks (account, OU and root ids, secret,
 * KMS key and SNS topic ARNs, e-mail addresses) live in that section's file.
 */

/**
 * An IAM role ARN, with its path (`role/NAME` or `role/PATH/NAME`). No `*` or `?`: they would be
 * wildcards in a policy.
 */
export const ROLE_ARN =
  /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\x21-\x29\x2B-\x3E\x40-\x7E]*\/)?[A-Za-z0-9_+=,.@-]{1,64}$/;
/** An IAM role name (without a path). */
export const ROLE_NAME = /^[A-Za-z0-9_+=,.@-]{1,64}$/;
/** An STS external id. */
export const EXTERNAL_ID = /^[A-Za-z0-9_+=,.@:/-]{2,1224}$/;
/** An AWS Organizations organization id. */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
