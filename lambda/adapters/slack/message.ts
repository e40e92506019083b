/**
 * The Slack digest of one scan: Block Kit messages built from the changes of diff(). Pure: the
 * same changes and context give the same messages. Every string that comes from IAM (user names,
 * tags, summaries, the account alias) is escaped (`&`, `<`, `>`), so a user named `<!channel>`
 * cannot ping a channel. Slack's limits are respected by splitting into ordered messages; nothing
 * is dropped. See docs/alerts.md for a rendered example.
 */

import { ACCOUNT_USER } from '../../core/accounts';
import { ROOT_USER } from '../../core/credential-report';
import { isEnforcementRule } from '../../core/enforcement';
import { ConfigError } from '../../core/errors';
import type { Change, ChangeKind } from '../../core/state';
import type { Summary, SummaryItem, SummaryReason } from '../../core/summary';
import { type Finding, type RuleId, SEVERITIES, type Severity } from '../../core/types';

/** A plain-text text object (headers). */
export interface PlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

/** A mrkdwn text object (sections, context). */
export interface Mrkdwn {
  readonly type: 'mrkdwn';
  readonly text: string;
}

export interface HeaderBlock {
  readonly type: 'header';
  readonly text: PlainText;
}

export interface SectionBlock {
  readonly type: 'section';
  readonly text: Mrkdwn;
}

export interface ContextBlock {
  readonly type: 'context';
  readonly elements: readonly Mrkdwn[];
}

/** The Block Kit blocks a digest uses. */
export type Block = HeaderBlock | SectionBlock | ContextBlock;

export interface SlackMessage {
  /** Plain fallback summarising the counts; what notifications show. */
  readonly text: string;
  readonly blocks: readonly Block[];
}

export interface DigestContext {
  readonly accountId: string;
  /** The IAM account alias, shown before the id when set. */
  readonly accountAlias?: string;
  /** Multi-account digests: the name (Organizations name or alias) of each account, by id. */
  readonly accountNames?: Readonly<Record<string, string>>;
  readonly scanTime: Date;
  /** Partition for console links: `aws`, `aws-us-gov` or `aws-cn`. @default 'aws' */
  readonly consoleDomain?: string;
}

/** The Slack limits a digest stays within. */
export const SLACK_LIMITS = {
  /** Blocks in one message (Block Kit). */
  blocksPerMessage: 50,
  /** Characters of a section's text (Block Kit). */
  sectionText: 3000,
  /** Characters of a header's text (Block Kit). */
  headerText: 150,
  /**
   * Characters of `JSON.stringify(blocks)` in one message. Slack rejects a message whose blocks hold
   * about 13,200 characters of text (`msg_blocks_too_long`, slackapi/bolt-js#2509); the JSON is
   * always longer than the text it holds, so this bound leaves a margin.
   */
  messageChars: 12_000,
} as const;

/** IAM console base URLs by partition. */
export const CONSOLE_BASE_URLS: Readonly<Record<string, string>> = {
  aws: 'https://us-east-1.console.aws.amazon.com/iam/home',
  'aws-us-gov': 'https://console.amazonaws-us-gov.com/iam/home',
  'aws-cn': 'https://console.amazonaws.cn/iam/home',
};

/** Escapes Slack's control characters: `&` -> `&amp;`, `<` -> `&lt;`, `>` -> `&gt;`. */
export function escapeSlackText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The Slack messages announcing `changes`, in order; `[]` when there are none. Sections by severity
 * (critical, warning, then info should one be passed), then `Resolved`; within a section the order
 * of `changes` is kept. When the digest exceeds Slack's limits it is split into several messages,
 * each headed `(i/n)`.
 * @throws ConfigError when `ctx.consoleDomain` is not a known partition.
 */
export function buildDigest(changes: readonly Change[], ctx: DigestContext): SlackMessage[] {
  return buildDigestParts(changes, ctx).map((p) => p.message);
}

/** One message of a digest and the changes it announces (so delivery can be remembered per message). */
export interface DigestPart {
  readonly message: SlackMessage;
  readonly changes: readonly Change[];
}

