import fc from 'fast-check';
import type { Change, ChangeKind, FindingState } from '../../../lambda/core/state';
import {
  mergeTallies,
  SUMMARY_REASONS,
  summarize,
  summaryOf,
  tallyChanges,
} from '../../../lambda/core/summary';
import type { Finding, RuleId, Severity } from '../../../lambda/core/types';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';

interface Spec {
  account?: string;
  rule?: RuleId;
  severity?: Severity;
  days?: number;
  owner?: string;
  kind?: ChangeKind;
  /** previous.firstSeen; no previous when absent (a finding new this run). */
  firstSeen?: string;
}

function change(user: string, s: Spec = {}): Change {
  const accountId = s.account ?? A;
  const rule = s.rule ?? 'access-key-age';
  const finding: Finding = {
    id: `${accountId}/${user}/${rule}/key-2025-01-01T00:00:00Z`,
    accountId,
    user,
    arn: `arn:aws:iam::${accountId}:user/${user}`,
    rule,
    severity: s.severity ?? 'warning',
    credential: 'key-2025-01-01T00:00:00Z',
    ...(s.days !== undefined ? { days: s.days } : {}),
    ...(s.owner ? { owner: s.owner } : {}),
    summary: `${user} ${rule}`,
  };
  const kind = s.kind ?? (s.firstSeen ? 'reminder' : 'opened');
  if (!s.firstSeen) return { kind, finding };
  const previous: FindingState = {
    id: finding.id,
    accountId,
    status: 'open',
    notifiedSeverity: finding.severity,
    firstSeen: s.firstSeen,
    lastNotifiedAt: s.firstSeen,
    scanTime: s.firstSeen,
    finding,
  };
  return { kind, finding, previous };
}

const users = (items: readonly { user: string }[]) => items.map((i) => i.user);

/** Changes with ties in key age, first seen and owners, over three accounts. */
const orderPool = [
  change('a', { days: 100, owner: 'x@example.com', firstSeen: '2025-01-01T00:00:00Z' }),
  change('b', { days: 100, owner: 'y@example.com', firstSeen: '2025-01-01T00:00:00Z' }),
  change('c', { days: 300, severity: 'critical', account: B }),
  change('d', { rule: 'root-used', severity: 'critical', account: C, firstSeen: '2024-01-01T00:00:00Z' }),
  change('e', { kind: 'resolved', days: 999, firstSeen: '2020-01-01T00:00:00Z', owner: 'x@example.com' }),
  change('f', { days: 100, severity: 'critical', owner: 'y@example.com' }),
];

