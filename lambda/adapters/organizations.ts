/**
 * Account discovery through AWS Organizations: every account of the organization (ListAccounts), or
 * the accounts under given OUs, recursively (ListAccountsForParent + ListOrganizationalUnitsForParent).
 * Runs in the management account or a delegated administrator.
 */
import {
  type Account,
  OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
} from '@aws-sdk/client-organizations';
import type { AccountInfo } from '../core/accounts';
import { CredwatchError } from '../core/errors';

export class AccountDiscoveryError extends CredwatchError {}

export interface OrganizationsDiscoveryProps {
  /** @default new OrganizationsClient({ region: 'us-east-1', retryMode: 'adaptive', maxAttempts: 10 }) */
  readonly client?: OrganizationsClient;
}

/** Nested OUs followed at most this deep (Organizations allows five levels). */
const MAX_OU_DEPTH = 5;

const toInfo = (a: Account): AccountInfo => {
  if (!a.Id) throw new AccountDiscoveryError('Organizations returned an account without an Id');
  const status = a.State ?? a.Status;
  return { id: a.Id, ...(a.Name ? { name: a.Name } : {}), ...(status ? { status } : {}) };
};

export class OrganizationsDiscovery {
  private readonly client: OrganizationsClient;

  constructor(props: OrganizationsDiscoveryProps = {}) {
    this.client =
      props.client ??
      new OrganizationsClient({ region: 'us-east-1', retryMode: 'adaptive', maxAttempts: 10 });
  }

  /** The accounts of the organization, or under `organizationalUnits` (ids `ou-…` or a root `r-…`). */
  async listAccounts(organizationalUnits: readonly string[] = []): Promise<AccountInfo[]> {
    try {
      if (organizationalUnits.length === 0) return await this.all();
      const found: AccountInfo[] = [];
      for (const ou of organizationalUnits) await this.under(ou, 0, found);
      return found;
    } catch (err) {
      if (err instanceof AccountDiscoveryError) throw err;
      const what =
        organizationalUnits.length > 0 ? `under ${organizationalUnits.join(', ')}` : 'of the organization';
      throw new AccountDiscoveryError(
        `could not list the accounts ${what}: ${(err as Error).name}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  // Pages are read with the SDK's paginators (NextToken until absent, the service's default page
  // size); their errors reach listAccounts, which names what could not be listed.
  private async all(): Promise<AccountInfo[]> {
    const found: AccountInfo[] = [];
    for await (const page of paginateListAccounts({ client: this.client }, {})) {
      for (const a of page.Accounts ?? []) found.push(toInfo(a));
    }
    return found;
  }

  private async under(parentId: string, depth: number, found: AccountInfo[]): Promise<void> {
    const paging = { client: this.client };
    for await (const page of paginateListAccountsForParent(paging, { ParentId: parentId })) {
      for (const a of page.Accounts ?? []) found.push(toInfo(a));
    }
    if (depth >= MAX_OU_DEPTH) return;
    const children: string[] = [];
    for await (const page of paginateListOrganizationalUnitsForParent(paging, { ParentId: parentId })) {
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) children.push(ou.Id);
    }
    for (const child of children) await this.under(child, depth + 1, found);
  }
}
