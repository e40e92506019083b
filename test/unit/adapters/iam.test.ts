import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CredentialReportExpiredException,
  CredentialReportNotPresentException,
  CredentialReportNotReadyException,
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  type User,
  type UserDetail,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import {
  IAM_CLIENT_DEFAULTS,
  IamAdapter,
  type IamAdapterOptions,
  USER_DIRECTORY_MODES,
  type UserDirectoryMode,
} from '../../../lambda/adapters/iam';
import { ConfigError, CredentialReportUnavailableError, IamReadError } from '../../../lambda/core/errors';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import { scan } from '../../../lambda/scan';
import { FakeAccount, generateAccount } from '../../support/account-generator';
import { type IamEndpoint, type IamEndpointOptions, startIamEndpoint } from '../../support/iam-endpoint';
import { report } from '../../support/report-builder';

const FIXTURES = join(__dirname, '../../fixtures/iam');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const XML_FIXTURES = join(__dirname, '../../fixtures/iam-xml');
const xmlFixture = (name: string): string => readFileSync(join(XML_FIXTURES, name), 'utf8');

const FAKE_CREDENTIALS = { accessKeyId: 'AKIDFAKEFAKEFAKEFAKE', secretAccessKey: 'not-a-secret' };
const REPORT_CSV = fixture('credential-report.csv');
const REPORT = {
  Content: new TextEncoder().encode(REPORT_CSV),
  ReportFormat: 'text/csv' as const,
  GeneratedTime: new Date('2025-01-30T10:00:00Z'),
};

const notPresent = () =>
  new CredentialReportNotPresentException({ message: 'Report not present', $metadata: {} });
const expired = () => new CredentialReportExpiredException({ message: 'Report expired', $metadata: {} });
const notReady = () =>
  new CredentialReportNotReadyException({ message: 'Report in progress', $metadata: {} });
const limitExceeded = () =>
  new LimitExceededException({ message: 'Too many report requests', $metadata: {} });
const noSuchEntity = () => new NoSuchEntityException({ message: 'The user cannot be found.', $metadata: {} });
const throttling = () =>
  new IAMServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: {} });
const accessDenied = () =>
  new IAMServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    message: 'User: arn:aws:iam::123456789012:user/scanner is not authorized to perform this action',
    $metadata: {},
  });

/** An adapter on a mocked client, with a fake clock that the injected sleep advances. */
function setup(options: Omit<IamAdapterOptions, 'client' | 'clock' | 'sleep'> = {}) {
  const client = new IAMClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS });
  const iam = mockClient(client);
  let now = 1_700_000_000_000;
  const sleeps: number[] = [];
  const progress: string[] = [];
  const adapter = new IamAdapter({
    ...options,
    client,
    clock: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
  return { iam, adapter, sleeps, progress, onProgress: (m: string) => progress.push(m) };
}

const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );

describe('IamAdapter.getReport', () => {
  it('polls with doubling delays while the report is STARTED or INPROGRESS and downloads it when COMPLETE', async () => {
    const { iam, adapter, sleeps, progress, onProgress } = setup();
    iam
      .on(GenerateCredentialReportCommand)
      .resolvesOnce({ State: 'STARTED' })
      .resolvesOnce({ State: 'INPROGRESS' })
      .resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).resolves(REPORT);

    const report = await adapter.getReport(onProgress);

    expect(report).toEqual({ csv: REPORT_CSV, generatedAt: new Date('2025-01-30T10:00:00Z') });
    expect(sleeps).toEqual([1_000, 2_000]);
    expect(progress).toEqual([
      'credential report: STARTED, checking again in 1 s',
      'credential report: INPROGRESS, checking again in 2 s',
    ]);
    expect(adapter.calls()).toEqual({ GenerateCredentialReport: 3, GetCredentialReport: 1 });
  });

  it('decodes the report content as UTF-8 and gives null when IAM omits GeneratedTime', async () => {
    const { iam, adapter } = setup();
    const csv = 'user,arn\nzoë,arn:aws:iam::123456789012:user/zoë\n';
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).resolves({ Content: new TextEncoder().encode(csv) });

    expect(await adapter.getReport()).toEqual({ csv, generatedAt: null });
  });

  it.each([
    ['ReportNotPresent', notPresent],
    ['ReportExpired', expired],
  ])('generates the report again at once when GetCredentialReport says %s', async (code, error) => {
    const { iam, adapter, sleeps, progress, onProgress } = setup();
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).rejectsOnce(error()).resolves(REPORT);

    expect((await adapter.getReport(onProgress)).csv).toBe(REPORT_CSV);
    expect(sleeps).toEqual([]);
    expect(progress).toEqual([`credential report: ${code}, generating a new one`]);
    expect(adapter.calls()).toEqual({ GenerateCredentialReport: 2, GetCredentialReport: 2 });
  });

  it('waits for a regenerated report after an expired one until it is COMPLETE', async () => {
    const { iam, adapter, sleeps, progress, onProgress } = setup();
    iam
      .on(GenerateCredentialReportCommand)
      .resolvesOnce({ State: 'COMPLETE' })
      .resolvesOnce({ State: 'STARTED' })
      .resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).rejectsOnce(expired()).resolves(REPORT);

    expect((await adapter.getReport(onProgress)).csv).toBe(REPORT_CSV);
    expect(sleeps).toEqual([1_000]);
    expect(progress).toEqual([
      'credential report: ReportExpired, generating a new one',
      'credential report: STARTED, checking again in 1 s',
    ]);
    expect(adapter.calls()).toEqual({ GenerateCredentialReport: 3, GetCredentialReport: 2 });
  });

  it('waits and tries again when GetCredentialReport says ReportInProgress', async () => {
    const { iam, adapter, sleeps, progress, onProgress } = setup();
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).rejectsOnce(notReady()).resolves(REPORT);

    expect((await adapter.getReport(onProgress)).csv).toBe(REPORT_CSV);
    expect(sleeps).toEqual([1_000]);
    expect(progress).toEqual(['credential report: ReportInProgress, checking again in 1 s']);
    expect(adapter.calls()).toEqual({ GenerateCredentialReport: 2, GetCredentialReport: 2 });
  });

  it.each([
    ['LimitExceeded', 'GenerateCredentialReport', limitExceeded],
    ['Throttling', 'GenerateCredentialReport', throttling],
    ['Throttling', 'GetCredentialReport', throttling],
  ])(
    'backs off and tries again when %s still surfaces from %s after the SDK retries',
    async (code, action, error) => {
      const { iam, adapter, sleeps, progress, onProgress } = setup();
      if (action === 'GenerateCredentialReport') {
        iam.on(GenerateCredentialReportCommand).rejectsOnce(error()).resolves({ State: 'COMPLETE' });
        iam.on(GetCredentialReportCommand).resolves(REPORT);
      } else {
        iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
        iam.on(GetCredentialReportCommand).rejectsOnce(error()).resolves(REPORT);
      }

      expect((await adapter.getReport(onProgress)).csv).toBe(REPORT_CSV);
      expect(sleeps).toEqual([1_000]);
      expect(progress).toEqual([`credential report: ${code}, checking again in 1 s`]);
    },
  );

  it('gives up when the deadline passes, naming the deadline and the last state', async () => {
    const { iam, adapter, sleeps } = setup();
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'INPROGRESS' });

    const err = await failure(adapter.getReport());

    expect(err).toBeInstanceOf(CredentialReportUnavailableError);
    expect((err as Error).message).toBe(
      'IAM did not finish the credential report within 60 s (last state: INPROGRESS)',
    );
    // 1 + 2 + 4 + 8 x 6 + 5 (what is left) = 60 s, then one last poll at the deadline.
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000, 8_000, 5_000]);
    expect(adapter.calls()).toEqual({ GenerateCredentialReport: 11 });
    expect(iam.commandCalls(GetCredentialReportCommand)).toHaveLength(0);
  });

  it('names the last error and keeps it as the cause when the deadline passes while IAM refuses', async () => {
    const { iam, adapter, sleeps } = setup({ reportDeadlineMs: 2_500 });
    const lastError = limitExceeded();
    iam.on(GenerateCredentialReportCommand).rejectsOnce(limitExceeded()).rejects(lastError);

    const err = await failure(adapter.getReport());

    expect(err).toBeInstanceOf(CredentialReportUnavailableError);
    expect((err as Error).message).toBe(
      'IAM did not finish the credential report within 2.5 s (last state: LimitExceeded)',
    );
    expect((err as Error).cause).toBe(lastError);
    expect(sleeps).toEqual([1_000, 1_500]);
  });

  it('does not busy-loop when IAM keeps saying COMPLETE and then ReportNotPresent', async () => {
    const { iam, adapter, sleeps } = setup({ reportDeadlineMs: 3_000 });
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).rejects(notPresent());

    const err = await failure(adapter.getReport());

    expect((err as Error).message).toBe(
      'IAM did not finish the credential report within 3 s (last state: ReportNotPresent)',
    );
    // Generate again at once, then wait; again at once, then wait; again at once, then the deadline.
    expect(sleeps).toEqual([1_000, 2_000]);
    expect(adapter.calls()).toEqual({ GenerateCredentialReport: 6, GetCredentialReport: 6 });
  });

  it('never sleeps past the deadline and polls once more at it, whatever the intervals', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 120_000 }),
        async (pollIntervalMs, factor, reportDeadlineMs) => {
          const maxPollIntervalMs = pollIntervalMs * factor;
          const { iam, adapter, sleeps } = setup({ pollIntervalMs, maxPollIntervalMs, reportDeadlineMs });
          iam.on(GenerateCredentialReportCommand).resolves({ State: 'INPROGRESS' });

          const err = await failure(adapter.getReport());

          expect(err).toBeInstanceOf(CredentialReportUnavailableError);
          expect(sleeps.reduce((a, b) => a + b, 0)).toBe(reportDeadlineMs);
          expect(sleeps.every((ms) => ms > 0 && ms <= maxPollIntervalMs)).toBe(true);
          expect(sleeps.slice(1).every((ms, i) => ms <= 2 * (sleeps[i] ?? 0))).toBe(true);
          expect(adapter.calls()).toEqual({ GenerateCredentialReport: sleeps.length + 1 });
        },
      ),
      { numRuns: 100 },
    );
  });

  it.each([
    ['GenerateCredentialReport', true],
    ['GetCredentialReport', false],
  ])(
    'throws an IamReadError naming %s, with the cause, when IAM refuses access',
    async (action, onGenerate) => {
      const { iam, adapter, sleeps } = setup();
      const denied = accessDenied();
      if (onGenerate) {
        iam.on(GenerateCredentialReportCommand).rejects(denied);
      } else {
        iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
        iam.on(GetCredentialReportCommand).rejects(denied);
      }

      const err = await failure(adapter.getReport());

      expect(err).toBeInstanceOf(IamReadError);
      expect((err as Error).message).toBe(
        `IAM ${action} failed: AccessDenied: User: arn:aws:iam::123456789012:user/scanner is not authorized to perform this action`,
      );
      expect((err as Error).cause).toBe(denied);
      expect(sleeps).toEqual([]);
    },
  );

  it.each([
    [{ ReportFormat: 'text/csv' as const }, 'IAM GetCredentialReport returned no Content'],
    [
      { ...REPORT, ReportFormat: 'text/xml' as unknown as 'text/csv' },
      'IAM GetCredentialReport returned format "text/xml", expected "text/csv"',
    ],
  ])('throws an IamReadError when the downloaded report is unusable (%#)', async (output, message) => {
    const { iam, adapter } = setup();
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).resolves(output);

    const err = await failure(adapter.getReport());

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(message);
  });
});

describe('IamAdapter options', () => {
  it.each([
    [{ reportDeadlineMs: -1 }, 'IamAdapter: reportDeadlineMs must be 0 or more, got -1'],
    [{ pollIntervalMs: 0 }, 'IamAdapter: pollIntervalMs must be more than 0, got 0'],
    [{ pollIntervalMs: Number.NaN }, 'IamAdapter: pollIntervalMs must be more than 0, got NaN'],
    [
      { pollIntervalMs: 2_000, maxPollIntervalMs: 1_000 },
      'IamAdapter: maxPollIntervalMs (1000) must be at least pollIntervalMs (2000)',
    ],
    [
      { userDirectory: 'users' as UserDirectoryMode },
      'IamAdapter: userDirectory must be "authorization-details" or "list-users", got "users"',
    ],
    [{ tagReadConcurrency: 0 }, 'IamAdapter: tagReadConcurrency must be a whole number of 1 or more, got 0'],
    [
      { tagReadConcurrency: 1.5 },
      'IamAdapter: tagReadConcurrency must be a whole number of 1 or more, got 1.5',
    ],
  ])('rejects %p with a ConfigError saying what is allowed', (options, message) => {
    const client = new IAMClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS });
    expect(() => new IamAdapter({ client, ...options })).toThrow(new ConfigError(message));
  });

  it('offers exactly the two user directory modes, authorization-details first', () => {
    expect(USER_DIRECTORY_MODES).toEqual(['authorization-details', 'list-users']);
  });
});

