/**
 * A Slack channel reached with the app's bot token (`{"slackChannel": "C…"}` in the channels secret)
 * as a {@link Notifier}. The same posts and Block Kit messages as a webhook channel, and three
 * things a webhook cannot do (docs/alerts.md, "Slack app mode"):
 *
 * - **Owners directly**: an owner's list goes to the owner as a direct message (`credwatch:owner` a
 *   member id `U…`/`W…`, or an e-mail found with users.lookupByEmail). An owner Slack does not know
 *   (or a user group) gets the list in the channel instead, once, saying why.
 * - **Threads**: a reminder or resolution of a finding whose message is known (its state's `thread`,
 *   kept in the state table) is a reply in that message's thread, one reply per message, instead of
 *   an entry in the channel's digest; the roll-up still summarizes every reminder.
 * - **Updates**: when a finding is resolved, the message that announced it is updated (chat.update)
 *   with a line saying what has been resolved since. What it said is read from the record written
 *   when it was posted (MessageRecords), never from the channel's history.
 *
 * Every message counts against the run's cap; the overflow summary goes to the channel. A message
 * is remembered (onDelivered) as soon as Slack took it, before the next one starts. A record or an
 * update that fails is a warning: the announcement itself was made.
 */

import type { Post } from '../../core/notification-plan';
import type { Change, PostedMessage } from '../../core/state';
import type { DigestHeading, MessageRecords, Notifier, NotifyOptions, NotifyResult } from '../../ports';
import {
  buildDigestParts,
  type ContextBlock,
  type DigestContext,
  type SlackMessage,
  shortLabel,
} from './message';
import { capRendered, digestContext, type RenderedMessage, renderUncapped } from './notifier';

/** What the notifier needs of the Slack Web API (lambda/adapters/slack/web-api.ts). */
export interface SlackAppApi {
  postMessage(
    conversation: string,
    message: { readonly text: string; readonly blocks?: readonly unknown[] },
    threadTs?: string,
  ): Promise<{ readonly conversation: string; readonly ts: string }>;
  updateMessage(
    conversation: string,
    ts: string,
    message: { readonly text: string; readonly blocks?: readonly unknown[] },
  ): Promise<void>;
  openDirect(userId: string): Promise<string>;
  lookupUserByEmail(email: string): Promise<string | undefined>;
  /** Posts so far whose answer was lost and that were retried (they may show twice). */
  uncertain?(): number;
  /** No call may outlast this epoch ms (each call's budget is cut to it); undefined: no deadline. */
  setDeadline?(deadline: number | undefined): void;
}

/** A message of a channel of the app, and where it goes. */
export type AppMessage = RenderedMessage &
  (
    | { readonly to: 'channel' }
    | { readonly to: 'thread'; readonly parent: PostedMessage }
    | { readonly to: 'owner'; readonly owner: string }
  );

/** A Slack member id (`U…`, `W…`): an owner who can be messaged directly without a lookup. */
const MEMBER_ID = /^[UW][A-Z0-9]{2,40}$/;
const EMAIL = /^[^\s@<>|]{1,64}@[^\s@<>|]{1,255}$/;

/** A reminder or resolution of a finding whose message in `conversation` is known: a reply in its thread. */
export function threadOf(c: Change, conversation: string): PostedMessage | undefined {
  if (c.kind !== 'reminder' && c.kind !== 'resolved') return undefined;
  const thread = c.previous?.status === 'open' ? c.previous.thread : undefined;
  return thread?.conversation === conversation ? thread : undefined;
}

/**
 * The messages of a channel of the app for `posts`, in sending order and capped: the baseline
 * summary, the channel's digest (without the threaded changes), the roll-up, the owners' lists
 * (direct when `directMessages`), then one reply per known message for its threaded changes. Pure.
 */
