/**
 * `notifications`: what a channel hears at scale (docs/alerts.md, "At scale"): `baseline` (an
 * account's first scan posts one summary instead of every finding), `reminders` (`roll-up`: one
 * summary and a list per owner each interval; `per-finding`: each finding again) and
 * `maxMessagesPerRun` (the most messages a run posts to the channel; the rest in one overflow
 * summary). The defaults live with the policy, in lambda/core/notification-plan.ts.
 */
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import {
  DEFAULT_NOTIFICATION_POLICY,
  MESSAGE_CAP_BOUNDS,
  REMINDER_MODES,
} from '../../lambda/core/notification-plan';
import { wholeNumber } from './messages';
import { onOffSchema } from './scanner';

export const notificationsSchema = z
  .strictObject({
    baseline: onOffSchema().default(DEFAULT_NOTIFICATION_POLICY.baseline),
    reminders: z
      .enum(REMINDER_MODES as [string, ...string[]], {
        error: (iss) => `expected one of ${REMINDER_MODES.join(', ')}, got ${describeValue(iss.input)}`,
      })
      .transform((v) => v as (typeof REMINDER_MODES)[number])
      .default(DEFAULT_NOTIFICATION_POLICY.reminders),
    maxMessagesPerRun: wholeNumber(MESSAGE_CAP_BOUNDS.min, MESSAGE_CAP_BOUNDS.max).default(
      DEFAULT_NOTIFICATION_POLICY.maxMessagesPerRun,
    ),
  })
  .prefault({});
