/**
 * A second opinion on where each account sits (OrganizationsDiscovery with `placement`, for
 * routing): the same organization built in moto (https://github.com/getmoto/moto) through the AWS
 * SDK v3 (CreateOrganization, CreateOrganizationalUnit, CreateAccount with Tags, MoveAccount) and
 * in the project's stand-in (test/support/organization-endpoints.ts), discovered by the same code,
 * must give the same placements: each account's OUs, parent first, root last, and its tags.
 *
 * Ids differ (moto draws its own account and OU ids), so placements are compared by name: an
 * account by its name, an OU by its path of names from the root.
 *
 * moto's quirks (5.2.1), each asserted by the last test so that a moto upgrade that changes one is
 * noticed (AWS's answers are the API reference's, which the stand-in follows):
 * - ListParents of an unknown account is AccountNotFoundException (AWS: ChildNotFoundException);
 * - ListParents of a root is answered with no parents (AWS: InvalidInputException, a root is not a
 *   valid ChildId).
 */
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsClient,
  TargetNotFoundException,
} from '@aws-sdk/client-organizations';
import { OrganizationsDiscovery } from '../../lambda/adapters/organizations';
import type { AccountInfo } from '../../lambda/core/accounts';
import { generateAccount } from '../support/account-generator';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import { type Organization, ROOT_ID, startOrganization } from '../support/organization-endpoints';

const NOW = new Date('2025-06-01T12:00:00Z');

/** The organization: the management account ("master", as moto names it) and these members. */
const MEMBERS: readonly { name: string; ouPath: string[]; tags: Record<string, string> }[] = [
  { name: 'payments-prod', ouPath: ['Workloads', 'Prod'], tags: { team: 'payments', env: 'prod' } },
  { name: 'payments-dev', ouPath: ['Workloads', 'Dev'], tags: { team: 'payments', env: 'dev' } },
  { name: 'deep', ouPath: ['Workloads', 'Prod', 'Legacy'], tags: { team: 'legacy' } },
  { name: 'audit', ouPath: ['Security'], tags: {} },
  { name: 'sandbox', ouPath: [], tags: { team: 'platform', cost: '' } },
];

/** An account's placement with names for ids: its OUs as paths from the root, parent first. */
type Named = Record<string, { status?: string; ous?: string[]; tags?: Record<string, string> }>;
const named = (found: readonly AccountInfo[], ouPath: ReadonlyMap<string, string>): Named =>
  Object.fromEntries(
    found.map((a) => [
      a.name ?? a.id,
      {
        ...(a.status ? { status: a.status } : {}),
        ...(a.organizationalUnits
          ? { ous: a.organizationalUnits.map((id) => ouPath.get(id) ?? `unknown ${id}`) }
          : {}),
        ...(a.tags ? { tags: a.tags } : {}),
      },
    ]),
  );

