/**
 * The summary, owner and test messages, and the capped rendering of a run's posts, against the Block
 * Kit checker the local Slack receiver uses (test/support/block-kit.ts), with hostile input: IAM
 * strings made of Slack's control characters, `<!channel>`-like owner tags, long account names.
 */

import {
  buildOwnerMessage,
  buildSummaryMessage,
  buildTestMessage,
  type DigestContext,
  SLACK_LIMITS,
  type SlackMessage,
} from '../../../lambda/adapters/slack/message';
import { renderPosts } from '../../../lambda/adapters/slack/notifier';
import { ACCOUNT_USER } from '../../../lambda/core/accounts';
import { compareChanges } from '../../../lambda/core/diff';
import { DEFAULT_NOTIFICATION_POLICY, type Post, planPosts } from '../../../lambda/core/notification-plan';
import type { Change, ChangeKind, FindingState } from '../../../lambda/core/state';
import { SUMMARY_REASONS, summarize } from '../../../lambda/core/summary';
import type { Finding, RuleId, Severity } from '../../../lambda/core/types';
import type { DigestHeading } from '../../../lambda/ports';
import { checkWebhookBody } from '../../support/block-kit';

const SCAN_TIME = new Date('2026-05-04T06:00:00.000Z');
const HOSTILE = '<!channel>&<>';
/** `n` characters of `s` repeated. */
const fill = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
/** A 64-character IAM user name of `<`, `>` and `&` only, distinct for each `i` (base 3). */
const hostileUser = (i: number) => {
  let name = '';
  for (let n = i, k = 0; k < 64; k++, n = Math.floor(n / 3)) name += '<>&'[n % 3];
  return name;
};

const accountIds = Array.from({ length: 300 }, (_, i) => String(100_000_000_000 + i));
const accountNames = Object.fromEntries(accountIds.map((id, i) => [id, fill(`${HOSTILE}${i}`, 200)]));

const OWNERS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0FAKE|boss>',
  '<!subteam^S0FAKE>',
  'U0123ABCD',
  'S0GROUPXY',
  fill(`${HOSTILE}@example.com`, 256),
  undefined,
] as const;

const RULES: readonly RuleId[] = ['access-key-age', 'access-key-unused', 'password-unused', 'root-used'];
const KINDS: readonly ChangeKind[] = ['opened', 'escalated', 'reminder', 'resolved'];
const SEVERITY: readonly Severity[] = ['warning', 'critical'];

function hostileChange(
  i: number,
  kind: ChangeKind = KINDS[i % KINDS.length]!,
  accounts = accountIds,
): Change {
  const accountId = accounts[i % accounts.length]!;
  const failed = i % 97 === 0;
  const rule: RuleId = failed ? 'account-scan-failed' : RULES[i % RULES.length]!;
  const user = failed ? ACCOUNT_USER : hostileUser(i);
  const owner = OWNERS[i % OWNERS.length];
  const credential = failed ? 'account' : `key-2024-0${(i % 9) + 1}-01T00:00:00Z`;
  const finding: Finding = {
    id: `${accountId}/${user}/${rule}/${credential}/${i}`,
    accountId,
    user,
    arn: `arn:aws:iam::${accountId}:user/${user}`,
    rule,
    severity: SEVERITY[i % 2]!,
    credential,
    days: 90 + (i % 400),
    thresholdDays: 90,
    lastUsed: { date: '2026-01-01T00:00:00Z', service: fill(HOSTILE, 64), region: fill(HOSTILE, 64) },
    ...(owner ? { owner } : {}),
    summary: fill(`${HOSTILE} `, 2000),
  };
  if (kind === 'opened') return { kind, finding };
  const previous: FindingState = {
    id: finding.id,
    accountId,
    status: 'open',
    notifiedSeverity: 'warning',
    firstSeen: new Date(Date.UTC(2025, 0, 1) + (i % 200) * 86_400_000).toISOString(),
    lastNotifiedAt: '2026-04-01T00:00:00.000Z',
    scanTime: '2026-04-01T00:00:00.000Z',
    finding,
  };
  return { kind, finding, previous };
}

const HUGE: readonly Change[] = Array.from({ length: 5000 }, (_, i) => hostileChange(i)).sort(compareChanges);

const multiCtx: DigestContext = {
  accountId: accountIds[0]!,
  accountAlias: fill(HOSTILE, 200),
  accountNames,
  scanTime: SCAN_TIME,
};
const singleCtx: DigestContext = {
  accountId: accountIds[7]!,
  accountAlias: fill(HOSTILE, 200),
  scanTime: SCAN_TIME,
};
const heading: DigestHeading = {
  accountId: accountIds[0]!,
  accountAlias: fill(HOSTILE, 200),
  accountNames,
  scanTime: SCAN_TIME,
};

