/**
 * The webhook secret (lib/constructs/webhook-secret.ts): created or imported, its key and its
 * resource policy.
 *
 * Synthesizes the single-account stacks and the multi-account stacks once for this file (test/infra/support.ts).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { secretPolicyArn } from '../../lib/constructs/scanner-function';
import { WebhookSecret } from '../../lib/constructs/webhook-secret';
import type { CredwatchStack } from '../../lib/credwatch-stack';
import {
  ACCOUNT,
  ADMIN_ROLE,
  arnOf,
  type Json,
  logicalId,
  multiAccountStacks,
  REGION,
  ref,
  SSO_ADMIN_ROLE,
  singleAccountStacks,
} from './support';

let custom: CredwatchStack;
let template: Template;
let importedTemplate: Template;
let organization: CredwatchStack;
let organizationTemplate: Template;

beforeAll(() => {
  ({ custom, template, importedTemplate } = singleAccountStacks());
  ({ organization, organizationTemplate } = multiAccountStacks());
}, 180_000);

describe('the webhook secret', () => {
  it('is encrypted with its own rotated key and created with a generated placeholder, never a value', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: arnOf(custom.webhookSecret.createdKey!),
      GenerateSecretString: Match.objectLike({}),
      SecretString: Match.absent(),
    });
    expect(
      template.toJSON().Resources[logicalId(custom.webhookSecret.createdKey!)].Properties.EnableKeyRotation,
    ).toBe(true);
  });

  it('appears nowhere in either template as a webhook', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('hooks.slack.com');
    expect(JSON.stringify(importedTemplate.toJSON())).not.toContain('hooks.slack.com');
  });

  it('is not created when it is imported', () => {
    importedTemplate.resourceCountIs('AWS::SecretsManager::Secret', 0);
    importedTemplate.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
    // No key at all: the secret and the alarm topic are both imported.
    importedTemplate.resourceCountIs('AWS::KMS::Key', 0);
  });

  const secretPolicyOf = (t: Template) =>
    (
      Object.values(t.findResources('AWS::SecretsManager::ResourcePolicy'))[0] as {
        Properties: { SecretId: unknown; ResourcePolicy: { Statement: Json[] } };
      }
    ).Properties;

  it('denies reading a created secret to every principal but the scanner role (by its ARN, path included)', () => {
    const policy = secretPolicyOf(template);
    expect(policy.SecretId).toEqual(ref(custom.webhookSecret.created!));
    expect(policy.ResourcePolicy.Statement).toEqual([
      {
        Sid: 'DenyReadingToAllButTheScannerAndAdmins',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': [arnOf(custom.scanner.role)] } },
      },
    ]);
  });

  it('also lets the configured admin roles read it', () => {
    expect(secretPolicyOf(organizationTemplate).ResourcePolicy.Statement[0]!.Condition).toEqual({
      StringNotEquals: { 'aws:PrincipalArn': [arnOf(organization.scanner.role), ADMIN_ROLE, SSO_ADMIN_ROLE] },
    });
  });

  it('is referenced by its complete ARN when imported by ARN', () => {
    const stack = new Stack(new App(), 'ByArn');
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:credwatch/slack-AbC123`;
    const imported = new WebhookSecret(stack, 'Secret', { source: { arn } });
    expect(imported.secret.secretArn).toBe(arn);
    expect(imported.secret.secretFullArn).toBe(arn);
    // The scanner's role may read exactly that secret: its complete ARN, no wildcard.
    expect(secretPolicyArn(imported.secret)).toBe(arn);
    expect(imported.key).toBeUndefined();
    expect(imported.created).toBeUndefined();
  });
});
