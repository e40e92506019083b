import fc from 'fast-check';
import { ConfigError } from '../../../lambda/core/errors';
import {
  ANNOUNCE_EVERYTHING,
  type Carrying,
  capMessages,
  checkPolicy,
  DEFAULT_NOTIFICATION_POLICY,
  isBaselined,
  MESSAGE_CAP_BOUNDS,
  type NotificationPolicy,
  type Post,
  planPosts,
  saidWithin,
} from '../../../lambda/core/notification-plan';
import type { Change, ChangeKind, FindingState } from '../../../lambda/core/state';
import type { Finding, RuleId, Severity } from '../../../lambda/core/types';

const A = '111111111111';
const B = '222222222222';

function finding(
  accountId: string,
  user: string,
  extra: Partial<Finding> & { rule?: RuleId; severity?: Severity } = {},
): Finding {
  const rule = extra.rule ?? 'access-key-age';
  return {
    id: `${accountId}/${user}/${rule}/AKIA${user.toUpperCase()}`,
    accountId,
    user,
    arn: `arn:aws:iam::${accountId}:user/${user}`,
    rule,
    severity: 'warning',
    credential: `AKIA${user.toUpperCase()}`,
    days: 85,
    summary: `${user}'s key is old`,
    ...extra,
  };
}

function previousOf(f: Finding): FindingState {
  return {
    id: f.id,
    accountId: f.accountId,
    status: 'open',
    notifiedSeverity: 'warning',
    firstSeen: '2026-01-01T06:00:00.000Z',
    lastNotifiedAt: '2026-01-01T06:00:00.000Z',
    scanTime: '2026-01-01T06:00:00.000Z',
    finding: f,
  };
}

const change = (kind: ChangeKind, f: Finding): Change =>
  kind === 'opened' ? { kind, finding: f } : { kind, finding: f, previous: previousOf(f) };

const ids = (changes: readonly Change[]) => changes.map((c) => c.finding.id);
const carrying = (posts: readonly Post[]) => posts.flatMap((p) => p.carries);

/** One run of two accounts, A on first contact; every kind, owners given out of order. */
const openedA = change('opened', finding(A, 'alice'));
const openedA2 = change('opened', finding(A, 'amir', { severity: 'critical' }));
const scanFailedA = change(
  'opened',
  finding(A, '(account)', { rule: 'account-scan-failed', severity: 'critical', credential: 'account' }),
);
const escalatedA = change('escalated', finding(A, 'anna', { severity: 'critical' }));
const resolvedA = change('resolved', finding(A, 'arno'));
const openedB = change('opened', finding(B, 'bob'));
const reminderZoe = change('reminder', finding(B, 'bea', { owner: 'zoe@example.com' }));
const reminderAmy1 = change('reminder', finding(B, 'ben', { owner: 'amy@example.com' }));
const reminderNone = change('reminder', finding(B, 'bill'));
const reminderAmy2 = change('reminder', finding(A, 'abe', { owner: 'amy@example.com' }));
const reminderU = change('reminder', finding(A, 'ada', { owner: 'U012AB3CD' }));

const run: Change[] = [
  openedA2,
  scanFailedA,
  openedA,
  openedB,
  escalatedA,
  reminderZoe,
  reminderAmy1,
  reminderNone,
  reminderAmy2,
  reminderU,
  resolvedA,
];

