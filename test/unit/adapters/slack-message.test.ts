import fc from 'fast-check';
import {
  buildDigest,
  buildDigestParts,
  type DigestContext,
  escapeSlackText,
  ownerMention,
  SLACK_LIMITS,
  type SlackMessage,
} from '../../../lambda/adapters/slack/message';
import { compareChanges } from '../../../lambda/core/diff';
import { ConfigError } from '../../../lambda/core/errors';
import type { Change, ChangeKind, FindingState } from '../../../lambda/core/state';
import type { Finding, Severity } from '../../../lambda/core/types';

const ACCOUNT = '123456789012';
const ctx: DigestContext = {
  accountId: ACCOUNT,
  accountAlias: 'prod',
  scanTime: new Date('2026-05-04T06:00:00Z'),
};
const CONSOLE = 'https://us-east-1.console.aws.amazon.com/iam/home';

function finding(user: string, extra: Partial<Finding> = {}): Finding {
  const key = `AKIA${user
    .replace(/[^a-z0-9]/gi, '')
    .toUpperCase()
    .padEnd(16, 'X')}`;
  return {
    id: `${ACCOUNT}/${user}/access-key-age/${key}`,
    accountId: ACCOUNT,
    user,
    arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
    rule: 'access-key-age',
    severity: 'warning',
    credential: key,
    accessKeyId: key,
    days: 85,
    thresholdDays: 80,
    lastUsed: { date: '2026-05-01T09:30:00.000Z', service: 's3', region: 'eu-west-1' },
    summary: `Access key ${key} of ${user} is 85 days old (warning at 80); rotate it.`,
    ...extra,
  };
}

function previous(f: Finding, extra: Partial<FindingState> = {}): FindingState {
  return {
    id: f.id,
    accountId: f.accountId,
    status: 'open',
    notifiedSeverity: 'warning',
    firstSeen: '2026-04-20T06:00:00.000Z',
    lastNotifiedAt: '2026-04-27T06:00:00.000Z',
    scanTime: '2026-04-27T06:00:00.000Z',
    finding: f,
    ...extra,
  };
}

const INJECTED = '<!channel>&<@U1>';

/** Every kind, both paging severities, an owner of each kind, root, a key known by its creation time and an escaped name. */
const CONTRACT: Change[] = (() => {
  const root = finding('<root_account>', {
    id: `${ACCOUNT}/<root_account>/root-access-key/AKIAROOTEXAMPLE00001`,
    arn: `arn:aws:iam::${ACCOUNT}:root`,
    rule: 'root-access-key',
    severity: 'critical',
    credential: 'AKIAROOTEXAMPLE00001',
    accessKeyId: 'AKIAROOTEXAMPLE00001',
    days: 400,
    thresholdDays: undefined,
    summary: 'The root user has an active access key (access key AKIAROOTEXAMPLE00001); delete it.',
  });
  const injected = finding(INJECTED, {
    id: `${ACCOUNT}/${INJECTED}/password-without-mfa/password`,
    rule: 'password-without-mfa',
    severity: 'critical',
    credential: 'password',
    accessKeyId: undefined,
    days: undefined,
    thresholdDays: undefined,
    lastUsed: undefined,
    owner: 'W0123ABCD',
    summary: `${INJECTED} can sign in to the console without MFA.`,
  });
  const deployBot = finding('deploy-bot', {
    severity: 'critical',
    days: 92,
    thresholdDays: 90,
    lastUsed: { date: '2026-05-03T22:10:00.000Z', service: 'sts' },
    owner: 'S0123ABCD',
    summary: 'Access key AKIADEPLOYBOTXXXXXXX of deploy-bot is 92 days old (critical at 90); rotate it.',
  });
  const alice = finding('alice', {
    id: `${ACCOUNT}/alice/access-key-unused/key-2026-06-01T08:30:00Z`,
    rule: 'access-key-unused',
    credential: 'key-2026-06-01T08:30:00Z',
    accessKeyId: undefined,
    days: 60,
    thresholdDays: 45,
    lastUsed: null,
    owner: 'U0123ABCD',
    summary:
      'Access key 2 of alice has never been used in the 60 days since it was created (warning at 45); deactivate or delete it.',
  });
  const bob = finding('bob.smith+ci@example.com', {
    id: `${ACCOUNT}/bob.smith+ci@example.com/password-unused/password`,
    rule: 'password-unused',
    credential: 'password',
    accessKeyId: undefined,
    days: 50,
    thresholdDays: 45,
    lastUsed: { date: '2026-03-15T12:00:00.000Z' },
    owner: 'ops&sec@example.com',
    summary:
      'The console password of bob.smith+ci@example.com has not been used for 50 days (warning at 45); remove it.',
  });
  const carol = finding('carol', { severity: 'critical', days: 120, thresholdDays: 90, owner: 'U0123ABCD' });
  const changes: Change[] = [
    { kind: 'opened', finding: root },
    { kind: 'opened', finding: injected },
    { kind: 'opened', finding: alice },
    { kind: 'escalated', finding: deployBot, previous: previous(deployBot) },
    { kind: 'reminder', finding: bob, previous: previous(bob) },
    { kind: 'resolved', finding: carol, previous: previous(carol, { notifiedSeverity: 'critical' }) },
  ];
  return changes.sort(compareChanges);
})();

