/**
 * A finding's lifecycle in each channel that announces it (lambda/core/lanes.ts): changes against
 * each channel's own state, a channel that has not heard of an open finding reminded of it, a
 * channel the finding left closed silently, resolutions where the finding was announced.
 */
import { nextStates } from '../../../lambda/core/diff';
import { fromOwnLane, laneChanges, representatives, resolutionAnnounced } from '../../../lambda/core/lanes';
import type { Change, FindingState } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';

const A = '111111111111';
const DAY = 86_400_000;
const T0 = new Date('2026-12-01T12:00:00Z');
const LATER = new Date(T0.getTime() + 2 * DAY);
const OPTIONS = { reminderIntervalMs: DAY };

const finding = (over: Partial<Finding> = {}): Finding => ({
  id: `${A}/alice/access-key-age/key-2026-01-01T00:00:00Z`,
  accountId: A,
  user: 'alice',
  arn: `arn:aws:iam::${A}:user/alice`,
  rule: 'access-key-age',
  severity: 'warning',
  credential: 'key-2026-01-01T00:00:00Z',
  summary: 'Access key is 100 days old.',
  ...over,
});
const bob = finding({
  id: `${A}/bob/access-key-age/key-2026-02-01T00:00:00Z`,
  user: 'bob',
  credential: 'key-2026-02-01T00:00:00Z',
});

/** The states a delivered run leaves: its changes remembered, the lanes it closed, the rest as they were. */
function remembered(
  states: readonly FindingState[],
  run: ReturnType<typeof laneChanges>,
  at: Date,
): FindingState[] {
  const key = (s: FindingState) => `${s.id}\n${s.channel ?? 'default'}`;
  const next = new Map(states.map((s) => [key(s), s]));
  for (const s of [...nextStates(run.changes, at), ...run.retired]) next.set(key(s), s);
  return [...next.values()];
}

const said = (changes: readonly Change[]) => changes.map((c) => [c.kind, c.finding.user, c.channel]);

