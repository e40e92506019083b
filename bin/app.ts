#!/usr/bin/env -S npx tsx
/**
 * The CDK app: read and validate the configuration (credwatch.config.json at the repository root,
 * then the `credwatch` context value, field by field; docs/configuration.md), build the scanner stack
 * `Credwatch` and the member-account role stack `CredwatchMemberRole` (the template that
 * docs/organization.md deploys to every scanned account), and check both with cdk-nag. A bad
 * configuration stops the synth with one line naming the field.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { CONFIG_FILE_NAME, CONTEXT_KEY, ConfigError, loadConfigSources, readConfigFile } from '../lib/config';
import { addComplianceChecks, CredwatchStack } from '../lib/credwatch-stack';
import { CredwatchMemberRoleStack, MEMBER_ROLE_STACK_NAME } from '../lib/member-role-stack';

const app = new App();
try {
  const config = loadConfigSources([
    {
      name: CONFIG_FILE_NAME,
      value: readConfigFile(path.join(__dirname, '..', CONFIG_FILE_NAME), CONFIG_FILE_NAME),
    },
    { name: `context "${CONTEXT_KEY}"`, value: app.node.tryGetContext(CONTEXT_KEY) },
  ]);
  new CredwatchStack(app, 'Credwatch', {
    config,
    description: 'credwatch: watches the age and use of IAM credentials and reports to Slack',
    // Environment-agnostic unless the CLI knows the account and region; synth needs no credentials.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  // Environment-agnostic and parameterized: one template for every member account.
  new CredwatchMemberRoleStack(app, MEMBER_ROLE_STACK_NAME);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`credwatch: invalid configuration: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
addComplianceChecks(app);
app.synth();