const userDetail = (name: string, tags?: UserDetail['Tags']): UserDetail => ({
  UserName: name,
  UserId: `AIDA${name.toUpperCase()}`,
  Path: '/',
  Arn: `arn:aws:iam::123456789012:user/${name}`,
  CreateDate: new Date('2024-05-01T12:00:00Z'),
  ...(tags && { Tags: tags }),
});

describe('IamAdapter.listUsers', () => {
  it('follows Marker while IsTruncated, even when a page holds fewer than MaxItems users', async () => {
    const { iam, adapter } = setup();
    iam
      .on(GetAccountAuthorizationDetailsCommand)
      .resolvesOnce({
        UserDetailList: [userDetail('alice'), userDetail('bob')],
        IsTruncated: true,
        Marker: 'm1',
      })
      .resolvesOnce({ UserDetailList: [], IsTruncated: true, Marker: 'm2' })
      .resolvesOnce({ UserDetailList: [userDetail('carol')], IsTruncated: false });

    const users = await adapter.listUsers();

    expect(users.map((u) => u.name)).toEqual(['alice', 'bob', 'carol']);
    expect(iam.commandCalls(GetAccountAuthorizationDetailsCommand).map((c) => c.args[0].input)).toEqual([
      { Filter: ['User'], MaxItems: 1000 },
      { Filter: ['User'], MaxItems: 1000, Marker: 'm1' },
      { Filter: ['User'], MaxItems: 1000, Marker: 'm2' },
    ]);
    expect(adapter.calls()).toEqual({ GetAccountAuthorizationDetails: 3 });
  });

  it.each([
    ['no tags', undefined, {}],
    [
      'tags',
      [
        { Key: 'credwatch:owner', Value: 'U024BE7LH' },
        { Key: 'credwatch:exempt', Value: 'until=2025-12-31; reason=break-glass' },
        { Key: 'empty', Value: '' },
      ],
      {
        'credwatch:owner': 'U024BE7LH',
        'credwatch:exempt': 'until=2025-12-31; reason=break-glass',
        empty: '',
      },
    ],
  ])('maps a user with %s to a LiveUser with a Key -> Value record', async (_, tags, expected) => {
    const { iam, adapter } = setup();
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [userDetail('dave', tags)] });

    expect(await adapter.listUsers()).toEqual([
      {
        name: 'dave',
        arn: 'arn:aws:iam::123456789012:user/dave',
        createdAt: new Date('2024-05-01T12:00:00Z'),
        tags: expected,
      },
    ]);
  });

  it.each([
    [
      'a truncated page without a Marker',
      { UserDetailList: [userDetail('alice')], IsTruncated: true },
      'IAM GetAccountAuthorizationDetails returned a truncated page without a Marker',
    ],
    [
      'a user without an Arn',
      { UserDetailList: [{ UserName: 'erin', CreateDate: new Date('2024-01-01T00:00:00Z') }] },
      'IAM GetAccountAuthorizationDetails returned a user without UserName, Arn or CreateDate (user "erin")',
    ],
  ])('throws an IamReadError rather than return a partial list on %s', async (_, page, message) => {
    const { iam, adapter } = setup();
    iam.on(GetAccountAuthorizationDetailsCommand).resolves(page);

    const err = await failure(adapter.listUsers());

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(message);
  });

  it('throws an IamReadError naming the action, with the cause, when IAM refuses', async () => {
    const { iam, adapter } = setup();
    const denied = accessDenied();
    iam.on(GetAccountAuthorizationDetailsCommand).rejects(denied);

    const err = await failure(adapter.listUsers());

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toMatch(
      /^IAM GetAccountAuthorizationDetails failed: AccessDenied: User: /,
    );
    expect((err as Error).cause).toBe(denied);
  });
});

const listedUser = (name: string): User => ({
  UserName: name,
  UserId: `AIDA${name.toUpperCase()}`,
  Path: '/',
  Arn: `arn:aws:iam::123456789012:user/${name}`,
  CreateDate: new Date('2024-05-01T12:00:00Z'),
});

