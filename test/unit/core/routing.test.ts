/**
 * The routing core (lambda/core/routing.ts): which channel a finding goes to, what the routes need
 * read, what a bad route is, and how an account's changes are routed (resolutions follow the channel
 * that announced them, a finding whose channel changed is reminded in its new one).
 */
import { nextStates } from '../../../lambda/core/diff';
import { ConfigError } from '../../../lambda/core/errors';
import {
  channelFor,
  channelsOf,
  checkRoutes,
  DEFAULT_CHANNEL,
  type Route,
  routeChanges,
  routingNeeds,
} from '../../../lambda/core/routing';
import type { Change, FindingState } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';

const A = '111111111111';
const B = '222222222222';
const NOW = new Date('2026-12-01T12:00:00Z');

const finding = (over: Partial<Finding> = {}): Finding => ({
  id: `${A}/alice/access-key-age/AKIAEXAMPLE`,
  accountId: A,
  user: 'alice',
  arn: `arn:aws:iam::${A}:user/alice`,
  rule: 'access-key-age',
  severity: 'warning',
  credential: 'AKIAEXAMPLE',
  summary: 'Access key is 100 days old.',
  ...over,
});

const ROUTES: Route[] = [
  { channel: 'payments', accounts: [A], userTags: { 'credwatch:team': ['payments', 'billing'] } },
  { channel: 'platform', organizationalUnits: ['ou-ab12-platform1'] },
  { channel: 'prod', accountTags: { env: ['prod'] } },
  { channel: 'any-payments', userTags: { 'credwatch:team': ['payments'] } },
];

describe('channelFor', () => {
  it('sends a finding to the first route whose every condition holds', () => {
    expect(channelFor(ROUTES, 'ops', { id: A }, { 'credwatch:team': 'billing' })).toBe('payments');
    // Account A but another team: the first route fails on its user tag; no other route matches.
    expect(channelFor(ROUTES, 'ops', { id: A }, { 'credwatch:team': 'data' })).toBe('ops');
    // The user tag alone matches the fourth route in another account.
    expect(channelFor(ROUTES, 'ops', { id: B }, { 'credwatch:team': 'payments' })).toBe('any-payments');
  });

  it('matches an OU anywhere above the account, and account tags by value', () => {
    const nested = { id: B, organizationalUnits: ['ou-ab12-child111', 'ou-ab12-platform1', 'r-ab12'] };
    expect(channelFor(ROUTES, 'ops', nested)).toBe('platform');
    expect(channelFor(ROUTES, 'ops', { id: B, organizationalUnits: ['ou-ab12-other111', 'r-ab12'] })).toBe(
      'ops',
    );
    expect(channelFor(ROUTES, 'ops', { id: B, tags: { env: 'prod' } })).toBe('prod');
    expect(channelFor(ROUTES, 'ops', { id: B, tags: { env: 'Prod' } })).toBe('ops');
    // Placement not read: an OU or tag route cannot match.
    expect(channelFor(ROUTES, 'ops', { id: B })).toBe('ops');
  });

  it("never routes an account's own finding by a user tag", () => {
    expect(channelFor(ROUTES, 'ops', { id: A }, undefined)).toBe('ops');
  });

  it('goes to the default channel without routes', () => {
    expect(channelFor([], DEFAULT_CHANNEL, { id: A }, { team: 'x' })).toBe('default');
  });
});

describe('routingNeeds and channelsOf', () => {
  it('says what must be read, and which channels a configuration can send to', () => {
    expect(routingNeeds(ROUTES)).toEqual({
      organizationalUnits: true,
      accountTags: true,
      userTagKeys: ['credwatch:team'],
    });
    expect(routingNeeds([{ channel: 'x', accounts: [A] }])).toEqual({
      organizationalUnits: false,
      accountTags: false,
      userTagKeys: [],
    });
    expect(routingNeeds()).toEqual({ organizationalUnits: false, accountTags: false, userTagKeys: [] });
    expect(channelsOf(ROUTES, 'ops')).toEqual(['ops', 'payments', 'platform', 'prod', 'any-payments']);
    expect(channelsOf([{ channel: 'ops', accounts: [A] }], 'ops')).toEqual(['ops']);
  });
});

