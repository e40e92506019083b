import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  IAMClient,
  type IAMClientConfig,
  ListAccessKeysCommand,
  ListAccountAliasesCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  ListVirtualMFADevicesCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListAccessKeys,
  paginateListUsers,
  paginateListUserTags,
  paginateListVirtualMFADevices,
} from '@aws-sdk/client-iam';
import fc from 'fast-check';
import { parseCredentialReport } from '../../../lambda/core/credential-report';
import {
  CREDENTIAL_REPORT_COLUMNS,
  FakeAccount,
  FakeAccountError,
  generateAccount,
  ROOT,
  renderCredentialReport,
} from '../../support/account-generator';
import { type IamEndpoint, type IamEndpointOptions, startIamEndpoint } from '../../support/iam-endpoint';

const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' };
const NOW = new Date('2025-06-01T12:00:00Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const XML_FIXTURES = join(__dirname, '../../fixtures/iam-xml');
const REAL_REPORT = join(
  __dirname,
  '../../fixtures/credential-reports/JakubDziegielewski_AWS_testbench__credential_report.csv',
);

const open: IamEndpoint[] = [];
const clients: IAMClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(open.splice(0).map((e) => e.close()));
});

async function start(options: IamEndpointOptions = {}): Promise<{ endpoint: IamEndpoint; iam: IAMClient }> {
  const endpoint = await startIamEndpoint(options);
  open.push(endpoint);
  return { endpoint, iam: client(endpoint.url) };
}

function client(url: string, config: Partial<IAMClientConfig> = {}): IAMClient {
  const c = new IAMClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1,
    ...config,
  });
  clients.push(c);
  return c;
}

/** A clock the test moves by hand. */
function fakeClock(start = NOW) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** A small account with known contents. */
function smallAccount(): FakeAccount {
  const account = new FakeAccount({ accountId: '111122223333', createdAt: new Date('2020-01-01T00:00:00Z') });
  account.createUser('alice', {
    createdAt: new Date('2023-01-10T09:00:00Z'),
    password: { lastChanged: new Date('2023-01-10T09:05:00Z'), lastUsed: new Date('2025-05-30T08:00:00Z') },
    mfaActive: true,
    tags: { team: 'web', 'credwatch:owner': 'U0ALICE01' },
    accessKeys: [
      {
        id: 'AKIAFAKEALICE0000001',
        createdAt: new Date('2024-03-01T10:00:00Z'),
        lastUsed: { date: new Date('2025-05-31T10:15:00Z'), service: 's3', region: 'eu-west-1' },
      },
      { id: 'AKIAFAKEALICE0000002', createdAt: new Date('2025-02-01T10:00:00Z'), status: 'Inactive' },
    ],
  });
  account.createUser('bob', {
    createdAt: new Date('2024-06-01T00:00:00Z'),
    passwordLastUsed: new Date('2024-07-01T00:00:00Z'),
  });
  return account;
}