describe('IamAdapter.listUsers in list-users mode', () => {
  const listUsersSetup = (options: Omit<IamAdapterOptions, 'client' | 'clock' | 'sleep'> = {}) =>
    setup({ userDirectory: 'list-users', ...options });

  it('reads users with ListUsers and each one’s tags with ListUserTags, following Marker on both', async () => {
    const { iam, adapter } = listUsersSetup();
    iam
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [listedUser('alice'), listedUser('bob')], IsTruncated: true, Marker: 'u1' })
      .resolvesOnce({ Users: [listedUser('carol')], IsTruncated: false });
    iam
      .on(ListUserTagsCommand, { UserName: 'alice' })
      .resolvesOnce({
        Tags: [{ Key: 'credwatch:owner', Value: 'U024BE7LH' }],
        IsTruncated: true,
        Marker: 't1',
      })
      .resolvesOnce({ Tags: [{ Key: 'team', Value: 'web' }], IsTruncated: false });
    iam.on(ListUserTagsCommand, { UserName: 'bob' }).resolves({ Tags: [], IsTruncated: false });
    iam.on(ListUserTagsCommand, { UserName: 'carol' }).resolves({ Tags: [{ Key: 'empty', Value: '' }] });

    const users = await adapter.listUsers();

    expect(users).toEqual([
      {
        name: 'alice',
        arn: 'arn:aws:iam::123456789012:user/alice',
        createdAt: new Date('2024-05-01T12:00:00Z'),
        tags: { 'credwatch:owner': 'U024BE7LH', team: 'web' },
      },
      {
        name: 'bob',
        arn: 'arn:aws:iam::123456789012:user/bob',
        createdAt: new Date('2024-05-01T12:00:00Z'),
        tags: {},
      },
      {
        name: 'carol',
        arn: 'arn:aws:iam::123456789012:user/carol',
        createdAt: new Date('2024-05-01T12:00:00Z'),
        tags: { empty: '' },
      },
    ]);
    expect(iam.commandCalls(ListUsersCommand).map((c) => c.args[0].input)).toEqual([
      { MaxItems: 1000 },
      { MaxItems: 1000, Marker: 'u1' },
    ]);
    expect(
      iam
        .commandCalls(ListUserTagsCommand)
        .map((c) => c.args[0].input)
        .sort((a, b) => `${a.UserName}${a.Marker ?? ''}`.localeCompare(`${b.UserName}${b.Marker ?? ''}`)),
    ).toEqual([
      { UserName: 'alice', MaxItems: 1000 },
      { UserName: 'alice', MaxItems: 1000, Marker: 't1' },
      { UserName: 'bob', MaxItems: 1000 },
      { UserName: 'carol', MaxItems: 1000 },
    ]);
    expect(iam.commandCalls(GetAccountAuthorizationDetailsCommand)).toHaveLength(0);
    expect(adapter.calls()).toEqual({ ListUsers: 2, ListUserTags: 4 });
  });

  it('leaves out a user that ListUserTags no longer finds (deleted since ListUsers), on any page', async () => {
    const { iam, adapter } = listUsersSetup();
    iam.on(ListUsersCommand).resolves({ Users: ['alice', 'bob', 'carol'].map(listedUser) });
    iam.on(ListUserTagsCommand).resolves({ Tags: [] });
    iam.on(ListUserTagsCommand, { UserName: 'bob' }).rejects(noSuchEntity());
    iam
      .on(ListUserTagsCommand, { UserName: 'carol' })
      .resolvesOnce({ Tags: [{ Key: 'a', Value: '1' }], IsTruncated: true, Marker: 'c1' })
      .rejectsOnce(noSuchEntity());

    expect((await adapter.listUsers()).map((u) => u.name)).toEqual(['alice']);
    expect(adapter.calls()).toEqual({ ListUsers: 1, ListUserTags: 4 });
  });

  it('reads at most tagReadConcurrency users’ tags at once, in the order ListUsers gave', async () => {
    const { iam, adapter } = listUsersSetup({ tagReadConcurrency: 3 });
    const names = Array.from({ length: 20 }, (_, i) => `user${String(i).padStart(2, '0')}`);
    iam.on(ListUsersCommand).resolves({ Users: names.map(listedUser) });
    let inFlight = 0;
    let most = 0;
    iam.on(ListUserTagsCommand).callsFake(async (input: { UserName: string }) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1 + (input.UserName.charCodeAt(5) % 3)));
      inFlight--;
      return { Tags: [{ Key: 'name', Value: input.UserName }] };
    });

    const users = await adapter.listUsers();

    expect(most).toBe(3);
    expect(users.map((u) => [u.name, u.tags.name])).toEqual(names.map((n) => [n, n]));
  });

  it.each([
    [
      'a truncated ListUsers page without a Marker',
      () => ({ Users: [listedUser('alice')], IsTruncated: true }),
      undefined,
      'IAM ListUsers returned a truncated page without a Marker',
    ],
    [
      'a user without an Arn',
      () => ({ Users: [{ ...listedUser('erin'), Arn: undefined } as unknown as User] }),
      undefined,
      'IAM ListUsers returned a user without UserName, Arn or CreateDate (user "erin")',
    ],
    [
      'a truncated ListUserTags page without a Marker',
      () => ({ Users: [listedUser('alice')] }),
      { Tags: [], IsTruncated: true },
      'IAM ListUserTags for user "alice" returned a truncated page without a Marker',
    ],
  ])('throws an IamReadError rather than return a partial list on %s', async (_, users, tags, message) => {
    const { iam, adapter } = listUsersSetup();
    iam.on(ListUsersCommand).resolves(users());
    iam.on(ListUserTagsCommand).resolves(tags ?? { Tags: [] });

    const err = await failure(adapter.listUsers());

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(message);
  });

  it('throws an IamReadError naming ListUsers, with the cause, when IAM refuses', async () => {
    const { iam, adapter } = listUsersSetup();
    const denied = accessDenied();
    iam.on(ListUsersCommand).rejects(denied);

    const err = await failure(adapter.listUsers());

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(`IAM ListUsers failed: AccessDenied: ${denied.message}`);
    expect((err as Error).cause).toBe(denied);
    expect(iam.commandCalls(ListUserTagsCommand)).toHaveLength(0);
  });

  it.each([
    ['AccessDenied', accessDenied],
    ['Throttling', throttling],
  ])(
    'throws an IamReadError naming ListUserTags and the user on %s, and starts no read after it',
    async (code, error) => {
      const { iam, adapter } = listUsersSetup({ tagReadConcurrency: 1 });
      const cause = error();
      iam.on(ListUsersCommand).resolves({ Users: ['alice', 'bob', 'carol', 'dave'].map(listedUser) });
      iam.on(ListUserTagsCommand).resolves({ Tags: [] });
      iam.on(ListUserTagsCommand, { UserName: 'bob' }).rejects(cause);

      const err = await failure(adapter.listUsers());

      expect(err).toBeInstanceOf(IamReadError);
      expect((err as Error).message).toBe(
        `IAM ListUserTags for user "bob" failed: ${code}: ${cause.message}`,
      );
      expect((err as Error).cause).toBe(cause);
      expect(adapter.calls()).toEqual({ ListUsers: 1, ListUserTags: 2 });
    },
  );
});