/** {@link buildDigest}, with the changes each message carries. */
export function buildDigestParts(changes: readonly Change[], ctx: DigestContext): DigestPart[] {
  if (changes.length === 0) return [];
  const consoleBase = consoleBaseOf(ctx);

  // Several accounts: a section group per account (by id), each headed with the account's name.
  const accountIds = [...new Set(changes.map((c) => c.finding.accountId))].sort();
  const multi = accountIds.length > 1;
  const perAccount: readonly Group[] = multi
    ? accountIds.flatMap((id) => {
        const label = escapeSlackText(
          oneLine(accountName(accountParts({ ...ctx, accountId: id, accountAlias: ctx.accountNames?.[id] }))),
        );
        return GROUPS.map((g) => ({
          heading: `*${label}* · ${g.heading}`,
          has: (c: Change) => c.finding.accountId === id && g.has(c),
        }));
      })
    : GROUPS;
  const groups = perAccount
    .map((g) => ({
      ...g,
      entries: changes.filter(g.has).map((change) => ({ change, text: renderEntry(change, consoleBase) })),
    }))
    .filter((g) => g.entries.length > 0);

  const account = multi ? { alias: '', id: `${accountIds.length} accounts` } : accountParts(ctx);
  const name = accountName(account);
  const counts = countsText(changes);
  const context: ContextBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Scan at ${scanTimeText(ctx.scanTime)} · ${multi ? '' : 'account '}${escapeSlackText(name)}`,
      },
    ],
  };
  // The header's text is at most 150 characters and never needs JSON escaping (see headerText).
  const reserve = jsonLength([header('x'.repeat(SLACK_LIMITS.headerText)), context]);
  const bodies = pack(groups, SLACK_LIMITS.messageChars - reserve, SLACK_LIMITS.blocksPerMessage - 2);

  const severities = severityCounts(changes);
  return bodies.map((body, i) => {
    const part = bodies.length > 1 ? ` (${i + 1}/${bodies.length})` : '';
    return {
      message: {
        text: escapeSlackText(`credwatch ${name}: ${severities}${counts}${part}`),
        blocks: [header(headerText(`credwatch: ${counts} — `, account, part)), context, ...body.blocks],
      },
      changes: body.changes,
    };
  });
}

interface Group {
  readonly heading: string;
  readonly has: (c: Change) => boolean;
}

const severityGroup =
  (severity: Severity) =>
  (c: Change): boolean =>
    c.kind !== 'resolved' && c.finding.severity === severity;

const GROUPS: readonly Group[] = [
  { heading: ':red_circle: *Critical*', has: severityGroup('critical') },
  { heading: ':warning: *Warning*', has: severityGroup('warning') },
  { heading: ':information_source: *Info*', has: severityGroup('info') },
  { heading: ':white_check_mark: *Resolved*', has: (c) => c.kind === 'resolved' },
];

const KIND_COUNT: Record<ChangeKind, (n: number) => string> = {
  opened: (n) => `${n} new`,
  escalated: (n) => `${n} worse`,
  reminder: (n) => `${n} ${n === 1 ? 'reminder' : 'reminders'}`,
  resolved: (n) => `${n} resolved`,
};

function countsText(changes: readonly Change[]): string {
  return (Object.keys(KIND_COUNT) as ChangeKind[])
    .map((kind) => ({ kind, n: changes.filter((c) => c.kind === kind).length }))
    .filter(({ n }) => n > 0)
    .map(({ kind, n }) => KIND_COUNT[kind](n))
    .join(', ');
}

function severityCounts(changes: readonly Change[]): string {
  const open = changes.filter((c) => c.kind !== 'resolved');
  const parts = (['critical', 'warning', 'info'] as const)
    .map((s) => ({ s, n: open.filter((c) => c.finding.severity === s).length }))
    .filter(({ n }) => n > 0)
    .map(({ s, n }) => `${n} ${s}`);
  return parts.length > 0 ? `${parts.join(', ')} — ` : '';
}

/** The alias (clipped) and the id of the account. */
function accountParts(ctx: DigestContext): { readonly alias: string; readonly id: string } {
  return { alias: clip(oneLine(ctx.accountAlias ?? '').trim(), 100), id: clip(oneLine(ctx.accountId), 20) };
}

const accountName = ({ alias, id }: { alias: string; id: string }) => (alias ? `${alias} (${id})` : id);

function scanTimeText(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'unknown time' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function header(text: string): HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text, emoji: true } };
}

/**
 * `prefix + alias (id) + part`, escaped, within 150 characters: only the alias is shortened.
 * Control characters, quotes and backslashes (none can occur in an alias) become `?`, which keeps
 * the JSON of the header exactly as long as its text; the size reserve relies on it.
 */
function headerText(prefix: string, account: { alias: string; id: string }, part: string): string {
  const safe = (s: string) => [...s].map((ch) => (/^[\p{Cc}\p{Cs}"\\]$/u.test(ch) ? '?' : ch));
  const alias = safe(account.alias);
  const id = safe(account.id).join('');
  const render = (a: string) => escapeSlackText(prefix + accountName({ alias: a, id })) + part;
  let keep = alias.length;
  let text = render(alias.join(''));
  while (text.length > SLACK_LIMITS.headerText && keep > 0)
    text = render(`${alias.slice(0, --keep).join('')}…`);
  return text.length <= SLACK_LIMITS.headerText ? text : text.slice(0, SLACK_LIMITS.headerText);
}

/** Raw text clipped to `max` characters (with an ellipsis), before escaping. */
function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Control characters (line breaks, tabs...) as spaces: an IAM string never starts a line of its own. */
const oneLine = (s: string) => s.replace(/\p{Cc}/gu, ' ');

/** `s` on one line, escaped and clipped to `max` characters without cutting an entity in half. */
function escapedClip(s: string, max: number): string {
  const e = escapeSlackText(oneLine(s));
  return e.length <= max ? e : `${e.slice(0, max - 1).replace(/&[a-z]{0,3}$/, '')}…`;
}

const RULE_LABELS: Record<RuleId, string> = {
  'access-key-age': 'key age',
  'access-key-unused': 'key unused',
  'password-unused': 'password unused',
  'password-without-mfa': 'console password without MFA',
  'password-age': 'password age',
  'root-access-key': 'root access key',
  'root-without-mfa': 'root without MFA',
  'root-credentials-removed': 'root credentials removed',
  'root-used': 'root used',
  'root-virtual-mfa': 'root virtual MFA',
  'multiple-active-keys': 'several active keys',
  'exemption-expired': 'exemption expired',
  'exemption-granted': 'exemption granted',
  'account-scan-failed': 'account not scanned',
  'access-key-final-notice': 'final notice',
  'access-key-deactivated': 'key deactivated',
  'access-key-deactivation-planned': 'deactivation planned (dry run)',
  'access-key-would-deactivate': 'would deactivate (dry run)',
};

const UNUSED_RULES: ReadonlySet<RuleId> = new Set(['access-key-unused', 'password-unused']);

const isRoot = (f: Pick<Finding, 'user' | 'arn'>) => f.user === ROOT_USER || f.arn.endsWith(':root');

const day = (iso: string) => (/^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : escapedClip(iso, 40));

/** `<@U…>` for a member, `<!subteam^S…>` for a user group, the escaped text otherwise (an e-mail). */
export function ownerMention(owner: string): string {
  const o = owner.trim();
  if (/^[UW][A-Z0-9]{2,40}$/.test(o)) return `<@${o}>`;
  if (/^S[A-Z0-9]{2,40}$/.test(o)) return `<!subteam^${o}>`;
  return escapedClip(o, 200);
}

/** A link to the user in the IAM console (root: the account's security credentials page). */
export function consoleLink(
  finding: Pick<Finding, 'user' | 'accountId' | 'arn'>,
  consoleBase: string,
): string {
  if (finding.user === ACCOUNT_USER)
    return `<${consoleBase}#/home|account ${escapedClip(finding.accountId, 20)}>`;
  if (isRoot(finding)) return `<${consoleBase}#/security_credentials|root user>`;
  const url = `${consoleBase}#/users/details/${encodeURIComponent(clip(finding.user, 128))}`;
  return `<${url}|${escapedClip(finding.user, 200)}>`;
}

