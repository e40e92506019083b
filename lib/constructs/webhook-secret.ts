import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { SlackSecretConfig } from '../config';
import type { WebhookSecretRef } from './scanner-function';

export interface WebhookSecretProps {
  /** Create the secret, or import an existing one by name or ARN. @default { create: true } */
  readonly source?: SlackSecretConfig;
}

/** The Sid of the created secret's resource policy statement that keeps everyone else from reading it. */
export const DENY_OTHER_READERS_SID = 'DenyReadingToAllButTheScannerAndAdmins';

/**
 * The Secrets Manager secret that holds the Slack webhook URL. A created secret is encrypted with its
 * own customer-managed key (rotated yearly) and starts with a random placeholder: the template never
 * holds the webhook; the operator puts it with `aws secretsmanager put-secret-value` (docs/deploy.md).
 * Once the scanner's role exists, `restrictReadsTo` gives a created secret a resource policy that
 * denies reading it to every principal but that role and the configured admin roles.
 */
export class WebhookSecret extends Construct {
  /** The created secret; undefined for an imported one. */
  readonly secret?: secretsmanager.Secret;
  /** The key of the created secret; undefined for an imported one. */
  readonly key?: kms.Key;
  /** What the scanner's role and environment need to know. */
  readonly ref: WebhookSecretRef;
  /** Roles besides the scanner that may read a created secret (`slackSecret.adminRoleArns`). */
  readonly adminRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: WebhookSecretProps = {}) {
    super(scope, id);
    const source = props.source ?? { create: true };
    const kmsKeyArn = 'kmsKeyArn' in source && source.kmsKeyArn ? { kmsKeyArn: source.kmsKeyArn } : {};
    this.adminRoleArns = 'create' in source ? (source.adminRoleArns ?? []) : [];

    if ('arn' in source) {
      this.ref = { secretArn: source.arn, policyResourceArn: source.arn, ...kmsKeyArn };
    } else if ('name' in source) {
      const partialArn = Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: source.name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      // Secrets Manager appends "-" and six random characters to a secret's name in its ARN.
      this.ref = { secretArn: partialArn, policyResourceArn: `${partialArn}-??????`, ...kmsKeyArn };
    } else {
      this.key = new kms.Key(this, 'Key', {
        description: 'credwatch: encrypts the Slack webhook secret',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.secret = new secretsmanager.Secret(this, 'Secret', {
        description:
          'credwatch: Slack incoming webhook URL. Created with a random placeholder; put the webhook with ' +
          '"aws secretsmanager put-secret-value" (docs/deploy.md).',
        encryptionKey: this.key,
        // A placeholder, not a webhook: the real value never passes through the template.
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.ref = {
        secretArn: this.secret.secretArn,
        policyResourceArn: this.secret.secretArn,
        kmsKeyArn: this.key.keyArn,
      };
    }
  }

  /**
   * Deny `secretsmanager:GetSecretValue` on a created secret to every principal except `reader` (the
   * scanner's role) and the admin roles, whatever their identity policies allow (an account
   * administrator included). Compares `aws:PrincipalArn`, which for a role session is the role's ARN
   * with its path, against the role's real ARN (its `Arn` attribute, path included). An imported
   * secret is left alone: its policy is attached by hand (docs/deploy.md).
   */
  restrictReadsTo(reader: iam.IRole): void {
    if (!this.secret) return;
    this.secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: DENY_OTHER_READERS_SID,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue'],
        // In a secret's resource policy, "*" is the secret itself.
        resources: ['*'],
        conditions: { StringNotEquals: { 'aws:PrincipalArn': [reader.roleArn, ...this.adminRoleArns] } },
      }),
    );
  }
}
