/**
 * `--format slack`: the Slack messages the scheduled scanner would post for this scan, as Block Kit
 * JSON, without sending anything: the account's first scheduled run (first contact: nothing remembered, as for a report file), with the
 * baseline on (`--baseline`: one summary) or off (every finding, in digests), under the message cap.
 */
import { renderPosts } from '../../lambda/adapters/slack/notifier';
import { DAY_MS } from '../../lambda/core/dates';
import { diff } from '../../lambda/core/diff';
import { DEFAULT_NOTIFICATION_POLICY, planPosts } from '../../lambda/core/notification-plan';
import type { ScanResult } from '../../lambda/scan';

export interface SlackPreviewOptions {
  readonly baseline: boolean;
  readonly maxMessages: number;
}

/** The messages (`{ text, blocks }`, as the webhook receives them), as a JSON array. */
export function renderSlackPreview(result: ScanResult, options: SlackPreviewOptions): string {
  const now = new Date(result.evaluatedAt);
  const changes = diff(result.findings, [], now, { reminderIntervalMs: DAY_MS });
  const policy = {
    ...DEFAULT_NOTIFICATION_POLICY,
    baseline: options.baseline,
    maxMessagesPerRun: options.maxMessages,
  };
  const posts = planPosts(changes, new Set([result.accountId]), policy);
  const messages = renderPosts(
    posts,
    { accountId: result.accountId, accountNames: {}, scanTime: now },
    options.maxMessages,
  );
  return `${JSON.stringify(
    messages.map((m) => m.message),
    null,
    2,
  )}\n`;
}