async function post(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A SigV4 Authorization header naming the signing key (the endpoint reads the key, not the signature). */
const signedBy = (accessKeyId: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20191120/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000`,
});

/** Element paths (`A/B/member/C`) of an XML document: structure only, no text, order or attributes. */
function elementPaths(xml: string): string[] {
  const paths = new Set<string>();
  const stack: string[] = [];
  for (const [, closing, name, selfClosing] of xml.matchAll(/<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>/g)) {
    if (closing) {
      stack.pop();
      continue;
    }
    stack.push(name!);
    paths.add(stack.join('/'));
    if (selfClosing) stack.pop();
  }
  return [...paths].sort();
}

describe('the local IAM endpoint', () => {
  describe('answers with the structure AWS documents and sends', () => {
    it.each([
      [
        'awsdoc_ListUsers_sample_response.xml',
        { Action: 'ListUsers' },
        (a: FakeAccount) => a.deleteUser('bob'),
      ],
      [
        'real_ListUsers_response_tech-squawks.xml',
        { Action: 'ListUsers' },
        (a: FakeAccount) => {
          a.deleteUser('alice');
          a.deleteUser('bob');
          a.createUser('carol', { createdAt: NOW });
        },
      ],
      [
        'awsdoc_ListAccessKeys_sample_response.xml',
        { Action: 'ListAccessKeys', UserName: 'alice' },
        () => {},
      ],
      [
        'awsdoc_GetAccessKeyLastUsed_sample_response.xml',
        { Action: 'GetAccessKeyLastUsed', AccessKeyId: 'AKIAFAKEALICE0000001' },
        () => {},
      ],
      [
        'awsdoc_GenerateCredentialReport_sample_response.xml',
        { Action: 'GenerateCredentialReport' },
        () => {},
      ],
    ])('%s', async (file, params, prepare) => {
      const account = smallAccount();
      prepare(account);
      const { endpoint } = await start({ account });

      const { status, text } = await post(endpoint.url, params);

      expect(status).toBe(200);
      expect(elementPaths(text)).toEqual(elementPaths(readFileSync(join(XML_FIXTURES, file), 'utf8')));
    });

    it('awsdoc_GetCredentialReport_sample_response.xml', async () => {
      const { endpoint } = await start({ account: smallAccount() });
      await post(endpoint.url, { Action: 'GenerateCredentialReport' });

      const { status, text } = await post(endpoint.url, { Action: 'GetCredentialReport' });

      expect(status).toBe(200);
      const sample = readFileSync(
        join(XML_FIXTURES, 'awsdoc_GetCredentialReport_sample_response.xml'),
        'utf8',
      );
      expect(elementPaths(text)).toEqual(elementPaths(sample));
    });

    it('real_Throttling_ListUsers_nccgroup-Scout2-issue17.xml, with HTTP 400', async () => {
      const { endpoint } = await start({ throttle: { ratePerSecond: 1, burst: 0 }, now: fakeClock().now });

      const { status, text } = await post(endpoint.url, { Action: 'ListUsers' });

      const sample = readFileSync(
        join(XML_FIXTURES, 'real_Throttling_ListUsers_nccgroup-Scout2-issue17.xml'),
        'utf8',
      );
      expect(status).toBe(400);
      expect(elementPaths(text)).toEqual(elementPaths(sample));
      expect(text).toContain('<Code>Throttling</Code>');
      expect(text).toContain('<Message>Rate exceeded</Message>');
    });
  });

  describe('denies as IAM does, in the shape of a real AccessDenied answer', () => {
    const REAL_BODY = readFileSync(
      join(XML_FIXTURES, 'real_AccessDenied_GetUser_terraform-debug-log.xml'),
      'utf8',
    );
    const REAL_HEADERS = readFileSync(
      join(XML_FIXTURES, 'real_AccessDenied_GetUser_terraform-debug-log.headers.txt'),
      'utf8',
    );
    const realHeader = (name: string) =>
      new RegExp(`^${name}: (.*)$`, 'im').exec(REAL_HEADERS)?.[1]?.trim() ?? '';

    it('answers the recorded GetUser denial byte for byte, but for the request id (status, headers, body)', async () => {
      // The recorded caller: a user signing GetUser (no UserName) for itself, denied by its policies.
      const account = new FakeAccount({ accountId: '579766882180', createdAt: NOW });
      account.createUser('Suganthi.Mani', {
        createdAt: NOW,
        accessKeys: [{ id: 'AKIAFAKESUGANTHI0001', createdAt: NOW }],
      });
      const { endpoint } = await start({ account });
      endpoint.failNext('GetUser', 'AccessDenied');

      const { status, text, headers } = await post(
        endpoint.url,
        { Action: 'GetUser' },
        signedBy('AKIAFAKESUGANTHI0001'),
      );

      expect(`${status}`).toBe(/^HTTP\/1\.1 (\d+) Forbidden$/m.exec(REAL_HEADERS)?.[1]);
      expect(headers.get('content-type')).toBe(realHeader('Content-Type'));
      const requestId = /<RequestId>([^<]+)<\/RequestId>/.exec(text)?.[1];
      expect(headers.get('x-amzn-requestid')).toBe(requestId);
      const realRequestId = realHeader('X-Amzn-Requestid');
      // The log kept the lines without their indentation; everything else is the same bytes.
      const unindented = text.replace(/^ +/gm, '');
      expect(unindented).toBe(REAL_BODY.replaceAll(realRequestId, requestId!));
      // A request id as long as IAM's: with the indentation put back, the recorded Content-Length.
      expect(requestId).toHaveLength(realRequestId.length);
      expect(headers.get('content-length')).toBe(realHeader('Content-Length'));
      expect(Buffer.byteLength(text)).toBe(Number(realHeader('Content-Length')));
      expect(elementPaths(text)).toEqual(elementPaths(REAL_BODY));
    });

    const SCANNER = 'arn:aws:sts::111122223333:assumed-role/credwatch-scanner/credwatch';
    it.each<[string, Record<string, string>, string]>([
      ['ListAccessKeys', { UserName: 'alice' }, 'user alice'],
      ['ListUserTags', { UserName: 'alice' }, 'user alice'],
      ['GetAccessKeyLastUsed', { AccessKeyId: 'AKIAFAKEALICE0000002' }, 'user alice'],
      ['ListUsers', {}, 'arn:aws:iam::111122223333:user/'],
      ['GetAccountAuthorizationDetails', { 'Filter.member.1': 'User' }, '*'],
      ['GenerateCredentialReport', {}, '*'],
    ])('names the caller, iam:%s and its resource', async (action, params, resource) => {
      const { endpoint } = await start({ account: smallAccount() });
      endpoint.deny(action);

      const { status, text } = await post(endpoint.url, { Action: action, ...params });

      expect(status).toBe(403);
      expect(text).toContain('<Type>Sender</Type>');
      expect(text).toContain('<Code>AccessDenied</Code>');
      expect(text).toContain(
        `<Message>User: ${SCANNER} is not authorized to perform: iam:${action} on resource: ${resource}</Message>`,
      );
      expect(elementPaths(text)).toEqual(elementPaths(REAL_BODY));
    });

    it("denies one user's ListAccessKeys, every time, and no one else's; the SDK reads it as AccessDenied", async () => {
      const { endpoint, iam } = await start({ account: smallAccount() });
      endpoint.deny('ListAccessKeys', { userName: 'alice' });

      for (let i = 0; i < 2; i++) {
        await expect(iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))).rejects.toMatchObject({
          name: 'AccessDenied',
          message: `User: ${SCANNER} is not authorized to perform: iam:ListAccessKeys on resource: user alice`,
          $metadata: { httpStatusCode: 403 },
        });
      }
      const bob = await iam.send(new ListAccessKeysCommand({ UserName: 'bob' }));

      expect(bob.AccessKeyMetadata).toEqual([]);
      expect(endpoint.counts()).toEqual({ ListAccessKeys: 3 });
    });

    it('names the signing user as the caller, or the callerArn given', async () => {
      const account = smallAccount();
      const { endpoint } = await start({ account });
      const other = await start({ account, callerArn: 'arn:aws:sts::111122223333:assumed-role/audit/x' });
      endpoint.failNext('ListUsers', 'AccessDenied');
      other.endpoint.failNext('ListUsers', 'AccessDenied');

      const asAlice = await post(endpoint.url, { Action: 'ListUsers' }, signedBy('AKIAFAKEALICE0000001'));
      const asAudit = await post(other.endpoint.url, { Action: 'ListUsers' });
      const after = await post(endpoint.url, { Action: 'ListUsers' });

      expect(asAlice.text).toContain('User: arn:aws:iam::111122223333:user/alice is not authorized');
      expect(asAudit.text).toContain(
        'User: arn:aws:sts::111122223333:assumed-role/audit/x is not authorized',
      );
      expect(after.status).toBe(200);
    });
  });

  describe('as read by @aws-sdk/client-iam', () => {
    it('lists users with the fields IAM returns (no tags)', async () => {
      const account = smallAccount();
      const { iam } = await start({ account });

      const out = await iam.send(new ListUsersCommand({}));

      expect(out.IsTruncated).toBe(false);
      expect(out.Users).toEqual([
        {
          UserName: 'alice',
          UserId: account.user('alice')!.userId,
          Path: '/',
          Arn: 'arn:aws:iam::111122223333:user/alice',
          CreateDate: new Date('2023-01-10T09:00:00Z'),
          PasswordLastUsed: new Date('2025-05-30T08:00:00Z'),
        },
        {
          UserName: 'bob',
          UserId: account.user('bob')!.userId,
          Path: '/',
          Arn: 'arn:aws:iam::111122223333:user/bob',
          CreateDate: new Date('2024-06-01T00:00:00Z'),
          PasswordLastUsed: new Date('2024-07-01T00:00:00Z'),
        },
      ]);
    });

    it("lists a user's access keys, oldest first", async () => {
      const { iam } = await start({ account: smallAccount() });

      const out = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));

      expect(out.AccessKeyMetadata).toEqual([
        {
          UserName: 'alice',
          AccessKeyId: 'AKIAFAKEALICE0000001',
          Status: 'Active',
          CreateDate: new Date('2024-03-01T10:00:00Z'),
        },
        {
          UserName: 'alice',
          AccessKeyId: 'AKIAFAKEALICE0000002',
          Status: 'Inactive',
          CreateDate: new Date('2025-02-01T10:00:00Z'),
        },
      ]);
    });

    it('lists the signing key owner’s keys when UserName is left out, as IAM does', async () => {
      const account = smallAccount();
      const { endpoint } = await start({ account });
      const asAlice = client(endpoint.url, {
        credentials: { accessKeyId: 'AKIAFAKEALICE0000001', secretAccessKey: 'fake' },
      });

      const out = await asAlice.send(new ListAccessKeysCommand({}));

      expect(out.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([
        'AKIAFAKEALICE0000001',
        'AKIAFAKEALICE0000002',
      ]);
    });

    it.each([
      [
        'a used key',
        'AKIAFAKEALICE0000001',
        { LastUsedDate: new Date('2025-05-31T10:15:00Z'), ServiceName: 's3', Region: 'eu-west-1' },
      ],
      [
        'a never-used key (no date, service and region N/A)',
        'AKIAFAKEALICE0000002',
        { ServiceName: 'N/A', Region: 'N/A' },
      ],
    ])('reports the last use of %s', async (_, id, expected) => {
      const { iam } = await start({ account: smallAccount() });

      const out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));

      expect(out.UserName).toBe('alice');
      expect(out.AccessKeyLastUsed).toEqual(expected);
    });

    it('lists user tags sorted by key, escaping XML special characters in values', async () => {
      const account = smallAccount();
      account.tagUser('alice', { note: `R&D <core> "quoted" 'single'` });
      const { iam } = await start({ account });

      const out = await iam.send(new ListUserTagsCommand({ UserName: 'alice' }));

      expect(out.Tags).toEqual([
        { Key: 'credwatch:owner', Value: 'U0ALICE01' },
        { Key: 'note', Value: `R&D <core> "quoted" 'single'` },
        { Key: 'team', Value: 'web' },
      ]);
    });

    it('escapes XML special characters in paths and ARNs', async () => {
      const account = new FakeAccount({ accountId: '111122223333', createdAt: NOW });
      account.createUser('carol', { createdAt: NOW, path: '/a&b<c>/' });
      const { iam } = await start({ account });

      const out = await iam.send(new ListUsersCommand({}));

      expect(out.Users?.map((u) => [u.Path, u.Arn])).toEqual([
        ['/a&b<c>/', 'arn:aws:iam::111122223333:user/a&b<c>/carol'],
      ]);
    });

    it('returns users with their tags from GetAccountAuthorizationDetails filtered to User', async () => {
      const account = smallAccount();
      const { iam } = await start({ account });

      const out = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User'] }));

      expect(out.IsTruncated).toBe(false);
      expect(out.RoleDetailList).toBeUndefined();
      expect(
        out.UserDetailList?.map((u) => ({
          name: u.UserName,
          id: u.UserId,
          arn: u.Arn,
          created: u.CreateDate,
          tags: u.Tags,
        })),
      ).toEqual([
        {
          name: 'alice',
          id: account.user('alice')!.userId,
          arn: 'arn:aws:iam::111122223333:user/alice',
          created: new Date('2023-01-10T09:00:00Z'),
          tags: [
            { Key: 'credwatch:owner', Value: 'U0ALICE01' },
            { Key: 'team', Value: 'web' },
          ],
        },
        {
          name: 'bob',
          id: account.user('bob')!.userId,
          arn: 'arn:aws:iam::111122223333:user/bob',
          created: new Date('2024-06-01T00:00:00Z'),
          tags: undefined,
        },
      ]);
    });

    it.each([
      [
        'ListAccessKeys of an unknown user',
        (iam: IAMClient) => iam.send(new ListAccessKeysCommand({ UserName: 'ghost' })),
        'user with name ghost',
      ],
      [
        'ListUserTags of an unknown user',
        (iam: IAMClient) => iam.send(new ListUserTagsCommand({ UserName: 'ghost' })),
        'user with name ghost',
      ],
      [
        'GetAccessKeyLastUsed of an unknown key',
        (iam: IAMClient) =>
          iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAFAKE000000000000' })),
        'Access Key with id AKIAFAKE000000000000',
      ],
    ])('answers %s with 404 NoSuchEntity', async (_, call, message) => {
      const { iam } = await start({ account: smallAccount() });

      await expect(call(iam)).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: expect.stringContaining(message),
        $metadata: { httpStatusCode: 404 },
      });
    });

    it.each([0, 1001])('rejects MaxItems %i with 400 ValidationError', async (maxItems) => {
      const { iam } = await start({ account: smallAccount() });

      await expect(iam.send(new ListUsersCommand({ MaxItems: maxItems }))).rejects.toMatchObject({
        name: 'ValidationError',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('still answers correctly when every answer is delayed', async () => {
      const { iam } = await start({ account: smallAccount(), latencyMs: 20 });

      const out = await iam.send(new ListUsersCommand({}));

      expect(out.Users?.map((u) => u.UserName)).toEqual(['alice', 'bob']);
    });
  });

  describe('paginates like IAM', () => {
    it('returns fewer items than MaxItems with IsTruncated=true on short pages, and every user in the end', async () => {
      const account = generateAccount({ users: 23, seed: 'short-pages', now: NOW });
      const { iam } = await start({ account, shortPages: true });

      const pages = [];
      for await (const page of paginateListUsers({ client: iam, pageSize: 6 }, {})) pages.push(page);

      expect(pages.map((p) => p.Users?.length)).toEqual([3, 3, 3, 3, 3, 3, 3, 2]);
      expect(pages.slice(0, -1).every((p) => p.IsTruncated === true && typeof p.Marker === 'string')).toBe(
        true,
      );
      expect(pages.at(-1)?.IsTruncated).toBe(false);
      expect(pages.flatMap((p) => p.Users?.map((u) => u.UserName))).toEqual(
        account.users().map((u) => u.name),
      );
    });

    it('returns every user exactly once for any page size, with or without short pages', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 1, max: 15 }),
          fc.boolean(),
          fc.integer(),
          async (users, pageSize, shortPages, seed) => {
            const account = generateAccount({ users, seed, now: NOW });
            const endpoint = await startIamEndpoint({ account, shortPages });
            const iam = new IAMClient({
              endpoint: endpoint.url,
              region: 'us-east-1',
              credentials: FAKE_CREDENTIALS,
              maxAttempts: 1,
            });
            try {
              const names: (string | undefined)[] = [];
              for await (const page of paginateListUsers({ client: iam, pageSize }, {})) {
                names.push(...(page.Users ?? []).map((u) => u.UserName));
              }
              expect(names).toEqual(account.users().map((u) => u.name));
            } finally {
              iam.destroy();
              await endpoint.close();
            }
          },
        ),
        { numRuns: 25 },
      );
    });

    it('pages GetAccountAuthorizationDetails users with their tags', async () => {
      const account = generateAccount({ users: 40, seed: 'gaad', now: NOW });
      const { iam } = await start({ account, shortPages: true });

      const users = [];
      for await (const page of paginateGetAccountAuthorizationDetails(
        { client: iam, pageSize: 10 },
        { Filter: ['User'] },
      )) {
        users.push(...(page.UserDetailList ?? []));
      }

      expect(
        users.map((u) => [u.UserName, Object.fromEntries((u.Tags ?? []).map((t) => [t.Key, t.Value]))]),
      ).toEqual(account.users().map((u) => [u.name, u.tags]));
    });

    it('pages ListUsers with MaxItems, Marker and IsTruncated, and ListUserTags of each user, to the same users and tags as GetAccountAuthorizationDetails', async () => {
      const account = generateAccount({ users: 25, seed: 'list-users', now: NOW });
      account.tagUser(
        account.users()[3]!.name,
        Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, `v${i}`])),
      );
      const { iam } = await start({ account, shortPages: (max) => max - 1 });

      const pages = [];
      for await (const page of paginateListUsers({ client: iam, pageSize: 8 }, {})) pages.push(page);
      const users = [];
      for (const u of pages.flatMap((p) => p.Users ?? [])) {
        const tags: Record<string, string> = {};
        for await (const page of paginateListUserTags(
          { client: iam, pageSize: 5 },
          { UserName: u.UserName },
        )) {
          for (const t of page.Tags ?? []) tags[t.Key!] = t.Value!;
        }
        users.push([u.UserName, u.Arn, u.CreateDate, tags]);
      }
      const details = [];
      for await (const page of paginateGetAccountAuthorizationDetails(
        { client: iam },
        { Filter: ['User'] },
      )) {
        details.push(...(page.UserDetailList ?? []));
      }

      expect(pages.map((p) => p.Users?.length)).toEqual([7, 7, 7, 4]);
      expect(pages.map((p) => p.IsTruncated)).toEqual([true, true, true, false]);
      expect(pages.at(-1)?.Marker).toBeUndefined();
      expect(users).toEqual(
        details.map((u) => [
          u.UserName,
          u.Arn,
          u.CreateDate,
          Object.fromEntries((u.Tags ?? []).map((t) => [t.Key, t.Value])),
        ]),
      );
      expect(Object.keys(users[3]![3] as object)).toHaveLength(Object.keys(account.users()[3]!.tags).length);
    });

    it('answers ListUserTags of a user deleted after ListUsers listed it with 404 NoSuchEntity', async () => {
      const account = smallAccount();
      const { iam } = await start({ account });
      const listed = await iam.send(new ListUsersCommand({}));
      account.deleteUser('bob');

      expect(listed.Users?.map((u) => u.UserName)).toEqual(['alice', 'bob']);
      await expect(iam.send(new ListUserTagsCommand({ UserName: 'bob' }))).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: 'The user with name bob cannot be found.',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('answers an account without users, and a user without tags, with empty lists', async () => {
      const account = new FakeAccount({ accountId: '111122223333', createdAt: NOW });
      const { iam } = await start({ account });
      const none = await iam.send(new ListUsersCommand({}));
      account.createUser('carol', { createdAt: NOW });
      const untagged = await iam.send(new ListUserTagsCommand({ UserName: 'carol' }));

      expect([none.Users ?? [], none.IsTruncated]).toEqual([[], false]);
      expect([untagged.Tags ?? [], untagged.IsTruncated]).toEqual([[], false]);
    });

    it('pages access keys and tags one at a time', async () => {
      const { iam } = await start({ account: smallAccount() });

      const keys = [];
      for await (const page of paginateListAccessKeys({ client: iam, pageSize: 1 }, { UserName: 'alice' })) {
        keys.push(page.AccessKeyMetadata?.map((k) => k.AccessKeyId));
      }
      const tags = [];
      for await (const page of paginateListUserTags({ client: iam, pageSize: 1 }, { UserName: 'alice' })) {
        tags.push(page.Tags?.map((t) => t.Key));
      }

      expect(keys).toEqual([['AKIAFAKEALICE0000001'], ['AKIAFAKEALICE0000002']]);
      expect(tags).toEqual([['credwatch:owner'], ['team']]);
    });
  });

  describe('generates credential reports like IAM', () => {
    const generate = (iam: IAMClient) =>
      iam.send(new GenerateCredentialReportCommand({})).then((r) => r.State);
    const getReport = (iam: IAMClient) => iam.send(new GetCredentialReportCommand({}));
    const reportUsers = async (iam: IAMClient) => {
      const out = await getReport(iam);
      return parseCredentialReport(Buffer.from(out.Content!).toString('utf8')).records.map((r) => r.user);
    };

    it('goes from not present to started, in progress and complete', async () => {
      const clock = fakeClock();
      const account = smallAccount();
      const { iam } = await start({ account, now: clock.now, reportGenerationMs: 30_000 });

      await expect(getReport(iam)).rejects.toMatchObject({
        name: 'CredentialReportNotPresentException',
        $metadata: { httpStatusCode: 410 },
      });
      expect(await generate(iam)).toBe('STARTED');
      await expect(getReport(iam)).rejects.toMatchObject({
        name: 'CredentialReportNotReadyException',
        $metadata: { httpStatusCode: 404 },
      });
      clock.advance(29_999);
      expect(await generate(iam)).toBe('INPROGRESS');
      clock.advance(1);
      expect(await generate(iam)).toBe('COMPLETE');

      const out = await getReport(iam);
      expect(out.ReportFormat).toBe('text/csv');
      expect(out.GeneratedTime).toEqual(NOW);
      expect(Buffer.from(out.Content!).toString('utf8')).toBe(renderCredentialReport(account));
    });

    it('keeps a report younger than four hours, so it misses later changes', async () => {
      const clock = fakeClock();
      const account = smallAccount();
      const { iam } = await start({ account, now: clock.now });
      expect(await generate(iam)).toBe('STARTED');

      clock.advance(3 * HOUR);
      account.createUser('late-joiner', { createdAt: clock.now() });
      account.deleteUser('bob');

      expect(await generate(iam)).toBe('COMPLETE');
      expect(await reportUsers(iam)).toEqual([ROOT, 'alice', 'bob']);
    });

    it('expires a report after four hours and then generates a new one from the account as it is', async () => {
      const clock = fakeClock();
      const account = smallAccount();
      const { iam } = await start({ account, now: clock.now });
      await generate(iam);
      account.createUser('late-joiner', { createdAt: clock.now() });

      clock.advance(4 * HOUR);
      await expect(getReport(iam)).rejects.toMatchObject({
        name: 'CredentialReportExpiredException',
        $metadata: { httpStatusCode: 410 },
      });
      expect(await generate(iam)).toBe('STARTED');
      expect(await reportUsers(iam)).toEqual([ROOT, 'alice', 'bob', 'late-joiner']);
    });

    it('starts a new report once the current one has expired, even within the four hours', async () => {
      const clock = fakeClock();
      const { iam } = await start({ account: smallAccount(), now: clock.now, reportExpiryMs: HOUR });
      await generate(iam);

      clock.advance(HOUR);

      expect(await generate(iam)).toBe('STARTED');
      expect((await getReport(iam)).GeneratedTime).toEqual(clock.now());
    });

    it.each([
      ['+00:00', /T\d{2}:\d{2}:\d{2}\+00:00$/],
      ['Z', /T\d{2}:\d{2}:\d{2}Z$/],
    ] as const)('writes timestamps ending in %s when asked', async (style, pattern) => {
      const { iam } = await start({ account: smallAccount(), reportTimestampStyle: style });
      await generate(iam);

      const csv = Buffer.from((await getReport(iam)).Content!).toString('utf8');

      const creationTimes = csv
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[2]);
      expect(creationTimes).toHaveLength(3);
      for (const t of creationTimes) expect(t).toMatch(pattern);
    });
  });

  describe('misbehaves on purpose', () => {
    it('answers an unknown action with 400 InvalidAction', async () => {
      const { endpoint } = await start();

      const { status, text } = await post(endpoint.url, { Action: 'DeleteAccountAlias' });

      expect(status).toBe(400);
      expect(text).toContain('<Code>InvalidAction</Code>');
      expect(text).toContain('DeleteAccountAlias');
    });

    it('throttles beyond the burst until the bucket refills, and counts it', async () => {
      const clock = fakeClock();
      const { endpoint, iam } = await start({ now: clock.now, throttle: { ratePerSecond: 2, burst: 2 } });

      await iam.send(new ListUsersCommand({}));
      await iam.send(new ListUsersCommand({}));
      await expect(iam.send(new ListUsersCommand({}))).rejects.toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      });
      clock.advance(500);
      await iam.send(new ListUsersCommand({}));

      expect(endpoint.counts()).toEqual({ ListUsers: 4, throttled: 1 });
    });

    it('throttles only the actions named', async () => {
      const { endpoint, iam } = await start({
        now: fakeClock().now,
        throttle: { ratePerSecond: 1, burst: 0, actions: ['ListAccessKeys'] },
      });

      await iam.send(new ListUsersCommand({}));
      const name = endpoint.account.users()[0]!.name;
      await expect(iam.send(new ListAccessKeysCommand({ UserName: name }))).rejects.toMatchObject({
        name: 'Throttling',
      });

      expect(endpoint.counts()).toEqual({ ListUsers: 1, ListAccessKeys: 1, throttled: 1 });
    });

    it('fails the next calls of an action as told, and the SDK retries a ServiceFailure', async () => {
      const { endpoint } = await start({ account: smallAccount() });
      const retrying = client(endpoint.url, { maxAttempts: 2 });
      endpoint.failNext('ListUsers', 'ServiceFailure');

      const out = await retrying.send(new ListUsersCommand({}));

      expect(out.Users).toHaveLength(2);
      expect(out.$metadata.attempts).toBe(2);
      expect(endpoint.counts()).toEqual({ ListUsers: 2 });
    });

    it.each([
      ['ServiceFailure', 'ServiceFailureException', 500],
      ['LimitExceeded', 'LimitExceededException', 409],
      ['AccessDenied', 'AccessDenied', 403],
    ] as const)('can answer GenerateCredentialReport with %s', async (fault, name, status) => {
      const { endpoint, iam } = await start();
      endpoint.failNext('GenerateCredentialReport', fault);

      await expect(iam.send(new GenerateCredentialReportCommand({}))).rejects.toMatchObject({
        name,
        $metadata: { httpStatusCode: status },
      });
      expect(await iam.send(new GenerateCredentialReportCommand({})).then((r) => r.State)).toBe('STARTED');
    });

    it('counts requests by action until reset', async () => {
      const { endpoint, iam } = await start({ account: smallAccount() });
      await iam.send(new ListUsersCommand({}));
      await iam.send(new ListUserTagsCommand({ UserName: 'alice' }));
      await iam.send(new ListUserTagsCommand({ UserName: 'bob' }));
      expect(endpoint.counts()).toEqual({ ListUsers: 1, ListUserTags: 2 });

      endpoint.resetCounts();

      expect(endpoint.counts()).toEqual({});
    });

    it('closes while an answer is still delayed', async () => {
      const endpoint = await startIamEndpoint({ account: smallAccount(), latencyMs: 60_000 });
      const iam = client(endpoint.url);
      const pending = iam.send(new ListUsersCommand({}));
      while (!endpoint.counts().ListUsers) await new Promise((r) => setTimeout(r, 5));

      await endpoint.close();

      await expect(pending).rejects.toThrow();
    });
  });
});

describe('generateAccount', () => {
  it('gives the same account and report for the same seed, and another for another seed', () => {
    const a = generateAccount({ users: 200, seed: 42, now: NOW });
    const b = generateAccount({ users: 200, seed: 42, now: NOW });
    const c = generateAccount({ users: 200, seed: 43, now: NOW });

    expect(renderCredentialReport(b)).toBe(renderCredentialReport(a));
    expect(b.users()).toEqual(a.users());
    expect(renderCredentialReport(c)).not.toBe(renderCredentialReport(a));
  });

  it('renders a report with the header of a real IAM report', () => {
    const realHeader = readFileSync(REAL_REPORT, 'utf8').split(/\r?\n/)[0];

    const header = renderCredentialReport(generateAccount({ users: 3, seed: 1, now: NOW })).split('\n')[0];

    expect(header).toBe(realHeader);
    expect(header?.split(',')).toEqual([...CREDENTIAL_REPORT_COLUMNS]);
  });

  it("renders a report the project's parser reads back to exactly the account, for any seed", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string()), fc.integer({ min: 0, max: 60 }), (seed, users) => {
        const account = generateAccount({ users, seed, now: NOW, root: { accessKey: users % 2 === 0 } });

        const { records, warnings } = parseCredentialReport(renderCredentialReport(account));

        expect(warnings).toEqual([]);
        expect(records.map((r) => r.user)).toEqual([ROOT, ...account.users().map((u) => u.name)]);
        const principals = [account.root, ...account.users()];
        records.forEach((record, i) => {
          const p = principals[i]!;
          expect(record.arn).toBe(p.arn);
          expect(record.createdAt).toEqual(p.createdAt);
          expect(record.mfaActive).toBe(p.mfaActive);
          expect(record.password).toEqual({
            enabled: record.isRoot ? false : p.passwordEnabled,
            lastUsed: p.passwordLastUsed,
            lastChanged: p.passwordEnabled && !record.isRoot ? p.passwordLastChanged : null,
          });
          expect(record.accessKeys).toEqual(
            p.accessKeys.map((k, slot) => ({
              slot: slot + 1,
              active: k.status === 'Active',
              createdAt: k.createdAt,
              lastUsed: k.lastUsed && {
                date: k.lastUsed.date,
                service: k.lastUsed.service,
                ...(k.lastUsed.region === 'N/A' ? {} : { region: k.lastUsed.region }),
              },
            })),
          );
        });
      }),
      { numRuns: 50 },
    );
  });

  describe('mixes credentials like a real account', () => {
    const account = generateAccount({ users: 1000, seed: 'mix', now: NOW });
    const users = account.users();
    const keys = users.flatMap((u) => u.accessKeys);
    const ageDays = (d: Date) => (NOW.getTime() - d.getTime()) / DAY;
    const tagged = (key: string) => users.filter((u) => u.tags[key] !== undefined);

    it.each([
      [
        'with two active keys',
        users.filter((u) => u.accessKeys.filter((k) => k.status === 'Active').length === 2),
      ],
      ['with an inactive key', users.filter((u) => u.accessKeys.some((k) => k.status === 'Inactive'))],
      ['with a never-used key', users.filter((u) => u.accessKeys.some((k) => k.lastUsed === null))],
      [
        'with a key unused for 45+ days',
        users.filter((u) => u.accessKeys.some((k) => k.lastUsed && ageDays(k.lastUsed.date) >= 45)),
      ],
      [
        'with a key older than 90 days',
        users.filter((u) => u.accessKeys.some((k) => ageDays(k.createdAt) >= 90)),
      ],
      ['without credentials', users.filter((u) => !u.passwordEnabled && u.accessKeys.length === 0)],
      ['with a password and MFA', users.filter((u) => u.passwordEnabled && u.mfaActive)],
      ['with a password without MFA', users.filter((u) => u.passwordEnabled && !u.mfaActive)],
      ['with a password never used', users.filter((u) => u.passwordEnabled && u.passwordLastUsed === null)],
      ['with a sign-in but no password now', users.filter((u) => !u.passwordEnabled && u.passwordLastUsed)],
      [
        'with a Slack owner',
        tagged('credwatch:owner').filter((u) => /^U[A-Z0-9]+$/.test(u.tags['credwatch:owner']!)),
      ],
      [
        'with an e-mail owner',
        tagged('credwatch:owner').filter((u) => u.tags['credwatch:owner']!.includes('@')),
      ],
      ['with a max key age', tagged('credwatch:max-key-age-days')],
      [
        'with an exemption in force',
        tagged('credwatch:exempt').filter((u) => /until=2025-(0[6-9]|1)/.test(u.tags['credwatch:exempt']!)),
      ],
      [
        'with an expired exemption',
        tagged('credwatch:exempt').filter((u) => /until=2025-0[1-5]/.test(u.tags['credwatch:exempt']!)),
      ],
      [
        'with a bad credwatch tag value',
        users.filter((u) =>
          ['ninety', '0', '-5', 'bob', '@channel', 'forever'].some((v) => Object.values(u.tags).includes(v)),
        ),
      ],
    ])('has users %s', (_, matching) => {
      expect(matching.length).toBeGreaterThan(0);
    });

    it('ages keys from 0 to 400 days, never used before creation nor after now', () => {
      const ages = keys.map((k) => ageDays(k.createdAt));
      expect(Math.min(...ages)).toBeLessThan(5);
      expect(Math.max(...ages)).toBeGreaterThan(390);
      expect(Math.max(...ages)).toBeLessThanOrEqual(400);
      for (const k of keys) {
        if (!k.lastUsed) continue;
        expect(k.lastUsed.date.getTime()).toBeGreaterThanOrEqual(k.createdAt.getTime());
        expect(k.lastUsed.date.getTime()).toBeLessThanOrEqual(NOW.getTime());
      }
    });

    it('makes unique, obviously fake ids', () => {
      const keyIds = keys.map((k) => k.id);
      const userIds = users.map((u) => u.userId);
      expect(new Set(keyIds).size).toBe(keyIds.length);
      expect(new Set(userIds).size).toBe(userIds.length);
      for (const id of keyIds) expect(id).toMatch(/^AKIAFAKE[A-Z0-9]{12}$/);
      for (const id of userIds) expect(id).toMatch(/^AIDAFAKE[A-Z0-9]{13}$/);
    });
  });

  it.each([
    [{ accessKey: true, mfaActive: false }, 'true', 'false'],
    [{}, 'false', 'true'],
  ])('configures the root user %j', (root, keyActive, mfa) => {
    const csv = renderCredentialReport(generateAccount({ users: 1, seed: 7, now: NOW, root }));

    const rootRow = csv.split('\n')[1]!.split(',');

    expect(rootRow[0]).toBe(ROOT);
    expect(rootRow[CREDENTIAL_REPORT_COLUMNS.indexOf('access_key_1_active')]).toBe(keyActive);
    expect(rootRow[CREDENTIAL_REPORT_COLUMNS.indexOf('mfa_active')]).toBe(mfa);
    expect(rootRow[CREDENTIAL_REPORT_COLUMNS.indexOf('password_enabled')]).toBe('not_supported');
  });
});

describe('FakeAccount', () => {
  it('quotes a user name with a comma in the report', () => {
    const account = new FakeAccount({ accountId: '111122223333', createdAt: NOW });
    account.createUser('a,b', { createdAt: NOW });

    const { records } = parseCredentialReport(renderCredentialReport(account));

    expect(records.map((r) => r.user)).toEqual([ROOT, 'a,b']);
  });

  it('rotates a key: the new one active, the old one inactive then gone', () => {
    const account = smallAccount();
    account.deleteAccessKey('alice', 'AKIAFAKEALICE0000002');
    const fresh = account.createAccessKey('alice', { createdAt: NOW });
    account.setAccessKeyStatus('alice', 'AKIAFAKEALICE0000001', 'Inactive');
    account.recordAccessKeyUse(fresh.id, { date: NOW, service: 'sts', region: 'us-east-1' });

    expect(account.user('alice')?.accessKeys.map((k) => [k.id, k.status, k.lastUsed?.service])).toEqual([
      ['AKIAFAKEALICE0000001', 'Inactive', 's3'],
      [fresh.id, 'Active', 'sts'],
    ]);
    account.deleteAccessKey('alice', 'AKIAFAKEALICE0000001');
    expect(account.findAccessKey('AKIAFAKEALICE0000001')).toBeUndefined();
    expect(account.findAccessKey(fresh.id)?.owner).toBe(account.user('alice'));
  });

  it.each([
    ['a third key', (a: FakeAccount) => a.createAccessKey('alice', { createdAt: NOW }), 'LimitExceeded'],
    ['a user twice', (a: FakeAccount) => a.createUser('bob', { createdAt: NOW }), 'EntityAlreadyExists'],
    ['a bad user name', (a: FakeAccount) => a.createUser('bad name', { createdAt: NOW }), 'ValidationError'],
    ['an unknown user', (a: FakeAccount) => a.deleteUser('ghost'), 'NoSuchEntity'],
    ['an unknown key', (a: FakeAccount) => a.deleteAccessKey('bob', 'AKIAFAKEALICE0000001'), 'NoSuchEntity'],
  ])('refuses %s as IAM would', (_, act, code) => {
    const account = smallAccount();

    expect(() => act(account)).toThrow(expect.objectContaining({ name: 'FakeAccountError', code }));
    expect(() => act(account)).toThrow(FakeAccountError);
  });
});

describe('ListAccountAliases', () => {
  it.each([
    ['example-prod', ['example-prod']],
    [undefined, []],
  ])('answers the alias %s so the real SDK reads %j', async (alias, expected) => {
    const account = generateAccount({ users: 1, seed: 'alias', now: new Date('2026-11-23T00:00:00Z') });
    account.alias = alias;
    const endpoint = await startIamEndpoint({ account });
    try {
      const client = new IAMClient({
        endpoint: endpoint.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' },
      });
      const out = await client.send(new ListAccountAliasesCommand({}));
      expect(out.AccountAliases ?? []).toEqual(expected);
    } finally {
      await endpoint.close();
    }
  });
});

describe('ListVirtualMFADevices', () => {
  const ROOT_SERIAL = 'arn:aws:iam::111122223333:mfa/root-account-mfa-device';

  it('lists the virtual devices of principals with MFA, as the real SDK reads them, by AssignmentStatus', async () => {
    // alice has MFA, bob has none: bob's name in virtualMfa gives no device.
    const { iam } = await start({
      account: smallAccount(),
      virtualMfa: [ROOT, 'alice', 'bob'],
      unassignedVirtualMfa: ['spare'],
    });

    const assigned = await iam.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Assigned' }));
    const unassigned = await iam.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Unassigned' }));
    const any = await iam.send(new ListVirtualMFADevicesCommand({}));

    expect(assigned.IsTruncated).toBe(false);
    expect(assigned.VirtualMFADevices).toEqual([
      {
        SerialNumber: 'arn:aws:iam::111122223333:mfa/alice',
        User: {
          Path: '/',
          UserName: 'alice',
          UserId: expect.stringMatching(/^AIDAFAKE/),
          Arn: 'arn:aws:iam::111122223333:user/alice',
          CreateDate: new Date('2023-01-10T09:00:00Z'),
        },
        EnableDate: new Date('2023-01-10T09:00:00Z'),
      },
      {
        SerialNumber: ROOT_SERIAL,
        // IAM lists the root user by its account id and ARN only.
        User: {
          UserId: '111122223333',
          Arn: 'arn:aws:iam::111122223333:root',
          CreateDate: new Date('2020-01-01T00:00:00Z'),
        },
        EnableDate: new Date('2020-01-01T00:00:00Z'),
      },
    ]);
    expect(unassigned.VirtualMFADevices).toEqual([{ SerialNumber: 'arn:aws:iam::111122223333:mfa/spare' }]);
    expect(any.VirtualMFADevices?.map((d) => d.SerialNumber)).toEqual([
      'arn:aws:iam::111122223333:mfa/alice',
      ROOT_SERIAL,
      'arn:aws:iam::111122223333:mfa/spare',
    ]);
  });

  it('lists no device by default (every MFA device is hardware) and none for a root user without MFA', async () => {
    const withoutRootMfa = new FakeAccount({
      accountId: '111122223333',
      createdAt: new Date('2020-01-01T00:00:00Z'),
      rootMfaActive: false,
    });
    const { iam: plain } = await start({ account: smallAccount() });
    const { iam: noRootMfa } = await start({ account: withoutRootMfa, virtualMfa: [ROOT] });

    expect((await plain.send(new ListVirtualMFADevicesCommand({}))).VirtualMFADevices).toEqual([]);
    expect((await noRootMfa.send(new ListVirtualMFADevicesCommand({}))).VirtualMFADevices).toEqual([]);
  });

  it('pages with MaxItems and Marker, as the SDK paginator follows them', async () => {
    const account = smallAccount();
    const names = ['carol', 'dave', 'erin'];
    for (const name of names) account.createUser(name, { createdAt: NOW, mfaActive: true });
    const { iam } = await start({ account, virtualMfa: [ROOT, 'alice', ...names] });

    const pages: string[][] = [];
    for await (const page of paginateListVirtualMFADevices({ client: iam, pageSize: 2 }, {})) {
      pages.push((page.VirtualMFADevices ?? []).map((d) => d.SerialNumber!.split('/').at(-1)!));
    }

    expect(pages).toEqual([['alice', 'carol'], ['dave', 'erin'], ['root-account-mfa-device']]);
  });

  it('rejects an AssignmentStatus IAM does not know with 400 ValidationError', async () => {
    const { endpoint } = await start({ account: smallAccount() });

    const res = await post(endpoint.url, { Action: 'ListVirtualMFADevices', AssignmentStatus: 'Mine' });

    expect(res.status).toBe(400);
    expect(res.text).toContain('<Code>ValidationError</Code>');
    expect(res.text.replaceAll('&apos;', "'")).toContain(
      "Value 'Mine' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Assigned, Unassigned, Any]",
    );
  });
});
