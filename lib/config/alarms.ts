/**
 * Who hears of a failing scanner: `alarms` (`on`, or `none` for alarms without actions),
 * `alarmEmails` (addresses the stack subscribes to its alarm topic, each listed once, case
 * insensitively) and `alarmTopicArn` (an existing SNS topic instead), and the rules between them:
 * no destination with `alarms: "none"`, not both e-mails and a topic. Whether a deployment has
 * someone to notify at all is the stack's check (lib/credwatch-stack.ts).
 */
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import { type ConfigProblem, type ErrorFor, listedOnce } from './messages';

/** `on`: every alarm notifies `alarmEmails` or `alarmTopicArn`; `none`: alarms without actions (not recommended). */
export const ALARM_MODES = ['on', 'none'] as const;

const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
/** A standard SNS topic ARN. */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

const emailError: ErrorFor = (iss) => `expected an e-mail address, got ${describeValue(iss.input)}`;

const topicArnError: ErrorFor = (iss) =>
  `expected an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:TOPIC-NAME), got ${describeValue(iss.input)}`;

/** `alarmEmails`: e-mail addresses, none listed twice (whatever its case). */
export const alarmEmailsSchema = z
  .array(z.string({ error: emailError }).regex(EMAIL, { error: emailError }), {
    error: (iss) => `expected an array of e-mail addresses, got ${describeValue(iss.input)}`,
  })
  .superRefine(listedOnce((email) => email.toLowerCase()));

/** `alarmTopicArn`: a standard SNS topic ARN. */
export const alarmTopicArnSchema = z
  .string({ error: topicArnError })
  .regex(SNS_TOPIC_ARN, { error: topicArnError });

/** `alarms`: one of {@link ALARM_MODES}. */
export const alarmModeSchema = z.enum(ALARM_MODES);

/**
 * What is wrong between the alarm fields, each valid by itself: a destination with `alarms: "none"`,
 * or `alarmEmails` together with `alarmTopicArn`.
 */
export function alarmDestinationProblem(c: {
  readonly alarms: (typeof ALARM_MODES)[number];
  readonly alarmEmails: readonly string[];
  readonly alarmTopicArn?: string;
}): ConfigProblem | undefined {
  if (c.alarms === 'none') {
    const field = c.alarmEmails.length > 0 ? 'alarmEmails' : c.alarmTopicArn ? 'alarmTopicArn' : undefined;
    if (field) {
      return {
        input: c[field],
        path: [field],
        message: 'not allowed when alarms is "none" (the alarms have no actions)',
      };
    }
  }
  if (c.alarmTopicArn !== undefined && c.alarmEmails.length > 0) {
    return {
      input: c.alarmEmails,
      path: ['alarmEmails'],
      message:
        'not allowed together with alarmTopicArn (the alarms then notify that topic only): subscribe the addresses to it instead',
    };
  }
  return undefined;
}
