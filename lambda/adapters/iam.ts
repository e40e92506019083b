/**
 * The IAM adapter: the credential report (generate, poll, get) and the live reads that bring a report
 * up to date (users with their tags, access keys, key last use), on @aws-sdk/client-iam v3.
 * It counts the logical calls it makes and the HTTP requests the SDK sends (retries included).
 *
 * Users and their tags come from one of two directories ({@link UserDirectoryMode}):
 * GetAccountAuthorizationDetails (one call per 1,000 users; but whoever may call it can read every
 * policy document of the account) or ListUsers with ListUserTags for each user (one call per user;
 * no policy document readable).
 *
 * Whether the root user's MFA is a virtual device comes from ListVirtualMFADevices (root-virtual-mfa).
 *
 * One write, for enforcement ({@link KeyDeactivator}): UpdateAccessKey with Status Inactive, always.
 * Nothing here can send Status Active or delete a key.
 */
import {
  type AccessKeyMetadata,
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandInput,
  GetCredentialReportCommand,
  type GetCredentialReportCommandOutput,
  IAMClient,
  type IAMClientConfig,
  ListAccessKeysCommand,
  type ListAccessKeysCommandInput,
  ListAccountAliasesCommand,
  ListUsersCommand,
  type ListUsersCommandInput,
  ListUserTagsCommand,
  type ListUserTagsCommandInput,
  ListVirtualMFADevicesCommand,
  type ListVirtualMFADevicesCommandInput,
  type Tag,
  UpdateAccessKeyCommand,
  type UpdateAccessKeyCommandInput,
} from '@aws-sdk/client-iam';
import {
  ConfigError,
  CredentialReportUnavailableError,
  CredwatchError,
  IamReadError,
  IamWriteError,
} from '../core/errors';
import type { LastUse } from '../core/types';
import { mapLimit } from '../map-limit';
import type {
  CredentialReport,
  IamCallCounter,
  IamDirectory,
  KeyDeactivator,
  LiveAccessKey,
  LiveUser,
  ProgressListener,
  ReportSource,
} from '../ports';
import { REQUEST_TIMEOUTS } from './sdk';

/** The retry settings of the default client: adaptive retry backs off on Throttling and LimitExceeded. */
export const IAM_CLIENT_DEFAULTS = {
  retryMode: 'adaptive',
  maxAttempts: 10,
  // No request may hang a scan (lambda/adapters/sdk.ts).
  ...REQUEST_TIMEOUTS,
} as const satisfies IAMClientConfig;

/** The largest page IAM serves (`MaxItems` 1–1000). */
export const IAM_PAGE_SIZE = 1000;

/** The IAM actions this adapter calls, as counted by {@link IamAdapter.calls} and {@link IamAdapter.requests}. */
export type IamAction =
  | 'ListAccountAliases'
  | 'GenerateCredentialReport'
  | 'GetCredentialReport'
  | 'GetAccountAuthorizationDetails'
  | 'ListUsers'
  | 'ListUserTags'
  | 'ListAccessKeys'
  | 'GetAccessKeyLastUsed'
  | 'ListVirtualMFADevices'
  | 'UpdateAccessKey';

/** The ways {@link IamAdapter.listUsers} can read the users and their tags. */
export const USER_DIRECTORY_MODES = ['authorization-details', 'list-users'] as const;

/**
 * How {@link IamAdapter.listUsers} reads the users and their tags:
 * - `authorization-details`: `GetAccountAuthorizationDetails` filtered to users, one call per 1,000
 *   users. The permission it takes also lets the caller read every policy document of the account.
 * - `list-users`: `ListUsers` (1,000 a page), then `ListUserTags` for every user: one call per user,
 *   more exposure to IAM throttling in large accounts, and no policy document readable.
 */
export type UserDirectoryMode = (typeof USER_DIRECTORY_MODES)[number];

/** How many users' tags `list-users` reads at once unless told otherwise. */
export const DEFAULT_TAG_READ_CONCURRENCY = 4;

