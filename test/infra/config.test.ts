import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { DEFAULT_ENFORCEMENT, enforcementPolicySchema } from '../../lambda/core/enforcement';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../lambda/core/policy';
import {
  type AccountsConfig,
  ConfigError,
  type CredwatchConfig,
  configFieldOrigin,
  enforcementSettings,
  knownAccountIds,
  loadConfig,
  loadConfigSources,
  MAX_HEARTBEAT_MINUTES,
  ratePeriodMinutes,
  readConfigFile,
  schedulePeriodMinutes,
} from '../../lib/config';

const FILE = 'credwatch.config.json';

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('loadConfig', () => {
  it('fills in every default when there is no configuration', () => {
    const expected: CredwatchConfig = {
      schedule: 'rate(10 minutes)',
      heartbeatMinutes: 10,
      thresholds: DEFAULT_THRESHOLDS,
      reminderHours: 24,
      alarmEmails: [],
      alarms: 'on',
      slackSecret: { create: true },
      logRetentionDays: 90,
      memoryMb: 512,
      timeoutSeconds: 300,
      reportDeadlineSeconds: 60,
      reservedConcurrency: true,
      securityHub: false,
      notifications: {
        baseline: true,
        reminders: 'roll-up',
        maxMessagesPerRun: 10,
        routes: [],
        defaultChannel: 'default',
      },
      userDirectory: 'authorization-details',
      accounts: {
        source: 'self',
        memberRoleName: 'credwatch-member',
        scannerRoleName: 'credwatch-scanner',
        concurrency: 8,
      },
      enforcement: DEFAULT_ENFORCEMENT,
    };
    expect(loadConfig(undefined, FILE)).toEqual(expected);
    expect(loadConfig({}, FILE)).toEqual(expected);
  });

  it('keeps every value it was given', () => {
    const raw = {
      schedule: 'cron(0 8 ? * MON-FRI *)',
      timeZone: 'Europe/Berlin',
      heartbeatMinutes: 4320 / 2,
      thresholds: { accessKeyAge: { warningDays: 60, criticalDays: 75 }, multipleActiveKeys: 'off' },
      reminderHours: 12,
      alarmEmails: ['secops@example.com', 'oncall@example.org'],
      alarms: 'on',
      slackSecret: { name: 'credwatch/slack', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd-1234' },
      logRetentionDays: 365,
      memoryMb: 1024,
      timeoutSeconds: 600,
      reportDeadlineSeconds: 120,
      reservedConcurrency: false,
      securityHub: true,
      notifications: {
        baseline: false,
        reminders: 'per-finding',
        maxMessagesPerRun: 50,
        routes: [
          {
            channel: 'payments',
            organizationalUnits: ['ou-ab12-cdefgh34'],
            userTags: { 'credwatch:team': ['payments'] },
          },
        ],
        defaultChannel: 'security',
        mirrors: { security: ['security-teams'], payments: ['payments-teams', 'security'] },
      },
      userDirectory: 'list-users',
      accounts: {
        source: 'organization',
        organizationalUnits: ['ou-ab12-cdefgh34', 'r-ab12'],
        include: ['111111111111', '222222222222'],
        exclude: ['333333333333'],
        memberRoleName: 'Credwatch-Reader',
        scannerRoleName: 'secops-credwatch',
        externalId: 'credwatch:2025/ext-id',
        organizationId: 'o-a1b2c3d4e5',
        concurrency: 16,
      },
      enforcement: {
        mode: 'dry-run',
        finalNoticeKeyAgeDays: 80,
        deactivateKeyAgeDays: 90,
        finalNoticeUnusedDays: 60,
        deactivateUnusedDays: 120,
        leadTimeDays: 14,
        recentUseHours: 48,
        protectedUsers: ['break-glass', 'ci-*'],
        accounts: { '111111111111': { mode: 'enforce', deactivateKeyAgeDays: 100 } },
      },
    };
    const config = loadConfig(raw, FILE);
    expect(config).toEqual({
      ...raw,
      thresholds: {
        ...DEFAULT_THRESHOLDS,
        accessKeyAge: { warningDays: 60, criticalDays: 75 },
        multipleActiveKeys: 'off',
      },
    });
  });

  it('is idempotent: a loaded configuration loads to itself', () => {
    const once = loadConfig({ schedule: 'cron(0 8 * * ? *)', alarmEmails: ['a@example.com'] }, FILE);
    expect(loadConfig(once, 'again')).toEqual(once);
  });

  it.each([
    ['rate(10 minutes)', 10],
    ['rate(1 minute)', 1],
    ['rate(1 hour)', 60],
    ['rate(6 hours)', 360],
    ['rate(1 day)', 1440],
    ['rate(2 days)', 2880],
    ['cron(0 8 * * ? *)', 1440],
    ['cron(0/15 8-17 ? * MON-FRI *)', 1440],
    ['cron(30 2 L * ? 2025-2030)', 1440],
    ['cron(0 9 ? JAN,JUL 2#1 *)', 1440],
    ['cron(0 12 15W * ? *)', 1440],
    ['cron(0 0 ? * 6L *)', 1440],
  ])('accepts the schedule %s with a heartbeat of %i minutes', (schedule, heartbeat) => {
    // A timeout shorter than the shortest period here (1 minute).
    const config = loadConfig({ schedule, timeoutSeconds: 45, reportDeadlineSeconds: 10 }, FILE);
    expect(config.schedule).toBe(schedule);
    expect(config.heartbeatMinutes).toBe(heartbeat);
  });

  it.each(['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata'])(
    'accepts the time zone %s',
    (timeZone) => {
      expect(loadConfig({ timeZone }, FILE).timeZone).toBe(timeZone);
    },
  );

  it('accepts admin roles for a created secret, with and without a path', () => {
    const adminRoleArns = [
      'arn:aws:iam::123456789012:role/break-glass',
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef',
      'arn:aws-us-gov:iam::123456789012:role/ops/team/Admin',
    ];
    expect(loadConfig({ slackSecret: { create: true, adminRoleArns } }, FILE).slackSecret).toEqual({
      create: true,
      adminRoleArns,
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ['an existing alarm topic', { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alarms' }],
    ['alarms without actions', { alarms: 'none' }],
    ['no reserved concurrency', { reservedConcurrency: false }],
  ])('accepts %s', (_what, raw) => {
    expect(loadConfig(raw, FILE)).toMatchObject(raw);
  });

  it('accepts a timeout just under one period and rejects one of a whole period, for any rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 15 }), (minutes) => {
        const schedule = `rate(${minutes} minutes)`;
        const period = minutes * 60;
        const fits = { schedule, timeoutSeconds: period - 1, reportDeadlineSeconds: 1 };
        expect(loadConfig(fits, FILE).timeoutSeconds).toBe(period - 1);
        if (period <= 900) {
          const message = errorOf(() => loadConfig({ ...fits, timeoutSeconds: period }, FILE)).message;
          expect(message).toBe(
            `${FILE}: timeoutSeconds: must be shorter than one schedule period (${period} seconds: the period of ${schedule}), got ${period}`,
          );
        }
      }),
    );
  });

  it.each<[Record<string, unknown>, number]>([
    [{ schedule: 'rate(10 minutes)' }, 10],
    [{ schedule: 'rate(2 hours)', heartbeatMinutes: 240 }, 120],
    [{ schedule: 'cron(0 8 * * ? *)' }, 1440],
    [{ schedule: 'cron(0 * * * ? *)', heartbeatMinutes: 60 }, 60],
  ])('takes one schedule period of %j as %i minutes', (raw, minutes) => {
    expect(schedulePeriodMinutes(loadConfig(raw, FILE))).toBe(minutes);
  });

  it('accepts a secret imported by complete ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:credwatch/slack-AbC123';
    expect(loadConfig({ slackSecret: { arn } }, FILE).slackSecret).toEqual({ arn });
  });

  it.each<[string, unknown, string]>([
    [
      'a schedule that is not an expression',
      { schedule: 'every 5 minutes' },
      'credwatch.config.json: schedule: expected rate(N minutes|hours|days) or cron(...), got "every 5 minutes"',
    ],
    [
      'a schedule that is not a string',
      { schedule: 10 },
      'credwatch.config.json: schedule: expected rate(N minutes|hours|days) or cron(...), got 10',
    ],
    [
      'a rate of zero',
      { schedule: 'rate(0 minutes)' },
      'credwatch.config.json: schedule: rate value must be at least 1, got "rate(0 minutes)"',
    ],
    [
      'a rate of one with a plural unit',
      { schedule: 'rate(1 hours)' },
      'credwatch.config.json: schedule: "rate(1 hours)" must use the singular unit: rate(1 hour)',
    ],
    [
      'a rate above one with a singular unit',
      { schedule: 'rate(5 minute)' },
      'credwatch.config.json: schedule: "rate(5 minute)" must use the plural unit: rate(5 minutes)',
    ],
    [
      'a rate too long for the heartbeat alarm',
      { schedule: 'rate(3 days)' },
      'credwatch.config.json: schedule: "rate(3 days)" is longer than 56 hours; the heartbeat alarm (three periods) must fit in CloudWatch\'s 7-day alarm window',
    ],
    [
      'a cron expression with five fields',
      { schedule: 'cron(0 8 * * ?)' },
      'credwatch.config.json: schedule: cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got 5 in "cron(0 8 * * ?)"',
    ],
    [
      'a cron minute out of range',
      { schedule: 'cron(60 8 * * ? *)' },
      'credwatch.config.json: schedule: cron minutes field "60" is not valid (0-59 with , - * /) in "cron(60 8 * * ? *)"',
    ],
    [
      'a cron hour out of range',
      { schedule: 'cron(0 24 * * ? *)' },
      'credwatch.config.json: schedule: cron hours field "24" is not valid (0-23 with , - * /) in "cron(0 24 * * ? *)"',
    ],
    [
      'a cron month name that does not exist',
      { schedule: 'cron(0 8 1 FOO ? *)' },
      'credwatch.config.json: schedule: cron month field "FOO" is not valid (1-12 or JAN-DEC with , - * /) in "cron(0 8 1 FOO ? *)"',
    ],
    [
      'a cron year out of range',
      { schedule: 'cron(0 8 * * ? 1969)' },
      'credwatch.config.json: schedule: cron year field "1969" is not valid (1970-2199 with , - * /) in "cron(0 8 * * ? 1969)"',
    ],
    [
      'a cron expression with both days set',
      { schedule: 'cron(0 8 * * MON *)' },
      'credwatch.config.json: schedule: cron day-of-month "*" and day-of-week "MON": exactly one of them must be "?" in "cron(0 8 * * MON *)"',
    ],
    [
      'a cron expression with neither day set',
      { schedule: 'cron(0 8 ? * ? *)' },
      'credwatch.config.json: schedule: cron day-of-month "?" and day-of-week "?": exactly one of them must be "?" in "cron(0 8 ? * ? *)"',
    ],
    [
      'a time zone that does not exist',
      { timeZone: 'Mars/Olympus_Mons' },
      'credwatch.config.json: timeZone: expected an IANA time zone such as "Europe/Berlin" or "UTC", got "Mars/Olympus_Mons"',
    ],
    [
      'a UTC offset instead of a time zone',
      { timeZone: '+02:00' },
      'credwatch.config.json: timeZone: expected an IANA time zone such as "Europe/Berlin" or "UTC", got "+02:00"',
    ],
    [
      'a heartbeat shorter than the rate',
      { schedule: 'rate(1 hour)', heartbeatMinutes: 30 },
      "credwatch.config.json: heartbeatMinutes: must be at least the schedule's period (60 minutes), got 30",
    ],
    [
      'a heartbeat longer than CloudWatch can watch',
      { schedule: 'cron(0 8 ? * MON *)', heartbeatMinutes: 10080 },
      'credwatch.config.json: heartbeatMinutes: expected a whole number from 1 to 3360, got 10080',
    ],
    [
      'a threshold warning not below its critical level',
      { thresholds: { accessKeyAge: { warningDays: 95 } } },
      'credwatch.config.json: thresholds.accessKeyAge.warningDays: warningDays must be less than criticalDays',
    ],
    [
      'a threshold of zero days',
      { thresholds: { accessKeyUnused: { warningDays: 0 } } },
      'credwatch.config.json: thresholds.accessKeyUnused.warningDays: expected a whole number from 1 to 3650, got 0',
    ],
    [
      'a threshold of a fraction of a day',
      { thresholds: { passwordAge: { criticalDays: 1.5 } } },
      'credwatch.config.json: thresholds.passwordAge.criticalDays: expected a whole number from 1 to 3650, got 1.5',
    ],
    [
      'a severity that does not exist',
      { thresholds: { rootAccessKey: 'high' } },
      'credwatch.config.json: thresholds.rootAccessKey: expected one of "info", "warning", "critical", "off", got "high"',
    ],
    [
      'a misspelt threshold',
      { thresholds: { accessKeyAgeDays: {} } },
      'credwatch.config.json: thresholds.accessKeyAgeDays: unknown field; allowed here: accessKeyAge, accessKeyUnused, passwordUnused, passwordAge, passwordWithoutMfa, rootAccessKey, rootWithoutMfa, rootCredentialsRemoved, rootUsed, rootVirtualMfa, multipleActiveKeys, exemptionExpired, exemptionGranted, tagLimits',
    ],
    [
      'reminder hours of zero',
      { reminderHours: 0 },
      'credwatch.config.json: reminderHours: expected a whole number from 1 to 720, got 0',
    ],
    [
      'reminder hours given as a string',
      { reminderHours: '24' },
      'credwatch.config.json: reminderHours: expected a whole number from 1 to 720, got "24"',
    ],
    [
      'alarm e-mails given as one string',
      { alarmEmails: 'ops@example.com' },
      'credwatch.config.json: alarmEmails: expected an array of e-mail addresses, got "ops@example.com"',
    ],
    [
      'an alarm e-mail that is not an address',
      { alarmEmails: ['ops@example.com', 'ops'] },
      'credwatch.config.json: alarmEmails[1]: expected an e-mail address, got "ops"',
    ],
    [
      'an alarm e-mail listed twice',
      { alarmEmails: ['ops@example.com', 'OPS@example.com'] },
      'credwatch.config.json: alarmEmails[1]: "OPS@example.com" is listed twice',
    ],
    [
      'a secret source that is not an object',
      { slackSecret: 'credwatch/slack' },
      'credwatch.config.json: slackSecret: expected {"create": true}, {"name": "SECRET-NAME"} or {"arn": "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX"}, got "credwatch/slack"',
    ],
    [
      'a secret source that is two at once',
      { slackSecret: { name: 'a', arn: 'b' } },
      'credwatch.config.json: slackSecret: expected {"create": true}, {"name": "SECRET-NAME"} or {"arn": "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX"}, got {"name":"a","arn":"b"}',
    ],
    [
      'create set to false',
      { slackSecret: { create: false } },
      'credwatch.config.json: slackSecret.create: expected true, got false',
    ],
    [
      'a key for a created secret',
      { slackSecret: { create: true, kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc' } },
      'credwatch.config.json: slackSecret.kmsKeyArn: unknown field; allowed here: create, adminRoleArns',
    ],
    [
      'a secret name with a space',
      { slackSecret: { name: 'slack webhook' } },
      'credwatch.config.json: slackSecret.name: expected 1-512 characters of A-Z a-z 0-9 / _ + = . @ -, got "slack webhook"',
    ],
    [
      'a partial secret ARN',
      { slackSecret: { arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:credwatch/slack' } },
      'credwatch.config.json: slackSecret.arn: expected a complete secret ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX), got "arn:aws:secretsmanager:eu-west-1:123456789012:secret:credwatch/slack"',
    ],
    [
      'a key alias instead of a key ARN',
      { slackSecret: { name: 'credwatch/slack', kmsKeyArn: 'alias/credwatch' } },
      'credwatch.config.json: slackSecret.kmsKeyArn: expected a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID), got "alias/credwatch"',
    ],
    [
      'a log retention CloudWatch does not offer',
      { logRetentionDays: 100 },
      'credwatch.config.json: logRetentionDays: expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, got 100',
    ],
    [
      'memory below the Lambda minimum',
      { memoryMb: 64 },
      'credwatch.config.json: memoryMb: expected a whole number from 128 to 10240, got 64',
    ],
    [
      'a timeout above the Lambda maximum',
      { timeoutSeconds: 901 },
      'credwatch.config.json: timeoutSeconds: expected a whole number from 1 to 900, got 901',
    ],
    [
      'a report deadline without 30 seconds of margin',
      { reportDeadlineSeconds: 270 },
      'credwatch.config.json: reportDeadlineSeconds: must be less than timeoutSeconds - 30 (270), got 270',
    ],
    [
      'a timeout too short for the default report deadline',
      { timeoutSeconds: 60 },
      'credwatch.config.json: reportDeadlineSeconds: must be less than timeoutSeconds - 30 (30), got 60',
    ],
    [
      'a field that does not exist',
      { memory: 1024 },
      'credwatch.config.json: memory: unknown field; allowed here: schedule, timeZone, heartbeatMinutes, thresholds, reminderHours, alarmEmails, alarmTopicArn, alarms, slackSecret, logRetentionDays, memoryMb, timeoutSeconds, reportDeadlineSeconds, userDirectory, reservedConcurrency, securityHub, accounts, notifications, enforcement',
    ],
    [
      'a timeout as long as the rate',
      { schedule: 'rate(5 minutes)' },
      'credwatch.config.json: timeoutSeconds: must be shorter than one schedule period (300 seconds: the period of rate(5 minutes)), got 300',
    ],
    [
      'a timeout longer than the heartbeat of a cron schedule',
      { schedule: 'cron(0/5 * * * ? *)', heartbeatMinutes: 5, timeoutSeconds: 600 },
      'credwatch.config.json: timeoutSeconds: must be shorter than one schedule period (300 seconds: heartbeatMinutes 5, the period of the cron schedule), got 600',
    ],
    [
      'an alarm topic that is not an SNS topic ARN',
      { alarmTopicArn: 'ops-alarms' },
      'credwatch.config.json: alarmTopicArn: expected an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:TOPIC-NAME), got "ops-alarms"',
    ],
    [
      'an alarm topic ARN of another service',
      { alarmTopicArn: 'arn:aws:sqs:eu-west-1:123456789012:ops' },
      'credwatch.config.json: alarmTopicArn: expected an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:TOPIC-NAME), got "arn:aws:sqs:eu-west-1:123456789012:ops"',
    ],
    [
      'alarm e-mails and an alarm topic',
      { alarmEmails: ['ops@example.com'], alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' },
      'credwatch.config.json: alarmEmails: not allowed together with alarmTopicArn (the alarms then notify that topic only): subscribe the addresses to it instead',
    ],
    [
      'an alarms mode that does not exist',
      { alarms: 'off' },
      'credwatch.config.json: alarms: expected one of "on", "none", got "off"',
    ],
    [
      'alarm e-mails with alarms "none"',
      { alarms: 'none', alarmEmails: ['ops@example.com'] },
      'credwatch.config.json: alarmEmails: not allowed when alarms is "none" (the alarms have no actions)',
    ],
    [
      'an alarm topic with alarms "none"',
      { alarms: 'none', alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' },
      'credwatch.config.json: alarmTopicArn: not allowed when alarms is "none" (the alarms have no actions)',
    ],
    [
      'reserved concurrency given as a number',
      { reservedConcurrency: 1 },
      'credwatch.config.json: reservedConcurrency: expected true or false, got 1',
    ],
    [
      'admin roles that are not a list',
      { slackSecret: { create: true, adminRoleArns: 'arn:aws:iam::123456789012:role/admin' } },
      'credwatch.config.json: slackSecret.adminRoleArns: expected an array of IAM role ARNs, got "arn:aws:iam::123456789012:role/admin"',
    ],
    [
      'an admin role given by name',
      { slackSecret: { create: true, adminRoleArns: ['admin'] } },
      'credwatch.config.json: slackSecret.adminRoleArns[0]: expected an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME or role/PATH/NAME, no wildcards), got "admin"',
    ],
    [
      'an admin user instead of a role',
      { slackSecret: { create: true, adminRoleArns: ['arn:aws:iam::123456789012:user/alice'] } },
      'credwatch.config.json: slackSecret.adminRoleArns[0]: expected an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME or role/PATH/NAME, no wildcards), got "arn:aws:iam::123456789012:user/alice"',
    ],
    [
      'an admin role with a wildcard',
      {
        slackSecret: { create: true, adminRoleArns: ['arn:aws:iam::123456789012:role/aws-reserved/*/Admin'] },
      },
      'credwatch.config.json: slackSecret.adminRoleArns[0]: expected an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME or role/PATH/NAME, no wildcards), got "arn:aws:iam::123456789012:role/aws-reserved/*/Admin"',
    ],
    [
      'an admin role listed twice',
      {
        slackSecret: {
          create: true,
          adminRoleArns: ['arn:aws:iam::123456789012:role/admin', 'arn:aws:iam::123456789012:role/admin'],
        },
      },
      'credwatch.config.json: slackSecret.adminRoleArns[1]: "arn:aws:iam::123456789012:role/admin" is listed twice',
    ],
    [
      'admin roles for an imported secret',
      { slackSecret: { name: 'credwatch/slack', adminRoleArns: ['arn:aws:iam::123456789012:role/admin'] } },
      'credwatch.config.json: slackSecret.adminRoleArns: only allowed with {"create": true}; for an imported secret attach the resource policy by hand (docs/deploy.md)',
    ],
    ['a configuration that is not an object', [1, 2], 'credwatch.config.json: expected an object, got [1,2]'],
    [
      'a message cap below 2',
      { notifications: { maxMessagesPerRun: 1 } },
      'credwatch.config.json: notifications.maxMessagesPerRun: expected a whole number from 2 to 1000, got 1',
    ],
    [
      'an unknown reminder mode',
      { notifications: { reminders: 'weekly' } },
      'credwatch.config.json: notifications.reminders: expected one of roll-up, per-finding, got "weekly"',
    ],
    [
      'a mirror of a channel no finding goes to',
      { notifications: { mirrors: { teams: ['security-teams'] } } },
      'credwatch.config.json: notifications.mirrors.teams: no finding is announced in "teams" (it is neither the defaultChannel nor a route\'s channel), so there is nothing to mirror',
    ],
    [
      'a mirror listed twice',
      { notifications: { mirrors: { default: ['teams', 'teams'] } } },
      'credwatch.config.json: notifications.mirrors.default[1]: "teams" is listed twice',
    ],
    [
      'a mirror that is not a channel name',
      { notifications: { mirrors: { default: ['Teams Channel'] } } },
      'credwatch.config.json: notifications.mirrors.default[0]: expected a channel name (1-64 characters of a-z 0-9 _ -, starting with a letter or digit), got "Teams Channel"',
    ],
  ])('rejects %s with one line naming the field', (_rule, raw, message) => {
    const error = errorOf(() => loadConfig(raw, FILE));
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('\n');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('shortens a long value in the message', () => {
    const error = errorOf(() => loadConfig({ schedule: `every ${'x'.repeat(200)}` }, FILE));
    expect(error.message).toBe(
      `credwatch.config.json: schedule: expected rate(N minutes|hours|days) or cron(...), got "every ${'x'.repeat(70)}...`,
    );
  });

  it('accepts every rate within 56 hours and derives its heartbeat from it', () => {
    const unit = fc.constantFrom(['minute', 1] as const, ['hour', 60] as const, ['day', 1440] as const);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4000 }), unit, (n, [name, minutes]) => {
        const schedule = `rate(${n} ${n === 1 ? name : `${name}s`})`;
        const period = n * minutes;
        if (period <= MAX_HEARTBEAT_MINUTES) {
          const config = loadConfig({ schedule, timeoutSeconds: 45, reportDeadlineSeconds: 10 }, FILE);
          expect(config.heartbeatMinutes).toBe(period);
          expect(ratePeriodMinutes(schedule)).toBe(period);
        } else {
          expect(errorOf(() => loadConfig({ schedule }, FILE)).message).toContain('is longer than 56 hours');
        }
      }),
    );
  });

  it('accepts any cron expression built from valid single values and rejects an out-of-range minute', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1970, max: 2199 }),
        fc.boolean(),
        (minute, hour, day, month, year, byDayOfMonth) => {
          const days = byDayOfMonth ? `${day} ${month} ?` : `? ${month} ${(day % 7) + 1}`;
          expect(
            loadConfig({ schedule: `cron(${minute} ${hour} ${days} ${year})` }, FILE).heartbeatMinutes,
          ).toBe(1440);
          const bad = `cron(${minute + 60} ${hour} ${days} ${year})`;
          expect(errorOf(() => loadConfig({ schedule: bad }, FILE)).message).toContain('cron minutes field');
        },
      ),
    );
  });

  it('names the source it was given, so the CLI can name its --config file', () => {
    expect(errorOf(() => loadConfig({ memoryMb: 1 }, 'my-config.json')).message).toMatch(
      /^my-config\.json: memoryMb: /,
    );
  });
});

