/**
 * A local stand-in for AWS IAM, so tests and the benchmark run offline: a real HTTP server on
 * 127.0.0.1 that speaks IAM's Query protocol (form-encoded `POST /`, XML answers and errors, the
 * HTTP codes of the IAM model) over a {@link FakeAccount}. Shapes follow test/fixtures/iam-xml/
 * (AWS samples and real answers) and the botocore IAM model.
 *
 * Actions: ListUsers, ListAccessKeys, GetAccessKeyLastUsed, ListUserTags, ListAccountAliases,
 * GetAccountAuthorizationDetails, GenerateCredentialReport, GetCredentialReport,
 * ListVirtualMFADevices, and one write, UpdateAccessKey. Anything else is 400 InvalidAction.
 * Signatures are not checked.
 *
 * UpdateAccessKey (UserName, AccessKeyId, Status) sets the key's status in the account model, so the
 * next ListAccessKeys and the next credential report *generated* show it (a report already generated
 * is a snapshot, as IAM's is). Its answer has no `UpdateAccessKeyResult`, only `ResponseMetadata`,
 * as in the API reference's sample (test/fixtures/iam-xml/awsdoc_UpdateAccessKey_sample_response.xml).
 * It refuses what IAM refuses: a missing Status or one other than Active|Inactive, a missing or
 * malformed AccessKeyId or UserName (400 ValidationError, worded as IAM words its validation
 * errors); an unknown user (404 NoSuchEntity, `The user with name X cannot be found.`); a key that
 * is not that user's (404 NoSuchEntity, `The Access Key with id X cannot be found.`). Without
 * UserName it updates a key of the signing key's owner, as IAM does. Every UpdateAccessKey request,
 * refused ones included, is recorded as sent in {@link IamEndpoint.updates}. `deny('UpdateAccessKey',
 * { userName, accessKeyId })` denies it for chosen users or keys; `failNext('UpdateAccessKey',
 * 'Throttling')` (or `throttle` with `actions`) throttles it.
 *
 * Virtual MFA devices ({@link IamEndpointOptions.virtualMfa}): the account model knows only whether a
 * principal has MFA; the option says whose MFA is a virtual device. ListVirtualMFADevices answers in
 * the shape of the API reference and the botocore model: `VirtualMFADevices` members with
 * `SerialNumber` (`arn:aws:iam::ACCOUNT:mfa/NAME`), `User` and `EnableDate`; the root user's device is
 * `mfa/root-account-mfa-device`, its `User` only `UserId` (the account id), `Arn` (`…:root`) and
 * `CreateDate`, as IAM lists the root user.
 *
 * Denials ({@link IamEndpoint.deny}, `failNext(action, 'AccessDenied')`) answer as IAM does, in the
 * shape of a recorded real answer (test/fixtures/iam-xml/real_AccessDenied_GetUser_terraform-debug-log.xml):
 * HTTP 403, `Sender`/`AccessDenied`, `User: CALLER is not authorized to perform: iam:ACTION on
 * resource: RESOURCE`. CALLER is the owner of the signing key when it is a user of the account, else
 * `callerArn`. RESOURCE is `user NAME` for a user's own resources, as in the recorded answer (the
 * user named by UserName, or the signing user, or the owner of the key), the listed path's ARN for
 * ListUsers, and `*` for actions without a resource type; only the `user NAME` wording is recorded.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type FakeAccessKey,
  type FakeAccount,
  type FakeUser,
  generateAccount,
  ROOT,
  renderCredentialReport,
  type TimestampStyle,
} from './account-generator';
import { readBody, serveLocally } from './local-server';

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const HOUR_MS = 3_600_000;
const AUTHORIZATION_FILTERS = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'];
const ASSIGNMENT_STATUSES = ['Assigned', 'Unassigned', 'Any'];

/** A token bucket: `burst` requests at once, refilled at `ratePerSecond` (by the endpoint's clock). */
export interface ThrottleOptions {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Only these actions draw from the bucket. @default every action */
  readonly actions?: readonly string[];
}

/** An error {@link IamEndpoint.failNext} can make an action answer. */
export type InjectedFault = 'ServiceFailure' | 'LimitExceeded' | 'Throttling' | 'AccessDenied';