function kindText(c: Change): string {
  switch (c.kind) {
    case 'opened':
      return '*New*';
    case 'escalated':
      return `*Worse* (was ${c.previous?.notifiedSeverity ?? 'lower'})`;
    case 'reminder':
      return c.previous ? `*Reminder* (open since ${day(c.previous.firstSeen)})` : '*Reminder*';
    case 'resolved':
      return `*Resolved* (was ${c.finding.severity}${c.previous ? `, open since ${day(c.previous.firstSeen)}` : ''})`;
  }
}

/**
 * One finding's entry in a section: a bullet line of facts, then (unless resolved) the summary on
 * an indented line. Always well under 3000 characters: every IAM-supplied part is clipped.
 */
export function renderEntry(c: Change, consoleBase: string): string {
  const f = c.finding;
  const facts = [kindText(c), consoleLink(f, consoleBase), RULE_LABELS[f.rule] ?? escapedClip(f.rule, 40)];
  if (f.accessKeyId) facts.push(`key \`${escapedClip(f.accessKeyId, 100)}\``);
  else if (/^key-\d{4}-\d{2}-\d{2}T/.test(f.credential))
    facts.push(`key created ${f.credential.slice(4, 14)}`);
  else if (/^access-key-\d$/.test(f.credential)) facts.push(`key slot ${f.credential.slice(-1)}`);
  // A resolved finding needs nothing from anyone: no stale figures, no mention, no call to action.
  if (c.kind === 'resolved') return `• ${facts.join(' · ')}`;
  // An enforcement entry's summary states its figures (old or unused, the deactivation age, the day).
  const enforcement = isEnforcementRule(f.rule);
  if (f.days !== undefined && !enforcement)
    facts.push(`${f.days} days ${UNUSED_RULES.has(f.rule) ? 'unused' : 'old'}`);
  if (f.thresholdDays !== undefined && !enforcement) facts.push(`${f.severity} at ${f.thresholdDays} days`);
  if (f.lastUsed === null) facts.push('never used');
  else if (f.lastUsed) {
    const where = [f.lastUsed.service, f.lastUsed.region].filter((s): s is string => !!s);
    facts.push(
      `last used ${day(f.lastUsed.date)}${where.length > 0 ? ` (${escapedClip(where.join(', '), 100)})` : ''}`,
    );
  }
  if (f.owner) facts.push(`owner ${ownerMention(f.owner)}`);
  if (f.unconfirmed) facts.push('_from the credential report, not confirmed live_');
  return `• ${facts.join(' · ')}\n      ${escapedClip(f.summary, 1500)}`;
}