describe('laneChanges', () => {
  const slackAndTeams = () => ['security', 'security-teams'];
  const channels = ['security', 'security-teams'];

  it('gives a finding announced in two channels a lifecycle in each: opened, reminded and resolved in both', () => {
    const first = laneChanges([finding()], [], T0, OPTIONS, slackAndTeams, 'security', channels);
    expect(said(first.changes)).toEqual([
      ['opened', 'alice', 'security'],
      ['opened', 'alice', 'security-teams'],
    ]);
    expect(first.retired).toEqual([]);
    const states = remembered([], first, T0);
    expect(states.map((s) => s.channel)).toEqual(['security', 'security-teams']);
    // Quiet within the interval, reminded in both after it, resolved in both when fixed.
    expect(
      laneChanges([finding()], states, T0, OPTIONS, slackAndTeams, 'security', channels).changes,
    ).toEqual([]);
    const reminded = laneChanges([finding()], states, LATER, OPTIONS, slackAndTeams, 'security', channels);
    expect(said(reminded.changes)).toEqual([
      ['reminder', 'alice', 'security'],
      ['reminder', 'alice', 'security-teams'],
    ]);
    expect(reminded.changes.every((c) => fromOwnLane(c, 'security'))).toBe(true);
    const resolved = laneChanges([], states, LATER, OPTIONS, slackAndTeams, 'security', channels);
    expect(said(resolved.changes)).toEqual([
      ['resolved', 'alice', 'security'],
      ['resolved', 'alice', 'security-teams'],
    ]);
    // Each resolution carries its own channel's state (its own thread, its own first announcement).
    expect(resolved.changes.map((c) => c.previous?.channel)).toEqual(['security', 'security-teams']);
  });

  it('a channel that missed an announcement hears it later; the one that heard it is not told twice', () => {
    const first = laneChanges([finding()], [], T0, OPTIONS, slackAndTeams, 'security', channels);
    // Only Slack's message was delivered: only its state was written.
    const states = nextStates(
      first.changes.filter((c) => c.channel === 'security'),
      T0,
    );
    const next = laneChanges(
      [finding()],
      states,
      new Date(T0.getTime() + 600_000),
      OPTIONS,
      slackAndTeams,
      'security',
      channels,
    );
    expect(said(next.changes)).toEqual([['reminder', 'alice', 'security-teams']]);
    // ... as open since it was first seen, carrying the Slack lane as what was said before.
    expect(next.changes[0]!.previous).toEqual(states[0]);
    expect(fromOwnLane(next.changes[0]!, 'security')).toBe(false);
    // Worse meanwhile: told it is worse, not new.
    const worse = { ...finding(), severity: 'critical' as const };
    expect(
      said(laneChanges([worse], states, T0, OPTIONS, slackAndTeams, 'security', channels).changes),
    ).toEqual([
      ['escalated', 'alice', 'security'],
      ['escalated', 'alice', 'security-teams'],
    ]);
  });

  it('a mirror added later is reminded of what is open; a mirror removed hears nothing more and its lane closes', () => {
    const onlySlack = () => ['security'];
    const states = remembered(
      [],
      laneChanges([finding()], [], T0, OPTIONS, onlySlack, 'security', ['security']),
      T0,
    );
    const added = laneChanges([finding()], states, T0, OPTIONS, slackAndTeams, 'security', channels);
    expect(said(added.changes)).toEqual([['reminder', 'alice', 'security-teams']]);
    const both = remembered(states, added, T0);
    // Teams is still a channel (say, a route's) but no longer this finding's: closed, silently.
    const removed = laneChanges([finding()], both, LATER, OPTIONS, onlySlack, 'security', channels);
    expect(said(removed.changes)).toEqual([['reminder', 'alice', 'security']]);
    expect(removed.retired.map((s) => [s.channel, s.status, s.scanTime])).toEqual([
      ['security-teams', 'resolved', LATER.toISOString()],
    ]);
    // Once closed, the finding's resolution is said only where it is open.
    const closed = remembered(both, removed, LATER);
    expect(said(laneChanges([], closed, LATER, OPTIONS, onlySlack, 'security', channels).changes)).toEqual([
      ['resolved', 'alice', 'security'],
    ]);
  });

  it('moves a finding whose route changed: reminded in its new channel keeping its key id, its old lane closed, then quiet', () => {
    const byTeam = (f: Finding) => [f.user === 'alice' ? 'payments' : 'ops'];
    const before = finding({ accessKeyId: 'AKIAEXAMPLE' });
    const states = nextStates([{ kind: 'opened', finding: before, channel: 'ops' }], T0);
    const now = finding();
    const moved = laneChanges([now], states, T0, OPTIONS, byTeam, 'ops', ['ops', 'payments']);
    expect(moved.changes).toEqual([
      {
        kind: 'reminder',
        finding: { ...now, accessKeyId: 'AKIAEXAMPLE' },
        previous: states[0],
        channel: 'payments',
      },
    ]);
    expect(moved.retired.map((s) => [s.channel, s.status])).toEqual([['ops', 'resolved']]);
    const next = remembered(states, moved, T0);
    expect(laneChanges([now], next, T0, OPTIONS, byTeam, 'ops', ['ops', 'payments'])).toEqual({
      changes: [],
      retired: [],
    });
  });

  it("reads a state written before routing as the default channel's, and a notice stays where it was said", () => {
    const legacy = nextStates([{ kind: 'opened', finding: finding() }], T0);
    expect(legacy[0]!.channel).toBeUndefined();
    expect(laneChanges([finding()], legacy, T0, OPTIONS, () => ['ops'], 'ops', ['ops']).changes).toEqual([]);
    expect(said(laneChanges([], legacy, T0, OPTIONS, () => ['ops'], 'ops', ['ops']).changes)).toEqual([
      ['resolved', 'alice', 'ops'],
    ]);
    const notice = finding({
      id: `${A}/alice/exemption-granted/user`,
      rule: 'exemption-granted',
      severity: 'info',
    });
    const noticed = nextStates([{ kind: 'opened', finding: notice, channel: 'ops' }], T0);
    const elsewhere = laneChanges([notice], noticed, LATER, OPTIONS, () => ['payments'], 'ops', [
      'ops',
      'payments',
    ]);
    expect(elsewhere).toEqual({ changes: [], retired: [] });
  });

  it('closes the lane of a channel the configuration no longer has; a finding gone is resolved in its channels now', () => {
    const states = nextStates(
      [
        { kind: 'opened', finding: finding(), channel: 'old' },
        { kind: 'opened', finding: bob, channel: 'old' },
      ],
      T0,
    );
    // alice is still open: reminded where she goes now; bob was fixed: resolved where he would go now.
    const run = laneChanges([finding()], states, T0, OPTIONS, slackAndTeams, 'security', channels);
    expect(said(run.changes)).toEqual([
      ['reminder', 'alice', 'security'],
      ['reminder', 'alice', 'security-teams'],
      ['resolved', 'bob', 'security'],
      ['resolved', 'bob', 'security-teams'],
    ]);
    expect(run.retired.map((s) => [s.finding.user, s.channel, s.status])).toEqual([
      ['alice', 'old', 'resolved'],
      ['bob', 'old', 'resolved'],
    ]);
    // A finding still open in a configured channel resolves there only; its removed channel's lane just closes.
    const mixed = nextStates(
      [
        { kind: 'opened', finding: bob, channel: 'old' },
        { kind: 'opened', finding: bob, channel: 'security' },
      ],
      T0,
    );
    const fixed = laneChanges([], mixed, T0, OPTIONS, slackAndTeams, 'security', channels);
    expect(said(fixed.changes)).toEqual([['resolved', 'bob', 'security']]);
    expect(fixed.retired.map((s) => s.channel)).toEqual(['old']);
  });

  it("marks a mirror's changes, so that a finding's events follow its own channel only", () => {
    const first = laneChanges([finding()], [], T0, OPTIONS, slackAndTeams, 'security', channels);
    expect(first.changes.map((c) => [c.channel, c.mirror])).toEqual([
      ['security', undefined],
      ['security-teams', true],
    ]);
    // ... its resolution too, once the finding is gone.
    const resolved = laneChanges(
      [],
      remembered([], first, T0),
      LATER,
      OPTIONS,
      slackAndTeams,
      'security',
      channels,
    );
    expect(resolved.changes.map((c) => [c.kind, c.channel, c.mirror])).toEqual([
      ['resolved', 'security', undefined],
      ['resolved', 'security-teams', true],
    ]);
  });

  it("on an account's first contact, a mirror that missed the baseline gets the findings as new (for its own baseline summary)", () => {
    const first = laneChanges([finding()], [], T0, OPTIONS, slackAndTeams, 'security', channels);
    // Only Slack's baseline summary was delivered.
    const states = nextStates(
      first.changes.filter((c) => c.channel === 'security'),
      T0,
      'baseline',
    );
    const next = laneChanges(
      [finding()],
      states,
      T0,
      { ...OPTIONS, firstContact: true },
      slackAndTeams,
      'security',
      channels,
    );
    expect(said(next.changes)).toEqual([['opened', 'alice', 'security-teams']]);
    expect(next.changes[0]!.previous).toBeUndefined();
  });

  it('a finding that comes back after a channel announced it resolved is new there, whatever a channel that missed the resolution still holds', () => {
    const states = remembered(
      [],
      laneChanges([finding()], [], T0, OPTIONS, slackAndTeams, 'security', channels),
      T0,
    );
    // Resolved: only Slack was told; Teams' state is still open.
    const fixed = laneChanges([], states, LATER, OPTIONS, slackAndTeams, 'security', channels);
    const afterFix = remembered(
      states,
      { changes: fixed.changes.filter((c) => c.channel === 'security'), retired: [] },
      LATER,
    );
    const back = new Date(LATER.getTime() + 3_600_000);
    const reopened = laneChanges([finding()], afterFix, back, OPTIONS, slackAndTeams, 'security', channels);
    // Slack is told it is new (not "still open"); Teams, whose state is still the old one, hears only
    // its own reminder when that is due.
    expect(said(reopened.changes)).toEqual([
      ['opened', 'alice', 'security'],
      ['reminder', 'alice', 'security-teams'],
    ]);
    expect(fromOwnLane(reopened.changes[1]!, 'security')).toBe(true);
  });

  it('a mirror that missed a notice hears it; a channel the notice moved to does not', () => {
    const notice = finding({
      id: `${A}/alice/access-key-final-notice/key-2026-01-01T00:00:00Z`,
      rule: 'access-key-final-notice',
      severity: 'warning',
    });
    const saidInSlack = nextStates([{ kind: 'opened', finding: notice, channel: 'security' }], T0);
    const mirror = laneChanges([notice], saidInSlack, T0, OPTIONS, slackAndTeams, 'security', channels);
    expect(said(mirror.changes)).toEqual([['opened', 'alice', 'security-teams']]);
    const moved = laneChanges(
      [notice],
      saidInSlack,
      T0,
      OPTIONS,
      () => ['security-teams'],
      'security',
      channels,
    );
    expect(moved).toEqual({ changes: [], retired: [] });
  });

  it('reminds every open lane for the roll-up (remindAll), channel by channel', () => {
    const states = remembered(
      [],
      laneChanges([finding(), bob], [], T0, OPTIONS, slackAndTeams, 'security', channels),
      T0,
    );
    const rollUp = laneChanges(
      [finding(), bob],
      states,
      T0,
      { ...OPTIONS, remindAll: true },
      slackAndTeams,
      'security',
      channels,
    );
    expect(rollUp.changes).toHaveLength(4);
    expect(new Set(rollUp.changes.map((c) => `${c.finding.user}/${c.channel}`)).size).toBe(4);
    expect(rollUp.changes.every((c) => c.kind === 'reminder')).toBe(true);
  });
});

