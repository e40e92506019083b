/**
 * Account discovery through AWS Organizations: every account of the organization (ListAccounts), or
 * the accounts under given OUs, recursively (ListAccountsForParent + ListOrganizationalUnitsForParent).
 * Runs in the management account or a delegated administrator.
 *
 * Where each account sits, for routing (lambda/core/routing.ts), when asked (`placement`):
 * - `organizationalUnits`: each account's OUs, parent first, root last. Read while walking the tree,
 *   so the calls grow with the number of OUs, not of accounts. Without OUs to start from: one
 *   ListRoots, then one ListAccountsForParent and one ListOrganizationalUnitsForParent per root and
 *   per OU (more for a parent with over 20 children: one per page), instead of ListAccounts. From
 *   given OUs: the same walk below each, plus one ListParents per level between it and the root
 *   (none for a root `r-…`).
 * - `tags`: each account's tags, one ListTagsForResource per account (per page of tags), at most
 *   {@link TAG_CONCURRENCY} at a time: Organizations throttles hard, and the client retries
 *   adaptively. Accounts with a status other than ACTIVE are not scanned (selectAccounts), so
 *   their tags are not read.
 */
import {
  type Account,
  OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListParents,
  paginateListRoots,
  paginateListTagsForResource,
} from '@aws-sdk/client-organizations';
import type { AccountInfo } from '../core/accounts';
import { CredwatchError } from '../core/errors';

export class AccountDiscoveryError extends CredwatchError {}

export interface OrganizationsDiscoveryProps {
  /** @default new OrganizationsClient({ region: 'us-east-1', retryMode: 'adaptive', maxAttempts: 10 }) */
  readonly client?: OrganizationsClient;
}

/** What to read about each account besides its id, name and status (routingNeeds says what routes need). */
export interface PlacementOptions {
  /** Its OUs, parent first, root last: `AccountInfo.organizationalUnits`. @default false */
  readonly organizationalUnits?: boolean;
  /** Its Organizations tags: `AccountInfo.tags`. @default false */
  readonly tags?: boolean;
}

export interface ListAccountsOptions {
  /** @default nothing beyond id, name and status, with the calls of the module comment's first lines */
  readonly placement?: PlacementOptions;
}

/** Nested OUs followed at most this deep (Organizations allows five levels). */
const MAX_OU_DEPTH = 5;
/** ListTagsForResource calls in flight at once. */
export const TAG_CONCURRENCY = 4;

const toInfo = (a: Account): AccountInfo => {
  if (!a.Id) throw new AccountDiscoveryError('Organizations returned an account without an Id');
  const status = a.State ?? a.Status;
  return { id: a.Id, ...(a.Name ? { name: a.Name } : {}), ...(status ? { status } : {}) };
};

const describe = (err: unknown) => `${(err as Error).name}: ${(err as Error).message}`;

export class OrganizationsDiscovery {
  private readonly client: OrganizationsClient;

  constructor(props: OrganizationsDiscoveryProps = {}) {
    this.client =
      props.client ??
      new OrganizationsClient({ region: 'us-east-1', retryMode: 'adaptive', maxAttempts: 10 });
  }

  /**
   * The accounts of the organization, or under `organizationalUnits` (ids `ou-…` or a root `r-…`),
   * with what `options.placement` asks for.
   * @throws AccountDiscoveryError naming what could not be listed, or the account whose tags could not be read
   */
  async listAccounts(
    organizationalUnits: readonly string[] = [],
    options: ListAccountsOptions = {},
  ): Promise<AccountInfo[]> {
    const placement = options.placement ?? {};
    let found: AccountInfo[];
    try {
      if (placement.organizationalUnits) found = await this.placed(organizationalUnits);
      else if (organizationalUnits.length === 0) found = await this.all();
      else {
        found = [];
        for (const ou of organizationalUnits) await this.under(ou, 0, found);
      }
    } catch (err) {
      if (err instanceof AccountDiscoveryError) throw err;
      const what =
        organizationalUnits.length > 0 ? `under ${organizationalUnits.join(', ')}` : 'of the organization';
      throw new AccountDiscoveryError(`could not list the accounts ${what}: ${describe(err)}`, {
        cause: err,
      });
    }
    return placement.tags ? await this.withTags(found) : found;
  }

