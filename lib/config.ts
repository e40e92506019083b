/**
 * The deployment configuration of credwatch (docs/configuration.md): its schema, defaults and the
 * exact one-line errors a wrong value produces. Validated at synth time by bin/app.ts and reused by
 * the CLI for `--config FILE`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { UserDirectoryMode } from '../lambda/adapters/iam';
import { describeValue } from '../lambda/core/describe-value';
import { ConfigError } from '../lambda/core/errors';
import { type Thresholds, thresholdsSchema } from '../lambda/core/policy';

export { ConfigError };

/** The name of the configuration file at the repository root. */
export const CONFIG_FILE_NAME = 'credwatch.config.json';
/** The CDK context key that holds (part of) the configuration. */
export const CONTEXT_KEY = 'credwatch';

/** CloudWatch Logs retention values, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Heartbeat period assumed for a cron schedule when `heartbeatMinutes` is not set. */
export const DEFAULT_CRON_HEARTBEAT_MINUTES = 1440;
/**
 * The longest schedule period the heartbeat alarm can watch: three periods must fit in CloudWatch's
 * 7-day alarm evaluation range (56 hours x 3 = 7 days).
 */
export const MAX_HEARTBEAT_MINUTES = 3360;
/** Seconds the function keeps between the credential report deadline and its own timeout. */
export const DEADLINE_MARGIN_SECONDS = 30;

const SCHEDULE_EXPECTED = 'expected rate(N minutes|hours|days) or cron(...)';
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;
const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
/** A standard SNS topic ARN. */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/**
 * An IAM role ARN, with its path (`role/NAME` or `role/PATH/NAME`). No `*` or `?`: they would be
 * wildcards in a policy.
 */
export const ROLE_ARN =
  /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\x21-\x29\x2B-\x3E\x40-\x7E]*\/)?[A-Za-z0-9_+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
/** An IAM role name (without a path). */
export const ROLE_NAME = /^[A-Za-z0-9_+=,.@-]{1,64}$/;
/** An STS external id. */
export const EXTERNAL_ID = /^[A-Za-z0-9_+=,.@:/-]{2,1224}$/;
/** An AWS Organizations organization id. */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** How a value looks in an error message: JSON, shortened (shared with the function's input checks). */
export { describeValue };

const MINUTES_PER_UNIT: Record<string, number> = { minute: 1, hour: 60, day: 1440 };

/**
 * The period of a `rate(...)` expression in minutes, or null for a cron expression.
 * Assumes an expression already accepted by the schema.
 */
export function ratePeriodMinutes(expression: string): number | null {
  const m = RATE.exec(expression);
  if (!m) return null;
  const unit = m[2]!.replace(/s$/, '');
  return Number(m[1]) * MINUTES_PER_UNIT[unit]!;
}

/**
 * One schedule period in minutes: the rate's period, or `heartbeatMinutes` for a cron schedule (the
 * longest expected gap between two runs). The function's timeout, its async event age and the
 * schedule's retry window are bounded by it.
 */
export function schedulePeriodMinutes(config: {
  readonly schedule: string;
  readonly heartbeatMinutes?: number;
}): number {
  return ratePeriodMinutes(config.schedule) ?? config.heartbeatMinutes ?? DEFAULT_CRON_HEARTBEAT_MINUTES;
}

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly special: RegExp | null;
  readonly allowed: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, special: null, allowed: '0-59 with , - * /' },
  { name: 'hours', min: 0, max: 23, special: null, allowed: '0-23 with , - * /' },
  {
    name: 'day-of-month',
    min: 1,
    max: 31,
    special: /^(?:\?|L|LW|L-\d{1,2}|\d{1,2}W)$/,
    allowed: '1-31 with , - * ? / L W',
  },
  { name: 'month', min: 1, max: 12, names: MONTHS, special: null, allowed: '1-12 or JAN-DEC with , - * /' },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    special: /^(?:\?|L|[1-7]L|(?:[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5])$/,
    allowed: '1-7 or SUN-SAT with , - * ? L #',
  },
  { name: 'year', min: 1970, max: 2199, special: null, allowed: '1970-2199 with , - * /' },
];

