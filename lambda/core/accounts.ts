/**
 * Which accounts a multi-account deployment scans (pure): the discovered or listed accounts, less
 * suspended ones and the exclude list, limited to the include list when one is given.
 */
import { accountScanFailed } from './rules/account-scan-failed';
import type { Finding } from './types';

export interface AccountInfo {
  readonly id: string;
  /** Organizations account name, when known. */
  readonly name?: string;
  /** Organizations status: `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, … */
  readonly status?: string;
  /**
   * The OUs above the account, from its parent up to and including the root
   * (`['ou-b', 'ou-a', 'r-ab12']`), as routing's AccountPlacement takes them; absent when not read
   * (no route matches by OU).
   */
  readonly organizationalUnits?: readonly string[];
  /** The account's Organizations tags, key to value; absent when not read (no route matches by account tag). */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface AccountFilter {
  /** When non-empty, only these account ids. */
  readonly include?: readonly string[];
  /** Never these account ids. */
  readonly exclude?: readonly string[];
}

export interface AccountSelection {
  readonly selected: AccountInfo[];
  /** Accounts not scanned, each with why (never silently dropped). */
  readonly skipped: { readonly id: string; readonly reason: string }[];
}

export function selectAccounts(
  accounts: readonly AccountInfo[],
  filter: AccountFilter = {},
): AccountSelection {
  const include = new Set(filter.include ?? []);
  const exclude = new Set(filter.exclude ?? []);
  const selected: AccountInfo[] = [];
  const skipped: AccountSelection['skipped'] = [];
  const seen = new Set<string>();
  for (const a of [...accounts].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    if (a.status !== undefined && a.status !== 'ACTIVE')
      skipped.push({ id: a.id, reason: `status ${a.status}` });
    else if (exclude.has(a.id)) skipped.push({ id: a.id, reason: 'excluded' });
    else if (include.size > 0 && !include.has(a.id)) skipped.push({ id: a.id, reason: 'not included' });
    else selected.push(a);
  }
  return { selected, skipped };
}

/** The user name and credential of the pseudo-finding that says an account could not be scanned. */
export const ACCOUNT_USER = '<account>';

/**
 * An account that could not be scanned, as a finding: announced once, reminded, and resolved when the
 * account is scanned again, like any other. Its id is stable per account. The rule is in the
 * registry (lambda/core/rules/account-scan-failed.ts); no credential record shows it, so it is made here.
 */
export function accountScanFailure(accountId: string, reason: string, name?: string): Finding {
  const who = name ? `${name} (${accountId})` : accountId;
  return {
    id: `${accountId}/${ACCOUNT_USER}/${accountScanFailed.id}/scan`,
    accountId,
    user: ACCOUNT_USER,
    arn: `arn:aws:iam::${accountId}:root`,
    rule: accountScanFailed.id,
    severity: 'critical',
    credential: 'scan',
    summary: `credwatch could not scan account ${who}: ${reason}. Its findings are not up to date until it can.`,
  };
}
