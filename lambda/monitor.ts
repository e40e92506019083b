/**
 * The scheduled use case, in two steps with serializable data between them:
 *
 * - {@link scanAccounts}: scan every account (bounded concurrency; one account's failure never stops
 *   the others) and diff each against what was already said -> one {@link AccountDelta} per account
 *   (findings, changes, name, warnings, errors as data: JSON-serializable);
 * - {@link deliver}: announce the changes through the notifier, message by message, remembering the
 *   changes of each accepted message (and queueing their events in the outbox) before the next one
 *   starts, then publish the outbox. At most one message's worth is ever repeated after a fault, and
 *   an event that could not be published is published by a later run.
 *
 * {@link monitor} runs both. Depends on ports only.
 */
import { STATE_TABLE_SCHEMA } from './contracts';
import { ACCOUNT_USER, accountScanFailure } from './core/accounts';
import { announcement, compareChanges, nextStates, pages } from './core/diff';
import { isEnforcementRule } from './core/enforcement';
import { fromOwnLane, laneChanges, laneOf, representatives, resolutionAnnounced } from './core/lanes';
import { type Migration, migrateLegacyIds } from './core/migrations';
import {
  checkPolicy,
  DEFAULT_NOTIFICATION_POLICY,
  isBaselined,
  type NotificationPolicy,
  planPosts,
} from './core/notification-plan';
import {
  type AccountPlacement,
  channelsFor,
  channelsOf,
  DEFAULT_CHANNEL,
  routingNeeds,
} from './core/routing';
import type { Change, FindingState, PostedMessage } from './core/state';
import type { UnreadableState } from './core/state-codec';
import { mergeTallies, type SummaryTally } from './core/summary';
import type { Finding } from './core/types';
import type { EventOutbox, EventSink, LoadedStates, Notifier, StateStore } from './ports';
import { mapLimit, type ScanEnforcement, type ScanInput, type ScanResult, scan } from './scan';

export interface AccountJob {
  /**
   * The account id when known before the scan (multi-account). A failed scan of such an account is
   * announced as an `account-scan-failed` finding; without an id (the deployment's own account) a
   * failure fails the whole run.
   */
  readonly accountId?: string;
  /** Shown in Slack; for the own account the IAM alias is read instead. */
  readonly name?: string;
  /** Where the account sits in the organization (OUs, tags), for routes that match by them. */
  readonly placement?: AccountPlacement;
  readonly scan: ScanInput;
}

export interface MonitorInput {
  readonly accounts: readonly AccountJob[];
  readonly now: Date;
  /** Accounts scanned at once. @default 8 */
  readonly concurrency?: number;
  readonly state: StateStore;
  /** Where events wait until EventBridge took them; without one, events are published directly. */
  readonly outbox?: EventOutbox;
  /**
   * The notifier of a channel (lambda/core/routing.ts), created only when the channel has something
   * to say, so a quiet scan never reads the webhook secret.
   */
  readonly notifier: (channel: string) => Promise<Notifier>;
  readonly events?: EventSink;
  readonly reminderIntervalMs: number;
  /** Baseline, roll-up and message cap (lambda/core/notification-plan.ts). @default DEFAULT_NOTIFICATION_POLICY */
  readonly notifications?: NotificationPolicy;
  /**
   * Epoch ms by which the run must be done (the invocation's time less a margin). The scan phase
   * keeps {@link deliveryReserveMs} of it for delivery: live confirmation stops in time, and no
   * message is started after it. @default no deadline
   */
  readonly deadline?: number;
  /** Epoch ms now, for the budget. @default Date.now */
  readonly clock?: () => number;
  /**
   * Called with each account's delta as soon as it is made (before the others are done): a state
   * machine's child writes it out at once. A rejection fails the scan.
   */
  readonly onScanned?: (delta: AccountDelta) => Promise<void>;
}

