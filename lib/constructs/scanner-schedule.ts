import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigError } from '../../lambda/core/errors';

/** The `source` of the event the schedule sends; the handler recognises a scheduled run by it. */
export const SCHEDULE_EVENT_SOURCE = 'credwatch.schedule';

export interface ScannerScheduleProps {
  /** The function the schedule invokes. */
  readonly target: lambda.IFunction;
  /** An EventBridge Scheduler `rate(...)` or `cron(...)` expression. @default 'rate(10 minutes)' */
  readonly expression?: string;
  /** IANA time zone the expression is read in. @default 'Etc/UTC' */
  readonly timeZone?: string;
  /** Times Scheduler retries an invocation Lambda refused (throttled, unavailable). @default 2 */
  readonly retryAttempts?: number;
  /** How long Scheduler keeps retrying one invocation. @default Duration.hours(1) */
  readonly maxEventAge?: Duration;
}

/**
 * The EventBridge Scheduler schedule that runs the scanner. Each invocation carries its scheduled
 * time (the run's id) and execution id. Invocations that still fail after the retry policy go to an
 * encrypted, TLS-only SQS dead-letter queue (alarmed on, see alarms.ts).
 */
export class ScannerSchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  /** The role Scheduler assumes: it may invoke the function and dead-letter a run, nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ScannerScheduleProps) {
    super(scope, id);
    const expression = props.expression ?? 'rate(10 minutes)';
    const timeZone = props.timeZone ?? 'Etc/UTC';
    const retryAttempts = props.retryAttempts ?? 2;
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);

    if (!/^(rate|cron)\(.+\)$/.test(expression)) {
      throw new ConfigError(
        `ScannerSchedule: expression: expected rate(N minutes|hours|days) or cron(...), got "${expression}"`,
      );
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new ConfigError(
        `ScannerSchedule: retryAttempts: expected a whole number from 0 to 185, got ${retryAttempts}`,
      );
    }
    if (maxEventAge.toSeconds() < 60 || maxEventAge.toSeconds() > 86400) {
      throw new ConfigError(
        `ScannerSchedule: maxEventAge: expected 60 to 86400 seconds, got ${maxEventAge.toSeconds()}`,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'credwatch schedule: invokes the scanner and dead-letters failed runs',
      inlinePolicies: {
        Schedule: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'InvokeScanner',
              actions: ['lambda:InvokeFunction'],
              resources: [props.target.functionArn],
            }),
            new iam.PolicyStatement({
              sid: 'DeadLetterFailedRuns',
              actions: ['sqs:SendMessage'],
              resources: [this.deadLetterQueue.queueArn],
            }),
          ],
        }),
      },
    });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'credwatch: runs the credential scan',
      schedule: scheduler.ScheduleExpression.expression(expression, TimeZone.of(timeZone)),
      target: new targets.LambdaInvoke(props.target, {
        input: scheduler.ScheduleTargetInput.fromObject({
          source: SCHEDULE_EVENT_SOURCE,
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          executionId: scheduler.ContextAttribute.executionId,
        }),
        deadLetterQueue: this.deadLetterQueue,
        // Written out above; the target's own grants (which add the function's versions, ARN ":*") are dropped.
        role: this.role.withoutPolicyUpdates(),
        retryAttempts,
        maxEventAge,
      }),
    });
  }
}