describe('resolutionAnnounced', () => {
  it('tells a resolution a channel heard of from a lane closed silently', () => {
    const first = laneChanges([finding()], [], T0, OPTIONS, () => ['security'], 'security', ['security']);
    const states = remembered([], first, T0);
    const resolved = nextStates(
      laneChanges([], states, LATER, OPTIONS, () => ['security'], 'security', ['security']).changes,
      LATER,
    );
    expect(resolved.map(resolutionAnnounced)).toEqual([true]);
    const moved = laneChanges([finding()], states, LATER, OPTIONS, () => ['ops'], 'security', [
      'security',
      'ops',
    ]);
    expect(moved.retired.map(resolutionAnnounced)).toEqual([false]);
    expect(states.map(resolutionAnnounced)).toEqual([false]);
  });
});

describe('representatives', () => {
  it('picks, per finding, the open lane least said: lowest severity announced, then first seen earliest', () => {
    const [critical] = nextStates(
      [{ kind: 'opened', finding: { ...finding(), severity: 'critical' }, channel: 'a' }],
      T0,
    );
    const [warning] = nextStates([{ kind: 'opened', finding: finding(), channel: 'b' }], LATER);
    const [resolved] = nextStates([{ kind: 'resolved', finding: finding(), channel: 'c' }], T0);
    expect(representatives([critical!, warning!, resolved!]).get(finding().id)).toBe(warning);
    expect(representatives([resolved!, critical!]).get(finding().id)).toBe(critical);
    expect(representatives([resolved!]).get(finding().id)).toBe(resolved);
  });
});