describe('the accounts section', () => {
  const A = '111111111111';
  const B = '222222222222';
  const C = '333333333333';
  const accountsOf = (accounts: unknown) => loadConfig({ accounts }, FILE).accounts;
  const DEFAULTS = {
    memberRoleName: 'credwatch-member',
    scannerRoleName: 'credwatch-scanner',
    concurrency: 8,
  };

  it.each<[string, unknown, AccountsConfig]>([
    ['an empty section as the own account', {}, { source: 'self', ...DEFAULTS }],
    ['the own account, said explicitly', { source: 'self' }, { source: 'self', ...DEFAULTS }],
    ['a list of accounts', { source: 'list', ids: [A, B] }, { source: 'list', ids: [A, B], ...DEFAULTS }],
    [
      'a list narrowed by include and exclude',
      { source: 'list', ids: [A, B, C], include: [A, B], exclude: [C] },
      { source: 'list', ids: [A, B, C], include: [A, B], exclude: [C], ...DEFAULTS },
    ],
    ['the whole organization', { source: 'organization' }, { source: 'organization', ...DEFAULTS }],
    [
      'OUs and a root of the organization, with a concurrency of 1',
      { source: 'organization', organizationalUnits: ['ou-ab12-cdefgh34', 'r-0a1b'], concurrency: 1 },
      {
        source: 'organization',
        organizationalUnits: ['ou-ab12-cdefgh34', 'r-0a1b'],
        ...DEFAULTS,
        concurrency: 1,
      },
    ],
  ])('accepts %s', (_what, accounts, expected) => {
    expect(accountsOf(accounts)).toEqual(expected);
  });

  it('merges per-account thresholds over the global ones, rule by rule', () => {
    const config = loadConfig(
      {
        thresholds: { accessKeyAge: { warningDays: 60, criticalDays: 75 }, multipleActiveKeys: 'off' },
        accounts: {
          source: 'list',
          ids: [A, B],
          thresholds: { [A]: { accessKeyAge: { criticalDays: 120 }, rootAccessKey: 'warning' }, [B]: {} },
        },
      },
      FILE,
    );
    expect(config.accounts.thresholds).toEqual({
      // A rule given replaces the global rule as a whole: its unset warningDays is the default (80).
      [A]: {
        ...config.thresholds,
        accessKeyAge: { warningDays: 80, criticalDays: 120 },
        rootAccessKey: 'warning',
      },
      [B]: config.thresholds,
    });
    expect(config.thresholds.multipleActiveKeys).toBe('off');
  });

  it('keeps a global rule that an account does not name, for any choice of named rules', () => {
    const rules = Object.keys(DEFAULT_THRESHOLDS) as (keyof Thresholds)[];
    const global = {
      accessKeyAge: { warningDays: 30, criticalDays: 40 },
      accessKeyUnused: { warningDays: 10, criticalDays: 20 },
      passwordUnused: { warningDays: 11, criticalDays: 21 },
      passwordAge: { warningDays: 100, criticalDays: 200 },
      passwordWithoutMfa: 'warning',
      rootAccessKey: 'info',
      rootWithoutMfa: 'warning',
      rootCredentialsRemoved: 'warning',
      rootUsed: { withinDays: 7, severity: 'critical' },
      rootVirtualMfa: 'warning',
      multipleActiveKeys: 'critical',
      exemptionExpired: 'info',
      exemptionGranted: 'warning',
      tagLimits: { maxExemptionDays: 30, maxKeyAgeDays: 200 },
    } as const;
    fc.assert(
      fc.property(fc.subarray(rules), (named) => {
        const override = Object.fromEntries(named.map((rule) => [rule, DEFAULT_THRESHOLDS[rule]]));
        const config = loadConfig(
          { thresholds: global, accounts: { source: 'organization', thresholds: { [A]: override } } },
          FILE,
        );
        for (const rule of rules) {
          expect(config.accounts.thresholds?.[A]?.[rule]).toEqual(
            named.includes(rule) ? DEFAULT_THRESHOLDS[rule] : global[rule],
          );
        }
      }),
    );
  });

  it('is idempotent with per-account thresholds', () => {
    const once = loadConfig(
      { accounts: { source: 'organization', thresholds: { [A]: { accessKeyAge: { criticalDays: 120 } } } } },
      FILE,
    );
    expect(loadConfig(once, 'again')).toEqual(once);
  });

  it.each<[string, unknown, string]>([
    [
      'a source that does not exist',
      { source: 'org' },
      'accounts.source: expected one of "self", "list", "organization", got "org"',
    ],
    ['a list without ids', { source: 'list' }, 'accounts.ids: required when source is "list"'],
    ['an empty list', { source: 'list', ids: [] }, 'accounts.ids: expected at least one account id, got []'],
    [
      'ids with the organization',
      { source: 'organization', ids: [A] },
      'accounts.ids: only allowed when source is "list", got source "organization"',
    ],
    [
      'ids with the own account',
      { ids: [A] },
      'accounts.ids: only allowed when source is "list", got source "self"',
    ],
    [
      'an account id that is not 12 digits',
      { source: 'list', ids: [A, '12345678901'] },
      'accounts.ids[1]: expected a 12-digit AWS account id, got "12345678901"',
    ],
    [
      'an account id given as a number',
      { source: 'list', ids: [111111111111] },
      'accounts.ids[0]: expected a 12-digit AWS account id, got 111111111111',
    ],
    [
      'an account listed twice',
      { source: 'list', ids: [A, B, A] },
      'accounts.ids[2]: "111111111111" is listed twice',
    ],
    [
      'ids given as one string',
      { source: 'list', ids: A },
      'accounts.ids: expected an array of 12-digit AWS account ids, got "111111111111"',
    ],
    [
      'OUs with a list',
      { source: 'list', ids: [A], organizationalUnits: ['ou-ab12-cdefgh34'] },
      'accounts.organizationalUnits: only allowed when source is "organization", got source "list"',
    ],
    [
      'an OU given by name',
      { source: 'organization', organizationalUnits: ['Workloads'] },
      'accounts.organizationalUnits[0]: expected an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx), got "Workloads"',
    ],
    [
      'an OU listed twice',
      { source: 'organization', organizationalUnits: ['r-ab12', 'r-ab12'] },
      'accounts.organizationalUnits[1]: "r-ab12" is listed twice',
    ],
    [
      'include with the own account',
      { include: [A] },
      'accounts.include: not allowed when source is "self" (only with "list" or "organization")',
    ],
    [
      'exclude with the own account',
      { source: 'self', exclude: [A] },
      'accounts.exclude: not allowed when source is "self" (only with "list" or "organization")',
    ],
    [
      'an external id with the own account',
      { externalId: 'credwatch' },
      'accounts.externalId: not allowed when source is "self" (only with "list" or "organization")',
    ],
    [
      'per-account thresholds with the own account',
      { thresholds: { [A]: {} } },
      'accounts.thresholds: not allowed when source is "self" (only with "list" or "organization")',
    ],
    [
      'an account both included and excluded',
      { source: 'organization', include: [A, B], exclude: [C, B] },
      'accounts.exclude[1]: "222222222222" is also in include',
    ],
    [
      'an exclude list that leaves no listed account',
      { source: 'list', ids: [A, B], exclude: [B, A] },
      'accounts.exclude: leaves none of ids to scan',
    ],
    [
      'an include list that names no listed account',
      { source: 'list', ids: [A], include: [B] },
      'accounts.include: leaves none of ids to scan',
    ],
    [
      'a member role name with a space',
      { source: 'organization', memberRoleName: 'credwatch member' },
      'accounts.memberRoleName: expected an IAM role name: 1-64 characters of A-Z a-z 0-9 + = , . @ _ -, got "credwatch member"',
    ],
    [
      'a scanner role name longer than 64 characters',
      { source: 'organization', scannerRoleName: 'r'.repeat(65) },
      `accounts.scannerRoleName: expected an IAM role name: 1-64 characters of A-Z a-z 0-9 + = , . @ _ -, got "${'r'.repeat(65)}"`,
    ],
    [
      'an external id of one character',
      { source: 'organization', externalId: 'x' },
      'accounts.externalId: expected 2-1224 characters of A-Z a-z 0-9 + = , . @ : / _ -, got "x"',
    ],
    [
      'an external id with a space',
      { source: 'organization', externalId: 'cred watch' },
      'accounts.externalId: expected 2-1224 characters of A-Z a-z 0-9 + = , . @ : / _ -, got "cred watch"',
    ],
    [
      'an organization id that is too short',
      { source: 'organization', organizationId: 'o-abc' },
      'accounts.organizationId: expected an organization id (o- and 10-32 lowercase letters or digits), got "o-abc"',
    ],
    [
      'a concurrency of zero',
      { source: 'organization', concurrency: 0 },
      'accounts.concurrency: expected a whole number from 1 to 50, got 0',
    ],
    [
      'a concurrency above 50',
      { source: 'organization', concurrency: 51 },
      'accounts.concurrency: expected a whole number from 1 to 50, got 51',
    ],
    [
      'per-account thresholds keyed by an account name',
      { source: 'organization', thresholds: { production: {} } },
      'accounts.thresholds.production: expected a 12-digit AWS account id as the key, got "production"',
    ],
    [
      'per-account thresholds given as an array',
      { source: 'organization', thresholds: [] },
      'accounts.thresholds: expected an object of 12-digit account ids to thresholds, got []',
    ],
    [
      'per-account thresholds for an account that is not listed',
      { source: 'list', ids: [A], thresholds: { [B]: {} } },
      'accounts.thresholds.222222222222: not one of ids',
    ],
    [
      'per-account thresholds for an account that is not included',
      { source: 'organization', include: [A], thresholds: { [B]: {} } },
      'accounts.thresholds.222222222222: not one of include',
    ],
    [
      'per-account thresholds for an excluded account',
      { source: 'organization', exclude: [B], thresholds: { [B]: {} } },
      'accounts.thresholds.222222222222: excluded (in exclude)',
    ],
    [
      'per-account thresholds that are not an object',
      { source: 'organization', thresholds: { [A]: 'strict' } },
      'accounts.thresholds.111111111111: expected an object, got "strict"',
    ],
    [
      'a per-account warning not below the critical level it gets',
      { source: 'organization', thresholds: { [A]: { accessKeyAge: { warningDays: 95 } } } },
      'accounts.thresholds.111111111111.accessKeyAge.warningDays: warningDays must be less than criticalDays',
    ],
    [
      'a per-account threshold out of range',
      { source: 'organization', thresholds: { [A]: { passwordAge: { criticalDays: 0 } } } },
      'accounts.thresholds.111111111111.passwordAge.criticalDays: expected a whole number from 1 to 3650, got 0',
    ],
    [
      'a misspelt per-account rule',
      { source: 'organization', thresholds: { [A]: { rootKey: 'off' } } },
      'accounts.thresholds.111111111111.rootKey: unknown field; allowed here: accessKeyAge, accessKeyUnused, passwordUnused, passwordAge, passwordWithoutMfa, rootAccessKey, rootWithoutMfa, rootCredentialsRemoved, rootUsed, rootVirtualMfa, multipleActiveKeys, exemptionExpired, exemptionGranted, tagLimits',
    ],
    [
      'a field that does not exist',
      { source: 'organization', role: 'x' },
      'accounts.role: unknown field; allowed here: source, ids, organizationalUnits, include, exclude, memberRoleName, scannerRoleName, externalId, organizationId, concurrency, engine, batchSize, mapConcurrency, thresholds',
    ],
    ['a section that is not an object', 'organization', 'accounts: expected an object, got "organization"'],
  ])('rejects %s with one line naming the field', (_what, accounts, message) => {
    const error = errorOf(() => loadConfig({ accounts }, FILE));
    expect(error.message).toBe(`${FILE}: ${message}`);
    expect(error.message).not.toContain('\n');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it.each<[string, unknown, readonly string[] | undefined]>([
    ['the own account', { source: 'self' }, undefined],
    ['a list', { source: 'list', ids: [C, A, B] }, [C, A, B]],
    ['a list less excluded accounts', { source: 'list', ids: [A, B, C], exclude: [B] }, [A, C]],
    ['a list limited to included accounts', { source: 'list', ids: [A, B, C], include: [C, A] }, [A, C]],
    ['the whole organization', { source: 'organization', exclude: [A] }, undefined],
    ['the organization limited to included accounts', { source: 'organization', include: [B, A] }, [B, A]],
  ])('knows which accounts are scanned at synth time for %s', (_what, accounts, expected) => {
    expect(knownAccountIds(accountsOf(accounts))).toEqual(expected);
  });
});

describe('loadConfigSources', () => {
  it('lets a later source replace an earlier one field by field', () => {
    const config = loadConfigSources([
      {
        name: FILE,
        value: { memoryMb: 1024, alarmEmails: ['a@example.com'], thresholds: { rootAccessKey: 'info' } },
      },
      { name: 'context "credwatch"', value: { alarmEmails: ['b@example.com'], thresholds: {} } },
    ]);
    expect(config.memoryMb).toBe(1024);
    expect(config.alarmEmails).toEqual(['b@example.com']);
    // A field is replaced as a whole: the context's empty thresholds mean the defaults.
    expect(config.thresholds).toEqual(DEFAULT_THRESHOLDS);
  });

  it('tells which source set a field, and nothing for a field set nowhere', () => {
    const origin = configFieldOrigin([
      { name: FILE, value: { memoryMb: 1024, alarmEmails: ['a@example.com'] } },
      { name: 'context "credwatch"', value: '{"alarmEmails": []}' },
    ]);
    expect(origin('memoryMb')).toBe(FILE);
    expect(origin('alarmEmails')).toBe('context "credwatch"');
    expect(origin('alarmTopicArn')).toBeUndefined();
  });

  it('parses a context value given as a JSON string (cdk -c credwatch=...)', () => {
    const config = loadConfigSources([{ name: 'context "credwatch"', value: '{"reminderHours": 6}' }]);
    expect(config.reminderHours).toBe(6);
  });

  it('skips a source that is absent and returns the defaults when all are', () => {
    expect(loadConfigSources([{ name: FILE, value: undefined }])).toEqual(loadConfig(undefined, FILE));
  });

  it('names the source the offending field came from', () => {
    const sources = [
      { name: FILE, value: { memoryMb: 1024, timeoutSeconds: 60 } },
      { name: 'context "credwatch"', value: { memoryMb: 1 } },
    ];
    expect(errorOf(() => loadConfigSources(sources)).message).toBe(
      'context "credwatch": memoryMb: expected a whole number from 128 to 10240, got 1',
    );
    expect(errorOf(() => loadConfigSources(sources.slice(0, 1))).message).toBe(
      'credwatch.config.json: reportDeadlineSeconds: must be less than timeoutSeconds - 30 (30), got 60',
    );
  });

  it.each<[string, unknown, string]>([
    ['a JSON string that does not parse', '{"memoryMb": ', 'context "credwatch": not valid JSON: '],
    ['a value that is not an object', 42, 'context "credwatch": expected an object, got 42'],
  ])('rejects %s', (_what, value, message) => {
    expect(errorOf(() => loadConfigSources([{ name: 'context "credwatch"', value }])).message).toContain(
      message,
    );
  });
});

describe('readConfigFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'credwatch-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns undefined when the file does not exist', () => {
    expect(readConfigFile(path.join(dir, 'missing.json'))).toBeUndefined();
  });

  it('returns the parsed JSON of a file', () => {
    const file = path.join(dir, 'ok.json');
    writeFileSync(file, '{"schedule": "rate(1 hour)"}');
    expect(readConfigFile(file)).toEqual({ schedule: 'rate(1 hour)' });
  });

  it('names the file when it is not JSON', () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, '{ schedule: rate }');
    const error = errorOf(() => readConfigFile(file, FILE));
    expect(error.message).toMatch(/^credwatch\.config\.json: not valid JSON: /);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });
});

