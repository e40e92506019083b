/**
 * Where the Slack webhook secret comes from (`slackSecret`): a secret the stack creates (`{"create":
 * true}`, optionally readable by `adminRoleArns`), or an existing one by `name` or complete `arn`,
 * optionally with the `kmsKeyArn` that encrypts it. Exactly one of the three forms, with only the
 * fields that form allows.
 */
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import { ROLE_ARN } from './patterns';

/** Where the Slack webhook secret comes from. */
export type SlackSecretConfig =
  | {
      readonly create: true;
      /** Roles (complete ARNs, with their path) that may read the created secret besides the scanner. */
      readonly adminRoleArns?: readonly string[];
    }
  | { readonly name: string; readonly kmsKeyArn?: string }
  | { readonly arn: string; readonly kmsKeyArn?: string };

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

const SLACK_SECRET_EXPECTED =
  'expected {"create": true}, {"name": "SECRET-NAME"} or {"arn": "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX"}';

/** `slackSecret`: one of the three forms of {@link SlackSecretConfig}. */
export const slackSecretSchema = z.unknown().transform((value, ctx): SlackSecretConfig => {
  const fail = (message: string, path: (string | number)[] = []): never => {
    ctx.issues.push({ code: 'custom', input: value, message, path });
    return z.NEVER;
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(`${SLACK_SECRET_EXPECTED}, got ${describeValue(value)}`);
  }
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  const kind = ['create', 'name', 'arn'].filter((k) => k in v);
  if (kind.length !== 1) return fail(`${SLACK_SECRET_EXPECTED}, got ${describeValue(value)}`);
  if (kind[0] !== 'create' && 'adminRoleArns' in v) {
    return fail(
      `only allowed with {"create": true}; for an imported secret attach the resource policy by hand (docs/deploy.md)`,
      ['adminRoleArns'],
    );
  }
  const allowed = kind[0] === 'create' ? ['create', 'adminRoleArns'] : [kind[0]!, 'kmsKeyArn'];
  const unknown = keys.find((k) => !allowed.includes(k));
  if (unknown !== undefined) return fail(`unknown field; allowed here: ${allowed.join(', ')}`, [unknown]);
  if ('kmsKeyArn' in v && !(typeof v.kmsKeyArn === 'string' && KMS_KEY_ARN.test(v.kmsKeyArn))) {
    return fail(
      `expected a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID), got ${describeValue(v.kmsKeyArn)}`,
      ['kmsKeyArn'],
    );
  }
  const kmsKeyArn = typeof v.kmsKeyArn === 'string' ? { kmsKeyArn: v.kmsKeyArn } : {};
  if (kind[0] === 'create') {
    if (v.create !== true) return fail(`expected true, got ${describeValue(v.create)}`, ['create']);
    if (!('adminRoleArns' in v)) return { create: true };
    const admins = v.adminRoleArns;
    if (!Array.isArray(admins)) {
      return fail(`expected an array of IAM role ARNs, got ${describeValue(admins)}`, ['adminRoleArns']);
    }
    const seen = new Set<string>();
    for (const [i, arn] of admins.entries()) {
      if (typeof arn !== 'string' || !ROLE_ARN.test(arn)) {
        return fail(
          `expected an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME or role/PATH/NAME, no wildcards), got ${describeValue(arn)}`,
          ['adminRoleArns', i],
        );
      }
      if (seen.has(arn)) return fail(`"${arn}" is listed twice`, ['adminRoleArns', i]);
      seen.add(arn);
    }
    return { create: true, adminRoleArns: admins as string[] };
  }
  if (kind[0] === 'name') {
    if (typeof v.name !== 'string' || !SECRET_NAME.test(v.name)) {
      return fail(`expected 1-512 characters of A-Z a-z 0-9 / _ + = . @ -, got ${describeValue(v.name)}`, [
        'name',
      ]);
    }
    return { name: v.name, ...kmsKeyArn };
  }
  if (typeof v.arn !== 'string' || !SECRET_ARN.test(v.arn)) {
    return fail(
      `expected a complete secret ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX), got ${describeValue(v.arn)}`,
      ['arn'],
    );
  }
  return { arn: v.arn, ...kmsKeyArn };
});