export interface IamAdapterOptions {
  /**
   * The IAM client. Region and credentials come from it.
   * @default new IAMClient(IAM_CLIENT_DEFAULTS) (adaptive retry, 10 attempts)
   */
  readonly client?: IAMClient;
  /**
   * How long to wait for IAM to have a credential report ready, in milliseconds.
   * @default 60_000
   */
  readonly reportDeadlineMs?: number;
  /**
   * First delay between report polls, in milliseconds; doubles after each poll up to `maxPollIntervalMs`.
   * @default 1_000
   */
  readonly pollIntervalMs?: number;
  /**
   * Longest delay between report polls, in milliseconds.
   * @default 8_000
   */
  readonly maxPollIntervalMs?: number;
  /**
   * Waits the given milliseconds; injected by tests.
   * @default a `setTimeout` promise
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The current time in epoch milliseconds; injected by tests.
   * @default Date.now
   */
  readonly clock?: () => number;
  /**
   * How users and their tags are read ({@link UserDirectoryMode}).
   * @default 'authorization-details'
   */
  readonly userDirectory?: UserDirectoryMode;
  /**
   * `list-users` only: how many users' tags are read (ListUserTags) at the same time.
   * @default DEFAULT_TAG_READ_CONCURRENCY (4)
   */
  readonly tagReadConcurrency?: number;
}

/** The one outcome of a report attempt that is not a report: wait, or generate again at once. */
interface NotReady {
  readonly next: 'wait' | 'regenerate';
  /** What IAM said: a report state (`STARTED`, `INPROGRESS`) or an error code (`ReportExpired`). */
  readonly state: string;
  readonly error?: unknown;
}

/** IAM error codes that mean "too many requests, back off" (after the SDK's own retries ran out). */
const BACK_OFF_ERRORS: Readonly<Record<string, string>> = {
  LimitExceededException: 'LimitExceeded',
  Throttling: 'Throttling',
  ThrottlingException: 'Throttling',
};

const errorName = (err: unknown): string | undefined => (err instanceof Error ? err.name : undefined);

const describe = (err: unknown): string =>
  err instanceof Error ? `${err.name}: ${err.message}` : String(err);

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}`;

/**
 * The error for a failed IAM read. credwatch's own errors pass through unchanged: they already say
 * what failed (e.g. the member role could not be assumed while the SDK resolved credentials).
 */
const readError = (action: IamAction, err: unknown, user?: string): CredwatchError =>
  err instanceof CredwatchError
    ? err
    : new IamReadError(
        `IAM ${action}${user === undefined ? '' : ` for user "${user}"`} failed: ${describe(err)}`,
        {
          cause: err,
        },
      );

/** The next page's marker, or undefined on the last page. A truncated page without a marker is an error. */
const nextMarker = (
  action: IamAction,
  page: { IsTruncated?: boolean; Marker?: string },
  user?: string,
): string | undefined => {
  if (page.IsTruncated !== true) return undefined;
  if (!page.Marker) {
    throw new IamReadError(
      `IAM ${action}${user === undefined ? '' : ` for user "${user}"`} returned a truncated page without a Marker`,
    );
  }
  return page.Marker;
};

/** Adds IAM tags to a Key -> Value record (a tag without a value reads as ''). */
const addTags = (into: Record<string, string>, tags: readonly Tag[] | undefined): void => {
  for (const tag of tags ?? []) {
    if (tag.Key !== undefined) into[tag.Key] = tag.Value ?? '';
  }
};

/** A user as GetAccountAuthorizationDetails (with its tags) or ListUsers (without) returns it. */
const toLiveUser = (
  action: IamAction,
  u: { UserName?: string; Arn?: string; CreateDate?: Date; Tags?: Tag[] },
): LiveUser => {
  if (!u.UserName || !u.Arn || !u.CreateDate) {
    throw new IamReadError(
      `IAM ${action} returned a user without UserName, Arn or CreateDate (user "${u.UserName ?? u.Arn ?? '?'}")`,
    );
  }
  const tags: Record<string, string> = {};
  addTags(tags, u.Tags);
  return { name: u.UserName, arn: u.Arn, createdAt: u.CreateDate, tags };
};

const toLiveAccessKey = (k: AccessKeyMetadata, userName: string): LiveAccessKey => {
  if (!k.AccessKeyId || !k.CreateDate) {
    throw new IamReadError(
      `IAM ListAccessKeys for user "${userName}" returned a key without AccessKeyId or CreateDate`,
    );
  }
  return { id: k.AccessKeyId, active: k.Status === 'Active', createdAt: k.CreateDate };
};

const toReport = (out: GetCredentialReportCommandOutput): CredentialReport => {
  if (!out.Content) throw new IamReadError('IAM GetCredentialReport returned no Content');
  if (out.ReportFormat !== undefined && out.ReportFormat !== 'text/csv') {
    throw new IamReadError(
      `IAM GetCredentialReport returned format "${out.ReportFormat}", expected "text/csv"`,
    );
  }
  return { csv: new TextDecoder('utf-8').decode(out.Content), generatedAt: out.GeneratedTime ?? null };
};

/**
 * IAM's user name pattern (`[\w+=,.@-]+`) and length (CreateUser: 1–64). UpdateAccessKey's model
 * allows 128 characters, but no user can have a longer name than CreateUser takes.
 */
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
/** An access key id: 16–128 upper-case letters and digits (`AKIA…`; the model's `[\w]+` with IAM's alphabet). */
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

/**
 * The one UpdateAccessKey request the adapter can build: Status is the literal `Inactive`, whatever
 * the caller passes (it passes only a user and a key).
 */
const deactivation = (userName: string, accessKeyId: string) =>
  ({
    UserName: userName,
    AccessKeyId: accessKeyId,
    Status: 'Inactive',
  }) as const satisfies UpdateAccessKeyCommandInput;

/**
 * Refuses a user name or key id IAM would refuse, before anything is sent. A bad key id is not
 * echoed: a secret access key passed by mistake must not reach a log.
 */
const checkDeactivationInput = (userName: unknown, accessKeyId: unknown): void => {
  const refuse = (problem: string) => new IamWriteError(`IAM UpdateAccessKey not sent: ${problem}`);
  if (typeof userName !== 'string' || !USER_NAME.test(userName)) {
    const shown =
      typeof userName === 'string'
        ? `${JSON.stringify(userName.slice(0, 80))}${userName.length > 80 ? '…' : ''} (${userName.length} characters)`
        : typeof userName;
    throw refuse(
      `userName ${shown} is not an IAM user name (1–64 characters of letters, digits and _+=,.@-)`,
    );
  }
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID.test(accessKeyId)) {
    const shown = typeof accessKeyId === 'string' ? `${accessKeyId.length} characters` : typeof accessKeyId;
    throw refuse(
      `accessKeyId for user "${userName}" is not an access key id (${shown}; IAM's are 16–128 upper-case letters and digits)`,
    );
  }
};

