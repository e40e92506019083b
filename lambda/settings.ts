/**
 * The settings the stack hands the scanner function, and their one encoding: the function's
 * environment variables. `encodeSettings` is what lib/constructs/scanner-function.ts writes into the
 * template; `decodeSettings` is what the function reads back (lambda/env.ts), validated once, with a
 * one-line error naming the variable and the field. The variable names and their formats live here
 * only: a deployed function keeps reading what an older stack wrote, so they never change.
 *
 * No AWS SDK and no CDK: both the stack and the bundled function import this module.
 */
import { z } from 'zod';
import type { UserDirectoryMode } from './adapters/iam';
import { METRICS_NAMESPACE, SERVICE_NAME } from './contracts';
import { DEFAULT_ENFORCEMENT, type EnforcementPolicy, enforcementPolicySchema } from './core/enforcement';
import { ConfigError } from './core/errors';
import {
  checkPolicy,
  DEFAULT_NOTIFICATION_POLICY,
  MESSAGE_CAP_BOUNDS,
  type NotificationPolicy,
  REMINDER_MODES,
  type ReminderMode,
} from './core/notification-plan';
import { type Thresholds, thresholdsSchema } from './core/policy';
import {
  CHANNEL_NAME,
  CHANNEL_NAME_RULE,
  DEFAULT_CHANNEL,
  MAX_MIRRORS,
  MAX_ROUTES,
  routeSourceProblem,
} from './core/routing';

/** The environment variable of each setting. */
export const SETTINGS_VARIABLES = {
  /** JSON of the thresholds (lambda/core/policy.ts); absent: the defaults. */
  thresholds: 'CREDWATCH_THRESHOLDS',
  /** Whole seconds; absent: 60. */
  reportDeadlineMs: 'CREDWATCH_REPORT_DEADLINE_SECONDS',
  /** Whole hours; absent: 24. */
  reminderIntervalMs: 'CREDWATCH_REMINDER_HOURS',
  slackSecretArn: 'CREDWATCH_SLACK_SECRET_ARN',
  stateTable: 'CREDWATCH_STATE_TABLE',
  eventBusName: 'CREDWATCH_EVENT_BUS_NAME',
  /** Whole minutes; required. */
  schedulePeriodMs: 'CREDWATCH_SCHEDULE_PERIOD_MINUTES',
  /** `authorization-details` (absent) or `list-users`. */
  userDirectory: 'CREDWATCH_USER_DIRECTORY',
  /** JSON of the multi-account settings; absent: the deployment's own account. */
  accounts: 'CREDWATCH_ACCOUNTS',
  /** `true`; absent or `false`: off. */
  securityHub: 'CREDWATCH_SECURITY_HUB',
  /** JSON `{"baseline","reminders","maxMessagesPerRun","routes"?,"defaultChannel"?,"mirrors"?}` (lambda/core/notification-plan.ts); absent: the defaults. */
  notifications: 'CREDWATCH_NOTIFICATIONS',
  /** The bucket the steps of a state machine run hand each other data through; absent: the single-invocation engine. */
  runBucket: 'CREDWATCH_RUN_BUCKET',
  /** Whole minutes a Step Functions run holds its lease (the execution's timeout); absent: 120. */
  runLeaseMs: 'CREDWATCH_RUN_LEASE_MINUTES',
  /** Reminders the deliver step of a state machine holds in a run (lambda/steps.ts `ROLL_UP_PART`); absent: 100000. */
  rollUpPart: 'CREDWATCH_ROLL_UP_PART',
  /**
   * JSON `{"policy": {...}, "accounts"?: {"<id>": {fields that differ from policy}}}` (lambda/core/enforcement.ts);
   * absent: enforcement off.
   */
  enforcement: 'CREDWATCH_ENFORCEMENT',
} as const satisfies Record<keyof ScannerSettings, string>;

/** What Powertools reads (service name, metrics namespace, log level): the rest of the function's environment. */
export const POWERTOOLS_ENVIRONMENT: Readonly<Record<string, string>> = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

const USER_DIRECTORY_MODES = [
  'authorization-details',
  'list-users',
] as const satisfies readonly UserDirectoryMode[];

const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit account id');

