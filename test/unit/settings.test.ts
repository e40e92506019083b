/**
 * The settings contract between the stack and the function (lambda/settings.ts): one schema,
 * encoded into the function's environment by the stack and decoded by the function. The variable
 * names and formats are what deployed functions read: the literal environments below are what the
 * stack wrote before this module existed, and must keep decoding to the same settings.
 */
import { Token } from 'aws-cdk-lib';
import { DEFAULT_ENFORCEMENT, type EnforcementPolicy } from '../../lambda/core/enforcement';
import { ConfigError } from '../../lambda/core/errors';
import { DEFAULT_NOTIFICATION_POLICY } from '../../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../lambda/core/policy';
import { readEnv } from '../../lambda/env';
import {
  decodeSettings,
  type EnforcementSettings,
  encodeSettings,
  enforcementOf,
  POWERTOOLS_ENVIRONMENT,
  requiredSetting,
  type ScannerSettings,
  SETTINGS_VARIABLES,
} from '../../lambda/settings';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:credwatch/slack-webhook';
const thresholds: Thresholds = {
  ...DEFAULT_THRESHOLDS,
  accessKeyAge: { warningDays: 60, criticalDays: 75 },
  rootAccessKey: 'warning',
};

/** Every setting set, none at its default. */
const full: ScannerSettings = {
  thresholds,
  reportDeadlineMs: 120_000,
  reminderIntervalMs: 12 * 3_600_000,
  slackSecretArn: SECRET_ARN,
  stateTable: 'Credwatch-StateTable-1ABC',
  eventBusName: 'default',
  schedulePeriodMs: 30 * 60_000,
  userDirectory: 'list-users',
  accounts: {
    source: 'organization',
    organizationalUnits: ['ou-ab12-cdefgh34', 'r-ab12'],
    include: ['111111111111', '222222222222'],
    exclude: ['333333333333'],
    memberRoleName: 'credwatch-member',
    externalId: 'credwatch-7f3a',
    concurrency: 4,
    thresholds: { '111111111111': { ...thresholds, rootAccessKey: 'critical' } },
  },
  securityHub: true,
  notifications: {
    baseline: false,
    reminders: 'per-finding',
    maxMessagesPerRun: 25,
    routes: [
      { channel: 'payments', accounts: ['111111111111'] },
      { channel: 'data', accountTags: { env: ['prod'] }, userTags: { 'credwatch:team': ['data', 'ml'] } },
    ],
    defaultChannel: 'security',
    mirrors: { security: ['security-teams'], payments: ['payments-teams'] },
  },
};

/** Only what a settings value must have, every optional setting absent and the rest at its default. */
const minimal: ScannerSettings = {
  thresholds: DEFAULT_THRESHOLDS,
  reportDeadlineMs: 60_000,
  reminderIntervalMs: 24 * 3_600_000,
  schedulePeriodMs: 10 * 60_000,
  userDirectory: 'authorization-details',
  securityHub: false,
  notifications: DEFAULT_NOTIFICATION_POLICY,
};

