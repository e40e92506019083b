/**
 * The scheduled use case: scan every account (bounded concurrency; one account's failure never stops
 * the others), diff each against what was already said, deliver one digest, publish one event per
 * change, and remember only what was delivered (at-least-once: what fails to reach Slack is announced
 * again by the next scan; nothing is lost). Depends on ports only.
 */
import { accountScanFailure } from './core/accounts';
import { announcement, diff, nextStates, pages } from './core/diff';
import { type Migration, migrateLegacyIds } from './core/migrations';
import { buildDigestParts } from './core/slack-message';
import type { Change, FindingState } from './core/state';
import type { UnreadableState } from './core/state-codec';
import type { Finding } from './core/types';
import type { EventSink, LoadedStates, Notifier, StateStore } from './ports';
import { mapLimit, type ScanInput, type ScanResult, scan } from './scan';

export interface AccountJob {
  /**
   * The account id when known before the scan (multi-account). A failed scan of such an account is
   * announced as an `account-scan-failed` finding; without an id (the deployment's own account) a
   * failure fails the whole run.
   */
  readonly accountId?: string;
  /** Shown in Slack; for the own account the IAM alias is read instead. */
  readonly name?: string;
  readonly scan: ScanInput;
}

export interface MonitorInput {
  readonly accounts: readonly AccountJob[];
  readonly now: Date;
  /** Accounts scanned at once. @default 8 */
  readonly concurrency?: number;
  readonly state: StateStore;
  /** Created only when there is something to say, so a quiet scan never reads the webhook secret. */
  readonly notifier: () => Promise<Notifier>;
  readonly events?: EventSink;
  readonly reminderIntervalMs: number;
  /** Epoch ms after which no further Slack message is started (the Lambda's time is running out). */
  readonly deliveryDeadline?: number;
}

export interface AccountOutcome {
  readonly accountId: string;
  readonly name?: string;
  readonly scan?: ScanResult;
  /** Why the account could not be scanned. */
  readonly error?: Error;
}

export interface MonitorResult {
  readonly accounts: readonly AccountOutcome[];
  readonly changes: readonly Change[];
  /** Changes that reached Slack and were remembered. */
  readonly delivered: readonly Change[];
  readonly messages: number;
  readonly messagesDelivered: number;
  /** Why Slack delivery stopped, when it did. The changes not delivered are announced next scan. */
  readonly deliveryError?: Error;
  /**
   * Findings this run said nothing about because a newer run had already written their state: decided
   * before sending (nothing stale is announced), or, for a run that overlapped, at the write.
   */
  readonly skippedAsStale: readonly string[];
  /** Stored states that did not decode, by account: treated as absent and overwritten by the next write. */
  readonly unreadableStates: readonly (UnreadableState & { readonly accountId: string })[];
  /** States moved from an earlier release's finding id to the current one (lambda/core/migrations.ts). */
  readonly migrated: number;
}

const MAX_REASON = 300;

