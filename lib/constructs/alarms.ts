import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC } from '../../lambda/contracts';
import { ConfigError } from '../../lambda/core/errors';
import { MAX_HEARTBEAT_MINUTES } from '../config';
import { METRICS_NAMESPACE, SERVICE_NAME } from './scanner-function';
import { wholeDuration } from './validate';

/** Share of the function timeout at which the duration alarm fires. */
export const DURATION_ALARM_RATIO = 0.8;
/** Schedule periods without a complete scan before the heartbeat alarm fires. */
export const HEARTBEAT_PERIODS = 3;

const RUNBOOK = 'Runbook: docs/deploy.md, section "Alarms".';

export interface ScannerAlarmsProps {
  /** The scanner function. */
  readonly function: lambda.IFunction;
  /** The Step Functions engine's state machine: its failed, timed-out and aborted executions alarm too. */
  readonly stateMachine?: sfn.IStateMachine;
  /** The scanner function's timeout: the duration alarm fires at 80 % of it. */
  readonly timeout: Duration;
  /**
   * The longest expected gap between two scans (one schedule period; for a cron schedule, its
   * longest gap), whole minutes, at most 56 hours: the heartbeat alarm fires after three without a
   * complete one.
   */
  readonly heartbeat: Duration;
  /** The schedule's dead-letter queue. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Addresses subscribed to the alarm topic by e-mail (each must confirm). @default [] */
  readonly alarmEmails?: readonly string[];
  /**
   * An existing SNS topic the alarms notify instead of a topic of their own (no topic, key or
   * subscription is created). Not with `alarmEmails`.
   */
  readonly alarmTopicArn?: string;
  /**
   * Whether the alarms notify anyone. `false`: the alarms and the dashboard exist, without any action
   * (a failing scanner then goes unnoticed). @default true
   */
  readonly actions?: boolean;
  /** Whether the function reserves one concurrent execution (worded in the Throttles alarm). @default true */
  readonly reservedConcurrency?: boolean;
  /**
   * Whether some enforcement policy has mode `enforce` (lib/config/enforcement.ts `enforces`): the
   * EnforcementFailed alarm too. @default false
   */
  readonly enforces?: boolean;
  /**
   * One schedule period (for a cron schedule, its longest gap), whole minutes, at most 56 hours: the
   * EnforcementFailed alarm's window. @default `heartbeat`
   */
  readonly schedulePeriod?: Duration;
}

/** Period and evaluation periods of the heartbeat alarm that fit CloudWatch's evaluation limits. */
export function heartbeatWindow(heartbeatMinutes: number): { period: Duration; evaluationPeriods: number } {
  // Period x evaluation periods may span at most 1 day for periods under an hour (always the case
  // here: 3 x 59 minutes) and 7 days otherwise; a period may be at most one day.
  if (heartbeatMinutes <= 1440) {
    return { period: Duration.minutes(heartbeatMinutes), evaluationPeriods: HEARTBEAT_PERIODS };
  }
  return {
    period: Duration.days(1),
    evaluationPeriods: Math.ceil((HEARTBEAT_PERIODS * heartbeatMinutes) / 1440),
  };
}

/**
 * Period, evaluation periods and datapoints to alarm of an alarm that fires on one breaching
 * datapoint within one schedule period: the period itself up to a day (CloudWatch's longest here,
 * as for the heartbeat), else "1 out of N" days covering it (at most 3 for 56 hours).
 */
export function schedulePeriodWindow(periodMinutes: number): {
  period: Duration;
  evaluationPeriods: number;
  datapointsToAlarm: number;
} {
  if (periodMinutes <= 1440) {
    return { period: Duration.minutes(periodMinutes), evaluationPeriods: 1, datapointsToAlarm: 1 };
  }
  return {
    period: Duration.days(1),
    evaluationPeriods: Math.ceil(periodMinutes / 1440),
    datapointsToAlarm: 1,
  };
}

/** A credwatch metric (Powertools EMF, namespace Credwatch, dimension service=credwatch). */
export function credwatchMetric(
  metricName: string,
  options: { statistic?: string; period?: Duration; label?: string } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    period: options.period ?? Duration.minutes(5),
    ...(options.label ? { label: options.label } : {}),
  });
}

/**
 * Alarms on the scanner itself (errors, throttles, slow runs, missing heartbeat, failed Slack
 * deliveries, dead letters, refused invocations; with enforcement in mode `enforce`, keys it failed to
 * deactivate) to an encrypted SNS topic with an e-mail subscription
 * per address (or to an existing topic, or to no one), and a dashboard of scan duration, findings by
 * severity, IAM calls and deliveries.
 */