  /**
   * The same accounts, in the same order, with what `placement` asks for read from Organizations:
   * for accounts known otherwise (source `list`), or to read tags only of the accounts selected.
   * OUs: one walk of the whole organization (as listAccounts without OUs). Tags: as listAccounts.
   * @throws AccountDiscoveryError for an account that is not in the organization, or whose tags could not be read
   */
  async place(accounts: readonly AccountInfo[], placement: PlacementOptions): Promise<AccountInfo[]> {
    let placed = [...accounts];
    if (placement.organizationalUnits && placed.length > 0) {
      let chains: Map<string, readonly string[]>;
      try {
        chains = new Map((await this.placed([])).map((a) => [a.id, a.organizationalUnits ?? []]));
      } catch (err) {
        if (err instanceof AccountDiscoveryError) throw err;
        throw new AccountDiscoveryError(
          `could not read where the accounts sit in the organization: ${describe(err)}`,
          { cause: err },
        );
      }
      placed = placed.map((a) => {
        const chain = chains.get(a.id);
        if (!chain) {
          throw new AccountDiscoveryError(
            `account ${a.id} is not in the organization: it is under none of its roots`,
          );
        }
        return { ...a, organizationalUnits: chain };
      });
    }
    return placement.tags ? await this.withTags(placed) : placed;
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

  /** The accounts under `organizationalUnits` (none: under every root), each with its OUs. */
  private async placed(organizationalUnits: readonly string[]): Promise<AccountInfo[]> {
    const found: AccountInfo[] = [];
    if (organizationalUnits.length === 0) {
      const roots: string[] = [];
      for await (const page of paginateListRoots({ client: this.client }, {})) {
        for (const r of page.Roots ?? []) {
          if (!r.Id) throw new AccountDiscoveryError('Organizations returned a root without an Id');
          roots.push(r.Id);
        }
      }
      for (const root of roots) await this.walk([root], found);
      return found;
    }
    for (const ou of organizationalUnits) await this.walk(await this.chainOf(ou), found);
    return found;
  }

  /** `ou` and the OUs above it up to its root, read with ListParents (a root `r-…` is its own chain). */
  private async chainOf(ou: string): Promise<string[]> {
    const chain = [ou];
    if (ou.startsWith('r-')) return chain;
    for (let level = 0; level <= MAX_OU_DEPTH; level++) {
      let parent: { Id?: string; Type?: string } | undefined;
      const child = chain[chain.length - 1]!;
      for await (const page of paginateListParents({ client: this.client }, { ChildId: child })) {
        parent ??= page.Parents?.[0];
      }
      if (!parent?.Id) throw new AccountDiscoveryError(`Organizations gave no parent of ${child}`);
      chain.push(parent.Id);
      if (parent.Type === 'ROOT') return chain;
    }
    throw new AccountDiscoveryError(
      `${ou} is more than ${MAX_OU_DEPTH} levels below its root, as Organizations answers ListParents`,
    );
  }

  /** The accounts under `chain[0]` and the OUs below it; `chain` is that parent and the OUs above it, up to the root. */
  private async walk(chain: readonly string[], found: AccountInfo[]): Promise<void> {
    const paging = { client: this.client };
    const parentId = chain[0]!;
    for await (const page of paginateListAccountsForParent(paging, { ParentId: parentId })) {
      for (const a of page.Accounts ?? []) found.push({ ...toInfo(a), organizationalUnits: chain });
    }
    // chain.length - 1 is the depth of parentId below its root.
    if (chain.length - 1 >= MAX_OU_DEPTH) return;
    const children: string[] = [];
    for await (const page of paginateListOrganizationalUnitsForParent(paging, { ParentId: parentId })) {
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) children.push(ou.Id);
    }
    for (const child of children) await this.walk([child, ...chain], found);
  }

  /** Each ACTIVE (or status unknown) account with its tags, at most TAG_CONCURRENCY reads at a time. */
  private async withTags(accounts: readonly AccountInfo[]): Promise<AccountInfo[]> {
    const result = [...accounts];
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < result.length) {
        const i = next++;
        const account = result[i]!;
        if (account.status !== undefined && account.status !== 'ACTIVE') continue;
        try {
          result[i] = { ...account, tags: await this.tagsOf(account.id) };
        } catch (err) {
          failed = true;
          throw new AccountDiscoveryError(
            `could not read the tags of account ${account.id}: ${describe(err)}`,
            { cause: err },
          );
        }
      }
    };
    const workers = await Promise.allSettled(
      Array.from({ length: Math.min(TAG_CONCURRENCY, result.length) }, worker),
    );
    const rejected = workers.find((w) => w.status === 'rejected');
    if (rejected) throw rejected.reason;
    return result;
  }

  private async tagsOf(accountId: string): Promise<Record<string, string>> {
    const tags: [string, string][] = [];
    for await (const page of paginateListTagsForResource(
      { client: this.client },
      { ResourceId: accountId },
    )) {
      for (const t of page.Tags ?? []) {
        if (t.Key === undefined) throw new Error('Organizations returned a tag without a Key');
        tags.push([t.Key, t.Value ?? '']);
      }
    }
    // fromEntries, not assignment: a tag named __proto__ stays a tag.
    return Object.fromEntries(tags);
  }
}