/** What one account's scan and diff produced. JSON-serializable: it can cross a process or a state machine. */
export interface AccountDelta {
  readonly accountId: string;
  /** Organizations name or IAM alias, when known. */
  readonly name?: string;
  readonly scan?: ScanResult;
  /** Why the account could not be scanned. */
  readonly error?: { readonly name: string; readonly message: string };
  /** What this run announces about the account, in diff order, each with its `channel`. */
  readonly changes: readonly Change[];
  /**
   * The account's first contact (no `#known` marker, nothing remembered about it) with the baseline
   * on: its new findings are recorded and summarized in one message, not announced one by one.
   */
  readonly baseline: boolean;
  /**
   * The changes if the run's roll-up is due ({@link alignRollUps}): every open finding reminded.
   * Absent when they are `changes` (or reminders are per finding). Removed by the alignment.
   */
  readonly rollUp?: readonly Change[];
  /** The channels in which some of the account's reminders are due by their own interval: their roll-up is due. */
  readonly dueChannels?: readonly string[];
  /**
   * When the account's findings were announced resolved, by channel, within the last two reminder
   * intervals, for a roll-up's "since the last summary".
   */
  readonly resolvedAt?: readonly { readonly channel: string; readonly at: string }[];
  /** The account already has its `known` marker (it is written once, not every run). @default false */
  readonly known?: boolean;
  /**
   * The account is known, but its marker keeps another name than the alias read this run (or none):
   * the marker is written again with `name`. @default false
   */
  readonly keepName?: boolean;
  /** States to move from an earlier release's finding id to the current one. */
  readonly migrations: readonly Migration[];
  /**
   * Lanes of channels the account's findings left (lambda/core/lanes.ts), closed silently once all
   * the finding's changes of the run were delivered. @default none
   */
  readonly retired?: readonly FindingState[];
  /** States stored under another channel's key, moved to their own before anything is sent (ports.ts `misplaced`). @default none */
  readonly misplaced?: readonly FindingState[];
  /** Finding ids this run says nothing about: a newer run already wrote their state. */
  readonly skippedAsStale: readonly string[];
  /** Stored states that did not decode: treated as absent, replaced by the next write. */
  readonly unreadable: readonly UnreadableState[];
  /**
   * Baselined changes of the account that are not in `changes` (the deliver step of a state machine
   * does not hold a first scan's: lambda/steps.ts), by channel: their channel's baseline summary
   * stands for them, and they are read again ({@link DeliverInput.reread}) to be remembered once
   * the channel accepted it. @default none
   */
  readonly held?: readonly HeldBaseline[];
  /**
   * Reminders of the account a roll-up in parts leaves out of this run (the deliver step of a state
   * machine holds at most lambda/steps.ts `ROLL_UP_PART` of them), by channel. @default none
   */
  readonly leftOut?: readonly RollUpLeftOut[];
}

/** An account's reminders in one channel that a roll-up in parts leaves out of this run. */
export interface RollUpLeftOut {
  readonly channel: string;
  /** Said less than a reminder interval ago (by an earlier part of the roll-up, or on opening) (notification-plan.ts `saidWithin`). */
  readonly said: number;
  /** Left to the next runs, which remind them: this run holds no more. */
  readonly deferred: number;
}

/** An account's baselined changes in one channel, not held: how many, and their summary's tally. */
export interface HeldBaseline {
  readonly channel: string;
  /** The changes (mirrored ones included). */
  readonly count: number;
  readonly tally: SummaryTally;
}

/** deliver's held baselines of one channel: each account's, those remembered, and how many changes they were. */
interface HeldChannel {
  readonly accounts: Map<string, HeldBaseline>;
  readonly remembered: Set<string>;
  delivered: number;
}

/** @deprecated the name before scan and deliver were split; an {@link AccountDelta}. */
export type AccountOutcome = AccountDelta;

export interface MonitorResult {
  readonly accounts: readonly AccountDelta[];
  readonly changes: readonly Change[];
  /** Changes whose message the channel accepted and whose state was written. */
  readonly delivered: readonly Change[];
  /** Of the delivered changes, those announced in a summary (baseline, roll-up, overflow). */
  readonly summarized: number;
  readonly messages: number;
  readonly messagesDelivered: number;
  /**
   * Why delivery stopped, when it did (the first channel's, when several did). The changes not
   * delivered are announced next scan.
   */
  readonly deliveryError?: Error;
  /** Each channel whose delivery stopped or could not start, and why; the other channels went on. */
  readonly channelErrors: readonly { readonly channel: string; readonly error: Error }[];
  /**
   * A channel's notifier could not be made (its webhook is not in the secret, the secret cannot be
   * read): nothing was sent to it. The run is incomplete.
   */
  readonly notifierError?: Error;
  /** A message was accepted but its state could not be written: it will be announced again (once). */
  readonly commitError?: Error;
  /** Sends whose answer was lost and were retried once: the message may have been posted twice. */
  readonly uncertain: number;
  /** Events published by this run (its own and any a previous run left in the outbox). */
  readonly eventsPublished: number;
  /**
   * Events still waiting in the outbox after this run, and why they could not be published: those
   * it read and did not publish (at least one whenever any is left: it reads a page before it stops).
   */
  readonly eventsPending: number;
  /** The run stopped before reading the whole outbox: more than `eventsPending` may wait. @default false */
  readonly eventsPendingUnread?: boolean;
  readonly eventError?: Error;
  /**
   * Findings this run said nothing about because a newer run had already written their state: decided
   * before sending (nothing stale is announced), or, for a run that overlapped, at the write.
   */
  readonly skippedAsStale: readonly string[];
  /** Stored states (and outbox entries) that did not decode, by account. */
  readonly unreadableStates: readonly (UnreadableState & { readonly accountId: string })[];
  /** States moved from an earlier release's finding id to the current one (lambda/core/migrations.ts). */
  readonly migrated: number;
  /**
   * The held baselined changes ({@link AccountDelta.held}), which `changes` and `delivered` leave
   * out, by channel: how many, and how many were remembered. @default none
   */
  readonly held?: readonly {
    readonly channel: string;
    readonly changes: number;
    readonly delivered: number;
  }[];
  /** Reminders a roll-up in parts left to the next runs ({@link AccountDelta.leftOut}). @default 0 */
  readonly deferred?: number;
}