describe('IamAdapter.listAccessKeys', () => {
  it('pages through the keys with MaxItems 1000 and maps Status to active', async () => {
    const { iam, adapter } = setup();
    iam
      .on(ListAccessKeysCommand)
      .resolvesOnce({
        AccessKeyMetadata: [
          {
            AccessKeyId: 'AKIAAAAAAAAAAAAAAAA1',
            Status: 'Active',
            CreateDate: new Date('2024-01-01T00:00:00Z'),
          },
        ],
        IsTruncated: true,
        Marker: 'k1',
      })
      .resolvesOnce({
        AccessKeyMetadata: [
          {
            AccessKeyId: 'AKIAAAAAAAAAAAAAAAA2',
            Status: 'Inactive',
            CreateDate: new Date('2024-02-01T00:00:00Z'),
          },
          {
            AccessKeyId: 'AKIAAAAAAAAAAAAAAAA3',
            Status: 'Expired',
            CreateDate: new Date('2024-03-01T00:00:00Z'),
          },
        ],
        IsTruncated: false,
      });

    expect(await adapter.listAccessKeys('alice')).toEqual([
      { id: 'AKIAAAAAAAAAAAAAAAA1', active: true, createdAt: new Date('2024-01-01T00:00:00Z') },
      { id: 'AKIAAAAAAAAAAAAAAAA2', active: false, createdAt: new Date('2024-02-01T00:00:00Z') },
      { id: 'AKIAAAAAAAAAAAAAAAA3', active: false, createdAt: new Date('2024-03-01T00:00:00Z') },
    ]);
    expect(iam.commandCalls(ListAccessKeysCommand).map((c) => c.args[0].input)).toEqual([
      { UserName: 'alice', MaxItems: 1000 },
      { UserName: 'alice', MaxItems: 1000, Marker: 'k1' },
    ]);
    expect(adapter.calls()).toEqual({ ListAccessKeys: 2 });
  });

  it('gives an empty list for a user without keys', async () => {
    const { iam, adapter } = setup();
    iam.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [], IsTruncated: false });

    expect(await adapter.listAccessKeys('bob')).toEqual([]);
  });

  it('gives null when the user no longer exists (NoSuchEntity)', async () => {
    const { iam, adapter } = setup();
    iam.on(ListAccessKeysCommand).rejects(noSuchEntity());

    expect(await adapter.listAccessKeys('gone')).toBeNull();
  });

  it.each([
    ['AccessDenied', accessDenied],
    ['Throttling', throttling],
  ])('throws an IamReadError naming the action and the user when IAM answers %s', async (code, error) => {
    const { iam, adapter } = setup();
    const cause = error();
    iam.on(ListAccessKeysCommand).rejects(cause);

    const err = await failure(adapter.listAccessKeys('alice'));

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(
      `IAM ListAccessKeys for user "alice" failed: ${code}: ${cause.message}`,
    );
    expect((err as Error).cause).toBe(cause);
  });
});

describe('IamAdapter.getAccessKeyLastUsed', () => {
  const date = new Date('2025-03-13T10:45:00Z');
  it.each([
    [
      'service and region',
      { LastUsedDate: date, ServiceName: 's3', Region: 'us-west-2' },
      { date, service: 's3', region: 'us-west-2' },
    ],
    [
      'a non-regional service (Region N/A)',
      { LastUsedDate: date, ServiceName: 'iam', Region: 'N/A' },
      { date, service: 'iam' },
    ],
    ['no service or region (N/A)', { LastUsedDate: date, ServiceName: 'N/A', Region: 'N/A' }, { date }],
    ['a never-used key (no LastUsedDate)', { ServiceName: 'N/A', Region: 'N/A' }, null],
    ['no AccessKeyLastUsed at all', undefined, null],
  ])('maps %s', async (_, lastUsed, expected) => {
    const { iam, adapter } = setup();
    iam
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAAAAAAAAAAAAAAAA1' })
      .resolves({ UserName: 'alice', ...(lastUsed && { AccessKeyLastUsed: lastUsed }) });

    expect(await adapter.getAccessKeyLastUsed('AKIAAAAAAAAAAAAAAAA1')).toEqual(expected);
    expect(adapter.calls()).toEqual({ GetAccessKeyLastUsed: 1 });
  });

  it('gives null when the key no longer exists (NoSuchEntity)', async () => {
    const { iam, adapter } = setup();
    iam.on(GetAccessKeyLastUsedCommand).rejects(noSuchEntity());

    expect(await adapter.getAccessKeyLastUsed('AKIAAAAAAAAAAAAAAAA1')).toBeNull();
  });

  it('throws an IamReadError naming the action and the key, with the cause, when IAM refuses', async () => {
    const { iam, adapter } = setup();
    const denied = accessDenied();
    iam.on(GetAccessKeyLastUsedCommand).rejects(denied);

    const err = await failure(adapter.getAccessKeyLastUsed('AKIAAAAAAAAAAAAAAAA1'));

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toMatch(
      /^IAM GetAccessKeyLastUsed for access key AKIAAAAAAAAAAAAAAAA1 failed: AccessDenied: /,
    );
    expect((err as Error).cause).toBe(denied);
  });
});

describe('IamAdapter.calls', () => {
  it('counts logical calls by action, failed ones included, and returns a copy', async () => {
    const { iam, adapter } = setup();
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [userDetail('alice')] });
    iam.on(ListAccessKeysCommand, { UserName: 'gone' }).rejects(noSuchEntity());
    iam.on(ListAccessKeysCommand, { UserName: 'alice' }).resolves({ AccessKeyMetadata: [] });
    iam.on(GetAccessKeyLastUsedCommand).resolves({});

    expect(adapter.calls()).toEqual({});
    await adapter.listUsers();
    await adapter.listAccessKeys('alice');
    await adapter.listAccessKeys('gone');
    await adapter.getAccessKeyLastUsed('AKIAAAAAAAAAAAAAAAA1');
    const counts = adapter.calls();
    counts.ListAccessKeys = 99;

    expect(adapter.calls()).toEqual({
      GetAccountAuthorizationDetails: 1,
      ListAccessKeys: 2,
      GetAccessKeyLastUsed: 1,
    });
  });
});

interface FakeIam {
  readonly client: IAMClient;
  /** The form body of every request the server received, in order. */
  readonly received: URLSearchParams[];
  close(): Promise<void>;
}

