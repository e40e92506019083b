/**
 * A local AWS organization for multi-account scans, offline: three real HTTP servers on 127.0.0.1
 * in front of one {@link startIamEndpoint} per member account.
 *
 * - STS (Query protocol, like IAM): AssumeRole into `arn:aws:iam::<member>:role/<memberRoleName>`
 *   issues temporary keys `ASIA` + the 12-digit account id + 4 characters; GetCallerIdentity.
 *   Denials are HTTP 403 `AccessDenied` worded as real STS words them (body shape as posted in
 *   Netflix/security_monkey issue 77: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`).
 * - IAM router: ONE IAM URL; it reads the SigV4 `Credential=<AccessKeyId>/…` of each request and
 *   forwards the request, unchanged, to the IAM endpoint of the account that key was issued for,
 *   piping the answer back unchanged. Keys it did not issue: 403 `InvalidClientTokenId`.
 * - Organizations (awsJson1_1): ListAccounts, ListRoots, ListOrganizationalUnitsForParent,
 *   ListAccountsForParent, ListParents, paged by NextToken/MaxResults (1–20, default 20), and
 *   ListTagsForResource (no MaxResults in its model: pages of 20). OUs nest as the members' `ouPath`s
 *   say; accounts carry their `tags` (OUs and the root none). Unknown ids are answered as AWS does:
 *   ParentNotFoundException (ParentId), ChildNotFoundException (ListParents' ChildId),
 *   TargetNotFoundException (ListTagsForResource's ResourceId), each HTTP 400; an id that matches no
 *   id pattern at all is InvalidInputException (INVALID_PATTERN). `deniedOperations` answers
 *   AccessDeniedException, as for a role whose policy lacks the action.
 *
 * The caller of a request is the owner of its signing key: any non-`ASIA` key is the scanner in the
 * management account (`arn:aws:sts::<management>:assumed-role/credwatch-scanner/credwatch`); an
 * issued `ASIA` key is the member role session it was issued for (its session token must be sent,
 * and it expires by `now`). Signatures are not checked.
 */