const accountsSchema = z.object({
  source: z.enum(['list', 'organization']),
  ids: z.array(accountId).optional(),
  organizationalUnits: z.array(z.string()).optional(),
  include: z.array(accountId).optional(),
  exclude: z.array(accountId).optional(),
  memberRoleName: z.string().min(1),
  externalId: z.string().optional(),
  concurrency: z.int().min(1).max(50).default(8),
  /** Full thresholds per account id (already merged over the global ones at synth time). */
  thresholds: z.record(accountId, thresholdsSchema).optional(),
});

/** What a multi-account scanner needs to find and enter the accounts it scans. */
export type AccountsSettings = z.infer<typeof accountsSchema>;

/**
 * Opt-in enforcement (lambda/core/enforcement.ts, docs/enforcement.md): the policy, and the policy of
 * each account that has its own (`enforcement.accounts` of the configuration, already merged over the
 * policy and checked at synth time).
 */
export interface EnforcementSettings {
  readonly policy: EnforcementPolicy;
  /** Complete policies by 12-digit account id; an account not listed has `policy`. */
  readonly accounts?: Readonly<Record<string, EnforcementPolicy>>;
}

/**
 * The scanner's settings. Durations are in milliseconds here and in the units of their variable in
 * the environment (seconds, hours, minutes), so they must be whole units of it. A string may be a
 * deploy-time token (a secret ARN, a table name): it is passed through as it is.
 */
export interface ScannerSettings {
  readonly thresholds: Thresholds;
  /** How long to wait for IAM's credential report: whole seconds. */
  readonly reportDeadlineMs: number;
  /** After how long a still-open finding is announced again: whole hours. */
  readonly reminderIntervalMs: number;
  /** The Slack webhook secret (a partial ARN for a secret imported by name); required to deliver. */
  readonly slackSecretArn?: string;
  /** The state table's name; required to deliver. */
  readonly stateTable?: string;
  /** The bus the change events go to; none: no events. */
  readonly eventBusName?: string;
  /** One schedule period: whole minutes. Invocations whose scheduled time is further from the clock are refused. */
  readonly schedulePeriodMs: number;
  /** How users and tags are read: one GetAccountAuthorizationDetails per 1,000 users, or ListUsers + ListUserTags. */
  readonly userDirectory: UserDirectoryMode;
  /** Multi-account settings; undefined scans the deployment's own account. */
  readonly accounts?: AccountsSettings;
  /** Export announced findings to Security Hub (lambda/adapters/security-hub.ts). */
  readonly securityHub: boolean;
  /** Baseline, roll-up and the message cap (lambda/core/notification-plan.ts). */
  readonly notifications: NotificationPolicy;
  /** The state machine engine's run bucket (lambda/steps.ts); a deploy-time token. */
  readonly runBucket?: string;
  /** How long a state machine run holds the run lease at most (its execution timeout): whole minutes. */
  readonly runLeaseMs?: number;
  /**
   * How many reminders the deliver step of a state machine holds in a run at most: a larger roll-up
   * comes in parts (lambda/steps.ts `ROLL_UP_PART`, the default). No stack property sets it.
   */
  readonly rollUpPart?: number;
  /** Opt-in enforcement; absent: off in every account ({@link enforcementOf}). */
  readonly enforcement?: EnforcementSettings;
}

/** The enforcement policy of one account: its own, else the deployment's, else off. */
export function enforcementOf(
  settings: Pick<ScannerSettings, 'enforcement'>,
  accountId: string,
): EnforcementPolicy {
  const e = settings.enforcement;
  return e?.accounts?.[accountId] ?? e?.policy ?? DEFAULT_ENFORCEMENT;
}

/** Every policy of an enforcement setting: the deployment's, then each account's. */
export function enforcementPolicies(enforcement: EnforcementSettings | undefined): EnforcementPolicy[] {
  return enforcement ? [enforcement.policy, ...Object.values(enforcement.accounts ?? {})] : [];
}

const SECOND_MS = 1000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

const positiveInt = (name: string) =>
  z
    .string({ error: `${name} is required` })
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n > 0, `${name} must be greater than 0`);

const V = SETTINGS_VARIABLES;