/** Every string Slack renders from a message: the fallback and each block's text. */
function texts(m: SlackMessage): string[] {
  const out = [m.text];
  for (const b of m.blocks) {
    if (b.type === 'context') out.push(...b.elements.map((e) => e.text));
    else out.push(b.text.text);
  }
  return out;
}

/**
 * What is left of a text once the links and mentions credwatch builds itself are taken out: it
 * must hold no `<`, no `>` and no `&` that does not start an entity.
 */
const OWN_MARKUP = [
  /<https:\/\/[^\s<>|]+\|[^<>]*>/g, // console link, label escaped
  /<@[UW][A-Z0-9]{2,40}>/g, // member mention from a valid owner tag
  /<!subteam\^S[A-Z0-9]{2,40}>/g, // user group mention from a valid owner tag
];
function unescaped(text: string): string[] {
  let rest = text;
  for (const re of OWN_MARKUP) rest = rest.replace(re, '');
  return [...rest.matchAll(/[<>]|&(?!amp;|lt;|gt;)/g)].map((m) => m[0]);
}

function expectSafe(m: SlackMessage): void {
  const verdict = checkWebhookBody(JSON.stringify(m), 'application/json');
  if (!verdict.ok) throw new Error(`refused (${verdict.error}): ${verdict.reasons.join('; ')}`);
  expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(SLACK_LIMITS.messageChars);
  for (const t of texts(m)) {
    expect(t).not.toMatch(/<!(channel|here|everyone)/);
    expect(unescaped(t)).toEqual([]);
  }
  // A tag that merely looks like a mention is shown as text, never as the mention it imitates.
  for (const t of texts(m)) expect(t).not.toMatch(/<@U0FAKE|<!subteam\^S0FAKE/);
}

describe('the checks of this file', () => {
  it('catch an unescaped mention and a refused message', () => {
    expect(unescaped('a <!channel> b')).toEqual(['<', '>']);
    expect(unescaped('fish & chips')).toEqual(['&']);
    expect(unescaped('<https://x.example/a|b &amp; c> <@U0123ABCD> &lt;x&gt;')).toEqual([]);
    expect(() =>
      expectSafe({
        text: 'x',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
      }),
    ).toThrow(/refused \(invalid_blocks\)/);
  });

  it('have hostile input to work on', () => {
    expect(new Set(HUGE.map((c) => c.finding.accountId)).size).toBe(300);
    expect(new Set(HUGE.map((c) => c.finding.user)).size).toBeGreaterThan(4900);
    expect(hostileUser(4999)).toHaveLength(64);
    expect(hostileUser(4999)).toMatch(/^[<>&]+$/);
  });
});

describe('buildSummaryMessage', () => {
  it.each(SUMMARY_REASONS)('%s of 5,000 changes in 300 accounts is one valid, escaped message', (reason) => {
    const summary = summarize(reason, HUGE);
    const overflow = { cap: 10, ownersNotMessaged: OWNERS.flatMap((o) => (o ? [o, o, o] : [])) };
    const m = buildSummaryMessage(summary, multiCtx, reason === 'overflow' ? overflow : undefined);
    expectSafe(m);
    const all = texts(m).join('\n');
    expect(all).toContain('300 accounts');
    expect(all).toContain('and 290 more'); // at most 10 accounts listed
  });

  it('of one account with a 200-character alias is valid and escaped', () => {
    const one = Array.from({ length: 500 }, (_, i) => hostileChange(i, 'reminder', [singleCtx.accountId]));
    const m = buildSummaryMessage(summarize('roll-up', one), singleCtx);
    expectSafe(m);
    expect(m.blocks[0]!.type).toBe('header');
    expect(texts(m)[1]).toMatch(/^credwatch: 500 still open — .*\(100000000007\)$/);
  });

  it('of a roll-up in parts says how many open findings its other parts have, and only then', () => {
    const part = summarize('roll-up', HUGE.slice(0, 3));
    const line = /one part of a larger one: (\d+) more open findings? (is|are) in its other parts/;
    expect(
      line.exec(texts(buildSummaryMessage({ ...part, otherParts: 1200 }, multiCtx)).join('\n'))?.slice(1),
    ).toEqual(['1200', 'are']);
    expect(
      line.exec(texts(buildSummaryMessage({ ...part, otherParts: 1 }, multiCtx)).join('\n'))?.slice(1),
    ).toEqual(['1', 'is']);
    expect(texts(buildSummaryMessage(part, multiCtx)).join('\n')).not.toMatch(line);
  });

  it('of the overflow names every owner whose list was not posted (or counts the rest)', () => {
    const owners = ['U0AAA1', 'U0AAA2', 'S0TEAM', 'ops@example.com'];
    const m = buildSummaryMessage(summarize('overflow', HUGE.slice(0, 3)), multiCtx, {
      cap: 10,
      ownersNotMessaged: owners,
    });
    const all = texts(m).join('\n');
    expect(all).toContain(
      "4 owners' lists were not posted: <@U0AAA1> · <@U0AAA2> · <!subteam^S0TEAM> · ops@example.com",
    );
    expect(all).toContain('limit of 10 messages');
  });
});