import { Agent, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { CredwatchError } from '../../lambda/core/errors';
import { type FakeAccount, prng } from './account-generator';
import { type IamEndpoint, type IamEndpointOptions, startIamEndpoint, xmlEscape } from './iam-endpoint';
import { readBody, serveLocally } from './local-server';

/** The management account's id unless {@link OrganizationOptions.managementAccountId} says otherwise. */
export const DEFAULT_MANAGEMENT_ACCOUNT_ID = '999999999999';
export const ORGANIZATION_ID = 'o-exampleorgid';
/** The id of the organization's only root. */
export const ROOT_ID = 'r-ab12';
/** The role the scanner runs as in the management account: the caller of every non-`ASIA` key. */
export const SCANNER_ROLE_NAME = 'credwatch-scanner';
const SCANNER_SESSION = 'credwatch';

const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const JSON_1_1 = 'application/x-amz-json-1.1';
const ORGANIZATIONS_TARGET = 'AWSOrganizationsV20161128';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const NAME = /^[\w+=,.@-]{1,64}$/;
/** STS: DurationSeconds at least 900; the member role's MaxSessionDuration is the default, 1 hour. */
const MIN_DURATION_S = 900;
const MAX_DURATION_S = 3600;
const MAX_RESULTS = 20;
/** Organizations: OUs nest at most five levels below the root; a resource has at most 50 tags. */
const MAX_OU_LEVELS = 5;
const MAX_TAGS = 50;
const ACCOUNT_ID = /^\d{12}$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;
const POLICY_ID = /^p-[0-9a-zA-Z_]{8,128}$/;

/** The organization cannot be set up as asked (duplicate account, bad name), or an unknown account. */
export class FakeOrganizationError extends CredwatchError {}

export type AccountStatus = 'ACTIVE' | 'SUSPENDED';

/** One member account of the organization. */
export interface OrganizationMember {
  /** The account; its `accountId` is the member's id. */
  readonly account: FakeAccount;
  readonly name: string;
  /** A suspended account is listed, but its role cannot be assumed (AccessDenied). @default 'ACTIVE' */
  readonly status?: AccountStatus;
  /** OU names from the root down, e.g. `['Workloads', 'Prod']`. @default [] (directly under the root) */
  readonly ouPath?: readonly string[];
  /** Its Organizations tags (ListTagsForResource), key to value; at most 50. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface OrganizationOptions {
  /**
   * The member accounts. ListAccounts lists exactly these, in this order: the management account is
   * listed (and scannable) only if one of them has its id.
   */
  readonly accounts: readonly OrganizationMember[];
  /** The role name the scanner assumes in each member. @default 'credwatch-member' */
  readonly memberRoleName?: string;
  /** When set, AssumeRole must carry this ExternalId or is denied. @default none required */
  readonly externalId?: string;
  /** Accounts whose AssumeRole is denied (AccessDenied), e.g. the role is missing. @default none */
  readonly denyAssumeRole?: ReadonlySet<string>;
  /**
   * Passed to every per-account IAM endpoint (latencyMs, throttle, now, reportGenerationMs, …);
   * each account has its own endpoint, so each is throttled independently.
   * @default {} (with `now` below)
   */
  readonly iam?: Omit<IamEndpointOptions, 'account'>;
  /** The clock of credential expiry, and of the IAM endpoints unless `iam.now` is set. @default () => new Date() */
  readonly now?: () => Date;
  /** @default {@link DEFAULT_MANAGEMENT_ACCOUNT_ID} */
  readonly managementAccountId?: string;
  /**
   * Organizations operations the scanner may not call (its policy lacks them), e.g.
   * `ListTagsForResource`: answered AccessDeniedException, as IAM denies them. @default none
   */
  readonly deniedOperations?: ReadonlySet<string>;
}

/** The running organization. */
export interface Organization {
  /** ONE IAM URL for every member: a router to the right account's IAM endpoint. */
  readonly iamUrl: string;
  readonly stsUrl: string;
  readonly organizationsUrl: string;
  readonly managementAccountId: string;
  /** The IAM endpoint of a member account (counts, failNext, its FakeAccount). Throws for an unknown id. */
  iam(accountId: string): IamEndpoint;
  /** The id of the OU at `path` (names from the root down; `[]` is the root). Throws for an unknown path. */
  ouId(path: readonly string[]): string;
  /** Requests by STS action and by Organizations operation (failed ones included). */
  counts(): { sts: Record<string, number>; organizations: Record<string, number> };
  close(): Promise<void>;
}

/** An AWS error answer. */
class Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

interface Session {
  readonly accessKeyId: string;
  readonly sessionToken: string;
  readonly accountId: string;
  readonly arn: string;
  readonly userId: string;
  readonly expiresAt: Date;
}

interface Caller {
  readonly accountId: string;
  readonly arn: string;
  readonly userId: string;
  /** Set for an issued `ASIA` key. */
  readonly session?: Session;
}

interface OrgUnit {
  readonly id: string;
  readonly name: string;
  readonly ous: OrgUnit[];
  readonly accounts: OrganizationMember[];
  /** Absent for the root. */
  readonly parent?: OrgUnit;
  readonly type: 'ROOT' | 'ORGANIZATIONAL_UNIT';
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const tag = (name: string, text: string) => `<${name}>${xmlEscape(text)}</${name}>`;
const draw = (seed: string, length: number, alphabet: string) => {
  const random = prng(seed);
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
};
const roleIdOf = (accountId: string, roleName: string) =>
  `AROA${draw(`role:${accountId}:${roleName}`, 17, UPPER_ALNUM)}`;
const signingKey = (req: IncomingMessage) =>
  /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];

function send(res: ServerResponse, status: number, contentType: string, body: string, requestId: string) {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
  });
  res.end(body);
}