const environmentSchema = z.object({
  [V.thresholds]: z.string().default('{}'),
  [V.reportDeadlineMs]: positiveInt(V.reportDeadlineMs).default(60),
  [V.reminderIntervalMs]: positiveInt(V.reminderIntervalMs).default(24),
  [V.slackSecretArn]: z.string().optional(),
  [V.stateTable]: z.string().optional(),
  [V.eventBusName]: z.string().optional(),
  [V.schedulePeriodMs]: positiveInt(V.schedulePeriodMs),
  [V.userDirectory]: z
    .enum(USER_DIRECTORY_MODES, {
      error: `${V.userDirectory} must be "authorization-details" or "list-users"`,
    })
    .default('authorization-details'),
  [V.accounts]: z.string().optional(),
  [V.securityHub]: z
    .enum(['true', 'false'], { error: `${V.securityHub} must be "true", "false" or absent` })
    .optional(),
  [V.notifications]: z.string().optional(),
  [V.runBucket]: z.string().min(1).optional(),
  [V.runLeaseMs]: positiveInt(V.runLeaseMs).optional(),
  [V.rollUpPart]: positiveInt(V.rollUpPart).optional(),
  [V.enforcement]: z.string().optional(),
});

const channelName = z.string().regex(CHANNEL_NAME, `expected a channel name (${CHANNEL_NAME_RULE})`);
const tagConditions = z.record(z.string().min(1), z.array(z.string()).min(1));
const routeSchema = z.strictObject({
  channel: channelName,
  accounts: z.array(accountId).min(1).optional(),
  organizationalUnits: z.array(z.string().min(1)).min(1).optional(),
  accountTags: tagConditions.optional(),
  userTags: tagConditions.optional(),
});

const notificationsSchema = z.strictObject({
  baseline: z.boolean(),
  reminders: z.enum(REMINDER_MODES as [ReminderMode, ...ReminderMode[]]),
  maxMessagesPerRun: z.int().min(MESSAGE_CAP_BOUNDS.min).max(MESSAGE_CAP_BOUNDS.max),
  routes: z.array(routeSchema).max(MAX_ROUTES).optional(),
  defaultChannel: channelName.optional(),
  mirrors: z.record(channelName, z.array(channelName).min(1).max(MAX_MIRRORS)).optional(),
});

/** CREDWATCH_ENFORCEMENT as written: each account's policy as the fields that differ from `policy`. */
const enforcementWireSchema = z.strictObject({
  policy: enforcementPolicySchema,
  accounts: z.record(accountId, z.record(z.string(), z.unknown())).optional(),
});

/** The policy fields in the order CREDWATCH_ENFORCEMENT writes them. */
const POLICY_FIELDS = [
  'mode',
  'finalNoticeKeyAgeDays',
  'deactivateKeyAgeDays',
  'finalNoticeUnusedDays',
  'deactivateUnusedDays',
  'leadTimeDays',
  'recentUseHours',
  'protectedUsers',
] as const satisfies readonly (keyof EnforcementPolicy)[];

/** CREDWATCH_ENFORCEMENT, read: each account's fields merged over the policy and checked as a whole. */
function decodeEnforcement(text: string): EnforcementSettings {
  const wire = parseJson(V.enforcement, text, enforcementWireSchema);
  if (!wire.accounts) return { policy: wire.policy };
  const accounts: Record<string, EnforcementPolicy> = {};
  for (const [id, fields] of Object.entries(wire.accounts)) {
    const parsed = enforcementPolicySchema.safeParse({ ...wire.policy, ...fields });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const keys = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
      const field = ['accounts', id, ...issue.path.map(String), ...keys].join('.');
      throw new ConfigError(`environment: ${V.enforcement}: ${field}: ${issue.message}`);
    }
    accounts[id] = parsed.data;
  }
  return { policy: wire.policy, accounts };
}

/** A policy's fields in a fixed order; with `base`, only the fields that differ from it. */
function policyFields(policy: EnforcementPolicy, base?: EnforcementPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of POLICY_FIELDS) {
    if (base && JSON.stringify(policy[field]) === JSON.stringify(base[field])) continue;
    out[field] = policy[field];
  }
  return out;
}

/** CREDWATCH_ENFORCEMENT: the policy whole, each account's policy as what differs from it (the 4 KB of environment). */
function encodeEnforcement(enforcement: EnforcementSettings): string {
  const { policy, accounts } = enforcement;
  return JSON.stringify({
    policy: policyFields(policy),
    ...(accounts
      ? {
          accounts: Object.fromEntries(
            Object.entries(accounts).map(([id, p]) => [id, policyFields(p, policy)]),
          ),
        }
      : {}),
  });
}