/** All mrkdwn/plain text of a message, block by block. */
const texts = (m: SlackMessage): string[] =>
  m.blocks.map((b) => (b.type === 'context' ? b.elements.map((e) => e.text).join('\n') : b.text.text));

const sections = (m: SlackMessage): string[] =>
  m.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : []));

/** The bullet lines (one per finding) of a digest, in order. */
const bullets = (messages: readonly SlackMessage[]): string[] =>
  messages.flatMap(sections).flatMap((t) => t.split('\n').filter((l) => l.startsWith('• ')));

describe('escapeSlackText', () => {
  it.each([
    ['a & b', 'a &amp; b'],
    ['<!channel>', '&lt;!channel&gt;'],
    ['&lt;', '&amp;lt;'],
    ['<@U1>&<#C1>', '&lt;@U1&gt;&amp;&lt;#C1&gt;'],
    ['plain-name_1+x=y,z.w@v', 'plain-name_1+x=y,z.w@v'],
  ])('escapes %p as %p', (raw, escaped) => {
    expect(escapeSlackText(raw)).toBe(escaped);
  });
});

describe('ownerMention', () => {
  it.each([
    ['U0123ABCD', '<@U0123ABCD>'],
    ['W0123ABCD', '<@W0123ABCD>'],
    ['S0123ABCD', '<!subteam^S0123ABCD>'],
    ['ops@example.com', 'ops@example.com'],
    ['ops&sec@example.com', 'ops&amp;sec@example.com'],
    ['U1<!here>', 'U1&lt;!here&gt;'],
    ['u0123abcd', 'u0123abcd'],
  ])('renders owner %p as %p', (owner, rendered) => {
    expect(ownerMention(owner)).toBe(rendered);
  });
});