/** A local IAM endpoint on 127.0.0.1 that answers the given responses in order, and a real client for it. */
async function fakeIam(
  responses: ReadonlyArray<{ status: number; body: string; headers?: Record<string, string> }>,
): Promise<FakeIam> {
  const received: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push(new URLSearchParams(body));
      const response = responses[received.length - 1] ?? { status: 500, body: 'no more responses' };
      res.writeHead(response.status, { 'content-type': 'text/xml', ...response.headers });
      res.end(response.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new IAMClient({
    ...IAM_CLIENT_DEFAULTS,
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: FAKE_CREDENTIALS,
  });
  return {
    client,
    received,
    close: async () => {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('IamAdapter over HTTP (local IAM endpoint)', () => {
  let iam: FakeIam | undefined;
  afterEach(async () => {
    await iam?.close();
    iam = undefined;
  });

  it('counts one call but two requests when IAM throttles once and the SDK retries', async () => {
    iam = await fakeIam([
      { status: 400, body: fixture('throttling.xml') },
      { status: 200, body: fixture('list-access-keys.xml') },
    ]);
    const adapter = new IamAdapter({ client: iam.client });

    const keys = await adapter.listAccessKeys('Bob');

    expect(keys).toEqual([
      { id: 'AKIA1234567890EXAMPLE', active: true, createdAt: new Date('2016-12-03T18:53:41Z') },
      { id: 'AKIA2345678901EXAMPLE', active: false, createdAt: new Date('2017-03-25T20:38:14Z') },
    ]);
    expect(adapter.calls()).toEqual({ ListAccessKeys: 1 });
    expect(adapter.requests()).toEqual({ ListAccessKeys: 2 });
    expect(
      iam.received.map((form) => [form.get('Action'), form.get('UserName'), form.get('MaxItems')]),
    ).toEqual([
      ['ListAccessKeys', 'Bob', '1000'],
      ['ListAccessKeys', 'Bob', '1000'],
    ]);
  });

  it('generates, polls and downloads a base64 report through the real SDK', async () => {
    const getReport = fixture('get-credential-report.template.xml').replace(
      'BASE-64 ENCODED FILE CONTENTS',
      Buffer.from(REPORT_CSV, 'utf8').toString('base64'),
    );
    iam = await fakeIam([
      { status: 200, body: fixture('generate-credential-report-started.xml') },
      { status: 200, body: fixture('generate-credential-report-complete.xml') },
      { status: 200, body: getReport },
    ]);
    const sleeps: number[] = [];
    const adapter = new IamAdapter({
      client: iam.client,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    const report = await adapter.getReport();

    expect(report).toEqual({ csv: REPORT_CSV, generatedAt: new Date('2014-08-28T21:42:50Z') });
    expect(sleeps).toEqual([1_000]);
    expect(iam.received.map((form) => form.get('Action'))).toEqual([
      'GenerateCredentialReport',
      'GenerateCredentialReport',
      'GetCredentialReport',
    ]);
    expect(adapter.requests()).toEqual({ GenerateCredentialReport: 2, GetCredentialReport: 1 });
    expect(adapter.calls()).toEqual(adapter.requests());
  });
});

describe('IamAdapter and a real AccessDenied answer', () => {
  let iam: FakeIam | undefined;
  afterEach(async () => {
    await iam?.close();
    iam = undefined;
  });

  it('reports the recorded IAM AccessDenied (action substituted) as an IamReadError naming the action and the user, without retrying it', async () => {
    const headers = xmlFixture('real_AccessDenied_GetUser_terraform-debug-log.headers.txt');
    const requestId = /^X-Amzn-Requestid: (\S+)/im.exec(headers)![1]!;
    const body = xmlFixture('real_AccessDenied_GetUser_terraform-debug-log.xml').replace(
      'iam:GetUser',
      'iam:ListAccessKeys',
    );
    iam = await fakeIam([{ status: 403, body, headers: { 'x-amzn-requestid': requestId } }]);
    const adapter = new IamAdapter({ client: iam.client });

    const err = await failure(adapter.listAccessKeys('Suganthi.Mani'));

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(
      'IAM ListAccessKeys for user "Suganthi.Mani" failed: AccessDenied: User: arn:aws:iam::579766882180:user/Suganthi.Mani is not authorized to perform: iam:ListAccessKeys on resource: user Suganthi.Mani',
    );
    expect((err as Error).cause).toMatchObject({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403, requestId },
    });
    expect(adapter.requests()).toEqual({ ListAccessKeys: 1 });
  });
});

describe('IamAdapter against the local IAM endpoint (test/support/iam-endpoint.ts)', () => {
  const NOW = new Date('2026-11-23T12:00:00Z');
  const SCANNER = 'arn:aws:sts::111122223333:assumed-role/credwatch-scanner/credwatch';
  const endpoints: IamEndpoint[] = [];
  const clients: IAMClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await Promise.all(endpoints.splice(0).map((e) => e.close()));
  });

  async function start(options: IamEndpointOptions = {}): Promise<IamEndpoint> {
    const endpoint = await startIamEndpoint({ now: () => NOW, ...options });
    endpoints.push(endpoint);
    return endpoint;
  }

  /** The client the Lambda uses (adaptive retry, 10 attempts), on the endpoint. */
  function clientOf(endpoint: IamEndpoint): IAMClient {
    const client = new IAMClient({
      ...IAM_CLIENT_DEFAULTS,
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: FAKE_CREDENTIALS,
    });
    clients.push(client);
    return client;
  }

  const adapterOn = (
    endpoint: IamEndpoint,
    userDirectory: UserDirectoryMode,
    options: Omit<IamAdapterOptions, 'client' | 'userDirectory'> = {},
  ) => new IamAdapter({ client: clientOf(endpoint), userDirectory, ...options });

  /** Three users, two of them tagged. */
  function threeUsers(): FakeAccount {
    const account = new FakeAccount({
      accountId: '111122223333',
      createdAt: new Date('2020-01-01T00:00:00Z'),
    });
    account.createUser('alice', { createdAt: new Date('2023-01-10T09:00:00Z'), tags: { team: 'web' } });
    account.createUser('bob', {
      createdAt: new Date('2024-06-01T00:00:00Z'),
      tags: { 'credwatch:owner': 'U0BOB' },
    });
    account.createUser('carol', { createdAt: new Date('2025-02-01T00:00:00Z'), path: '/ops/' });
    return account;
  }

  it('reads the same users and tags in both modes, with the calls each mode takes', async () => {
    const account = generateAccount({ users: 60, seed: 'user-directory', now: NOW });
    const endpoint = await start({ account });

    const byDetails = adapterOn(endpoint, 'authorization-details');
    const fromDetails = await byDetails.listUsers();
    const detailsRequests = endpoint.counts();
    endpoint.resetCounts();
    const oneByOne = adapterOn(endpoint, 'list-users');
    const fromListUsers = await oneByOne.listUsers();

    expect(fromListUsers).toEqual(fromDetails);
    expect(fromDetails).toEqual(
      account.users().map((u) => ({ name: u.name, arn: u.arn, createdAt: u.createdAt, tags: u.tags })),
    );
    expect(fromDetails.filter((u) => Object.keys(u.tags).length > 0).length).toBeGreaterThan(20);
    expect(byDetails.calls()).toEqual({ GetAccountAuthorizationDetails: 1 });
    expect(detailsRequests).toEqual({ GetAccountAuthorizationDetails: 1 });
    expect(oneByOne.calls()).toEqual({ ListUsers: 1, ListUserTags: 60 });
    expect(endpoint.counts()).toEqual({ ListUsers: 1, ListUserTags: 60 });
  });

  it('takes one call per 1,000 users with GetAccountAuthorizationDetails, and one per user more with ListUsers', async () => {
    const account = generateAccount({ users: 1001, seed: 'page-size', now: NOW });
    const endpoint = await start({ account });
    const byDetails = adapterOn(endpoint, 'authorization-details');
    const oneByOne = adapterOn(endpoint, 'list-users', { tagReadConcurrency: 8 });

    const [fromDetails, fromListUsers] = [await byDetails.listUsers(), await oneByOne.listUsers()];

    expect(fromListUsers).toEqual(fromDetails);
    expect(fromDetails).toHaveLength(1001);
    expect(byDetails.calls()).toEqual({ GetAccountAuthorizationDetails: 2 });
    expect(oneByOne.calls()).toEqual({ ListUsers: 2, ListUserTags: 1001 });
  });

  it('follows short pages of users and of tags to the same result in both modes', async () => {
    const account = generateAccount({ users: 30, seed: 'short', now: NOW });
    const many = account.users()[7]!.name;
    account.tagUser(many, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`extra-${i}`, `${i}`])));
    const endpoint = await start({ account, shortPages: () => 7 });
    const byDetails = adapterOn(endpoint, 'authorization-details');
    const oneByOne = adapterOn(endpoint, 'list-users');

    const fromDetails = await byDetails.listUsers();
    const fromListUsers = await oneByOne.listUsers();

    expect(fromListUsers).toEqual(fromDetails);
    expect(fromListUsers.map((u) => u.name)).toEqual(account.users().map((u) => u.name));
    expect(fromListUsers.find((u) => u.name === many)?.tags).toEqual(account.user(many)!.tags);
    // 30 users, 7 a page: 5 pages. One ListUserTags per user, and one more per further page of tags.
    const extraTagPages = account
      .users()
      .reduce((n, u) => n + Math.max(0, Math.ceil(Object.keys(u.tags).length / 7) - 1), 0);
    expect(extraTagPages).toBeGreaterThan(0);
    expect(byDetails.calls()).toEqual({ GetAccountAuthorizationDetails: 5 });
    expect(oneByOne.calls()).toEqual({ ListUsers: 5, ListUserTags: 30 + extraTagPages });
  });

  it('leaves out a user deleted between ListUsers and its ListUserTags, and the scan goes on without it', async () => {
    const account = threeUsers();
    const endpoint = await start({ account });
    const client = clientOf(endpoint);
    // The report is generated first: it still has bob.
    const adapter = new IamAdapter({ client, userDirectory: 'list-users', sleep: async () => {} });
    let deleted = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListUserTagsCommand' && !deleted) {
          deleted = true;
          account.deleteUser('bob');
        }
        return next(args);
      },
      { step: 'initialize', name: 'deleteBobBeforeTheFirstListUserTags' },
    );

    const result = await scan({
      report: adapter,
      directory: adapter,
      counter: adapter,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });

    expect(deleted).toBe(true);
    expect(result.warnings.map((w) => `${w.code}:${w.user}`)).toContain('user-deleted-since-report:bob');
    expect(result.usersScanned).toBe(3); // root, alice, carol
    expect(result.iamCalls).toMatchObject({ ListUsers: 1, ListUserTags: 3 });
    expect(result.iamCalls.GetAccountAuthorizationDetails).toBeUndefined();
    expect(endpoint.counts()).toMatchObject({ ListUsers: 1, ListUserTags: 3 });
  });

  it('retries a throttled ListUserTags as it retries every IAM read: one call, two requests', async () => {
    const endpoint = await start({ account: threeUsers() });
    endpoint.failNext('ListUserTags', 'Throttling');
    const adapter = adapterOn(endpoint, 'list-users', { tagReadConcurrency: 1 });

    expect((await adapter.listUsers()).map((u) => u.name)).toEqual(['alice', 'bob', 'carol']);
    expect(adapter.calls()).toEqual({ ListUsers: 1, ListUserTags: 3 });
    expect(adapter.requests()).toEqual({ ListUsers: 1, ListUserTags: 4 });
  });

  it('reads users in list-users mode from a role that may not call GetAccountAuthorizationDetails', async () => {
    const endpoint = await start({ account: threeUsers() });
    endpoint.deny('GetAccountAuthorizationDetails');

    const err = await failure(adapterOn(endpoint, 'authorization-details').listUsers());
    const users = await adapterOn(endpoint, 'list-users').listUsers();

    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(
      `IAM GetAccountAuthorizationDetails failed: AccessDenied: User: ${SCANNER} is not authorized to perform: iam:GetAccountAuthorizationDetails on resource: *`,
    );
    expect(users.map((u) => u.name)).toEqual(['alice', 'bob', 'carol']);
  });

  it.each<[string, (a: IamAdapter) => Promise<unknown>, UserDirectoryMode, string]>([
    [
      'ListAccessKeys',
      (a) => a.listAccessKeys('bob'),
      'authorization-details',
      `IAM ListAccessKeys for user "bob" failed: AccessDenied: User: ${SCANNER} is not authorized to perform: iam:ListAccessKeys on resource: user bob`,
    ],
    [
      'ListUserTags',
      (a) => a.listUsers(),
      'list-users',
      `IAM ListUserTags for user "bob" failed: AccessDenied: User: ${SCANNER} is not authorized to perform: iam:ListUserTags on resource: user bob`,
    ],
  ])(
    'reports a %s denied for one user as AccessDenied naming the action and the user, not as a deleted user',
    async (action, call, mode, message) => {
      const endpoint = await start({ account: threeUsers() });
      endpoint.deny(action, { userName: 'bob' });
      const adapter = adapterOn(endpoint, mode);

      const err = await failure(call(adapter));

      expect(err).toBeInstanceOf(IamReadError);
      expect((err as Error).message).toBe(message);
      expect((err as Error).cause).toMatchObject({
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
      // Not retried: one request for the denied call.
      expect(endpoint.counts()[action]).toBe(action === 'ListUserTags' ? 3 : 1);
      expect(adapter.requests()[action]).toBe(adapter.calls()[action]);
    },
  );
});

