/**
 * scanAccounts() over two accounts whose reminders fall due at different times (one baselined a
 * day ago, one an hour ago): with roll-up reminders, the channel gets one roll-up an interval for
 * both, not one per account's phase; per-finding reminders keep each finding's own schedule.
 */
import { nextStates } from '../../../lambda/core/diff';
import {
  ANNOUNCE_EVERYTHING,
  DEFAULT_NOTIFICATION_POLICY,
  type NotificationPolicy,
} from '../../../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import type { FindingState } from '../../../lambda/core/state';
import { scanAccounts } from '../../../lambda/monitor';
import type { LoadedStates, StateStore } from '../../../lambda/ports';
import { scan } from '../../../lambda/scan';
import { oldDeployKeyReport } from '../../support/report-builder';

const A = '111111111111';
const B = '222222222222';
const NOW = new Date('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;

const csvOf = oldDeployKeyReport;

const job = (accountId: string) => ({
  accountId,
  scan: {
    report: { getReport: async () => ({ csv: csvOf(accountId), generatedAt: NOW }) },
    thresholds: DEFAULT_THRESHOLDS,
    now: NOW,
  },
});

/** The states each account's first run left, `hoursAgo` before NOW. */
async function statesAnnounced(accountId: string, hoursAgo: number): Promise<FindingState[]> {
  const then = new Date(NOW.getTime() - hoursAgo * HOUR);
  const result = await scan({ ...job(accountId).scan, now: then });
  const changes = result.findings
    .filter((f) => f.severity !== 'info')
    .map((finding) => ({ kind: 'opened' as const, finding }));
  return nextStates(changes, then, 'baseline');
}

async function run(policy: NotificationPolicy) {
  const byAccount = new Map([
    [A, await statesAnnounced(A, 25)],
    [B, await statesAnnounced(B, 1)],
  ]);
  const state: StateStore = {
    load: async (accountId): Promise<LoadedStates> => ({
      states: byAccount.get(accountId) ?? [],
      unreadable: [],
      known: true,
    }),
    commit: async () => ({ written: 0, skippedAsStale: [] }),
    markKnown: async () => {},
  };
  return scanAccounts({
    accounts: [job(A), job(B)],
    now: NOW,
    state,
    notifier: async () => {
      throw new Error('scanAccounts sends nothing');
    },
    reminderIntervalMs: 24 * HOUR,
    notifications: policy,
  });
}

describe('roll-up reminders across accounts', () => {
  it('reminds the account not yet due with the one that is: one roll-up for the channel', async () => {
    const deltas = await run(DEFAULT_NOTIFICATION_POLICY);
    const kinds = (id: string) => deltas.find((d) => d.accountId === id)!.changes.map((c) => c.kind);
    expect(kinds(A).length).toBeGreaterThan(0);
    expect(kinds(A).every((k) => k === 'reminder')).toBe(true);
    expect(kinds(B)).toEqual(kinds(A));
  });

  it('per-finding reminders keep each finding on its own schedule', async () => {
    const deltas = await run(ANNOUNCE_EVERYTHING);
    expect(deltas.find((d) => d.accountId === A)!.changes.every((c) => c.kind === 'reminder')).toBe(true);
    expect(deltas.find((d) => d.accountId === B)!.changes).toEqual([]);
  });
});
