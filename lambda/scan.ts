/**
 * The scan use case, shared by the Lambda handler and the CLI. Depends on ports only.
 *
 * report -> parse -> (live) reconcile users + tags -> evaluate -> confirm would-be access-key findings
 * with ListAccessKeys (key ids, rotations, deletions, deactivations since the report) -> evaluate again.
 */
import { accountIdOf, parseCredentialReport } from './core/credential-report';
import { countBySeverity, evaluate, keyCredential } from './core/evaluate';
import type { Thresholds } from './core/policy';
import type { AccessKey, CredentialRecord, Finding, ScanWarning, Severity } from './core/types';
import type { IamCallCounter, IamDirectory, LiveAccessKey, ProgressListener, ReportSource } from './ports';

export interface ScanInput {
  readonly report: ReportSource;
  /** Live IAM reads; absent when scanning a report file (no AWS at all). */
  readonly directory?: IamDirectory;
  readonly counter?: IamCallCounter;
  readonly thresholds: Thresholds;
  readonly now: Date;
  readonly onProgress?: ProgressListener;
  /** How many users' keys are confirmed at once. @default 4 */
  readonly concurrency?: number;
  /**
   * Which would-be access-key findings to confirm live (ListAccessKeys, GetAccessKeyLastUsed), given
   * the account id and the findings judged from the report. @default every one (the CLI's choice).
   * The scheduled scan confirms only what it is about to announce (lambda/monitor.ts): an open
   * finding already announced needs no IAM call.
   */
  /**
   * When each still-open finding was first seen, by id (the remembered states), given the account
   * id: exemptions are bounded from that day. @default none (every exemption counts as new today)
   */
  readonly knownSince?: (accountId: string) => Promise<ReadonlyMap<string, Date>>;
  readonly selectForConfirmation?: (
    accountId: string,
    preliminary: readonly Finding[],
  ) => Promise<(finding: Finding) => boolean>;
}

export interface ScanResult {
  readonly accountId: string;
  /** The instant findings were judged at (ISO). */
  readonly evaluatedAt: string;
  /** When IAM generated the report (ISO), or null when unknown. */
  readonly reportGeneratedAt: string | null;
  /** Users (root included) whose credentials were judged. */
  readonly usersScanned: number;
  readonly findings: Finding[];
  /** Findings by severity, exempted ones not counted. */
  readonly counts: Record<Severity, number>;
  readonly exempted: number;
  /** IAM calls by action (empty for a report file). */
  readonly iamCalls: Record<string, number>;
  /** HTTP requests sent to IAM by action, retries included. */
  readonly iamRequests: Record<string, number>;
  /** Users whose keys were read live to confirm findings (or because they are newer than the report). */
  readonly usersConfirmed: number;
  readonly warnings: ScanWarning[];
}

/** Findings of these rules depend on access keys and are confirmed live before they are reported. */
const KEY_RULES = new Set(['access-key-age', 'access-key-unused', 'multiple-active-keys']);