describe('buildOwnerMessage', () => {
  const owner = '<!channel>';
  const mine = Array.from({ length: 2000 }, (_, i) => ({
    ...hostileChange(i, 'reminder'),
  })).map((c) => ({ ...c, finding: { ...c.finding, owner } }));

  it('fits 2,000 findings in one valid message and counts those not shown', () => {
    const m = buildOwnerMessage(owner, mine, multiCtx);
    expectSafe(m);
    const all = texts(m).join('\n');
    const shown = all.split('\n').filter((line) => line.startsWith('• ')).length;
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(2000);
    expect(all).toContain(`…and ${2000 - shown} more:`);
    expect(all).toContain('&lt;!channel&gt;: 2000 of your credentials are still open.');
  });

  it('shows every finding and no "more" when they fit', () => {
    const few = mine.slice(0, 3).map((c) => ({ ...c, finding: { ...c.finding, summary: 'short' } }));
    const m = buildOwnerMessage('U0123ABCD', few, singleCtx);
    expectSafe(m);
    const all = texts(m).join('\n');
    expect(all.split('\n').filter((line) => line.startsWith('• '))).toHaveLength(3);
    expect(all).not.toContain('more:');
  });
});

describe('buildTestMessage', () => {
  it('is valid and escapes who sent it', () => {
    const m = buildTestMessage(SCAN_TIME, fill(`${HOSTILE}arn:aws:sts::1:assumed-role/x `, 400));
    expectSafe(m);
    expect(texts(m).join('\n')).toContain('Sent 2026-05-04 06:00 UTC by &lt;!channel&gt;&amp;');
  });

  it('says so when the time is unknown', () => {
    const m = buildTestMessage(new Date(Number.NaN), 'me');
    expectSafe(m);
    expect(texts(m).join('\n')).toContain('Sent unknown time by me');
  });
});