describe('summarize', () => {
  it('passes the reason through and counts every change by kind, the open ones by severity (zeros included)', () => {
    const changes = [
      change('a', { severity: 'critical' }),
      change('b', { severity: 'critical', kind: 'escalated', firstSeen: '2026-01-01T00:00:00Z' }),
      change('c', { kind: 'resolved', firstSeen: '2026-01-01T00:00:00Z' }),
      change('d', { firstSeen: '2026-01-01T00:00:00Z' }),
      change('e', { severity: 'info', rule: 'exemption-granted' }),
    ];
    for (const reason of SUMMARY_REASONS) {
      const s = summarize(reason, changes);
      expect(s.reason).toBe(reason);
      expect(s.total).toBe(5);
      expect(s.bySeverity).toEqual({ info: 1, warning: 1, critical: 2 }); // c, resolved, is not open
      expect(s.byKind).toEqual({ opened: 2, escalated: 1, reminder: 1, resolved: 1 });
    }
  });

  it('summarizes nothing as zeros and empty lists', () => {
    expect(summarize('overflow', [])).toEqual({
      reason: 'overflow',
      total: 0,
      byKind: { opened: 0, escalated: 0, reminder: 0, resolved: 0 },
      bySeverity: { info: 0, warning: 0, critical: 0 },
      byRule: [],
      byAccount: [],
      oldestKeys: [],
      longestOpen: [],
      topOwners: [],
      withoutOwner: 0,
    });
  });

  it('orders rules and accounts by count, most first, ties by id', () => {
    const changes = [
      change('a1', { account: C, rule: 'password-unused' }),
      change('a2', { account: B, rule: 'root-used' }),
      change('a3', { account: C, rule: 'access-key-unused' }),
      change('a4', { account: A, rule: 'root-used' }),
      change('a5', { account: B, rule: 'password-unused' }),
      change('a6', { account: C, rule: 'access-key-age' }),
      change('a7', { account: B, rule: 'password-unused' }),
    ];
    const s = summarize('baseline', changes);
    expect(s.byRule).toEqual([
      { rule: 'password-unused', count: 3 },
      { rule: 'root-used', count: 2 },
      { rule: 'access-key-age', count: 1 },
      { rule: 'access-key-unused', count: 1 },
    ]);
    // B and C both have 3: B first (by id); A last.
    expect(s.byAccount).toEqual([
      { accountId: B, count: 3 },
      { accountId: C, count: 3 },
      { accountId: A, count: 1 },
    ]);
  });

  it('lists the oldest access keys, oldest first: only access-key-age, never resolved, never without days', () => {
    const changes = [
      change('young', { days: 91 }),
      change('unused', { rule: 'access-key-unused', days: 900 }),
      change('password', { rule: 'password-age', days: 800 }),
      change('fixed', { days: 700, kind: 'resolved', firstSeen: '2025-01-01T00:00:00Z' }),
      change('nodays'),
      change('oldest', { days: 400 }),
      change('middle', { days: 200, firstSeen: '2025-06-01T00:00:00Z' }),
    ];
    const s = summarize('roll-up', changes);
    expect(users(s.oldestKeys)).toEqual(['oldest', 'middle', 'young']);
    expect(s.oldestKeys[1]).toEqual({
      accountId: A,
      user: 'middle',
      rule: 'access-key-age',
      severity: 'warning',
      credential: 'key-2025-01-01T00:00:00Z',
      days: 200,
      firstSeen: '2025-06-01T00:00:00Z',
    });
    // No firstSeen or owner key for a finding new this run without an owner.
    expect(Object.keys(s.oldestKeys[0]!).sort()).toEqual(
      ['accountId', 'credential', 'days', 'rule', 'severity', 'user'].sort(),
    );
  });

  it('breaks ties in key age by severity (most severe first), then id', () => {
    const changes = [
      change('b', { days: 100 }),
      change('a', { days: 100 }),
      change('z', { days: 100, severity: 'critical' }),
    ];
    expect(users(summarize('baseline', changes).oldestKeys)).toEqual(['z', 'a', 'b']);
  });

  it('lists the findings open longest by previous.firstSeen as a time, not as a string', () => {
    const changes = [
      change('new'), // no previous: not listed
      change('resolved', { kind: 'resolved', firstSeen: '2020-01-01T00:00:00Z' }),
      change('later', { firstSeen: '2026-01-01T05:00:00Z' }),
      // 04:00Z: earlier than "later" though its string sorts after it.
      change('offset', { firstSeen: '2026-01-01T06:00:00+02:00' }),
      change('earliest', { firstSeen: '2025-12-31T00:00:00.000Z', kind: 'escalated' }),
    ];
    const s = summarize('roll-up', changes);
    expect(users(s.longestOpen)).toEqual(['earliest', 'offset', 'later']);
    expect(s.longestOpen.map((i) => i.firstSeen)).toEqual([
      '2025-12-31T00:00:00.000Z',
      '2026-01-01T06:00:00+02:00',
      '2026-01-01T05:00:00Z',
    ]);
  });

  it('lists nothing open longest for a baseline (no finding has a previous state)', () => {
    const s = summarize('baseline', [change('a', { days: 100 }), change('b', { days: 200 })]);
    expect(s.longestOpen).toEqual([]);
    expect(users(s.oldestKeys)).toEqual(['b', 'a']);
  });

  it('breaks ties in firstSeen by severity, then id', () => {
    const at = '2025-01-01T00:00:00Z';
    const changes = [
      change('y', { firstSeen: at }),
      change('x', { firstSeen: at }),
      change('w', {
        firstSeen: at,
        severity: 'critical',
      }),
    ];
    expect(users(summarize('roll-up', changes).longestOpen)).toEqual(['w', 'x', 'y']);
  });

  it('counts owners, most first, ties by owner, and the findings without one', () => {
    const changes = [
      change('a', { owner: 'zed@example.com' }),
      change('b', { owner: 'U0ABC' }),
      change('c', { owner: 'zed@example.com' }),
      change('d', { owner: 'amy@example.com' }),
      change('e'),
      change('f', { owner: 'amy@example.com' }),
      change('g', { owner: 'U0ABC' }),
      change('h'),
      change('i', { owner: 'bob@example.com' }),
    ];
    const s = summarize('roll-up', changes);
    expect(s.topOwners).toEqual([
      { owner: 'U0ABC', count: 2 },
      { owner: 'amy@example.com', count: 2 },
      { owner: 'zed@example.com', count: 2 },
      { owner: 'bob@example.com', count: 1 },
    ]);
    expect(s.withoutOwner).toBe(2);
  });

  it('limits oldest keys, longest open and owners to `top` (default 5), never the counts', () => {
    const changes = Array.from({ length: 12 }, (_, i) =>
      change(`u${String(i).padStart(2, '0')}`, {
        account: i % 2 ? A : B,
        days: 100 + i,
        owner: `owner${String(i).padStart(2, '0')}@example.com`,
        firstSeen: `2025-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`,
      }),
    );
    const byDefault = summarize('roll-up', changes);
    expect(users(byDefault.oldestKeys)).toEqual(['u11', 'u10', 'u09', 'u08', 'u07']);
    expect(users(byDefault.longestOpen)).toEqual(['u00', 'u01', 'u02', 'u03', 'u04']);
    expect(byDefault.topOwners.map((o) => o.owner)).toEqual([
      'owner00@example.com',
      'owner01@example.com',
      'owner02@example.com',
      'owner03@example.com',
      'owner04@example.com',
    ]);
    expect(byDefault.total).toBe(12);
    expect(byDefault.byAccount).toEqual([
      { accountId: A, count: 6 },
      { accountId: B, count: 6 },
    ]);
    const two = summarize('roll-up', changes, 2);
    expect(users(two.oldestKeys)).toEqual(['u11', 'u10']);
    expect(users(two.longestOpen)).toEqual(['u00', 'u01']);
    expect(two.topOwners).toHaveLength(2);
    expect(two.withoutOwner).toBe(0);
    expect(summarize('roll-up', changes, 0).oldestKeys).toEqual([]);
  });

  it('does not depend on the order of the changes', () => {
    const pool = orderPool;
    const expected = summarize('overflow', pool, 3);
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length }), (shuffled) => {
        expect(summarize('overflow', shuffled, 3)).toEqual(expected);
      }),
    );
  });
});