export function planAppMessages(
  posts: readonly Post[],
  ctx: DigestContext,
  conversation: string,
  directMessages: boolean,
  maxMessages = Number.POSITIVE_INFINITY,
): AppMessage[] {
  const threads = new Map<string, { parent: PostedMessage; changes: Change[] }>();
  const isThreaded = (c: Change) => {
    const parent = threadOf(c, conversation);
    if (!parent) return false;
    const group = threads.get(parent.ts) ?? { parent, changes: [] };
    if (!group.changes.includes(c)) group.changes.push(c);
    threads.set(parent.ts, group);
    return true;
  };
  const before: Post[] = [];
  const after: Post[] = [];
  for (const post of posts) {
    if (post.kind === 'digest') {
      const rest = post.carries.filter((c) => !isThreaded(c));
      if (rest.length > 0) before.push({ kind: 'digest', carries: rest });
    } else if (post.kind === 'summary' && post.summary.reason === 'baseline') {
      before.push(post);
    } else {
      after.push(post);
    }
  }
  // The roll-up and the owners' lists still show every reminder; a threaded one is carried by its
  // reply (one message remembers each change).
  const rendered = (list: readonly Post[]) => renderUncapped(list, ctx);
  const afterRendered = rendered(after).map((m): AppMessage => {
    const carries = m.carries.filter((c) => !isThreaded(c));
    return m.owner !== undefined && directMessages
      ? { ...m, carries, to: 'owner', owner: m.owner }
      : { ...m, carries, to: 'channel' };
  });
  const replies = [...threads.values()].flatMap(({ parent, changes }) =>
    buildDigestParts(changes, ctx).map(
      (p): AppMessage => ({ message: p.message, carries: p.changes, to: 'thread', parent }),
    ),
  );
  // The roll-up and the owners' lists before the replies: under the cap, a reply (whose reminder the
  // roll-up already counts) is what folds into the overflow, never the roll-up or an owner's list.
  const all: AppMessage[] = [
    ...rendered(before).map((m): AppMessage => ({ ...m, to: 'channel' })),
    ...afterRendered,
    ...replies,
  ];
  return capRendered(all, maxMessages, ctx).map((m) =>
    'to' in m ? (m as AppMessage) : { ...m, to: 'channel' },
  );
}

/** The record of a posted message: what it said, and what of it was resolved since. */
export interface MessageRecord {
  readonly v: 1;
  readonly message: SlackMessage;
  readonly resolved: readonly { readonly label: string; readonly at: string }[];
}

/** A stored record, checked (stored state is input); undefined when it is not one. */
export function decodeRecord(body: string): MessageRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const r = value as Partial<MessageRecord> | null;
  if (r === null || typeof r !== 'object' || r.v !== 1) return undefined;
  if (typeof r.message?.text !== 'string' || !Array.isArray(r.message.blocks)) return undefined;
  if (
    !Array.isArray(r.resolved) ||
    !r.resolved.every((x) => typeof x?.label === 'string' && typeof x?.at === 'string')
  )
    return undefined;
  return r as MessageRecord;
}

/** Most lines of "resolved since" an updated message lists before it says how many more. */
const RESOLVED_LINES = 20;
/** A context element's text is at most 3,000 characters (Block Kit); this leaves room to spare. */
const RESOLVED_TEXT_MAX = 2_000;

/**
 * The message as posted, with what was resolved since: a context element after its first context
 * block's (or a context block after the header), and the count in the notification text. Pure.
 */
export function withResolved(record: MessageRecord): SlackMessage {
  const n = record.resolved.length;
  const lines = record.resolved.slice(0, RESOLVED_LINES).map((r) => `${r.label} (${r.at.slice(0, 10)})`);
  let text = `:white_check_mark: *Resolved since:* ${lines.join(' · ')}${n > RESOLVED_LINES ? ` · and ${n - RESOLVED_LINES} more` : ''}`;
  if (text.length > RESOLVED_TEXT_MAX) text = `${text.slice(0, RESOLVED_TEXT_MAX - 1)}…`;
  const element = { type: 'mrkdwn' as const, text };
  const blocks = [...record.message.blocks];
  const at = blocks.findIndex((b) => b.type === 'context');
  if (at >= 0) {
    const context = blocks[at] as ContextBlock;
    blocks[at] = { ...context, elements: [...context.elements.slice(0, 9), element] };
  } else {
    blocks.splice(1, 0, { type: 'context', elements: [element] });
  }
  const suffix = ` (${n} resolved since)`;
  return { text: `${record.message.text.replace(/ \(\d+ resolved since\)$/, '')}${suffix}`, blocks };
}

export interface SlackAppNotifierProps {
  readonly api: SlackAppApi;
  /** The channel's conversation id (`C…`, `G…`). */
  readonly conversation: string;
  /** Owners' lists as direct messages. @default true */
  readonly directMessages?: boolean;
  /** Where posted messages are recorded, so a resolution can update them. */
  readonly records: MessageRecords;
  /** The time records and resolved lines carry. @default the scan time of each notify */
  readonly now?: Date;
  /** Called with each warning (a record or update that failed, an owner not found). */
  readonly onWarning?: (warning: string) => void;
}