describe('renderPosts', () => {
  const carriedIds = (messages: readonly { carries: readonly Change[] }[]) =>
    messages.flatMap((m) => m.carries.map((c) => c.finding.id));

  it('renders a run of 5,000 hostile changes as 10 valid messages carrying each change once', () => {
    const posts = planPosts(HUGE, new Set(accountIds.slice(0, 100)), DEFAULT_NOTIFICATION_POLICY);
    const messages = renderPosts(posts, heading, 10);
    expect(messages).toHaveLength(10);
    expect(carriedIds(messages).sort()).toEqual(HUGE.map((c) => c.finding.id).sort());
    for (const m of messages) expectSafe(m.message);
  });

  it('caps 1,000 changes at exactly 10 messages whose carries are exactly the 1,000, each once', () => {
    const changes = Array.from({ length: 1000 }, (_, i) =>
      hostileChange(i, i % 5 === 0 ? 'reminder' : 'opened', accountIds.slice(0, 20)),
    ).sort(compareChanges);
    const posts = planPosts(changes, new Set(), DEFAULT_NOTIFICATION_POLICY);
    const uncapped = renderPosts(posts, heading);
    expect(uncapped.length).toBeGreaterThan(10); // the cap has something to do

    const messages = renderPosts(posts, heading, 10);
    expect(messages).toHaveLength(10);
    const ids = carriedIds(messages);
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(changes.map((c) => c.finding.id).sort());
    // The first nine are the uncapped ones; the tenth is the overflow summary.
    expect(messages.slice(0, 9)).toEqual(uncapped.slice(0, 9));
    expect(messages[9]!.announcedIn).toBe('overflow');
    expect(carriedIds(messages.slice(9)).sort()).toEqual(carriedIds(uncapped.slice(9)).sort());
    for (const m of messages) expectSafe(m.message);
  });

  it('never folds an enforcement notice into the overflow: it stays unsaid, for its own entry next run', () => {
    const notices = Array.from({ length: 600 }, (_, i): Change => {
      const c = hostileChange(i, 'opened', accountIds.slice(0, 5));
      return {
        ...c,
        finding: { ...c.finding, id: `${c.finding.id}-notice`, rule: 'access-key-final-notice' },
      };
    });
    const changes = [...notices, ...Array.from({ length: 400 }, (_, i) => hostileChange(1000 + i))].sort(
      compareChanges,
    );
    const messages = renderPosts(planPosts(changes, new Set(), DEFAULT_NOTIFICATION_POLICY), heading, 10);
    expect(messages).toHaveLength(10);
    const overflow = messages[9]!;
    expect(overflow.announcedIn).toBe('overflow');
    expect(overflow.carries.some((c) => c.finding.rule === 'access-key-final-notice')).toBe(false);
    // The summary says how many wait, and why.
    expect(texts(overflow.message).join('\n')).toMatch(
      /\d+ enforcement entries \(final notices, deactivations\) wait for the next run, each in its own entry: a summary is nobody's notice\./,
    );
    // The notices carried are those in the nine messages of their own; the others are carried by none.
    const carried = new Set(carriedIds(messages));
    const unsaid = notices.filter((c) => !carried.has(c.finding.id));
    expect(unsaid.length).toBeGreaterThan(0);
    expect(carriedIds(messages.slice(0, 9)).filter((id) => id.endsWith('-notice')).length).toBe(
      600 - unsaid.length,
    );
  });

  it('leaves the messages alone at or under the cap', () => {
    const changes = HUGE.slice(0, 40);
    const posts = planPosts(changes, new Set(), DEFAULT_NOTIFICATION_POLICY);
    const all = renderPosts(posts, heading);
    expect(renderPosts(posts, heading, all.length)).toEqual(all);
    expect(all.some((m) => m.announcedIn === 'overflow')).toBe(false);
  });

  it('names in the overflow the owners whose lists were cut, and no owner whose list was posted', () => {
    const owners = Array.from({ length: 20 }, (_, i) => `U0OWNER${String(i).padStart(2, '0')}`);
    const reminders = owners.map((owner, i) => {
      const c = hostileChange(i * 4 + 2, 'reminder', accountIds.slice(0, 3));
      return { ...c, finding: { ...c.finding, owner } };
    });
    const opened = hostileChange(1, 'opened', accountIds.slice(0, 3));
    const posts: Post[] = planPosts([opened, ...reminders], new Set(), DEFAULT_NOTIFICATION_POLICY);
    expect(posts.map((p) => p.kind)).toEqual(['digest', 'summary', ...owners.map(() => 'owner')]);

    const messages = renderPosts(posts, heading, 10);
    expect(messages).toHaveLength(10);
    // digest, roll-up, the lists of the first seven owners, then the overflow.
    expect(messages.slice(2, 9).map((m) => m.owner)).toEqual(owners.slice(0, 7));
    const overflow = messages[9]!;
    expect(overflow.announcedIn).toBe('overflow');
    expectSafe(overflow.message);
    const text = texts(overflow.message).join('\n');
    expect(text).toContain(
      `13 owners' lists were not posted: ${owners
        .slice(7)
        .map((o) => `<@${o}>`)
        .join(' · ')}`,
    );
    for (const o of owners.slice(0, 7)) expect(text).not.toContain(`<@${o}>`);
    // The reminders were carried by the roll-up; the cut lists carried nothing, so neither does the overflow.
    expect(carriedIds(messages).sort()).toEqual([opened, ...reminders].map((c) => c.finding.id).sort());
  });
});

describe('the account a single-account summary names', () => {
  const ctx: DigestContext = {
    accountId: '111111111111',
    accountAlias: 'alpha',
    accountNames: {},
    scanTime: SCAN_TIME,
  };
  const ofB = Array.from({ length: 3 }, (_, i) => hostileChange(i * 2 + 1, 'opened', ['222222222222']));
  const headerOf = (m: { blocks: readonly { type: string; text?: { text: string } }[] }) =>
    m.blocks[0]?.text?.text ?? '';

  it('is its own account, never the headline account of the run', () => {
    const baseline = buildSummaryMessage(summarize('baseline', ofB), ctx);
    expect(headerOf(baseline)).toMatch(/ — 222222222222$/);
    expect(JSON.stringify(baseline)).not.toContain('alpha');
    const owner = buildOwnerMessage('amy@example.com', ofB, ctx);
    expect(headerOf(owner)).toMatch(/ — 222222222222$/);
    expect(JSON.stringify(owner)).not.toContain('alpha');
  });

  it('carries its own name when the run knows it', () => {
    const named = buildSummaryMessage(summarize('baseline', ofB), {
      ...ctx,
      accountNames: { '222222222222': 'beta' },
    });
    expect(headerOf(named)).toMatch(/ — beta \(222222222222\)$/);
  });
});