export interface IamEndpointOptions {
  /** The account to serve. @default generateAccount({ users: 10, seed: 1, now: now() }) */
  readonly account?: FakeAccount;
  /** The endpoint's clock: report generation, report age and the throttle's refill. @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Date the answers by `now` (the `Date` header), as IAM dates them by its clock. Set it when the
   * client's clock is faked to the same instant (the bundled Lambda in a child process): the SDK then
   * sees no clock skew (it retries an error once when it corrects one). @default false: the real clock
   */
  readonly datedByNow?: boolean;
  /** Delay before each answer, errors included (real time). @default 0 */
  readonly latencyMs?: number;
  /** Answer `Throttling` / `Rate exceeded` (HTTP 400) beyond this rate. @default no throttling */
  readonly throttle?: ThrottleOptions;
  /**
   * Return fewer items than MaxItems while IsTruncated is true, as IAM may. `true` returns half of
   * MaxItems (rounded up); a function gives the page size for a MaxItems (at least 1 is used).
   * @default false
   */
  readonly shortPages?: boolean | ((maxItems: number) => number);
  /** How long a credential report takes to generate, by `now`. @default 0 */
  readonly reportGenerationMs?: number;
  /**
   * GenerateCredentialReport keeps (answers COMPLETE for) a report younger than this and than
   * `reportExpiryMs`, and starts a new one otherwise. @default 4 hours
   */
  readonly reportRegenerationMs?: number;
  /** GetCredentialReport answers ReportExpired for a report this old. @default 4 hours */
  readonly reportExpiryMs?: number;
  /** How the report's timestamps end. @default '+00:00' */
  readonly reportTimestampStyle?: TimestampStyle;
  /**
   * Whose MFA is a virtual device (ListVirtualMFADevices): user names, and {@link ROOT} for the root
   * user; only principals with MFA active count (assigned devices). `unassignedVirtualMfa` names
   * devices created but assigned to no one. @default none: every MFA device is hardware
   */
  readonly virtualMfa?: readonly string[];
  /** Virtual MFA devices assigned to no one, by device name. @default none */
  readonly unassignedVirtualMfa?: readonly string[];
  /**
   * Who a denial names as the caller when the signing key is not a key of one of the account's users.
   * @default `arn:aws:sts::ACCOUNT:assumed-role/credwatch-scanner/credwatch`
   */
  readonly callerArn?: string;
}

/** One UpdateAccessKey request as the endpoint received it (null: the parameter was absent), and its answer. */
export interface KeyUpdate {
  readonly userName: string | null;
  readonly accessKeyId: string | null;
  readonly status: string | null;
  /** `OK`, or the error code answered (`NoSuchEntity`, `ValidationError`, `AccessDenied`, `Throttling`, …). */
  readonly answer: string;
}

export interface IamEndpoint {
  /** `http://127.0.0.1:PORT`, for `new IAMClient({ endpoint: url })`. */
  readonly url: string;
  /** The served account; mutate it between calls to rotate keys, add users, … */
  readonly account: FakeAccount;
  /** Requests by action (throttled and failed ones included), plus `throttled`. */
  counts(): Record<string, number>;
  resetCounts(): void;
  /** The next `times` requests for `action` answer with this error. */
  failNext(action: string, fault: InjectedFault, times?: number): void;
  /**
   * From now on, every request for `action` (only those about `userName`, when given: its UserName
   * parameter, or the owner of the access key for GetAccessKeyLastUsed; and only those whose
   * AccessKeyId parameter is `accessKeyId`, when given) answers AccessDenied, as for a caller whose
   * policies do not allow it. Counted like any request.
   */
  deny(action: string, options?: { readonly userName?: string; readonly accessKeyId?: string }): void;
  /** Every UpdateAccessKey request received so far, in order, refused ones included. */
  updates(): readonly KeyUpdate[];
  close(): Promise<void>;
}

/** An IAM error answer. */
class IamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The faults whose answer does not depend on the request (AccessDenied names the caller, action and resource). */
const FAULTS: Record<Exclude<InjectedFault, 'AccessDenied'>, IamError> = {
  ServiceFailure: new IamError(500, 'ServiceFailure', 'We encountered an internal error. Please try again.'),
  LimitExceeded: new IamError(409, 'LimitExceeded', 'Limit exceeded.'),
  Throttling: new IamError(400, 'Throttling', 'Rate exceeded'),
};

