/**
 * Alerts at scale (issue 12, "Benchmark"): what one channel gets from the organization of the scans
 * part (200 accounts × 200 users) on its first run, in steady state and on the reminder run one
 * interval later, under the default notification policy (baseline, roll-up, cap 10) and, for
 * comparison, announce-everything. Each run is monitor() in a fresh process (bench/scan-worker.ts)
 * delivering through the real SlackNotifier and SlackSender to the Slack receiver with Slack's rate
 * limit, both on one virtual clock, so the pacing is real and costs no waiting.
 */
import { cpSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseCredentialReport } from '../lambda/core/credential-report';
import { ANNOUNCED_ONCE, pages } from '../lambda/core/diff';
import { evaluate } from '../lambda/core/evaluate';
import {
  ANNOUNCE_EVERYTHING,
  DEFAULT_NOTIFICATION_POLICY,
  MESSAGE_CAP_BOUNDS,
  type NotificationPolicy,
} from '../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../lambda/core/policy';
import { severityRank } from '../lambda/core/types';
import { type FakeAccount, renderCredentialReport } from '../test/support/account-generator';
import type { Organization } from '../test/support/organization-endpoints';
import { BenchError } from './errors';
import { num } from './markdown';
import type { MonitorTarget, WorkerInput, WorkerOutput } from './scan-worker';
import {
  ALERTS,
  MEMBER_ROLE,
  NOW,
  ORG_CONCURRENCY,
  ORG_USERS,
  REMINDER_INTERVAL_MS,
  STEADY_AFTER_MS,
} from './settings';

export interface Member {
  readonly account: FakeAccount;
  readonly name: string;
}

/** What the runner (bench/run.ts) lends this part, so the organization is the scans part's own. */
export interface AlertsHarness {
  /** `count` member accounts of {@link ORG_USERS} users, each from its own seed. */
  members(count: number): Member[];
  /** The organization, its reports COMPLETE; `throttled` false: no latency, no throttle. */
  startOrg(accounts: Member[], throttled: boolean): Promise<Organization>;
  /** One monitor() in a fresh process. */
  runWorker(input: Omit<Extract<WorkerInput, { mode: 'monitor' }>, 'out'>): Promise<WorkerOutput>;
}

export type PolicyName = 'default' | 'announce-everything';

/** One scheduled run of the organization. */
export interface AlertsRun {
  /** The scans' clock (ISO). */
  readonly now: string;
  readonly policy: NotificationPolicy;
  readonly worker: WorkerOutput;
  /** HTTP requests by action summed over the members' IAM endpoints. */
  readonly iamRequests: Record<string, number>;
}

export interface PolicyFigures {
  readonly name: PolicyName;
  readonly first: AlertsRun;
  readonly steady: AlertsRun;
  /** One reminder interval after the first, with the policy's own cap. */
  readonly reminder: AlertsRun;
  /** The default policy only: the same reminder run, from a copy of the same state, at the highest cap. */
  readonly reminderHighestCap?: AlertsRun;
}

