/**
 * A fake AWS account for the local IAM endpoint (test/support/iam-endpoint.ts): the root user, IAM
 * users, access keys, passwords, MFA and tags, with a small mutation API for tests, the credential
 * report IAM would render from it, and {@link generateAccount}, a deterministic generator (seeded
 * PRNG, never Math.random).
 *
 * Every id is synthetic and looks it: access keys are `AKIAFAKE` + 12 characters, user ids `AIDAFAKE` + 13.
 */
import { CredwatchError } from '../../lambda/core/errors';

/** The credential report's name for the root user; also how the mutation API addresses root. */
export const ROOT = '<root_account>';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const PATH = /^(\/|\/[\u0021-\u007e]+\/)$/;

/** The 22 columns of IAM's credential report, in IAM's order. */
export const CREDENTIAL_REPORT_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
] as const;

/** A mutation the account refuses, with the IAM error code IAM would answer. */
export class FakeAccountError extends CredwatchError {
  constructor(
    readonly code: 'NoSuchEntity' | 'EntityAlreadyExists' | 'LimitExceeded' | 'ValidationError',
    message: string,
  ) {
    super(message);
  }
}

export type KeyStatus = 'Active' | 'Inactive';

/** The last use of an access key, as GetAccessKeyLastUsed reports it. */
export interface KeyLastUse {
  readonly date: Date;
  readonly service: string;
  /** `N/A` for a non-regional service. */
  readonly region: string;
}

export interface FakeAccessKey {
  readonly id: string;
  readonly status: KeyStatus;
  readonly createdAt: Date;
  /** null: never used (IAM: no LastUsedDate, service and region `N/A`). */
  readonly lastUsed: KeyLastUse | null;
}

/** What the credential report and the IAM API know about one principal. */
export interface FakePrincipal {
  readonly arn: string;
  readonly createdAt: Date;
  /** Whether a console password is set (root: always reported as `not_supported`). */
  readonly passwordEnabled: boolean;
  readonly passwordLastChanged: Date | null;
  /** Last console sign-in; kept after the password is removed, as IAM does. */
  readonly passwordLastUsed: Date | null;
  readonly mfaActive: boolean;
  /** At most two, oldest first. */
  readonly accessKeys: readonly FakeAccessKey[];
}

export interface FakeUser extends FakePrincipal {
  readonly name: string;
  readonly path: string;
  readonly userId: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** A key to create: only `createdAt` is required. */
export interface NewAccessKey {
  readonly createdAt: Date;
  /** @default null (never used) */
  readonly lastUsed?: KeyLastUse | null;
  /** @default 'Active' */
  readonly status?: KeyStatus;
  /** @default a fresh `AKIAFAKE…` id from the account's seed */
  readonly id?: string;
}

/** A user to create: only `createdAt` is required. */
export interface NewUser {
  readonly createdAt: Date;
  /** @default '/' */
  readonly path?: string;
  /** A console password. @default none */
  readonly password?: { readonly lastChanged: Date; readonly lastUsed?: Date | null };
  /** Last sign-in without a current password (the password was removed later). @default null */
  readonly passwordLastUsed?: Date | null;
  /** @default false */
  readonly mfaActive?: boolean;
  /** @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /** @default [] */
  readonly accessKeys?: readonly NewAccessKey[];
}

export interface FakeAccountOptions {
  /** 12 digits. */
  readonly accountId: string;
  /** When the account (its root user) was created. */
  readonly createdAt: Date;
  /** Seeds the ids of users and keys created without one. @default the account id */
  readonly seed?: number | string;
  /** @default true */
  readonly rootMfaActive?: boolean;
  /** @default null */
  readonly rootPasswordLastUsed?: Date | null;
  /** The account alias (ListAccountAliases). @default none */
  readonly alias?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MutableKey = Mutable<FakeAccessKey>;
interface MutablePrincipal extends Mutable<Omit<FakePrincipal, 'accessKeys'>> {
  accessKeys: MutableKey[];
}
interface MutableUser extends MutablePrincipal {
  readonly name: string;
  readonly path: string;
  readonly userId: string;
  tags: Record<string, string>;
}

/**
 * The state of one fake account. Reads return the live objects typed read-only; change them only
 * through the methods, which validate like IAM does (names, two keys a user, unknown entities).
 * Methods that take a user name accept {@link ROOT} where IAM lets root have the credential.
 */
export class FakeAccount {
  readonly accountId: string;
  readonly root: FakePrincipal;
  /** The account alias, if any; tests may change it. */
  alias: string | undefined;
  private readonly rootState: MutablePrincipal;
  private readonly byName = new Map<string, MutableUser>();
  private readonly keyOwner = new Map<string, MutablePrincipal>();
  private readonly ids = new Set<string>();
  private readonly random: () => number;
  private sorted: MutableUser[] | null = null;

