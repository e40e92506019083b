/**
 * The scanner's alarms, alarm topic and dashboard (lib/constructs/alarms.ts).
 *
 * Synthesizes the single-account stacks and the multi-account stacks once for this file (test/infra/support.ts).
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/contracts';
import { type CredwatchConfig, loadConfig } from '../../lib/config';
import { heartbeatWindow, schedulePeriodWindow } from '../../lib/constructs/alarms';
import { CredwatchStack } from '../../lib/credwatch-stack';
import {
  arnOf,
  BUNDLING_STACKS,
  cdkJson,
  customConfig,
  importedConfig,
  type Json,
  listedConfig,
  logicalId,
  MEMBER_A,
  multiAccountStacks,
  OPS_TOPIC,
  OWN_ALARMS,
  ref,
  singleAccountStacks,
  stepFunctionsConfig,
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

describe('the EnforcementFailed alarm (enforcement mode enforce only)', () => {
  const AGES = { finalNoticeKeyAgeDays: 80, deactivateKeyAgeDays: 90 };
  const withEnforcement = (config: CredwatchConfig, enforcement: unknown, more: Json = {}) =>
    loadConfig({ ...config, ...more, enforcement }, 'test');
  /** The stacks by name: each differs from its support.ts configuration in `enforcement` (and its schedule). */
  const configs: Record<string, CredwatchConfig> = {
    SelfEnforce: withEnforcement(customConfig, { mode: 'enforce', ...AGES }),
    SelfDryRun: withEnforcement(customConfig, { mode: 'dry-run', ...AGES }),
    SelfOff: withEnforcement(customConfig, { mode: 'off', ...AGES }),
    // A heartbeat longer than the rate: the window is the schedule's period, not the heartbeat's.
    ImportedEnforce: withEnforcement(importedConfig, { mode: 'enforce', ...AGES }, { heartbeatMinutes: 360 }),
    // Only one account's policy enforces: "some policy" decides. Alarms without actions.
    ListedEnforce: withEnforcement(listedConfig, {
      mode: 'dry-run',
      ...AGES,
      accounts: { [MEMBER_A]: { mode: 'enforce' } },
    }),
    ListedDryRun: withEnforcement(listedConfig, { mode: 'dry-run', ...AGES }),
    EngineEnforce: withEnforcement(stepFunctionsConfig, { mode: 'enforce', ...AGES }),
    // A period longer than CloudWatch's one-day period: one breaching day out of two.
    TwoDaysEnforce: withEnforcement(
      importedConfig,
      { mode: 'enforce', ...AGES },
      { schedule: 'rate(2 days)', heartbeatMinutes: 2880 },
    ),
  };
  const stacks = new Map<string, CredwatchStack>();
  const templates = new Map<string, Template>();

  beforeAll(() => {
    const app = new App({ context: { ...cdkJson.context, [BUNDLING_STACKS]: [] } });
    for (const [id, config] of Object.entries(configs))
      stacks.set(id, new CredwatchStack(app, id, { config }));
    app.synth();
    for (const [id, stack] of stacks) templates.set(id, Template.fromStack(stack));
  }, 180_000);

  const enforcementAlarms = (t: Template) =>
    Object.values(
      t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'EnforcementFailed' } }),
    );
  const alarmOf = (id: string) => {
    const stack = stacks.get(id)!;
    const alarm = stack.alarms.enforcementFailed;
    if (!alarm) throw new Error(`${id} has no EnforcementFailed alarm`);
    return (templates.get(id)!.toJSON().Resources[logicalId(alarm)] as { Properties: Json }).Properties;
  };

  it.each(['SelfEnforce', 'ImportedEnforce', 'ListedEnforce', 'EngineEnforce', 'TwoDaysEnforce'])(
    '%s: one alarm more than without enforcement, on EnforcementFailed',
    (id) => {
      expect(enforcementAlarms(templates.get(id)!)).toHaveLength(1);
      templates.get(id)!.resourceCountIs('AWS::CloudWatch::Alarm', id === 'EngineEnforce' ? 9 : 8);
    },
  );

  it.each(['SelfDryRun', 'SelfOff', 'ListedDryRun'])('%s: no such alarm', (id) => {
    expect(stacks.get(id)!.alarms.enforcementFailed).toBeUndefined();
    expect(enforcementAlarms(templates.get(id)!)).toHaveLength(0);
    templates.get(id)!.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });

  it('nor without an enforcement section', () => {
    expect(enforcementAlarms(template)).toHaveLength(0);
    expect(enforcementAlarms(importedTemplate)).toHaveLength(0);
    expect(custom.alarms.enforcementFailed).toBeUndefined();
  });

  it("watches the function's EnforcementFailed sum >= 1 in one schedule period and notifies the alarm topic", () => {
    const topic = ref(stacks.get('SelfEnforce')!.alarms.ownTopic!);
    expect(alarmOf('SelfEnforce')).toEqual({
      AlarmDescription: expect.any(String),
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.enforcementFailed,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      // A cron schedule: its period is heartbeatMinutes (1440 by default).
      Period: 86_400,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });

  it('with an existing topic notifies that topic; its window is the rate, not the longer heartbeat', () => {
    expect(alarmOf('ImportedEnforce')).toMatchObject({
      Period: 7200,
      EvaluationPeriods: 1,
      AlarmActions: [OPS_TOPIC],
      OKActions: [OPS_TOPIC],
    });
  });

  it('with alarms "none" has no action, like the other alarms', () => {
    const alarm = alarmOf('ListedEnforce');
    expect(alarm.AlarmActions).toBeUndefined();
    expect(alarm.OKActions).toBeUndefined();
    expect(alarm.MetricName).toBe(METRIC.enforcementFailed);
  });

  it('with the Step Functions engine watches the same metric, which the scanBatch step emits (no function dimension)', () => {
    const engine = stacks.get('EngineEnforce')!;
    const alarm = alarmOf('EngineEnforce');
    expect(alarm).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.enforcementFailed,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(engine.alarms.ownTopic!)],
    });
    // The step that scans (and enforces) is powered by the same metrics settings as every step.
    const env = (
      templates.get('EngineEnforce')!.toJSON().Resources[logicalId(engine.scanner.function)] as {
        Properties: { Environment: { Variables: Json } };
      }
    ).Properties.Environment.Variables;
    expect(env).toMatchObject({
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    });
    expect(env.CREDWATCH_ENFORCEMENT).toBeDefined();
    expect(alarm.AlarmDescription).toContain('scanBatch');
  });

  it('a schedule period over a day: one breaching day out of those the period spans', () => {
    expect(alarmOf('TwoDaysEnforce')).toMatchObject({
      Period: 86_400,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
    });
  });

  it('says what to do: the warnings to read, the member role to redeploy, the runbook', () => {
    const description = alarmOf('SelfEnforce').AlarmDescription as string;
    for (const part of [
      'enforcement-failed',
      'enforcement-unrecorded',
      '"scan complete"',
      'member role',
      'docs/organization.md',
      'docs/deploy.md',
    ]) {
      expect(description).toContain(part);
    }
    expect(description.length).toBeLessThanOrEqual(1024); // CloudWatch's limit
  });

  it('is on the dashboard with the other alarms', () => {
    const stack = stacks.get('SelfEnforce')!;
    const dashboard = Object.values(
      templates.get('SelfEnforce')!.findResources('AWS::CloudWatch::Dashboard'),
    )[0];
    expect(JSON.stringify(dashboard)).toContain(logicalId(stack.alarms.enforcementFailed!));
  });

  it.each([
    [10, 600, 1],
    [1440, 86_400, 1],
    [1441, 86_400, 2],
    [2880, 86_400, 2],
    [3360, 86_400, 3],
  ])(
    'gives a schedule period of %i minutes a period of %i s and %i evaluation periods',
    (minutes, period, n) => {
      const window = schedulePeriodWindow(minutes);
      expect(window.period.toSeconds()).toBe(period);
      expect(window.evaluationPeriods).toBe(n);
      expect(window.datapointsToAlarm).toBe(1);
      // The window covers the schedule period, within CloudWatch's limits.
      expect(period * n).toBeGreaterThanOrEqual(minutes * 60);
      expect(period * n).toBeLessThanOrEqual(period < 3600 ? 86_400 : 604_800);
    },
  );
});
