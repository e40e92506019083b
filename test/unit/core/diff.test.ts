import fc from 'fast-check';
import { CHANGE_KINDS, compareChanges, diff, nextStates, pages } from '../../../lambda/core/diff';
import { ConfigError } from '../../../lambda/core/errors';
import type { Change, FindingState } from '../../../lambda/core/state';
import { type Finding, type Severity, severityRank } from '../../../lambda/core/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INTERVAL = 7 * DAY;
const options = { reminderIntervalMs: INTERVAL };
const NOW = new Date('2026-05-04T06:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

function finding(user: string, severity: Severity = 'warning', extra: Partial<Finding> = {}): Finding {
  return {
    id: `123456789012/${user}/access-key-age/AKIA${user.toUpperCase()}`,
    accountId: '123456789012',
    user,
    arn: `arn:aws:iam::123456789012:user/${user}`,
    rule: 'access-key-age',
    severity,
    credential: `AKIA${user.toUpperCase()}`,
    accessKeyId: `AKIA${user.toUpperCase()}`,
    days: severity === 'critical' ? 95 : 85,
    thresholdDays: severity === 'critical' ? 90 : 80,
    summary: `Access key of ${user} is old; rotate it.`,
    ...extra,
  };
}

function state(f: Finding, extra: Partial<FindingState> = {}): FindingState {
  return {
    id: f.id,
    accountId: f.accountId,
    status: 'open',
    notifiedSeverity: f.severity,
    firstSeen: ago(3 * DAY),
    lastNotifiedAt: ago(1 * DAY),
    scanTime: ago(1 * DAY),
    finding: f,
    ...extra,
  };
}

const exemption = { until: '2026-12-31', reason: 'migration' };
const alice = finding('alice');
const aliceCritical = finding('alice', 'critical');

describe('diff', () => {
  it.each<{ name: string; findings: Finding[]; states: FindingState[]; expected: Change[] }>([
    {
      name: 'a new warning with no state is opened',
      findings: [alice],
      states: [],
      expected: [{ kind: 'opened', finding: alice }],
    },
    {
      name: 'a new critical with no state is opened',
      findings: [aliceCritical],
      states: [],
      expected: [{ kind: 'opened', finding: aliceCritical }],
    },
    {
      name: 'an info finding is not announced',
      findings: [finding('alice', 'info')],
      states: [],
      expected: [],
    },
    {
      name: 'an exempted critical finding is not announced',
      findings: [finding('alice', 'critical', { exemption })],
      states: [],
      expected: [],
    },
    {
      name: 'an open warning that became critical is escalated',
      findings: [aliceCritical],
      states: [state(alice)],
      expected: [{ kind: 'escalated', finding: aliceCritical, previous: state(alice) }],
    },
    {
      name: 'an open critical that became a warning is not announced within the interval',
      findings: [alice],
      states: [state(aliceCritical)],
      expected: [],
    },
    {
      name: 'an open finding announced less than the interval ago is not announced',
      findings: [alice],
      states: [state(alice, { lastNotifiedAt: new Date(NOW.getTime() - INTERVAL + 1).toISOString() })],
      expected: [],
    },
    {
      name: 'an open finding announced exactly the interval ago gets a reminder',
      findings: [alice],
      states: [state(alice, { lastNotifiedAt: ago(INTERVAL) })],
      expected: [
        { kind: 'reminder', finding: alice, previous: state(alice, { lastNotifiedAt: ago(INTERVAL) }) },
      ],
    },
    {
      name: 'a reminder carries the current finding, not the remembered one',
      findings: [alice],
      states: [state(aliceCritical, { lastNotifiedAt: ago(INTERVAL + 1) })],
      expected: [
        {
          kind: 'reminder',
          finding: alice,
          previous: state(aliceCritical, { lastNotifiedAt: ago(INTERVAL + 1) }),
        },
      ],
    },
    {
      name: 'an open finding with an unreadable lastNotifiedAt gets a reminder',
      findings: [alice],
      states: [state(alice, { lastNotifiedAt: 'yesterday' })],
      expected: [
        { kind: 'reminder', finding: alice, previous: state(alice, { lastNotifiedAt: 'yesterday' }) },
      ],
    },
    {
      name: 'an open finding that is gone is resolved with the finding as announced',
      findings: [],
      states: [state(aliceCritical)],
      expected: [{ kind: 'resolved', finding: aliceCritical, previous: state(aliceCritical) }],
    },
    {
      name: 'an open finding that fell below warning is resolved',
      findings: [finding('alice', 'info')],
      states: [state(alice)],
      expected: [{ kind: 'resolved', finding: alice, previous: state(alice) }],
    },
    {
      name: 'an open finding that became exempt is resolved',
      findings: [finding('alice', 'warning', { exemption })],
      states: [state(alice)],
      expected: [{ kind: 'resolved', finding: alice, previous: state(alice) }],
    },
    {
      name: 'a resolved state of an absent finding is not resolved again',
      findings: [],
      states: [state(alice, { status: 'resolved' })],
      expected: [],
    },
    {
      name: 'a finding that comes back after it was resolved is opened again',
      findings: [alice],
      states: [state(alice, { status: 'resolved', lastNotifiedAt: ago(HOUR) })],
      expected: [
        {
          kind: 'opened',
          finding: alice,
          previous: state(alice, { status: 'resolved', lastNotifiedAt: ago(HOUR) }),
        },
      ],
    },
  ])('$name', ({ findings, states, expected }) => {
    expect(diff(findings, states, NOW, options)).toEqual(expected);
  });

  it('orders changes by kind, then severity (most severe first), then id', () => {
    const findings = [
      finding('zed', 'warning'),
      finding('amy', 'warning'),
      finding('kim', 'critical'),
      finding('bea', 'critical'),
      finding('dan', 'warning'),
    ];
    const states = [
      state(finding('bea', 'warning')), // escalated
      state(finding('dan'), { lastNotifiedAt: ago(INTERVAL) }), // reminder
      state(finding('old', 'warning')), // resolved
      state(finding('eve', 'critical')), // resolved
    ];
    const changes = diff(findings, states, NOW, options);
    expect(changes.map((c) => `${c.kind} ${c.finding.user}`)).toEqual([
      'opened kim',
      'opened amy',
      'opened zed',
      'escalated bea',
      'reminder dan',
      'resolved eve',
      'resolved old',
    ]);
  });

  it('counts several findings with one id once, at the highest severity', () => {
    const changes = diff([alice, aliceCritical, alice], [], NOW, options);
    expect(changes).toEqual([{ kind: 'opened', finding: aliceCritical }]);
  });

  it('keeps the access key id a finding was announced with when it was not read live this time', () => {
    const { accessKeyId: announcedId, ...unconfirmed } = alice;
    const states = [state(alice, { lastNotifiedAt: ago(INTERVAL) })];
    expect(announcedId).toBe('AKIAALICE');
    expect(diff([unconfirmed], states, NOW, options)).toEqual([
      { kind: 'reminder', finding: alice, previous: states[0] },
    ]);
    // A finding read live keeps its own id.
    const live = { ...alice, accessKeyId: 'AKIAEXAMPLE000000002' };
    expect(diff([live], states, NOW, options)[0]!.finding.accessKeyId).toBe('AKIAEXAMPLE000000002');
  });

  it('never sends reminders when the interval is Infinity', () => {
    const states = [state(alice, { lastNotifiedAt: '2000-01-01T00:00:00.000Z' })];
    expect(diff([alice], states, NOW, { reminderIntervalMs: Number.POSITIVE_INFINITY })).toEqual([]);
  });

  it.each([0, -1, Number.NaN])('rejects a reminder interval of %p with a ConfigError', (ms) => {
    expect(() => diff([], [], NOW, { reminderIntervalMs: ms })).toThrow(
      new ConfigError(`diff: reminderIntervalMs must be a number > 0 (or Infinity), got ${ms}`),
    );
  });
});

describe('nextStates', () => {
  const scanTime = new Date('2026-05-04T06:00:00.000Z');
  const at = scanTime.toISOString();

  it('opens a state for an opened finding, first seen and notified now', () => {
    expect(nextStates([{ kind: 'opened', finding: aliceCritical }], scanTime)).toEqual([
      {
        id: aliceCritical.id,
        accountId: '123456789012',
        status: 'open',
        notifiedSeverity: 'critical',
        firstSeen: at,
        lastNotifiedAt: at,
        scanTime: at,
        finding: aliceCritical,
      },
    ]);
  });

  it('starts a new episode when a resolved finding is opened again', () => {
    const previous = state(alice, { status: 'resolved', firstSeen: '2026-01-01T00:00:00.000Z' });
    const [next] = nextStates([{ kind: 'opened', finding: alice, previous }], scanTime);
    expect(next).toMatchObject({ status: 'open', firstSeen: at });
  });

  it.each(['escalated', 'reminder'] as const)('keeps firstSeen and updates the rest for %s', (kind) => {
    const previous = state(alice, { firstSeen: '2026-04-01T00:00:00.000Z' });
    expect(nextStates([{ kind, finding: aliceCritical, previous }], scanTime)).toEqual([
      {
        id: alice.id,
        accountId: '123456789012',
        status: 'open',
        notifiedSeverity: 'critical',
        firstSeen: '2026-04-01T00:00:00.000Z',
        lastNotifiedAt: at,
        scanTime: at,
        finding: aliceCritical,
      },
    ]);
  });

  it('marks a resolved finding resolved, keeping what was announced', () => {
    const previous = state(aliceCritical, { firstSeen: '2026-04-01T00:00:00.000Z' });
    expect(nextStates([{ kind: 'resolved', finding: aliceCritical, previous }], scanTime)).toEqual([
      {
        id: alice.id,
        accountId: '123456789012',
        status: 'resolved',
        notifiedSeverity: 'critical',
        firstSeen: '2026-04-01T00:00:00.000Z',
        lastNotifiedAt: at,
        scanTime: at,
        finding: aliceCritical,
      },
    ]);
  });
});

// ---- properties ----

const USERS = Array.from({ length: 12 }, (_, i) => `user${i}`);
const severityArb = fc.constantFrom<Severity>('info', 'warning', 'critical');

const findingArb = fc
  .record({ user: fc.constantFrom(...USERS), severity: severityArb, exempt: fc.boolean() })
  .map(({ user, severity, exempt }) => finding(user, severity, exempt ? { exemption } : {}));
const findingsArb = fc.uniqueArray(findingArb, { selector: (f) => f.id, maxLength: USERS.length });

const stateArb = fc
  .record({
    user: fc.constantFrom(...USERS),
    status: fc.constantFrom<'open' | 'resolved'>('open', 'resolved'),
    notifiedSeverity: fc.constantFrom<Severity>('warning', 'critical'),
    sinceNotified: fc.integer({ min: 0, max: 3 * INTERVAL }),
  })
  .map(({ user, status, notifiedSeverity, sinceNotified }) =>
    state(finding(user, notifiedSeverity), {
      status,
      lastNotifiedAt: ago(sinceNotified),
      firstSeen: ago(sinceNotified + DAY),
    }),
  );
const statesArb = fc.uniqueArray(stateArb, { selector: (s) => s.id, maxLength: USERS.length });

/** The table after writing `written` over `states`. */
function apply(states: readonly FindingState[], written: readonly FindingState[]): FindingState[] {
  const byId = new Map(states.map((s) => [s.id, s]));
  for (const s of written) byId.set(s.id, s);
  return [...byId.values()];
}

describe('diff properties', () => {
  it('announces nothing when run again at the same time after everything was delivered', () => {
    fc.assert(
      fc.property(findingsArb, statesArb, (findings, states) => {
        const changes = diff(findings, states, NOW, options);
        const after = apply(states, nextStates(changes, NOW));
        expect(diff(findings, after, NOW, options)).toEqual([]);
      }),
    );
  });

  it('never announces a finding that stays open twice within the reminder interval', () => {
    const scenario = fc.record({
      findings: fc.uniqueArray(
        fc.record({
          user: fc.constantFrom(...USERS),
          severity: fc.constantFrom<Severity>('warning', 'critical'),
        }),
        { selector: (f) => f.user, minLength: 1 },
      ),
      steps: fc.array(
        fc.record({
          ms: fc.integer({ min: 1, max: INTERVAL - 1 }),
          relax: fc.array(fc.boolean(), { minLength: 12 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
    });
    fc.assert(
      fc.property(scenario, ({ findings, steps }) => {
        let states: FindingState[] = [];
        let t = NOW.getTime();
        const announced = new Map<string, { at: number; kind: string }[]>();
        const relaxed = new Set<number>();
        for (const step of [{ ms: 0, relax: [] as boolean[] }, ...steps]) {
          t += step.ms;
          // A finding may get less severe (critical -> warning, for good) but never more severe.
          for (const [i, r] of step.relax.entries()) if (r) relaxed.add(i);
          const current = findings.map(({ user, severity }, i) =>
            finding(user, relaxed.has(i) ? 'warning' : severity),
          );
          const changes = diff(current, states, new Date(t), options);
          for (const c of changes) {
            announced.set(c.finding.id, [...(announced.get(c.finding.id) ?? []), { at: t, kind: c.kind }]);
          }
          states = apply(states, nextStates(changes, new Date(t)));
        }
        for (const [, times] of announced) {
          expect(times[0]?.kind).toBe('opened');
          for (let i = 1; i < times.length; i++) {
            expect(times[i]?.kind).toBe('reminder');
            expect(times[i]!.at - times[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL);
          }
        }
        expect(announced.size).toBe(findings.length);
      }),
    );
  });

  it('never produces a change for info or exempted findings without open state', () => {
    const quiet = fc
      .record({ user: fc.constantFrom(...USERS), severity: severityArb })
      .map(({ user, severity }) =>
        severity === 'info' ? finding(user, 'info') : finding(user, severity, { exemption }),
      );
    const resolvedStates = statesArb.map((ss) => ss.map((s) => ({ ...s, status: 'resolved' as const })));
    fc.assert(
      fc.property(fc.uniqueArray(quiet, { selector: (f) => f.id }), resolvedStates, (findings, states) => {
        expect(diff(findings, states, NOW, options)).toEqual([]);
      }),
    );
  });

  it('resolves every previously open id that no longer pages exactly once, and nothing else', () => {
    fc.assert(
      fc.property(findingsArb, statesArb, (findings, states) => {
        const paging = new Set(findings.filter(pages).map((f) => f.id));
        const expected = states.filter((s) => s.status === 'open' && !paging.has(s.id));
        const resolved = diff(findings, states, NOW, options).filter((c) => c.kind === 'resolved');
        expect([...resolved].sort(compareChanges)).toEqual(resolved);
        expect(resolved.map((c) => c.finding.id).sort()).toEqual(expected.map((s) => s.id).sort());
        for (const c of resolved) expect(c.finding).toBe(c.previous?.finding);
      }),
    );
  });

  it('returns each id at most once, sorted by kind, severity and id', () => {
    fc.assert(
      fc.property(findingsArb, statesArb, (findings, states) => {
        const changes = diff(findings, states, NOW, options);
        expect(new Set(changes.map((c) => c.finding.id)).size).toBe(changes.length);
        for (let i = 1; i < changes.length; i++) {
          const [a, b] = [changes[i - 1]!, changes[i]!];
          const byKind = CHANGE_KINDS.indexOf(a.kind) - CHANGE_KINDS.indexOf(b.kind);
          const bySeverity = severityRank(b.finding.severity) - severityRank(a.finding.severity);
          expect(
            byKind < 0 ||
              (byKind === 0 && (bySeverity < 0 || (bySeverity === 0 && a.finding.id < b.finding.id))),
          ).toBe(true);
        }
      }),
    );
  });
});

describe('diff of notices announced once (exemption-granted)', () => {
  const notice = finding('carol', 'info', {
    id: '123456789012/carol/exemption-granted/until-2026-12-31-0a1b2c3d',
    rule: 'exemption-granted',
    credential: 'until-2026-12-31-0a1b2c3d',
    summary: 'carol is exempted until 2026-12-31; reason: migration.',
  });

  it('opens an info-level notice, which a plain info finding would not', () => {
    expect(pages(notice)).toBe(true);
    expect(pages({ ...notice, rule: 'multiple-active-keys' })).toBe(false);
    expect(diff([notice], [], NOW, options)).toEqual([{ kind: 'opened', finding: notice }]);
  });

  it('never reminds of it, however long it stays', () => {
    const old = state(notice, { lastNotifiedAt: ago(100 * DAY), firstSeen: ago(100 * DAY) });
    expect(diff([notice], [old], NOW, options)).toEqual([]);
  });

  it('announces once that it ended', () => {
    const open = state(notice);
    expect(diff([], [open], NOW, options)).toEqual([{ kind: 'resolved', finding: notice, previous: open }]);
    expect(diff([], [{ ...open, status: 'resolved' }], NOW, options)).toEqual([]);
  });
});