const queryError = (xmlns: string, fault: Fault, requestId: string) =>
  `<ErrorResponse xmlns="${xmlns}"><Error><Type>${fault.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
  `${tag('Code', fault.code)}${tag('Message', fault.message)}</Error>${tag('RequestId', requestId)}</ErrorResponse>\n`;

function validate(options: OrganizationOptions, managementAccountId: string, memberRoleName: string) {
  if (!/^\d{12}$/.test(managementAccountId)) {
    throw new FakeOrganizationError(`managementAccountId "${managementAccountId}" is not 12 digits`);
  }
  if (!NAME.test(memberRoleName)) {
    throw new FakeOrganizationError(`memberRoleName "${memberRoleName}" does not match [\\w+=,.@-]{1,64}`);
  }
  const seen = new Set<string>();
  for (const [i, m] of options.accounts.entries()) {
    const id = m.account.accountId;
    if (seen.has(id)) throw new FakeOrganizationError(`accounts[${i}]: account ${id} is listed twice`);
    seen.add(id);
    if (m.name.trim() === '') throw new FakeOrganizationError(`accounts[${i}] (${id}): the name is empty`);
    if ((m.ouPath ?? []).some((ou) => ou.trim() === '')) {
      throw new FakeOrganizationError(`accounts[${i}] (${id}): ouPath has an empty OU name`);
    }
    if ((m.ouPath ?? []).length > MAX_OU_LEVELS) {
      throw new FakeOrganizationError(
        `accounts[${i}] (${id}): ouPath is ${m.ouPath?.length} OUs deep, Organizations allows ${MAX_OU_LEVELS}`,
      );
    }
    const tags = Object.entries(m.tags ?? {});
    if (tags.length > MAX_TAGS) {
      throw new FakeOrganizationError(`accounts[${i}] (${id}): ${tags.length} tags, at most ${MAX_TAGS}`);
    }
    for (const [key, value] of tags) {
      if (key.length < 1 || key.length > 128 || value.length > 256) {
        throw new FakeOrganizationError(
          `accounts[${i}] (${id}): tag "${key}": keys are 1-128 characters, values at most 256`,
        );
      }
    }
  }
}

/** The OU tree from each member's `ouPath`; OU ids are derived from the path, so stable across runs. */
function buildTree(accounts: readonly OrganizationMember[]) {
  const root: OrgUnit = { id: ROOT_ID, name: 'Root', ous: [], accounts: [], type: 'ROOT' };
  const parents = new Map<string, OrgUnit>([[ROOT_ID, root]]);
  for (const member of accounts) {
    let parent = root;
    const path: string[] = [];
    for (const name of member.ouPath ?? []) {
      path.push(name);
      let ou = parent.ous.find((o) => o.name === name);
      if (!ou) {
        let id: string;
        let salt = 0;
        do {
          id = `ou-${ROOT_ID.slice(2)}-${draw(`ou:${path.join('/')}:${salt++}`, 8, LOWER_ALNUM)}`;
        } while (parents.has(id));
        ou = { id, name, ous: [], accounts: [], parent, type: 'ORGANIZATIONAL_UNIT' };
        parent.ous.push(ou);
        parents.set(id, ou);
      }
      parent = ou;
    }
    parent.accounts.push(member);
  }
  return parents;
}

/** Every account's parent (a root or OU), by account id. */
const accountParents = (parents: ReadonlyMap<string, OrgUnit>) =>
  new Map([...parents.values()].flatMap((ou) => ou.accounts.map((m) => [m.account.accountId, ou] as const)));

/**
 * Starts the organization: one IAM endpoint per member (with `options.iam`), the IAM router, STS and
 * Organizations, all on 127.0.0.1.
 */
export async function startOrganization(options: OrganizationOptions): Promise<Organization> {
  const now = options.now ?? (() => new Date());
  const mgmt = options.managementAccountId ?? DEFAULT_MANAGEMENT_ACCOUNT_ID;
  const memberRoleName = options.memberRoleName ?? 'credwatch-member';
  validate(options, mgmt, memberRoleName);

  const members = new Map(options.accounts.map((m) => [m.account.accountId, m]));
  const parents = buildTree(options.accounts);
  const parentOfAccount = accountParents(parents);
  const sessions = new Map<string, Session>();
  const stsCounts = new Map<string, number>();
  const orgCounts = new Map<string, number>();
  const count = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  let requestSeq = 0;
  const nextRequestId = () => `00000000-0000-4000-9000-${(++requestSeq).toString(16).padStart(12, '0')}`;
  const agent = new Agent({ keepAlive: true });

  const started = await Promise.allSettled(
    options.accounts.map((m) => startIamEndpoint({ now, ...options.iam, account: m.account })),
  );
  const endpoints = new Map<string, IamEndpoint>();
  for (const s of started) if (s.status === 'fulfilled') endpoints.set(s.value.account.accountId, s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all([...endpoints.values()].map((e) => e.close()));
    throw new FakeOrganizationError('could not start the IAM endpoints of the member accounts', {
      cause: failed.reason,
    });
  }

  const scanner: Caller = {
    accountId: mgmt,
    arn: `arn:aws:sts::${mgmt}:assumed-role/${SCANNER_ROLE_NAME}/${SCANNER_SESSION}`,
    userId: `${roleIdOf(mgmt, SCANNER_ROLE_NAME)}:${SCANNER_SESSION}`,
  };
  const invalidToken = () =>
    new Fault(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');

  /** Who signed the request: the scanner for a non-ASIA key, else the issued session. */
  function callerOf(req: IncomingMessage): Caller {
    const key = signingKey(req);
    if (key === undefined) {
      throw new Fault(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
    }
    if (!key.startsWith('ASIA')) return scanner;
    const session = sessions.get(key);
    if (!session || req.headers['x-amz-security-token'] !== session.sessionToken) throw invalidToken();
    if (now().getTime() >= session.expiresAt.getTime()) {
      throw new Fault(403, 'ExpiredToken', 'The security token included in the request is expired');
    }
    return { ...session, session };
  }

  // --- STS -------------------------------------------------------------------------------------

  function assumeRole(params: URLSearchParams, caller: Caller): string {
    const roleArn = params.get('RoleArn');
    const sessionName = params.get('RoleSessionName');
    for (const [name, value] of [
      ['roleArn', roleArn],
      ['roleSessionName', sessionName],
    ] as const) {
      if (value === null || value === '') {
        throw new Fault(
          400,
          'ValidationError',
          `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
        );
      }
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName!)) {
      throw new Fault(
        400,
        'ValidationError',
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const duration = Number(params.get('DurationSeconds') ?? MAX_DURATION_S);
    if (!Number.isInteger(duration) || duration < MIN_DURATION_S) {
      throw new Fault(
        400,
        'ValidationError',
        `1 validation error detected: Value '${params.get('DurationSeconds')}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_DURATION_S}`,
      );
    }
    const target = /^arn:aws:iam::(\d{12}):role\/([\w+=,.@-]+)$/.exec(roleArn!);
    const accountId = target?.[1] ?? '';
    const member = members.get(accountId);
    const allowed =
      member !== undefined &&
      target?.[2] === memberRoleName &&
      member.status !== 'SUSPENDED' &&
      !options.denyAssumeRole?.has(accountId) &&
      (options.externalId === undefined || params.get('ExternalId') === options.externalId);
    if (!allowed) {
      throw new Fault(
        403,
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    if (duration > MAX_DURATION_S) {
      throw new Fault(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }
    const accessKeyId = `ASIA${accountId}${(sessions.size + 1).toString(36).toUpperCase().padStart(4, '0')}`;
    const session: Session = {
      accessKeyId,
      sessionToken: Buffer.from(
        `credwatch-fake-session:${accessKeyId}:${draw(`token:${accessKeyId}`, 48, BASE64)}`,
      ).toString('base64'),
      accountId,
      arn: `arn:aws:sts::${accountId}:assumed-role/${memberRoleName}/${sessionName}`,
      userId: `${roleIdOf(accountId, memberRoleName)}:${sessionName}`,
      expiresAt: new Date(Math.floor(now().getTime() / 1000) * 1000 + duration * 1000),
    };
    sessions.set(accessKeyId, session);
    return (
      '<Credentials>' +
      tag('AccessKeyId', accessKeyId) +
      tag('SecretAccessKey', draw(`secret:${accessKeyId}`, 40, BASE64)) +
      tag('SessionToken', session.sessionToken) +
      tag('Expiration', iso(session.expiresAt)) +
      '</Credentials><AssumedRoleUser>' +
      tag('AssumedRoleId', session.userId) +
      tag('Arn', session.arn) +
      '</AssumedRoleUser>'
    );
  }

  const stsActions: Record<string, (params: URLSearchParams, caller: Caller) => string> = {
    AssumeRole: assumeRole,
    GetCallerIdentity: (_params, caller) =>
      tag('Arn', caller.arn) + tag('UserId', caller.userId) + tag('Account', caller.accountId),
  };

  const sts = await serveLocally(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    const action = params.get('Action') ?? '';
    count(stsCounts, action);
    const requestId = nextRequestId();
    try {
      const handler = Object.hasOwn(stsActions, action) ? stsActions[action] : undefined;
      if (!handler) {
        throw new Fault(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
      }
      const result = handler(params, callerOf(req));
      const body =
        `<${action}Response xmlns="${STS_XMLNS}"><${action}Result>${result}</${action}Result>` +
        `<ResponseMetadata>${tag('RequestId', requestId)}</ResponseMetadata></${action}Response>\n`;
      send(res, 200, 'text/xml', body, requestId);
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      send(res, err.status, 'text/xml', queryError(STS_XMLNS, err, requestId), requestId);
    }
  });

  // --- IAM router ------------------------------------------------------------------------------

  const router = await serveLocally(async (req, res) => {
    let endpoint: IamEndpoint | undefined;
    try {
      // The router knows only the keys STS issued: any other key, the scanner's own included, is invalid here.
      const { session } = callerOf(req);
      endpoint = session && endpoints.get(session.accountId);
      if (!endpoint) throw invalidToken();
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      const requestId = nextRequestId();
      req.resume();
      send(res, err.status, 'text/xml', queryError(IAM_XMLNS, err, requestId), requestId);
      return;
    }
    const target = new URL(endpoint.url);
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const upstream = request(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        resolve,
      );
      upstream.on('error', reject);
      req.pipe(upstream);
    });
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    await pipeline(answer, res);
  });

  // --- Organizations ---------------------------------------------------------------------------

  const orgArn = (kind: string, id: string) =>
    `arn:aws:organizations::${mgmt}:${kind}/${ORGANIZATION_ID}/${id}`;
  const accountJson = (m: OrganizationMember) => {
    const id = m.account.accountId;
    const status = m.status ?? 'ACTIVE';
    return {
      Id: id,
      Arn: orgArn('account', id),
      Email: `aws+${id}@example.com`,
      Name: m.name,
      Status: status,
      State: status,
      JoinedMethod: 'CREATED',
      JoinedTimestamp: Math.floor(m.account.root.createdAt.getTime() / 1000),
    };
  };
  const ouJson = (ou: OrgUnit) => ({ Id: ou.id, Arn: orgArn('ou', ou.id), Name: ou.name });
  const invalidInput = (reason: string, message: string) =>
    new Fault(400, 'InvalidInputException', message, { Reason: reason });

  /** One page of `items`; the token names the operation and scope it was issued for. */
  function paged<T>(op: string, scope: string, items: readonly T[], input: Record<string, unknown>) {
    const max = input.MaxResults ?? MAX_RESULTS;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
      throw invalidInput(
        typeof max === 'number' && max < 1 ? 'MIN_VALUE_EXCEEDED' : 'MAX_VALUE_EXCEEDED',
        `MaxResults ${String(max)} is outside the allowed range 1-${MAX_RESULTS}.`,
      );
    }
    let start = 0;
    if (input.NextToken !== undefined) {
      const token = typeof input.NextToken === 'string' ? input.NextToken : '';
      const match = /^(\w+)\|(.*)\|(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!match || match[1] !== op || match[2] !== scope) {
        throw invalidInput('INVALID_NEXT_TOKEN', 'The specified NextToken is not valid.');
      }
      start = Number(match[3]);
    }
    const end = start + max;
    return {
      page: items.slice(start, end),
      ...(end < items.length
        ? { NextToken: Buffer.from(`${op}|${scope}|${end}`).toString('base64url') }
        : {}),
    };
  }

  const requiredId = (input: Record<string, unknown>, name: string): string => {
    const id = input[name];
    if (typeof id !== 'string' || id === '') {
      throw invalidInput('INPUT_REQUIRED', `You must specify a value for ${name}.`);
    }
    return id;
  };
  const invalidPattern = () =>
    invalidInput('INVALID_PATTERN', 'You provided a value that does not match the required pattern.');

  const parentOf = (input: Record<string, unknown>): OrgUnit => {
    const id = input.ParentId;
    if (typeof id !== 'string' || id === '') {
      throw invalidInput('INPUT_REQUIRED', 'You must specify a value for ParentId.');
    }
    const parent = parents.get(id);
    if (!parent) {
      throw new Fault(
        400,
        'ParentNotFoundException',
        `We can't find a root or OU with the ParentId that you specified: ${id}.`,
      );
    }
    return parent;
  };

  const orgOperations: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
    ListAccounts(input) {
      const { page, ...rest } = paged('ListAccounts', '', options.accounts, input);
      return { Accounts: page.map(accountJson), ...rest };
    },
    ListRoots(input) {
      const { page, ...rest } = paged('ListRoots', '', [ROOT_ID], input);
      return {
        Roots: page.map((id) => ({ Id: id, Arn: orgArn('root', id), Name: 'Root', PolicyTypes: [] })),
        ...rest,
      };
    },
    ListOrganizationalUnitsForParent(input) {
      const parent = parentOf(input);
      const { page, ...rest } = paged('ListOrganizationalUnitsForParent', parent.id, parent.ous, input);
      return { OrganizationalUnits: page.map(ouJson), ...rest };
    },
    ListAccountsForParent(input) {
      const parent = parentOf(input);
      const { page, ...rest } = paged('ListAccountsForParent', parent.id, parent.accounts, input);
      return { Accounts: page.map(accountJson), ...rest };
    },
    ListParents(input) {
      const id = requiredId(input, 'ChildId');
      if (!ACCOUNT_ID.test(id) && !OU_ID.test(id)) throw invalidPattern();
      const parent = ACCOUNT_ID.test(id) ? parentOfAccount.get(id) : parents.get(id)?.parent;
      if (!parent) {
        throw new Fault(
          400,
          'ChildNotFoundException',
          `We can't find an organizational unit (OU) or AWS account with the ChildId that you specified: ${id}.`,
        );
      }
      const { page, ...rest } = paged('ListParents', id, [parent], input);
      return { Parents: page.map((p) => ({ Id: p.id, Type: p.type })), ...rest };
    },
    ListTagsForResource(input) {
      const id = requiredId(input, 'ResourceId');
      if (![ACCOUNT_ID, OU_ID, ROOT_ID_PATTERN, POLICY_ID].some((p) => p.test(id))) throw invalidPattern();
      const tags = ACCOUNT_ID.test(id)
        ? members.has(id)
          ? (members.get(id)?.tags ?? {})
          : undefined
        : parents.has(id)
          ? {}
          : undefined;
      if (!tags) {
        throw new Fault(
          400,
          'TargetNotFoundException',
          `We can't find a root, OU, account, or policy with the TargetId that you specified: ${id}.`,
        );
      }
      const entries = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
      // No MaxResults in ListTagsForResource's model: pages of the default size.
      const { page, ...rest } = paged('ListTagsForResource', id, entries, { NextToken: input.NextToken });
      return { Tags: page, ...rest };
    },
  };

  /** The JSON protocol's names for the callers' token faults. */
  const JSON_FAULTS: Record<string, string> = {
    InvalidClientTokenId: 'UnrecognizedClientException',
    ExpiredToken: 'ExpiredTokenException',
    MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  };

  const organizations = await serveLocally(async (req, res) => {
    const text = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(`${ORGANIZATIONS_TARGET}.`)
      ? target.slice(ORGANIZATIONS_TARGET.length + 1)
      : '';
    count(orgCounts, op || target);
    const requestId = nextRequestId();
    let status = 200;
    let body: Record<string, unknown>;
    try {
      let caller: Caller;
      try {
        caller = callerOf(req);
      } catch (err) {
        if (!(err instanceof Fault)) throw err;
        throw new Fault(400, JSON_FAULTS[err.code] ?? err.code, err.message);
      }
      const handler = Object.hasOwn(orgOperations, op) ? orgOperations[op] : undefined;
      if (!handler) throw new Fault(400, 'UnknownOperationException', `Unknown operation ${target}`);
      if (caller.accountId !== mgmt || options.deniedOperations?.has(op)) {
        throw new Fault(400, 'AccessDeniedException', "You don't have permissions to access this resource.");
      }
      let input: unknown;
      try {
        input = text === '' ? {} : JSON.parse(text);
      } catch (err) {
        throw new Fault(400, 'SerializationException', `the request body is not JSON: ${String(err)}`);
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new Fault(400, 'SerializationException', 'the request body is not a JSON object');
      }
      body = handler(input as Record<string, unknown>);
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      status = err.status;
      body = { __type: err.code, Message: err.message, ...err.extra };
    }
    send(res, status, JSON_1_1, JSON.stringify(body), requestId);
  });

  return {
    iamUrl: router.url,
    stsUrl: sts.url,
    organizationsUrl: organizations.url,
    managementAccountId: mgmt,
    iam(accountId) {
      const endpoint = endpoints.get(accountId);
      if (!endpoint) {
        throw new FakeOrganizationError(
          `account ${accountId} is not a member of the organization (members: ${[...endpoints.keys()].join(', ')})`,
        );
      }
      return endpoint;
    },
    ouId(path) {
      let ou = parents.get(ROOT_ID)!;
      for (const [i, name] of path.entries()) {
        const next = ou.ous.find((o) => o.name === name);
        if (!next) {
          throw new FakeOrganizationError(
            `no OU "${name}" under ${['Root', ...path.slice(0, i)].join('/')} (there: ${ou.ous.map((o) => o.name).join(', ') || 'none'})`,
          );
        }
        ou = next;
      }
      return ou.id;
    },
    counts: () => ({ sts: Object.fromEntries(stsCounts), organizations: Object.fromEntries(orgCounts) }),
    async close() {
      await Promise.all([
        router.close(),
        sts.close(),
        organizations.close(),
        ...[...endpoints.values()].map((e) => e.close()),
      ]);
      agent.destroy();
    },
  };
}
