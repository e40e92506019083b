/**
 * The Lambda's configuration, read once from its environment and validated. A missing or bad
 * variable fails the invocation with a message naming it (the Errors alarm then fires).
 */
import { z } from 'zod';
import { ConfigError } from './core/errors';
import { type Thresholds, thresholdsSchema } from './core/policy';

const positiveInt = (name: string) =>
  z
    .string({ error: `${name} is required` })
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n > 0, `${name} must be greater than 0`);

const schema = z.object({
  CREDWATCH_THRESHOLDS: z.string().default('{}'),
  CREDWATCH_REPORT_DEADLINE_SECONDS: positiveInt('CREDWATCH_REPORT_DEADLINE_SECONDS').default(60),
  CREDWATCH_REMINDER_HOURS: positiveInt('CREDWATCH_REMINDER_HOURS').default(24),
  CREDWATCH_SLACK_SECRET_ARN: z.string().optional(),
  CREDWATCH_STATE_TABLE: z.string().optional(),
  CREDWATCH_EVENT_BUS_NAME: z.string().optional(),
  /** One schedule period: invocations whose scheduled time is further from the clock are refused. */
  CREDWATCH_SCHEDULE_PERIOD_MINUTES: positiveInt('CREDWATCH_SCHEDULE_PERIOD_MINUTES'),
  /** How users and tags are read: one GetAccountAuthorizationDetails per 1,000 users, or ListUsers + ListUserTags. */
  CREDWATCH_USER_DIRECTORY: z
    .enum(['authorization-details', 'list-users'], {
      error: 'CREDWATCH_USER_DIRECTORY must be "authorization-details" or "list-users"',
    })
    .default('authorization-details'),
  /** Multi-account settings (lib/config.ts `accounts`); absent: the deployment's own account only. */
  CREDWATCH_ACCOUNTS: z.string().optional(),
  /** Export announced findings to Security Hub: `true`, or absent (off). */
  CREDWATCH_SECURITY_HUB: z
    .enum(['true', 'false'], { error: 'CREDWATCH_SECURITY_HUB must be "true", "false" or absent' })
    .optional(),
  AWS_REGION: z.string().default('us-east-1'),
});

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

export type AccountsSettings = z.infer<typeof accountsSchema>;

export interface LambdaEnv {
  readonly thresholds: Thresholds;
  readonly reportDeadlineMs: number;
  readonly reminderIntervalMs: number;
  readonly slackSecretArn?: string;
  readonly stateTable?: string;
  readonly eventBusName?: string;
  /** One schedule period, in ms. */
  readonly schedulePeriodMs: number;
  readonly userDirectory: 'authorization-details' | 'list-users';
  /** Multi-account settings; undefined scans the deployment's own account. */
  readonly accounts?: AccountsSettings;
  /** The Lambda's region: the partition of member role ARNs. */
  readonly region: string;
  /** Export announced findings to Security Hub (lambda/adapters/security-hub.ts). */
  readonly securityHub: boolean;
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
    throw new ConfigError(`environment: ${name}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

export function readEnv(env: NodeJS.ProcessEnv): LambdaEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`environment: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const thresholds = parseJson('CREDWATCH_THRESHOLDS', e.CREDWATCH_THRESHOLDS, thresholdsSchema);
  const accounts = e.CREDWATCH_ACCOUNTS
    ? parseJson('CREDWATCH_ACCOUNTS', e.CREDWATCH_ACCOUNTS, accountsSchema)
    : undefined;
  if (accounts?.source === 'list' && !accounts.ids?.length) {
    throw new ConfigError(
      'environment: CREDWATCH_ACCOUNTS: ids: a list source needs at least one account id',
    );
  }
  return {
    thresholds,
    region: e.AWS_REGION,
    ...(accounts ? { accounts } : {}),
    reportDeadlineMs: e.CREDWATCH_REPORT_DEADLINE_SECONDS * 1000,
    reminderIntervalMs: e.CREDWATCH_REMINDER_HOURS * 3_600_000,
    ...(e.CREDWATCH_SLACK_SECRET_ARN ? { slackSecretArn: e.CREDWATCH_SLACK_SECRET_ARN } : {}),
    ...(e.CREDWATCH_STATE_TABLE ? { stateTable: e.CREDWATCH_STATE_TABLE } : {}),
    ...(e.CREDWATCH_EVENT_BUS_NAME ? { eventBusName: e.CREDWATCH_EVENT_BUS_NAME } : {}),
    schedulePeriodMs: e.CREDWATCH_SCHEDULE_PERIOD_MINUTES * 60_000,
    userDirectory: e.CREDWATCH_USER_DIRECTORY,
    securityHub: e.CREDWATCH_SECURITY_HUB === 'true',
  };
}