function cronValue(text: string, field: CronField): boolean {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max;
  }
  return field.names?.includes(text.toUpperCase()) ?? false;
}

function cronItem(item: string, field: CronField): boolean {
  if (field.special?.test(item.toUpperCase())) return true;
  const [range, step, ...rest] = item.split('/');
  if (rest.length > 0 || range === undefined) return false;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1)) return false;
  if (range === '*') return true;
  const bounds = range.split('-');
  if (bounds.length > 2 || !bounds.every((b) => cronValue(b, field))) return false;
  return true;
}

/** Why a cron expression's fields are wrong, or null when they are syntactically valid. */
function cronProblem(expression: string, body: string): string | null {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length} in "${expression}"`;
  }
  for (const [i, field] of CRON_FIELDS.entries()) {
    const text = fields[i]!;
    const items = text.split(',');
    const ok = items.every((item) => cronItem(item, field)) && (items.length === 1 || !items.includes('?'));
    if (!ok) return `cron ${field.name} field "${text}" is not valid (${field.allowed}) in "${expression}"`;
  }
  const dom = fields[2]!;
  const dow = fields[4]!;
  if ((dom === '?') === (dow === '?')) {
    return `cron day-of-month "${dom}" and day-of-week "${dow}": exactly one of them must be "?" in "${expression}"`;
  }
  return null;
}

/** Why a schedule expression is wrong, or null when EventBridge Scheduler would accept its syntax. */
function scheduleProblem(value: unknown): string | null {
  if (typeof value !== 'string') return `${SCHEDULE_EXPECTED}, got ${describeValue(value)}`;
  const rate = RATE.exec(value);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!;
    if (n < 1) return `rate value must be at least 1, got "${value}"`;
    if (n === 1 && unit.endsWith('s'))
      return `"${value}" must use the singular unit: rate(1 ${unit.slice(0, -1)})`;
    if (n > 1 && !unit.endsWith('s')) return `"${value}" must use the plural unit: rate(${n} ${unit}s)`;
    const minutes = ratePeriodMinutes(value)!;
    if (minutes > MAX_HEARTBEAT_MINUTES) {
      return `"${value}" is longer than 56 hours; the heartbeat alarm (three periods) must fit in CloudWatch's 7-day alarm window`;
    }
    return null;
  }
  const cron = CRON.exec(value);
  if (cron) return cronProblem(value, cron[1]!);
  return `${SCHEDULE_EXPECTED}, got ${describeValue(value)}`;
}