describe('enforcement', () => {
  const [A, B, C] = ['111111111111', '222222222222', '333333333333'];
  const AGES = { finalNoticeKeyAgeDays: 80, deactivateKeyAgeDays: 90 };
  const listed = { source: 'list', ids: [A, B], exclude: [] };
  const refusal = (raw: unknown) => errorOf(() => loadConfig(raw, FILE)).message;

  it('is off by default, with the documented defaults of the core policy', () => {
    const config = loadConfig({}, FILE);
    expect(config.enforcement).toEqual(DEFAULT_ENFORCEMENT);
    expect(config.enforcement).toMatchObject({ mode: 'off', leadTimeDays: 7, recentUseHours: 24 });
    expect(enforcementSettings(config.enforcement)).toEqual({ policy: DEFAULT_ENFORCEMENT });
  });

  it('keeps a dry-run and an enforce policy as given, defaults filled in', () => {
    const dry = loadConfig(
      { enforcement: { mode: 'dry-run', finalNoticeUnusedDays: 60, deactivateUnusedDays: 90 } },
      FILE,
    ).enforcement;
    expect(dry).toEqual({
      ...DEFAULT_ENFORCEMENT,
      mode: 'dry-run',
      finalNoticeUnusedDays: 60,
      deactivateUnusedDays: 90,
    });
    const given = {
      mode: 'enforce',
      ...AGES,
      leadTimeDays: 14,
      recentUseHours: 48,
      protectedUsers: ['break-glass', 'ci-*'],
    };
    const enforce = loadConfig({ enforcement: given }, FILE).enforcement;
    expect(enforce).toEqual(enforcementPolicySchema.parse(given));
    expect(enforcementSettings(enforce)).toEqual({ policy: enforcementPolicySchema.parse(given) });
  });

  it('resolves each account override over the policy', () => {
    const config = loadConfig(
      {
        accounts: listed,
        enforcement: {
          mode: 'dry-run',
          ...AGES,
          protectedUsers: ['break-glass'],
          accounts: { [A]: { mode: 'enforce', deactivateKeyAgeDays: 120 }, [B]: { mode: 'off' } },
        },
      },
      FILE,
    );
    // Kept as written (overrides as given), resolved for the function.
    expect(config.enforcement.accounts).toEqual({
      [A]: { mode: 'enforce', deactivateKeyAgeDays: 120 },
      [B]: { mode: 'off' },
    });
    const { accounts: _, ...policy } = config.enforcement;
    expect(enforcementSettings(config.enforcement)).toEqual({
      policy,
      accounts: {
        [A]: { ...policy, mode: 'enforce', deactivateKeyAgeDays: 120 },
        [B]: { ...policy, mode: 'off' },
      },
    });
    // The account keeps the deployment's protected users: an override cannot change them.
    expect(enforcementSettings(config.enforcement).accounts?.[A]?.protectedUsers).toEqual(['break-glass']);
  });

  it('allows an override for any account of an organization without include', () => {
    const config = loadConfig(
      {
        accounts: { source: 'organization' },
        enforcement: { ...AGES, accounts: { [C]: { mode: 'enforce' } } },
      },
      FILE,
    );
    expect(enforcementSettings(config.enforcement).accounts?.[C]?.mode).toBe('enforce');
  });

  it('is idempotent: a loaded enforcement section loads to itself', () => {
    const once = loadConfig(
      {
        accounts: listed,
        enforcement: {
          mode: 'dry-run',
          ...AGES,
          accounts: { [A]: { mode: 'enforce', finalNoticeKeyAgeDays: 60 } },
        },
      },
      FILE,
    );
    expect(loadConfig(once, 'again')).toEqual(once);
  });

  it.each<[string, unknown, string]>([
    [
      'a notice age without its deactivation age',
      { enforcement: { mode: 'dry-run', finalNoticeKeyAgeDays: 80 } },
      'enforcement.deactivateKeyAgeDays: finalNoticeKeyAgeDays and deactivateKeyAgeDays are set together',
    ],
    [
      'a deactivation age without its notice age',
      { enforcement: { deactivateUnusedDays: 90 } },
      'enforcement.finalNoticeUnusedDays: finalNoticeUnusedDays and deactivateUnusedDays are set together',
    ],
    [
      'a notice age equal to the deactivation age',
      { enforcement: { mode: 'enforce', finalNoticeKeyAgeDays: 90, deactivateKeyAgeDays: 90 } },
      'enforcement.finalNoticeKeyAgeDays: finalNoticeKeyAgeDays must be less than deactivateKeyAgeDays',
    ],
    [
      'a notice age after the deactivation age',
      { enforcement: { finalNoticeUnusedDays: 120, deactivateUnusedDays: 90 } },
      'enforcement.finalNoticeUnusedDays: finalNoticeUnusedDays must be less than deactivateUnusedDays',
    ],
    [
      'enforce without ages',
      { enforcement: { mode: 'enforce' } },
      'enforcement.mode: mode enforce needs finalNoticeKeyAgeDays/deactivateKeyAgeDays or finalNoticeUnusedDays/deactivateUnusedDays',
    ],
    [
      'dry-run without ages',
      { enforcement: { mode: 'dry-run', leadTimeDays: 3 } },
      'enforcement.mode: mode dry-run needs finalNoticeKeyAgeDays/deactivateKeyAgeDays or finalNoticeUnusedDays/deactivateUnusedDays',
    ],
    [
      'an unknown mode',
      { enforcement: { mode: 'on', ...AGES } },
      'enforcement.mode: expected one of "off", "dry-run", "enforce", got "on"',
    ],
    [
      'a lead time of zero days',
      { enforcement: { leadTimeDays: 0 } },
      'enforcement.leadTimeDays: expected a whole number from 1 to 3650, got 0',
    ],
    [
      'a recent-use window beyond 90 days',
      { enforcement: { recentUseHours: 2161 } },
      'enforcement.recentUseHours: expected a whole number from 1 to 2160, got 2161',
    ],
    [
      'an age that is not whole',
      { enforcement: { finalNoticeKeyAgeDays: 80.5, deactivateKeyAgeDays: 90 } },
      'enforcement.finalNoticeKeyAgeDays: expected a whole number from 1 to 3650, got 80.5',
    ],
    [
      'a field that does not exist',
      { enforcement: { deactivateAfterDays: 90 } },
      'enforcement.deactivateAfterDays: unknown field; allowed here: mode, finalNoticeKeyAgeDays, deactivateKeyAgeDays, finalNoticeUnusedDays, deactivateUnusedDays, leadTimeDays, recentUseHours, protectedUsers, accounts',
    ],
    [
      'a section that is not an object',
      { enforcement: 'enforce' },
      'enforcement: expected an object, got "enforce"',
    ],
    [
      'a protected user name with a space',
      { enforcement: { protectedUsers: ['break glass'] } },
      'enforcement.protectedUsers[0]: expected an IAM user name (1-64 characters of A-Z a-z 0-9 + = , . @ _ -), optionally ending in * for a prefix, got "break glass"',
    ],
    [
      'a protected user name with a wildcard inside',
      { enforcement: { protectedUsers: ['ci-*-deploy'] } },
      'enforcement.protectedUsers[0]: expected an IAM user name (1-64 characters of A-Z a-z 0-9 + = , . @ _ -), optionally ending in * for a prefix, got "ci-*-deploy"',
    ],
    [
      'a protected user listed twice',
      { enforcement: { protectedUsers: ['ci-*', 'admin', 'ci-*'] } },
      'enforcement.protectedUsers[2]: "ci-*" is listed twice',
    ],
    [
      'more protected users than the role policy has room for',
      { enforcement: { protectedUsers: Array.from({ length: 60 }, (_, i) => `service-user-${i}`) } },
      "enforcement.protectedUsers: 60 names take 6820 characters of the scanner role's policy, more than the 5000 it has room for (IAM allows 10,240 per role); tag the users credwatch:protected instead",
    ],
    [
      'an account override with the own account',
      { enforcement: { ...AGES, accounts: { [A]: { mode: 'enforce' } } } },
      'enforcement.accounts.111111111111: not allowed when source is "self" (only with "list" or "organization")',
    ],
    [
      'an account override for an account that is not listed',
      { accounts: listed, enforcement: { ...AGES, accounts: { [C]: { mode: 'enforce' } } } },
      'enforcement.accounts.333333333333: not one of ids',
    ],
    [
      'an account override for an account that is not included',
      { accounts: { source: 'organization', include: [A] }, enforcement: { accounts: { [B]: {} } } },
      'enforcement.accounts.222222222222: not one of include',
    ],
    [
      'an account override for an excluded account',
      { accounts: { source: 'list', ids: [A, B], exclude: [B] }, enforcement: { accounts: { [B]: {} } } },
      'enforcement.accounts.222222222222: excluded (in exclude)',
    ],
    [
      'an account override keyed by an account name',
      { accounts: { source: 'organization' }, enforcement: { accounts: { production: {} } } },
      'enforcement.accounts.production: expected a 12-digit AWS account id as the key, got "production"',
    ],
    [
      'account overrides given as an array',
      { accounts: listed, enforcement: { accounts: [] } },
      'enforcement.accounts: expected an object of 12-digit account ids to enforcement overrides, got []',
    ],
    [
      'an account override that is not an object',
      { accounts: listed, enforcement: { accounts: { [A]: 'enforce' } } },
      'enforcement.accounts.111111111111: expected an object, got "enforce"',
    ],
    [
      'an account override with a field an account cannot change',
      { accounts: listed, enforcement: { accounts: { [A]: { protectedUsers: [] } } } },
      'enforcement.accounts.111111111111.protectedUsers: unknown field; allowed here: mode, finalNoticeKeyAgeDays, deactivateKeyAgeDays, finalNoticeUnusedDays, deactivateUnusedDays',
    ],
    [
      'an account override with a bad mode',
      { accounts: listed, enforcement: { accounts: { [A]: { mode: 'yes' } } } },
      'enforcement.accounts.111111111111.mode: expected one of "off", "dry-run", "enforce", got "yes"',
    ],
    [
      'an account override that enforces without ages',
      { accounts: listed, enforcement: { accounts: { [A]: { mode: 'enforce' } } } },
      'enforcement.accounts.111111111111.mode: mode enforce needs finalNoticeKeyAgeDays/deactivateKeyAgeDays or finalNoticeUnusedDays/deactivateUnusedDays',
    ],
    [
      'an account override that puts the deactivation before the notice',
      { accounts: listed, enforcement: { ...AGES, accounts: { [A]: { deactivateKeyAgeDays: 70 } } } },
      'enforcement.accounts.111111111111.finalNoticeKeyAgeDays: finalNoticeKeyAgeDays must be less than deactivateKeyAgeDays',
    ],
    [
      'an account override that breaks a pair',
      { accounts: listed, enforcement: { ...AGES, accounts: { [B]: { deactivateKeyAgeDays: null } } } },
      'enforcement.accounts.222222222222.deactivateKeyAgeDays: finalNoticeKeyAgeDays and deactivateKeyAgeDays are set together',
    ],
  ])('refuses %s, naming the field', (_name, raw, message) => {
    expect(refusal(raw)).toBe(`${FILE}: ${message}`);
  });

  it('names the source that set enforcement when sources are merged', () => {
    const message = errorOf(() =>
      loadConfigSources([
        { name: FILE, value: { enforcement: { mode: 'dry-run', ...AGES } } },
        { name: 'context "credwatch"', value: { enforcement: { mode: 'enforce' } } },
      ]),
    ).message;
    expect(message).toBe(
      'context "credwatch": enforcement.mode: mode enforce needs finalNoticeKeyAgeDays/deactivateKeyAgeDays or finalNoticeUnusedDays/deactivateUnusedDays',
    );
  });
});