const MAX_REASON = 300;
/** Changes a message carries are remembered (outbox, then state) this many at a time, the deadline checked between. */
export const COMMIT_CHUNK = 1000;
/** PutEvents takes at most 10 entries; the outbox is published and removed in chunks of that size. */
const EVENT_CHUNK = 10;
/** The outbox is read this many entries at a time (never whole: a first scan can leave a million). */
export const OUTBOX_PAGE = 1000;

/**
 * Time the scan phase leaves for delivery: a quarter of the run's budget, at least 10 s and at most
 * half of it (Slack takes about a second a message, a commit well under that; docs/benchmarks.md).
 */
export function deliveryReserveMs(budgetMs: number): number {
  return Math.min(Math.round(budgetMs / 2), Math.max(10_000, Math.round(budgetMs / 4)));
}

/**
 * What enforcement remembers of each notice: of a finding's lanes, one that announced it in its own
 * entry and is open, the earliest (a notice said in any channel was said).
 */
function notices(states: readonly FindingState[]): Map<string, FindingState> {
  const chosen = new Map<string, FindingState>();
  const rank = (s: FindingState) => (s.status === 'open' && s.announcedIn === undefined ? 0 : 1);
  for (const s of states) {
    if (!isEnforcementRule(s.finding.rule)) continue;
    const best = chosen.get(s.id);
    if (!best || rank(s) < rank(best) || (rank(s) === rank(best) && s.firstSeen < best.firstSeen)) {
      chosen.set(s.id, s);
    }
  }
  return chosen;
}

const asError = (err: unknown): { name: string; message: string } =>
  err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };

/**
 * Scans every account and diffs it against its remembered state, each on its own: a delta's
 * `rollUp` is what it says if the run's roll-up is due ({@link alignRollUps} decides). Nothing is
 * sent or written. A batch of a state machine runs this; the deliver step aligns.
 */
