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
  /** Tests only: extra hosts a webhook URL may point to, e.g. `127.0.0.1:8080`. */
  CREDWATCH_SLACK_ALLOWED_HOSTS: z.string().optional(),
});

export interface LambdaEnv {
  readonly thresholds: Thresholds;
  readonly reportDeadlineMs: number;
  readonly reminderIntervalMs: number;
  readonly slackSecretArn?: string;
  readonly stateTable?: string;
  readonly eventBusName?: string;
  readonly slackAllowedHosts: string[];
}

export function readEnv(env: NodeJS.ProcessEnv): LambdaEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`environment: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  let rawThresholds: unknown;
  try {
    rawThresholds = JSON.parse(e.CREDWATCH_THRESHOLDS);
  } catch {
    throw new ConfigError('environment: CREDWATCH_THRESHOLDS: not valid JSON');
  }
  const thresholds = thresholdsSchema.safeParse(rawThresholds);
  if (!thresholds.success) {
    const issue = thresholds.error.issues[0]!;
    throw new ConfigError(`environment: CREDWATCH_THRESHOLDS: ${issue.path.join('.')}: ${issue.message}`);
  }
  return {
    thresholds: thresholds.data,
    reportDeadlineMs: e.CREDWATCH_REPORT_DEADLINE_SECONDS * 1000,
    reminderIntervalMs: e.CREDWATCH_REMINDER_HOURS * 3_600_000,
    ...(e.CREDWATCH_SLACK_SECRET_ARN ? { slackSecretArn: e.CREDWATCH_SLACK_SECRET_ARN } : {}),
    ...(e.CREDWATCH_STATE_TABLE ? { stateTable: e.CREDWATCH_STATE_TABLE } : {}),
    ...(e.CREDWATCH_EVENT_BUS_NAME ? { eventBusName: e.CREDWATCH_EVENT_BUS_NAME } : {}),
    slackAllowedHosts: (e.CREDWATCH_SLACK_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  };
}