describe('summary tallies', () => {
  // Ties everywhere: equal key ages, equal first-seen times, owners with equal counts, several accounts.
  const pool = [
    ...orderPool,
    change('g', {
      days: 250,
      account: B,
      owner: 'z@example.com',
      kind: 'escalated',
      firstSeen: '2023-06-01T00:00:00Z',
    }),
    change('h', { days: 100, account: C, owner: 'z@example.com' }),
    change('i', { rule: 'password-age', severity: 'info', firstSeen: '2023-06-01T00:00:00Z' }),
    change('j', { days: 400, severity: 'info', account: C }),
  ];

  it('merged from the tallies of any split of the changes, in any order, is the summary of them all', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(pool, { minLength: pool.length }),
        fc.array(fc.integer({ min: 0, max: pool.length }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (shuffled, cuts, top) => {
          const bounds = [0, ...[...cuts].sort((x, y) => x - y), shuffled.length];
          const parts = bounds.slice(1).map((end, k) => shuffled.slice(bounds[k], end));
          const tally = mergeTallies(
            parts.map((p) => tallyChanges(p, top)),
            top,
          );
          expect(summaryOf('baseline', tally, top)).toEqual(summarize('baseline', pool, top));
        },
      ),
    );
  });

  it('keeps at most `top` candidates of each list, so a tally of many changes stays small', () => {
    const t = tallyChanges(pool, 2);
    expect(t.oldestKeys).toHaveLength(2);
    expect(t.longestOpen).toHaveLength(2);
    expect(t.oldestKeys.map((r) => r.item.user)).toEqual(['j', 'c']);
    expect(
      mergeTallies([t, tallyChanges([change('k', { days: 500 })], 2)], 2).oldestKeys.map((r) => r.item.user),
    ).toEqual(['k', 'j']);
  });

  it("counts owners whatever they are named, Object's own properties too (an owner tag is user data)", () => {
    const odd = ['constructor', '__proto__', 'toString', 'hasOwnProperty'].flatMap((owner, i) =>
      Array.from({ length: i + 1 }, (_, n) => change(`${owner}-${n}`, { owner })),
    );
    const all = [...odd, change('nobody')];
    const expected = {
      topOwners: [
        { owner: 'hasOwnProperty', count: 4 },
        { owner: 'toString', count: 3 },
        { owner: '__proto__', count: 2 },
        { owner: 'constructor', count: 1 },
      ],
      withoutOwner: 1,
    };
    expect(summarize('roll-up', all)).toMatchObject(expected);
    expect(
      summaryOf('roll-up', mergeTallies([tallyChanges(odd.slice(0, 4)), tallyChanges(all.slice(4))])),
    ).toMatchObject(expected);
  });

  it("merges thousands of tallies at once (an organization's first scan: one a channel and account)", () => {
    const many = Array.from({ length: 5000 }, (_, a) =>
      tallyChanges(
        Array.from({ length: 3 }, (_, n) =>
          change(`u${n}`, {
            account: String(100000000000 + a),
            owner: `owner-${a}-${n}@example.com`,
            days: a + n,
          }),
        ),
      ),
    );
    const merged = mergeTallies(many);
    expect(merged.total).toBe(15000);
    expect(merged.byAccount).toHaveLength(5000);
    expect(merged.byOwner).toHaveLength(15000);
    expect(merged.oldestKeys.map((r) => r.item.days)).toEqual([5001, 5000, 5000, 4999, 4999]);
  });
});
