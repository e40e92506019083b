import { IAMClient, ListUsersCommand, paginateListUsers } from '@aws-sdk/client-iam';
import {
  AccessDeniedException,
  type Account,
  InvalidInputException,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  type OrganizationalUnit,
  OrganizationsClient,
  ParentNotFoundException,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
} from '@aws-sdk/client-organizations';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import fc from 'fast-check';
import { generateAccount } from '../../support/account-generator';
import {
  FakeOrganizationError,
  type Organization,
  type OrganizationMember,
  type OrganizationOptions,
  ROOT_ID,
  startOrganization,
} from '../../support/organization-endpoints';

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

const NOW = new Date('2025-06-01T12:00:00Z');
const SCANNER: Credentials = { accessKeyId: 'AKIAFAKESCANNER00001', secretAccessKey: 'fake' };
const SCANNER_ARN = 'arn:aws:sts::999999999999:assumed-role/credwatch-scanner/credwatch';
const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const OUTSIDER = '444444444444';

const roleArn = (accountId: string, role = 'credwatch-member') => `arn:aws:iam::${accountId}:role/${role}`;
const member = (
  accountId: string,
  users: number,
  extra: Partial<OrganizationMember> = {},
): OrganizationMember => ({
  account: generateAccount({ accountId, users, seed: accountId, now: NOW }),
  name: `account-${accountId}`,
  ...extra,
});
const manyAccounts = (n: number) =>
  Array.from({ length: n }, (_, i) => member(String(100_000_000_000 + i), 0, { name: `member-${i}` }));

const running: Organization[] = [];
const clients: { destroy(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(running.splice(0).map((o) => o.close()));
});

async function start(options: Partial<OrganizationOptions> = {}): Promise<Organization> {
  const org = await startOrganization({ accounts: [member(A, 3), member(B, 5)], now: () => NOW, ...options });
  running.push(org);
  return org;
}

function track<T extends { destroy(): void }>(client: T): T {
  clients.push(client);
  return client;
}
const base = (endpoint: string, credentials: Credentials) => ({
  endpoint,
  region: 'us-east-1',
  credentials,
  maxAttempts: 1,
});
const stsClient = (org: Organization, credentials = SCANNER) =>
  track(new STSClient(base(org.stsUrl, credentials)));
const iamClient = (org: Organization, credentials: Credentials) =>
  track(new IAMClient(base(org.iamUrl, credentials)));
const orgClient = (org: Organization, credentials = SCANNER) =>
  track(new OrganizationsClient(base(org.organizationsUrl, credentials)));

