#!/usr/bin/env -S npx tsx
/**
 * The CDK app: read and validate the configuration (credwatch.config.json at the repository root,
 * then the `credwatch` context value, field by field; docs/configuration.md), build the scanner stack
 * `Credwatch` and the member-account role stack `CredwatchMemberRole` (the template that
 * docs/organization.md deploys to every scanned account), and check both with cdk-nag. A bad
 * configuration stops the synth with one line naming the field.
 *
 * Both stacks are environment-agnostic: the templates name no account and no region (every ARN and
 * service name is built from AWS::AccountId, AWS::Region, AWS::Partition, AWS::URLSuffix), and
 * `cdk deploy` deploys them to the account and region of the credentials and the CLI's region
 * (AWS_REGION, AWS_DEFAULT_REGION or the profile's `region`). The CDK CLI always sets
 * CDK_DEFAULT_REGION itself (to us-east-1 when it finds no region), so the app never reads it.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
// One user of the library: everything comes through the package's entry point (lib/index.ts).
import {
  addComplianceChecks,
  CONFIG_FILE_NAME,
  CONTEXT_KEY,
  ConfigError,
  CredwatchMemberRoleStack,
  CredwatchStack,
  configFieldOrigin,
  loadConfigSources,
  MEMBER_ROLE_STACK_NAME,
  memberRoleEnforcement,
  readConfigFile,
} from 'credwatch';

const app = new App();
try {
  const sources = [
    {
      name: CONFIG_FILE_NAME,
      value: readConfigFile(path.join(__dirname, '..', CONFIG_FILE_NAME), CONFIG_FILE_NAME),
    },
    { name: `context "${CONTEXT_KEY}"`, value: app.node.tryGetContext(CONTEXT_KEY) },
  ];
  const config = loadConfigSources(sources);
  const origin = configFieldOrigin(sources);
  new CredwatchStack(app, 'Credwatch', {
    config,
    // A field set nowhere is named by the file it belongs in.
    configSource: (field) => origin(field) ?? CONFIG_FILE_NAME,
    description: 'credwatch: watches the age and use of IAM credentials and reports to Slack',
    // No env: environment-agnostic (above). Synth needs no credentials.
  });
  // Environment-agnostic and parameterized: one template for every member account. With enforcement
  // in `enforce` mode it may also deactivate access keys (docs/enforcement.md); otherwise read-only.
  const enforcement = memberRoleEnforcement(config);
  new CredwatchMemberRoleStack(app, MEMBER_ROLE_STACK_NAME, enforcement ? { enforcement } : {});
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`credwatch: invalid configuration: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
addComplianceChecks(app);
app.synth();
