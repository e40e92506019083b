/**
 * The scanner's alarms, alarm topic and dashboard (lib/constructs/alarms.ts).
 *
 * Synthesizes the single-account stacks and the multi-account stacks once for this file (test/infra/support.ts).
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { heartbeatWindow } from '../../lib/constructs/alarms';
import type { CredwatchStack } from '../../lib/credwatch-stack';
import {
  arnOf,
  type Json,
  logicalId,
  multiAccountStacks,
  OPS_TOPIC,
  OWN_ALARMS,
  ref,
  singleAccountStacks,
} from './support';

let custom: CredwatchStack;
let imported: CredwatchStack;
let template: Template;
let importedTemplate: Template;
let listedTemplate: Template;

beforeAll(() => {
  ({ custom, imported, template, importedTemplate } = singleAccountStacks());
  ({ listedTemplate } = multiAccountStacks());
}, 180_000);

describe('the alarms', () => {
  const credwatchDims = [{ Name: 'service', Value: 'credwatch' }];
  it.each([
    ['Errors', 'AWS/Lambda', 'Errors', 'Sum', 300, 1, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
    [
      'Throttles',
      'AWS/Lambda',
      'Throttles',
      'Sum',
      300,
      1,
      1,
      'GreaterThanOrEqualToThreshold',
      'notBreaching',
    ],
    [
      'Duration',
      'AWS/Lambda',
      'Duration',
      'Maximum',
      300,
      1,
      480_000,
      'GreaterThanOrEqualToThreshold',
      'notBreaching',
    ],
    ['Heartbeat', 'Credwatch', 'ScansCompleted', 'Sum', 86_400, 3, 1, 'LessThanThreshold', 'breaching'],
    [
      'DeliveryFailures',
      'Credwatch',
      'DeliveryFailures',
      'Sum',
      300,
      1,
      0,
      'GreaterThanThreshold',
      'notBreaching',
    ],
    [
      'DeadLetters',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'Maximum',
      300,
      1,
      0,
      'GreaterThanThreshold',
      'notBreaching',
    ],
    [
      'RefusedInvocations',
      'Credwatch',
      'InvocationsRefused',
      'Sum',
      300,
      1,
      0,
      'GreaterThanThreshold',
      'notBreaching',
    ],
  ] as const)(
    '%s watches %s %s (%s over %i s, %i periods) against %d and notifies the topic',
    (name, namespace, metricName, statistic, period, evaluationPeriods, threshold, comparison, missing) => {
      const alarms = custom.alarms as unknown as Record<string, IConstruct>;
      const key = name.charAt(0).toLowerCase() + name.slice(1);
      const alarm = template.toJSON().Resources[logicalId(alarms[key]!)] as { Properties: Json };
      const dimensions =
        namespace === 'Credwatch'
          ? credwatchDims
          : namespace === 'AWS/SQS'
            ? [
                {
                  Name: 'QueueName',
                  Value: { 'Fn::GetAtt': [logicalId(custom.schedule.deadLetterQueue), 'QueueName'] },
                },
              ]
            : [{ Name: 'FunctionName', Value: ref(custom.scanner.function) }];
      expect(alarm.Properties).toMatchObject({
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: dimensions,
        Statistic: statistic,
        Period: period,
        EvaluationPeriods: evaluationPeriods,
        Threshold: threshold,
        ComparisonOperator: comparison,
        TreatMissingData: missing,
        AlarmActions: [ref(custom.alarms.ownTopic!)],
        OKActions: [ref(custom.alarms.ownTopic!)],
      });
      expect(alarm.Properties.AlarmDescription).toContain('docs/deploy.md');
    },
  );

  const alarmsOf = (t: Template) =>
    Object.values(t.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: Json }).Properties,
    );

  it('notifies the configured existing topic, with no topic, key or subscription of its own', () => {
    const alarms = alarmsOf(importedTemplate);
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([OPS_TOPIC]);
      expect(alarm.OKActions).toEqual([OPS_TOPIC]);
    }
    importedTemplate.resourceCountIs('AWS::SNS::Topic', 0);
    importedTemplate.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    importedTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(imported.alarms.topic?.topicArn).toBe(OPS_TOPIC);
    expect(importedTemplate.toJSON().Outputs.AlarmTopicArn.Value).toBe(OPS_TOPIC);
  });

  it('with alarms "none" keeps the alarms and the dashboard, without any action or topic', () => {
    const alarms = alarmsOf(listedTemplate);
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.OKActions).toBeUndefined();
    }
    listedTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    listedTemplate.resourceCountIs('AWS::SNS::Topic', 0);
    listedTemplate.resourceCountIs('AWS::KMS::Key', 1); // the secret's
    expect(Object.keys(listedTemplate.toJSON().Outputs)).not.toContain('AlarmTopicArn');
  });

  it('fires the heartbeat after three periods of a rate schedule', () => {
    importedTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ScansCompleted',
      Period: 7200,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  it('is the only thing in the stack that alarms: seven alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });

  it.each([
    [10, 600, 3],
    [60, 3600, 3],
    [1440, 86_400, 3],
    [2880, 86_400, 6],
    [3360, 86_400, 7],
  ])(
    'gives a heartbeat of %i minutes a period of %i s and %i evaluation periods',
    (minutes, period, evaluations) => {
      const window = heartbeatWindow(minutes);
      expect(window.period.toSeconds()).toBe(period);
      expect(window.evaluationPeriods).toBe(evaluations);
      // CloudWatch: at most 7 days in all, and at most 1 day for periods under an hour.
      expect(period * evaluations).toBeLessThanOrEqual(period < 3600 ? 86_400 : 604_800);
    },
  );
});

describe('the alarm topic', () => {
  it('is encrypted with a rotated key, TLS-only, and e-mails every configured address', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(custom.alarms.key!) });
    expect(template.toJSON().Resources[logicalId(custom.alarms.key!)].Properties.EnableKeyRotation).toBe(
      true,
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: OWN_ALARMS,
          }),
        ]),
      },
    });
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (s) => (s as { Properties: Json }).Properties,
    );
    expect(subscriptions.map((s) => [s.Protocol, s.Endpoint]).sort()).toEqual([
      ['email', 'oncall@example.org'],
      ['email', 'secops@example.com'],
    ]);
    importedTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('lets CloudWatch use the topic key only for alarms of this account and region', () => {
    const policy = template.toJSON().Resources[logicalId(custom.alarms.key!)].Properties.KeyPolicy as {
      Statement: Json[];
    };
    expect(policy.Statement.filter((st) => JSON.stringify(st.Principal).includes('cloudwatch'))).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsToPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: OWN_ALARMS,
      },
    ]);
  });
});

describe('the dashboard', () => {
  it.each([
    'ScanDuration',
    'FindingsCritical',
    'FindingsWarning',
    'FindingsInfo',
    'IamCalls',
    'DeliveryFailures',
    'InvocationsRefused',
  ])('graphs %s', (metric) => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
    expect(JSON.stringify(dashboard)).toContain(
      `\\"Credwatch\\",\\"${metric}\\",\\"service\\",\\"credwatch\\"`,
    );
  });
});