/** Actions whose resource is one user: named by UserName, else the signing user (as IAM does for these). */
const USER_ACTIONS = new Set(['GetUser', 'ListAccessKeys', 'ListUserTags', 'UpdateAccessKey']);

/** The statuses UpdateAccessKey takes (API reference: Valid Values Active | Inactive). */
const KEY_STATUSES = ['Active', 'Inactive'] as const;
/** Actions whose answer has no `<Action>Result` element, only `ResponseMetadata`. */
const NO_RESULT_ACTIONS = new Set(['UpdateAccessKey']);

type Params = URLSearchParams;
type Node = { readonly name: string; readonly content: string | readonly Node[] };

const el = (name: string, content: string | readonly Node[]): Node => ({ name, content });
const opt = (name: string, value: string | undefined | null): Node[] =>
  value === undefined || value === null ? [] : [el(name, value)];
const members = (items: readonly Node[][]): Node[] => items.map((children) => el('member', children));
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** XML-escapes text and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(
    /[&<>"'\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c]!,
  );
}

function render(node: Node, indent = ''): string {
  if (typeof node.content === 'string')
    return `${indent}<${node.name}>${xmlEscape(node.content)}</${node.name}>`;
  if (node.content.length === 0) return `${indent}<${node.name}/>`;
  const inner = node.content.map((c) => render(c, `${indent}  `)).join('\n');
  return `${indent}<${node.name}>\n${inner}\n${indent}</${node.name}>`;
}