/** Length of `JSON.stringify(value)`: what a block adds to a message's size. */
const jsonLength = (value: unknown) => JSON.stringify(value).length;

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** JSON length of an empty section block and the comma before it; a text adds its own JSON length. */
const SECTION_JSON = jsonLength(section('')) + ','.length;

interface Entry {
  readonly change: Change;
  readonly text: string;
  /** JSON length of the text without the quotes. */
  readonly json: number;
}

/**
 * Packs the groups into message bodies: a heading section for each group (repeated, marked
 * "continued", in the next message), then as many entries per section as fit in 3000 characters,
 * and as many sections per message as fit in the block and character budgets.
 */
function pack(
  groups: readonly (Group & { readonly entries: readonly Omit<Entry, 'json'>[] })[],
  charBudget: number,
  blockBudget: number,
): { blocks: SectionBlock[]; changes: Change[] }[] {
  const bodies: { blocks: SectionBlock[]; changes: Change[] }[] = [];
  let body: SectionBlock[] = [];
  let carried: Change[] = [];
  let size = 0;
  const room = (blocks: number, json: number) =>
    body.length + blocks <= blockBudget && size + json <= charBudget;
  const push = (text: string, json: number) => {
    body.push(section(text));
    size += SECTION_JSON + json;
  };
  const flush = () => {
    if (body.length > 0) bodies.push({ blocks: body, changes: carried });
    body = [];
    carried = [];
    size = 0;
  };

  for (const group of groups) {
    const entries: Entry[] = group.entries.map((e) => ({ ...e, json: jsonLength(e.text) - 2 }));
    const heading = (continued: boolean) => {
      const text = `${group.heading} (${entries.length}${continued ? ', continued' : ''})`;
      return { text, json: jsonLength(text) - 2 };
    };
    let i = 0;
    let continuing = false;
    while (i < entries.length) {
      const first = entries[i]!;
      const h = heading(i > 0);
      if (!continuing) {
        if (!room(2, 2 * SECTION_JSON + h.json + first.json)) flush();
        push(h.text, h.json);
      }
      let text = first.text;
      let json = first.json;
      carried.push(first.change);
      i++;
      for (; i < entries.length; i++) {
        const next = entries[i]!;
        const longer = text.length + 1 + next.text.length;
        if (longer > SLACK_LIMITS.sectionText || !room(1, SECTION_JSON + json + 2 + next.json)) break;
        text = `${text}\n${next.text}`;
        json += 2 + next.json; // "\n" is two characters in JSON
        carried.push(next.change);
      }
      push(text, json);
      // Carry on in this message without a new heading if the next entry still fits here.
      const after = entries[i];
      continuing = after !== undefined && room(1, SECTION_JSON + after.json);
      if (!continuing && after !== undefined) flush();
    }
  }
  flush();
  return bodies;
}