/** IAM's error code (`AccessDenied`, `NoSuchEntity`, …): the SDK keeps it as `Code`; else the error's name. */
const iamCode = (err: unknown): string => {
  const code = (err as { Code?: unknown } | null)?.Code;
  return typeof code === 'string' && code !== '' ? code : (errorName(err) ?? 'Error');
};

/** The ARN of an account's root user, in any partition (`arn:aws:iam::123456789012:root`). */
const ROOT_ARN = /^arn:aws[a-z-]*:iam::\d{12}:root$/;

/** A command whose own middleware stack can take the request counter (every SDK v3 command can). */
interface CountableCommand {
  readonly middlewareStack: {
    add(
      middleware: <A, R>(next: (args: A) => Promise<R>) => (args: A) => Promise<R>,
      options: { step: 'finalizeRequest'; priority: 'low'; name: string },
    ): void;
  };
}

/**
 * Reads IAM for credwatch: the {@link ReportSource} for a live account, the {@link IamDirectory}
 * that brings the report up to date, and the {@link IamCallCounter} the benchmarks read. Its one
 * write is the {@link KeyDeactivator} of enforcement.
 *
 * The SDK's adaptive retry absorbs Throttling and LimitExceeded; report polling is bounded by
 * `reportDeadlineMs`. Every other failure is an {@link IamReadError} naming the action (an
 * {@link IamWriteError} for the write).
 */
export class IamAdapter implements ReportSource, IamDirectory, KeyDeactivator, IamCallCounter {
  private readonly client: IAMClient;
  private readonly reportDeadlineMs: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  private readonly userDirectory: UserDirectoryMode;
  private readonly tagReadConcurrency: number;
  private readonly callCounts: Record<string, number> = {};
  private readonly requestCounts: Record<string, number> = {};

