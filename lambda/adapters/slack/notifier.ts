/**
 * The Slack channel as a {@link Notifier}: renders the posts of a run (digest, summaries, owners'
 * lists; lambda/adapters/slack/message.ts) into Block Kit messages, applies the run's message cap
 * (lambda/core/notification-plan.ts `capMessages`: the messages beyond it become one overflow
 * summary), delivers them in order through the webhook sender, and hands back the changes of each
 * accepted message before the next one starts.
 */

import { isEnforcementRule } from '../../core/enforcement';
import { capMessages, type Post } from '../../core/notification-plan';
import type { Change } from '../../core/state';
import { type SummaryReason, summarize } from '../../core/summary';
import type { DigestHeading, Notifier, NotifyOptions, NotifyResult } from '../../ports';
import {
  buildDigestParts,
  buildOwnerMessage,
  buildSummaryMessage,
  type DigestContext,
  type SlackMessage,
} from './message';
import type { SlackSender } from './sender';

/** A message ready to send, with what it carries. */
export interface RenderedMessage {
  readonly message: SlackMessage;
  readonly carries: readonly Change[];
  readonly announcedIn?: SummaryReason;
  /** Set for an owner's list. */
  readonly owner?: string;
}

/** What a channel's messages are headed with. */
export function digestContext(heading: DigestHeading): DigestContext {
  return {
    accountId: heading.accountId,
    ...(heading.accountAlias ? { accountAlias: heading.accountAlias } : {}),
    accountNames: heading.accountNames,
    scanTime: heading.scanTime,
  };
}

/** Each post as the messages it takes (a digest as many as Slack's limits need), before the cap. Pure. */
export function renderUncapped(posts: readonly Post[], ctx: DigestContext): RenderedMessage[] {
  return posts.flatMap((post): RenderedMessage[] => {
    if (post.kind === 'digest') {
      return buildDigestParts(post.carries, ctx).map((p) => ({ message: p.message, carries: p.changes }));
    }
    if (post.kind === 'summary') {
      return [
        {
          message: buildSummaryMessage(post.summary, ctx),
          carries: post.carries,
          announcedIn: post.summary.reason,
        },
      ];
    }
    return [
      {
        message: buildOwnerMessage(post.owner, post.carries, ctx),
        carries: post.carries,
        announcedIn: 'roll-up',
        owner: post.owner,
      },
    ];
  });
}

/**
 * The run's message cap on rendered messages: beyond `maxMessages`, the first cap − 1 are kept and
 * the rest become one overflow summary carrying their changes (appended last). Pure.
 */
export function capRendered<M extends RenderedMessage>(
  all: readonly M[],
  maxMessages: number,
  ctx: DigestContext,
): (M | RenderedMessage)[] {
  const { kept, folded } = capMessages(all, maxMessages);
  if (folded.length === 0) return [...kept];
  // An enforcement notice or action is never folded into the overflow: a summary is nobody's final
  // notice. It stays unsaid (no state), so the next run announces it in its own entry.
  const foldedChanges = folded.flatMap((m) => m.carries);
  const overflow = foldedChanges.filter((c) => !isEnforcementRule(c.finding.rule));
  const heldBack = foldedChanges.length - overflow.length;
  const ownersNotMessaged = folded.flatMap((m) => (m.owner ? [m.owner] : []));
  return [
    ...kept,
    {
      message: buildSummaryMessage(summarize('overflow', overflow), ctx, {
        cap: maxMessages,
        ownersNotMessaged,
        ...(heldBack > 0 ? { heldBack } : {}),
      }),
      carries: overflow,
      announcedIn: 'overflow',
    },
  ];
}

/**
 * The messages a channel posts for `posts`, cap applied: what the notifier sends, and what a dry run
 * prints. Pure.
 */
export function renderPosts(
  posts: readonly Post[],
  heading: DigestHeading,
  maxMessages = Number.POSITIVE_INFINITY,
): RenderedMessage[] {
  const ctx = digestContext(heading);
  return capRendered(renderUncapped(posts, ctx), maxMessages, ctx);
}

export class SlackNotifier implements Notifier {
  constructor(private readonly sender: SlackSender) {}

  async notify(
    posts: readonly Post[],
    heading: DigestHeading,
    options: NotifyOptions,
  ): Promise<NotifyResult> {
    const messages = renderPosts(posts, heading, options.maxMessages);
    const before = this.sender.uncertain();
    const sent = await this.sender.sendAll(
      messages.map((m) => m.message),
      {
        ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
        afterEach: (index) => options.onDelivered(messages[index]!.carries, messages[index]!.announcedIn),
      },
    );
    return {
      messages: messages.length,
      messagesDelivered: sent.delivered,
      ...(sent.error ? { error: sent.error } : {}),
      uncertain: this.sender.uncertain() - before,
    };
  }
}