describe('encodeSettings and decodeSettings', () => {
  it.each([
    ['a full', full],
    ['a minimal', minimal],
  ])('give back %s settings value unchanged: decode(encode(x)) == x', (_what, settings) => {
    expect(decodeSettings(encodeSettings(settings))).toEqual(settings);
  });

  it('give back a listed multi-account value unchanged', () => {
    const listed: ScannerSettings = {
      ...minimal,
      accounts: { source: 'list', ids: ['111111111111'], memberRoleName: 'reader', concurrency: 8 },
    };
    expect(decodeSettings(encodeSettings(listed))).toEqual(listed);
  });

  it('write the variables and formats a deployed function reads', () => {
    expect(encodeSettings(full)).toEqual({
      CREDWATCH_THRESHOLDS: JSON.stringify(thresholds),
      CREDWATCH_REPORT_DEADLINE_SECONDS: '120',
      CREDWATCH_REMINDER_HOURS: '12',
      CREDWATCH_SLACK_SECRET_ARN: SECRET_ARN,
      CREDWATCH_STATE_TABLE: 'Credwatch-StateTable-1ABC',
      CREDWATCH_EVENT_BUS_NAME: 'default',
      CREDWATCH_SCHEDULE_PERIOD_MINUTES: '30',
      CREDWATCH_ACCOUNTS: JSON.stringify({
        source: 'organization',
        organizationalUnits: ['ou-ab12-cdefgh34', 'r-ab12'],
        include: ['111111111111', '222222222222'],
        exclude: ['333333333333'],
        memberRoleName: 'credwatch-member',
        externalId: 'credwatch-7f3a',
        concurrency: 4,
        thresholds: { '111111111111': { ...thresholds, rootAccessKey: 'critical' } },
      }),
      CREDWATCH_USER_DIRECTORY: 'list-users',
      CREDWATCH_SECURITY_HUB: 'true',
      CREDWATCH_NOTIFICATIONS:
        '{"baseline":false,"reminders":"per-finding","maxMessagesPerRun":25,"routes":[{"channel":"payments","accounts":["111111111111"]},{"channel":"data","accountTags":{"env":["prod"]},"userTags":{"credwatch:team":["data","ml"]}}],"defaultChannel":"security","mirrors":{"security":["security-teams"],"payments":["payments-teams"]}}',
    });
  });

  it('read an environment without CREDWATCH_NOTIFICATIONS (an older stack) as the default policy', () => {
    const { CREDWATCH_NOTIFICATIONS: _, ...older } = encodeSettings(full);
    expect(decodeSettings(older).notifications).toEqual(DEFAULT_NOTIFICATION_POLICY);
  });

  it.each([
    ['{"baseline":true,"reminders":"weekly","maxMessagesPerRun":10}', 'reminders'],
    ['{"baseline":true,"reminders":"roll-up","maxMessagesPerRun":1}', 'maxMessagesPerRun'],
    ['{"baseline":"yes","reminders":"roll-up","maxMessagesPerRun":10}', 'baseline'],
    ['{"baseline":true,"reminders":"roll-up","maxMessagesPerRun":10,"cap":3}', ''],
  ])('refuse CREDWATCH_NOTIFICATIONS %s, naming the field', (value, field) => {
    expect(() => decodeSettings({ ...encodeSettings(minimal), CREDWATCH_NOTIFICATIONS: value })).toThrow(
      new RegExp(`^environment: CREDWATCH_NOTIFICATIONS: ${field}`),
    );
  });

  it('leave out what is absent or at the default the function assumes anyway', () => {
    expect(encodeSettings(minimal)).toEqual({
      CREDWATCH_THRESHOLDS: JSON.stringify(DEFAULT_THRESHOLDS),
      CREDWATCH_REPORT_DEADLINE_SECONDS: '60',
      CREDWATCH_REMINDER_HOURS: '24',
      CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10',
    });
  });

  it('pass a deploy-time token through as the string it is', () => {
    const token = Token.asString({ Ref: 'StateTable' });
    const env = encodeSettings({ ...minimal, slackSecretArn: token, stateTable: token });
    expect(env.CREDWATCH_SLACK_SECRET_ARN).toBe(token);
    expect(env.CREDWATCH_STATE_TABLE).toBe(token);
  });

  it('name every variable once, each CREDWATCH_*', () => {
    const names = Object.values(SETTINGS_VARIABLES);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => /^CREDWATCH_[A-Z_]+$/.test(n))).toBe(true);
    expect(Object.keys(POWERTOOLS_ENVIRONMENT).every((n) => n.startsWith('POWERTOOLS_'))).toBe(true);
  });

  it.each<[keyof ScannerSettings, number, string]>([
    [
      'reportDeadlineMs',
      1500,
      'settings: reportDeadlineMs: expected a whole number of seconds (CREDWATCH_REPORT_DEADLINE_SECONDS), at least 1, got 1500 ms',
    ],
    [
      'reminderIntervalMs',
      90 * 60_000,
      'settings: reminderIntervalMs: expected a whole number of hours (CREDWATCH_REMINDER_HOURS), at least 1, got 5400000 ms',
    ],
    [
      'schedulePeriodMs',
      0,
      'settings: schedulePeriodMs: expected a whole number of minutes (CREDWATCH_SCHEDULE_PERIOD_MINUTES), at least 1, got 0 ms',
    ],
  ])('refuse to encode a %s its variable cannot carry', (field, ms, message) => {
    expect(() => encodeSettings({ ...minimal, [field]: ms })).toThrow(message);
  });
});