/** The command that lists every finding, which summaries point to (docs/cli.md). */
export const FULL_LIST_COMMAND = 'npm run -s scan -- --format html --output credwatch.html';

const SUMMARY_TITLE: Record<SummaryReason, (s: Summary) => string> = {
  baseline: (s) => `${s.total} ${s.total === 1 ? 'finding' : 'findings'} on first scan`,
  'roll-up': (s) => `${s.total} still open`,
  overflow: (s) =>
    s.total > 0 ? `${s.total} more ${s.total === 1 ? 'change' : 'changes'}` : 'owner lists not posted',
};

const SEVERITY_ICON: Record<Severity, string> = {
  critical: ':red_circle:',
  warning: ':warning:',
  info: ':information_source:',
};

/** Where the summarized message is posted, for the overflow text. */
export interface OverflowContext {
  /** The run's message cap. */
  readonly cap: number;
  /** Owners whose list was not posted because of the cap. */
  readonly ownersNotMessaged: readonly string[];
  /** Enforcement entries (final notices, deactivations) beyond the cap: never summarized, said next run. */
  readonly heldBack?: number;
}

/** One line of a summary's list: who, which credential, how old, whose. */
function summaryItem(i: SummaryItem, consoleBase: string, multi: boolean): string {
  const f = { accountId: i.accountId, user: i.user, arn: '' };
  const facts = [`${SEVERITY_ICON[i.severity]} ${consoleLink(f, consoleBase)}`, RULE_LABELS[i.rule]];
  if (multi) facts.push(`account ${escapedClip(i.accountId, 20)}`);
  if (/^key-\d{4}-\d{2}-\d{2}T/.test(i.credential)) facts.push(`key created ${i.credential.slice(4, 14)}`);
  if (i.days !== undefined) facts.push(`${i.days} days ${UNUSED_RULES.has(i.rule) ? 'unused' : 'old'}`);
  if (i.firstSeen) facts.push(`open since ${day(i.firstSeen)}`);
  if (i.owner) facts.push(`owner ${ownerMention(i.owner)}`);
  return `• ${facts.join(' · ')}`;
}

/**
 * One message standing for many changes: a baseline, a roll-up of reminders, or the overflow beyond
 * the run's message cap. Always one message within Slack's limits: every list is bounded (the
 * summary's `top`, at most 10 accounts) and every IAM-supplied string clipped.
 */