export async function scanEach(input: MonitorInput): Promise<AccountDelta[]> {
  const { now } = input;
  const clock = input.clock ?? Date.now;
  const concurrency = input.concurrency ?? 8;
  const interval = input.reminderIntervalMs;
  const policy = checkPolicy(input.notifications ?? DEFAULT_NOTIFICATION_POLICY);
  const confirmDeadline =
    input.deadline !== undefined
      ? input.deadline - deliveryReserveMs(Math.max(0, input.deadline - clock()))
      : undefined;
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
  // First contact: no earlier run scanned the account and delivered all it had to say (its `known`
  // marker), and nothing is remembered about it but a baseline (an earlier failure to scan it aside;
  // an unreadable item is not an absent one).
  const firstContact = async (accountId: string) => {
    const { states, unreadable, known } = await load(accountId);
    // A baseline committed in some channels but not all (one failed) is still first contact, so the
    // channel that failed gets its summary too when it recovers, not each finding.
    return (
      !known &&
      unreadable.length === 0 &&
      states.every((s) => s.finding.rule === 'account-scan-failed' || s.announcedIn === 'baseline')
    );
  };
  // Confirm live only what is about to be announced as new or worse. An open finding already
  // announced costs no IAM call, not even for its reminder: it keeps the key id it was announced with.
  // A baseline announces nothing one by one, so it confirms nothing either.
  const selectForConfirmation = async (accountId: string) => {
    if (policy.baseline && (await firstContact(accountId))) return () => false;
    // A finding's lanes (one state per channel, lambda/core/lanes.ts): the one least said decides.
    const byId = representatives((await load(accountId)).states);
    return (f: Finding) => {
      if (!pages(f)) return false;
      const kind = announcement(f, byId.get(f.id), now, interval);
      return kind === 'opened' || kind === 'escalated';
    };
  };
  // Exemptions are bounded from the day they were first announced.
  const knownSince = async (accountId: string) => {
    const since = new Map<string, Date>();
    for (const s of (await load(accountId)).states) {
      if (s.status !== 'open') continue;
      const at = new Date(s.firstSeen);
      const seen = since.get(s.id);
      if (!seen || at < seen) since.set(s.id, at);
    }
    return since;
  };
  // Enforcement reads what the account remembers of its notices and actions, and records each new
  // action at once in the state store (lambda/core/enforcement.ts).
  const withMemory = (e: ScanEnforcement): ScanEnforcement => ({
    ...e,
    memory: async (accountId) => {
      const { states, actions } = await load(accountId);
      return {
        states: notices(states),
        actions: actions ?? [],
      };
    },
    ...(input.state.recordAction ? { record: (a) => input.state.recordAction!(a) } : {}),
  });
  const options = { reminderIntervalMs: interval };
  const { userTagKeys } = routingNeeds(policy.routes);
  const routes = policy.routes ?? [];
  const defaultChannel = policy.defaultChannel ?? DEFAULT_CHANNEL;
  const configured = channelsOf(routes, defaultChannel, policy.mirrors);

  return mapLimit(input.accounts, concurrency, async (job): Promise<AccountDelta> => {
    let result: ScanResult | undefined;
    let error: { name: string; message: string } | undefined;
    try {
      result = await scan({
        ...job.scan,
        ...(job.scan.enforcement ? { enforcement: withMemory(job.scan.enforcement) } : {}),
        ...(userTagKeys.length > 0 ? { keepUserTags: userTagKeys } : {}),
        selectForConfirmation,
        knownSince,
        ...(confirmDeadline !== undefined ? { confirmDeadline, clock } : {}),
      });
      if (job.accountId !== undefined && result.accountId !== job.accountId) {
        throw new Error(`the credential report is of account ${result.accountId}, not ${job.accountId}`);
      }
    } catch (err) {
      if (job.accountId === undefined) throw err;
      result = undefined;
      error = asError(err);
    }
    const accountId = result?.accountId ?? job.accountId!;
    const { states: stored, unreadable, known, knownName, misplaced } = await load(accountId);
    const baseline = result !== undefined && policy.baseline && (await firstContact(accountId));
    // A state written by a newer run (its scan time is after this run's clock): this run is behind
    // and says nothing about that finding; decided here, before anything is sent.
    const newer = new Set(stored.filter((s) => Date.parse(s.scanTime) > now.getTime()).map((s) => s.id));
    const states = stored.filter((s) => !newer.has(s.id));
    let migrations: Migration[] = [];
    let findings: Finding[] = [];
    let diffedStates: FindingState[] = [];
    if (result) {
      findings = result.findings.filter((f) => !newer.has(f.id));
      const migrated = migrateLegacyIds(states, findings);
      migrations = migrated.migrations;
      diffedStates = migrated.states;
    } else {
      // Only the failure itself changes; the account's other findings keep their state until it is scanned.
      const failure = accountScanFailure(
        accountId,
        (error?.message ?? 'unknown error').slice(0, MAX_REASON),
        job.name,
      );
      if (!newer.has(failure.id)) findings = [failure];
      diffedStates = states.filter((s) => s.finding.rule === 'account-scan-failed');
    }
    // Each channel a finding goes to has its own lane of it (lambda/core/lanes.ts).
    const placement = job.placement ?? { id: accountId };
    const userTags = result?.userTags ?? {};
    const channelsOfFinding = (f: Finding) =>
      channelsFor(
        routes,
        defaultChannel,
        policy.mirrors,
        placement,
        f.user === ACCOUNT_USER ? undefined : userTags[f.user],
      );
    const lanes = (remindAll: boolean) =>
      laneChanges(
        findings,
        diffedStates,
        now,
        { ...options, ...(remindAll ? { remindAll } : {}), ...(baseline ? { firstContact: true } : {}) },
        channelsOfFinding,
        defaultChannel,
        configured,
      );
    const { changes, retired } = lanes(false);
    // The roll-up variant: every open finding reminded, for a run in which any account's are due.
    const allReminded = result && policy.reminders === 'roll-up' ? lanes(true).changes : undefined;
    const rollUp = allReminded && allReminded.length !== changes.length ? allReminded : undefined;
    // The channels whose reminders are due by their own interval (not one a finding just came to).
    const dueChannels = [
      ...new Set(
        changes.filter((c) => c.kind === 'reminder' && fromOwnLane(c, defaultChannel)).map((c) => c.channel!),
      ),
    ];
    // For a roll-up's "since the last summary": when the account's findings were resolved, lately
    // (not a lane closed because its finding went to another channel: it is still open there).
    const open = new Set(findings.filter(pages).map((f) => f.id));
    const resolvedAt = stored
      .filter(
        (s) =>
          resolutionAnnounced(s) &&
          !open.has(s.id) &&
          now.getTime() - Date.parse(s.lastNotifiedAt) <= 2 * interval,
      )
      .map((s) => ({ channel: laneOf(s, defaultChannel), at: s.lastNotifiedAt }));
    // The name shown in the digest: given (Organizations), or the IAM alias read when there is news,
    // or else the one its known marker keeps (a roll-up across accounts may pull it in without news;
    // an account scanned without a directory, from a report file, has no alias to read).
    let name = job.name;
    let aliasRead = false;
    if (!name && result && changes.length > 0 && job.scan.directory) {
      name = await job.scan.directory.accountAlias();
      aliasRead = true;
    } else if (!name && result) name = knownName;
    // The marker is written again when the name it keeps is not the one just read, or cannot be read
    // (a given name replaces an unreadable one too).
    const markerUnreadable = unreadable.some((u) => u.id === STATE_TABLE_SCHEMA.knownMarkerSortKey);
    const keepName =
      known &&
      result !== undefined &&
      ((aliasRead && name !== knownName) || (markerUnreadable && (aliasRead || job.name !== undefined)));
    const delta: AccountDelta = {
      accountId,
      ...(name ? { name } : {}),
      ...(result ? { scan: result } : {}),
      ...(error ? { error } : {}),
      changes,
      ...(rollUp ? { rollUp } : {}),
      ...(dueChannels.length > 0 ? { dueChannels } : {}),
      ...(resolvedAt.length > 0 ? { resolvedAt } : {}),
      baseline,
      ...(known ? { known } : {}),
      ...(keepName ? { keepName: true as const } : {}),
      migrations,
      ...(retired.length > 0 ? { retired } : {}),
      ...(misplaced && misplaced.length > 0 ? { misplaced } : {}),
      skippedAsStale: [...newer],
      unreadable,
    };
    await input.onScanned?.(delta);
    return delta;
  });
}

