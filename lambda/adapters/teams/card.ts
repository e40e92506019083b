/**
 * credwatch's messages as Microsoft Teams Adaptive Cards, for a Workflows webhook ("When a Teams
 * webhook request is received"; the Office 365 connectors are retired).
 *
 * The digest, summaries and owners' lists are rendered once, as Block Kit (lambda/adapters/slack/
 * message.ts, through renderUncapped and the run's cap), and each message is translated here, so
 * that both chats say the same things by the same rules. The translation knows exactly what that
 * renderer emits (header, section and context blocks; Slack mrkdwn with `*bold*`, `_italic_`,
 * `` `code` ``, `<url|label>` links, `<@U…>` / `<!subteam^S…>` owners, and `&amp;` `&lt;` `&gt;`):
 *
 * - a header is a large bold TextBlock; a context a small subtle one; each line of a section its
 *   own TextBlock (Adaptive Card markdown joins single newlines);
 * - bold, italic and links become Adaptive Card markdown (`**bold**`, `_italic_`, `[label](url)`,
 *   the subset Teams supports: learn.microsoft.com, "Format cards in Teams"); code is plain text;
 * - every other character that markdown reads (`\ * [ ] ~` and backquotes anywhere, `_` at a word's
 *   edge; `# > - +` and the dot of `1.` at the start of a line) is backslash-escaped, so a user, tag or account name cannot make a
 *   link or a heading of its own. A name that is itself wrapped in `*…*` or `_…_` at a word's edge
 *   reads as emphasis, exactly as Slack reads it (message.ts escapes only `& < >`);
 * - a Slack owner (`<@U…>`) is shown as its id: Teams has no Slack members; Slack's emoji codes
 *   (`:red_circle:`) are the emoji themselves.
 *
 * A card stays under {@link TEAMS_LIMITS}.cardBytes: a message whose card would be larger is
 * re-rendered from halves of its changes (each a card of its own), and one entry alone too large
 * is cut with a visible mark. Pure.
 */

import type { Post } from '../../core/notification-plan';
import type { Change } from '../../core/state';
import type { SummaryReason } from '../../core/summary';
import type { DigestHeading } from '../../ports';
import {
  type Block,
  buildDigestParts,
  buildOwnerMessage,
  type DigestContext,
  type SlackMessage,
} from '../slack/message';
import { capRendered, digestContext, type RenderedMessage, renderUncapped } from '../slack/notifier';

/** Teams' limits a card stays within. */
export const TEAMS_LIMITS = {
  /**
   * Bytes of the whole request body. Teams refuses messages over about 28 KB, cards included
   * (learn.microsoft.com: the Teams connector's known issues, "Request Entity too large", and the
   * incoming-webhook limits, 28 KB); others measured less in practice (about 21 KB), so credwatch
   * keeps well below: 20,000 bytes.
   */
  cardBytes: 20_000,
  /** Characters of one TextBlock before it is cut (no Teams limit; keeps one entry from filling a card). */
  textBlock: 4_000,
} as const;

/** The Adaptive Card schema version credwatch sends (the highest Teams renders everywhere). */
export const ADAPTIVE_CARD_VERSION = '1.5';

export interface TextBlock {
  readonly type: 'TextBlock';
  readonly text: string;
  readonly wrap: true;
  readonly size?: 'Small' | 'Large';
  readonly weight?: 'Bolder';
  readonly isSubtle?: true;
  readonly spacing?: 'None' | 'Medium';
}

/** What a Workflows webhook receives: a message with one Adaptive Card attachment. */
export interface TeamsPayload {
  readonly type: 'message';
  /** Not shown by Teams in a channel; what credwatch logs and counts. */
  readonly summary: string;
  readonly attachments: readonly [
    {
      readonly contentType: 'application/vnd.microsoft.card.adaptive';
      readonly contentUrl: null;
      readonly content: {
        readonly $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
        readonly type: 'AdaptiveCard';
        readonly version: typeof ADAPTIVE_CARD_VERSION;
        readonly msteams: { readonly width: 'Full' };
        readonly fallbackText: string;
        readonly body: readonly TextBlock[];
      };
    },
  ];
}

/** A card ready to send, with what it carries (as {@link RenderedMessage}). */
export interface TeamsMessage {
  readonly payload: TeamsPayload;
  readonly carries: readonly Change[];
  readonly announcedIn?: SummaryReason;
}