function isTimeZone(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

type ErrorFor = (iss: { readonly input?: unknown }) => string;

/** A whole number in [min, max]; every failure says so in the same words. */
const wholeNumber = (min: number, max: number) => {
  const error: ErrorFor = (iss) =>
    `expected a whole number from ${min} to ${max}, got ${describeValue(iss.input)}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
};

/** Where the Slack webhook secret comes from. */
export type SlackSecretConfig =
  | {
      readonly create: true;
      /** Roles (complete ARNs, with their path) that may read the created secret besides the scanner. */
      readonly adminRoleArns?: readonly string[];
    }
  | { readonly name: string; readonly kmsKeyArn?: string }
  | { readonly arn: string; readonly kmsKeyArn?: string };

const SLACK_SECRET_EXPECTED =
  'expected {"create": true}, {"name": "SECRET-NAME"} or {"arn": "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX"}';

const slackSecretSchema = z.unknown().transform((value, ctx): SlackSecretConfig => {
  const fail = (message: string, path: (string | number)[] = []): never => {
    ctx.issues.push({ code: 'custom', input: value, message, path });
    return z.NEVER;
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(`${SLACK_SECRET_EXPECTED}, got ${describeValue(value)}`);
  }
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  const kind = ['create', 'name', 'arn'].filter((k) => k in v);
  if (kind.length !== 1) return fail(`${SLACK_SECRET_EXPECTED}, got ${describeValue(value)}`);
  if (kind[0] !== 'create' && 'adminRoleArns' in v) {
    return fail(
      `only allowed with {"create": true}; for an imported secret attach the resource policy by hand (docs/deploy.md)`,
      ['adminRoleArns'],
    );
  }
  const allowed = kind[0] === 'create' ? ['create', 'adminRoleArns'] : [kind[0]!, 'kmsKeyArn'];
  const unknown = keys.find((k) => !allowed.includes(k));
  if (unknown !== undefined) return fail(`unknown field; allowed here: ${allowed.join(', ')}`, [unknown]);
  if ('kmsKeyArn' in v && !(typeof v.kmsKeyArn === 'string' && KMS_KEY_ARN.test(v.kmsKeyArn))) {
    return fail(
      `expected a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID), got ${describeValue(v.kmsKeyArn)}`,
      ['kmsKeyArn'],
    );
  }
  const kmsKeyArn = typeof v.kmsKeyArn === 'string' ? { kmsKeyArn: v.kmsKeyArn } : {};
  if (kind[0] === 'create') {
    if (v.create !== true) return fail(`expected true, got ${describeValue(v.create)}`, ['create']);
    if (!('adminRoleArns' in v)) return { create: true };
    const admins = v.adminRoleArns;
    if (!Array.isArray(admins)) {
      return fail(`expected an array of IAM role ARNs, got ${describeValue(admins)}`, ['adminRoleArns']);
    }
    const seen = new Set<string>();
    for (const [i, arn] of admins.entries()) {
      if (typeof arn !== 'string' || !ROLE_ARN.test(arn)) {
        return fail(
          `expected an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME or role/PATH/NAME, no wildcards), got ${describeValue(arn)}`,
          ['adminRoleArns', i],
        );
      }
      if (seen.has(arn)) return fail(`"${arn}" is listed twice`, ['adminRoleArns', i]);
      seen.add(arn);
    }
    return { create: true, adminRoleArns: admins as string[] };
  }
  if (kind[0] === 'name') {
    if (typeof v.name !== 'string' || !SECRET_NAME.test(v.name)) {
      return fail(`expected 1-512 characters of A-Z a-z 0-9 / _ + = . @ -, got ${describeValue(v.name)}`, [
        'name',
      ]);
    }
    return { name: v.name, ...kmsKeyArn };
  }
  if (typeof v.arn !== 'string' || !SECRET_ARN.test(v.arn)) {
    return fail(
      `expected a complete secret ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX), got ${describeValue(v.arn)}`,
      ['arn'],
    );
  }
  return { arn: v.arn, ...kmsKeyArn };
});

const scheduleSchema = z
  .string({ error: (iss) => `${SCHEDULE_EXPECTED}, got ${describeValue(iss.input)}` })
  .superRefine((value, ctx) => {
    const problem = scheduleProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', input: value, message: problem });
  });

const timeZoneError: ErrorFor = (iss) =>
  `expected an IANA time zone such as "Europe/Berlin" or "UTC", got ${describeValue(iss.input)}`;

const emailError: ErrorFor = (iss) => `expected an e-mail address, got ${describeValue(iss.input)}`;

const topicArnError: ErrorFor = (iss) =>
  `expected an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:TOPIC-NAME), got ${describeValue(iss.input)}`;

/** `on`: every alarm notifies `alarmEmails` or `alarmTopicArn`; `none`: alarms without actions (not recommended). */
/**
 * How the scanner reads users and their tags (`userDirectory`, lambda/adapters/iam.ts): one
 * GetAccountAuthorizationDetails call per 1,000 users, or ListUsers and ListUserTags for each user.
 */
export const USER_DIRECTORY_MODES = [
  'authorization-details',
  'list-users',
] as const satisfies readonly UserDirectoryMode[];

export const ALARM_MODES = ['on', 'none'] as const;

const retentionError: ErrorFor = (iss) =>
  `expected one of ${LOG_RETENTION_DAYS.join(', ')}, got ${describeValue(iss.input)}`;

/**
 * A check that no item of a string list is listed twice.
 * @param key what makes two items the same @default the item itself
 */
const listedOnce =
  (key: (item: string) => string = (item) => item) =>
  (items: readonly string[], ctx: z.RefinementCtx): void => {
    const seen = new Set<string>();
    for (const [i, item] of items.entries()) {
      if (seen.has(key(item))) {
        ctx.addIssue({ code: 'custom', input: item, path: [i], message: `"${item}" is listed twice` });
        return;
      }
      seen.add(key(item));
    }
  };

/** Where the accounts a deployment scans come from. */
export const ACCOUNT_SOURCES = ['self', 'list', 'organization'] as const;
export type AccountSource = (typeof ACCOUNT_SOURCES)[number];

/** The validated `accounts` section (docs/configuration.md#accounts), defaults filled in. */
export interface AccountsConfig {
  /** `self`: the deployment's own account, no AssumeRole; `list`: `ids`; `organization`: discovered. */
  readonly source: AccountSource;
  /** The accounts of `source: "list"`. */
  readonly ids?: readonly string[];
  /** `source: "organization"`: only the accounts under these OUs or roots (recursively); none = the whole organization. */
  readonly organizationalUnits?: readonly string[];
  /** When non-empty, only these accounts. */
  readonly include?: readonly string[];
  /** Never these accounts. */
  readonly exclude?: readonly string[];
  /** The name of the role the scanner assumes in every scanned account. */
  readonly memberRoleName: string;
  /** The fixed name of the scanner's own role when `source` is not `self` (member trust policies name it). */
  readonly scannerRoleName: string;
  /** The external id the scanner presents to AssumeRole. */
  readonly externalId?: string;
  /** The organization id for the member roles' `aws:PrincipalOrgID` condition. */
  readonly organizationId?: string;
  /** How many accounts are scanned at the same time. */
  readonly concurrency: number;
  /** Per-account thresholds: the global thresholds with the account's rules replaced, complete and validated. */
  readonly thresholds?: Readonly<Record<string, Thresholds>>;
}

const accountIdError: ErrorFor = (iss) =>
  `expected a 12-digit AWS account id, got ${describeValue(iss.input)}`;

const accountIds = z
  .array(z.string({ error: accountIdError }).regex(ACCOUNT_ID, { error: accountIdError }), {
    error: (iss) => `expected an array of 12-digit AWS account ids, got ${describeValue(iss.input)}`,
  })
  .superRefine(listedOnce());

const ouError: ErrorFor = (iss) =>
  `expected an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx), got ${describeValue(iss.input)}`;

const roleNameError: ErrorFor = (iss) =>
  `expected an IAM role name: 1-64 characters of A-Z a-z 0-9 + = , . @ _ -, got ${describeValue(iss.input)}`;
const roleName = z.string({ error: roleNameError }).regex(ROLE_NAME, { error: roleNameError });

const externalIdError: ErrorFor = (iss) =>
  `expected 2-1224 characters of A-Z a-z 0-9 + = , . @ : / _ -, got ${describeValue(iss.input)}`;

const organizationIdError: ErrorFor = (iss) =>
  `expected an organization id (o- and 10-32 lowercase letters or digits), got ${describeValue(iss.input)}`;

/** The fields that mean nothing for the deployment's own account. */
const NOT_WITH_SELF = ['include', 'exclude', 'externalId', 'organizationId', 'thresholds'] as const;

const accountsSchema = z
  .strictObject({
    source: z.enum(ACCOUNT_SOURCES).default('self'),
    ids: accountIds
      .min(1, { error: (iss) => `expected at least one account id, got ${describeValue(iss.input)}` })
      .optional(),
    organizationalUnits: z
      .array(
        z.string({ error: ouError }).refine((v) => OU_ID.test(v) || ROOT_ID.test(v), { error: ouError }),
        {
          error: (iss) => `expected an array of organizational unit ids, got ${describeValue(iss.input)}`,
        },
      )
      .superRefine(listedOnce())
      .optional(),
    include: accountIds.optional(),
    exclude: accountIds.optional(),
    memberRoleName: roleName.default('credwatch-member'),
    scannerRoleName: roleName.default('credwatch-scanner'),
    externalId: z
      .string({ error: externalIdError })
      .regex(EXTERNAL_ID, { error: externalIdError })
      .optional(),
    organizationId: z
      .string({ error: organizationIdError })
      .regex(ORGANIZATION_ID, { error: organizationIdError })
      .optional(),
    concurrency: wholeNumber(1, 50).default(8),
    // Validated after merging over the global thresholds (configSchema's transform).
    thresholds: z
      .record(z.string(), z.unknown(), {
        error: (iss) =>
          `expected an object of 12-digit account ids to thresholds, got ${describeValue(iss.input)}`,
      })
      .optional(),
  })
  .superRefine((a, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', input: a, path, message });
    if (a.source === 'list' && a.ids === undefined) return issue(['ids'], 'required when source is "list"');
    if (a.source !== 'list' && a.ids !== undefined) {
      return issue(['ids'], `only allowed when source is "list", got source "${a.source}"`);
    }
    if (a.source !== 'organization' && a.organizationalUnits !== undefined) {
      return issue(
        ['organizationalUnits'],
        `only allowed when source is "organization", got source "${a.source}"`,
      );
    }
    if (a.source === 'self') {
      const field = NOT_WITH_SELF.find((f) => a[f] !== undefined);
      if (field) {
        return issue([field], 'not allowed when source is "self" (only with "list" or "organization")');
      }
      return;
    }
    const include = new Set(a.include ?? []);
    const exclude = new Set(a.exclude ?? []);
    const both = (a.exclude ?? []).findIndex((id) => include.has(id));
    if (both >= 0) return issue(['exclude', both], `"${a.exclude![both]}" is also in include`);
    if (a.ids !== undefined && knownAccountIds(a as AccountsConfig)!.length === 0) {
      return issue([include.size > 0 ? 'include' : 'exclude'], 'leaves none of ids to scan');
    }
    for (const id of Object.keys(a.thresholds ?? {})) {
      if (!ACCOUNT_ID.test(id)) {
        return issue(
          ['thresholds', id],
          `expected a 12-digit AWS account id as the key, got ${describeValue(id)}`,
        );
      }
      if (a.ids !== undefined && !a.ids.includes(id)) return issue(['thresholds', id], 'not one of ids');
      if (include.size > 0 && !include.has(id)) return issue(['thresholds', id], 'not one of include');
      if (exclude.has(id)) return issue(['thresholds', id], 'excluded (in exclude)');
    }
  });

/**
 * The accounts a deployment will scan when they are fixed at synth time: `ids` (source `list`) or
 * `include` (source `organization`), less `exclude`, in order. `undefined` when they are whatever
 * the organization holds (or the deployment's own account, source `self`).
 */
export function knownAccountIds(accounts: AccountsConfig): readonly string[] | undefined {
  const include = accounts.include ?? [];
  const exclude = new Set(accounts.exclude ?? []);
  let ids: readonly string[];
  if (accounts.source === 'list') {
    ids =
      include.length > 0 ? (accounts.ids ?? []).filter((id) => include.includes(id)) : (accounts.ids ?? []);
  } else if (accounts.source === 'organization' && include.length > 0) {
    ids = include;
  } else {
    return undefined;
  }
  return ids.filter((id) => !exclude.has(id));
}

/**
 * Each per-account override merged over the global thresholds, rule by rule (a rule given replaces
 * the global rule as a whole, unset fields taking their defaults), and validated as complete thresholds.
 * Problems are added to `ctx` with their path under `accounts.thresholds`.
 */
function mergeAccountThresholds(
  overrides: Readonly<Record<string, unknown>>,
  global: Thresholds,
  ctx: z.RefinementCtx,
): Record<string, Thresholds> {
  const merged: Record<string, Thresholds> = {};
  for (const [id, override] of Object.entries(overrides)) {
    const path = ['accounts', 'thresholds', id];
    if (typeof override !== 'object' || override === null || Array.isArray(override)) {
      ctx.addIssue({
        code: 'custom',
        input: override,
        path,
        message: `expected an object, got ${describeValue(override)}`,
      });
      continue;
    }
    const result = thresholdsSchema.safeParse(
      { ...global, ...override },
      { reportInput: true, error: issueMessage },
    );
    if (result.success) {
      merged[id] = result.data;
      continue;
    }
    const iss = result.error.issues[0]!;
    const keys = iss.code === 'unrecognized_keys' ? [iss.keys[0]!] : [];
    ctx.addIssue({
      code: 'custom',
      input: iss.input,
      path: [...path, ...iss.path, ...keys],
      message: iss.message,
    });
  }
  return merged;
}

const configSchema = z
  .strictObject({
    schedule: scheduleSchema.default('rate(10 minutes)'),
    timeZone: z.string({ error: timeZoneError }).refine(isTimeZone, { error: timeZoneError }).optional(),
    heartbeatMinutes: wholeNumber(1, MAX_HEARTBEAT_MINUTES).optional(),
    thresholds: thresholdsSchema,
    reminderHours: wholeNumber(1, 720).default(24),
    alarmEmails: z
      .array(z.string({ error: emailError }).regex(EMAIL, { error: emailError }), {
        error: (iss) => `expected an array of e-mail addresses, got ${describeValue(iss.input)}`,
      })
      .superRefine(listedOnce((email) => email.toLowerCase()))
      .default([]),
    alarmTopicArn: z
      .string({ error: topicArnError })
      .regex(SNS_TOPIC_ARN, { error: topicArnError })
      .optional(),
    alarms: z.enum(ALARM_MODES).default('on'),
    slackSecret: slackSecretSchema.default({ create: true }),
    logRetentionDays: z
      .number({ error: retentionError })
      .refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v), { error: retentionError })
      .default(90),
    memoryMb: wholeNumber(128, 10240).default(512),
    timeoutSeconds: wholeNumber(1, 900).default(300),
    reportDeadlineSeconds: wholeNumber(1, 900).default(60),
    userDirectory: z.enum(USER_DIRECTORY_MODES).default('authorization-details'),
    reservedConcurrency: z
      .boolean({ error: (iss) => `expected true or false, got ${describeValue(iss.input)}` })
      .default(true),
    /** Export announced findings to Security Hub CSPM (docs/operations.md, "Security Hub"). */
    securityHub: z
      .boolean({ error: (iss) => `expected true or false, got ${describeValue(iss.input)}` })
      .default(false),
    accounts: accountsSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const limit = c.timeoutSeconds - DEADLINE_MARGIN_SECONDS;
    if (c.reportDeadlineSeconds >= limit) {
      ctx.addIssue({
        code: 'custom',
        input: c.reportDeadlineSeconds,
        path: ['reportDeadlineSeconds'],
        message: `must be less than timeoutSeconds - ${DEADLINE_MARGIN_SECONDS} (${limit}), got ${c.reportDeadlineSeconds}`,
      });
    }
    const period = ratePeriodMinutes(c.schedule);
    if (period !== null && c.heartbeatMinutes !== undefined && c.heartbeatMinutes < period) {
      ctx.addIssue({
        code: 'custom',
        input: c.heartbeatMinutes,
        path: ['heartbeatMinutes'],
        message: `must be at least the schedule's period (${period} minutes), got ${c.heartbeatMinutes}`,
      });
      return;
    }
    const periodMinutes = schedulePeriodMinutes(c);
    if (c.timeoutSeconds >= periodMinutes * 60) {
      const what =
        period !== null
          ? `the period of ${c.schedule}`
          : `heartbeatMinutes ${periodMinutes}, the period of the cron schedule`;
      ctx.addIssue({
        code: 'custom',
        input: c.timeoutSeconds,
        path: ['timeoutSeconds'],
        message: `must be shorter than one schedule period (${periodMinutes * 60} seconds: ${what}), got ${c.timeoutSeconds}`,
      });
      return;
    }
    if (c.alarms === 'none') {
      const field = c.alarmEmails.length > 0 ? 'alarmEmails' : c.alarmTopicArn ? 'alarmTopicArn' : undefined;
      if (field) {
        ctx.addIssue({
          code: 'custom',
          input: c[field],
          path: [field],
          message: 'not allowed when alarms is "none" (the alarms have no actions)',
        });
        return;
      }
    }
    if (c.alarmTopicArn !== undefined && c.alarmEmails.length > 0) {
      ctx.addIssue({
        code: 'custom',
        input: c.alarmEmails,
        path: ['alarmEmails'],
        message:
          'not allowed together with alarmTopicArn (the alarms then notify that topic only): subscribe the addresses to it instead',
      });
    }
  })
  .transform((c, ctx) => {
    const { thresholds: overrides, ...rest } = c.accounts;
    const accounts: AccountsConfig = overrides
      ? { ...rest, thresholds: mergeAccountThresholds(overrides, c.thresholds, ctx) }
      : rest;
    return {
      ...c,
      /** Minutes between two expected scans; the heartbeat alarm fires after three without one. */
      heartbeatMinutes: c.heartbeatMinutes ?? ratePeriodMinutes(c.schedule) ?? DEFAULT_CRON_HEARTBEAT_MINUTES,
      accounts,
    };
  });