export class SlackAppNotifier implements Notifier {
  private readonly owners = new Map<string, string | undefined>();
  /** The time of the notify in progress (records and resolved lines). */
  private now = new Date(0);
  /** Epoch ms after which nothing more is started (the invocation's time is running out). */
  private deadline: number | undefined;

  constructor(private readonly props: SlackAppNotifierProps) {}

  async notify(
    posts: readonly Post[],
    heading: DigestHeading,
    options: NotifyOptions,
  ): Promise<NotifyResult> {
    const { conversation } = this.props;
    this.now = this.props.now ?? heading.scanTime;
    this.deadline = options.deadline;
    this.props.api.setDeadline?.(options.deadline);
    const messages = planAppMessages(
      posts,
      digestContext(heading),
      conversation,
      this.props.directMessages ?? true,
      options.maxMessages,
    );
    let delivered = 0;
    const before = this.props.api.uncertain?.() ?? 0;
    const uncertain = () => (this.props.api.uncertain?.() ?? 0) - before;
    for (const m of messages) {
      if (options.deadline !== undefined && Date.now() >= options.deadline) {
        return {
          messages: messages.length,
          messagesDelivered: delivered,
          error: new Error(`out of time after ${delivered} of ${messages.length} messages`),
          uncertain: uncertain(),
        };
      }
      let posted: PostedMessage;
      try {
        posted = await this.post(m);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        return { messages: messages.length, messagesDelivered: delivered, error, uncertain: uncertain() };
      }
      delivered++;
      const opens =
        m.to === 'channel' &&
        m.announcedIn === undefined &&
        m.carries.some((c) => c.kind === 'opened' || c.kind === 'escalated');
      if (opens) await this.record(posted, { v: 1, message: m.message, resolved: [] });
      await options.onDelivered(m.carries, m.announcedIn, m.to === 'channel' ? posted : undefined);
      if (m.to === 'thread') {
        const resolved = m.carries.filter((c) => c.kind === 'resolved');
        if (resolved.length > 0) await this.update(m.parent, resolved);
      }
    }
    return { messages: messages.length, messagesDelivered: delivered, uncertain: uncertain() };
  }

  /** Posts one message where it goes; an owner Slack cannot reach gets it in the channel. */
  private async post(m: AppMessage): Promise<PostedMessage> {
    const { api, conversation } = this.props;
    if (m.to === 'thread') {
      try {
        return await api.postMessage(conversation, m.message, m.parent.ts);
      } catch (err) {
        // The announcing message is gone (deleted in Slack): the reply goes to the channel instead.
        if (!isPermanent(err) || !THREAD_GONE.has(codeOf(err))) throw err;
        this.warn(
          `the thread of message ${m.parent.ts} cannot be replied to (${codeOf(err)}): posted in the channel`,
        );
        this.checkDeadline();
        return api.postMessage(conversation, m.message);
      }
    }
    if (m.to === 'owner') {
      const user = await this.userOf(m.owner);
      if (user !== undefined) {
        try {
          this.checkDeadline();
          const direct = await api.openDirect(user);
          this.checkDeadline();
          return await api.postMessage(direct, m.message);
        } catch (err) {
          if (!isPermanent(err)) throw err;
          this.warn(
            `owner ${describeOwner(m.owner)} could not be messaged directly (${codeOf(err)}): their list goes to the channel`,
          );
        }
      }
      const why =
        user !== undefined
          ? 'a direct message could not be sent'
          : /^S[A-Z0-9]{2,40}$/.test(m.owner.trim())
            ? `${describeOwner(m.owner)} is a user group, which credwatch cannot message directly`
            : `credwatch could not find ${describeOwner(m.owner)} in Slack`;
      this.checkDeadline();
      return api.postMessage(conversation, withReason(m.message, `${why}, so it is posted here`));
    }
    return api.postMessage(conversation, m.message);
  }

