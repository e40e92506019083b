/**
 * A Microsoft Teams channel (a Workflows webhook, `{"teamsWorkflow": URL}` in the channels secret)
 * as a {@link Notifier}: the same posts, cap and overflow as a Slack webhook channel, rendered as
 * Adaptive Cards (./card.ts), delivered in order, each card's changes remembered as soon as the
 * workflow took it and before the next one starts.
 */
import type { Post } from '../../core/notification-plan';
import type { DigestHeading, Notifier, NotifyOptions, NotifyResult } from '../../ports';
import { renderTeamsMessages } from './card';
import type { TeamsSender } from './sender';

export class TeamsNotifier implements Notifier {
  constructor(private readonly sender: TeamsSender) {}

  async notify(
    posts: readonly Post[],
    heading: DigestHeading,
    options: NotifyOptions,
  ): Promise<NotifyResult> {
    const cards = renderTeamsMessages(posts, heading, options.maxMessages);
    const before = this.sender.uncertain();
    const sent = await this.sender.sendAll(
      cards.map((c) => c.payload),
      {
        ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
        afterEach: (index) => options.onDelivered(cards[index]!.carries, cards[index]!.announcedIn),
      },
    );
    return {
      messages: cards.length,
      messagesDelivered: sent.delivered,
      ...(sent.error ? { error: sent.error } : {}),
      uncertain: this.sender.uncertain() - before,
    };
  }
}