export interface AlertsFigures {
  readonly accounts: number;
  readonly usersPerAccount: number;
  readonly keys: number;
  /** Independently of monitor(): the generated accounts evaluated at the first run's instant. */
  readonly pagingFindings: number;
  /** Of them, notices (`exemption-granted`): announced once, never reminded. */
  readonly notices: number;
  /**
   * Distinct `credwatch:owner` values of the paging findings that are reminded (notices aside): the
   * owners of the open findings, whom the reminder run's lists are for.
   */
  readonly ownersOfOpenFindings: number;
  /** Of them, the owners of findings the reminder run reminds (still open, not worse). */
  readonly ownersOfRemindedFindings: number;
  /** Users with any `credwatch:owner` tag (valid or not, with a finding or not). */
  readonly usersWithOwnerTag: number;
  readonly policies: readonly PolicyFigures[];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly loadAverage: { readonly before: number; readonly after: number };
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const POLICIES: readonly { readonly name: PolicyName; readonly policy: NotificationPolicy }[] = [
  { name: 'default', policy: DEFAULT_NOTIFICATION_POLICY },
  { name: 'announce-everything', policy: ANNOUNCE_EVERYTHING },
];

/**
 * The owners of the findings that page when the first run judges, and of those the reminder run
 * reminds (diff's rule, worked out here apart from monitor(): still paging a reminder interval later,
 * and not more severe than announced, else it is "worse"): whom the reminder's lists should be for.
 */
function ownersOf(accounts: readonly Member[]) {
  const owners = new Set<string>();
  const reminded = new Set<string>();
  let paging = 0;
  let notices = 0;
  let tagged = 0;
  let keys = 0;
  for (const { account } of accounts) {
    const users = account.users();
    tagged += users.filter((u) => u.tags['credwatch:owner'] !== undefined).length;
    keys += users.reduce((n, u) => n + u.accessKeys.length, 0);
    const { records } = parseCredentialReport(renderCredentialReport(account));
    const tags = new Map(users.map((u) => [u.name, u.tags]));
    const judge = (now: Date) =>
      evaluate({ records, thresholds: DEFAULT_THRESHOLDS, tags, now }).findings.filter(pages);
    const later = new Map(judge(new Date(NOW.getTime() + ALERTS.reminderAfterMs)).map((f) => [f.id, f]));
    for (const f of judge(NOW)) {
      paging++;
      if (ANNOUNCED_ONCE.has(f.rule)) {
        notices++;
        continue;
      }
      if (f.owner) owners.add(f.owner);
      const next = later.get(f.id);
      if (next?.owner && severityRank(next.severity) <= severityRank(f.severity)) reminded.add(next.owner);
    }
  }
  return { owners: owners.size, reminded: reminded.size, paging, notices, tagged, keys };
}

/** @param count member accounts (the figure is {@link ALERTS}.accounts; fewer for a quick look) */
export async function measureAlerts(
  h: AlertsHarness,
  tmp: string,
  count: number = ALERTS.accounts,
): Promise<AlertsFigures> {
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg()[0]!;
  const t0 = performance.now();
  const accounts = h.members(count);
  const expected = ownersOf(accounts);
  log(
    `alerts: ${num(accounts.length)} accounts × ${num(ORG_USERS)} users, ${num(expected.paging)} paging findings, ${num(expected.owners)} owners`,
  );
  // Counts only (messages, calls): without latency or throttle they are the same, and the run is short.
  const org = await h.startOrg(accounts, false);
  const target: MonitorTarget = {
    kind: 'organization',
    iamUrl: org.iamUrl,
    stsUrl: org.stsUrl,
    memberRoleName: MEMBER_ROLE,
    accounts: accounts.map((m) => ({ id: m.account.accountId, name: m.name })),
  };
  const once = async (policy: NotificationPolicy, at: number, stateDir: string): Promise<AlertsRun> => {
    const now = new Date(at).toISOString();
    const worker = await h.runWorker({
      mode: 'monitor',
      target,
      now,
      stateDir,
      reminderIntervalMs: REMINDER_INTERVAL_MS,
      concurrency: ORG_CONCURRENCY,
      notifications: policy,
      slack: ALERTS.slack,
    });
    if (worker.failedAccounts > 0) {
      throw new BenchError(
        `alerts: ${worker.failedAccounts} of ${worker.accounts} accounts failed to scan (${worker.failures.join('; ')})`,
      );
    }
    const iamRequests: Record<string, number> = {};
    for (const m of accounts) {
      const endpoint = org.iam(m.account.accountId);
      for (const [k, v] of Object.entries(endpoint.counts())) iamRequests[k] = (iamRequests[k] ?? 0) + v;
      endpoint.resetCounts();
    }
    return { now, policy, worker, iamRequests };
  };
  try {
    const policies: PolicyFigures[] = [];
    for (const { name, policy } of POLICIES) {
      const stateDir = join(tmp, `alerts-state-${name}`);
      log(`alerts, ${name}: first run`);
      const first = await once(policy, NOW.getTime(), stateDir);
      log(`alerts, ${name}: steady state (+${STEADY_AFTER_MS / 60_000} min)`);
      const steady = await once(policy, NOW.getTime() + STEADY_AFTER_MS, stateDir);
      const reminderAt = NOW.getTime() + ALERTS.reminderAfterMs;
      let reminderHighestCap: AlertsRun | undefined;
      if (policy.maxMessagesPerRun < MESSAGE_CAP_BOUNDS.max) {
        // The same reminder run from the same state, at the highest cap the policy allows.
        const copy = `${stateDir}-highest-cap`;
        cpSync(stateDir, copy, { recursive: true });
        log(`alerts, ${name}: reminder run (+24 h), cap ${MESSAGE_CAP_BOUNDS.max}`);
        reminderHighestCap = await once(
          { ...policy, maxMessagesPerRun: MESSAGE_CAP_BOUNDS.max },
          reminderAt,
          copy,
        );
      }
      log(`alerts, ${name}: reminder run (+24 h), cap ${policy.maxMessagesPerRun}`);
      const reminder = await once(policy, reminderAt, stateDir);
      policies.push({ name, first, steady, reminder, ...(reminderHighestCap ? { reminderHighestCap } : {}) });
    }
    return {
      accounts: accounts.length,
      usersPerAccount: ORG_USERS,
      keys: expected.keys,
      pagingFindings: expected.paging,
      notices: expected.notices,
      ownersOfOpenFindings: expected.owners,
      ownersOfRemindedFindings: expected.reminded,
      usersWithOwnerTag: expected.tagged,
      policies,
      startedAt,
      durationMs: performance.now() - t0,
      loadAverage: { before: loadBefore, after: os.loadavg()[0]! },
    };
  } finally {
    await org.close();
  }
}
