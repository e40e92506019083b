/**
 * Where each account sits (OrganizationsDiscovery with `placement`), against the local organization
 * of test/support/organization-endpoints.ts over real HTTP: its OU chain (parent first, root last)
 * read while walking the tree, in calls that grow with the OUs and not the accounts, and its tags.
 * Also the stand-in's own answers for the operations this adds (ListParents, ListTagsForResource).
 */
import {
  ChildNotFoundException,
  InvalidInputException,
  ListParentsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TargetNotFoundException,
} from '@aws-sdk/client-organizations';
import fc from 'fast-check';
import {
  AccountDiscoveryError,
  OrganizationsDiscovery,
  TAG_CONCURRENCY,
} from '../../../lambda/adapters/organizations';
import { generateAccount } from '../../support/account-generator';
import {
  FakeOrganizationError,
  type Organization,
  type OrganizationMember,
  type OrganizationOptions,
  ROOT_ID,
  startOrganization,
} from '../../support/organization-endpoints';

const NOW = new Date('2025-06-01T12:00:00Z');
const SCANNER = { accessKeyId: 'AKIAFAKESCANNER00001', secretAccessKey: 'fake' };
const [A, B, C, D] = ['111111111111', '222222222222', '333333333333', '444444444444'];
const DENIED = "AccessDeniedException: You don't have permissions to access this resource.";

const member = (accountId: string, extra: Partial<OrganizationMember> = {}): OrganizationMember => ({
  account: generateAccount({ accountId, users: 0, seed: accountId, now: NOW }),
  name: `account-${accountId}`,
  ...extra,
});

const running: Organization[] = [];
const clients: OrganizationsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(running.splice(0).map((o) => o.close()));
});

async function start(options: Partial<OrganizationOptions> = {}): Promise<Organization> {
  const org = await startOrganization({
    accounts: [
      member(A, { ouPath: ['Workloads', 'Prod'], tags: { team: 'payments', env: 'prod' } }),
      member(B, { ouPath: ['Workloads', 'Dev'], tags: { team: 'payments', env: 'dev' } }),
      member(C, { ouPath: ['Security'] }),
      member(D, { tags: { team: 'platform' } }),
    ],
    now: () => NOW,
    ...options,
  });
  running.push(org);
  return org;
}