describe('buildDigest', () => {
  it('returns no message when nothing changed', () => {
    expect(buildDigest([], ctx)).toEqual([]);
  });

  it('renders every kind, severity and owner as the contracted payload', () => {
    expect(buildDigest(CONTRACT, ctx)).toMatchSnapshot();
  });

  it('summarises the counts in the header and the fallback text', () => {
    const [message, ...rest] = buildDigest(CONTRACT, ctx);
    expect(rest).toEqual([]);
    expect(message?.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: 'credwatch: 3 new, 1 worse, 1 reminder, 1 resolved — prod (123456789012)',
        emoji: true,
      },
    });
    expect(message?.text).toBe(
      'credwatch prod (123456789012): 3 critical, 2 warning — 3 new, 1 worse, 1 reminder, 1 resolved',
    );
  });

  it('escapes a user named <!channel>&<@U1> everywhere, so it pings nobody', () => {
    const [message] = buildDigest(CONTRACT, ctx);
    const all = texts(message!).join('\n');
    expect(all).not.toContain(INJECTED);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<@U1>');
    expect(all).toContain(
      `<${CONSOLE}#/users/details/%3C!channel%3E%26%3C%40U1%3E|&lt;!channel&gt;&amp;&lt;@U1&gt;>`,
    );
    expect(all).toContain('&lt;!channel&gt;&amp;&lt;@U1&gt; can sign in to the console without MFA.');
    // The only control sequences left are the console links and the owners' mentions.
    const tokens = all.match(/<[^>]*>/g) ?? [];
    expect(tokens.filter((t) => !t.startsWith(`<${CONSOLE}#/`))).toEqual([
      '<@W0123ABCD>',
      '<!subteam^S0123ABCD>',
      '<@U0123ABCD>',
    ]);
  });

  it('links root to the security credentials page and mentions no one for a resolved finding', () => {
    const lines = bullets(buildDigest(CONTRACT, ctx));
    expect(lines.filter((l) => l.includes('#/security_credentials'))).toEqual([
      expect.stringContaining(`<${CONSOLE}#/security_credentials|root user> · root access key`),
    ]);
    const resolved = lines.find((l) => l.includes('*Resolved*'));
    expect(resolved).toContain('|carol>');
    expect(resolved).not.toContain('<@U0123ABCD>');
  });

  it.each([
    ['aws-us-gov', 'https://console.amazonaws-us-gov.com/iam/home#/users/details/alice|alice>'],
    ['aws-cn', 'https://console.amazonaws.cn/iam/home#/users/details/alice|alice>'],
  ])('links users of partition %s to that partition’s console', (consoleDomain, link) => {
    const [message] = buildDigest([{ kind: 'opened', finding: finding('alice') }], { ...ctx, consoleDomain });
    expect(sections(message!).join('\n')).toContain(link);
  });

  it('rejects an unknown partition with a ConfigError naming it', () => {
    expect(() => buildDigest(CONTRACT, { ...ctx, consoleDomain: 'example.com' })).toThrow(
      new ConfigError(
        'buildDigest: consoleDomain "example.com" is not a partition; expected one of aws, aws-us-gov, aws-cn',
      ),
    );
  });

  it('names the account by its id alone when it has no alias', () => {
    const [message] = buildDigest(CONTRACT, { accountId: ACCOUNT, scanTime: ctx.scanTime });
    expect(texts(message!)[0]).toBe('credwatch: 3 new, 1 worse, 1 reminder, 1 resolved — 123456789012');
  });

  it('shortens a long alias so that the header stays within 150 characters, keeping the part number', () => {
    const many = Array.from({ length: 600 }, (_, i) => ({
      kind: 'opened' as const,
      finding: finding(`u${i}`, { summary: 'x'.repeat(1200) }),
    }));
    const messages = buildDigest(many, { ...ctx, accountAlias: `a&${'b'.repeat(200)}` });
    expect(messages.length).toBeGreaterThan(1);
    for (const [i, m] of messages.entries()) {
      const head = texts(m)[0]!;
      expect(head.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      expect(head.startsWith('credwatch: 600 new — a&amp;bbb')).toBe(true);
      expect(head.endsWith(`b… (123456789012) (${i + 1}/${messages.length})`)).toBe(true);
    }
  });
});

// ---- limits and completeness at scale ----

const KINDS: readonly ChangeKind[] = ['opened', 'escalated', 'reminder', 'resolved'];

/** A deterministic mix of kinds and severities; some summaries long and full of `&` to stress the limits. */
function manyChanges(n: number): Change[] {
  const changes = Array.from({ length: n }, (_, i): Change => {
    const severity: Severity = i % 3 === 0 ? 'critical' : 'warning';
    const user = `user-${String(i).padStart(5, '0')}`;
    const summary =
      i % 7 === 0 ? `${user}: ${'rotate & <check> '.repeat(80)}` : `Access key of ${user} is old; rotate it.`;
    const owner = ['U0123ABCD', 'S0123ABCD', `${user}@example.com`, undefined][i % 4];
    const f = finding(user, { severity, summary, ...(owner ? { owner } : {}) });
    const kind = KINDS[i % KINDS.length]!;
    return kind === 'opened' ? { kind, finding: f } : { kind, finding: f, previous: previous(f) };
  });
  return changes.sort(compareChanges);
}