/**
 * Markdown's characters in literal text, escaped with a backslash: emphasis and link brackets
 * anywhere; a heading, quote or list marker only where it would start a line.
 */
export function escapeTeamsText(s: string): string {
  return (
    s
      .replace(/[\\`*[\]~]/g, (c) => `\\${c}`)
      // `_` unless between two letters or digits: there (svc_ci_deploy) it makes no emphasis, and
      // some Teams clients would show the backslash.
      .replace(/_/g, (_m, at: number, all: string) =>
        /[A-Za-z0-9]/.test(all[at - 1] ?? '') && /[A-Za-z0-9]/.test(all[at + 1] ?? '') ? '_' : '\\_',
      )
      .replace(/^(\s*)([#>+-])(?=\s|$)/, (_m, space: string, marker: string) => `${space}\\${marker}`)
      .replace(/^(\s*\d+)\.(?=\s|$)/, (_m, number: string) => `${number}\\.`)
  );
}

const decodeEntities = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A URL that cannot close a markdown link early. */
const safeUrl = (url: string) =>
  /^https?:\/\//i.test(url)
    ? url.replace(/[()\s<>[\]\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    : undefined;

/**
 * Slack mrkdwn (as message.ts writes it) as Adaptive Card markdown, one line. Bold and italic as
 * Slack reads them: the marker at a word's edge, not inside one (`svc_ci_deploy` stays as it is).
 */
export function mrkdwnToTeams(line: string): string {
  const out: string[] = [];
  // Angle-bracket constructs first; what is between them is text with emphasis.
  const parts = line.split(/(<[^<>]+>)/);
  for (const part of parts) {
    const link = /^<([^<>|]+)\|([^<>]+)>$/.exec(part);
    const bare = /^<([^<>|]+)>$/.exec(part);
    if (link) {
      const url = safeUrl(link[1]!);
      const label = escapeTeamsText(decodeEntities(link[2]!));
      out.push(url ? `[${label}](${url})` : label);
    } else if (bare) {
      const inner = bare[1]!;
      const owner = /^@([UW][A-Z0-9]+)$/.exec(inner) ?? /^!subteam\^([A-Z0-9]+)$/.exec(inner);
      if (owner) out.push(escapeTeamsText(owner[1]!));
      else {
        const url = safeUrl(inner);
        out.push(url ? `[${escapeTeamsText(inner)}](${url})` : escapeTeamsText(decodeEntities(inner)));
      }
    } else {
      out.push(emphasis(part));
    }
  }
  return out.join('');
}

/** Slack's emoji codes that message.ts uses, as the characters Teams shows. */
const EMOJI: Readonly<Record<string, string>> = {
  red_circle: '🔴',
  warning: '⚠️',
  information_source: 'ℹ️',
  white_check_mark: '✅',
};

/** `*bold*`, `_italic_` and `` `code` `` of Slack in literal text; the rest escaped. */
function emphasis(raw: string): string {
  const text = raw.replace(/:([a-z_]+):/g, (code, name: string) => EMOJI[name] ?? code);
  const pattern = /(^|[\s(·•:,])([*_`])([^*_`\n]*?[^\s*_`])\2(?=$|[\s).,:;·!?])/g;
  let out = '';
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    const start = m.index + m[1]!.length;
    out += escapeTeamsText(decodeEntities(text.slice(at, start)));
    const inner = escapeTeamsText(decodeEntities(m[3]!));
    out += m[2] === '*' ? `**${inner}**` : m[2] === '_' ? `_${inner}_` : inner;
    at = m.index + m[0].length;
  }
  return out + escapeTeamsText(decodeEntities(text.slice(at)));
}

