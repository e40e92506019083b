import { Duration, RemovalPolicy, Stack, TimeZone, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SCHEDULE_EVENT_SOURCE } from '../../lambda/contracts';
import { ConfigError } from '../../lambda/core/errors';
import { wholeDuration } from './validate';

// The `source` of the event the schedule sends; the handler refuses any other (one definition, lambda/).
export { SCHEDULE_EVENT_SOURCE };

/** EventBridge Scheduler's bounds on a retry policy's maximum event age, in seconds. */
export const SCHEDULER_EVENT_AGE_SECONDS = { min: 60, max: 86_400 } as const;

const isStateMachine = (target: lambda.IFunction | sfn.IStateMachine): target is sfn.IStateMachine =>
  'stateMachineArn' in target;

export interface ScannerScheduleProps {
  /** The function the schedule invokes, or the state machine it starts (the Step Functions engine). */
  readonly target: lambda.IFunction | sfn.IStateMachine;
  /**
   * When the scanner runs: a recurring `rate(...)` or `cron(...)` expression, with the time zone it
   * is read in (`ScheduleExpression.rate(Duration.minutes(30))`,
   * `ScheduleExpression.cron({ minute: '0', hour: '8', timeZone: TimeZone.EUROPE_BERLIN })`,
   * `ScheduleExpression.expression('rate(10 minutes)', TimeZone.ETC_UTC)`). A one-time `at(...)`
   * is refused. Without a time zone, Scheduler reads it in UTC.
   * @default ScheduleExpression.expression('rate(10 minutes)', TimeZone.ETC_UTC)
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /** Times Scheduler retries an invocation Lambda refused (throttled, unavailable). @default 2 */
  readonly retryAttempts?: number;
  /**
   * One schedule period, whole minutes: Scheduler stops retrying an invocation after one period
   * (clamped to its 60 s to 24 h), when the next run is due anyway. @default Duration.hours(1)
   */
  readonly schedulePeriod?: Duration;
  /** How long Scheduler keeps retrying one invocation; whole seconds, 60 to 86400. @default one schedule period */
  readonly maxEventAge?: Duration;
}

/**
 * The EventBridge Scheduler schedule that runs the scanner, in a schedule group of its own. Each
 * invocation carries its scheduled time (the run's id) and execution id. Invocations that still fail
 * after the retry policy go to an encrypted, TLS-only SQS dead-letter queue (alarmed on, see alarms.ts).
 */
export class ScannerSchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  /**
   * The schedule's own group: the role trusts Scheduler only on behalf of this group (Scheduler's
   * `aws:SourceArn` is the schedule group's ARN, not the schedule's).
   */
  readonly group: scheduler.ScheduleGroup;
  readonly deadLetterQueue: sqs.Queue;
  /** The role Scheduler assumes: it may invoke the function and dead-letter a run, nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ScannerScheduleProps) {
    super(scope, id);
    const schedule =
      props.schedule ?? scheduler.ScheduleExpression.expression('rate(10 minutes)', TimeZone.ETC_UTC);
    const retryAttempts = props.retryAttempts ?? 2;
    const periodSeconds =
      wholeDuration('ScannerSchedule: schedulePeriod', props.schedulePeriod ?? Duration.hours(1), 'minutes') *
      60;
    const maxEventAge =
      props.maxEventAge ??
      Duration.seconds(
        Math.min(SCHEDULER_EVENT_AGE_SECONDS.max, Math.max(SCHEDULER_EVENT_AGE_SECONDS.min, periodSeconds)),
      );

    const expression = schedule.expressionString;
    if (!Token.isUnresolved(expression) && !/^(rate|cron)\(.+\)$/.test(expression)) {
      throw new ConfigError(
        `ScannerSchedule: schedule: expected a recurring rate(N minutes|hours|days) or cron(...) expression, got "${expression}"`,
      );
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new ConfigError(
        `ScannerSchedule: retryAttempts: expected a whole number from 0 to 185, got ${retryAttempts}`,
      );
    }
    const maxEventAgeSeconds = wholeDuration('ScannerSchedule: maxEventAge', maxEventAge, 'seconds');
    if (
      maxEventAgeSeconds < SCHEDULER_EVENT_AGE_SECONDS.min ||
      maxEventAgeSeconds > SCHEDULER_EVENT_AGE_SECONDS.max
    ) {
      throw new ConfigError(
        `ScannerSchedule: maxEventAge: expected ${SCHEDULER_EVENT_AGE_SECONDS.min} to ${SCHEDULER_EVENT_AGE_SECONDS.max} seconds, got ${maxEventAgeSeconds}`,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });

    this.role = new iam.Role(this, 'Role', {
      // Confused deputy: Scheduler may assume the role only for a schedule of this group, in this account.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': this.group.scheduleGroupArn },
        },
      }),
      description: 'credwatch schedule: invokes the scanner and dead-letters failed runs',
      inlinePolicies: {
        Schedule: new iam.PolicyDocument({
          statements: [
            isStateMachine(props.target)
              ? new iam.PolicyStatement({
                  sid: 'StartScanner',
                  actions: ['states:StartExecution'],
                  resources: [props.target.stateMachineArn],
                })
              : new iam.PolicyStatement({
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

    const targetProps = {
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
    };
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'credwatch: runs the credential scan',
      scheduleGroup: this.group,
      schedule,
      target: isStateMachine(props.target)
        ? new targets.StepFunctionsStartExecution(props.target, targetProps)
        : new targets.LambdaInvoke(props.target, targetProps),
    });
    // The schedule names its group by name only (no reference): create the group first.
    this.schedule.node.addDependency(this.group);
  }
}