describe('IamAdapter.rootMfaIsVirtual against the local IAM endpoint, and the scan that uses it', () => {
  const NOW = new Date('2026-11-23T12:00:00Z');
  const ACCOUNT = '111122223333';
  const endpoints: IamEndpoint[] = [];
  const clients: IAMClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await Promise.all(endpoints.splice(0).map((e) => e.close()));
  });

  /** An account with root MFA and users alice (MFA) and bob (no MFA). */
  function account(): FakeAccount {
    const a = new FakeAccount({ accountId: ACCOUNT, createdAt: new Date('2020-01-01T00:00:00Z') });
    a.createUser('alice', { createdAt: new Date('2023-01-10T09:00:00Z'), mfaActive: true });
    a.createUser('bob', { createdAt: new Date('2023-01-10T09:00:00Z') });
    return a;
  }

  async function adapterOn(options: IamEndpointOptions) {
    const endpoint = await startIamEndpoint({ now: () => NOW, account: account(), ...options });
    endpoints.push(endpoint);
    const client = new IAMClient({
      ...IAM_CLIENT_DEFAULTS,
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: FAKE_CREDENTIALS,
    });
    clients.push(client);
    return { endpoint, adapter: new IamAdapter({ client }) };
  }

  it.each<[string, IamEndpointOptions, boolean]>([
    ['a virtual device assigned to the root user', { virtualMfa: ['<root_account>', 'alice'] }, true],
    [
      'virtual devices of users only (root: hardware)',
      { virtualMfa: ['alice'], unassignedVirtualMfa: ['spare'] },
      false,
    ],
    ['no virtual device at all', {}, false],
  ])('with %s answers %s, in one counted call', async (_, options, expected) => {
    const { endpoint, adapter } = await adapterOn(options);
    expect(await adapter.rootMfaIsVirtual()).toBe(expected);
    expect(adapter.calls()).toEqual({ ListVirtualMFADevices: 1 });
    expect(endpoint.counts()).toEqual({ ListVirtualMFADevices: 1 });
  });

  it('follows Marker through short pages to the root user’s device, and stops there', async () => {
    const many = Array.from({ length: 6 }, (_, i) => `a${i}`);
    const a = account();
    for (const name of many)
      a.createUser(name, { createdAt: new Date('2024-01-01T00:00:00Z'), mfaActive: true });
    const endpoint = await startIamEndpoint({
      now: () => NOW,
      account: a,
      // Devices are listed by serial number: the users' (mfa/a0…) before the root's (mfa/root-…).
      virtualMfa: ['<root_account>', ...many],
      shortPages: () => 2,
    });
    endpoints.push(endpoint);
    const client = new IAMClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: FAKE_CREDENTIALS,
    });
    clients.push(client);
    const adapter = new IamAdapter({ client });

    expect(await adapter.rootMfaIsVirtual()).toBe(true);
    expect(adapter.calls().ListVirtualMFADevices).toBe(4); // a0 a1 | a2 a3 | a4 a5 | root
  });

  it('reports a denial as an IamReadError naming the action', async () => {
    const { endpoint, adapter } = await adapterOn({});
    endpoint.deny('ListVirtualMFADevices');
    const err = await failure(adapter.rootMfaIsVirtual());
    expect(err).toBeInstanceOf(IamReadError);
    expect((err as Error).message).toBe(
      `IAM ListVirtualMFADevices failed: AccessDenied: User: arn:aws:sts::${ACCOUNT}:assumed-role/credwatch-scanner/credwatch is not authorized to perform: iam:ListVirtualMFADevices on resource: *`,
    );
  });

  /** A 2025-style report: the root row states its password; alice and bob as in the account. */
  const csv = (rootPassword: 'true' | 'not_supported', rootMfa = 'true') =>
    report([
      {
        user: '<root_account>',
        password_enabled: rootPassword,
        password_last_used: '2026-10-01T00:00:00Z',
        password_last_changed: rootPassword === 'true' ? '2020-01-01T00:00:00Z' : 'not_supported',
        mfa_active: rootMfa,
      },
      { user: 'alice', mfa_active: 'true' },
      { user: 'bob' },
    ]).replaceAll('123456789012', ACCOUNT);
  const source = (text: string) => ({ getReport: async () => ({ csv: text, generatedAt: NOW }) });

  it('makes scan report root-virtual-mfa from a live read when the root user has a password and MFA', async () => {
    const { adapter } = await adapterOn({ virtualMfa: ['<root_account>'] });
    const result = await scan({
      report: source(csv('true')),
      directory: adapter,
      counter: adapter,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    expect(result.findings.map((f) => f.id)).toEqual([`${ACCOUNT}/<root_account>/root-virtual-mfa/mfa`]);
    expect(result.iamCalls.ListVirtualMFADevices).toBe(1);
  });

  it.each<[string, string, string, Partial<typeof DEFAULT_THRESHOLDS>]>([
    ['the report does not state a root password (not_supported)', 'not_supported', 'true', {}],
    ['the root user has no MFA', 'true', 'false', {}],
    ['the rule is off', 'true', 'true', { rootVirtualMfa: 'off' }],
  ])('makes no ListVirtualMFADevices call when %s', async (_, rootPassword, rootMfa, thresholds) => {
    const { endpoint, adapter } = await adapterOn({ virtualMfa: ['<root_account>'] });
    const result = await scan({
      report: source(csv(rootPassword as 'true' | 'not_supported', rootMfa)),
      directory: adapter,
      counter: adapter,
      thresholds: { ...DEFAULT_THRESHOLDS, ...thresholds },
      now: NOW,
    });
    expect(result.findings.map((f) => f.rule)).not.toContain('root-virtual-mfa');
    expect(endpoint.counts().ListVirtualMFADevices).toBeUndefined();
  });

  it('judges the rest when a member role may not call ListVirtualMFADevices, with a warning', async () => {
    const { endpoint, adapter } = await adapterOn({ virtualMfa: ['<root_account>'] });
    endpoint.deny('ListVirtualMFADevices');
    const result = await scan({
      report: source(csv('true', 'true')),
      directory: adapter,
      counter: adapter,
      thresholds: DEFAULT_THRESHOLDS,
      now: NOW,
    });
    expect(result.findings).toEqual([]);
    expect(result.warnings.map((w) => w.code)).toEqual(['root-mfa-unreadable']);
    expect(result.warnings[0]!.message).toMatch(
      /^the root user's MFA device type could not be read \(IAM ListVirtualMFADevices failed: AccessDenied: .*\); root-virtual-mfa not judged$/,
    );
  });
});