  constructor(options: IamAdapterOptions = {}) {
    this.reportDeadlineMs = options.reportDeadlineMs ?? 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.maxPollIntervalMs = options.maxPollIntervalMs ?? 8_000;
    if (!(this.reportDeadlineMs >= 0)) {
      throw new ConfigError(`IamAdapter: reportDeadlineMs must be 0 or more, got ${this.reportDeadlineMs}`);
    }
    if (!(this.pollIntervalMs > 0)) {
      throw new ConfigError(`IamAdapter: pollIntervalMs must be more than 0, got ${this.pollIntervalMs}`);
    }
    if (!(this.maxPollIntervalMs >= this.pollIntervalMs)) {
      throw new ConfigError(
        `IamAdapter: maxPollIntervalMs (${this.maxPollIntervalMs}) must be at least pollIntervalMs (${this.pollIntervalMs})`,
      );
    }
    this.userDirectory = options.userDirectory ?? 'authorization-details';
    if (!(USER_DIRECTORY_MODES as readonly string[]).includes(this.userDirectory)) {
      throw new ConfigError(
        `IamAdapter: userDirectory must be ${USER_DIRECTORY_MODES.map((m) => `"${m}"`).join(' or ')}, got ${JSON.stringify(this.userDirectory)}`,
      );
    }
    this.tagReadConcurrency = options.tagReadConcurrency ?? DEFAULT_TAG_READ_CONCURRENCY;
    if (!(Number.isInteger(this.tagReadConcurrency) && this.tagReadConcurrency >= 1)) {
      throw new ConfigError(
        `IamAdapter: tagReadConcurrency must be a whole number of 1 or more, got ${this.tagReadConcurrency}`,
      );
    }
    this.client = options.client ?? new IAMClient(IAM_CLIENT_DEFAULTS);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Generates the credential report (or reuses IAM's, if under 4 hours old), polls until it is
   * COMPLETE with doubling delays, and downloads it.
   * @throws CredentialReportUnavailableError when it is not ready within `reportDeadlineMs`
   * @throws IamReadError when IAM refuses (e.g. AccessDenied)
   */
  async getReport(onProgress: ProgressListener = () => {}): Promise<CredentialReport> {
    const deadline = this.clock() + this.reportDeadlineMs;
    let delay = this.pollIntervalMs;
    let regeneratedAtOnce = false;
    for (;;) {
      const outcome = await this.tryReport();
      if (!('next' in outcome)) return outcome;
      // A report that vanished between Generate and Get is generated again at once, but only once in a
      // row: IAM answering COMPLETE and then NotPresent forever must not become a busy loop.
      if (outcome.next === 'regenerate' && !regeneratedAtOnce) {
        regeneratedAtOnce = true;
        onProgress(`credential report: ${outcome.state}, generating a new one`);
        continue;
      }
      regeneratedAtOnce = false;
      const remaining = deadline - this.clock();
      if (remaining <= 0) {
        throw new CredentialReportUnavailableError(
          `IAM did not finish the credential report within ${seconds(this.reportDeadlineMs)} s (last state: ${outcome.state})`,
          { cause: outcome.error },
        );
      }
      const wait = Math.min(delay, remaining);
      onProgress(`credential report: ${outcome.state}, checking again in ${seconds(wait)} s`);
      await this.sleep(wait);
      delay = Math.min(delay * 2, this.maxPollIntervalMs);
    }
  }

  /**
   * Every IAM user with its tags, read as `userDirectory` says: GetAccountAuthorizationDetails (users
   * only, 1000 a page), or ListUsers (1000 a page) and then ListUserTags for each user,
   * `tagReadConcurrency` at a time. A user deleted between ListUsers and its ListUserTags is left out,
   * as if ListUsers had not listed it.
   * @throws IamReadError naming the action (and the user) when IAM refuses or answers nonsense
   */
  async listUsers(): Promise<LiveUser[]> {
    return this.userDirectory === 'list-users'
      ? this.listUsersOneByOne()
      : this.listUsersFromAuthorizationDetails();
  }

  private async listUsersFromAuthorizationDetails(): Promise<LiveUser[]> {
    const action = 'GetAccountAuthorizationDetails';
    const users: LiveUser[] = [];
    let marker: string | undefined;
    try {
      do {
        const input: GetAccountAuthorizationDetailsCommandInput = {
          Filter: ['User'],
          MaxItems: IAM_PAGE_SIZE,
        };
        if (marker !== undefined) input.Marker = marker;
        const page = await this.client.send(
          this.counted(action, new GetAccountAuthorizationDetailsCommand(input)),
        );
        for (const u of page.UserDetailList ?? []) users.push(toLiveUser(action, u));
        marker = nextMarker(action, page);
      } while (marker !== undefined);
    } catch (err) {
      throw readError(action, err);
    }
    return users;
  }

  private async listUsersOneByOne(): Promise<LiveUser[]> {
    const action = 'ListUsers';
    const listed: LiveUser[] = [];
    let marker: string | undefined;
    try {
      do {
        const input: ListUsersCommandInput = { MaxItems: IAM_PAGE_SIZE };
        if (marker !== undefined) input.Marker = marker;
        const page = await this.client.send(this.counted(action, new ListUsersCommand(input)));
        // ListUsers returns no tags: they come from ListUserTags below.
        for (const u of page.Users ?? []) listed.push(toLiveUser(action, { ...u, Tags: [] }));
        marker = nextMarker(action, page);
      } while (marker !== undefined);
    } catch (err) {
      throw readError(action, err);
    }
    const tags = await mapLimit(listed, this.tagReadConcurrency, (u) => this.listUserTags(u.name));
    return listed.flatMap((u, i) => {
      const userTags = tags[i];
      return userTags === null || userTags === undefined ? [] : [{ ...u, tags: userTags }];
    });
  }

  /** The user's tags (1000 a page), or null when the user no longer exists. */
  private async listUserTags(userName: string): Promise<Record<string, string> | null> {
    const action = 'ListUserTags';
    const tags: Record<string, string> = {};
    let marker: string | undefined;
    try {
      do {
        const input: ListUserTagsCommandInput = { UserName: userName, MaxItems: IAM_PAGE_SIZE };
        if (marker !== undefined) input.Marker = marker;
        const page = await this.client.send(this.counted(action, new ListUserTagsCommand(input)));
        addTags(tags, page.Tags);
        marker = nextMarker(action, page, userName);
      } while (marker !== undefined);
    } catch (err) {
      if (errorName(err) === 'NoSuchEntityException') return null;
      throw readError(action, err, userName);
    }
    return tags;
  }

  /** The user's access keys now (1000 a page), or null when the user no longer exists. */
  async listAccessKeys(userName: string): Promise<LiveAccessKey[] | null> {
    const action = 'ListAccessKeys';
    const keys: LiveAccessKey[] = [];
    let marker: string | undefined;
    try {
      do {
        const input: ListAccessKeysCommandInput = { UserName: userName, MaxItems: IAM_PAGE_SIZE };
        if (marker !== undefined) input.Marker = marker;
        const page = await this.client.send(this.counted(action, new ListAccessKeysCommand(input)));
        for (const k of page.AccessKeyMetadata ?? []) keys.push(toLiveAccessKey(k, userName));
        marker = nextMarker(action, page, userName);
      } while (marker !== undefined);
    } catch (err) {
      if (errorName(err) === 'NoSuchEntityException') return null;
      throw readError(action, err, userName);
    }
    return keys;
  }

  /** When and where a key was last used; null when never used or when the key no longer exists. */
  async getAccessKeyLastUsed(accessKeyId: string): Promise<LastUse | null> {
    const action = 'GetAccessKeyLastUsed';
    let used: { LastUsedDate?: Date; ServiceName?: string; Region?: string } | undefined;
    try {
      const out = await this.client.send(
        this.counted(action, new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })),
      );
      used = out.AccessKeyLastUsed;
    } catch (err) {
      if (errorName(err) === 'NoSuchEntityException') return null;
      throw new IamReadError(`IAM ${action} for access key ${accessKeyId} failed: ${describe(err)}`, {
        cause: err,
      });
    }
    if (!used?.LastUsedDate) return null;
    const known = (v: string | undefined) => (v && v !== 'N/A' ? v : undefined);
    const service = known(used.ServiceName);
    const region = known(used.Region);
    return {
      date: used.LastUsedDate,
      ...(service !== undefined && { service }),
      ...(region !== undefined && { region }),
    };
  }