/** What the digest must list, in order: critical, warning, then resolved; input order within each. */
function expectedOrder(changes: readonly Change[]): string[] {
  const open = (s: Severity) => changes.filter((c) => c.kind !== 'resolved' && c.finding.severity === s);
  return [...open('critical'), ...open('warning'), ...changes.filter((c) => c.kind === 'resolved')].map(
    (c) => c.finding.user,
  );
}

function expectWithinLimits(messages: readonly SlackMessage[]): void {
  for (const [i, m] of messages.entries()) {
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
    expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(SLACK_LIMITS.messageChars);
    const [head, , ...body] = m.blocks;
    expect(head?.type).toBe('header');
    if (head?.type === 'header') {
      expect(head.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      if (messages.length > 1) expect(head.text.text.endsWith(` (${i + 1}/${messages.length})`)).toBe(true);
    }
    expect(body.length).toBeGreaterThan(0);
    for (const t of sections(m)) {
      expect(t.length).toBeGreaterThan(0);
      expect(t.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
    // Each message starts its body with a heading, and never ends on one.
    expect(sections(m)[0]).toMatch(/^:\w+: \*\w+\* \(\d+(, continued)?\)$/);
    expect(sections(m).at(-1)).toMatch(/^• /);
  }
}

const userOf = (line: string) => /\/users\/details\/([^|>]+)\|/.exec(line)?.[1];

describe('buildDigest at scale', () => {
  it.each([1, 10, 50, 500, 5000])(
    'keeps %i findings within every limit, listing each exactly once and in order',
    (n) => {
      const changes = manyChanges(n);
      const messages = buildDigest(changes, ctx);
      expectWithinLimits(messages);
      expect(bullets(messages).map(userOf)).toEqual(expectedOrder(changes));
      if (n >= 500) expect(messages.length).toBeGreaterThan(1);
    },
  );

  it.each([1, 500, 5000])('says which changes each of the messages for %i findings carries', (n) => {
    const changes = manyChanges(n);
    const parts = buildDigestParts(changes, ctx);
    expect(parts.map((p) => p.message)).toEqual(buildDigest(changes, ctx));
    // Every change is carried by exactly one message, and that message lists its user.
    expect(parts.flatMap((p) => p.changes.map((c) => c.finding.id)).sort()).toEqual(
      changes.map((c) => c.finding.id).sort(),
    );
    for (const p of parts) {
      expect(bullets([p.message]).map(userOf)).toEqual(
        p.changes.map((c) => encodeURIComponent(c.finding.user)),
      );
    }
  });

  it('keeps arbitrary IAM strings within every limit and lets none of them open a control sequence', () => {
    const text = fc.string({ unit: 'binary', maxLength: 400 });
    const changeArb = fc
      .record({
        user: fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }),
        summary: text,
        owner: fc.option(text, { nil: undefined }),
        service: fc.option(fc.string({ unit: 'binary', maxLength: 60 }), { nil: undefined }),
        severity: fc.constantFrom<Severity>('warning', 'critical'),
        kind: fc.constantFrom(...KINDS),
      })
      .map(({ user, summary, owner, service, severity, kind }): Change => {
        const f = finding(user, {
          severity,
          summary,
          ...(owner !== undefined ? { owner } : {}),
          lastUsed: { date: '2026-05-01T00:00:00.000Z', ...(service !== undefined ? { service } : {}) },
        });
        return kind === 'opened' ? { kind, finding: f } : { kind, finding: f, previous: previous(f) };
      });
    fc.assert(
      fc.property(
        fc.array(changeArb, { minLength: 1, maxLength: 120 }),
        fc.string({ maxLength: 80 }),
        (changes, alias) => {
          const messages = buildDigest(changes, { ...ctx, accountAlias: alias });
          expectWithinLimits(messages);
          expect(bullets(messages)).toHaveLength(changes.length);
          for (const m of messages) {
            for (const token of texts(m)
              .join('\n')
              .match(/<[^>]*>/g) ?? []) {
              expect(token).toMatch(/^<(https:\/\/[^|>]+\|[^>]*|@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+)>$/);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