/** The validated deployment configuration, defaults filled in. */
export type CredwatchConfig = Readonly<z.output<typeof configSchema>>;

type Bounded = { readonly minValue?: number | null; readonly maxValue?: number | null };

/** "expected a whole number from 1 to 3650", from the number schema an issue is about. */
function numberExpected(iss: z.core.$ZodRawIssue): string {
  // Checks (min/max) report their schema as `schema`; type errors report it as `inst`.
  const schema = ((iss as { schema?: Bounded }).schema ?? iss.inst) as Bounded | undefined;
  const min = schema?.minValue;
  const max = schema?.maxValue;
  const whole = iss.code === 'invalid_type' ? iss.expected === 'int' : true;
  const what = whole ? 'a whole number' : 'a number';
  if (
    typeof min === 'number' &&
    typeof max === 'number' &&
    Number.isSafeInteger(min) &&
    Number.isSafeInteger(max)
  ) {
    return `expected ${what} from ${min} to ${max}`;
  }
  return `expected ${what}`;
}

/** Error messages for zod's own issues (the ones the schema does not word itself). */
function issueMessage(iss: z.core.$ZodRawIssue): string | undefined {
  const got = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type':
      if (iss.expected === 'int' || iss.expected === 'number') return `${numberExpected(iss)}, got ${got}`;
      if (iss.expected === 'object') return `expected an object, got ${got}`;
      if (iss.expected === 'array') return `expected an array, got ${got}`;
      return `expected a ${iss.expected}, got ${got}`;
    case 'too_small':
    case 'too_big':
      return iss.origin === 'number' ? `${numberExpected(iss)}, got ${got}` : undefined;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
      return `unknown field${shape ? `; allowed here: ${Object.keys(shape).join(', ')}` : ''}`;
    }
    default:
      return undefined;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * Validate a configuration and fill in its defaults.
 * @param raw the parsed JSON (or `undefined` for all defaults)
 * @param source where it came from, named in the error: a file name or a context key; or a function
 *   naming the source of a top-level field (for a configuration merged from several places)
 * @throws ConfigError with one line: `source: field.path: what is allowed, got what`
 */