  /**
   * Whether the root user's MFA device is a virtual one: a virtual MFA device assigned to the root
   * user (its `User.Arn` is `arn:PARTITION:iam::ACCOUNT:root`) among ListVirtualMFADevices with
   * AssignmentStatus `Assigned` (1000 a page). False when none is: the root user's MFA is a hardware
   * device (FIDO key or TOTP token), or it has none.
   * @throws IamReadError naming the action when IAM refuses (AccessDenied: iam:ListVirtualMFADevices not granted)
   */
  async rootMfaIsVirtual(): Promise<boolean> {
    const action = 'ListVirtualMFADevices';
    let marker: string | undefined;
    try {
      do {
        const input: ListVirtualMFADevicesCommandInput = {
          AssignmentStatus: 'Assigned',
          MaxItems: IAM_PAGE_SIZE,
        };
        if (marker !== undefined) input.Marker = marker;
        const page = await this.client.send(this.counted(action, new ListVirtualMFADevicesCommand(input)));
        if ((page.VirtualMFADevices ?? []).some((d) => ROOT_ARN.test(d.User?.Arn ?? ''))) return true;
        marker = nextMarker(action, page);
      } while (marker !== undefined);
    } catch (err) {
      throw readError(action, err);
    }
    return false;
  }

  /** The account's alias (IAM allows at most one), or undefined when it has none. */
  async accountAlias(): Promise<string | undefined> {
    const action = 'ListAccountAliases';
    try {
      const out = await this.client.send(this.counted(action, new ListAccountAliasesCommand({})));
      return out.AccountAliases?.[0];
    } catch (err) {
      throw readError(action, err);
    }
  }

