/**
 * The Slack channel as a {@link Notifier}: renders changes into Block Kit digest messages
 * (lambda/adapters/slack/message.ts), delivers them in order through the webhook sender, and hands back
 * the changes of each accepted message before the next one starts.
 */

import type { Change } from '../../core/state';
import type { DigestHeading, Notifier, NotifyOptions, NotifyResult } from '../../ports';
import { buildDigestParts } from './message';
import type { SlackSender } from './sender';

export class SlackNotifier implements Notifier {
  constructor(private readonly sender: SlackSender) {}

  async notify(
    changes: readonly Change[],
    heading: DigestHeading,
    options: NotifyOptions,
  ): Promise<NotifyResult> {
    const parts = buildDigestParts(changes, {
      accountId: heading.accountId,
      ...(heading.accountAlias ? { accountAlias: heading.accountAlias } : {}),
      accountNames: heading.accountNames,
      scanTime: heading.scanTime,
    });
    const before = this.sender.uncertain();
    const sent = await this.sender.sendAll(
      parts.map((p) => p.message),
      {
        ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
        afterEach: (index) => options.onDelivered(parts[index]!.changes),
      },
    );
    return {
      messages: parts.length,
      messagesDelivered: sent.delivered,
      ...(sent.error ? { error: sent.error } : {}),
      uncertain: this.sender.uncertain() - before,
    };
  }
}