  constructor(options: FakeAccountOptions) {
    if (!/^\d{12}$/.test(options.accountId)) {
      throw new FakeAccountError('ValidationError', `account id "${options.accountId}" is not 12 digits`);
    }
    this.accountId = options.accountId;
    this.alias = options.alias;
    this.random = prng(`${options.seed ?? options.accountId}:ids`);
    this.rootState = {
      arn: `arn:aws:iam::${options.accountId}:root`,
      createdAt: options.createdAt,
      passwordEnabled: true,
      passwordLastChanged: null,
      passwordLastUsed: options.rootPasswordLastUsed ?? null,
      mfaActive: options.rootMfaActive ?? true,
      accessKeys: [],
    };
    this.root = this.rootState;
  }

  /** Number of IAM users (root not counted). */
  get userCount(): number {
    return this.byName.size;
  }

  /** Every IAM user, sorted by name (code-unit order), as IAM lists them. */
  users(): readonly FakeUser[] {
    this.sorted ??= [...this.byName.values()].sort((a, b) => compare(a.name, b.name));
    return this.sorted;
  }

  user(name: string): FakeUser | undefined {
    return this.byName.get(name);
  }

  /** The key with this id and its owner (`root` for a root key), or undefined. */
  findAccessKey(id: string): { key: FakeAccessKey; owner: FakeUser | 'root' } | undefined {
    const owner = this.keyOwner.get(id);
    const key = owner?.accessKeys.find((k) => k.id === id);
    if (!owner || !key) return undefined;
    return { key, owner: owner === this.rootState ? 'root' : (owner as MutableUser) };
  }

  createUser(name: string, props: NewUser): FakeUser {
    if (!USER_NAME.test(name)) {
      throw new FakeAccountError('ValidationError', `user name "${name}" does not match [\\w+=,.@-]{1,64}`);
    }
    if (this.byName.has(name)) {
      throw new FakeAccountError('EntityAlreadyExists', `User with name ${name} already exists.`);
    }
    const path = props.path ?? '/';
    if (!PATH.test(path)) throw new FakeAccountError('ValidationError', `path "${path}" is not /…/`);
    const user: MutableUser = {
      name,
      path,
      userId: this.newId('AIDAFAKE', 13),
      arn: `arn:aws:iam::${this.accountId}:user${path}${name}`,
      createdAt: props.createdAt,
      passwordEnabled: props.password !== undefined,
      passwordLastChanged: props.password?.lastChanged ?? null,
      passwordLastUsed: props.password?.lastUsed ?? props.passwordLastUsed ?? null,
      mfaActive: props.mfaActive ?? false,
      accessKeys: [],
      tags: { ...props.tags },
    };
    this.byName.set(name, user);
    this.sorted = null;
    for (const key of props.accessKeys ?? []) this.createAccessKey(name, key);
    return user;
  }

  /** Deletes the user and its keys (IAM would insist on deleting the keys first; tests need not). */
  deleteUser(name: string): void {
    const user = this.mutableUser(name);
    for (const key of user.accessKeys) this.keyOwner.delete(key.id);
    this.byName.delete(name);
    this.sorted = null;
  }