  /**
   * Sets the user's access key Inactive (UpdateAccessKey, Status Inactive: the only status this
   * adapter sends). Setting an inactive key Inactive again changes nothing, so the SDK's retries
   * (throttling, 5xx) are safe. Counted in {@link calls} and {@link requests} as `UpdateAccessKey`.
   * @returns `deactivated`, or `gone` when IAM knows no such user, or no such key of that user (NoSuchEntity)
   * @throws IamWriteError naming the field, before any request, when the user name or key id is not one IAM takes
   * @throws IamWriteError naming the action, the user, the key and IAM's error code when IAM refuses
   *   (AccessDenied, LimitExceeded, ServiceFailure or Throttling once the SDK's retries ran out)
   */
  async deactivateAccessKey(userName: string, accessKeyId: string): Promise<'deactivated' | 'gone'> {
    const action = 'UpdateAccessKey';
    checkDeactivationInput(userName, accessKeyId);
    try {
      await this.client.send(
        this.counted(action, new UpdateAccessKeyCommand(deactivation(userName, accessKeyId))),
      );
    } catch (err) {
      if (errorName(err) === 'NoSuchEntityException') return 'gone';
      const message = err instanceof Error ? err.message : String(err);
      throw new IamWriteError(
        `IAM ${action} (Status Inactive) for user "${userName}", access key ${accessKeyId} failed: ${iamCode(err)}${message ? `: ${message}` : ''}`,
        { cause: err },
      );
    }
    return 'deactivated';
  }

  /** Logical IAM calls made so far, by action (a paginated read counts one call a page). */
  calls(): Record<string, number> {
    return { ...this.callCounts };
  }

  /** HTTP requests sent so far, by action, SDK retries included. */
  requests(): Record<string, number> {
    return { ...this.requestCounts };
  }

  /** One report attempt: Generate, and Get when COMPLETE. Back-off errors and report states come back as NotReady. */
  private async tryReport(): Promise<CredentialReport | NotReady> {
    let state: string;
    try {
      const generated = await this.client.send(
        this.counted('GenerateCredentialReport', new GenerateCredentialReportCommand({})),
      );
      state = generated.State ?? 'unknown';
    } catch (err) {
      return this.backOffOrThrow('GenerateCredentialReport', err);
    }
    if (state !== 'COMPLETE') return { next: 'wait', state };
    try {
      return toReport(
        await this.client.send(this.counted('GetCredentialReport', new GetCredentialReportCommand({}))),
      );
    } catch (err) {
      switch (errorName(err)) {
        case 'CredentialReportNotPresentException':
          return { next: 'regenerate', state: 'ReportNotPresent', error: err };
        case 'CredentialReportExpiredException':
          return { next: 'regenerate', state: 'ReportExpired', error: err };
        case 'CredentialReportNotReadyException':
          return { next: 'wait', state: 'ReportInProgress', error: err };
        default:
          return this.backOffOrThrow('GetCredentialReport', err);
      }
    }
  }

  private backOffOrThrow(action: IamAction, err: unknown): NotReady {
    const code = BACK_OFF_ERRORS[errorName(err) ?? ''];
    if (code === undefined) throw readError(action, err);
    return { next: 'wait', state: code, error: err };
  }

  /** Counts one logical call, and adds a per-attempt request counter to the command's own middleware stack. */
  private counted<C extends CountableCommand>(action: IamAction, command: C): C {
    this.callCounts[action] = (this.callCounts[action] ?? 0) + 1;
    // finalizeRequest, below the retry middleware (priority high): runs once per HTTP attempt.
    command.middlewareStack.add(
      (next) => (args) => {
        this.requestCounts[action] = (this.requestCounts[action] ?? 0) + 1;
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'credwatchRequestCounter' },
    );
    return command;
  }
}
