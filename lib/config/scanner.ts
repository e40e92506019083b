/**
 * The scanner function's own settings: `memoryMb`, `timeoutSeconds`, `reportDeadlineSeconds` (how
 * long a run waits for IAM's credential report, which must leave {@link DEADLINE_MARGIN_SECONDS} of
 * the timeout), `logRetentionDays` (a value CloudWatch Logs offers), `reservedConcurrency`,
 * `userDirectory` (how users and their tags are read) and `securityHub` (the Security Hub export).
 */
import { z } from 'zod';
import type { UserDirectoryMode } from '../../lambda/adapters/iam';
import { describeValue } from '../../lambda/core/describe-value';
import { type ConfigProblem, type ErrorFor, wholeNumber } from './messages';

/** CloudWatch Logs retention values, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Seconds the function keeps between the credential report deadline and its own timeout. */
export const DEADLINE_MARGIN_SECONDS = 30;

/**
 * How the scanner reads users and their tags (`userDirectory`, lambda/adapters/iam.ts): one
 * GetAccountAuthorizationDetails call per 1,000 users, or ListUsers and ListUserTags for each user.
 */
export const USER_DIRECTORY_MODES = [
  'authorization-details',
  'list-users',
] as const satisfies readonly UserDirectoryMode[];

const retentionError: ErrorFor = (iss) =>
  `expected one of ${LOG_RETENTION_DAYS.join(', ')}, got ${describeValue(iss.input)}`;

/** `logRetentionDays`: one of {@link LOG_RETENTION_DAYS}. */
export const logRetentionDaysSchema = z
  .number({ error: retentionError })
  .refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v), { error: retentionError });

/** `memoryMb`: what Lambda allows. */
export const memoryMbSchema = wholeNumber(128, 10240);
/** `timeoutSeconds`: what Lambda allows (one schedule period bounds it too: schedule.ts). */
export const timeoutSecondsSchema = wholeNumber(1, 900);
/** `reportDeadlineSeconds`: less than the timeout by the margin ({@link reportDeadlineProblem}). */
export const reportDeadlineSecondsSchema = wholeNumber(1, 900);

/** `userDirectory`: one of {@link USER_DIRECTORY_MODES}. */
export const userDirectorySchema = z.enum(USER_DIRECTORY_MODES);

/** A yes/no setting (`reservedConcurrency`, `securityHub`). */
export const onOffSchema = () =>
  z.boolean({ error: (iss) => `expected true or false, got ${describeValue(iss.input)}` });

/** What is wrong between `reportDeadlineSeconds` and `timeoutSeconds`, each valid by itself. */
export function reportDeadlineProblem(c: {
  readonly timeoutSeconds: number;
  readonly reportDeadlineSeconds: number;
}): ConfigProblem | undefined {
  const limit = c.timeoutSeconds - DEADLINE_MARGIN_SECONDS;
  if (c.reportDeadlineSeconds < limit) return undefined;
  return {
    input: c.reportDeadlineSeconds,
    path: ['reportDeadlineSeconds'],
    message: `must be less than timeoutSeconds - ${DEADLINE_MARGIN_SECONDS} (${limit}), got ${c.reportDeadlineSeconds}`,
  };
}