function parseJson<T>(name: string, text: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError(`environment: ${name}: not valid JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // An unknown field is named like any other (its path is the object's).
    const keys = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
    const field = [...issue.path.map(String), ...keys].join('.');
    throw new ConfigError(`environment: ${name}: ${field === '' ? '' : `${field}: `}${issue.message}`);
  }
  return parsed.data;
}

/**
 * The settings in an environment (the function's `process.env`). Variables of other programs are
 * ignored.
 * @throws ConfigError `environment: VARIABLE: what is wrong` (and the field, inside a JSON variable)
 */
export function decodeSettings(env: Readonly<Record<string, string | undefined>>): ScannerSettings {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`environment: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const thresholds = parseJson(V.thresholds, e[V.thresholds], thresholdsSchema);
  const accountsJson = e[V.accounts];
  const accounts = accountsJson ? parseJson(V.accounts, accountsJson, accountsSchema) : undefined;
  if (accounts?.source === 'list' && !accounts.ids?.length) {
    throw new ConfigError(`environment: ${V.accounts}: ids: a list source needs at least one account id`);
  }
  const notificationsJson = e[V.notifications];
  const notifications = notificationsJson
    ? checkedPolicy({
        routes: [],
        defaultChannel: DEFAULT_CHANNEL,
        ...parseJson(V.notifications, notificationsJson, notificationsSchema),
      })
    : DEFAULT_NOTIFICATION_POLICY;
  const routeProblem = routeSourceProblem(notifications.routes ?? [], accounts?.source ?? 'self');
  if (routeProblem) throw new ConfigError(`environment: ${V.notifications}: ${routeProblem.text}`);
  const slackSecretArn = e[V.slackSecretArn];
  const stateTable = e[V.stateTable];
  const eventBusName = e[V.eventBusName];
  const runBucket = e[V.runBucket];
  const runLeaseMinutes = e[V.runLeaseMs];
  const rollUpPart = e[V.rollUpPart];
  const enforcementJson = e[V.enforcement];
  const enforcement = enforcementJson ? decodeEnforcement(enforcementJson) : undefined;
  return {
    thresholds,
    reportDeadlineMs: e[V.reportDeadlineMs] * SECOND_MS,
    reminderIntervalMs: e[V.reminderIntervalMs] * HOUR_MS,
    ...(slackSecretArn ? { slackSecretArn } : {}),
    ...(stateTable ? { stateTable } : {}),
    ...(eventBusName ? { eventBusName } : {}),
    schedulePeriodMs: e[V.schedulePeriodMs] * MINUTE_MS,
    userDirectory: e[V.userDirectory],
    ...(accounts ? { accounts } : {}),
    securityHub: e[V.securityHub] === 'true',
    notifications,
    ...(runBucket ? { runBucket } : {}),
    ...(runLeaseMinutes !== undefined ? { runLeaseMs: runLeaseMinutes * MINUTE_MS } : {}),
    ...(rollUpPart !== undefined ? { rollUpPart } : {}),
    ...(enforcement ? { enforcement } : {}),
  };
}

/** The policy's own checks (a route without a condition), named by the variable. */
function checkedPolicy(policy: NotificationPolicy): NotificationPolicy {
  try {
    return checkPolicy(policy);
  } catch (err) {
    throw new ConfigError(`environment: ${V.notifications}: ${(err as Error).message}`);
  }
}

/** A duration as a whole, positive number of `unit`s, or a ConfigError naming the setting. */
function wholeUnits(field: keyof ScannerSettings, ms: number, unitMs: number, unit: string): string {
  const n = ms / unitMs;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(
      `settings: ${field}: expected a whole number of ${unit} (${V[field]}), at least 1, got ${ms} ms`,
    );
  }
  return String(n);
}

/** A count as a whole number, at least 1, or a ConfigError naming the setting. */
function wholeCount(field: keyof ScannerSettings, n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(`settings: ${field}: expected a whole number (${V[field]}), at least 1, got ${n}`);
  }
  return String(n);
}

/**
 * The environment variables that carry `settings` (the CREDWATCH_* ones; add POWERTOOLS_ENVIRONMENT
 * for the function). A setting at its default is still written, except `userDirectory`
 * (`authorization-details`), `securityHub` (false), `notifications` (DEFAULT_NOTIFICATION_POLICY)
 * and absent optional settings (`enforcement` among them: absent is off), which are left out.
 * @throws ConfigError when a duration is not a whole number of its variable's unit
 */