  createAccessKey(userName: string, props: NewAccessKey): FakeAccessKey {
    const owner = this.principal(userName);
    if (owner.accessKeys.length >= 2) {
      throw new FakeAccountError('LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
    }
    if (props.id !== undefined && this.ids.has(props.id)) {
      throw new FakeAccountError('EntityAlreadyExists', `access key ${props.id} already exists`);
    }
    const id = props.id ?? this.newId('AKIAFAKE', 12);
    this.ids.add(id);
    const key: MutableKey = {
      id,
      status: props.status ?? 'Active',
      createdAt: props.createdAt,
      lastUsed: props.lastUsed ?? null,
    };
    owner.accessKeys.push(key);
    owner.accessKeys.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    this.keyOwner.set(id, owner);
    return key;
  }

  deleteAccessKey(userName: string, keyId: string): void {
    const owner = this.principal(userName);
    this.key(owner, userName, keyId);
    owner.accessKeys = owner.accessKeys.filter((k) => k.id !== keyId);
    this.keyOwner.delete(keyId);
  }

  setAccessKeyStatus(userName: string, keyId: string, status: KeyStatus): void {
    this.key(this.principal(userName), userName, keyId).status = status;
  }

  /** Records a use of the key (what GetAccessKeyLastUsed and the next report will show). */
  recordAccessKeyUse(keyId: string, use: KeyLastUse): void {
    const owner = this.keyOwner.get(keyId);
    if (!owner)
      throw new FakeAccountError('NoSuchEntity', `The Access Key with id ${keyId} cannot be found.`);
    this.key(owner, '', keyId).lastUsed = use;
  }

  /** Adds or replaces tags. */
  tagUser(name: string, tags: Readonly<Record<string, string>>): void {
    const user = this.mutableUser(name);
    user.tags = { ...user.tags, ...tags };
  }

  untagUser(name: string, keys: readonly string[]): void {
    const user = this.mutableUser(name);
    user.tags = Object.fromEntries(Object.entries(user.tags).filter(([k]) => !keys.includes(k)));
  }

  /** Sets (or with null removes) the console password; a removal keeps the last sign-in date. */
  setPassword(name: string, password: { readonly lastChanged: Date } | null): void {
    const user = this.mutableUser(name);
    user.passwordEnabled = password !== null;
    user.passwordLastChanged = password?.lastChanged ?? null;
  }

  /** Records a console sign-in. */
  recordSignIn(name: string, at: Date): void {
    this.principal(name).passwordLastUsed = at;
  }

  setMfa(name: string, active: boolean): void {
    this.principal(name).mfaActive = active;
  }

  private principal(name: string): MutablePrincipal {
    return name === ROOT ? this.rootState : this.mutableUser(name);
  }

  private mutableUser(name: string): MutableUser {
    const user = this.byName.get(name);
    if (!user) throw new FakeAccountError('NoSuchEntity', `The user with name ${name} cannot be found.`);
    return user;
  }

  private key(owner: MutablePrincipal, userName: string, keyId: string): MutableKey {
    const key = owner.accessKeys.find((k) => k.id === keyId);
    if (!key) {
      throw new FakeAccountError(
        'NoSuchEntity',
        `The Access Key with id ${keyId} cannot be found${userName ? ` for user ${userName}` : ''}.`,
      );
    }
    return key;
  }

  private newId(prefix: string, length: number): string {
    for (;;) {
      let id = prefix;
      for (let i = 0; i < length; i++) id += ALNUM[Math.floor(this.random() * ALNUM.length)];
      if (!this.ids.has(id)) {
        this.ids.add(id);
        return id;
      }
    }
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** How report timestamps end: `+00:00` (reports before 2024) or `Z` (since). */
export type TimestampStyle = '+00:00' | 'Z';

/**
 * The credential report IAM would render for the account as it is now: the 22-column header,
 * `<root_account>` first, then users by name; `N/A`, `no_information` and `not_supported` where IAM
 * writes them; lowercase booleans; timestamps to the second.
 */
export function renderCredentialReport(account: FakeAccount, style: TimestampStyle = '+00:00'): string {
  const ts = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, style);
  const keySlot = (key: FakeAccessKey | undefined) =>
    key
      ? [
          String(key.status === 'Active'),
          ts(key.createdAt),
          key.lastUsed ? ts(key.lastUsed.date) : 'N/A',
          key.lastUsed ? key.lastUsed.region : 'N/A',
          key.lastUsed ? key.lastUsed.service : 'N/A',
        ]
      : ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
  const row = (name: string, p: FakePrincipal, isRoot: boolean) => [
    name,
    p.arn,
    ts(p.createdAt),
    isRoot ? 'not_supported' : String(p.passwordEnabled),
    p.passwordLastUsed ? ts(p.passwordLastUsed) : isRoot || p.passwordEnabled ? 'no_information' : 'N/A',
    isRoot ? 'not_supported' : p.passwordEnabled && p.passwordLastChanged ? ts(p.passwordLastChanged) : 'N/A',
    isRoot ? 'not_supported' : 'N/A',
    String(p.mfaActive),
    ...keySlot(p.accessKeys[0]),
    ...keySlot(p.accessKeys[1]),
    'false',
    'N/A',
    'false',
    'N/A',
  ];
  const lines = [
    CREDENTIAL_REPORT_COLUMNS.join(','),
    row(ROOT, account.root, true).map(csvField).join(','),
    ...account.users().map((u) => row(u.name, u, false).map(csvField).join(',')),
  ];
  return `${lines.join('\n')}\n`;
}

/** RFC 4180 quoting; IAM user names may contain commas. */
const csvField = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * A seeded PRNG (sfc32 seeded by a string hash): the same seed gives the same sequence, in
 * [0, 1). Never Math.random.
 */
export function prng(seed: number | string): () => number {
  const text = String(seed);
  let h = 1779033703 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  const next = () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return h >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

export interface GenerateAccountOptions {
  /** @default '123456789012' */
  readonly accountId?: string;
  /** How many IAM users (root not counted). */
  readonly users: number;
  readonly seed: number | string;
  /** The instant the account is generated at: every date is at or before it. */
  readonly now: Date;
  /** The root user's credentials. */
  readonly root?: {
    /** An active root access key (a finding). @default false */
    readonly accessKey?: boolean;
    /** @default true */
    readonly mfaActive?: boolean;
  };
}

const FIRST = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory'];
const LAST = ['ng', 'smith', 'garcia', 'kim', 'novak', 'okafor', 'rossi', 'tanaka', 'weber', 'dubois'];
const SYSTEMS = ['deploy', 'backup', 'etl', 'billing', 'search', 'reports', 'terraform', 'grafana', 'sftp'];
const ENVS = ['prod', 'staging', 'dev'];
const TEAMS = ['platform', 'payments', 'data', 'web', 'security'];
const USES: readonly (readonly [service: string, region: string])[] = [
  ['s3', 'us-east-1'],
  ['sts', 'us-east-1'],
  ['ec2', 'eu-west-1'],
  ['dynamodb', 'eu-central-1'],
  ['lambda', 'us-west-2'],
  ['iam', 'N/A'],
  ['cloudformation', 'ap-southeast-2'],
];
const REASONS = ['vendor integration', 'migration to SSO', 'legacy batch job'];
/** Tag values credwatch must reject with a warning (wrong numbers, owners, exemptions). */
const BAD_TAGS: readonly (readonly [string, string])[] = [
  ['credwatch:max-key-age-days', 'ninety'],
  ['credwatch:max-key-age-days', '0'],
  ['credwatch:warn-key-age-days', '-5'],
  ['credwatch:owner', 'bob'],
  ['credwatch:owner', '@channel'],
  ['credwatch:exempt', 'forever'],
  ['credwatch:exempt', 'until=2025-02-30 reason=typo'],
  ['credwatch:exempt', 'reason=no date'],
];

/**
 * A deterministic fake account: the same options give the same account (users, ids, dates, tags);
 * a different seed gives a different one. The mix, per user, drawn from the seed: service accounts
 * with keys and no password, people with passwords (with or without MFA) and sometimes keys, and
 * dormant users; keys 0–400 days old, some never used, some unused for months, some users with two
 * active keys or an inactive second key; tags `team`, `credwatch:owner` (Slack `U…` id or e-mail),
 * `credwatch:max-key-age-days`, `credwatch:warn-key-age-days`, `credwatch:exempt`
 * (`until=YYYY-MM-DD reason=…`, some expired) and a few bad values.
 */
export function generateAccount(options: GenerateAccountOptions): FakeAccount {
  const { now, seed } = options;
  const random = prng(`${seed}:account`);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  const between = (from: number, to: number) => from + random() * (to - from);
  const ago = (days: number) => new Date(toSecond(now.getTime() - days * DAY_MS));

  const account = new FakeAccount({
    accountId: options.accountId ?? '123456789012',
    seed,
    createdAt: ago(between(1800, 2400)),
    rootMfaActive: options.root?.mfaActive ?? true,
    rootPasswordLastUsed: chance(0.7) ? ago(between(0, 200)) : null,
  });
  if (options.root?.accessKey) {
    const createdAt = ago(between(100, 900));
    account.createAccessKey(ROOT, { createdAt, lastUsed: lastUse(createdAt) });
  }

  function lastUse(createdAt: Date): KeyLastUse | null {
    const r = random();
    if (r < 0.15) return null;
    const sinceDays = r < 0.35 ? between(45, 400) : between(0, 7);
    const at = Math.max(createdAt.getTime(), now.getTime() - sinceDays * DAY_MS);
    // IAM records key use to the minute (at most once every 15 minutes).
    const minute = Math.ceil(at / MINUTE_MS) * MINUTE_MS;
    if (minute > now.getTime()) return null;
    const [service, region] = pick(USES);
    return { date: new Date(minute), service, region };
  }

  function keys(kind: 'service' | 'human' | 'dormant'): NewAccessKey[] {
    if (kind === 'dormant') {
      return chance(0.5) ? [{ createdAt: ago(between(200, 400)), status: 'Inactive' }] : [];
    }
    if (kind === 'human' && chance(0.55)) return [];
    const first = ago(between(0, 400));
    const result: NewAccessKey[] = [{ createdAt: first, lastUsed: lastUse(first) }];
    if (chance(kind === 'service' ? 0.2 : 0.08)) {
      const second = ago(between(0, (now.getTime() - first.getTime()) / DAY_MS));
      const status: KeyStatus = chance(0.6) ? 'Active' : 'Inactive';
      result.push({ createdAt: second, status, lastUsed: status === 'Active' ? lastUse(second) : null });
    }
    return result;
  }

  function tags(first: string, last: string): Record<string, string> {
    const t: Record<string, string> = {};
    if (chance(0.6)) t.team = pick(TEAMS);
    if (chance(0.35)) {
      let id = 'U';
      for (let i = 0; i < 10; i++) id += pick([...ALNUM]);
      t['credwatch:owner'] = chance(0.85) ? id : `${first}.${last}@example.com`;
    }
    if (chance(0.1)) t['credwatch:max-key-age-days'] = pick(['30', '60', '180', '365']);
    if (chance(0.04)) t['credwatch:warn-key-age-days'] = pick(['20', '50', '150']);
    if (chance(0.05)) {
      const until = ago(between(-120, 60)).toISOString().slice(0, 10);
      t['credwatch:exempt'] = `until=${until} reason=${pick(REASONS)}`;
    }
    if (chance(0.03)) {
      const [key, value] = pick(BAD_TAGS);
      t[key] = value;
    }
    return t;
  }

  for (let i = 0; i < options.users; i++) {
    const r = random();
    const kind = r < 0.45 ? 'service' : r < 0.85 ? 'human' : 'dormant';
    const first = pick(FIRST);
    const last = pick(LAST);
    const base =
      kind === 'service'
        ? `svc-${pick(SYSTEMS)}-${pick(ENVS)}`
        : kind === 'human'
          ? `${first}.${last}`
          : `old-${first}`;
    const name = account.user(base) ? `${base}-${i}` : base;
    const accessKeys = keys(kind);
    const oldestKey = Math.min(now.getTime(), ...accessKeys.map((k) => k.createdAt.getTime()));
    const createdAt = new Date(toSecond(oldestKey - between(0, 600) * DAY_MS));
    const hasPassword = kind === 'human' && chance(0.9);
    const changed = new Date(toSecond(createdAt.getTime() + between(0, 30) * 60_000));
    const signIn = (from: Date) => {
      const r2 = random();
      if (r2 < 0.15) return null;
      const at = now.getTime() - (r2 < 0.35 ? between(45, 300) : between(0, 10)) * DAY_MS;
      return new Date(toSecond(Math.max(at, from.getTime())));
    };
    account.createUser(name, {
      createdAt,
      path: chance(0.1) ? (kind === 'service' ? '/service-accounts/' : '/engineering/') : '/',
      ...(hasPassword ? { password: { lastChanged: changed, lastUsed: signIn(changed) } } : {}),
      // A password removed after use: no password, but a last sign-in (as in real reports).
      ...(!hasPassword && chance(0.03) ? { passwordLastUsed: signIn(createdAt) } : {}),
      mfaActive: hasPassword ? chance(0.7) : chance(0.05),
      tags: tags(first, last),
      accessKeys,
    });
  }
  return account;
}

const toSecond = (ms: number) => Math.floor(ms / 1000) * 1000;
