/**
 * The deployment configuration of credwatch (docs/configuration.md): the top-level schema, which
 * puts the sections of the other files of this folder together (schedule.ts, thresholds.ts,
 * alarms.ts, slack-secret.ts, scanner.ts, accounts.ts, enforcement.ts) and fills in their defaults; loading it from
 * one value ({@link loadConfig}) or from several sources merged field by field
 * ({@link loadConfigSources}: credwatch.config.json, then the `credwatch` CDK context value); and
 * reading the JSON file. Every wrong value is one ConfigError line: `source: field.path: what is
 * allowed, got what`. Validated at synth time by bin/app.ts and reused by the CLI for `--config FILE`.
 * Everything the project imports from `lib/config` is exported here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import { ConfigError } from '../../lambda/core/errors';
import { type AccountsConfig, accountsSchema } from './accounts';
import { alarmDestinationProblem, alarmEmailsSchema, alarmModeSchema, alarmTopicArnSchema } from './alarms';
import { checkAccountEnforcement, enforcementAccountsProblem, enforcementSchema } from './enforcement';
import { type ConfigProblem, formatPath, issueMessage, wholeNumber } from './messages';
import { notificationsSchema, routesProblem } from './notifications';
import {
  logRetentionDaysSchema,
  memoryMbSchema,
  onOffSchema,
  reportDeadlineProblem,
  reportDeadlineSecondsSchema,
  timeoutSecondsSchema,
  userDirectorySchema,
} from './scanner';
import {
  DEFAULT_CRON_HEARTBEAT_MINUTES,
  heartbeatMinutesSchema,
  ratePeriodMinutes,
  schedulePeriodProblem,
  scheduleSchema,
  timeZoneSchema,
} from './schedule';
import { slackSecretSchema } from './slack-secret';
import { mergeAccountThresholds, thresholdsSchema } from './thresholds';

export {
  ACCOUNT_SOURCES,
  type AccountSource,
  type AccountsConfig,
  ENGINES,
  type Engine,
  engineOf,
  knownAccountIds,
  STEP_FUNCTIONS_LIST_THRESHOLD,
} from './accounts';
export { ALARM_MODES } from './alarms';
export {
  type EnforcementConfig,
  enforcementOn,
  enforcementSettings,
  enforces,
  PROTECTED_USERS_POLICY_CHARACTERS,
} from './enforcement';
export { EXTERNAL_ID, ORGANIZATION_ID, ROLE_ARN, ROLE_NAME } from './patterns';
export { DEADLINE_MARGIN_SECONDS, LOG_RETENTION_DAYS, USER_DIRECTORY_MODES } from './scanner';
export {
  DEFAULT_CRON_HEARTBEAT_MINUTES,
  MAX_HEARTBEAT_MINUTES,
  ratePeriodMinutes,
  schedulePeriodMinutes,
} from './schedule';
export type { SlackSecretConfig } from './slack-secret';
/**
 * The error every wrong value throws, and how a value looks in its message: JSON, shortened (both
 * shared with the function's input checks).
 */
export { ConfigError, describeValue };

/** The name of the configuration file at the repository root. */
export const CONFIG_FILE_NAME = 'credwatch.config.json';
/** The CDK context key that holds (part of) the configuration. */
export const CONTEXT_KEY = 'credwatch';

const configSchema = z
  .strictObject({
    schedule: scheduleSchema.default('rate(10 minutes)'),
    timeZone: timeZoneSchema.optional(),
    heartbeatMinutes: heartbeatMinutesSchema.optional(),
    thresholds: thresholdsSchema,
    reminderHours: wholeNumber(1, 720).default(24),
    alarmEmails: alarmEmailsSchema.default([]),
    alarmTopicArn: alarmTopicArnSchema.optional(),
    alarms: alarmModeSchema.default('on'),
    slackSecret: slackSecretSchema.default({ create: true }),
    logRetentionDays: logRetentionDaysSchema.default(90),
    memoryMb: memoryMbSchema.default(512),
    timeoutSeconds: timeoutSecondsSchema.default(300),
    reportDeadlineSeconds: reportDeadlineSecondsSchema.default(60),
    userDirectory: userDirectorySchema.default('authorization-details'),
    reservedConcurrency: onOffSchema().default(true),
    /** Export announced findings to Security Hub CSPM (docs/operations.md, "Security Hub"). */
    securityHub: onOffSchema().default(false),
    accounts: accountsSchema.prefault({}),
    /** Baseline, roll-up and the message cap (docs/alerts.md, "At scale"). */
    notifications: notificationsSchema,
    /** Opt-in enforcement: final notices and deactivation of access keys (docs/configuration.md#enforcement). */
    enforcement: enforcementSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    // Relations between sections, in this order; only the first problem is reported (loadConfig).
    const add = (problem: ConfigProblem) => ctx.addIssue({ code: 'custom', ...problem });
    const deadline = reportDeadlineProblem(c);
    if (deadline) add(deadline);
    const period = schedulePeriodProblem(c);
    if (period) return add(period);
    const alarms = alarmDestinationProblem(c);
    if (alarms) add(alarms);
    const routes = routesProblem(c);
    if (routes) add(routes);
    const enforcementAccounts = enforcementAccountsProblem(c);
    if (enforcementAccounts) add(enforcementAccounts);
  })
  .transform((c, ctx) => {
    const { thresholds: overrides, ...rest } = c.accounts;
    const accounts: AccountsConfig = overrides
      ? { ...rest, thresholds: mergeAccountThresholds(overrides, c.thresholds, ctx) }
      : rest;
    checkAccountEnforcement(c.enforcement, ctx);
    return {
      ...c,
      /** Minutes between two expected scans; the heartbeat alarm fires after three without one. */
      heartbeatMinutes: c.heartbeatMinutes ?? ratePeriodMinutes(c.schedule) ?? DEFAULT_CRON_HEARTBEAT_MINUTES,
      accounts,
    };
  });

/** The validated deployment configuration, defaults filled in. */
export type CredwatchConfig = Readonly<z.output<typeof configSchema>>;

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
