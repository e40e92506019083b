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
import {
  CHANNEL_NAME,
  CHANNEL_NAME_RULE,
  DEFAULT_CHANNEL,
  MAX_MIRRORS,
  MAX_ROUTES,
  mirrorsProblem,
  type Route,
  routeSourceProblem,
} from '../../lambda/core/routing';
import { accountIds, OU_ID, ROOT_ID } from './accounts';
import { type ConfigProblem, type ErrorFor, listedOnce, wholeNumber } from './messages';
import { onOffSchema } from './scanner';

const channelError: ErrorFor = (iss) =>
  `expected a channel name (${CHANNEL_NAME_RULE}), got ${describeValue(iss.input)}`;
const channelName = z.string({ error: channelError }).regex(CHANNEL_NAME, { error: channelError });

const ouError: ErrorFor = (iss) =>
  `expected an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx), got ${describeValue(iss.input)}`;

const tagValueError: ErrorFor = (iss) =>
  `expected a tag value (a string) or a non-empty array of them, got ${describeValue(iss.input)}`;
/** `{"KEY": "value"}` or `{"KEY": ["a", "b"]}` (any of them), normalized to arrays. */
const tagConditions = z
  .record(
    z
      .string()
      .min(1, { error: 'expected a tag key, got an empty one' })
      .max(128, { error: 'expected a tag key of at most 128 characters' }),
    z.union(
      [
        z.string({ error: tagValueError }).max(256),
        z.array(z.string({ error: tagValueError }).max(256)).min(1, { error: tagValueError }),
      ],
      {
        error: tagValueError,
      },
    ),
    { error: (iss) => `expected an object of tag keys to values, got ${describeValue(iss.input)}` },
  )
  .transform((tags) =>
    Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, typeof v === 'string' ? [v] : v])),
  );

/** One route (lambda/core/routing.ts): a channel and the conditions a finding must meet to go there. */
const routeSchema = z
  .strictObject({
    channel: channelName,
    accounts: accountIds.min(1, { error: 'expected at least one account id' }).optional(),
    organizationalUnits: z
      .array(
        z.string({ error: ouError }).refine((v) => OU_ID.test(v) || ROOT_ID.test(v), { error: ouError }),
        {
          error: (iss) => `expected an array of organizational unit ids, got ${describeValue(iss.input)}`,
        },
      )
      .min(1, { error: 'expected at least one organizational unit id' })
      .superRefine(listedOnce())
      .optional(),
    accountTags: tagConditions.optional(),
    userTags: tagConditions.optional(),
  })
  .superRefine((r, ctx) => {
    for (const field of ['accountTags', 'userTags'] as const) {
      if (r[field] && Object.keys(r[field]).length === 0) {
        ctx.addIssue({
          code: 'custom',
          input: r[field],
          path: [field],
          message: 'expected at least one tag key, got {}',
        });
        return;
      }
    }
    if (!r.accounts && !r.organizationalUnits && !r.accountTags && !r.userTags) {
      ctx.addIssue({
        code: 'custom',
        input: r,
        message:
          'a route needs at least one of accounts, organizationalUnits, accountTags, userTags (the default channel takes what no route matches)',
      });
    }
  });

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
    /** Which channel hears about which finding: the first matching route's (docs/alerts.md, "Routing"). */
    routes: z
      .array(routeSchema, {
        error: (iss) => `expected an array of routes, got ${describeValue(iss.input)}`,
      })
      .max(MAX_ROUTES, { error: `expected at most ${MAX_ROUTES} routes` })
      .default([])
      .transform((routes): Route[] => routes),
    /** Where findings no route matches go: a channel of the Slack secret. */
    defaultChannel: channelName.default(DEFAULT_CHANNEL),
    /** The channels that announce a channel's findings too, each with its own lifecycle of them. */
    mirrors: z
      .record(
        channelName,
        z
          .array(channelName, {
            error: (iss) => `expected an array of channel names, got ${describeValue(iss.input)}`,
          })
          .min(1, { error: 'expected at least one channel' })
          .max(MAX_MIRRORS, { error: `expected at most ${MAX_MIRRORS} channels` }),
        {
          error: (iss) =>
            `expected an object of channel names to lists of channels, got ${describeValue(iss.input)}`,
        },
      )
      .optional(),
  })
  .superRefine((n, ctx) => {
    const problem = mirrorsProblem(n.mirrors, n.routes, n.defaultChannel);
    if (!problem) return;
    const path = ['mirrors', problem.channel, ...(problem.index !== undefined ? [problem.index] : [])];
    ctx.addIssue({ code: 'custom', path, input: n.mirrors?.[problem.channel], message: problem.message });
  })
  .prefault({});

/**
 * Routes by OU or account tag read them from AWS Organizations, which only an organization source
 * reaches (docs/alerts.md, "Routing").
 */
export function routesProblem(c: {
  readonly accounts: { readonly source: string };
  readonly notifications: { readonly routes: readonly Route[] };
}): ConfigProblem | undefined {
  const problem = routeSourceProblem(c.notifications.routes, c.accounts.source);
  if (!problem) return undefined;
  const { index, field, message } = problem;
  return {
    path: ['notifications', 'routes', index, field],
    input: c.notifications.routes[index]![field],
    message,
  };
}
