/**
 * The baseline credwatch is measured against: the seed's per-user scan, as the AWS access-key
 * rotation sample does it. ListUsers (100 a page), then for every user ListAccessKeys, and
 * GetAccessKeyLastUsed for each of its keys, one call after another.
 */
import {
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { BenchError } from './errors';

/** ListUsers page size of the seed (`MaxItems`). */
export const NAIVE_PAGE_SIZE = 100;

/** Bounds every pagination loop: more pages than this is a broken endpoint, not a big account. */
const MAX_PAGES = 10_000;

export interface NaiveScanResult {
  readonly users: number;
  /** Access keys found (active and inactive); each got a GetAccessKeyLastUsed. */
  readonly keys: number;
  /** Logical calls by action (one a page). */
  readonly calls: Record<string, number>;
}

/**
 * The calls the naive scan makes, exactly: ListUsers pages + one ListAccessKeys a user (a user has
 * at most 2 keys, one page) + one GetAccessKeyLastUsed a key.
 */
export function naiveCallCount(users: number, keys: number): number {
  return Math.max(1, Math.ceil(users / NAIVE_PAGE_SIZE)) + users + keys;
}

/** Pages through `fetch` until IsTruncated is false; throws past {@link MAX_PAGES} or on a missing Marker. */
async function paginate<P extends { IsTruncated?: boolean; Marker?: string }>(
  what: string,
  fetch: (marker: string | undefined) => Promise<P>,
  onPage: (page: P) => void,
): Promise<void> {
  let marker: string | undefined;
  for (let n = 1; n <= MAX_PAGES; n++) {
    const page = await fetch(marker);
    onPage(page);
    if (page.IsTruncated !== true) return;
    if (!page.Marker) throw new BenchError(`naive scan: ${what} page ${n} is truncated but has no Marker`);
    marker = page.Marker;
  }
  throw new BenchError(`naive scan: ${what} did not end within ${MAX_PAGES} pages`);
}

/** Runs the per-user scan with `client` (sequentially, as the sample does) and counts its calls. */
export async function naiveScan(client: IAMClient): Promise<NaiveScanResult> {
  const calls: Record<string, number> = {};
  const count = (action: string) => {
    calls[action] = (calls[action] ?? 0) + 1;
  };
  const users: string[] = [];
  await paginate(
    'ListUsers',
    (marker) => {
      count('ListUsers');
      return client.send(
        new ListUsersCommand({ MaxItems: NAIVE_PAGE_SIZE, ...(marker ? { Marker: marker } : {}) }),
      );
    },
    (page) => {
      for (const u of page.Users ?? []) if (u.UserName) users.push(u.UserName);
    },
  );

  let keys = 0;
  for (const user of users) {
    const ids: string[] = [];
    await paginate(
      `ListAccessKeys for user "${user}"`,
      (marker) => {
        count('ListAccessKeys');
        return client.send(
          new ListAccessKeysCommand({ UserName: user, ...(marker ? { Marker: marker } : {}) }),
        );
      },
      (page) => {
        for (const k of page.AccessKeyMetadata ?? []) if (k.AccessKeyId) ids.push(k.AccessKeyId);
      },
    );
    for (const id of ids) {
      count('GetAccessKeyLastUsed');
      await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
      keys++;
    }
  }
  return { users: users.length, keys, calls };
}