describe('decodeSettings', () => {
  /** What the stack wrote for the default configuration before lambda/settings.ts. */
  const written = {
    CREDWATCH_THRESHOLDS: JSON.stringify(DEFAULT_THRESHOLDS),
    CREDWATCH_REPORT_DEADLINE_SECONDS: '60',
    CREDWATCH_REMINDER_HOURS: '24',
    CREDWATCH_SLACK_SECRET_ARN: SECRET_ARN,
    CREDWATCH_STATE_TABLE: 'table',
    CREDWATCH_EVENT_BUS_NAME: 'default',
    CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10',
    POWERTOOLS_SERVICE_NAME: 'credwatch',
    POWERTOOLS_METRICS_NAMESPACE: 'Credwatch',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    AWS_REGION: 'eu-west-1',
  };

  it('reads the environment an earlier stack wrote, ignoring the variables of others', () => {
    expect(decodeSettings(written)).toEqual({
      ...minimal,
      slackSecretArn: SECRET_ARN,
      stateTable: 'table',
      eventBusName: 'default',
    });
  });

  it("reads the deliver step's roll-up part, and refuses one that is not a whole number above 0", () => {
    const env = { CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10' };
    const settings = decodeSettings({ ...env, CREDWATCH_ROLL_UP_PART: '2500' });
    expect(settings).toEqual({ ...minimal, rollUpPart: 2500 });
    expect(encodeSettings(settings).CREDWATCH_ROLL_UP_PART).toBe('2500');
    expect(() => decodeSettings({ ...env, CREDWATCH_ROLL_UP_PART: '0' })).toThrow(
      'environment: CREDWATCH_ROLL_UP_PART: CREDWATCH_ROLL_UP_PART must be greater than 0',
    );
    expect(() => encodeSettings({ ...minimal, rollUpPart: 1.5 })).toThrow(
      'settings: rollUpPart: expected a whole number (CREDWATCH_ROLL_UP_PART), at least 1, got 1.5',
    );
  });

  it('fills in the defaults of absent variables', () => {
    expect(decodeSettings({ CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10' })).toEqual(minimal);
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'a missing schedule period',
      {},
      'environment: CREDWATCH_SCHEDULE_PERIOD_MINUTES: CREDWATCH_SCHEDULE_PERIOD_MINUTES is required',
    ],
    [
      'a zero period',
      { CREDWATCH_SCHEDULE_PERIOD_MINUTES: '0' },
      'environment: CREDWATCH_SCHEDULE_PERIOD_MINUTES: CREDWATCH_SCHEDULE_PERIOD_MINUTES must be greater than 0',
    ],
    [
      'a fractional deadline',
      { CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10', CREDWATCH_REPORT_DEADLINE_SECONDS: '1.5' },
      'environment: CREDWATCH_REPORT_DEADLINE_SECONDS: CREDWATCH_REPORT_DEADLINE_SECONDS must be a whole number',
    ],
    [
      'thresholds that are not JSON',
      { CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10', CREDWATCH_THRESHOLDS: '{' },
      'environment: CREDWATCH_THRESHOLDS: not valid JSON',
    ],
    [
      'an unknown user directory',
      { CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10', CREDWATCH_USER_DIRECTORY: 'ldap' },
      'environment: CREDWATCH_USER_DIRECTORY: CREDWATCH_USER_DIRECTORY must be "authorization-details" or "list-users"',
    ],
    [
      'a bad account id, naming the field',
      {
        CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10',
        CREDWATCH_ACCOUNTS: '{"source":"list","ids":["1234"],"memberRoleName":"r"}',
      },
      'environment: CREDWATCH_ACCOUNTS: ids.0: expected a 12-digit account id',
    ],
    [
      'a list source without ids',
      {
        CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10',
        CREDWATCH_ACCOUNTS: '{"source":"list","memberRoleName":"r"}',
      },
      'environment: CREDWATCH_ACCOUNTS: ids: a list source needs at least one account id',
    ],
  ])('refuses %s with one line naming the variable', (_what, env, message) => {
    expect(() => decodeSettings(env)).toThrow(message);
  });

  it('names the field inside the thresholds JSON', () => {
    expect(() =>
      decodeSettings({
        CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10',
        CREDWATCH_THRESHOLDS: '{"rootAccessKey":"loud"}',
      }),
    ).toThrow(/^environment: CREDWATCH_THRESHOLDS: rootAccessKey: /);
  });
});

describe('what the function needs beyond the settings', () => {
  it('readEnv adds the region Lambda sets', () => {
    expect(readEnv({ CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10', AWS_REGION: 'eu-west-1' })).toEqual({
      ...minimal,
      region: 'eu-west-1',
    });
  });

  it('requires the secret and the table to deliver, naming the variable', () => {
    expect(() => requiredSetting(minimal, 'slackSecretArn')).toThrow(
      'environment: CREDWATCH_SLACK_SECRET_ARN is required',
    );
    expect(() => requiredSetting(minimal, 'stateTable')).toThrow(
      'environment: CREDWATCH_STATE_TABLE is required',
    );
    expect(requiredSetting(full, 'stateTable')).toBe('Credwatch-StateTable-1ABC');
  });
});

describe('enforcement settings (CREDWATCH_ENFORCEMENT)', () => {
  const A = '111111111111';
  const B = '222222222222';
  const policy: EnforcementPolicy = {
    ...DEFAULT_ENFORCEMENT,
    mode: 'dry-run',
    finalNoticeKeyAgeDays: 80,
    deactivateKeyAgeDays: 90,
    protectedUsers: ['break-glass', 'ci-*'],
  };
  const enforcement: EnforcementSettings = {
    policy,
    accounts: {
      [A]: { ...policy, mode: 'enforce', deactivateKeyAgeDays: 120 },
      [B]: { ...policy, mode: 'off' },
    },
  };
  const listed: ScannerSettings = {
    ...minimal,
    accounts: { source: 'list', ids: [A, B], memberRoleName: 'credwatch-member', concurrency: 8 },
    enforcement,
  };
  const variable = (value: unknown) => ({
    ...encodeSettings(minimal),
    CREDWATCH_ENFORCEMENT: JSON.stringify(value),
  });

  it('give back the policy and every account policy unchanged', () => {
    expect(decodeSettings(encodeSettings(listed))).toEqual(listed);
    const single: ScannerSettings = { ...minimal, enforcement: { policy } };
    expect(decodeSettings(encodeSettings(single))).toEqual(single);
  });

  it('write the policy whole and each account as what differs from it (Lambda has 4 KB of environment)', () => {
    expect(JSON.parse(encodeSettings(listed).CREDWATCH_ENFORCEMENT!)).toEqual({
      policy: {
        mode: 'dry-run',
        finalNoticeKeyAgeDays: 80,
        deactivateKeyAgeDays: 90,
        finalNoticeUnusedDays: null,
        deactivateUnusedDays: null,
        leadTimeDays: 7,
        recentUseHours: 24,
        protectedUsers: ['break-glass', 'ci-*'],
      },
      accounts: { [A]: { mode: 'enforce', deactivateKeyAgeDays: 120 }, [B]: { mode: 'off' } },
    });
  });

  it('leave the variable out without enforcement: an existing environment is unchanged, and reads as off', () => {
    expect(encodeSettings(minimal).CREDWATCH_ENFORCEMENT).toBeUndefined();
    const decoded = decodeSettings(encodeSettings(minimal));
    expect(decoded.enforcement).toBeUndefined();
    expect(enforcementOf(decoded, A)).toEqual(DEFAULT_ENFORCEMENT);
    expect(enforcementOf(decoded, A).mode).toBe('off');
  });

  it("enforcementOf gives an account its own policy, and every other account the deployment's", () => {
    const decoded = decodeSettings(encodeSettings(listed));
    expect(enforcementOf(decoded, A)).toEqual({ ...policy, mode: 'enforce', deactivateKeyAgeDays: 120 });
    expect(enforcementOf(decoded, B).mode).toBe('off');
    expect(enforcementOf(decoded, '333333333333')).toEqual(policy);
  });

  it.each<[string, string, string]>([
    ['not JSON', '{policy', 'environment: CREDWATCH_ENFORCEMENT: not valid JSON'],
    ['without a policy', '{}', 'environment: CREDWATCH_ENFORCEMENT: policy: '],
    [
      'with an unknown mode',
      JSON.stringify({ policy: { mode: 'on' } }),
      'environment: CREDWATCH_ENFORCEMENT: policy.mode: ',
    ],
    [
      'with the notice after the deactivation',
      JSON.stringify({ policy: { finalNoticeKeyAgeDays: 90, deactivateKeyAgeDays: 80 } }),
      'environment: CREDWATCH_ENFORCEMENT: policy.finalNoticeKeyAgeDays: finalNoticeKeyAgeDays must be less than deactivateKeyAgeDays',
    ],
    [
      'enforcing without ages',
      JSON.stringify({ policy: { mode: 'enforce' } }),
      'environment: CREDWATCH_ENFORCEMENT: policy.mode: mode enforce needs',
    ],
    [
      'with an account that is not an account id',
      JSON.stringify({ policy: {}, accounts: { prod: {} } }),
      'environment: CREDWATCH_ENFORCEMENT: accounts.prod: ',
    ],
    [
      'with an account that breaks a pair',
      JSON.stringify({
        policy: { finalNoticeKeyAgeDays: 80, deactivateKeyAgeDays: 90 },
        accounts: { [A]: { deactivateKeyAgeDays: null } },
      }),
      `environment: CREDWATCH_ENFORCEMENT: accounts.${A}.deactivateKeyAgeDays: finalNoticeKeyAgeDays and deactivateKeyAgeDays are set together`,
    ],
    [
      'with an unknown account field',
      JSON.stringify({ policy: {}, accounts: { [A]: { deactivateAfterDays: 3 } } }),
      `environment: CREDWATCH_ENFORCEMENT: accounts.${A}.deactivateAfterDays: Unrecognized key`,
    ],
    [
      'with an unknown field',
      JSON.stringify({ policy: {}, dryRun: true }),
      'environment: CREDWATCH_ENFORCEMENT: dryRun: ',
    ],
  ])('refuse a value %s, naming the variable and the field', (_what, value, message) => {
    const env = { ...encodeSettings(minimal), CREDWATCH_ENFORCEMENT: value };
    expect(() => decodeSettings(env)).toThrow(ConfigError);
    expect(() => decodeSettings(env)).toThrow(message);
  });

  it('refuse an account policy that is not 12 digits even when it is valid', () => {
    expect(() => decodeSettings(variable({ policy: {}, accounts: { '1234': {} } }))).toThrow(
      /^environment: CREDWATCH_ENFORCEMENT: accounts\.1234: /,
    );
  });
});