/** Starts the endpoint on 127.0.0.1 (a free port). */
export async function startIamEndpoint(options: IamEndpointOptions = {}): Promise<IamEndpoint> {
  const now = options.now ?? (() => new Date());
  const account = options.account ?? generateAccount({ users: 10, seed: 1, now: now() });
  const latencyMs = options.latencyMs ?? 0;
  const generationMs = options.reportGenerationMs ?? 0;
  const regenerationMs = options.reportRegenerationMs ?? 4 * HOUR_MS;
  const expiryMs = options.reportExpiryMs ?? 4 * HOUR_MS;
  const shortPages = options.shortPages ?? false;

  let counts = new Map<string, number>();
  const faults = new Map<string, InjectedFault[]>();
  const denials: { readonly action: string; readonly userName?: string; readonly accessKeyId?: string }[] =
    [];
  const updates: KeyUpdate[] = [];
  const defaultCaller =
    options.callerArn ?? `arn:aws:sts::${account.accountId}:assumed-role/credwatch-scanner/credwatch`;
  const timers = new Set<NodeJS.Timeout>();
  let requestSeq = 0;
  let report: { csv: string; generatedAt: Date; readyAt: number } | undefined;
  let tokens = options.throttle?.burst ?? 0;
  let refilledAt = now().getTime();

  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

  function throttled(action: string): boolean {
    const t = options.throttle;
    if (!t || (t.actions && !t.actions.includes(action))) return false;
    const at = now().getTime();
    tokens = Math.min(t.burst, tokens + ((at - refilledAt) / 1000) * t.ratePerSecond);
    refilledAt = at;
    if (tokens < 1) return true;
    tokens -= 1;
    return false;
  }

  function pageSize(params: Params): number {
    const raw = params.get('MaxItems');
    if (raw === null) return 100;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > 1000) {
      throw new IamError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value ${n < 1 ? 'greater than or equal to 1' : 'less than or equal to 1000'}`,
      );
    }
    return n;
  }

  /** One page of `items` (sorted by `keyOf`); the marker names the last item returned. */
  function paginate<T>(items: readonly T[], keyOf: (item: T) => string, params: Params) {
    const maxItems = pageSize(params);
    const marker = params.get('Marker');
    let start = 0;
    if (marker !== null) {
      const after = Buffer.from(marker, 'base64url').toString('utf8');
      if (!after.startsWith('after:')) throw new IamError(400, 'ValidationError', 'Invalid Marker.');
      const last = after.slice('after:'.length);
      start = items.findIndex((item) => keyOf(item) > last);
      if (start < 0) start = items.length;
    }
    let size = maxItems;
    if (shortPages) {
      const wanted = typeof shortPages === 'function' ? shortPages(maxItems) : Math.ceil(maxItems / 2);
      size = Math.max(1, Math.min(maxItems, Math.floor(wanted)));
    }
    const page = items.slice(start, start + size);
    const truncated = start + page.length < items.length;
    const lastItem = page[page.length - 1];
    const next =
      truncated && lastItem ? Buffer.from(`after:${keyOf(lastItem)}`).toString('base64url') : undefined;
    return {
      page,
      tail: [el('IsTruncated', String(truncated)), ...opt('Marker', next)],
    };
  }

  const required = (params: Params, name: string): string => {
    const value = params.get(name);
    if (value === null || value === '') {
      const member = name.charAt(0).toLowerCase() + name.slice(1);
      throw new IamError(
        400,
        'ValidationError',
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return value;
  };

  const userNamed = (name: string): FakeUser => {
    const user = account.user(name);
    if (!user) throw new IamError(404, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
    return user;
  };

  const byName = (u: FakeUser) => u.name;
  const keyMember = (userName: string | undefined, k: FakeAccessKey): Node[] => [
    ...opt('UserName', userName),
    el('AccessKeyId', k.id),
    el('Status', k.status),
    el('CreateDate', iso(k.createdAt)),
  ];
  const tagMembers = (tags: Readonly<Record<string, string>>) =>
    members(
      Object.entries(tags)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [el('Key', k), el('Value', v)]),
    );

  /** The access key id the request was signed with (SigV4 `Credential=AKIA…/…`). */
  const callerKey = (req: IncomingMessage) =>
    /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
  /** The user whose key signed the request, if any. */
  const callerUser = (req: IncomingMessage): FakeUser | undefined => {
    const owner = account.findAccessKey(callerKey(req) ?? '')?.owner;
    return owner === undefined || owner === 'root' ? undefined : owner;
  };

  /** The user a request is about: UserName, the owner of the key asked about, or the signing user. */
  function subjectUser(action: string, params: Params, req: IncomingMessage): string | undefined {
    if (action === 'GetAccessKeyLastUsed') {
      const owner = account.findAccessKey(params.get('AccessKeyId') ?? '')?.owner;
      return owner === undefined || owner === 'root' ? undefined : owner.name;
    }
    if (!USER_ACTIONS.has(action)) return undefined;
    return params.get('UserName') || callerUser(req)?.name;
  }

  /** IAM's AccessDenied for this request, worded as IAM words it. */
  function accessDenied(action: string, params: Params, req: IncomingMessage): IamError {
    const caller = callerUser(req)?.arn ?? defaultCaller;
    const user = subjectUser(action, params, req);
    let resource = '*';
    if (user !== undefined) resource = `user ${user}`;
    else if (action === 'ListUsers') {
      resource = `arn:aws:iam::${account.accountId}:user${params.get('PathPrefix') ?? '/'}`;
    }
    return new IamError(
      403,
      'AccessDenied',
      `User: ${caller} is not authorized to perform: iam:${action} on resource: ${resource}`,
    );
  }

  const denied = (action: string, params: Params, req: IncomingMessage): boolean =>
    denials.some(
      (d) =>
        d.action === action &&
        (d.userName === undefined || d.userName === subjectUser(action, params, req)) &&
        (d.accessKeyId === undefined || d.accessKeyId === params.get('AccessKeyId')),
    );

  /** IAM's wording of input constraints: `N validation error(s) detected: A; B`. */
  const validationError = (problems: readonly string[]): IamError =>
    new IamError(
      400,
      'ValidationError',
      `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
    );
  /** The constraint problems of one string parameter (its member name is lower camel case). */
  const constraintProblems = (
    member: string,
    value: string | null,
    { min, max, pattern, source }: { min: number; max: number; pattern: RegExp; source: string },
  ): string[] => {
    if (value === null)
      return [`Value null at '${member}' failed to satisfy constraint: Member must not be null`];
    const problems: string[] = [];
    const at = `Value '${value}' at '${member}' failed to satisfy constraint:`;
    if (value.length < min) problems.push(`${at} Member must have length greater than or equal to ${min}`);
    if (value.length > max) problems.push(`${at} Member must have length less than or equal to ${max}`);
    if (value.length > 0 && !pattern.test(value)) {
      problems.push(`${at} Member must satisfy regular expression pattern: ${source}`);
    }
    return problems;
  };

  const actions: Record<string, (params: Params, req: IncomingMessage) => Node[]> = {
    ListUsers(params) {
      const prefix = params.get('PathPrefix') ?? '/';
      const users = account.users().filter((u) => u.path.startsWith(prefix));
      const { page, tail } = paginate(users, byName, params);
      const list = page.map((u) => [
        el('UserId', u.userId),
        el('Path', u.path),
        el('UserName', u.name),
        el('Arn', u.arn),
        el('CreateDate', iso(u.createdAt)),
        ...opt('PasswordLastUsed', u.passwordLastUsed && iso(u.passwordLastUsed)),
      ]);
      return [el('Users', members(list)), ...tail];
    },

    ListAccessKeys(params, req) {
      let name = params.get('UserName') ?? undefined;
      let keys: readonly FakeAccessKey[];
      if (name !== undefined) keys = userNamed(name).accessKeys;
      else {
        // Without UserName, IAM lists the keys of the caller (the signing key's owner).
        const owner = account.findAccessKey(callerKey(req) ?? '')?.owner;
        if (!owner) {
          throw new IamError(
            400,
            'ValidationError',
            'Must specify userName when calling with non-User credentials',
          );
        }
        name = owner === 'root' ? undefined : owner.name;
        keys = owner === 'root' ? account.root.accessKeys : owner.accessKeys;
      }
      const keyOf = (k: FakeAccessKey) => `${k.createdAt.toISOString()}|${k.id}`;
      const sorted = [...keys].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
      const { page, tail } = paginate(sorted, keyOf, params);
      return [
        ...opt('UserName', name),
        el('AccessKeyMetadata', members(page.map((k) => keyMember(name, k)))),
        ...tail,
      ];
    },

    UpdateAccessKey(params, req) {
      const userName = params.get('UserName');
      const id = params.get('AccessKeyId');
      const status = params.get('Status');
      const problems = [
        ...(userName === null
          ? []
          : constraintProblems('userName', userName, {
              min: 1,
              max: 128,
              pattern: /^[\w+=,.@-]+$/,
              source: '[\\w+=,.@-]+',
            })),
        ...constraintProblems('accessKeyId', id, { min: 16, max: 128, pattern: /^\w+$/, source: '[\\w]+' }),
        ...(status === null
          ? [`Value null at 'status' failed to satisfy constraint: Member must not be null`]
          : (KEY_STATUSES as readonly string[]).includes(status)
            ? []
            : [
                `Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [${KEY_STATUSES.join(', ')}]`,
              ]),
      ];
      if (problems.length > 0 || id === null || status === null) throw validationError(problems);
      let owner: string;
      let keys: readonly FakeAccessKey[];
      if (userName !== null) {
        owner = userName;
        keys = userNamed(userName).accessKeys;
      } else {
        // Without UserName, IAM updates a key of the caller (the signing key's owner).
        const signer = account.findAccessKey(callerKey(req) ?? '')?.owner;
        if (!signer) {
          throw new IamError(
            400,
            'ValidationError',
            'Must specify userName when calling with non-User credentials',
          );
        }
        owner = signer === 'root' ? ROOT : signer.name;
        keys = signer === 'root' ? account.root.accessKeys : signer.accessKeys;
      }
      if (!keys.some((k) => k.id === id)) {
        throw new IamError(404, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
      }
      account.setAccessKeyStatus(owner, id, status as (typeof KEY_STATUSES)[number]);
      return [];
    },

    GetAccessKeyLastUsed(params) {
      const id = required(params, 'AccessKeyId');
      const found = account.findAccessKey(id);
      if (!found) throw new IamError(404, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
      const used = found.key.lastUsed;
      return [
        el('AccessKeyLastUsed', [
          el('Region', used ? used.region : 'N/A'),
          ...opt('LastUsedDate', used && iso(used.date)),
          el('ServiceName', used ? used.service : 'N/A'),
        ]),
        ...opt('UserName', found.owner === 'root' ? undefined : found.owner.name),
      ];
    },

    ListAccountAliases() {
      const alias = account.alias;
      return [el('AccountAliases', alias ? [el('member', alias)] : []), el('IsTruncated', 'false')];
    },

    ListUserTags(params) {
      const user = userNamed(required(params, 'UserName'));
      const tags = Object.entries(user.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const { page, tail } = paginate(tags, ([k]) => k, params);
      return [el('Tags', tagMembers(Object.fromEntries(page))), ...tail];
    },

    GetAccountAuthorizationDetails(params) {
      const filters: string[] = [];
      for (let i = 1; params.has(`Filter.member.${i}`); i++) filters.push(params.get(`Filter.member.${i}`)!);
      const bad = filters.find((f) => !AUTHORIZATION_FILTERS.includes(f));
      if (bad !== undefined) {
        throw new IamError(
          400,
          'ValidationError',
          `1 validation error detected: Value '[${filters.join(', ')}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${AUTHORIZATION_FILTERS.join(', ')}]]`,
        );
      }
      const wants = (f: string) => filters.length === 0 || filters.includes(f);
      // The account has users only: the other lists are empty, and only users paginate.
      const { page, tail } = paginate(wants('User') ? account.users() : [], byName, params);
      const users = page.map((u) => [
        el('Path', u.path),
        el('UserName', u.name),
        el('UserId', u.userId),
        el('Arn', u.arn),
        el('CreateDate', iso(u.createdAt)),
        el('GroupList', []),
        el('AttachedManagedPolicies', []),
        ...(Object.keys(u.tags).length > 0 ? [el('Tags', tagMembers(u.tags))] : []),
      ]);
      return [
        ...(wants('User') ? [el('UserDetailList', members(users))] : []),
        ...(wants('Group') ? [el('GroupDetailList', [])] : []),
        ...(wants('Role') ? [el('RoleDetailList', [])] : []),
        ...(wants('LocalManagedPolicy') || wants('AWSManagedPolicy') ? [el('Policies', [])] : []),
        ...tail,
      ];
    },

    ListVirtualMFADevices(params) {
      const status = params.get('AssignmentStatus') ?? 'Any';
      if (!ASSIGNMENT_STATUSES.includes(status)) {
        throw new IamError(
          400,
          'ValidationError',
          `1 validation error detected: Value '${status}' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [${ASSIGNMENT_STATUSES.join(', ')}]`,
        );
      }
      const mfa = (name: string) => `arn:aws:iam::${account.accountId}:mfa/${name}`;
      const devices: { serial: string; member: Node[] }[] = [];
      if (status !== 'Unassigned') {
        const virtual = new Set(options.virtualMfa ?? []);
        if (virtual.has(ROOT) && account.root.mfaActive) {
          const serial = mfa('root-account-mfa-device');
          devices.push({
            serial,
            member: [
              el('SerialNumber', serial),
              el('User', [
                el('UserId', account.accountId),
                el('Arn', account.root.arn),
                el('CreateDate', iso(account.root.createdAt)),
              ]),
              el('EnableDate', iso(account.root.createdAt)),
            ],
          });
        }
        for (const u of account.users()) {
          if (!virtual.has(u.name) || !u.mfaActive) continue;
          const serial = mfa(u.name);
          devices.push({
            serial,
            member: [
              el('SerialNumber', serial),
              el('User', [
                el('Path', u.path),
                el('UserName', u.name),
                el('UserId', u.userId),
                el('Arn', u.arn),
                el('CreateDate', iso(u.createdAt)),
              ]),
              el('EnableDate', iso(u.createdAt)),
            ],
          });
        }
      }
      if (status !== 'Assigned') {
        for (const name of options.unassignedVirtualMfa ?? []) {
          devices.push({ serial: mfa(name), member: [el('SerialNumber', mfa(name))] });
        }
      }
      devices.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
      const { page, tail } = paginate(devices, (d) => d.serial, params);
      return [el('VirtualMFADevices', members(page.map((d) => d.member))), ...tail];
    },

    GenerateCredentialReport() {
      const at = now().getTime();
      if (report && at < report.readyAt) {
        return [el('State', 'INPROGRESS'), el('Description', 'Report generation task is in progress.')];
      }
      const age = report ? at - report.generatedAt.getTime() : 0;
      if (report && age < regenerationMs && age < expiryMs) {
        return [el('State', 'COMPLETE'), el('Description', 'Report generation complete.')];
      }
      // The report is a snapshot of the account now; changes after it show only in the next one.
      report = {
        csv: renderCredentialReport(account, options.reportTimestampStyle),
        generatedAt: new Date(at),
        readyAt: at + generationMs,
      };
      return [
        el('State', 'STARTED'),
        el('Description', 'No report exists. Starting a new report generation task'),
      ];
    },

    GetCredentialReport() {
      const at = now().getTime();
      if (!report) throw new IamError(410, 'ReportNotPresent', 'Credential report not present.');
      if (at < report.readyAt)
        throw new IamError(404, 'ReportInProgress', 'Credential report generation in progress.');
      if (at - report.generatedAt.getTime() >= expiryMs) {
        throw new IamError(410, 'ReportExpired', 'Credential report expired. Generate a new report.');
      }
      return [
        el('Content', Buffer.from(report.csv, 'utf8').toString('base64')),
        el('ReportFormat', 'text/csv'),
        el('GeneratedTime', iso(report.generatedAt)),
      ];
    },
  };

  function answer(action: string, params: Params, req: IncomingMessage, requestId: string) {
    const metadata = el('ResponseMetadata', [el('RequestId', requestId)]);
    try {
      if (throttled(action)) {
        count('throttled');
        throw FAULTS.Throttling;
      }
      const injected = faults.get(action)?.shift();
      if (injected === 'AccessDenied' || (injected === undefined && denied(action, params, req))) {
        throw accessDenied(action, params, req);
      }
      if (injected) throw FAULTS[injected];
      const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!handler) {
        throw new IamError(400, 'InvalidAction', `Could not find operation ${action} for version 2010-05-08`);
      }
      const result = handler(params, req);
      const content = NO_RESULT_ACTIONS.has(action) ? [metadata] : [el(`${action}Result`, result), metadata];
      return { status: 200, body: xmlDocument(el(`${action}Response`, content)) };
    } catch (err) {
      const e = err instanceof IamError ? err : new IamError(500, 'ServiceFailure', String(err));
      const error = el('Error', [
        el('Type', e.status >= 500 ? 'Receiver' : 'Sender'),
        el('Code', e.code),
        el('Message', e.message),
      ]);
      return {
        status: e.status,
        body: xmlDocument(el('ErrorResponse', [error, el('RequestId', requestId)])),
      };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = new URLSearchParams(await readBody(req));
    for (const [k, v] of new URL(req.url ?? '/', 'http://localhost').searchParams) params.append(k, v);
    const action = params.get('Action') ?? '';
    count(action);
    const requestId = `00000000-0000-4000-8000-${(++requestSeq).toString(16).padStart(12, '0')}`;
    const { status, body } = answer(action, params, req, requestId);
    if (action === 'UpdateAccessKey') {
      updates.push({
        userName: params.get('UserName'),
        accessKeyId: params.get('AccessKeyId'),
        status: params.get('Status'),
        answer: status === 200 ? 'OK' : (/<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? String(status)),
      });
    }
    if (latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, latencyMs);
        timers.add(timer);
      });
    }
    if (res.destroyed) return;
    res.writeHead(status, {
      'Content-Type': 'text/xml',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': requestId,
      ...(options.datedByNow ? { Date: new Date(now()).toUTCString() } : {}),
    });
    res.end(body);
  }

  const server = await serveLocally(handle);

  return {
    url: server.url,
    account,
    counts: () => Object.fromEntries(counts),
    resetCounts: () => {
      counts = new Map();
    },
    failNext: (action, fault, times = 1) => {
      faults.set(action, [...(faults.get(action) ?? []), ...Array.from({ length: times }, () => fault)]);
    },
    deny: (action, denyOptions = {}) => {
      denials.push({
        action,
        ...(denyOptions.userName !== undefined ? { userName: denyOptions.userName } : {}),
        ...(denyOptions.accessKeyId !== undefined ? { accessKeyId: denyOptions.accessKeyId } : {}),
      });
    },
    updates: () => [...updates],
    close: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return server.close();
    },
  };
}

const xmlDocument = (root: Node) =>
  `${render(root).replace(`<${root.name}>`, `<${root.name} xmlns="${XMLNS}">`)}\n`;