export function buildSummaryMessage(
  summary: Summary,
  ctx: DigestContext,
  overflow?: OverflowContext,
): SlackMessage {
  const consoleBase = consoleBaseOf(ctx);
  const multi = summary.byAccount.length > 1;
  const account = multi
    ? { alias: '', id: `${summary.byAccount.length} accounts` }
    : accountOf(summary.byAccount[0]?.accountId ?? ctx.accountId, ctx);
  const name = accountName(account);
  const title = SUMMARY_TITLE[summary.reason](summary);
  const sev = SEVERITIES.slice()
    .reverse()
    .filter((s) => summary.bySeverity[s] > 0)
    .map((s) => `${summary.bySeverity[s]} ${s}`)
    .join(' · ');
  const intro: Record<SummaryReason, string> = {
    baseline: `First scan of ${multi ? `${summary.byAccount.length} accounts` : 'this account'}: credwatch recorded ${summary.total} open ${summary.total === 1 ? 'finding' : 'findings'} without announcing each. From the next scan on it announces every new, worse or resolved finding.`,
    'roll-up': `${summary.total} ${summary.total === 1 ? 'finding is' : 'findings are'} still open. One reminder for all of them, once a reminder interval.`,
    overflow:
      summary.total > 0
        ? `This run had ${summary.total} more ${summary.total === 1 ? 'change' : 'changes'} than fit in its limit of ${overflow?.cap ?? '?'} messages: each is recorded as announced here, and none is repeated.`
        : (overflow?.ownersNotMessaged.length ?? 0) > 0
          ? `This run reached its limit of ${overflow?.cap ?? '?'} messages before the owners' lists below; their findings were in the roll-up.`
          : `This run reached its limit of ${overflow?.cap ?? '?'} messages.`,
  };
  const lines: string[] = [intro[summary.reason]];
  const parts = summary.otherParts ?? 0;
  if (parts > 0) {
    lines.push(
      `This roll-up is one part of a larger one: ${parts} more open ${parts === 1 ? 'finding is' : 'findings are'} in its other parts (said less than a reminder interval ago, or reminded by the next runs).`,
    );
  }
  const held = overflow?.heldBack ?? 0;
  if (held > 0) {
    lines.push(
      `${held} enforcement ${held === 1 ? 'entry (a final notice or a deactivation) waits' : 'entries (final notices, deactivations) wait'} for the next run, each in its own entry: a summary is nobody's notice.`,
    );
  }
  if (summary.sinceLast) {
    const { at, opened, escalated, resolved } = summary.sinceLast;
    const news = [
      ...(opened > 0 ? [`${opened} new`] : []),
      ...(escalated > 0 ? [`${escalated} worse`] : []),
      ...(resolved > 0 ? [`${resolved} resolved`] : []),
    ];
    lines.push(
      `*Since the last summary* (${scanTimeText(new Date(at))}): ${news.length > 0 ? news.join(' · ') : 'nothing new, nothing resolved'}`,
    );
  }
  if (sev) lines.push(`*By severity:* ${sev}`);
  if (summary.reason === 'overflow') {
    const kinds = countsFromKinds(summary.byKind);
    if (kinds) lines.push(`*By kind:* ${kinds}`);
  }
  const rules = summary.byRule.map((r) => `${RULE_LABELS[r.rule]} ${r.count}`).join(' · ');
  if (rules) lines.push(`*By rule:* ${rules}`);
  const blocks: Block[] = [
    header(headerText(`credwatch: ${title} — `, account, '')),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Scan at ${scanTimeText(ctx.scanTime)} · ${multi ? '' : 'account '}${escapeSlackText(name)}`,
        },
      ],
    },
    section(lines.join('\n')),
  ];
  // A section holds at most 3,000 characters: a list whose lines (links, names, mentions) do not fit
  // one goes on in the next section.
  const list = (heading: string, items: readonly SummaryItem[]) => {
    let text = heading;
    for (const line of items.map((i) => summaryItem(i, consoleBase, multi))) {
      if (text.length + 1 + line.length > SLACK_LIMITS.sectionText) {
        blocks.push(section(text));
        text = line;
      } else text = `${text}\n${line}`;
    }
    if (items.length > 0) blocks.push(section(text));
  };
  list('*Oldest keys*', summary.oldestKeys);
  list('*Open longest*', summary.longestOpen);
  if (summary.topOwners.length > 0 || summary.withoutOwner > 0) {
    const owners = summary.topOwners.map((o) => `${ownerMention(o.owner)} ${o.count}`);
    if (summary.withoutOwner > 0) owners.push(`${summary.withoutOwner} without a \`credwatch:owner\` tag`);
    blocks.push(section(`*Owners:* ${owners.join(' · ')}`));
  }
  if (multi) {
    const top = summary.byAccount.slice(0, 10).map((a) => {
      const label = ctx.accountNames?.[a.accountId];
      return `${escapedClip(label ? `${label} (${a.accountId})` : a.accountId, 120)} ${a.count}`;
    });
    const more = summary.byAccount.length - top.length;
    blocks.push(section(`*By account:* ${top.join(' · ')}${more > 0 ? ` · and ${more} more` : ''}`));
  }
  if (overflow && overflow.ownersNotMessaged.length > 0) {
    const n = overflow.ownersNotMessaged.length;
    blocks.push(
      section(
        `${n} ${n === 1 ? "owner's list was" : "owners' lists were"} not posted: ${clippedList(overflow.ownersNotMessaged.map(ownerMention), 1500)}`,
      ),
    );
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Every finding: \`${FULL_LIST_COMMAND}\` with the account's credentials (or \`--report\` on its credential report).`,
      },
    ],
  });
  return { text: escapeSlackText(`credwatch ${name}: ${title}${sev ? ` (${sev})` : ''}`), blocks };
}

/** Items joined with " · ", cut (with "and N more") before `max` characters. */
function clippedList(items: readonly string[], max: number): string {
  let text = '';
  for (const [i, item] of items.entries()) {
    const next = text ? `${text} · ${item}` : item;
    if (next.length > max) return `${text} · and ${items.length - i} more`;
    text = next;
  }
  return text;
}