describe('planPosts', () => {
  const posts = planPosts(run, new Set([A]), DEFAULT_NOTIFICATION_POLICY);

  it('orders the posts: baseline summary, digest, roll-up summary, then owners sorted by owner', () => {
    expect(posts.map((p) => (p.kind === 'summary' ? `summary:${p.summary.reason}` : p.kind))).toEqual([
      'summary:baseline',
      'digest',
      'summary:roll-up',
      'owner',
      'owner',
      'owner',
    ]);
    expect(posts.flatMap((p) => (p.kind === 'owner' ? [p.owner] : []))).toEqual([
      'U012AB3CD',
      'amy@example.com',
      'zoe@example.com',
    ]);
  });

  it("baselines only the baselined account's opened findings, never a scan failure", () => {
    const [baseline] = posts;
    expect(baseline?.kind).toBe('summary');
    // Input order kept; the account-scan-failed finding of the same account is not among them.
    expect(ids(baseline!.carries)).toEqual(ids([openedA2, openedA]));
    if (baseline?.kind !== 'summary') throw new Error('not a summary');
    expect(baseline.summary.total).toBe(2);
    expect(baseline.summary.bySeverity).toEqual({ info: 0, warning: 1, critical: 1 });
  });

  it('puts what is not baselined and not a reminder in the digest, in input order', () => {
    const digest = posts[1]!;
    expect(digest.kind).toBe('digest');
    // The escalation and the resolution of the baselined account stay individual, so does its scan failure
    // and the new finding of the account that is not on first contact.
    expect(ids(digest.carries)).toEqual(ids([scanFailedA, openedB, escalatedA, resolvedA]));
  });

  it('rolls every reminder up in one summary, and it carries those without an owner', () => {
    const rollUp = posts[2]!;
    if (rollUp.kind !== 'summary') throw new Error('not a summary');
    expect(rollUp.summary.reason).toBe('roll-up');
    // Each owner's list carries that owner's reminders: a list not delivered is due again.
    expect(ids(rollUp.carries)).toEqual(ids([reminderNone]));
    expect(rollUp.summary.total).toBe(5);
    expect(rollUp.summary.withoutOwner).toBe(1);
  });

  it("gives each owner only their own reminders, and an owner's post carries them", () => {
    const owners = posts.filter((p) => p.kind === 'owner');
    const listOf = (owner: string) => {
      const post = owners.find((p) => p.owner === owner);
      if (!post) throw new Error(`no post for ${owner}`);
      return post;
    };
    expect(ids(listOf('amy@example.com').carries)).toEqual(ids([reminderAmy1, reminderAmy2]));
    expect(ids(listOf('zoe@example.com').carries)).toEqual(ids([reminderZoe]));
    expect(ids(listOf('U012AB3CD').carries)).toEqual(ids([reminderU]));
    for (const p of owners) for (const c of p.carries) expect(c.finding.owner).toBe(p.owner);
  });

  it('carries every change exactly once over all posts', () => {
    expect(ids(carrying(posts)).sort()).toEqual(ids(run).sort());
  });

  it('baselines nothing when the policy says no baseline', () => {
    const p = planPosts(run, new Set([A, B]), { ...DEFAULT_NOTIFICATION_POLICY, baseline: false });
    expect(p.some((x) => x.kind === 'summary' && x.summary.reason === 'baseline')).toBe(false);
    expect(ids(p[0]!.carries)).toEqual(ids([openedA2, scanFailedA, openedA, openedB, escalatedA, resolvedA]));
  });

  it('baselines nothing when no account is on first contact', () => {
    const p = planPosts(run, new Set(), DEFAULT_NOTIFICATION_POLICY);
    expect(p.map((x) => x.kind)).toEqual(['digest', 'summary', 'owner', 'owner', 'owner']);
  });

  it('announces reminders one by one in per-finding mode: one digest, no roll-up, no owner lists', () => {
    const p = planPosts(run, new Set(), { ...DEFAULT_NOTIFICATION_POLICY, reminders: 'per-finding' });
    expect(p).toHaveLength(1);
    expect(p[0]!.kind).toBe('digest');
    expect(ids(p[0]!.carries)).toEqual(ids(run));
  });

  it('announces everything individually with ANNOUNCE_EVERYTHING, even on first contact', () => {
    const p = planPosts(run, new Set([A, B]), ANNOUNCE_EVERYTHING);
    expect(p.map((x) => x.kind)).toEqual(['digest']);
    expect(ids(p[0]!.carries)).toEqual(ids(run));
  });

  it('starts with the roll-up when there are only reminders, and posts nothing for no changes', () => {
    const p = planPosts([reminderNone], new Set([B]), DEFAULT_NOTIFICATION_POLICY);
    expect(p.map((x) => x.kind)).toEqual(['summary']);
    expect(planPosts([], new Set([A]), DEFAULT_NOTIFICATION_POLICY)).toEqual([]);
  });

  it('posts no owner list when no reminder has an owner', () => {
    const p = planPosts([reminderNone], new Set(), DEFAULT_NOTIFICATION_POLICY);
    expect(p.filter((x) => x.kind === 'owner')).toEqual([]);
  });
});

describe('a roll-up in parts', () => {
  it('says on its summary how many open findings its other parts have, and only when it has some', () => {
    const reminders = [reminderNone, reminderZoe];
    const summaryOf = (posts: readonly Post[]) => {
      const post = posts.find((p) => p.kind === 'summary');
      if (post?.kind !== 'summary') throw new Error('no summary');
      return post.summary;
    };
    const part = summaryOf(planPosts(reminders, new Set(), DEFAULT_NOTIFICATION_POLICY, [], undefined, 7));
    expect(part.otherParts).toBe(7);
    // Its own tally is the part's: the other parts' findings are counted, not carried.
    expect(part.total).toBe(2);
    expect(
      summaryOf(planPosts(reminders, new Set(), DEFAULT_NOTIFICATION_POLICY)).otherParts,
    ).toBeUndefined();
    expect(
      summaryOf(planPosts(reminders, new Set(), DEFAULT_NOTIFICATION_POLICY, [], undefined, 0)).otherParts,
    ).toBeUndefined();
  });

  it('leaves out a reminder said less than an interval ago (by a summary or an owner list), nothing else', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    const day = 86_400_000;
    const saidAt = (at: string, kind: ChangeKind = 'reminder', announcedIn?: 'roll-up') => {
      const c = change(kind, finding(A, 'ada'));
      return c.previous
        ? { ...c, previous: { ...c.previous, lastNotifiedAt: at, ...(announcedIn ? { announcedIn } : {}) } }
        : c;
    };
    expect(saidWithin(saidAt('2026-12-04T11:50:00Z', 'reminder', 'roll-up'), now, day)).toBe(true);
    // An owner's list records no summary: said is said.
    expect(saidWithin(saidAt('2026-12-04T11:50:00Z'), now, day)).toBe(true);
    expect(saidWithin(saidAt('2026-12-03T12:00:00Z', 'reminder', 'roll-up'), now, day)).toBe(false);
    expect(saidWithin(saidAt('2026-12-04T11:50:00Z', 'escalated'), now, day)).toBe(false);
    expect(saidWithin(change('opened', finding(A, 'ada')), now, day)).toBe(false);
  });
});

