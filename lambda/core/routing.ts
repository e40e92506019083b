/**
 * Which channel hears about a finding (docs/alerts.md, "Routing"). Pure: the routes come from the
 * configuration, the account's place in the organization and its tags from Organizations, the
 * user's tags from IAM.
 *
 * A route names a channel and conditions; it matches when every condition it has matches (a list
 * of values matches any one of them). The first matching route wins; a finding no route matches
 * goes to the default channel. The channels themselves (their webhooks) are in the Slack secret,
 * which names each by the same name.
 *
 * Mirrors announce a channel's findings in more channels too (`{"security": ["security-teams"]}`:
 * every finding of `security` is also announced in `security-teams`), each channel with its own state
 * of the finding, its own lifecycle (lambda/core/lanes.ts).
 */
import { ConfigError } from './errors';

/** The channel a single-webhook secret is, and where findings no route matches go unless told otherwise. */
export const DEFAULT_CHANNEL = 'default';

/** A channel's name, as routes and the secret spell it. */
export const CHANNEL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const CHANNEL_NAME_RULE = '1-64 characters of a-z 0-9 _ -, starting with a letter or digit';

/** The most routes a deployment may have (they travel in one environment variable). */
export const MAX_ROUTES = 50;

/** The most channels one channel's findings are mirrored to. */
export const MAX_MIRRORS = 4;

/** For a channel, the other channels that announce its findings too (each with its own lifecycle). */
export type Mirrors = Readonly<Record<string, readonly string[]>>;

export interface Route {
  /** The channel the matching findings go to. */
  readonly channel: string;
  /** Only these account ids. */
  readonly accounts?: readonly string[];
  /** Only accounts anywhere under one of these OUs (`ou-…`) or roots (`r-…`). */
  readonly organizationalUnits?: readonly string[];
  /** Only accounts whose Organizations tag KEY has one of the values. */
  readonly accountTags?: Readonly<Record<string, readonly string[]>>;
  /** Only findings of users whose IAM tag KEY has one of the values (never an account's own finding). */
  readonly userTags?: Readonly<Record<string, readonly string[]>>;
}