function countsFromKinds(byKind: Readonly<Record<ChangeKind, number>>): string {
  return (Object.keys(KIND_COUNT) as ChangeKind[])
    .filter((k) => byKind[k] > 0)
    .map((k) => KIND_COUNT[k](byKind[k]))
    .join(', ');
}

/**
 * An owner's own list (roll-up reminders of the findings tagged with their `credwatch:owner`), as one
 * message mentioning them in the channel. Entries that do not fit are counted ("and N more").
 */
export function buildOwnerMessage(
  owner: string,
  changes: readonly Change[],
  ctx: DigestContext,
): SlackMessage {
  const consoleBase = consoleBaseOf(ctx);
  const mention = ownerMention(owner);
  const n = changes.length;
  const accounts = new Set(changes.map((c) => c.finding.accountId));
  const account =
    accounts.size > 1
      ? { alias: '', id: `${accounts.size} accounts` }
      : accountOf(changes[0]?.finding.accountId ?? ctx.accountId, ctx);
  const intro = section(`${mention}: ${n} of your credentials ${n === 1 ? 'is' : 'are'} still open.`);
  const head: Block[] = [header(headerText(`credwatch: ${n} still open, yours — `, account, '')), intro];
  const footer: ContextBlock = {
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: 'You get this list because the IAM users carry your `credwatch:owner` tag.' },
    ],
  };
  const budget = SLACK_LIMITS.messageChars - jsonLength([...head, footer, section('x'.repeat(80))]);
  const body: SectionBlock[] = [];
  let text = '';
  let size = 0;
  let shown = 0;
  for (const c of changes) {
    const entry = renderEntry(c, consoleBase);
    const json = jsonLength(entry) - 2;
    const joined = text ? `${text}\n${entry}` : entry;
    if (joined.length > SLACK_LIMITS.sectionText) {
      if (
        body.length + 1 >= SLACK_LIMITS.blocksPerMessage - head.length - 2 ||
        size + SECTION_JSON + json > budget
      )
        break;
      body.push(section(text));
      size += SECTION_JSON;
      text = entry;
    } else {
      if (size + json + 2 > budget) break;
      text = joined;
    }
    size += json + 2;
    shown++;
  }
  if (text) body.push(section(text));
  const rest = n - shown;
  if (rest > 0) body.push(section(`…and ${rest} more: \`${FULL_LIST_COMMAND}\`.`));
  return {
    text: escapeSlackText(`credwatch: ${n} of your credentials still open`),
    blocks: [...head, ...body, footer],
  };
}

/** The message `credwatch notify --test` posts: proof that the secret's webhook reaches the channel. */
export function buildTestMessage(sentAt: Date, from: string): SlackMessage {
  return {
    text: 'credwatch test message: this channel will hear about IAM credentials',
    blocks: [
      header('credwatch: test message'),
      section(
        `This channel's webhook works: credwatch will post here when an IAM credential crosses a threshold.\nNothing needs doing.`,
      ),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Sent ${scanTimeText(sentAt)} by ${escapedClip(from, 200)}` }],
      },
    ],
  };
}

/**
 * The name and id of the one account a message is about: its own name (Organizations or alias),
 * never another account's (a run's headline account is only the first of several).
 */
function accountOf(accountId: string, ctx: DigestContext): { readonly alias: string; readonly id: string } {
  const alias = ctx.accountNames?.[accountId] ?? (accountId === ctx.accountId ? ctx.accountAlias : undefined);
  return accountParts({ ...ctx, accountId, ...(alias ? { accountAlias: alias } : { accountAlias: '' }) });
}

function consoleBaseOf(ctx: DigestContext): string {
  const partition = ctx.consoleDomain ?? 'aws';
  const consoleBase = CONSOLE_BASE_URLS[partition];
  if (consoleBase === undefined) {
    throw new ConfigError(
      `buildDigest: consoleDomain "${partition}" is not a partition; expected one of ${Object.keys(CONSOLE_BASE_URLS).join(', ')}`,
    );
  }
  return consoleBase;
}

/** A finding in a few words (`alice · key age `AKIA…``), escaped and clipped: a line of an updated message. */
export function shortLabel(f: Finding): string {
  const who = f.user === ACCOUNT_USER ? `account ${escapedClip(f.accountId, 20)}` : escapedClip(f.user, 100);
  const what = RULE_LABELS[f.rule] ?? escapedClip(f.rule, 40);
  return `${who} · ${what}${f.accessKeyId ? ` \`${escapedClip(f.accessKeyId, 100)}\`` : ''}`;
}