  /** The member id of an owner, once per run: as given, or by e-mail; undefined when Slack has none. */
  private async userOf(owner: string): Promise<string | undefined> {
    const o = owner.trim();
    if (MEMBER_ID.test(o)) return o;
    if (!EMAIL.test(o)) {
      this.warn(
        `owner ${describeOwner(owner)} is neither a Slack member id nor an e-mail: their list goes to the channel`,
      );
      return undefined;
    }
    if (this.owners.has(o)) return this.owners.get(o);
    let user: string | undefined;
    try {
      user = await this.props.api.lookupUserByEmail(o);
    } catch (err) {
      // A refusal no retry helps (missing_scope: users:read.email left out) is the same as not
      // found, for this run: the list goes to the channel, and the channel is not failed for it.
      if (!isPermanent(err)) throw err;
      this.owners.set(o, undefined);
      this.warn(
        `owner ${describeOwner(owner)} could not be looked up (${codeOf(err)}): their list goes to the channel`,
      );
      return undefined;
    }
    this.owners.set(o, user);
    if (user === undefined)
      this.warn(
        `no Slack user has the e-mail of owner ${describeOwner(owner)}: their list goes to the channel`,
      );
    return user;
  }

  private async record(posted: PostedMessage, record: MessageRecord): Promise<void> {
    try {
      await this.props.records.putMessage(posted, JSON.stringify(record), this.now);
    } catch (err) {
      this.warn(
        `message ${posted.ts} was posted but not recorded, so it will not be updated when its findings are resolved: ${(err as Error).message}`,
      );
    }
  }

  /** Throws when the run's time is up: no further call is started. */
  private checkDeadline(): void {
    if (this.deadline !== undefined && Date.now() >= this.deadline) {
      throw new Error('out of time for this run: the next scan sends the rest');
    }
  }

  /** Updates the message that announced `resolved` (their thread's parent) with what was resolved. */
  private async update(parent: PostedMessage, resolved: readonly Change[]): Promise<void> {
    if (this.deadline !== undefined && Date.now() >= this.deadline) {
      this.warn(
        `message ${parent.ts} was not updated with its resolutions: out of time (they are in its thread)`,
      );
      return;
    }
    try {
      const body = await this.props.records.getMessage(parent);
      const record = body === undefined ? undefined : decodeRecord(body);
      if (record === undefined) {
        this.warn(
          `message ${parent.ts} has ${body === undefined ? 'no record' : 'a record that does not decode'}: it is not updated (the resolution is in its thread)`,
        );
        return;
      }
      const at = this.now.toISOString();
      const next: MessageRecord = {
        ...record,
        resolved: [...record.resolved, ...resolved.map((c) => ({ label: shortLabel(c.finding), at }))],
      };
      await this.props.api.updateMessage(parent.conversation, parent.ts, withResolved(next));
      await this.props.records.putMessage(parent, JSON.stringify(next), this.now);
    } catch (err) {
      this.warn(
        `message ${parent.ts} could not be updated with its resolutions (they are in its thread): ${(err as Error).message}`,
      );
    }
  }

  private warn(warning: string): void {
    this.props.onWarning?.(warning);
  }
}

/**
 * The message with a line saying why it is in the channel: in its notification text and as a last
 * context block (or an element of the last one when the message has Block Kit's 50 blocks).
 */
export function withReason(message: SlackMessage, reason: string): SlackMessage {
  const element = { type: 'mrkdwn' as const, text: `:information_source: ${reason}.` };
  const blocks = [...message.blocks];
  const last = blocks.at(-1);
  if (blocks.length >= 50 && last?.type === 'context' && last.elements.length < 10) {
    blocks[blocks.length - 1] = { ...last, elements: [...last.elements, element] };
  } else if (blocks.length < 50) {
    blocks.push({ type: 'context', elements: [element] });
  }
  return { text: `${message.text} (${reason})`, blocks };
}

/** Answers to a reply whose parent message no longer exists. */
const THREAD_GONE = new Set(['thread_not_found', 'message_not_found', 'invalid_thread_ts']);

const isPermanent = (err: unknown): boolean => (err as { permanent?: unknown })?.permanent === true;
const codeOf = (err: unknown): string =>
  String((err as { slackError?: unknown })?.slackError ?? (err as Error)?.message);
/** An owner as a log may name it: a member id or an e-mail's domain only. */
function describeOwner(owner: string): string {
  const o = owner.trim();
  if (MEMBER_ID.test(o) || /^S[A-Z0-9]{2,40}$/.test(o)) return o;
  const at = o.lastIndexOf('@');
  return at > 0 ? `…@${o.slice(at + 1).slice(0, 100)}` : '(a value that is not shown)';
}