export async function monitor(input: MonitorInput): Promise<MonitorResult> {
  const { now } = input;
  const concurrency = input.concurrency ?? 8;
  const interval = input.reminderIntervalMs;
  // Each account's state is read once: to choose what to confirm live, then to diff.
  const loaded = new Map<string, Promise<LoadedStates>>();
  const load = (accountId: string) => {
    let states = loaded.get(accountId);
    if (!states) {
      states = input.state.load(accountId);
      loaded.set(accountId, states);
    }
    return states;
  };
  // Confirm live only what is about to be announced as new or worse. An open finding already
  // announced costs no IAM call, not even for its reminder: it keeps the key id it was announced with.
  const selectForConfirmation = async (accountId: string) => {
    const byId = new Map((await load(accountId)).states.map((s) => [s.id, s]));
    return (f: Finding) => {
      if (!pages(f)) return false;
      const kind = announcement(f, byId.get(f.id), now, interval);
      return kind === 'opened' || kind === 'escalated';
    };
  };
  // Exemptions are bounded from the day they were first announced.
  const knownSince = async (accountId: string) =>
    new Map(
      (await load(accountId)).states
        .filter((s) => s.status === 'open')
        .map((s): [string, Date] => [s.id, new Date(s.firstSeen)]),
    );
  const outcomes = await mapLimit(input.accounts, concurrency, async (job): Promise<AccountOutcome> => {
    const named = job.name ? { name: job.name } : {};
    try {
      const result = await scan({ ...job.scan, selectForConfirmation, knownSince });
      if (job.accountId !== undefined && result.accountId !== job.accountId) {
        throw new Error(`the credential report is of account ${result.accountId}, not ${job.accountId}`);
      }
      return { accountId: result.accountId, ...named, scan: result };
    } catch (err) {
      if (job.accountId === undefined) throw err;
      return {
        accountId: job.accountId,
        ...named,
        error: err instanceof Error ? err : new Error(String(err)),
      };
    }
  });

  const options = { reminderIntervalMs: interval };
  const perAccount = await mapLimit(outcomes, concurrency, async (o) => {
    const { states: stored, unreadable } = await load(o.accountId);
    // A state written by a newer run (its scan time is after this run's clock): this run is behind
    // and says nothing about that finding; decided here, before anything is sent.
    const newer = new Set(stored.filter((s) => Date.parse(s.scanTime) > now.getTime()).map((s) => s.id));
    const states = stored.filter((s) => !newer.has(s.id));
    const unread = unreadable.map((u) => ({ ...u, accountId: o.accountId }));
    if (o.scan) {
      const findings = o.scan.findings.filter((f) => !newer.has(f.id));
      const migrated = migrateLegacyIds(states, findings);
      return {
        changes: diff(findings, migrated.states, now, options),
        migrations: migrated.migrations,
        newer: [...newer],
        unread,
      };
    }
    // Only the failure itself changes; the account's other findings keep their state until it is scanned.
    const reason = (o.error?.message ?? 'unknown error').slice(0, MAX_REASON);
    const failure = accountScanFailure(o.accountId, reason, o.name);
    const changes = newer.has(failure.id)
      ? []
      : diff(
          [failure],
          states.filter((s) => s.finding.rule === 'account-scan-failed'),
          now,
          options,
        );
    return { changes, migrations: [] as Migration[], newer: [...newer], unread };
  });
  const changes = perAccount.flatMap((a) => a.changes);
  const migrations = perAccount.flatMap((a) => a.migrations);
  const newerThanThisRun = perAccount.flatMap((a) => a.newer);
  const unreadableStates = perAccount.flatMap((a) => a.unread);
  /** What to write besides the delivered changes: each migrated state under its new id, and its old id retired. */
  const migrationWrites = (delivered: readonly Change[]): FindingState[] => {
    const written = new Set(delivered.map((c) => c.finding.id));
    const at = now.toISOString();
    return migrations.flatMap((m) => [
      ...(written.has(m.to.id) ? [] : [{ ...m.to, scanTime: at }]),
      { ...m.from, status: 'resolved' as const, scanTime: at },
    ]);
  };
  const quiet = {
    accounts: outcomes,
    changes,
    delivered: [],
    messages: 0,
    messagesDelivered: 0,
    skippedAsStale: newerThanThisRun,
    unreadableStates,
    migrated: migrations.length,
  };
  if (changes.length === 0) {
    if (migrations.length > 0) {
      const committed = await input.state.commit(migrationWrites([]));
      return { ...quiet, skippedAsStale: [...newerThanThisRun, ...committed.skippedAsStale] };
    }
    return quiet;
  }

  const names: Record<string, string> = {};
  const withChanges = new Set(changes.map((c) => c.finding.accountId));
  // mapLimit keeps order: outcomes[i] is the outcome of input.accounts[i].
  await mapLimit(
    outcomes.map((o, i) => ({ o, job: input.accounts[i]! })).filter(({ o }) => withChanges.has(o.accountId)),
    concurrency,
    async ({ o, job }) => {
      const name = o.name ?? (o.scan ? await job.scan.directory?.accountAlias() : undefined);
      if (name) names[o.accountId] = name;
    },
  );
  // A digest about one account is headed by that account, whichever was scanned first.
  const headline = withChanges.size === 1 ? [...withChanges][0]! : outcomes[0]!.accountId;
  const parts = buildDigestParts(changes, {
    accountId: headline,
    ...(names[headline] ? { accountAlias: names[headline] } : {}),
    accountNames: names,
    scanTime: now,
  });
  const notifier = await input.notifier();
  const sent = await notifier.sendAll(
    parts.map((p) => p.message),
    input.deliveryDeadline !== undefined ? { deadline: input.deliveryDeadline } : {},
  );
  // Remember exactly the changes of the messages Slack took; the rest are announced by the next scan.
  const delivered = parts.slice(0, sent.delivered).flatMap((p) => p.changes);

  let eventError: unknown;
  if (input.events && delivered.length > 0) {
    try {
      await input.events.publish(delivered);
    } catch (err) {
      eventError = err;
    }
  }
  const writes = [...nextStates(delivered, now), ...migrationWrites(delivered)];
  const committed = writes.length > 0 ? await input.state.commit(writes) : undefined;
  // Slack has the news and the state says so; a failed event publish must still fail the run loudly.
  if (eventError) throw eventError;
  return {
    ...quiet,
    delivered,
    messages: parts.length,
    messagesDelivered: sent.delivered,
    ...(sent.error ? { deliveryError: sent.error } : {}),
    skippedAsStale: [...newerThanThisRun, ...(committed?.skippedAsStale ?? [])],
  };
}