const clientOf = (org: Organization) => {
  const client = new OrganizationsClient({
    endpoint: org.organizationsUrl,
    region: 'us-east-1',
    credentials: SCANNER,
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
};
const discovery = (org: Organization) => new OrganizationsDiscovery({ client: clientOf(org) });

/** The chain routing expects for an account at `path`: its parent first, the root last. */
const chainOf = (org: Organization, path: readonly string[]) =>
  path.map((_, i) => org.ouId(path.slice(0, path.length - i))).concat(ROOT_ID);

const byId = <T extends { id: string }>(items: readonly T[]) =>
  Object.fromEntries(items.map((a) => [a.id, a]));

describe('OrganizationsDiscovery placement: organizational units', () => {
  it('gives every account its OUs, parent first, root last, walking from the root (no ListAccounts, no ListParents)', async () => {
    const org = await start();

    const found = await discovery(org).listAccounts([], { placement: { organizationalUnits: true } });

    expect(byId(found)).toEqual({
      [A]: {
        id: A,
        name: `account-${A}`,
        status: 'ACTIVE',
        organizationalUnits: chainOf(org, ['Workloads', 'Prod']),
      },
      [B]: {
        id: B,
        name: `account-${B}`,
        status: 'ACTIVE',
        organizationalUnits: chainOf(org, ['Workloads', 'Dev']),
      },
      [C]: { id: C, name: `account-${C}`, status: 'ACTIVE', organizationalUnits: chainOf(org, ['Security']) },
      [D]: { id: D, name: `account-${D}`, status: 'ACTIVE', organizationalUnits: [ROOT_ID] },
    });
    expect(found).toHaveLength(4);
    expect(byId(found)[A]?.organizationalUnits).toHaveLength(3);
    // The root and 4 OUs (Workloads, Prod, Dev, Security): two listings each, one ListRoots.
    expect(org.counts().organizations).toEqual({
      ListRoots: 1,
      ListAccountsForParent: 5,
      ListOrganizationalUnitsForParent: 5,
    });
  });

  it('takes as many calls for 60 accounts as for 2 in the same OUs (but one more page per 20 accounts)', async () => {
    const calls = async (n: number) => {
      const org = await start({
        accounts: Array.from({ length: n }, (_, i) =>
          member(String(100_000_000_000 + i), { ouPath: i % 2 === 0 ? ['Workloads'] : ['Sandbox'] }),
        ),
      });
      const found = await discovery(org).listAccounts([], { placement: { organizationalUnits: true } });
      expect(found).toHaveLength(n);
      expect(new Set(found.map((a) => a.organizationalUnits?.[0]))).toEqual(
        new Set([org.ouId(['Workloads']), org.ouId(['Sandbox'])]),
      );
      return org.counts().organizations;
    };

    expect(await calls(2)).toEqual({
      ListRoots: 1,
      ListAccountsForParent: 3,
      ListOrganizationalUnitsForParent: 3,
    });
    // 30 accounts in each OU: two pages of ListAccountsForParent for each of the two OUs.
    expect(await calls(60)).toEqual({
      ListRoots: 1,
      ListAccountsForParent: 5,
      ListOrganizationalUnitsForParent: 3,
    });
  });

  it('reads the chain above each requested OU with ListParents, once per level, and walks below it', async () => {
    const org = await start();
    const workloads = org.ouId(['Workloads']);

    const found = await discovery(org).listAccounts([workloads], {
      placement: { organizationalUnits: true },
    });

    expect(found.map((a) => [a.id, a.organizationalUnits])).toEqual([
      [A, chainOf(org, ['Workloads', 'Prod'])],
      [B, chainOf(org, ['Workloads', 'Dev'])],
    ]);
    // Workloads is one level below the root: one ListParents; then Workloads, Prod and Dev are walked.
    expect(org.counts().organizations).toEqual({
      ListParents: 1,
      ListAccountsForParent: 3,
      ListOrganizationalUnitsForParent: 3,
    });
  });

  it('reads two levels above a nested OU, and none above a root given as the OU', async () => {
    const org = await start();

    const prod = await discovery(org).listAccounts([org.ouId(['Workloads', 'Prod'])], {
      placement: { organizationalUnits: true },
    });
    expect(prod).toEqual([
      expect.objectContaining({ id: A, organizationalUnits: chainOf(org, ['Workloads', 'Prod']) }),
    ]);
    expect(org.counts().organizations.ListParents).toBe(2);

    const fromRoot = await discovery(org).listAccounts([ROOT_ID], {
      placement: { organizationalUnits: true },
    });
    expect(byId(fromRoot)[C]?.organizationalUnits).toEqual(chainOf(org, ['Security']));
    expect(org.counts().organizations.ListParents).toBe(2);
    expect(org.counts().organizations.ListRoots).toBeUndefined();
  });

  it('places every account of any tree as its ouPath says, from the root and from any of its OUs', async () => {
    const name = fc.constantFrom('Workloads', 'Prod', 'Dev', 'Security');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(name, { maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        async (paths, pick) => {
          const org = await startOrganization({
            accounts: paths.map((ouPath, i) => member(String(500_000_000_000 + i), { ouPath })),
            now: () => NOW,
          });
          const client = new OrganizationsClient({
            endpoint: org.organizationsUrl,
            region: 'us-east-1',
            credentials: SCANNER,
            maxAttempts: 1,
          });
          try {
            const placement = { organizationalUnits: true };
            const expected = Object.fromEntries(
              paths.map((ouPath, i) => [String(500_000_000_000 + i), chainOf(org, ouPath)]),
            );
            const all = await new OrganizationsDiscovery({ client }).listAccounts([], { placement });
            expect(Object.fromEntries(all.map((a) => [a.id, a.organizationalUnits]))).toEqual(expected);

            const withOus = paths.filter((p) => p.length > 0);
            if (withOus.length === 0) return;
            const path = withOus[pick % withOus.length]!;
            const top = path.slice(0, 1 + (pick % path.length));
            const under = await new OrganizationsDiscovery({ client }).listAccounts([org.ouId(top)], {
              placement,
            });
            const inside = Object.entries(expected).filter(([, chain]) => chain.includes(org.ouId(top)));
            expect(Object.fromEntries(under.map((a) => [a.id, a.organizationalUnits]))).toEqual(
              Object.fromEntries(inside),
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

  it('keeps the call pattern without placement: ListAccounts only, and no placement fields', async () => {
    const org = await start();

    const found = await discovery(org).listAccounts();

    expect(found.map((a) => Object.keys(a).sort())).toEqual(Array(4).fill(['id', 'name', 'status']));
    expect(org.counts().organizations).toEqual({ ListAccounts: 1 });
  });

  it('names what it could not list: the organization when ListRoots is denied, the OU when ListParents is', async () => {
    const org = await start({ deniedOperations: new Set(['ListRoots', 'ListParents']) });
    const workloads = org.ouId(['Workloads']);
    const placement = { organizationalUnits: true };

    await expect(discovery(org).listAccounts([], { placement })).rejects.toMatchObject({
      name: AccountDiscoveryError.name,
      message: `could not list the accounts of the organization: ${DENIED}`,
    });
    await expect(discovery(org).listAccounts([workloads], { placement })).rejects.toMatchObject({
      name: AccountDiscoveryError.name,
      message: `could not list the accounts under ${workloads}: ${DENIED}`,
    });
  });
});

describe('OrganizationsDiscovery placement: tags', () => {
  it('gives every account its tags, {} when it has none, with one ListTagsForResource each', async () => {
    const org = await start();

    const found = await discovery(org).listAccounts([], { placement: { tags: true } });

    expect(Object.fromEntries(found.map((a) => [a.id, a.tags]))).toEqual({
      [A]: { team: 'payments', env: 'prod' },
      [B]: { team: 'payments', env: 'dev' },
      [C]: {},
      [D]: { team: 'platform' },
    });
    expect(found.every((a) => a.organizationalUnits === undefined)).toBe(true);
    expect(org.counts().organizations).toEqual({ ListAccounts: 1, ListTagsForResource: 4 });
  });

  it('reads every page of tags, keeps a tag named __proto__ as a tag, and skips suspended accounts', async () => {
    const many = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`key-${i}`, `value-${i}`]));
    const org = await start({
      accounts: [
        member(A, { tags: { ...many, ['__proto__']: 'x' } }),
        member(B, { status: 'SUSPENDED', tags: { team: 'gone' } }),
      ],
    });

    const found = await discovery(org).listAccounts([], {
      placement: { organizationalUnits: true, tags: true },
    });

    expect(found[0]?.tags).toEqual(Object.fromEntries([...Object.entries(many), ['__proto__', 'x']]));
    expect(Object.keys(found[0]?.tags ?? {})).toHaveLength(46);
    expect(found[1]).toEqual({
      id: B,
      name: `account-${B}`,
      status: 'SUSPENDED',
      organizationalUnits: [ROOT_ID],
    });
    // 46 tags: three pages of 20, 20 and 6; none for the suspended account.
    expect(org.counts().organizations.ListTagsForResource).toBe(3);
  });

  it(`has at most ${TAG_CONCURRENCY} ListTagsForResource calls in flight`, async () => {
    const org = await start({
      accounts: Array.from({ length: 13 }, (_, i) =>
        member(String(100_000_000_000 + i), { tags: { n: String(i) } }),
      ),
    });
    const client = clientOf(org);
    let inFlight = 0;
    let most = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'ListTagsForResourceCommand') return next(args);
        most = Math.max(most, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize' },
    );

    const found = await new OrganizationsDiscovery({ client }).listAccounts([], {
      placement: { tags: true },
    });

    expect(found.map((a) => a.tags?.n)).toEqual(Array.from({ length: 13 }, (_, i) => String(i)));
    expect(most).toBe(TAG_CONCURRENCY);
  });

  it('names the account whose tags it could not read, and reads no more after a failure', async () => {
    const org = await start({
      accounts: Array.from({ length: 12 }, (_, i) => member(String(100_000_000_000 + i))),
      deniedOperations: new Set(['ListTagsForResource']),
    });

    await expect(discovery(org).listAccounts([], { placement: { tags: true } })).rejects.toMatchObject({
      name: AccountDiscoveryError.name,
      message: `could not read the tags of account 100000000000: ${DENIED}`,
    });
    expect(org.counts().organizations.ListTagsForResource).toBe(TAG_CONCURRENCY);
  });
});

describe('OrganizationsDiscovery.place: accounts known otherwise (source list)', () => {
  it('adds OUs (one walk of the organization) and tags to the given accounts, in their order', async () => {
    const org = await start();

    const placed = await discovery(org).place([{ id: D }, { id: A, name: 'prod' }], {
      organizationalUnits: true,
      tags: true,
    });

    expect(placed).toEqual([
      { id: D, organizationalUnits: [ROOT_ID], tags: { team: 'platform' } },
      {
        id: A,
        name: 'prod',
        organizationalUnits: chainOf(org, ['Workloads', 'Prod']),
        tags: { team: 'payments', env: 'prod' },
      },
    ]);
    expect(org.counts().organizations).toEqual({
      ListRoots: 1,
      ListAccountsForParent: 5,
      ListOrganizationalUnitsForParent: 5,
      ListTagsForResource: 2,
    });
  });

  it('reads nothing when nothing is asked', async () => {
    const org = await start();

    expect(await discovery(org).place([{ id: A }], {})).toEqual([{ id: A }]);
    expect(org.counts().organizations).toEqual({});
  });

  it('refuses an account outside the organization, by id', async () => {
    const org = await start();

    await expect(
      discovery(org).place([{ id: A }, { id: '555555555555' }], { organizationalUnits: true }),
    ).rejects.toThrow(
      new AccountDiscoveryError(
        'account 555555555555 is not in the organization: it is under none of its roots',
      ),
    );
    await expect(discovery(org).place([{ id: '555555555555' }], { tags: true })).rejects.toMatchObject({
      name: AccountDiscoveryError.name,
      message: expect.stringMatching(
        /^could not read the tags of account 555555555555: TargetNotFoundException: We can't find a root, OU, account, or policy/,
      ),
    });
  });
});

describe('the local organization: ListParents and ListTagsForResource', () => {
  it('answers ListParents with the one parent and its type, for accounts and OUs', async () => {
    const org = await start();
    const client = clientOf(org);
    const parents = async (id: string) =>
      (await client.send(new ListParentsCommand({ ChildId: id }))).Parents;

    expect(await parents(A)).toEqual([{ Id: org.ouId(['Workloads', 'Prod']), Type: 'ORGANIZATIONAL_UNIT' }]);
    expect(await parents(org.ouId(['Workloads', 'Prod']))).toEqual([
      { Id: org.ouId(['Workloads']), Type: 'ORGANIZATIONAL_UNIT' },
    ]);
    expect(await parents(org.ouId(['Workloads']))).toEqual([{ Id: ROOT_ID, Type: 'ROOT' }]);
    expect(await parents(D)).toEqual([{ Id: ROOT_ID, Type: 'ROOT' }]);
  });

  it('answers unknown ids as AWS does: ChildNotFoundException, TargetNotFoundException, InvalidInputException', async () => {
    const org = await start();
    const client = clientOf(org);

    await expect(client.send(new ListParentsCommand({ ChildId: '555555555555' }))).rejects.toBeInstanceOf(
      ChildNotFoundException,
    );
    await expect(client.send(new ListParentsCommand({ ChildId: 'ou-ab12-zzzzzzzz' }))).rejects.toBeInstanceOf(
      ChildNotFoundException,
    );
    // A root has no parent, and is not a valid ChildId.
    await expect(client.send(new ListParentsCommand({ ChildId: ROOT_ID }))).rejects.toMatchObject({
      name: InvalidInputException.name,
      Reason: 'INVALID_PATTERN',
    });
    await expect(
      client.send(new ListTagsForResourceCommand({ ResourceId: '555555555555' })),
    ).rejects.toBeInstanceOf(TargetNotFoundException);
    await expect(
      client.send(new ListTagsForResourceCommand({ ResourceId: 'nonsense' })),
    ).rejects.toBeInstanceOf(InvalidInputException);
    expect(await client.send(new ListTagsForResourceCommand({ ResourceId: ROOT_ID }))).toMatchObject({
      Tags: [],
    });
  });

  it('refuses a NextToken of another resource', async () => {
    const tags = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    const org = await start({ accounts: [member(A, { tags }), member(B, { tags })] });
    const client = clientOf(org);

    const first = await client.send(new ListTagsForResourceCommand({ ResourceId: A }));
    expect(first.Tags).toHaveLength(20);
    await expect(
      client.send(new ListTagsForResourceCommand({ ResourceId: B, NextToken: first.NextToken })),
    ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_NEXT_TOKEN' });
    expect(
      (await client.send(new ListTagsForResourceCommand({ ResourceId: A, NextToken: first.NextToken }))).Tags,
    ).toEqual([{ Key: 'k20', Value: 'v' }]);
  });

  it('refuses OUs deeper than five levels, too many or bad tags, and an unknown OU path', async () => {
    await expect(
      startOrganization({ accounts: [member(A, { ouPath: ['a', 'b', 'c', 'd', 'e', 'f'] })] }),
    ).rejects.toThrow(
      new FakeOrganizationError(`accounts[0] (${A}): ouPath is 6 OUs deep, Organizations allows 5`),
    );
    await expect(
      startOrganization({
        accounts: [
          member(A, { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, ''])) }),
        ],
      }),
    ).rejects.toThrow(new FakeOrganizationError(`accounts[0] (${A}): 51 tags, at most 50`));
    await expect(startOrganization({ accounts: [member(A, { tags: { '': 'x' } })] })).rejects.toThrow(
      FakeOrganizationError,
    );
    const org = await start();
    expect(() => org.ouId(['Workloads', 'Staging'])).toThrow(
      new FakeOrganizationError('no OU "Staging" under Root/Workloads (there: Prod, Dev)'),
    );
  });
});