describe('account placement: moto and the stand-in agree', () => {
  let moto: MotoServer;
  let motoClient: OrganizationsClient;
  /** moto's ids: OU id to path ('Root', 'Root/Workloads', …), and the Workloads OU's id. */
  const motoOus = new Map<string, string>();
  let motoWorkloads = '';
  let motoRoot = '';

  let org: Organization;
  let orgClient: OrganizationsClient;
  const orgOus = new Map<string, string>();

  beforeAll(async () => {
    moto = await startMotoServer();
    motoClient = new OrganizationsClient({ ...moto.clientConfig, maxAttempts: 1 });
    await motoClient.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    motoRoot = (await motoClient.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    motoOus.set(motoRoot, 'Root');
    const ouIds = new Map<string, string>([['', motoRoot]]);
    for (const { ouPath } of MEMBERS) {
      for (let depth = 1; depth <= ouPath.length; depth++) {
        const key = ouPath.slice(0, depth).join('/');
        if (ouIds.has(key)) continue;
        const parent = ouIds.get(ouPath.slice(0, depth - 1).join('/'))!;
        const { OrganizationalUnit } = await motoClient.send(
          new CreateOrganizationalUnitCommand({ ParentId: parent, Name: ouPath[depth - 1]! }),
        );
        ouIds.set(key, OrganizationalUnit!.Id!);
        motoOus.set(OrganizationalUnit!.Id!, `Root/${key}`);
      }
    }
    motoWorkloads = ouIds.get('Workloads')!;
    for (const m of MEMBERS) {
      const { CreateAccountStatus } = await motoClient.send(
        new CreateAccountCommand({
          AccountName: m.name,
          Email: `${m.name}@example.com`,
          Tags: Object.entries(m.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      const accountId = CreateAccountStatus!.AccountId!;
      if (m.ouPath.length > 0) {
        await motoClient.send(
          new MoveAccountCommand({
            AccountId: accountId,
            SourceParentId: motoRoot,
            DestinationParentId: ouIds.get(m.ouPath.join('/'))!,
          }),
        );
      }
    }

    org = await startOrganization({
      accounts: [
        {
          account: generateAccount({ accountId: '999999999999', users: 0, seed: 'm', now: NOW }),
          name: 'master',
        },
        ...MEMBERS.map((m, i) => ({
          account: generateAccount({ accountId: String(100_000_000_000 + i), users: 0, seed: i, now: NOW }),
          name: m.name,
          ouPath: m.ouPath,
          tags: m.tags,
        })),
      ],
      now: () => NOW,
    });
    orgClient = new OrganizationsClient({
      endpoint: org.organizationsUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAFAKESCANNER00001', secretAccessKey: 'fake' },
      maxAttempts: 1,
    });
    orgOus.set(ROOT_ID, 'Root');
    for (const { ouPath } of MEMBERS) {
      for (let depth = 1; depth <= ouPath.length; depth++) {
        orgOus.set(org.ouId(ouPath.slice(0, depth)), `Root/${ouPath.slice(0, depth).join('/')}`);
      }
    }
  }, 60_000);
  afterAll(async () => {
    motoClient?.destroy();
    orgClient?.destroy();
    await Promise.all([moto?.close(), org?.close()]);
  });

  /** What routes would see of every account: OU paths from the parent up, and tags. */
  const EXPECTED: Named = {
    master: { status: 'ACTIVE', ous: ['Root'], tags: {} },
    'payments-prod': {
      status: 'ACTIVE',
      ous: ['Root/Workloads/Prod', 'Root/Workloads', 'Root'],
      tags: { team: 'payments', env: 'prod' },
    },
    'payments-dev': {
      status: 'ACTIVE',
      ous: ['Root/Workloads/Dev', 'Root/Workloads', 'Root'],
      tags: { team: 'payments', env: 'dev' },
    },
    deep: {
      status: 'ACTIVE',
      ous: ['Root/Workloads/Prod/Legacy', 'Root/Workloads/Prod', 'Root/Workloads', 'Root'],
      tags: { team: 'legacy' },
    },
    audit: { status: 'ACTIVE', ous: ['Root/Security', 'Root'], tags: {} },
    sandbox: { status: 'ACTIVE', ous: ['Root'], tags: { team: 'platform', cost: '' } },
  };
  const placement = { organizationalUnits: true, tags: true };

  it('places every account of the organization the same way, as built', async () => {
    const fromMoto = await new OrganizationsDiscovery({ client: motoClient }).listAccounts([], { placement });
    const fromStandIn = await new OrganizationsDiscovery({ client: orgClient }).listAccounts([], {
      placement,
    });

    expect(named(fromMoto, motoOus)).toEqual(EXPECTED);
    expect(named(fromStandIn, orgOus)).toEqual(named(fromMoto, motoOus));
  });

  it('places the accounts under one OU the same way, the chain read up to the root', async () => {
    const fromMoto = await new OrganizationsDiscovery({ client: motoClient }).listAccounts([motoWorkloads], {
      placement,
    });
    const fromStandIn = await new OrganizationsDiscovery({ client: orgClient }).listAccounts(
      [org.ouId(['Workloads'])],
      { placement },
    );

    const underWorkloads = Object.fromEntries(
      Object.entries(EXPECTED).filter(([, p]) => p.ous?.includes('Root/Workloads')),
    );
    expect(Object.keys(underWorkloads).sort()).toEqual(['deep', 'payments-dev', 'payments-prod']);
    expect(named(fromMoto, motoOus)).toEqual(underWorkloads);
    expect(named(fromStandIn, orgOus)).toEqual(underWorkloads);
  });

  it('places listed accounts (source list) the same way', async () => {
    const motoAll = await new OrganizationsDiscovery({ client: motoClient }).listAccounts();
    const orgAll = await new OrganizationsDiscovery({ client: orgClient }).listAccounts();
    const pick = (all: AccountInfo[]) =>
      ['audit', 'deep'].map((name) => ({ id: all.find((a) => a.name === name)!.id, name }));

    const fromMoto = await new OrganizationsDiscovery({ client: motoClient }).place(pick(motoAll), placement);
    const fromStandIn = await new OrganizationsDiscovery({ client: orgClient }).place(
      pick(orgAll),
      placement,
    );

    const without = ({ status: _status, ...rest }: Named[string]) => rest;
    expect(named(fromMoto, motoOus)).toEqual({
      audit: without(EXPECTED.audit!),
      deep: without(EXPECTED.deep!),
    });
    expect(named(fromStandIn, orgOus)).toEqual(named(fromMoto, motoOus));
  });

  it("shows moto's quirks, against AWS's own answers (the comment at the top of this file)", async () => {
    // Both: an unknown account's tags are TargetNotFoundException, as AWS answers.
    for (const client of [motoClient, orgClient]) {
      await expect(
        client.send(new ListTagsForResourceCommand({ ResourceId: '555555555555' })),
      ).rejects.toBeInstanceOf(TargetNotFoundException);
    }
    // moto: AccountNotFoundException; AWS and the stand-in: ChildNotFoundException.
    await expect(motoClient.send(new ListParentsCommand({ ChildId: '555555555555' }))).rejects.toMatchObject({
      name: 'AccountNotFoundException',
    });
    await expect(orgClient.send(new ListParentsCommand({ ChildId: '555555555555' }))).rejects.toMatchObject({
      name: 'ChildNotFoundException',
    });
    // moto: a root has no parents; AWS and the stand-in: a root is not a ChildId.
    expect((await motoClient.send(new ListParentsCommand({ ChildId: motoRoot }))).Parents).toEqual([]);
    await expect(orgClient.send(new ListParentsCommand({ ChildId: ROOT_ID }))).rejects.toMatchObject({
      name: 'InvalidInputException',
    });
  });
});