/**
 * Scans every account and diffs it against its remembered state, the roll-ups aligned across them
 * ({@link alignRollUps}). Nothing is sent or written.
 */
export async function scanAccounts(input: MonitorInput): Promise<AccountDelta[]> {
  const scanned = await scanEach(input);
  const aligned = alignRollUps(scanned);
  // An account whose only news is the roll-up has not read its alias yet.
  const before = new Map(scanned.map((d) => [d.accountId, d.changes.length]));
  return mapLimit(aligned, input.concurrency ?? 8, async (delta): Promise<AccountDelta> => {
    if (delta.name || !delta.scan || delta.changes.length === before.get(delta.accountId)) return delta;
    const job = input.accounts.find((j) => (j.accountId ?? delta.scan?.accountId) === delta.accountId);
    const name = await job?.scan.directory?.accountAlias();
    return name ? { ...delta, name } : delta;
  });
}

/**
 * Roll-up across accounts, per channel: when any account's reminders in a channel are due, every
 * open finding of that channel, in every scanned account, is reminded with them (from each delta's
 * `rollUp`), so a channel gets one roll-up an interval, not one per account's phase. A channel with
 * nothing due is left alone: one channel that cannot be delivered (its reminders stay due) never
 * makes the others roll up every run. Pure: the deliver step of a state machine runs it over the
 * deltas its children wrote.
 */
export function alignRollUps(deltas: readonly AccountDelta[]): AccountDelta[] {
  const due = new Set(deltas.flatMap((d) => d.dueChannels ?? []));
  return deltas.map(({ rollUp, dueChannels: _due, ...delta }) => {
    if (!rollUp || due.size === 0) return delta;
    const more = rollUpAdds(delta.changes, rollUp, due);
    return more.length === 0
      ? delta
      : { ...delta, changes: [...delta.changes, ...more].sort(compareChanges) };
  });
}

/** What a delta's roll-up adds to its changes when the channels `due` roll up: their reminders the changes do not already say. */
export function rollUpAdds(
  changes: readonly Change[],
  rollUp: readonly Change[],
  due: ReadonlySet<string>,
): Change[] {
  const said = new Set(changes.map((c) => `${c.finding.id}\n${c.channel}`));
  return rollUp.filter(
    (c) => !said.has(`${c.finding.id}\n${c.channel}`) && c.channel !== undefined && due.has(c.channel),
  );
}

export interface DeliverInput {
  readonly now: Date;
  readonly state: StateStore;
  readonly outbox?: EventOutbox;
  /** A channel's notifier, made when the channel has something to say. */
  readonly notifier: (channel: string) => Promise<Notifier>;
  readonly events?: EventSink;
  /** Epoch ms after which no further message, and no further batch of events, is started. */
  readonly deadline?: number;
  /** Epoch ms now, for the deadline. @default Date.now */
  readonly clock?: () => number;
  /** @default DEFAULT_NOTIFICATION_POLICY */
  readonly notifications?: NotificationPolicy;
  /**
   * Reads the held baselined changes ({@link AccountDelta.held}) of these accounts in `channel` again
   * and calls `remember` with each account's (awaited; several accounts may be under way at once).
   * Rejects with the first failure, `remember`'s included. Required when a delta holds some back.
   */
  readonly reread?: (
    channel: string,
    accountIds: readonly string[],
    remember: (accountId: string, changes: readonly Change[]) => Promise<void>,
  ) => Promise<void>;
}

/**
 * Announces the deltas' changes and remembers them message by message; publishes the outbox.
 * Never throws for a channel, commit or event failure: each is returned, and what it left undone is
 * done by a later run.
 */
