import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { SlackSecretConfig } from '../config';

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
  /**
   * The secret, created or imported: what `ScannerFunctionProps.webhookSecret` takes. Imported by
   * name, it is known by its partial ARN (`Secret.fromSecretNameV2`), and the scanner's role may read
   * exactly that name followed by Secrets Manager's random suffix.
   */
  readonly secret: secretsmanager.ISecret;
  /**
   * The customer-managed key that encrypts the secret: the created secret's own key, or the imported
   * secret's `kmsKeyArn`; undefined for an imported secret under the AWS managed key. What
   * `ScannerFunctionProps.webhookSecretKey` takes.
   */
  readonly key?: kms.IKey;
  /** The created secret; undefined for an imported one. */
  readonly created?: secretsmanager.Secret;
  /** The created secret's own key; undefined for an imported secret. */
  readonly createdKey?: kms.Key;
  /** Roles besides the scanner that may read a created secret (`slackSecret.adminRoleArns`). */
  readonly adminRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: WebhookSecretProps = {}) {
    super(scope, id);
    const source = props.source ?? { create: true };
    this.adminRoleArns = 'create' in source ? (source.adminRoleArns ?? []) : [];

    if ('arn' in source || 'name' in source) {
      this.secret =
        'arn' in source
          ? secretsmanager.Secret.fromSecretCompleteArn(this, 'Imported', source.arn)
          : secretsmanager.Secret.fromSecretNameV2(this, 'Imported', source.name);
      if (source.kmsKeyArn) this.key = kms.Key.fromKeyArn(this, 'ImportedKey', source.kmsKeyArn);
    } else {
      this.createdKey = new kms.Key(this, 'Key', {
        description: 'credwatch: encrypts the Slack webhook secret',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.created = new secretsmanager.Secret(this, 'Secret', {
        description:
          'credwatch: Slack incoming webhook URL. Created with a random placeholder; put the webhook with ' +
          '"aws secretsmanager put-secret-value" (docs/deploy.md).',
        encryptionKey: this.createdKey,
        // A placeholder, not a webhook: the real value never passes through the template.
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.secret = this.created;
      this.key = this.createdKey;
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
    if (!this.created) return;
    this.created.addToResourcePolicy(
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