export async function scan(input: ScanInput): Promise<ScanResult> {
  const { thresholds, now } = input;
  const report = await input.report.getReport(input.onProgress);
  const parsed = parseCredentialReport(report.csv);
  const warnings: ScanWarning[] = [...parsed.warnings];
  let records: CredentialRecord[] = parsed.records;
  let tags: Map<string, Readonly<Record<string, string>>> | undefined;
  let usersConfirmed = 0;
  /** The report's evaluation, reused when no user's keys were read live (the usual scheduled scan). */
  let unchanged: ReturnType<typeof evaluate> | undefined;
  const knownSince = input.knownSince ? await input.knownSince(accountOf(records)) : undefined;

  if (input.directory) {
    const directory = input.directory;
    input.onProgress?.('reading IAM users and tags');
    const live = await directory.listUsers();
    const liveByName = new Map(live.map((u) => [u.name, u]));
    tags = new Map(live.map((u) => [u.name, u.tags]));
    const inReport = new Set(records.map((r) => r.user));
    const deleted = records.filter((r) => !r.isRoot && !liveByName.has(r.user));
    for (const r of deleted) {
      warnings.push({
        code: 'user-deleted-since-report',
        user: r.user,
        message: `user "${r.user}" is in the credential report but no longer exists; not judged`,
      });
    }
    records = records.filter((r) => r.isRoot || liveByName.has(r.user));
    const newUsers = live.filter((u) => !inReport.has(u.name));
    for (const u of newUsers) {
      warnings.push({
        code: 'user-newer-than-report',
        user: u.name,
        message: `user "${u.name}" was created after the credential report: its access keys were read live; its console password and MFA are judged once a report includes it`,
      });
      records.push({
        user: u.name,
        arn: u.arn,
        isRoot: false,
        createdAt: u.createdAt,
        password: { enabled: false, lastUsed: null, lastChanged: null },
        mfaActive: false,
        accessKeys: [],
        line: 0,
      });
    }

    const first = evaluate({ records, thresholds, tags, now, ...(knownSince ? { knownSince } : {}) });
    const wanted = input.selectForConfirmation
      ? await input.selectForConfirmation(accountOf(records), first.findings)
      : () => true;
    const toConfirm = new Set(newUsers.map((u) => u.name));
    const unusedKeys = new Set<string>();
    for (const f of first.findings) {
      if (!KEY_RULES.has(f.rule) || !wanted(f)) continue;
      toConfirm.add(f.user);
      if (f.rule === 'access-key-unused') unusedKeys.add(`${f.user}/${f.credential}`);
    }
    // Root keys cannot be listed from a role: ListAccessKeys without UserName lists the caller's keys.
    for (const r of records) if (r.isRoot) toConfirm.delete(r.user);

    if (toConfirm.size > 0) input.onProgress?.(`confirming the access keys of ${toConfirm.size} users`);
    const byUser = new Map(records.map((r) => [r.user, r]));
    const confirmed = await mapLimit([...toConfirm], input.concurrency ?? 4, async (user) => {
      const record = byUser.get(user)!;
      const liveKeys = await directory.listAccessKeys(user);
      if (liveKeys === null) return { user, record: null };
      const keys: AccessKey[] = [];
      const matched = new Set<AccessKey>();
      for (const k of liveKeys) {
        // Each report slot matches one live key: two keys created in the same second are two keys.
        const fromReport = matchReportKey(
          record.accessKeys.filter((r) => !matched.has(r)),
          k,
        );
        if (fromReport) matched.add(fromReport);
        let lastUsed = fromReport?.lastUsed ?? null;
        // The report's last use can be 4 hours old: re-read it before calling a key unused.
        if (fromReport && unusedKeys.has(`${user}/${keyCredential(fromReport, record.accessKeys)}`)) {
          lastUsed = await directory.getAccessKeyLastUsed(k.id);
        }
        keys.push({
          ...(fromReport?.slot ? { slot: fromReport.slot } : {}),
          id: k.id,
          active: k.active,
          createdAt: k.createdAt,
          lastUsed,
        });
      }
      return { user, record: { ...record, accessKeys: keys } };
    });
    usersConfirmed = confirmed.length;
    for (const c of confirmed) {
      if (c.record) byUser.set(c.user, c.record);
      else {
        byUser.delete(c.user);
        warnings.push({
          code: 'user-deleted-since-report',
          user: c.user,
          message: `user "${c.user}" was deleted during the scan; not judged`,
        });
      }
    }
    records = [...byUser.values()];
    if (confirmed.length === 0) unchanged = first;
  }

  const { findings, warnings: evalWarnings } =
    unchanged ?? evaluate({ records, thresholds, tags, now, ...(knownSince ? { knownSince } : {}) });
  warnings.push(...evalWarnings);
  return {
    accountId: accountOf(records),
    evaluatedAt: now.toISOString(),
    reportGeneratedAt: report.generatedAt?.toISOString() ?? null,
    usersScanned: records.length,
    findings,
    counts: countBySeverity(findings),
    exempted: findings.filter((f) => f.exemption).length,
    iamCalls: input.counter?.calls() ?? {},
    iamRequests: input.counter?.requests() ?? {},
    usersConfirmed,
    warnings,
  };
}

const accountOf = (records: readonly CredentialRecord[]) =>
  records[0] ? accountIdOf(records[0].arn) : 'unknown';

/**
 * The report slot holding a live key: the report's `last_rotated` is the key's creation time. Report
 * timestamps have whole seconds, so a key matches when both fall in the same second.
 */
function matchReportKey(reportKeys: readonly AccessKey[], live: LiveAccessKey): AccessKey | undefined {
  const second = Math.floor(live.createdAt.getTime() / 1000);
  return reportKeys.find((k) => k.createdAt !== null && Math.floor(k.createdAt.getTime() / 1000) === second);
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. Rejects on the first failure. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