export async function deliver(
  deltas: readonly AccountDelta[],
  input: DeliverInput,
): Promise<Omit<MonitorResult, 'accounts'>> {
  const { now } = input;
  const policy = checkPolicy(input.notifications ?? DEFAULT_NOTIFICATION_POLICY);
  const changes = deltas.flatMap((d) => d.changes);
  const baselined = new Set(deltas.filter((d) => d.baseline).map((d) => d.accountId));
  const skippedAsStale = deltas.flatMap((d) => d.skippedAsStale);
  const unreadableStates = deltas.flatMap((d) => d.unreadable.map((u) => ({ ...u, accountId: d.accountId })));
  const migrations = deltas.flatMap((d) => d.migrations);
  const delivered: Change[] = [];
  let messages = 0;
  let messagesDelivered = 0;
  let summarized = 0;
  let uncertain = 0;
  let commitError: Error | undefined;
  /** Remembering an accepted message stopped at the deadline (a first scan too large for one run). */
  let outOfTime = false;
  /** Held baselined changes by channel: each account's, and the accounts whose were remembered. */
  const held = new Map<string, HeldChannel>();
  /** Whether every baseline the delta holds was remembered (none held: true). */
  const heldRemembered = (d: AccountDelta) =>
    (d.held ?? []).every((h) => held.get(h.channel)?.remembered.has(d.accountId));
  for (const d of deltas) {
    for (const h of d.held ?? []) {
      const entry = held.get(h.channel) ?? { accounts: new Map(), remembered: new Set(), delivered: 0 };
      if (entry.accounts.has(d.accountId)) {
        throw new Error(`deliver: account ${d.accountId} holds two baselines in channel ${h.channel}`);
      }
      entry.accounts.set(d.accountId, h);
      held.set(h.channel, entry);
    }
  }
  if (held.size > 0 && !input.reread) {
    throw new Error('deliver: deltas hold baselined changes back, and there is no reread to remember them');
  }
  if (held.size > 0 && input.events && !input.outbox) {
    throw new Error('deliver: deltas hold baselined changes back, and their events need an outbox');
  }
  /** Events of held changes remembered (the outbox has them). */
  let heldNews = 0;

  // Migrated states first, silently: each under its new id, its old id retired as resolved.
  if (migrations.length > 0) {
    const at = now.toISOString();
    try {
      const written = await input.state.commit(
        migrations.flatMap((m) => [
          { ...m.to, scanTime: at },
          { ...m.from, status: 'resolved' as const, scanTime: at },
        ]),
      );
      skippedAsStale.push(...written.skippedAsStale);
    } catch (err) {
      commitError = err instanceof Error ? err : new Error(String(err));
    }
  }

  // States under another channel's key, moved to their own (silently) before anything is said.
  const misplaced = deltas.flatMap((d) => d.misplaced ?? []);
  if (misplaced.length > 0 && !commitError && input.state.relocate) {
    try {
      const written = await input.state.relocate(misplaced);
      skippedAsStale.push(...written.skippedAsStale);
    } catch (err) {
      commitError = err instanceof Error ? err : new Error(String(err));
    }
  }

  const rememberHeld = async (
    channel: string,
    entry: HeldChannel,
    posted: PostedMessage | undefined,
    clock: () => number,
  ): Promise<void> => {
    const started = new Set<string>();
    /** The deadline passed: its message is written once the accounts under way have settled. */
    const outOfTimeHere = new Error('out of time');
    try {
      await input.reread!(channel, [...entry.accounts.keys()], async (accountId, read) => {
        // The first failure stops the accounts under way beside it at their next read.
        if (commitError) throw commitError;
        try {
          await rememberOne(accountId, read);
        } catch (err) {
          commitError ??= err instanceof Error ? err : new Error(String(err));
          throw commitError;
        }
      });
    } catch (err) {
      commitError ??= err instanceof Error ? err : new Error(String(err));
      // Counted once every account under way has settled (they finish their commit).
      if (commitError === outOfTimeHere) {
        commitError = new Error(
          `out of time remembering the baseline summary channel ${channel} accepted: ${entry.accounts.size - entry.remembered.size} of its ${entry.accounts.size} accounts are not remembered and are summarized again next run`,
        );
      }
      throw commitError;
    }
    const missing = [...entry.accounts.keys()].filter((id) => !entry.remembered.has(id));
    if (missing.length > 0) {
      commitError = new Error(
        `the baseline of channel ${channel}: ${missing.length} of its ${entry.accounts.size} accounts were not found when read again (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}); they are summarized again next run`,
      );
      throw commitError;
    }

    async function rememberOne(accountId: string, read: readonly Change[]): Promise<void> {
      const h = entry.accounts.get(accountId);
      if (!h || started.has(accountId)) {
        throw new Error(
          `the baseline of channel ${channel}: account ${accountId} was read again ${h ? 'twice' : 'though it holds none'}`,
        );
      }
      if (read.length !== h.count) {
        throw new Error(
          `the baseline of channel ${channel}: account ${accountId} read again has ${read.length} baselined changes where its first read had ${h.count}`,
        );
      }
      if (started.size > 0 && input.deadline !== undefined && clock() >= input.deadline) {
        outOfTime = true;
        throw outOfTimeHere;
      }
      started.add(accountId);
      const news = read.filter((c) => !c.mirror);
      if (input.outbox && input.events && news.length > 0) await input.outbox.add(news, now);
      const written = await input.state.commit(nextStates(read, now, 'baseline', posted));
      skippedAsStale.push(...written.skippedAsStale);
      entry.remembered.add(accountId);
      entry.delivered += read.length;
      summarized += read.length;
      heldNews += news.length;
    }
  };

  // One channel after the other, in the configuration's order: each gets its own posts (baseline,
  // digest, roll-up, owners' lists) and its own cap; a channel that fails stops only itself.
  const channelErrors: { channel: string; error: Error }[] = [];
  let notifierError: Error | undefined;
  const defaultChannel = policy.defaultChannel ?? DEFAULT_CHANNEL;
  const names = Object.fromEntries(deltas.flatMap((d) => (d.name ? [[d.accountId, d.name]] : [])));
  // A roll-up in parts says how many open findings of its channel the other parts remind.
  const otherParts = new Map<string, number>();
  let deferred = 0;
  for (const l of deltas.flatMap((d) => d.leftOut ?? [])) {
    otherParts.set(l.channel, (otherParts.get(l.channel) ?? 0) + l.said + l.deferred);
    deferred += l.deferred;
  }
  for (const [channel, said] of byChannel(
    changes,
    channelsOf(policy.routes ?? [], defaultChannel, policy.mirrors),
    defaultChannel,
    held.keys(),
  )) {
    if (commitError) break;
    const heldHere = held.get(channel);
    // A digest about one account is headed by that account, whichever was scanned first (summaries
    // name their own accounts: a baselined change does not count here).
    const digested = said.filter((c) => !isBaselined(c, baselined, policy));
    const accounts = [
      ...new Set([
        ...(digested.length > 0 ? digested : said).map((c) => c.finding.accountId),
        ...(digested.length > 0 ? [] : (heldHere?.accounts.keys() ?? [])),
      ]),
    ];
    const headline = accounts.length === 1 ? accounts[0]! : deltas[0]!.accountId;
    let notifier: Notifier;
    try {
      notifier = await input.notifier(channel);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      notifierError ??= error;
      channelErrors.push({ channel, error });
      continue;
    }
    try {
      const result = await notifier.notify(
        planPosts(
          said,
          baselined,
          policy,
          deltas.flatMap((d) => (d.resolvedAt ?? []).filter((r) => r.channel === channel).map((r) => r.at)),
          heldHere ? mergeTallies([...heldHere.accounts.values()].map((h) => h.tally)) : undefined,
          otherParts.get(channel),
        ),
        {
          accountId: headline,
          ...(names[headline] ? { accountAlias: names[headline] } : {}),
          accountNames: names,
          scanTime: now,
        },
        {
          ...(input.deadline !== undefined ? { deadline: input.deadline } : {}),
          maxMessages: policy.maxMessagesPerRun,
          // Remembered before the next message starts: a fault repeats at most this one message. A
          // summary can carry a whole organization's first scan: it is remembered in chunks, and
          // once the deadline has passed no further chunk starts (the run ends in time and says so;
          // what is not remembered is announced again next run, at most this message's worth).
          onDelivered: async (carried, announcedIn, posted) => {
            messagesDelivered++;
            const clock = input.clock ?? Date.now;
            for (let i = 0; i < carried.length; i += COMMIT_CHUNK) {
              if (i > 0 && input.deadline !== undefined && clock() >= input.deadline) {
                outOfTime = true;
                commitError = new Error(
                  `out of time remembering a message the channel accepted: ${carried.length - i} of its ${carried.length} changes are not remembered and are announced again next run`,
                );
                throw commitError;
              }
              const chunk = carried.slice(i, i + COMMIT_CHUNK);
              try {
                // One event per change of a finding's own channel (a mirror's is the same news).
                const news = chunk.filter((c) => !c.mirror);
                if (input.outbox && input.events && news.length > 0) await input.outbox.add(news, now);
                const written = await input.state.commit(nextStates(chunk, now, announcedIn, posted));
                skippedAsStale.push(...written.skippedAsStale);
              } catch (err) {
                commitError = err instanceof Error ? err : new Error(String(err));
                throw err;
              }
              delivered.push(...chunk);
              if (announcedIn) summarized += chunk.length;
            }
            // The baseline summary stands for the held changes too (a channel has one): read again
            // and remembered an account at a time in each part read (a few parts at once), the deadline
            // checked before each account but the first.
            if (announcedIn === 'baseline' && heldHere && heldHere.remembered.size === 0) {
              await rememberHeld(channel, heldHere, posted, clock);
            }
          },
        },
      );
      messages += result.messages;
      uncertain += result.uncertain;
      if (result.error) channelErrors.push({ channel, error: result.error });
    } catch (err) {
      if (!commitError) throw err;
      messages = messagesDelivered;
    }
  }
  const deliveryError = channelErrors[0]?.error;

  // Every account scanned whose changes were all delivered is known from now on: its next finding
  // is announced, not baselined, even when it had nothing to say this time.
  // `delivered` holds only what was remembered, so after a stop at the deadline the accounts whose
  // changes were all remembered are known too (a first scan spread over several runs).
  if (!commitError || outOfTime) {
    const said = new Set(delivered);
    const known = deltas
      // An enforcement notice is never baselined, so one not said yet (held back beyond the cap)
      // does not keep its account on first contact.
      .filter(
        (d) =>
          !d.known &&
          d.scan &&
          !d.error &&
          d.changes.every((c) => said.has(c) || isEnforcementRule(c.finding.rule)) &&
          heldRemembered(d),
      )
      .map((d) => d.accountId);
    // And the known accounts whose marker keeps another name than the one read this run.
    const renamed = deltas.filter((d) => d.known && d.keepName && d.scan && !d.error).map((d) => d.accountId);
    if (known.length > 0 || renamed.length > 0) {
      try {
        await input.state.markKnown([...known, ...renamed], now, new Map(Object.entries(names)));
      } catch (err) {
        commitError ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  }

  // Lanes of channels a finding left are closed once all its changes were delivered (a channel
  // whose reminder was not delivered keeps a finding to be reminded of next run).
  if (!commitError || outOfTime) {
    const said = new Set(delivered);
    const undelivered = new Set(changes.filter((c) => !said.has(c)).map((c) => c.finding.id));
    // An account with held changes not remembered: which findings they are is not held, so none of its lanes closes.
    // Nor of one whose reminders a roll-up in parts left to the next runs.
    const retired = deltas
      .filter((d) => heldRemembered(d) && !(d.leftOut ?? []).some((l) => l.deferred > 0))
      .flatMap((d) => d.retired ?? [])
      .filter((s) => !undelivered.has(s.id));
    if (retired.length > 0) {
      try {
        const written = await input.state.commit(retired);
        skippedAsStale.push(...written.skippedAsStale);
      } catch (err) {
        commitError ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  }

  // Events: every change remembered above, and whatever earlier runs could not publish.
  let eventsPublished = 0;
  let eventsPending = 0;
  /** The run stopped before the end of the outbox: more than `eventsPending` may wait. */
  let eventsPendingUnread = false;
  /** The outbox was read page by page (`lastPage`: the page read last was its end). */
  let outboxPaged = false;
  let lastPage = false;
  let eventError: Error | undefined;
  if (input.events) {
    try {
      if (input.outbox && outOfTime) {
        // Out of time already: the outbox (perhaps a first scan's worth) is not even read; it is
        // published by a later run, after its own delivery. At least this run's remembered changes wait in it.
        eventsPending = delivered.filter((c) => !c.mirror).length + heldNews;
        eventsPendingUnread = true;
      } else if (input.outbox) {
        // A page at a time (after a first scan the outbox can hold an organization's findings); the
        // deadline is checked before each chunk, so a run that stops has read what it leaves.
        const clock = input.clock ?? Date.now;
        let after: string | undefined;
        outboxPaged = true;
        reading: for (;;) {
          lastPage = false;
          const page = await input.outbox.pending({
            limit: OUTBOX_PAGE,
            ...(after !== undefined ? { after } : {}),
          });
          unreadableStates.push(...page.unreadable.map((u) => ({ ...u, accountId: 'outbox' })));
          eventsPending += page.entries.length;
          lastPage = page.next === undefined;
          for (let i = 0; i < page.entries.length; i += EVENT_CHUNK) {
            // Out of time: what is left waits in the outbox for a later run, which publishes it after its own delivery, oldest first.
            if (input.deadline !== undefined && clock() >= input.deadline) {
              eventsPendingUnread = !lastPage;
              break reading;
            }
            const chunk = page.entries.slice(i, i + EVENT_CHUNK);
            await input.events.publish(chunk.map((e) => e.change));
            await input.outbox.remove(chunk.map((e) => e.key));
            eventsPublished += chunk.length;
            eventsPending -= chunk.length;
          }
          if (lastPage) break;
          after = page.next;
        }
      } else if (delivered.length > 0) {
        const once = delivered.filter((c) => !c.mirror);
        if (once.length > 0) await input.events.publish(once);
        eventsPublished = once.length;
      }
    } catch (err) {
      eventError = err instanceof Error ? err : new Error(String(err));
      // Stopped by a failure before the end of the outbox: more may wait than it counted.
      if (outboxPaged && !lastPage) eventsPendingUnread = true;
    }
  }

  return {
    changes,
    delivered,
    summarized,
    messages,
    messagesDelivered,
    ...(deliveryError ? { deliveryError } : {}),
    channelErrors,
    ...(notifierError ? { notifierError } : {}),
    ...(commitError ? { commitError } : {}),
    uncertain,
    eventsPublished,
    eventsPending,
    ...(eventsPendingUnread ? { eventsPendingUnread } : {}),
    ...(eventError ? { eventError } : {}),
    skippedAsStale,
    unreadableStates,
    migrated: migrations.length,
    ...(deferred > 0 ? { deferred } : {}),
    ...(held.size > 0
      ? {
          held: [...held].map(([channel, entry]) => ({
            channel,
            changes: [...entry.accounts.values()].reduce((n, h) => n + h.count, 0),
            delivered: entry.delivered,
          })),
        }
      : {}),
  };
}

/**
 * The changes of each channel, in diff order: the configured channels first, in their order, then
 * any other a stored state names (a route since removed, to resolve what it announced).
 */
function byChannel(
  changes: readonly Change[],
  configured: readonly string[],
  defaultChannel: string,
  holding: Iterable<string>,
): [string, Change[]][] {
  const groups = new Map<string, Change[]>(configured.map((c) => [c, []]));
  for (const c of changes) {
    const channel = c.channel ?? defaultChannel;
    const group = groups.get(channel) ?? [];
    group.push(c);
    groups.set(channel, group);
  }
  // A channel whose changes are all held has something to say too.
  const held = new Set(holding);
  for (const channel of held) if (!groups.has(channel)) groups.set(channel, []);
  return [...groups].filter(([channel, group]) => group.length > 0 || held.has(channel));
}

/** Scans, then delivers: one scheduled run. */
export async function monitor(input: MonitorInput): Promise<MonitorResult> {
  const accounts = await scanAccounts(input);
  const outcome = await deliver(accounts, input);
  return { accounts, ...outcome };
}
