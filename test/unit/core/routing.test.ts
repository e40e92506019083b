/**
 * The routing core (lambda/core/routing.ts): which channel a finding goes to, what the routes need
 * read, what a bad route is, and which channels mirror a channel. How an account's changes go to
 * each channel's lane is lambda/core/lanes.ts (test/unit/core/lanes.test.ts).
 */
import { ConfigError } from '../../../lambda/core/errors';
import {
  channelFor,
  channelsFor,
  channelsOf,
  checkMirrors,
  checkRoutes,
  DEFAULT_CHANNEL,
  type Route,
  routingNeeds,
} from '../../../lambda/core/routing';

const A = '111111111111';
const B = '222222222222';
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

describe('mirrors', () => {
  it("announces a channel's findings in its mirrors too, the channel first, each once", () => {
    const mirrors = { payments: ['payments-teams', 'security'], default: ['teams'] };
    expect(channelsFor(ROUTES, 'default', mirrors, { id: A }, { 'credwatch:team': 'payments' })).toEqual([
      'payments',
      'payments-teams',
      'security',
    ]);
    expect(channelsFor(ROUTES, 'default', mirrors, { id: B })).toEqual(['default', 'teams']);
    expect(channelsFor(ROUTES, 'default', undefined, { id: B })).toEqual(['default']);
    // A channel named like an Object property is a channel, not a property of the mirrors.
    expect(channelsFor([], 'constructor', mirrors, { id: B })).toEqual(['constructor']);
    expect(channelsFor([], 'constructor', { constructor: ['teams'] }, { id: B })).toEqual([
      'constructor',
      'teams',
    ]);
    expect(channelsOf(ROUTES, 'default', mirrors)).toEqual([
      'default',
      'payments',
      'platform',
      'prod',
      'any-payments',
      'payments-teams',
      'security',
      'teams',
    ]);
  });

  it('refuses a mirror of a channel no finding goes to, of itself, twice, or too many, naming it', () => {
    const check = (mirrors: Record<string, string[]>) => () => checkMirrors(mirrors, ROUTES, 'default');
    expect(check({ default: ['teams'], payments: ['payments-teams'] })).not.toThrow();
    expect(check({ teams: ['x'] })).toThrow(
      'notifications: mirrors.teams: no finding is announced in "teams" (it is neither the defaultChannel nor a route\'s channel), so there is nothing to mirror',
    );
    expect(check({ default: ['default'] })).toThrow(
      'notifications: mirrors.default[0]: a channel cannot mirror itself',
    );
    expect(check({ default: ['teams', 'teams'] })).toThrow(
      'notifications: mirrors.default[1]: "teams" is listed twice',
    );
    expect(check({ default: [] })).toThrow('notifications: mirrors.default: expected 1 to 4 channels');
    expect(check({ default: ['a', 'b', 'c', 'd', 'e'] })).toThrow('expected 1 to 4 channels');
    expect(check({ default: ['Bad Name'] })).toThrow(
      'notifications: mirrors.default[0]: expected 1-64 characters',
    );
    expect(check({ 'Bad Name': ['x'] })).toThrow(
      'notifications: mirrors."Bad Name": expected 1-64 characters',
    );
  });
});
