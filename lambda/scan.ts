/**
 * The scan use case, shared by the Lambda handler and the CLI. Depends on ports only.
 *
 * report -> parse -> (live) reconcile users + tags -> evaluate -> confirm would-be access-key findings
 * with ListAccessKeys (key ids, rotations, deletions, deactivations since the report) -> evaluate again.
 */
import { accountIdOf, parseCredentialReport } from './core/credential-report';
import {
  actionReason,
  type EnforcementAction,
  type EnforcementPlan,
  type EnforcementPolicy,
  enforcementFindings,
  isEnforcementRule,
  planEnforcement,
} from './core/enforcement';
import { IamReadError, IamWriteError } from './core/errors';
import { compareFindings, countBySeverity, evaluate, keyCredential } from './core/evaluate';
import type { Thresholds } from './core/policy';
import { readsKeysLive } from './core/rules';
import type { FindingState } from './core/state';
import type { AccessKey, CredentialRecord, Finding, ScanWarning, Severity, UserTags } from './core/types';
import { mapLimit } from './map-limit';
import type {
  IamCallCounter,
  IamDirectory,
  KeyDeactivator,
  LiveAccessKey,
  ProgressListener,
  ReportSource,
} from './ports';

/** Enforcement for one account's scan (lambda/core/enforcement.ts, docs/enforcement.md). */
export interface ScanEnforcement {
  readonly policy: EnforcementPolicy;
  /** Names the run in each recorded action. */
  readonly runId: string;
  /** The scanner's principal (role ARN), recorded as the actor. */
  readonly actor?: string;
  /** The scanner's own access key ids: never touched. */
  readonly ownKeyIds?: ReadonlySet<string>;
  /** What the account remembers: its enforcement findings' states (by id) and recorded actions. */
  readonly memory?: (accountId: string) => Promise<{
    readonly states: ReadonlyMap<string, FindingState>;
    readonly actions: readonly EnforcementAction[];
  }>;
  /** Sets keys Inactive; in `enforce` mode, without it (or without `record`) nothing is acted on. */
  readonly deactivator?: KeyDeactivator;
  /** Records an action at once, before anything else happens (the audit trail). */
  readonly record?: (action: EnforcementAction) => Promise<void>;
}

export interface ScanInput {
  readonly report: ReportSource;
  /** Live IAM reads; absent when scanning a report file (no AWS at all). */
  readonly directory?: IamDirectory;
  readonly counter?: IamCallCounter;
  readonly thresholds: Thresholds;
  readonly now: Date;
  readonly onProgress?: ProgressListener;
  /** Called after each user whose keys were confirmed live (or skipped), with how many are done of how many. */
  readonly onConfirmProgress?: (done: number, total: number) => void;
  /**
   * The report's file name when it comes from a file (the CLI): messages name it, and a report
   * without users or without the root row is a warning (the file looks filtered or truncated).
   */
  readonly reportFile?: string;
  /**
   * IAM user tags by user name when there is no directory (the CLI's `--tags FILE`), applied as live
   * tags are. Ignored when `directory` is given: its tags are read live.
   */
  readonly tags?: UserTags;
  /** How many users' keys are confirmed at once. @default 4 */
  readonly concurrency?: number;
  /**
   * Epoch ms after which no further user is confirmed live: the run's budget for the scan phase.
   * Findings of users not confirmed in time are reported from the credential report, marked
   * `unconfirmed`, with a warning. @default no deadline
   */
  readonly confirmDeadline?: number;
  /** Epoch ms now, for the deadline. @default Date.now */
  readonly clock?: () => number;
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
  /**
   * IAM user tag keys to hand back per user (`ScanResult.userTags`): what the routes match by
   * (lambda/core/routing.ts). @default none
   */
  readonly keepUserTags?: readonly string[];
  readonly selectForConfirmation?: (
    accountId: string,
    preliminary: readonly Finding[],
  ) => Promise<(finding: Finding) => boolean>;
  /** Opt-in enforcement; absent or mode `off`: none (no plan, no finding, no write). */
  readonly enforcement?: ScanEnforcement;
}