export function loadConfig(
  raw: unknown,
  source: string | ((field: string | undefined) => string),
): CredwatchConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true, error: issueMessage });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path: PropertyKey[] = [...issue.path];
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]!);
  const where =
    typeof source === 'string' ? source : source(typeof path[0] === 'string' ? path[0] : undefined);
  const field = formatPath(path);
  throw new ConfigError(`${where}: ${field === '' ? '' : `${field}: `}${issue.message}`, {
    cause: result.error,
  });
}

/** One place configuration can come from, in the order they are applied. */
export interface ConfigSource {
  /** Named in error messages, e.g. `credwatch.config.json`. */
  readonly name: string;
  /** The parsed value, or a JSON string (a `-c credwatch='{...}'` context value is a string). */
  readonly value: unknown;
}

interface MergedSources {
  readonly merged: Record<string, unknown>;
  /** The source each top-level field was last set by. */
  readonly origin: ReadonlyMap<string, string>;
  /** The sources that had a value, in order. */
  readonly used: readonly string[];
}

function mergeSources(sources: readonly ConfigSource[]): MergedSources {
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  const used: string[] = [];
  for (const { name, value } of sources) {
    if (value === undefined) continue;
    let parsed = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch (err) {
        throw new ConfigError(`${name}: not valid JSON: ${(err as Error).message}`, { cause: err });
      }
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`${name}: expected an object, got ${describeValue(parsed)}`);
    }
    used.push(name);
    for (const [key, v] of Object.entries(parsed)) {
      merged[key] = v;
      origin.set(key, name);
    }
  }
  return { merged, origin, used };
}

