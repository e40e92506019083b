import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AssumeRoleError, assumeRoleCredentials, memberRoleArn } from '../../../lambda/adapters/assume-role';
import { AccountDiscoveryError, OrganizationsDiscovery } from '../../../lambda/adapters/organizations';

describe('OrganizationsDiscovery', () => {
  const org = mockClient(OrganizationsClient);
  beforeEach(() => org.reset());
  const discovery = () =>
    new OrganizationsDiscovery({ client: new OrganizationsClient({ region: 'us-east-1' }) });

  it('lists every account of the organization across pages, with name and state', async () => {
    org
      .on(ListAccountsCommand, {})
      .resolves({
        Accounts: [{ Id: '111111111111', Name: 'prod', Status: 'ACTIVE', State: 'ACTIVE' }],
        NextToken: 't1',
      })
      .on(ListAccountsCommand, { NextToken: 't1' })
      .resolves({ Accounts: [{ Id: '222222222222', Name: 'old', Status: 'SUSPENDED' }] });
    expect(await discovery().listAccounts()).toEqual([
      { id: '111111111111', name: 'prod', status: 'ACTIVE' },
      { id: '222222222222', name: 'old', status: 'SUSPENDED' },
    ]);
  });

  it('walks nested OUs under the given ones', async () => {
    org
      .on(ListAccountsForParentCommand, { ParentId: 'ou-a' })
      .resolves({ Accounts: [{ Id: '111111111111', State: 'ACTIVE' }] })
      .on(ListAccountsForParentCommand, { ParentId: 'ou-b' })
      .resolves({ Accounts: [{ Id: '333333333333', State: 'ACTIVE' }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'ou-a' })
      .resolves({ OrganizationalUnits: [{ Id: 'ou-b' }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'ou-b' })
      .resolves({ OrganizationalUnits: [] });
    expect((await discovery().listAccounts(['ou-a'])).map((a) => a.id)).toEqual([
      '111111111111',
      '333333333333',
    ]);
  });

  it('names what it could not list', async () => {
    org
      .on(ListAccountsCommand)
      .rejects(Object.assign(new Error('You don’t have permissions'), { name: 'AccessDeniedException' }));
    await expect(discovery().listAccounts()).rejects.toMatchObject({
      name: AccountDiscoveryError.name,
      message:
        'could not list the accounts of the organization: AccessDeniedException: You don’t have permissions',
    });
  });
});

describe('assumeRoleCredentials', () => {
  const sts = mockClient(STSClient);
  beforeEach(() => sts.reset());
  const expiry = new Date('2026-11-23T13:00:00Z');

  it('assumes the member role with the session name and external id, and caches until shortly before expiry', async () => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLE',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: expiry,
      },
    });
    let now = new Date('2026-11-23T12:00:00Z').getTime();
    const provider = assumeRoleCredentials({
      roleArn: 'arn:aws:iam::111111111111:role/credwatch-member',
      externalId: 'ext-123',
      client: new STSClient({ region: 'us-east-1' }),
      clock: () => now,
    });
    expect(await provider()).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 's',
      sessionToken: 't',
      expiration: expiry,
    });
    await provider();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({
      RoleArn: 'arn:aws:iam::111111111111:role/credwatch-member',
      RoleSessionName: 'credwatch',
      DurationSeconds: 3600,
      ExternalId: 'ext-123',
    });
    now = expiry.getTime() - 4 * 60_000;
    await provider();
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('names the role it could not assume', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejects(
        Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }),
      );
    const provider = assumeRoleCredentials({
      roleArn: 'arn:aws:iam::1:role/x',
      client: new STSClient({ region: 'us-east-1' }),
    });
    await expect(provider()).rejects.toMatchObject({
      name: AssumeRoleError.name,
      message:
        'could not assume arn:aws:iam::1:role/x: AccessDenied: not authorized to perform: sts:AssumeRole',
    });
  });

  it.each([
    ['us-east-1', 'arn:aws:iam::111111111111:role/credwatch-member'],
    ['cn-north-1', 'arn:aws-cn:iam::111111111111:role/credwatch-member'],
    ['us-gov-west-1', 'arn:aws-us-gov:iam::111111111111:role/credwatch-member'],
  ])('builds the member role ARN in the partition of %s', (region, arn) => {
    expect(memberRoleArn('111111111111', 'credwatch-member', region)).toBe(arn);
  });
});