export function encodeSettings(settings: ScannerSettings): Record<string, string> {
  const { accounts } = settings;
  return {
    [V.thresholds]: JSON.stringify(settings.thresholds),
    [V.reportDeadlineMs]: wholeUnits('reportDeadlineMs', settings.reportDeadlineMs, SECOND_MS, 'seconds'),
    [V.reminderIntervalMs]: wholeUnits('reminderIntervalMs', settings.reminderIntervalMs, HOUR_MS, 'hours'),
    ...(settings.slackSecretArn !== undefined ? { [V.slackSecretArn]: settings.slackSecretArn } : {}),
    ...(settings.stateTable !== undefined ? { [V.stateTable]: settings.stateTable } : {}),
    ...(settings.eventBusName !== undefined ? { [V.eventBusName]: settings.eventBusName } : {}),
    [V.schedulePeriodMs]: wholeUnits('schedulePeriodMs', settings.schedulePeriodMs, MINUTE_MS, 'minutes'),
    ...(accounts ? { [V.accounts]: encodeAccounts(accounts) } : {}),
    ...(settings.userDirectory !== 'authorization-details'
      ? { [V.userDirectory]: settings.userDirectory }
      : {}),
    ...(settings.securityHub ? { [V.securityHub]: 'true' } : {}),
    ...(settings.runBucket !== undefined ? { [V.runBucket]: settings.runBucket } : {}),
    ...(settings.runLeaseMs !== undefined
      ? { [V.runLeaseMs]: wholeUnits('runLeaseMs', settings.runLeaseMs, MINUTE_MS, 'minutes') }
      : {}),
    ...(settings.rollUpPart !== undefined
      ? { [V.rollUpPart]: wholeCount('rollUpPart', settings.rollUpPart) }
      : {}),
    ...(settings.enforcement ? { [V.enforcement]: encodeEnforcement(settings.enforcement) } : {}),
    ...(isDefaultPolicy(settings.notifications)
      ? {}
      : {
          [V.notifications]: JSON.stringify({
            baseline: settings.notifications.baseline,
            reminders: settings.notifications.reminders,
            maxMessagesPerRun: settings.notifications.maxMessagesPerRun,
            ...(settings.notifications.routes?.length ? { routes: settings.notifications.routes } : {}),
            ...(settings.notifications.defaultChannel !== undefined &&
            settings.notifications.defaultChannel !== DEFAULT_CHANNEL
              ? { defaultChannel: settings.notifications.defaultChannel }
              : {}),
            ...(Object.keys(settings.notifications.mirrors ?? {}).length > 0
              ? { mirrors: settings.notifications.mirrors }
              : {}),
          }),
        }),
  };
}

function isDefaultPolicy(p: NotificationPolicy): boolean {
  const d = DEFAULT_NOTIFICATION_POLICY;
  return (
    p.baseline === d.baseline &&
    p.reminders === d.reminders &&
    p.maxMessagesPerRun === d.maxMessagesPerRun &&
    (p.routes?.length ?? 0) === 0 &&
    (p.defaultChannel ?? DEFAULT_CHANNEL) === DEFAULT_CHANNEL &&
    Object.keys(p.mirrors ?? {}).length === 0
  );
}

/** CREDWATCH_ACCOUNTS: its fields in a fixed order, absent ones left out. */
function encodeAccounts(accounts: AccountsSettings): string {
  const { source, ids, organizationalUnits, include, exclude, memberRoleName, externalId, concurrency } =
    accounts;
  return JSON.stringify({
    source,
    ...(ids ? { ids } : {}),
    ...(organizationalUnits ? { organizationalUnits } : {}),
    ...(include ? { include } : {}),
    ...(exclude ? { exclude } : {}),
    memberRoleName,
    ...(externalId !== undefined ? { externalId } : {}),
    concurrency,
    ...(accounts.thresholds ? { thresholds: accounts.thresholds } : {}),
  });
}

/**
 * A setting the function cannot deliver without (the secret, the table), or a ConfigError naming its
 * variable. Only an accepted invocation needs them: a refused one reads nothing.
 */
export function requiredSetting(
  settings: ScannerSettings,
  field: 'slackSecretArn' | 'stateTable' | 'runBucket',
): string {
  const value = settings[field];
  if (!value) throw new ConfigError(`environment: ${V[field]} is required`);
  return value;
}