describe('isBaselined', () => {
  const policy = DEFAULT_NOTIFICATION_POLICY;
  const first = new Set([A]);
  it.each<[string, Change, NotificationPolicy, boolean]>([
    ['an opened finding of an account on first contact', openedA, policy, true],
    ['an opened finding of another account', openedB, policy, false],
    ['a scan failure of an account on first contact', scanFailedA, policy, false],
    ['an escalation', escalatedA, policy, false],
    ['a reminder', reminderAmy2, policy, false],
    ['a resolution', resolvedA, policy, false],
    ['an opened finding when baselines are off', openedA, { ...policy, baseline: false }, false],
  ])('%s', (_name, c, p, expected) => {
    expect(isBaselined(c, first, p)).toBe(expected);
  });
});

describe('checkPolicy', () => {
  it('accepts the defaults, ANNOUNCE_EVERYTHING and both bounds, returning the policy itself', () => {
    for (const p of [
      DEFAULT_NOTIFICATION_POLICY,
      ANNOUNCE_EVERYTHING,
      { ...DEFAULT_NOTIFICATION_POLICY, maxMessagesPerRun: MESSAGE_CAP_BOUNDS.min },
      { ...DEFAULT_NOTIFICATION_POLICY, maxMessagesPerRun: MESSAGE_CAP_BOUNDS.max },
    ]) {
      expect(checkPolicy(p)).toBe(p);
    }
    expect(MESSAGE_CAP_BOUNDS).toEqual({ min: 2, max: 1000 });
  });

  it.each([1, 0, -3, 1001, 2.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses maxMessagesPerRun %p, naming the field, the bounds and the value',
    (cap) => {
      const call = () => checkPolicy({ ...DEFAULT_NOTIFICATION_POLICY, maxMessagesPerRun: cap });
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(
        `notifications: maxMessagesPerRun must be a whole number from 2 to 1000, got ${cap}`,
      );
    },
  );

  it('refuses an unknown reminder mode, listing the modes', () => {
    const call = () =>
      checkPolicy({ ...DEFAULT_NOTIFICATION_POLICY, reminders: 'daily' as NotificationPolicy['reminders'] });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow('notifications: reminders must be one of roll-up, per-finding, got daily');
  });
});

describe('capMessages', () => {
  const messages = (n: number): (Carrying & { i: number })[] =>
    Array.from({ length: n }, (_, i) => ({ i, carries: [] }));
  const order = (ms: readonly { i: number }[]) => ms.map((m) => m.i);

  it('folds nothing at or under the cap', () => {
    for (const [n, max] of [
      [0, 2],
      [1, 2],
      [2, 2],
      [9, 10],
      [10, 10],
    ] as const) {
      const all = messages(n);
      const { kept, folded } = capMessages(all, max);
      expect(order(kept)).toEqual(order(all));
      expect(folded).toEqual([]);
    }
  });

  it('keeps max-1 and folds the rest one over the cap (so the overflow makes exactly max)', () => {
    const { kept, folded } = capMessages(messages(11), 10);
    expect(order(kept)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(order(folded)).toEqual([9, 10]);
  });

  it('keeps one message and folds every other at max=2', () => {
    const { kept, folded } = capMessages(messages(7), 2);
    expect(order(kept)).toEqual([0]);
    expect(order(folded)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('over the cap: kept + the overflow is exactly max, and kept then folded is the input, in order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 0, max: 120 }), (max, n) => {
        const all = messages(n);
        const { kept, folded } = capMessages(all, max);
        expect([...order(kept), ...order(folded)]).toEqual(order(all));
        if (n <= max) expect(folded).toHaveLength(0);
        else {
          expect(kept.length + 1).toBe(max);
          expect(folded.length).toBeGreaterThanOrEqual(2);
        }
      }),
    );
  });
});
