/**
 * The state table (lib/constructs/state-table.ts).
 *
 * Synthesizes the single-account stacks once for this file (test/infra/support.ts).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { singleAccountStacks } from './support';

let template: Template;

beforeAll(() => {
  ({ template } = singleAccountStacks());
}, 180_000);

describe('the state table', () => {
  it('is on-demand with pk/sk, PITR, deletion protection, TTL, encryption, and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });
});