export interface ScanResult {
  readonly accountId: string;
  /** The instant findings were judged at (ISO). */
  readonly evaluatedAt: string;
  /** When IAM generated the report (ISO), or null when unknown. */
  readonly reportGeneratedAt: string | null;
  /** Users (root included) whose credentials were judged. */
  readonly usersScanned: number;
  /** Every finding; in a slimmed delta ({@link slimScan}) only the unconfirmed ones. */
  readonly findings: Finding[];
  /** How many findings there were, when `findings` was slimmed ({@link slimScan}); absent: `findings.length`. */
  readonly findingsTotal?: number;
  /** Findings by severity, exempted ones not counted. */
  readonly counts: Record<Severity, number>;
  readonly exempted: number;
  /** IAM calls by action (empty for a report file). */
  readonly iamCalls: Record<string, number>;
  /** HTTP requests sent to IAM by action, retries included. */
  readonly iamRequests: Record<string, number>;
  /** Users whose keys were read live to confirm findings (or because they are newer than the report). */
  readonly usersConfirmed: number;
  /** Users whose keys were to be confirmed but were not (out of time, or their keys could not be read). */
  readonly usersUnconfirmed: number;
  readonly warnings: ScanWarning[];
  /**
   * The tags of `keepUserTags` by user name, for the users that have any of them; absent when none
   * were asked for.
   */
  readonly userTags?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * The enforcement plan of the account as it stands after this scan (keys acted on are in
   * `deactivated`), and what was done; absent when enforcement is off.
   */
  readonly enforcement?: EnforcementOutcome;
}

export interface EnforcementOutcome {
  /** The plan (JSON-serializable: without the users the scan was asked to read live). */
  readonly plan: Omit<EnforcementPlan, 'confirm'>;
  /** Actions this scan took and recorded. */
  readonly actions: readonly EnforcementAction[];
  /** Keys that were due but could not be deactivated (the error of each); retried next run. */
  readonly failed: readonly { readonly user: string; readonly accessKeyId: string; readonly error: string }[];
}

/** The `keep` tags of each user that has any, by user name. */
function keptTags(
  tags: UserTags | undefined,
  keep: readonly string[],
): Record<string, Record<string, string>> {
  const kept: Record<string, Record<string, string>> = {};
  for (const [user, all] of tags ?? []) {
    const some = Object.fromEntries(keep.flatMap((k) => (all[k] !== undefined ? [[k, all[k]]] : [])));
    if (Object.keys(some).length > 0) kept[user] = some;
  }
  return kept;
}

