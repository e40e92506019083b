/**
 * The scanner schedule (lib/constructs/scanner-schedule.ts): the Scheduler role, group, schedule,
 * retries and dead-letter queue.
 *
 * Synthesizes the single-account stacks once for this file (test/infra/support.ts).
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CredwatchStack } from '../../lib/credwatch-stack';
import {
  ACCOUNT_ID,
  arnOf,
  grantsOf,
  type Json,
  logicalId,
  singleAccountStacks,
  sortGrants,
} from './support';

let custom: CredwatchStack;
let template: Template;
let importedTemplate: Template;

beforeAll(() => {
  ({ custom, template, importedTemplate } = singleAccountStacks());
}, 180_000);

describe('the schedule role', () => {
  it('may only invoke the scanner and dead-letter a run, assumed by Scheduler for its own schedule group in this account', () => {
    expect(grantsOf(template, custom.schedule.role)).toEqual(
      sortGrants([
        { action: 'lambda:InvokeFunction', resource: arnOf(custom.scanner.function) },
        { action: 'sqs:SendMessage', resource: arnOf(custom.schedule.deadLetterQueue) },
      ]),
    );
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT_ID },
              ArnEquals: { 'aws:SourceArn': arnOf(custom.schedule.group) },
            },
          },
        ],
      },
    });
  });

  it('puts the schedule in that group, created before it', () => {
    const resources = template.toJSON().Resources as Record<string, Json>;
    const group = resources[logicalId(custom.schedule.group)] as { Properties: { Name: string } };
    const schedule = resources[logicalId(custom.schedule.schedule)] as {
      Properties: { GroupName: unknown };
      DependsOn?: string[];
    };
    expect(schedule.Properties.GroupName).toBe(group.Properties.Name);
    expect(schedule.DependsOn).toContain(logicalId(custom.schedule.group));
  });
});

describe('the schedule', () => {
  it('uses the configured expression and time zone and sends the run id', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 8 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: arnOf(custom.scanner.function),
        RoleArn: arnOf(custom.schedule.role),
        Input:
          '{"source":"credwatch.schedule","scheduledTime":"<aws.scheduler.scheduled-time>","executionId":"<aws.scheduler.execution-id>"}',
        // One period of the daily cron: 24 hours (Scheduler's maximum).
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: arnOf(custom.schedule.deadLetterQueue) },
      },
    });
  });

  it('runs in UTC by default, and stops retrying a run after one period of its rate', () => {
    importedTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(2 hours)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } }),
    });
  });

  it('dead-letters to an encrypted queue that refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });
});