async function assume(
  org: Organization,
  accountId: string,
  input: Partial<AssumeRoleCommandInput> = {},
): Promise<Credentials> {
  const out = await stsClient(org).send(
    new AssumeRoleCommand({ RoleArn: roleArn(accountId), RoleSessionName: 'scan', ...input }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

async function userNames(org: Organization, credentials: Credentials): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListUsers({ client: iamClient(org, credentials), pageSize: 2 }, {})) {
    for (const u of page.Users ?? []) names.push(u.UserName!);
  }
  return names;
}

const denied = (target: string) => ({
  name: 'AccessDenied',
  message: `User: ${SCANNER_ARN} is not authorized to perform: sts:AssumeRole on resource: ${target}`,
  $metadata: expect.objectContaining({ httpStatusCode: 403 }),
});

describe('STS AssumeRole and the IAM router', () => {
  it('gives credentials with which each member lists its own users through the one IAM URL', async () => {
    const org = await start();

    const [inA, inB] = [
      await userNames(org, await assume(org, A)),
      await userNames(org, await assume(org, B)),
    ];

    expect(inA).toEqual(
      org
        .iam(A)
        .account.users()
        .map((u) => u.name),
    );
    expect(inB).toEqual(
      org
        .iam(B)
        .account.users()
        .map((u) => u.name),
    );
    expect(inA).toHaveLength(3);
    expect(inB).toHaveLength(5);
    expect(org.iam(A).counts().ListUsers).toBe(2);
    expect(org.iam(B).counts().ListUsers).toBe(3);
  });

  it('issues ASIA keys that name the account, with the assumed-role ARN and an expiry by its clock', async () => {
    const org = await start();

    const out = await stsClient(org).send(
      new AssumeRoleCommand({ RoleArn: roleArn(B), RoleSessionName: 'nightly-scan', DurationSeconds: 900 }),
    );

    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA222222222222[A-Z0-9]{4}$/);
    expect(out.Credentials?.SecretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(out.Credentials?.Expiration).toEqual(new Date(NOW.getTime() + 900_000));
    expect(out.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::222222222222:assumed-role/credwatch-member/nightly-scan',
    );
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:nightly-scan$/);
    expect(org.counts().sts).toEqual({ AssumeRole: 1 });
  });

  it('issues a different key on every AssumeRole', async () => {
    const org = await start();

    const keys = [await assume(org, A), await assume(org, A), await assume(org, B)].map((c) => c.accessKeyId);

    expect(new Set(keys).size).toBe(3);
  });

  it('answers AssumeRole in the exact XML of AWS', async () => {
    const org = await start();

    const res = await fetch(org.stsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=${SCANNER.accessKeyId}/20250601/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: new URLSearchParams({
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: roleArn(A),
        RoleSessionName: 'raw',
      }).toString(),
    });

    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(
      new RegExp(
        '^<AssumeRoleResponse xmlns="https://sts\\.amazonaws\\.com/doc/2011-06-15/"><AssumeRoleResult>' +
          '<Credentials><AccessKeyId>ASIA111111111111[A-Z0-9]{4}</AccessKeyId>' +
          '<SecretAccessKey>[A-Za-z0-9+/]{40}</SecretAccessKey><SessionToken>[A-Za-z0-9+/=]+</SessionToken>' +
          '<Expiration>2025-06-01T13:00:00Z</Expiration></Credentials><AssumedRoleUser>' +
          '<AssumedRoleId>AROA[A-Z0-9]{17}:raw</AssumedRoleId>' +
          '<Arn>arn:aws:sts::111111111111:assumed-role/credwatch-member/raw</Arn></AssumedRoleUser>' +
          '</AssumeRoleResult><ResponseMetadata><RequestId>[0-9a-f-]{36}</RequestId></ResponseMetadata>' +
          '</AssumeRoleResponse>\n$',
      ),
    );
  });

  it.each([
    ['an account listed in denyAssumeRole', roleArn(B)],
    ['an account outside the organization', roleArn(OUTSIDER)],
    ['a suspended member', roleArn(C)],
    ['another role of a member', roleArn(A, 'OrganizationAccountAccessRole')],
    ['something that is not a role ARN', 'credwatch-member'],
  ])('denies AssumeRole into %s with AccessDenied in the words of STS', async (_, target) => {
    const org = await start({
      accounts: [member(A, 1), member(B, 1), member(C, 1, { status: 'SUSPENDED' })],
      denyAssumeRole: new Set([B]),
    });

    await expect(
      stsClient(org).send(new AssumeRoleCommand({ RoleArn: target, RoleSessionName: 'scan' })),
    ).rejects.toMatchObject(denied(target));
    await expect(assume(org, A)).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA1{12}/) });
  });

  it('answers a denial as the 403 ErrorResponse of STS', async () => {
    const org = await start({ denyAssumeRole: new Set([A]) });

    const res = await fetch(org.stsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=${SCANNER.accessKeyId}/20250601/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(roleArn(A))}&RoleSessionName=s1`,
    });

    expect(res.status).toBe(403);
    expect((await res.text()).replace(/<RequestId>[^<]*<\/RequestId>/, '<RequestId>ID</RequestId>')).toBe(
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
        '<Code>AccessDenied</Code><Message>User: arn:aws:sts::999999999999:assumed-role/credwatch-scanner/credwatch ' +
        'is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/credwatch-member' +
        '</Message></Error><RequestId>ID</RequestId></ErrorResponse>\n',
    );
  });

  it.each([
    { label: 'without an ExternalId', input: {}, outcome: 'denied' },
    { label: 'with a wrong ExternalId', input: { ExternalId: 'open-sesame' }, outcome: 'denied' },
    { label: 'with the right ExternalId', input: { ExternalId: 'sesame-7f3a' }, outcome: 'allowed' },
  ])('when an ExternalId is required, AssumeRole $label is $outcome', async ({ input, outcome }) => {
    const org = await start({ externalId: 'sesame-7f3a' });

    const result = assume(org, A, input);

    if (outcome === 'allowed') {
      await expect(result).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
    } else await expect(result).rejects.toMatchObject(denied(roleArn(A)));
  });

  it('assumes the role named by memberRoleName and no other', async () => {
    const org = await start({ memberRoleName: 'CredwatchAudit' });

    await expect(assume(org, A, { RoleArn: roleArn(A, 'CredwatchAudit') })).resolves.toMatchObject({
      accessKeyId: expect.stringMatching(/^ASIA/),
    });
    await expect(assume(org, A)).rejects.toMatchObject(denied(roleArn(A)));
  });

  it.each([
    [899, 'ValidationError', /greater than or equal to 900/],
    [3601, 'ValidationError', /exceeds the MaxSessionDuration/],
  ])('refuses DurationSeconds %i with %s', async (duration, name, message) => {
    const org = await start();

    await expect(assume(org, A, { DurationSeconds: duration })).rejects.toMatchObject({
      name,
      message: expect.stringMatching(message),
      $metadata: expect.objectContaining({ httpStatusCode: 400 }),
    });
  });

  it('tells the scanner and each member who they are with GetCallerIdentity', async () => {
    const org = await start();
    const credentials = await assume(org, B, { RoleSessionName: 'who' });

    const scanner = await stsClient(org).send(new GetCallerIdentityCommand({}));
    const inB = await stsClient(org, credentials).send(new GetCallerIdentityCommand({}));

    expect(scanner).toMatchObject({ Account: '999999999999', Arn: SCANNER_ARN });
    expect(inB).toMatchObject({
      Account: B,
      Arn: `arn:aws:sts::${B}:assumed-role/credwatch-member/who`,
      UserId: expect.stringMatching(/^AROA[A-Z0-9]{17}:who$/),
    });
    expect(org.counts().sts).toEqual({ AssumeRole: 1, GetCallerIdentity: 2 });
  });

  it.each<[string, (org: Organization) => Promise<Credentials>]>([
    ["the scanner's own key", async () => SCANNER],
    ['an ASIA key STS never issued', async () => ({ ...SCANNER, accessKeyId: 'ASIA111111111111ZZZZ' })],
    [
      'an issued key with another session token',
      async (org) => ({ ...(await assume(org, A)), sessionToken: 'x' }),
    ],
    [
      'an issued key without its session token',
      async (org) => ({ ...(await assume(org, A)), sessionToken: '' }),
    ],
  ])(
    'answers %s at the IAM router with InvalidClientTokenId and forwards nothing',
    async (_, credentials) => {
      const org = await start();

      await expect(
        iamClient(org, await credentials(org)).send(new ListUsersCommand({})),
      ).rejects.toMatchObject({
        name: 'InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
        $metadata: expect.objectContaining({ httpStatusCode: 403 }),
      });
      expect(org.iam(A).counts()).toEqual({});
      expect(org.iam(B).counts()).toEqual({});
    },
  );

  it('answers ExpiredToken at the IAM router once the credentials expire by its clock', async () => {
    let now = NOW;
    const org = await start({ now: () => now });
    const credentials = await assume(org, A, { DurationSeconds: 1800 });
    await expect(userNames(org, credentials)).resolves.toHaveLength(3);

    now = new Date(NOW.getTime() + 1800_000);

    await expect(iamClient(org, credentials).send(new ListUsersCommand({}))).rejects.toMatchObject({
      name: 'ExpiredToken',
      $metadata: expect.objectContaining({ httpStatusCode: 403 }),
    });
  });

  it("pipes the member endpoint's answer back unchanged, errors and request ids included", async () => {
    const org = await start();
    org.iam(A).failNext('ListUsers', 'AccessDenied');

    const failure = iamClient(org, await assume(org, A)).send(new ListUsersCommand({}));

    await expect(failure).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringMatching(
        /^User: arn:aws:sts::\d{12}:assumed-role\/.+ is not authorized to perform: iam:ListUsers on resource: /,
      ),
      // The IAM endpoint's request ids (…-8000-…), not the router's.
      $metadata: expect.objectContaining({
        httpStatusCode: 403,
        requestId: '00000000-0000-4000-8000-000000000001',
      }),
    });
  });

  it('throttles each account independently', async () => {
    const org = await start({ iam: { throttle: { ratePerSecond: 1, burst: 2 } } });
    const [inA, inB] = [iamClient(org, await assume(org, A)), iamClient(org, await assume(org, B))];
    await inA.send(new ListUsersCommand({}));
    await inA.send(new ListUsersCommand({}));

    await expect(inA.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: 'Throttling' });
    await expect(inB.send(new ListUsersCommand({}))).resolves.toMatchObject({ Users: expect.any(Array) });
    expect(org.iam(A).counts()).toEqual({ ListUsers: 3, throttled: 1 });
    expect(org.iam(B).counts()).toEqual({ ListUsers: 1 });
  });
});

describe('Organizations', () => {
  it('lists more than 20 accounts in pages of at most 20 joined by NextToken', async () => {
    const accounts = manyAccounts(45);
    const org = await start({ accounts });

    const pages: Account[][] = [];
    for await (const page of paginateListAccounts({ client: orgClient(org) }, {}))
      pages.push(page.Accounts ?? []);

    expect(pages.map((p) => p.length)).toEqual([20, 20, 5]);
    expect(pages.flat().map((a) => a.Id)).toEqual(accounts.map((m) => m.account.accountId));
    expect(org.counts().organizations).toEqual({ ListAccounts: 3 });
  });

  it('pages by a smaller MaxResults too', async () => {
    const org = await start({ accounts: manyAccounts(7) });

    const first = await orgClient(org).send(new ListAccountsCommand({ MaxResults: 3 }));
    const second = await orgClient(org).send(
      new ListAccountsCommand({ MaxResults: 3, NextToken: first.NextToken }),
    );
    const last = await orgClient(org).send(
      new ListAccountsCommand({ MaxResults: 3, NextToken: second.NextToken }),
    );

    expect([first, second, last].map((p) => p.Accounts?.map((a) => a.Name))).toEqual([
      ['member-0', 'member-1', 'member-2'],
      ['member-3', 'member-4', 'member-5'],
      ['member-6'],
    ]);
    expect(last.NextToken).toBeUndefined();
  });

  it.each([0, 21])('refuses MaxResults %i with InvalidInputException', async (max) => {
    const org = await start();

    await expect(orgClient(org).send(new ListAccountsCommand({ MaxResults: max }))).rejects.toBeInstanceOf(
      InvalidInputException,
    );
  });

  it('refuses a NextToken issued for another parent or operation', async () => {
    const org = await start({
      accounts: manyAccounts(4).map((m, i) => ({ ...m, ouPath: i < 2 ? [] : ['Sandbox'] })),
    });
    const client = orgClient(org);
    const sandbox = (await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: ROOT_ID })))
      .OrganizationalUnits?.[0]?.Id;
    const fromRoot = await client.send(
      new ListAccountsForParentCommand({ ParentId: ROOT_ID, MaxResults: 1 }),
    );
    const fromAll = await client.send(new ListAccountsCommand({ MaxResults: 1 }));

    await expect(
      client.send(new ListAccountsForParentCommand({ ParentId: sandbox, NextToken: fromRoot.NextToken })),
    ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_NEXT_TOKEN' });
    await expect(
      client.send(new ListAccountsForParentCommand({ ParentId: ROOT_ID, NextToken: fromAll.NextToken })),
    ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_NEXT_TOKEN' });
    await expect(
      client.send(new ListAccountsForParentCommand({ ParentId: ROOT_ID, NextToken: fromRoot.NextToken })),
    ).resolves.toMatchObject({ Accounts: [expect.objectContaining({ Name: 'member-1' })] });
  });

  it('describes accounts as Organizations does, suspended ones with Status and State SUSPENDED', async () => {
    const active = member(A, 1, { name: 'Production' });
    const suspended = member(B, 1, { name: 'Old sandbox', status: 'SUSPENDED' });
    const org = await start({ accounts: [active, suspended] });

    const { Accounts } = await orgClient(org).send(new ListAccountsCommand({}));

    expect(Accounts).toEqual([
      {
        Id: A,
        Arn: `arn:aws:organizations::999999999999:account/o-exampleorgid/${A}`,
        Email: `aws+${A}@example.com`,
        Name: 'Production',
        Status: 'ACTIVE',
        State: 'ACTIVE',
        JoinedMethod: 'CREATED',
        JoinedTimestamp: active.account.root.createdAt,
      },
      expect.objectContaining({ Id: B, Name: 'Old sandbox', Status: 'SUSPENDED', State: 'SUSPENDED' }),
    ]);
  });

  it('lists the root, the OUs nested under it and the accounts of each', async () => {
    const org = await start({
      accounts: [
        member(A, 1, { ouPath: ['Workloads', 'Prod'] }),
        member(B, 1, { ouPath: ['Workloads', 'Dev'] }),
        member(C, 1, { ouPath: ['Security'] }),
        member(OUTSIDER, 1),
      ],
    });
    const client = orgClient(org);
    const ous = async (parent: string) => {
      const found: OrganizationalUnit[] = [];
      for await (const p of paginateListOrganizationalUnitsForParent({ client }, { ParentId: parent })) {
        found.push(...(p.OrganizationalUnits ?? []));
      }
      return found;
    };
    const accountIds = async (parent: string) =>
      (await client.send(new ListAccountsForParentCommand({ ParentId: parent }))).Accounts?.map((a) => a.Id);

    const { Roots } = await client.send(new ListRootsCommand({}));
    const top = await ous(ROOT_ID);
    const workloads = top.find((o) => o.Name === 'Workloads')!;
    const nested = await ous(workloads.Id!);

    expect(Roots).toEqual([
      {
        Id: ROOT_ID,
        Arn: `arn:aws:organizations::999999999999:root/o-exampleorgid/${ROOT_ID}`,
        Name: 'Root',
        PolicyTypes: [],
      },
    ]);
    expect(top.map((o) => o.Name)).toEqual(['Workloads', 'Security']);
    expect(nested.map((o) => o.Name)).toEqual(['Prod', 'Dev']);
    for (const ou of [...top, ...nested]) {
      expect(ou.Id).toMatch(/^ou-ab12-[a-z0-9]{8}$/);
      expect(ou.Arn).toBe(`arn:aws:organizations::999999999999:ou/o-exampleorgid/${ou.Id}`);
    }
    expect(await accountIds(ROOT_ID)).toEqual([OUTSIDER]);
    expect(await accountIds(workloads.Id!)).toEqual([]);
    expect(await accountIds(nested[0]!.Id!)).toEqual([A]);
    expect(await accountIds(nested[1]!.Id!)).toEqual([B]);
    expect(await accountIds(top[1]!.Id!)).toEqual([C]);
  });

  it('derives the same OU ids from the same paths in every run', async () => {
    const accounts = () => [
      member(A, 0, { ouPath: ['Workloads', 'Prod'] }),
      member(B, 0, { ouPath: ['Security'] }),
    ];
    const ouIds = async (org: Organization) =>
      (
        await orgClient(org).send(new ListOrganizationalUnitsForParentCommand({ ParentId: ROOT_ID }))
      ).OrganizationalUnits?.map((o) => o.Id);

    const first = await ouIds(await start({ accounts: accounts() }));
    const second = await ouIds(await start({ accounts: accounts() }));

    expect(first).toHaveLength(2);
    expect(new Set(first).size).toBe(2);
    expect(second).toEqual(first);
  });

  it('places every account under its ouPath, found by walking the tree from the root', async () => {
    const name = fc.constantFrom('Workloads', 'Prod', 'Dev', 'Security', 'Sandbox');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(name, { maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        async (paths) => {
          const org = await startOrganization({
            accounts: paths.map((ouPath, i) => member(String(500_000_000_000 + i), 0, { ouPath })),
            now: () => NOW,
          });
          const client = new OrganizationsClient(base(org.organizationsUrl, SCANNER));
          try {
            const found = new Map<string, string[]>();
            const walk = async (parent: string, path: string[]): Promise<void> => {
              const pager = { client, pageSize: 1 };
              for await (const p of paginateListAccountsForParent(pager, { ParentId: parent })) {
                for (const a of p.Accounts ?? []) found.set(a.Id!, path);
              }
              for await (const p of paginateListOrganizationalUnitsForParent(pager, { ParentId: parent })) {
                for (const ou of p.OrganizationalUnits ?? []) await walk(ou.Id!, [...path, ou.Name!]);
              }
            };
            await walk(ROOT_ID, []);

            expect(Object.fromEntries(found)).toEqual(
              Object.fromEntries(paths.map((ouPath, i) => [String(500_000_000_000 + i), ouPath])),
            );
          } finally {
            client.destroy();
            await org.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('answers an unknown ParentId with ParentNotFoundException (HTTP 400)', async () => {
    const org = await start();

    const res = await fetch(org.organizationsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSOrganizationsV20161128.ListAccountsForParent',
        authorization: `AWS4-HMAC-SHA256 Credential=${SCANNER.accessKeyId}/20250601/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: JSON.stringify({ ParentId: 'ou-ab12-zzzzzzzz' }),
    });

    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await res.json()).toEqual({
      __type: 'ParentNotFoundException',
      Message: expect.stringContaining('ou-ab12-zzzzzzzz'),
    });
    await expect(
      orgClient(org).send(new ListAccountsForParentCommand({ ParentId: 'ou-ab12-zzzzzzzz' })),
    ).rejects.toBeInstanceOf(ParentNotFoundException);
    expect(org.counts().organizations).toEqual({ ListAccountsForParent: 2 });
  });

  it("refuses a member account's credentials with AccessDeniedException", async () => {
    const org = await start();

    await expect(
      orgClient(org, await assume(org, A)).send(new ListAccountsCommand({})),
    ).rejects.toBeInstanceOf(AccessDeniedException);
  });
});

describe('startOrganization', () => {
  it('refuses an account listed twice', async () => {
    await expect(startOrganization({ accounts: [member(A, 0), member(A, 1)] })).rejects.toThrow(
      new FakeOrganizationError('accounts[1]: account 111111111111 is listed twice'),
    );
  });

  it("gives each member's own IAM endpoint and FakeAccount, and refuses an unknown account", async () => {
    const first = member(A, 2);
    const org = await start({ accounts: [first] });

    expect(org.iam(A).account).toBe(first.account);
    expect(() => org.iam(B)).toThrow(FakeOrganizationError);
    expect(org.managementAccountId).toBe('999999999999');
  });
});