export async function scan(input: ScanInput): Promise<ScanResult> {
  const { thresholds, now } = input;
  const report = await input.report.getReport(input.onProgress);
  const parsed = parseCredentialReport(
    report.csv,
    input.reportFile !== undefined ? { source: input.reportFile, checkWhole: true } : {},
  );
  const warnings: ScanWarning[] = [...parsed.warnings];
  let records: CredentialRecord[] = parsed.records;
  let tags: UserTags | undefined = input.directory ? undefined : input.tags;
  let usersConfirmed = 0;
  /** Users judged from the report alone although their keys were to be read live. */
  const unconfirmed = new Set<string>();
  /** The report's evaluation, reused when no user's keys were read live (the usual scheduled scan). */
  let unchanged: ReturnType<typeof evaluate> | undefined;
  const knownSince = input.knownSince ? await input.knownSince(accountOf(records)) : undefined;
  /** Facts no report holds, read live (root-virtual-mfa); absent from a report file. */
  let rootMfaIsVirtual: boolean | undefined;
  /** Judges the records as they stand (the report's, then with the keys read live). */
  const judge = () =>
    evaluate({
      records,
      thresholds,
      tags,
      now,
      ...(knownSince ? { knownSince } : {}),
      ...(rootMfaIsVirtual !== undefined ? { rootMfaIsVirtual } : {}),
    });

  const enforcing =
    input.enforcement && input.enforcement.policy.mode !== 'off' ? input.enforcement : undefined;
  const memory = enforcing?.memory
    ? await enforcing.memory(accountOf(records))
    : { states: new Map<string, FindingState>(), actions: [] as EnforcementAction[] };
  const planOf = (
    e: ScanEnforcement,
    confirmedUsers: ReadonlySet<string> | undefined,
    actions: readonly EnforcementAction[],
  ) =>
    planEnforcement({
      accountId: accountOf(records),
      records,
      ...(tags ? { tags } : {}),
      thresholds,
      policy: e.policy,
      now,
      states: memory.states,
      actions,
      ...(e.ownKeyIds ? { ownKeyIds: e.ownKeyIds } : {}),
      ...(knownSince ? { knownSince } : {}),
      ...(confirmedUsers ? { confirmedUsers } : {}),
    });
  /** Users whose keys were read live in this scan (enforcement acts only on those). */
  let confirmedUsers: ReadonlySet<string> | undefined;

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

    // Virtual or hardware root MFA (root-virtual-mfa): read only when it matters, when the root user
    // has a console password (the report states it since 2025) and an MFA device, and the rule is on.
    const root = records.find((r) => r.isRoot);
    if (
      directory.rootMfaIsVirtual &&
      thresholds.rootVirtualMfa !== 'off' &&
      root?.mfaActive &&
      root.password.enabled
    ) {
      try {
        rootMfaIsVirtual = await directory.rootMfaIsVirtual();
      } catch (err) {
        // A member role deployed before this rule lacks iam:ListVirtualMFADevices: a warning, not a failed account.
        if (!(err instanceof IamReadError && /\bAccessDenied\b/.test(err.message))) throw err;
        warnings.push({
          code: 'root-mfa-unreadable',
          user: root.user,
          message: `the root user's MFA device type could not be read (${err.message}); root-virtual-mfa not judged`,
        });
      }
    }
    const first = judge();
    const wanted = input.selectForConfirmation
      ? await input.selectForConfirmation(accountOf(records), first.findings)
      : () => true;
    const toConfirm = new Set(newUsers.map((u) => u.name));
    const unusedKeys = new Set<string>();
    for (const f of first.findings) {
      if (!readsKeysLive(f.rule) || !wanted(f)) continue;
      toConfirm.add(f.user);
      if (f.rule === 'access-key-unused') unusedKeys.add(`${f.user}/${f.credential}`);
    }
    // Enforcement reads live what it may act on: due keys (state and last use), new notices, keys it
    // deactivated that the report shows Active.
    if (enforcing) {
      const pre = planOf(enforcing, undefined, memory.actions);
      for (const user of pre.confirm) toConfirm.add(user);
      for (const k of pre.keys) if (k.stage === 'held') unusedKeys.add(`${k.user}/${k.credential}`);
    }
    // Root keys cannot be listed from a role: ListAccessKeys without UserName lists the caller's keys.
    for (const r of records) if (r.isRoot) toConfirm.delete(r.user);

    if (toConfirm.size > 0) input.onProgress?.(`confirming the access keys of ${toConfirm.size} users`);
    const byUser = new Map(records.map((r) => [r.user, r]));
    const clock = input.clock ?? Date.now;
    let done = 0;
    const total = toConfirm.size;
    const outcomes = await mapLimit([...toConfirm], input.concurrency ?? 4, async (user) => {
      try {
        return await confirmUser(user);
      } finally {
        input.onConfirmProgress?.(++done, total);
      }
    });
    async function confirmUser(user: string) {
      const record = byUser.get(user)!;
      if (input.confirmDeadline !== undefined && clock() >= input.confirmDeadline) {
        return { user, skipped: 'out-of-time' as const };
      }
      let liveKeys: LiveAccessKey[] | null;
      try {
        liveKeys = await directory.listAccessKeys(user);
      } catch (err) {
        // One user whose keys cannot be read is a warning on that user, not a failed account.
        if (err instanceof IamReadError && /\bAccessDenied\b/.test(err.message)) {
          return { user, skipped: 'denied' as const, reason: err.message };
        }
        throw err;
      }
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
        // A key matched across a rounded-up second keeps the report's second: its finding id is the
        // one a scan from the report alone gives it.
        const roundedUp =
          fromReport?.createdAt &&
          Math.floor(fromReport.createdAt.getTime() / 1000) !== Math.floor(k.createdAt.getTime() / 1000);
        keys.push({
          ...(fromReport?.slot ? { slot: fromReport.slot } : {}),
          id: k.id,
          active: k.active,
          createdAt: roundedUp ? fromReport.createdAt! : k.createdAt,
          lastUsed,
        });
      }
      return { user, record: { ...record, accessKeys: keys } };
    }
    const confirmed: { user: string; record: CredentialRecord | null }[] = [];
    for (const o of outcomes) {
      if (!('skipped' in o)) {
        confirmed.push(o);
        continue;
      }
      unconfirmed.add(o.user);
      warnings.push(
        o.skipped === 'denied'
          ? {
              code: 'user-keys-unreadable',
              user: o.user,
              message: `user "${o.user}": its access keys could not be read (${o.reason}); judged from the credential report, not confirmed live`,
            }
          : {
              code: 'user-not-confirmed',
              user: o.user,
              message: `user "${o.user}": not confirmed live within this run's time; judged from the credential report`,
            },
      );
    }
    usersConfirmed = confirmed.length;
    confirmedUsers = new Set(confirmed.filter((c) => c.record).map((c) => c.user));
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
    if (unconfirmed.size > 0)
      input.onProgress?.(`${unconfirmed.size} users not confirmed live (see warnings)`);
  }

  let enforcement: EnforcementOutcome | undefined;
  if (enforcing) {
    enforcement = await enforce(enforcing, accountOf(records), confirmedUsers);
    if (enforcement.actions.some((a) => a.kind === 'deactivated')) unchanged = undefined;
  }

  const { findings: judged, warnings: evalWarnings } = unchanged ?? judge();
  warnings.push(...evalWarnings);
  const marked =
    unconfirmed.size === 0
      ? judged
      : judged.map((f) =>
          unconfirmed.has(f.user) && readsKeysLive(f.rule) ? { ...f, unconfirmed: true } : f,
        );
  const findings = enforcement
    ? [...marked, ...enforcementFindings(accountOf(records), enforcement.plan)].sort(compareFindings)
    : marked;
  // The counts are of credentials: an enforcement notice is about a key already counted.
  const credentialFindings = enforcement ? findings.filter((f) => !isEnforcementRule(f.rule)) : findings;
  return {
    accountId: accountOf(records),
    evaluatedAt: now.toISOString(),
    reportGeneratedAt: report.generatedAt?.toISOString() ?? null,
    usersScanned: records.length,
    findings,
    counts: countBySeverity(credentialFindings),
    exempted: credentialFindings.filter((f) => f.exemption).length,
    iamCalls: input.counter?.calls() ?? {},
    iamRequests: input.counter?.requests() ?? {},
    usersConfirmed,
    usersUnconfirmed: unconfirmed.size,
    warnings,
    ...(input.keepUserTags && input.keepUserTags.length > 0
      ? { userTags: keptTags(tags, input.keepUserTags) }
      : {}),
    ...(enforcement ? { enforcement } : {}),
  };

  /**
   * Records what a person undid, then deactivates the due keys one by one (enforce, with a
   * deactivator and a store to record in): each action is recorded at once, and the records are
   * patched so the findings judge the key as it now is. A key that could not be deactivated is a
   * warning and stays due (the next run retries); once a record cannot be written, no further key
   * is touched in this run (an action must never go unrecorded twice).
   */
  async function enforce(
    e: ScanEnforcement,
    accountId: string,
    live: ReadonlySet<string> | undefined,
  ): Promise<EnforcementOutcome> {
    const actions: EnforcementAction[] = [...memory.actions];
    const taken: EnforcementAction[] = [];
    const failed: { user: string; accessKeyId: string; error: string }[] = [];
    let plan = planOf(e, live, actions);
    // Only enforce writes: a dry run records nothing, not even a re-activation it sees.
    const enforcing = e.policy.mode === 'enforce';
    let recording = enforcing && e.record !== undefined;
    // A deactivation is part of this run's plan whether or not its record could be written (the
    // key is inactive: it is announced); a re-activation seen counts only once recorded, so an
    // unrecorded one (a dry run, a failing store) is seen again next run, under the same ids.
    const record = async (action: EnforcementAction): Promise<boolean> => {
      const keep = () => {
        actions.push(action);
        taken.push(action);
      };
      if (action.kind === 'deactivated') keep();
      if (!recording) return false;
      try {
        await e.record!(action);
        if (action.kind !== 'deactivated') keep();
        return true;
      } catch (err) {
        recording = false;
        warnings.push({
          code: 'enforcement-unrecorded',
          user: action.user,
          message: `user "${action.user}": access key ${action.accessKeyId}: the ${action.kind} action could not be recorded (${err instanceof Error ? err.message : String(err)}); no further key is deactivated in this run`,
        });
        return false;
      }
    };
    for (const r of plan.reactivated) {
      warnings.push({
        code: 'key-reactivated',
        user: r.user,
        message: enforcing
          ? `user "${r.user}": access key ${r.accessKeyId}, deactivated by credwatch, is Active again: left alone until a new final notice and its lead time`
          : `user "${r.user}": access key ${r.accessKeyId}, deactivated by credwatch, is Active again (a dry run: not recorded)`,
      });
      await record({
        kind: 'reactivation-seen',
        accountId,
        user: r.user,
        accessKeyId: r.accessKeyId,
        credential: r.credential,
        at: now.toISOString(),
        reason: 'Active again after credwatch deactivated it',
        runId: e.runId,
        ...(e.actor ? { actor: e.actor } : {}),
      });
    }
    const due = plan.keys.filter((k) => k.stage === 'due');
    if (enforcing && due.length > 0 && (!e.deactivator || !e.record)) {
      warnings.push({
        code: 'enforcement-not-acting',
        message: `${due.length} access keys are due for deactivation, but this scan has no ${e.deactivator ? 'store to record actions in' : 'deactivator (IAM write access) for the account'}: nothing was deactivated`,
      });
    }
    if (enforcing && e.deactivator) {
      const clock = input.clock ?? Date.now;
      for (const [i, k] of due.entries()) {
        if (!recording) break;
        // Within the scan's budget: what is left is due again next run (nothing lost, nothing half-done).
        if (input.confirmDeadline !== undefined && clock() >= input.confirmDeadline) {
          warnings.push({
            code: 'enforcement-out-of-time',
            message: `${due.length - i} access keys due for deactivation were left for the next run: this run's time was up`,
          });
          break;
        }
        const keyId = k.accessKeyId!;
        try {
          const outcome = await e.deactivator.deactivateAccessKey(k.user, keyId);
          if (outcome === 'gone') {
            warnings.push({
              code: 'enforcement-key-gone',
              user: k.user,
              message: `user "${k.user}": access key ${keyId} was deleted before it could be deactivated`,
            });
            continue;
          }
        } catch (err) {
          const error = err instanceof IamWriteError || err instanceof Error ? err.message : String(err);
          failed.push({ user: k.user, accessKeyId: keyId, error });
          warnings.push({
            code: 'enforcement-failed',
            user: k.user,
            message: `user "${k.user}": access key ${keyId} could not be deactivated (${error}); retried next run`,
          });
          continue;
        }
        records = records.map((r) =>
          r.user !== k.user
            ? r
            : { ...r, accessKeys: r.accessKeys.map((a) => (a.id === keyId ? { ...a, active: false } : a)) },
        );
        await record({
          kind: 'deactivated',
          accountId,
          user: k.user,
          accessKeyId: keyId,
          credential: k.credential,
          at: now.toISOString(),
          reason: actionReason(k),
          runId: e.runId,
          ...(e.actor ? { actor: e.actor } : {}),
          ...(k.noticeAt ? { noticeAt: k.noticeAt } : {}),
        });
      }
    }
    if (taken.length > 0) plan = planOf(e, live, actions);
    for (const k of plan.keys) {
      if (k.stage !== 'held') continue;
      warnings.push({
        code: 'enforcement-held',
        user: k.user,
        message: `user "${k.user}": ${k.accessKeyId ? `access key ${k.accessKeyId}` : k.credential} is due for deactivation but held: ${k.heldBy}`,
      });
    }
    warnings.push(...plan.warnings);
    const { confirm: _confirm, ...serializable } = plan;
    return { plan: serializable, actions: taken, failed };
  }
}