export class ScannerAlarms extends Construct {
  /** The topic every alarm notifies (the own one, or the imported `alarmTopicArn`); none without actions. */
  readonly topic?: sns.ITopic;
  /** The topic created for the alarms; undefined with `alarmTopicArn` or without actions. */
  readonly ownTopic?: sns.Topic;
  /** The key of the own topic. */
  readonly key?: kms.Key;
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
  readonly duration: cloudwatch.Alarm;
  readonly heartbeat: cloudwatch.Alarm;
  readonly deliveryFailures: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  readonly refusedInvocations: cloudwatch.Alarm;
  /** The Step Functions engine's: an execution failed, timed out or was aborted. */
  readonly executionsFailed?: cloudwatch.Alarm;
  /** With enforcement in mode `enforce`: a due key IAM refused, or whose action was not recorded. */
  readonly enforcementFailed?: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ScannerAlarmsProps) {
    super(scope, id);
    const alarmEmails = props.alarmEmails ?? [];
    const heartbeatMinutes = wholeDuration('ScannerAlarms: heartbeat', props.heartbeat, 'minutes');
    if (heartbeatMinutes > MAX_HEARTBEAT_MINUTES) {
      throw new ConfigError(
        `ScannerAlarms: heartbeat: expected at most ${MAX_HEARTBEAT_MINUTES} minutes (56 hours), got ${heartbeatMinutes} minutes`,
      );
    }
    if (props.alarmTopicArn !== undefined && alarmEmails.length > 0) {
      throw new ConfigError(
        'ScannerAlarms: alarmEmails: not allowed together with alarmTopicArn (subscribe the addresses to that topic)',
      );
    }
    const withActions = props.actions ?? true;
    if (withActions && props.alarmTopicArn !== undefined) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn);
    } else if (withActions) {
      const { topic, key } = this.createTopic(alarmEmails);
      this.ownTopic = topic;
      this.topic = topic;
      this.key = key;
    }

    const timeoutMs = wholeDuration('ScannerAlarms: timeout', props.timeout, 'seconds') * 1000;
    const fiveMinutes = Duration.minutes(5);

    this.errors = new cloudwatch.Alarm(this, 'Errors', {
      alarmDescription: `credwatch: the scanner function failed (Lambda Errors >= 1 in 5 minutes). ${RUNBOOK}`,
      metric: props.function.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.throttles = new cloudwatch.Alarm(this, 'Throttles', {
      alarmDescription: `credwatch: a scan was throttled, ${props.reservedConcurrency === false ? 'the account has no unreserved concurrency left (no concurrency is reserved for the scanner)' : 'usually because the previous one was still running (reserved concurrency 1)'}. ${RUNBOOK}`,
      metric: props.function.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.duration = new cloudwatch.Alarm(this, 'Duration', {
      alarmDescription: `credwatch: a scan took ${DURATION_ALARM_RATIO * 100} % or more of the function timeout (${timeoutMs / 1000} s). ${RUNBOOK}`,
      metric: props.function.metricDuration({ period: fiveMinutes, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: Math.round(timeoutMs * DURATION_ALARM_RATIO),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const window = heartbeatWindow(heartbeatMinutes);
    this.heartbeat = new cloudwatch.Alarm(this, 'Heartbeat', {
      alarmDescription: `credwatch: no complete scan for ${HEARTBEAT_PERIODS} schedule periods (${HEARTBEAT_PERIODS} x ${heartbeatMinutes} minutes). ${RUNBOOK}`,
      metric: credwatchMetric('ScansCompleted', { period: window.period }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: window.evaluationPeriods,
      datapointsToAlarm: window.evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.deliveryFailures = new cloudwatch.Alarm(this, 'DeliveryFailures', {
      alarmDescription: `credwatch: a Slack digest could not be delivered; the changes will be retried on the next scan. ${RUNBOOK}`,
      metric: credwatchMetric('DeliveryFailures', { period: fiveMinutes }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetters = new cloudwatch.Alarm(this, 'DeadLetters', {
      alarmDescription: `credwatch: EventBridge Scheduler could not invoke the scanner and dead-lettered the run. ${RUNBOOK}`,
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.refusedInvocations = new cloudwatch.Alarm(this, 'RefusedInvocations', {
      alarmDescription: `credwatch: the scanner refused an invocation (not sent by the schedule, or its scheduled time more than one period from the clock); nothing was read or written. ${RUNBOOK}`,
      metric: credwatchMetric(METRIC.invocationsRefused, { period: fiveMinutes }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.enforces) {
      const periodMinutes = props.schedulePeriod
        ? wholeDuration('ScannerAlarms: schedulePeriod', props.schedulePeriod, 'minutes')
        : heartbeatMinutes;
      if (periodMinutes > MAX_HEARTBEAT_MINUTES) {
        throw new ConfigError(
          `ScannerAlarms: schedulePeriod: expected at most ${MAX_HEARTBEAT_MINUTES} minutes (56 hours), got ${periodMinutes} minutes`,
        );
      }
      const window = schedulePeriodWindow(periodMinutes);
      // Every step emits with the same namespace and dimension (no function name), so one metric
      // covers the single-invocation scanner and the Step Functions engine's scanBatch step alike.
      this.enforcementFailed = new cloudwatch.Alarm(this, 'EnforcementFailed', {
        alarmDescription: `credwatch: enforcement could not deactivate a due access key (IAM refused it) or could not record its deactivation (${METRIC.enforcementFailed} >= 1 in one schedule period, ${periodMinutes} minutes). Read the warnings enforcement-failed ("could not be deactivated") and enforcement-unrecorded ("could not be recorded") in the ${props.stateMachine ? 'scanBatch step\'s "batch scanned"' : '"scan complete"'} log line (each in its account's entry, naming the user, key and error). AccessDenied in a member account: redeploy its member role with enforcement (docs/organization.md); in the scanner's own account: an SCP or permissions boundary denies iam:UpdateAccessKey. The key is retried next run. ${RUNBOOK}`,
        metric: credwatchMetric(METRIC.enforcementFailed, { period: window.period }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: window.evaluationPeriods,
        datapointsToAlarm: window.datapointsToAlarm,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (props.stateMachine) {
      const sm = props.stateMachine;
      const failed = (metric: cloudwatch.Metric) =>
        metric.with({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM });
      this.executionsFailed = new cloudwatch.Alarm(this, 'ExecutionsFailed', {
        alarmDescription: `credwatch: a run of the scanner state machine failed, timed out or was aborted (its map run and the deliver step's log say which accounts and why). ${RUNBOOK}`,
        metric: new cloudwatch.MathExpression({
          expression: 'failed + timedOut + aborted',
          usingMetrics: {
            failed: failed(sm.metricFailed()),
            timedOut: failed(sm.metricTimedOut()),
            aborted: failed(sm.metricAborted()),
          },
          period: fiveMinutes,
          label: 'executions failed, timed out or aborted',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const alarms = [
      ...(this.executionsFailed ? [this.executionsFailed] : []),
      this.errors,
      this.throttles,
      this.duration,
      this.heartbeat,
      this.deliveryFailures,
      this.deadLetters,
      this.refusedInvocations,
      ...(this.enforcementFailed ? [this.enforcementFailed] : []),
    ];
    if (this.topic) {
      const action = new actions.SnsAction(this.topic);
      for (const alarm of alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    const hour = Duration.hours(1);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'credwatch alarms', alarms, width: 24, height: 3 })],
        [
          new cloudwatch.GraphWidget({
            title: 'Scan duration (ms)',
            width: 12,
            left: [
              credwatchMetric('ScanDuration', {
                statistic: cloudwatch.Stats.AVERAGE,
                period: hour,
                label: 'scan average',
              }),
              credwatchMetric('ScanDuration', {
                statistic: cloudwatch.Stats.MAXIMUM,
                period: hour,
                label: 'scan max',
              }),
              props.function.metricDuration({
                statistic: cloudwatch.Stats.MAXIMUM,
                period: hour,
                label: 'Lambda max',
              }),
            ],
            leftAnnotations: [
              { value: Math.round(timeoutMs * DURATION_ALARM_RATIO), label: 'duration alarm' },
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Findings by severity (per scan, hourly max)',
            width: 12,
            left: [
              credwatchMetric('FindingsCritical', {
                statistic: cloudwatch.Stats.MAXIMUM,
                period: hour,
                label: 'critical',
              }),
              credwatchMetric('FindingsWarning', {
                statistic: cloudwatch.Stats.MAXIMUM,
                period: hour,
                label: 'warning',
              }),
              credwatchMetric('FindingsInfo', {
                statistic: cloudwatch.Stats.MAXIMUM,
                period: hour,
                label: 'info',
              }),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'IAM calls (hourly)',
            width: 8,
            left: [credwatchMetric('IamCalls', { period: hour, label: 'IAM calls' })],
          }),
          new cloudwatch.GraphWidget({
            title: 'Slack deliveries (hourly)',
            width: 8,
            left: [
              credwatchMetric('ChangesDelivered', { period: hour, label: 'changes delivered' }),
              credwatchMetric('DeliveryFailures', { period: hour, label: 'delivery failures' }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Scans (hourly)',
            width: 8,
            left: [
              credwatchMetric('ScansCompleted', { period: hour, label: 'complete' }),
              credwatchMetric('ScanIncomplete', { period: hour, label: 'incomplete' }),
              credwatchMetric(METRIC.invocationsRefused, { period: hour, label: 'refused invocations' }),
            ],
          }),
        ],
      ],
    });
  }

  /**
   * The alarms' own topic: encrypted with its own rotated key, TLS-only, publishable by CloudWatch
   * alarms of this account and region only, with an e-mail subscription per address.
   */
  private createTopic(alarmEmails: readonly string[]): { topic: sns.Topic; key: kms.Key } {
    const stack = Stack.of(this);
    const alarmArns = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Confused deputy: CloudWatch acts for whichever account's alarm names the topic; only this one's.
    const fromOwnAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': alarmArns },
    };
    const key = new kms.Key(this, 'TopicKey', {
      description: 'credwatch: encrypts the alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch must be able to use the key to publish alarm notifications to the encrypted topic.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOwnAlarms,
      }),
    );
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'credwatch alarms',
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromOwnAlarms,
      }),
    );
    for (const email of alarmEmails) {
      topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    return { topic, key };
  }
}