/**
 * Merge configuration sources field by field (a later source's top-level field replaces an earlier
 * one's as a whole) and validate the result. Sources whose value is `undefined` are skipped.
 * @throws ConfigError naming the source of the offending field
 */
export function loadConfigSources(sources: readonly ConfigSource[]): CredwatchConfig {
  const { merged, origin, used } = mergeSources(sources);
  const all = used.length === 0 ? 'defaults' : used.join(' + ');
  return loadConfig(merged, (field) => (field !== undefined ? (origin.get(field) ?? all) : all));
}

/**
 * Which source set a top-level field (the one loadConfigSources took it from), for errors found after
 * loading, e.g. by the stack; `undefined` when no source set it (it has its default).
 * @throws ConfigError as loadConfigSources does for a source that is not a JSON object
 */
export function configFieldOrigin(sources: readonly ConfigSource[]): (field: string) => string | undefined {
  const { origin } = mergeSources(sources);
  return (field) => origin.get(field);
}

/**
 * Read a JSON configuration file.
 * @returns the parsed value, or `undefined` when the file does not exist
 * @throws ConfigError when it cannot be read or is not JSON
 */
export function readConfigFile(file: string, name: string = file): unknown {
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (code ?? (err as Error).message);
    throw new ConfigError(`${name}: cannot read: ${reason}`, { cause: err });
  }
  // Editors on Windows save UTF-8 with a byte order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 says "... at position N" (Node 20) or "(line L column C)" (later): name the line and column.
    const position = /at position (\d+)/.exec(message);
    let where = '';
    if (position && !/\(line \d+ column \d+\)/.test(message)) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      where = ` (line ${line} column ${before.length - before.lastIndexOf('\n')})`;
    }
    throw new ConfigError(`${name}: not valid JSON: ${message}${where}`, { cause: err });
  }
}