const accountOf = (records: readonly CredentialRecord[]) =>
  records[0] ? accountIdOf(records[0].arn) : 'unknown';

/**
 * The report slot holding a live key: the report's `last_rotated` is the key's creation time. Report
 * timestamps have whole seconds, so a key matches when both fall in the same second.
 */
function matchReportKey(reportKeys: readonly AccessKey[], live: LiveAccessKey): AccessKey | undefined {
  const t = live.createdAt.getTime();
  const second = Math.floor(t / 1000);
  const same = reportKeys.find(
    (k) => k.createdAt !== null && Math.floor(k.createdAt.getTime() / 1000) === second,
  );
  if (same || t % 1000 !== 0) return same;
  // A source that keeps sub-second digits (moto keeps microseconds) cuts them in the report but the
  // SDK rounds them to the millisecond: xx.9995 s and later arrive as the next whole second.
  return reportKeys.find((k) => k.createdAt !== null && k.createdAt.getTime() === t - 1000);
}

/** Runs `fn` over `items` with at most `limit` at once (lambda/map-limit.ts). */
export { mapLimit };

/**
 * A scan as the deliver step of the state machine needs it (lambda/steps.ts): its counts, warnings
 * and enforcement, without every finding (only the unconfirmed ones, which it counts) and without
 * the users' tags (routing used them already). What a child writes to the run bucket, so that
 * deliver holds a fraction of each account's scan.
 */
export function slimScan(scan: ScanResult): ScanResult {
  const { userTags: _tags, findings, ...rest } = scan;
  return {
    ...rest,
    findings: findings.filter((f) => f.unconfirmed),
    findingsTotal: scan.findingsTotal ?? findings.length,
  };
}