const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 8)}… (cut)`);

/** The card of one Block Kit message. */
export function toTeamsPayload(message: SlackMessage): TeamsPayload {
  const body: TextBlock[] = message.blocks.flatMap((block: Block): TextBlock[] => {
    if (block.type === 'header') {
      return [
        {
          type: 'TextBlock',
          text: escapeTeamsText(decodeEntities(block.text.text)),
          wrap: true,
          size: 'Large',
          weight: 'Bolder',
        },
      ];
    }
    if (block.type === 'context') {
      const text = block.elements.map((e) => mrkdwnToTeams(e.text)).join(' · ');
      return [
        {
          type: 'TextBlock',
          text: cut(text, TEAMS_LIMITS.textBlock),
          wrap: true,
          size: 'Small',
          isSubtle: true,
        },
      ];
    }
    const lines = block.text.text.split('\n').filter((l) => l.trim() !== '');
    return lines.map(
      (line, i): TextBlock => ({
        type: 'TextBlock',
        text: cut(mrkdwnToTeams(line.replace(/^\s+/, '')), TEAMS_LIMITS.textBlock),
        wrap: true,
        // A section starts with space above it; its lines follow on tight, indented ones subtle.
        ...(i === 0 ? { spacing: 'Medium' as const } : { spacing: 'None' as const }),
        ...(/^\s/.test(line) ? { isSubtle: true as const } : {}),
      }),
    );
  });
  const fallbackText = decodeEntities(message.text);
  return {
    type: 'message',
    summary: fallbackText,
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: ADAPTIVE_CARD_VERSION,
          msteams: { width: 'Full' },
          fallbackText,
          body,
        },
      },
    ],
  };
}

/** Bytes of a payload as sent. */
export const payloadBytes = (payload: TeamsPayload): number =>
  Buffer.byteLength(JSON.stringify(payload), 'utf8');

/**
 * The cards of one rendered message: one, or (when it would be larger than Teams takes) the cards
 * of halves of its changes, re-rendered the way it was (a digest part or an owner's list). A
 * summary carries counts, not a list: it is cut.
 */
function fitCards(m: RenderedMessage, ctx: DigestContext): TeamsMessage[] {
  const payload = toTeamsPayload(m.message);
  const whole = { payload, carries: m.carries, ...(m.announcedIn ? { announcedIn: m.announcedIn } : {}) };
  if (payloadBytes(payload) <= TEAMS_LIMITS.cardBytes) return [whole];
  const rerender = (changes: readonly Change[]): RenderedMessage[] =>
    m.owner !== undefined
      ? [{ ...m, message: buildOwnerMessage(m.owner, changes, ctx), carries: changes }]
      : buildDigestParts(changes, ctx).map((p) => ({ ...m, message: p.message, carries: p.changes }));
  if (m.carries.length > 1 && (m.owner !== undefined || m.announcedIn === undefined)) {
    const half = Math.ceil(m.carries.length / 2);
    return [m.carries.slice(0, half), m.carries.slice(half)].flatMap((changes) =>
      rerender(changes).flatMap((part) => fitCards(part, ctx)),
    );
  }
  return [{ ...whole, payload: shrink(payload) }];
}

/** The card with its longest blocks cut until it fits, the cut visible. */
function shrink(payload: TeamsPayload): TeamsPayload {
  const content = payload.attachments[0].content;
  let body = [...content.body];
  let max: number = TEAMS_LIMITS.textBlock;
  const sized = () =>
    payloadBytes({ ...payload, attachments: [{ ...payload.attachments[0], content: { ...content, body } }] });
  while (sized() > TEAMS_LIMITS.cardBytes && max > 100) {
    max = Math.floor(max / 2);
    body = body.map((b) => ({ ...b, text: cut(b.text, max) }));
  }
  while (sized() > TEAMS_LIMITS.cardBytes && body.length > 2) body = body.slice(0, -1);
  return { ...payload, attachments: [{ ...payload.attachments[0], content: { ...content, body } }] };
}

/**
 * The cards a Teams channel posts for `posts`, in order, with the run's cap applied as for Slack
 * (beyond `maxMessages`, one overflow summary carries the rest). Pure.
 */
export function renderTeamsMessages(
  posts: readonly Post[],
  heading: DigestHeading,
  maxMessages = Number.POSITIVE_INFINITY,
): TeamsMessage[] {
  const ctx = digestContext(heading);
  // Split first (a card holds less than a Slack message), then cap: every card counts.
  const cards = renderUncapped(posts, ctx).flatMap((m) =>
    fitCards(m, ctx).map((card): RenderedMessage & { card: TeamsPayload } => ({
      message: m.message,
      carries: card.carries,
      ...(card.announcedIn ? { announcedIn: card.announcedIn } : {}),
      ...(m.owner !== undefined ? { owner: m.owner } : {}),
      card: card.payload,
    })),
  );
  return capRendered(cards, maxMessages, ctx).map((m) => ({
    payload: 'card' in m ? (m as { card: TeamsPayload }).card : toTeamsPayload(m.message),
    carries: m.carries,
    ...(m.announcedIn ? { announcedIn: m.announcedIn } : {}),
  }));
}