describe('checkRoutes', () => {
  it('accepts usable routes', () => {
    expect(() => checkRoutes(ROUTES, 'ops')).not.toThrow();
  });

  it.each([
    [[{ channel: 'Payments', accounts: [A] }], 'default', 'routes[0]: channel: expected 1-64 characters'],
    [
      [{ channel: 'x', accounts: [A] }, { channel: 'y' }],
      'default',
      'routes[1]: a route needs at least one of',
    ],
    [[{ channel: 'x', accounts: [] }], 'default', 'routes[0]: a route needs at least one of'],
    [
      [{ channel: 'x', userTags: { team: [] } }],
      'default',
      'routes[0]: userTags.team: expected at least one value',
    ],
    [[], 'Ops Channel', 'defaultChannel: expected 1-64 characters'],
  ] as [Route[], string, string][])('refuses %j with default %s', (routes, defaultChannel, message) => {
    expect(() => checkRoutes(routes, defaultChannel)).toThrow(ConfigError);
    expect(() => checkRoutes(routes, defaultChannel)).toThrow(message);
  });

  it('refuses more than 50 routes', () => {
    const many = Array.from({ length: 51 }, (): Route => ({ channel: 'x', accounts: [A] }));
    expect(() => checkRoutes(many, 'default')).toThrow('routes: at most 50 routes, got 51');
  });
});

describe('routeChanges', () => {
  const opened = (f: Finding, channel?: string): FindingState => {
    const [state] = nextStates([{ kind: 'opened', finding: f, ...(channel ? { channel } : {}) }], NOW);
    return state!;
  };
  const team = (user: string) => ({ alice: 'payments', bob: 'data' })[user];
  const byTeam = (f: Finding) => (team(f.user) === 'payments' ? 'payments' : 'ops');

  it("gives each change the finding's channel, and a resolution the channel that announced it", () => {
    const alice = finding();
    const gone = finding({ id: `${A}/bob/access-key-age/AKIAOTHER`, user: 'bob' });
    const changes: Change[] = [
      { kind: 'opened', finding: alice },
      { kind: 'resolved', finding: gone, previous: opened(gone, 'payments') },
    ];
    const routed = routeChanges(changes, [alice], [opened(gone, 'payments')], byTeam, 'ops');
    expect(routed.map((c) => [c.kind, c.channel])).toEqual([
      ['opened', 'payments'],
      // bob's team would send it to ops now; its resolution goes where it was announced.
      ['resolved', 'payments'],
    ]);
  });

  it('reads a state written before routing as announced in the default channel', () => {
    const gone = finding();
    const legacy = opened(gone);
    expect(legacy.channel).toBeUndefined();
    const routed = routeChanges(
      [{ kind: 'resolved', finding: gone, previous: legacy }],
      [],
      [legacy],
      byTeam,
      'ops',
    );
    expect(routed[0]!.channel).toBe('ops');
    // ... and an open one written before routing stays quiet when its channel is the default one.
    const bob = finding({ id: `${A}/bob/access-key-age/AKIAOTHER`, user: 'bob' });
    expect(routeChanges([], [bob], [opened(bob)], byTeam, 'ops')).toEqual([]);
  });

  it('reminds an open finding in its new channel when its route changed, keeping its key id', () => {
    const before = finding({ accessKeyId: 'AKIAEXAMPLE' });
    const state = opened(before, 'ops');
    const now = finding({ accessKeyId: undefined });
    const routed = routeChanges([], [now], [state], byTeam, 'ops');
    expect(routed).toEqual([
      {
        kind: 'reminder',
        finding: { ...now, accessKeyId: 'AKIAEXAMPLE' },
        previous: state,
        channel: 'payments',
      },
    ]);
    // The state it leaves names the new channel: the next run is quiet.
    const [next] = nextStates(routed, NOW);
    expect(next!.channel).toBe('payments');
    expect(routeChanges([], [now], [next!], byTeam, 'ops')).toEqual([]);
  });

  it('moves neither a finding that already has a change, nor a notice, nor one that no longer pages', () => {
    const alice = finding();
    const state = opened(alice, 'ops');
    const escalated = { ...alice, severity: 'critical' as const };
    const withChange = routeChanges(
      [{ kind: 'escalated', finding: escalated, previous: state }],
      [escalated],
      [state],
      byTeam,
      'ops',
    );
    expect(withChange.map((c) => [c.kind, c.channel])).toEqual([['escalated', 'payments']]);
    const notice = finding({
      id: `${A}/alice/exemption-granted/user`,
      rule: 'exemption-granted',
      severity: 'info',
    });
    expect(routeChanges([], [notice], [opened(notice, 'ops')], byTeam, 'ops')).toEqual([]);
    const exempt = { ...alice, exemption: { until: '2027-01-01', reason: 'migration' } };
    expect(routeChanges([], [exempt], [state], byTeam, 'ops')).toEqual([]);
  });
});