/** Where an account sits, as far as routes need to know. */
export interface AccountPlacement {
  readonly id: string;
  /**
   * The OUs above the account, from its parent up to the root (`['ou-b', 'ou-a', 'r-ab12']`); absent
   * when not read (no route needs it).
   */
  readonly organizationalUnits?: readonly string[];
  /** The account's Organizations tags; absent when not read. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** What the routes need read, beyond the account id and the user's tags. */
export interface RoutingNeeds {
  /** Some route matches by OU: each account's parents are read (Organizations). */
  readonly organizationalUnits: boolean;
  /** Some route matches by account tag: each account's tags are read (Organizations). */
  readonly accountTags: boolean;
  /** The IAM user tag keys some route matches by. */
  readonly userTagKeys: readonly string[];
}

export function routingNeeds(routes: readonly Route[] = []): RoutingNeeds {
  return {
    organizationalUnits: routes.some((r) => (r.organizationalUnits?.length ?? 0) > 0),
    accountTags: routes.some((r) => Object.keys(r.accountTags ?? {}).length > 0),
    userTagKeys: [...new Set(routes.flatMap((r) => Object.keys(r.userTags ?? {})))].sort(),
  };
}

const tagsMatch = (
  wanted: Readonly<Record<string, readonly string[]>> | undefined,
  have: Readonly<Record<string, string>> | undefined,
): boolean =>
  Object.entries(wanted ?? {}).every(([key, values]) => {
    const value = have?.[key];
    return value !== undefined && values.includes(value);
  });

/** Whether a route's conditions all hold for a finding of `account` (and of a user with `userTags`). */
export function routeMatches(
  route: Route,
  account: AccountPlacement,
  userTags: Readonly<Record<string, string>> | undefined,
): boolean {
  if (route.accounts && route.accounts.length > 0 && !route.accounts.includes(account.id)) return false;
  if (route.organizationalUnits && route.organizationalUnits.length > 0) {
    const above = new Set(account.organizationalUnits ?? []);
    if (!route.organizationalUnits.some((ou) => above.has(ou))) return false;
  }
  if (!tagsMatch(route.accountTags, account.tags)) return false;
  return tagsMatch(route.userTags, userTags);
}

/** The channel of a finding of `account`'s user with `userTags` (none for an account's own finding). */
export function channelFor(
  routes: readonly Route[],
  defaultChannel: string,
  account: AccountPlacement,
  userTags?: Readonly<Record<string, string>>,
): string {
  return routes.find((r) => routeMatches(r, account, userTags))?.channel ?? defaultChannel;
}

/**
 * Every channel that announces a finding of `account`'s user with `userTags`: its channel
 * ({@link channelFor}) first, then the channels that mirror it, each once.
 */
export function channelsFor(
  routes: readonly Route[],
  defaultChannel: string,
  mirrors: Mirrors | undefined,
  account: AccountPlacement,
  userTags?: Readonly<Record<string, string>>,
): string[] {
  const channel = channelFor(routes, defaultChannel, account, userTags);
  const more = mirrors && Object.hasOwn(mirrors, channel) ? mirrors[channel]! : [];
  return [...new Set([channel, ...more])];
}

/** A mirror that cannot work: of which channel, which entry of its list (if one), and why. */
export interface MirrorProblem {
  readonly channel: string;
  readonly index?: number;
  readonly message: string;
}

/**
 * The first unusable mirror, or undefined: a channel no finding goes to (neither the default channel
 * nor a route's), a bad name, no channel or too many, the channel itself or one listed twice.
 */
export function mirrorsProblem(
  mirrors: Mirrors | undefined,
  routes: readonly Route[],
  defaultChannel: string,
): MirrorProblem | undefined {
  const primaries = new Set([defaultChannel, ...routes.map((r) => r.channel)]);
  for (const [channel, to] of Object.entries(mirrors ?? {})) {
    if (!CHANNEL_NAME.test(channel)) return { channel, message: `expected ${CHANNEL_NAME_RULE}` };
    if (!primaries.has(channel)) {
      return {
        channel,
        message: `no finding is announced in "${channel}" (it is neither the defaultChannel nor a route's channel), so there is nothing to mirror`,
      };
    }
    if (!Array.isArray(to) || to.length === 0 || to.length > MAX_MIRRORS) {
      return { channel, message: `expected 1 to ${MAX_MIRRORS} channels` };
    }
    for (const [index, mirror] of to.entries()) {
      if (typeof mirror !== 'string' || !CHANNEL_NAME.test(mirror)) {
        return { channel, index, message: `expected ${CHANNEL_NAME_RULE}` };
      }
      if (mirror === channel) return { channel, index, message: 'a channel cannot mirror itself' };
      if (to.indexOf(mirror) !== index) return { channel, index, message: `"${mirror}" is listed twice` };
    }
  }
  return undefined;
}

/** @throws ConfigError `notifications: mirrors.NAME[N]: why` for the first unusable mirror ({@link mirrorsProblem}). */
export function checkMirrors(
  mirrors: Mirrors | undefined,
  routes: readonly Route[],
  defaultChannel: string,
): void {
  const problem = mirrorsProblem(mirrors, routes, defaultChannel);
  if (!problem) return;
  const name = CHANNEL_NAME.test(problem.channel) ? problem.channel : JSON.stringify(problem.channel);
  const at = `mirrors.${name}${problem.index !== undefined ? `[${problem.index}]` : ''}`;
  throw new ConfigError(`notifications: ${at}: ${problem.message}`);
}

/**
 * @throws ConfigError naming the route (`notifications.routes[N]`) and what is wrong: a bad channel
 * name, no condition at all, an empty list of values, too many routes.
 */
export function checkRoutes(routes: readonly Route[], defaultChannel: string): void {
  const where = 'notifications';
  if (!CHANNEL_NAME.test(defaultChannel)) {
    throw new ConfigError(`${where}: defaultChannel: expected ${CHANNEL_NAME_RULE}, got "${defaultChannel}"`);
  }
  if (routes.length > MAX_ROUTES) {
    throw new ConfigError(`${where}: routes: at most ${MAX_ROUTES} routes, got ${routes.length}`);
  }
  routes.forEach((route, i) => {
    const at = `${where}: routes[${i}]`;
    if (!CHANNEL_NAME.test(route.channel)) {
      throw new ConfigError(`${at}: channel: expected ${CHANNEL_NAME_RULE}, got "${route.channel}"`);
    }
    const conditions = [
      route.accounts?.length ?? 0,
      route.organizationalUnits?.length ?? 0,
      Object.keys(route.accountTags ?? {}).length,
      Object.keys(route.userTags ?? {}).length,
    ];
    if (conditions.every((n) => n === 0)) {
      throw new ConfigError(
        `${at}: a route needs at least one of accounts, organizationalUnits, accountTags, userTags (the default channel takes what no route matches)`,
      );
    }
    for (const field of ['accountTags', 'userTags'] as const) {
      for (const [key, values] of Object.entries(route[field] ?? {})) {
        if (values.length === 0) throw new ConfigError(`${at}: ${field}.${key}: expected at least one value`);
      }
    }
  });
}

/**
 * The channels a configuration can send to: the default one, every route's, then every mirror, each
 * once, in that order (the order a run delivers them in).
 */
export function channelsOf(routes: readonly Route[], defaultChannel: string, mirrors?: Mirrors): string[] {
  return [
    ...new Set([defaultChannel, ...routes.map((r) => r.channel), ...Object.values(mirrors ?? {}).flat()]),
  ];
}

/** A route that cannot work with the deployment's account source: where, and why. */
export interface RouteSourceProblem {
  readonly index: number;
  readonly field: 'organizationalUnits' | 'accountTags';
  readonly message: string;
  /** `routes[N].field: message` */
  readonly text: string;
}

/**
 * Routes by OU or account tag read them from AWS Organizations, which only a deployment that
 * discovers its accounts there reaches: the first route that uses them with another `source`, or
 * undefined. (The configuration, the construct and the function all refuse it.)
 */
export function routeSourceProblem(routes: readonly Route[], source: string): RouteSourceProblem | undefined {
  if (source === 'organization') return undefined;
  for (const [index, route] of routes.entries()) {
    const field =
      (route.organizationalUnits?.length ?? 0) > 0
        ? 'organizationalUnits'
        : Object.keys(route.accountTags ?? {}).length > 0
          ? 'accountTags'
          : undefined;
    if (field) {
      const message = `routes by ${field} need accounts.source "organization" (they are read from AWS Organizations), got source "${source}"`;
      return { index, field, message, text: `routes[${index}].${field}: ${message}` };
    }
  }
  return undefined;
}
