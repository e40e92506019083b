/**
 * The steps of the state machine engine (lib/constructs/scanner-state-machine.ts; docs/organization.md,
 * "Engines"), each a Lambda handler over the same code as the single-invocation engine
 * (lambda/handler.ts): no second scanner.
 *
 * - {@link createSteps} `discover`: checks the schedule's event, lists the accounts to scan (with the
 *   OUs and tags routes need) and hands them to the map inline, or through the run bucket when they
 *   would not fit a state's 256 KiB;
 * - `scanBatch`: one child of the map: scans a batch of accounts (`scanEach`) and writes each
 *   account's delta to the run bucket; one account's failure is its delta, never the batch's;
 * - `deliver`: reads every delta the children wrote, announces an account whose batch did not finish
 *   as not scanned, aligns the roll-ups across accounts and delivers (lambda/monitor.ts `deliver`).
 *
 * Every step's input is checked: a state machine's payload is input like any other.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { RUN_ID_PATTERN, S3RunStore } from './adapters/run-store';
import { REQUEST_TIMEOUTS } from './adapters/sdk';
import {
  BATCH_START_MARGIN_MS,
  CLOCK_SKEW_MS,
  DELIVERY_IN_PROGRESS_ERROR,
  EXECUTION_TIMEOUT_MS,
  EXPRESS_EXECUTION_LIMIT_MS,
  METRIC,
  SCHEDULE_EVENT_SOURCE,
} from './contracts';
import { ConfigError, CredwatchError } from './core/errors';
import { checkInvocation } from './core/invocation';
import { isBaselined, type NotificationPolicy, saidWithin } from './core/notification-plan';
import { DEFAULT_CHANNEL } from './core/routing';
import type { Change } from './core/state';
import { tallyChanges } from './core/summary';
import { decodeDelta, decodeRollUp } from './delta-codec';
import { DeltaParts } from './delta-parts';
import { readEnv } from './env';
import {
  type AccountDelta,
  type AccountJob,
  alignRollUps,
  deliver,
  type RollUpLeftOut,
  rollUpAdds,
  scanEach,
} from './monitor';
import type { AccountItem, RunLeaseHeld, RunStore } from './ports';
import { slimScan } from './scan';
import { requiredSetting } from './settings';
import {
  accountLog,
  accountsToScan,
  addAccountMetrics,
  addScanMetrics,
  channelNotifier,
  DELIVERY_MARGIN_MS,
  eventSink,
  finishRun,
  type HandlerOptions,
  logger,
  memberAccountJob,
  metrics,
  type RunSummary,
  refuseInvocation,
  type Wiring,
  wire,
} from './wiring';

/** Account lists up to this size travel inline in the state machine; longer ones through the run bucket. */
export const INLINE_ACCOUNTS_BYTES = 200 * 1024;

/** A Step Functions execution name. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** A step's input is not what the state machine sends: names the field and what is wrong. */
export class StepInputError extends CredwatchError {}

/** An earlier delivery of the run may still be running: this one is not started (DELIVERY_IN_PROGRESS_ERROR). */
export class DeliveryInProgressError extends CredwatchError {
  override name = DELIVERY_IN_PROGRESS_ERROR;
}

/** What `discover` hands on: the run, and its accounts inline or where the run bucket has them. */
export type Discovered =
  | { readonly refused: string }
  /** An earlier run still holds the lease: this one does nothing (the next scheduled run comes). */
  | { readonly skipped: string }
  | {
      readonly runId: string;
      /** The run's clock (ISO): every step judges and writes by it. */
      readonly now: string;
      readonly count: number;
      /** The accounts, when they fit inline. */
      readonly accounts?: readonly AccountItem[];
      /** Where the run bucket has them (the map's ItemReader reads it), when they do not. */
      readonly accountsKey?: string;
    };

const isoTime = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v)), {
    error: 'expected an ISO time in UTC',
  });
const accountItem = z.object({
  id: z.string().regex(/^\d{12}$/, 'expected a 12-digit account id'),
  name: z.string().optional(),
  organizationalUnits: z.array(z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});
const runRef = { runId: z.string().regex(RUN_ID_PATTERN, 'expected a run id'), now: isoTime };
const batchSchema = z.object({
  BatchInput: z.object(runRef),
  Items: z
    .array(accountItem)
    .min(1)
    .max(1000)
    .refine((items) => new Set(items.map((a) => a.id)).size === items.length, {
      error: 'an account is in the batch twice',
    }),
  /** When the child execution started (`$$.Execution.StartTime`): its retries share its 5 minutes. */
  childStartedAt: isoTime.optional(),
});
const deliverSchema = z.object({
  ...runRef,
  accounts: z.array(accountItem).optional(),
  accountsKey: z.string().optional(),
});

function parse<T>(schema: z.ZodType<T>, event: unknown, step: string): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    throw new StepInputError(`${step}: input${path === '' ? '' : `.${path}`}: ${issue.message}`);
  }
  return parsed.data;
}

/** The run's clock from the step input; a time after this function's clock (beyond the skew) is refused. */
function runClock(now: string, step: string): Date {
  const at = new Date(now);
  if (at.getTime() > Date.now() + CLOCK_SKEW_MS) {
    throw new StepInputError(`${step}: input.now ${now} lies in the future; no discover step wrote it`);
  }
  return at;
}

/**
 * A run older than its lease (a redrive of an old execution) would announce what later runs already
 * said, and scan for nothing: refused.
 */
function refuseLateRun(w: Wiring, runId: string, at: string, now: Date, step: string): void {
  const leaseMs = w.env.runLeaseMs ?? EXECUTION_TIMEOUT_MS;
  if (Date.now() - now.getTime() > leaseMs) {
    throw new StepInputError(
      `${step}: run ${runId} started at ${at}, more than its ${leaseMs / 60_000} minutes ago; a late or redriven run is not carried on`,
    );
  }
}

/**
 * The job, whose scan fails without a call when it would start after `startBy` (epoch ms): its first
 * call is for the credential report (the member role is assumed with it).
 */
function startingBy(job: AccountJob, startBy: number): AccountJob {
  const { report } = job.scan;
  return {
    ...job,
    scan: {
      ...job.scan,
      report: {
        getReport: (onProgress) => {
          if (Date.now() > startBy) {
            throw new CredwatchError(
              `its batch's time ran out before its scan started (a batch ends ${(EXPRESS_EXECUTION_LIMIT_MS / 60_000).toFixed(0)} minutes after its child execution started, retries included, or at its function's timeout)`,
            );
          }
          return report.getReport(onProgress);
        },
      },
    },
  };
}

/** The steps, built from their options; `discover`, `scanBatch` and `deliverRun` below are what Lambda runs. */
export function createSteps(options: HandlerOptions & { readonly runStore?: RunStore } = {}) {
  let wiring: Wiring | undefined;
  let store: RunStore | undefined;
  const setUp = () => {
    const env = wiring?.env ?? readEnv(process.env);
    if (!env.accounts) {
      throw new ConfigError('the state machine engine scans member accounts: CREDWATCH_ACCOUNTS is required');
    }
    wiring ??= wire(env, options);
    store ??=
      options.runStore ??
      new S3RunStore({
        bucketName: requiredSetting(env, 'runBucket'),
        client: new S3Client({ region: env.region, ...REQUEST_TIMEOUTS }),
      });
    return { wiring, store };
  };
  /**
   * Runs a step: its metrics published, its failure logged and counted, then re-thrown (the state
   * machine's retry or catch decides). A failed batch is not counted as an incomplete run: the map
   * tolerates it and deliver, which announces its accounts as not scanned, counts the run once.
   */
  const step =
    <T>(name: string, body: (event: unknown, context: Context | undefined, started: number) => Promise<T>) =>
    async (event: unknown, context?: Context): Promise<T> => {
      const started = Date.now();
      try {
        return await body(event, context, started);
      } catch (err) {
        if (name !== 'scanBatch') metrics.addMetric(METRIC.scanIncomplete, MetricUnit.Count, 1);
        logger.error(`${name} failed`, err as Error);
        throw err;
      } finally {
        metrics.publishStoredMetrics();
      }
    };

  const discover = step('discover', async (event, _context, started): Promise<Discovered> => {
    const now = new Date(started);
    const env = wiring?.env ?? readEnv(process.env);
    // The state machine hands on the schedule's event and its own execution's name.
    const wrapped = (event ?? {}) as { schedule?: unknown; execution?: unknown };
    if (typeof wrapped.execution !== 'string' || !EXECUTION_NAME.test(wrapped.execution)) {
      return refuseInvocation('event.execution: expected the name of the state machine execution');
    }
    const check = checkInvocation(wrapped.schedule, now, env.schedulePeriodMs, SCHEDULE_EVENT_SOURCE);
    if (!check.accepted) return refuseInvocation(check.reason.replace(/^event/, 'event.schedule'));
    // The run is the scheduled time and the execution: a second execution for the same scheduled
    // time (a re-run) never reads the first one's results.
    const runId = `${check.runId}_${wrapped.execution}`;
    logger.appendKeys({ runId });
    const { wiring: w, store: s } = setUp();
    const skip = (held: RunLeaseHeld): Discovered => {
      metrics.addMetric(METRIC.runsSkipped, MetricUnit.Count, 1);
      const reason = `run ${held.heldBy} is still in progress (its lease ends at ${held.until.toISOString()}); this run does nothing`;
      logger.info('run skipped', { reason });
      return { skipped: reason };
    };
    // A run in progress: skipped before listing anything.
    const before = await w.state.heldByOther(runId, now);
    if (before) return skip(before);
    // Listing reads only: done before the lease is taken, so that a discover step that runs out of
    // time while listing never leaves it held.
    const accounts = await accountsToScan(w);
    // One run at a time: a first scan of thousands of accounts outlasts the schedule period.
    const lease = await w.state.acquire(
      runId,
      now,
      new Date(now.getTime() + (env.runLeaseMs ?? EXECUTION_TIMEOUT_MS)),
    );
    if (!lease.acquired) return skip(lease);
    try {
      const base = { runId, now: now.toISOString(), count: accounts.length };
      logger.info('accounts discovered', { count: accounts.length });
      if (Buffer.byteLength(JSON.stringify(accounts)) <= INLINE_ACCOUNTS_BYTES) return { ...base, accounts };
      const { key } = await s.putAccounts(runId, accounts);
      return { ...base, accountsKey: key };
    } catch (err) {
      // Nothing was scanned: the next scheduled run may start at once.
      await w.state.release(runId).catch(() => {});
      throw err;
    }
  });

  const scanBatch = step('scanBatch', async (event, context, started) => {
    const input = parse(batchSchema, event, 'scanBatch');
    const { runId } = input.BatchInput;
    const now = runClock(input.BatchInput.now, 'scanBatch');
    logger.appendKeys({ runId });
    const { wiring: w, store: s } = setUp();
    refuseLateRun(w, runId, input.BatchInput.now, now, 'scanBatch');
    const unwritten: string[] = [];
    const remaining = context?.getRemainingTimeInMillis?.();
    // The batch's time: this invocation's, and the child execution's 5 minutes, which a retried
    // attempt shares with the attempts before it. No account's scan starts close to its end: the
    // batch answers in time, and deliver announces the accounts it did not start as not scanned.
    const childStart = input.childStartedAt === undefined ? undefined : Date.parse(input.childStartedAt);
    if (childStart !== undefined && childStart > started + CLOCK_SKEW_MS) {
      throw new StepInputError(
        `scanBatch: input.childStartedAt ${input.childStartedAt} lies after this step started; no child execution started then`,
      );
    }
    if (childStart !== undefined && childStart < now.getTime() - CLOCK_SKEW_MS) {
      throw new StepInputError(
        `scanBatch: input.childStartedAt ${input.childStartedAt} lies before its run started (${input.BatchInput.now})`,
      );
    }
    const ends = [
      ...(remaining !== undefined ? [started + remaining] : []),
      ...(childStart !== undefined ? [childStart + EXPRESS_EXECUTION_LIMIT_MS] : []),
    ];
    const deadline = ends.length > 0 ? Math.min(...ends) - DELIVERY_MARGIN_MS : undefined;
    // An account started later could wait for its credential report past the end.
    const startBy =
      deadline === undefined ? undefined : deadline - Math.max(BATCH_START_MARGIN_MS, w.env.reportDeadlineMs);
    const jobs = input.Items.map((a) => {
      const job = memberAccountJob(w, a, now, runId);
      return startBy === undefined ? job : startingBy(job, startBy);
    });
    // Scan, then write: each delta is written before the step answers, so what it scanned is never lost
    // to a later failure of the batch. No delivery here: the margin is only for the writes.
    // Deltas are written in parts as they come (a minute after the first of a part at the latest): an
    // account scanned before a slow one of the same batch runs out the step's time is not lost with it.
    // A part that cannot be written is logged and left out: deliver announces its accounts as not scanned.
    const parts = new DeltaParts({
      store: s,
      runId,
      batch: input.Items[0]!.id,
      // This attempt's own keys: a retry (or an attempt still running beside it) never writes over them.
      attempt: started,
      onUnwritten: (accountIds, err) => {
        unwritten.push(...accountIds);
        logger.error('accounts scanned could not be written to the run bucket', {
          accountIds,
          error: (err as Error).message,
        });
      },
    });
    let deltas: AccountDelta[];
    try {
      deltas = await scanEach({
        onScanned: (delta) => parts.add(delta.scan ? { ...delta, scan: slimScan(delta.scan) } : delta),
        accounts: jobs,
        now,
        concurrency: w.env.accounts!.concurrency,
        state: w.state,
        notifier: async () => {
          throw new ConfigError('scanBatch sends nothing');
        },
        reminderIntervalMs: w.env.reminderIntervalMs,
        notifications: w.env.notifications,
        ...(deadline !== undefined ? { deadline } : {}),
      });
    } finally {
      // Also when the scan failed: what was scanned is written.
      await parts.close();
    }
    // The accounts' own counts are deliver's: it sees each account's final outcome once.
    addScanMetrics(w.env, deltas, { accounts: false });
    logger.info('batch scanned', { accounts: accountLog(deltas) });
    return {
      scanned: deltas.filter((d) => d.scan).length,
      failed: deltas.filter((d) => d.error).map((d) => d.accountId),
      unwritten,
      changes: deltas.reduce((n, d) => n + d.changes.length, 0),
    };
  });

  const deliverRun = step('deliver', async (event, context, started): Promise<RunSummary> => {
    const input = parse(deliverSchema, event, 'deliver');
    const { runId } = input;
    const now = runClock(input.now, 'deliver');
    logger.appendKeys({ runId });
    const { wiring: w, store: s } = setUp();
    refuseLateRun(w, runId, input.now, now, 'deliver');
    // The budget counts from the step's start: reading the deltas is part of it.
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline = remaining !== undefined ? started + remaining - DELIVERY_MARGIN_MS : undefined;
    /** An earlier delivery of this run may still be running: the lease stays with it. */
    let leaseKept = false;
    try {
      // Once per run, and only while it holds the lease: a redrive of an execution stopped during its
      // deliver step (or a repeated deliver) would announce again what the first one sent, and one
      // of a run that ended would announce over later runs.
      const start = await w.state.beginDelivery(runId, new Date(started));
      if (!start.began && start.why === 'lease-lost') {
        throw new StepInputError(
          `deliver: run ${runId} no longer holds the run lease (${start.heldBy ? `run ${start.heldBy} holds it` : 'it was given back when the run ended, or ran out'}); a redriven or repeated deliver is not carried on: the next scheduled run scans again`,
        );
      }
      if (!start.began) {
        const since = start.since.toISOString();
        // Stopping an execution does not stop its running task: the first delivery has surely ended
        // only once the deliver function's timeout has passed since it began.
        const ended =
          remaining !== undefined && started - start.since.getTime() > remaining + DELIVERY_MARGIN_MS;
        if (!ended) {
          leaseKept = true;
          throw new DeliveryInProgressError(
            `deliver: a delivery of run ${runId} began at ${since} and may still be running (stopping an execution does not stop its task); it is not started twice: the lease stays with it, given back when it ends or when the lease runs out`,
          );
        }
        throw new StepInputError(
          `deliver: a delivery of run ${runId} began at ${since} and ended without giving the lease back; it is not started twice (what it sent would be announced again): the lease is given back and the next scheduled run announces what is left`,
        );
      }
      return await deliverAll(w, s, input, runId, now, started, context, deadline);
    } finally {
      // Whatever happened (a refused delivery too), this run is over: the next one may start. A
      // failure to give the lease back is logged, never in place of the run's own result (the lease
      // then ends at its time).
      if (!leaseKept) {
        await w.state.release(runId).catch((err: unknown) => {
          logger.error('the run lease could not be given back; it ends at its time', err as Error);
        });
      }
    }
  });

  const deliverAll = async (
    w: Wiring,
    s: RunStore,
    input: z.infer<typeof deliverSchema>,
    runId: string,
    now: Date,
    started: number,
    context: Context | undefined,
    deadline: number | undefined,
  ): Promise<RunSummary> => {
    const env = w.env;
    const accounts = input.accounts ?? (await s.getAccounts(runId));
    const policy = env.notifications;
    const defaultChannel = policy.defaultChannel ?? DEFAULT_CHANNEL;
    // First read: every delta without its roll-up (every open finding of the account as a reminder,
    // which a run needs only when some channel's roll-up is due: most of a steady-state delta),
    // decoded as it is read, and without its baselined changes (a first scan's: all of them), which
    // are tallied and read again once their channel's baseline summary is accepted.
    // And at most ROLL_UP_PART reminders, in the first read and the roll-up's together (a roll-up in parts).
    const parts = rollUpParts(env.rollUpPart ?? ROLL_UP_PART, now, env.reminderIntervalMs);
    let written: Awaited<ReturnType<RunStore['deltas']>> | undefined = await s.deltas(runId, {
      project: (raw) =>
        parts.first(
          holdBaseline(decodeDelta(withoutRollUp(raw), now, CLOCK_SKEW_MS), policy, defaultChannel),
        ),
    });
    let scanned: AccountDelta[] = [];
    const notScanned: { item: AccountItem; why: string }[] = [];
    const unreadable = (problem: string) => `its result in the run bucket could not be read (${problem})`;
    // Objects whose header cannot be read: any account not found may be in one of them.
    const unknown = written.unreadable.filter((u) => u.whole);
    for (const item of accounts) {
      const raw = written.deltas.get(item.id);
      if (raw === undefined) {
        const bad = written.unreadable.find((u) => u.accountId === item.id);
        notScanned.push({
          item,
          why: bad
            ? unreadable(`${bad.key}: ${bad.problem}`)
            : unknown.length > 0
              ? `its batch of the map did not finish (it failed or timed out: see the map run), or its result is in an object of the run bucket that cannot be read (${unknown.map((u) => `${u.key}: ${u.problem}`).join('; ')})`
              : 'its batch of the map did not finish (it failed or timed out: see the map run)',
        });
        continue;
      }
      const decoded = raw as ReturnType<typeof decodeDelta>;
      if ('problem' in decoded) notScanned.push({ item, why: unreadable(decoded.problem) });
      else scanned.push(decoded.delta);
    }
    const sources = written.sources;
    written = undefined;
    // An account whose batch did not finish (or whose result cannot be read) is announced as not
    // scanned, as any account that could not be.
    const failed = (list: readonly { item: AccountItem; why: string }[]) =>
      list.length === 0
        ? Promise.resolve([])
        : scanEach({
            accounts: list.map(({ item, why }) => ({
              ...memberAccountJob(w, item, now, runId),
              scan: {
                report: {
                  getReport: async () => {
                    throw new CredwatchError(why);
                  },
                },
                thresholds: env.thresholds,
                now,
              },
            })),
            now,
            state: w.state,
            notifier: async () => {
              throw new ConfigError('the failures are delivered below');
            },
            reminderIntervalMs: env.reminderIntervalMs,
            notifications: env.notifications,
          });
    let failures = await failed(notScanned);
    // A roll-up is due in some channel (a scanned account's reminders, or a failed one's): the
    // roll-ups read again from the very objects read first (not what a late attempt wrote since), only
    // those channels' reminders kept.
    const due = new Set([...scanned, ...failures].flatMap((d) => d.dueChannels ?? []));
    if (due.size > 0 && scanned.length > 0) {
      const byId = new Map(scanned.map((d) => [d.accountId, d]));
      const rollUps = await s.deltas(runId, {
        // Decoded as read, and only what the roll-up adds to each delta (within the run's part).
        project: (raw) => {
          const decoded = decodeRollUp(rollUpIn(raw, due).rollUp);
          const delta = byId.get(String(raw.accountId));
          if ('problem' in decoded || !decoded.rollUp || !delta) return decoded;
          return parts.rollUp(
            delta,
            rollUpAdds(delta.changes, rollUpBesideHeld(delta, decoded.rollUp, policy), due),
          );
        },
        sources: new Map(scanned.map((d) => [d.accountId, sources.get(d.accountId)!])),
      });
      const items = new Map(accounts.map((a) => [a.id, a]));
      const withRollUps: AccountDelta[] = [];
      const late: { item: AccountItem; why: string }[] = [];
      for (const delta of scanned) {
        const item = items.get(delta.accountId)!;
        const from = rollUps.sources.get(delta.accountId);
        if (from !== sources.get(delta.accountId)) {
          late.push({
            item,
            why: unreadable(
              `${sources.get(delta.accountId)}: its roll-up could not be read again${from ? `, it was found in ${from}` : ''}`,
            ),
          });
          continue;
        }
        const decoded = rollUps.deltas.get(delta.accountId) as ReturnType<typeof decodeRollUp> | RollUpPart;
        if ('problem' in decoded) {
          late.push({ item, why: unreadable(`${from}: ${decoded.problem}`) });
        } else if ('part' in decoded) {
          const leftOut = [...(delta.leftOut ?? []), ...decoded.leftOut()];
          withRollUps.push({
            ...delta,
            ...(decoded.part.length > 0 ? { rollUp: decoded.part } : {}),
            ...(leftOut.length > 0 ? { leftOut } : {}),
          });
        } else withRollUps.push(delta);
      }
      scanned = withRollUps;
      const lateFailures = await failed(late);
      // Such an account's failure may be due in a channel that was not: its reminders come alone.
      const more = lateFailures.flatMap((d) => d.dueChannels ?? []).filter((c) => !due.has(c));
      if (more.length > 0) {
        logger.warn('an account whose roll-up could not be read again is due in a channel no other was', {
          channels: [...new Set(more)],
        });
      }
      failures = [...failures, ...lateFailures];
    }
    const all = alignRollUps([...scanned, ...failures]);
    // Every account of the run once: scanned, or failed (in its batch, or its batch never answered).
    addAccountMetrics(env, all);
    const sink = eventSink(w, context);
    const outcome = await deliver(all, {
      now,
      state: w.state,
      outbox: w.state,
      notifier: channelNotifier(w),
      ...(sink ? { events: sink } : {}),
      notifications: env.notifications,
      ...(deadline !== undefined ? { deadline } : {}),
      // The held baselined changes of a channel, read again from the very objects read first.
      reread: async (channel, accountIds, remember) => {
        const again = await s.deltas(runId, {
          sources: new Map(accountIds.map((id) => [id, sources.get(id)!])),
          // Each account's commit waits on DynamoDB: a paused stream would meet S3's idle timeout.
          whole: true,
          project: async (raw) => {
            const decoded = decodeDelta(withoutRollUp(raw), now, CLOCK_SKEW_MS);
            const accountId = String(raw.accountId);
            if ('problem' in decoded) {
              throw new CredwatchError(
                `account ${accountId}: its delta in ${sources.get(accountId)} no longer decodes when read again (${decoded.problem})`,
              );
            }
            const held = heldBy(accountId, policy);
            await remember(
              accountId,
              decoded.delta.changes.filter((c) => held(c) && (c.channel ?? defaultChannel) === channel),
            );
            return true;
          },
        });
        // What did not read back is named (the caller counts the accounts it did not get as not found).
        const asked = new Set(accountIds);
        const bad = again.unreadable.filter(
          (u) => u.whole || (u.accountId !== undefined && asked.has(u.accountId)),
        );
        if (bad.length > 0) {
          throw new CredwatchError(
            `the baseline of channel ${channel} could not be read again: ${bad
              .slice(0, 3)
              .map((u) => `${u.key}${u.accountId ? ` (account ${u.accountId})` : ''}: ${u.problem}`)
              .join('; ')}${bad.length > 3 ? `; and ${bad.length - 3} more` : ''}`,
          );
        }
      },
    });
    return finishRun(env, runId, started, { accounts: all, ...outcome }, { scanMetrics: false });
  };

  return { discover, scanBatch, deliver: deliverRun };
}

/**
 * Reminders the deliver step of a state machine holds at most in a run, in its first read and its
 * roll-up's together (each about 1.5 KiB decoded, with its remembered state: docs/benchmarks.md).
 * A roll-up with more comes in parts, a part a run, each a summary of its own: the accounts beyond
 * the part are left to the next runs (their reminders stay due), and once a part has left some out
 * (or the roll-up's reminders alone would go beyond it), reminders a roll-up announced less than an
 * interval ago are left out (an earlier part said them: `saidWithin`), so each part makes progress.
 */
export const ROLL_UP_PART = 100_000;

/** A delta's roll-up as the roll-up read keeps it: its part of this run, and what it leaves out. */
interface RollUpPart {
  /** Reminders the roll-up adds to the delta's changes, in this run's part. */
  part: Change[];
  readonly said: Map<string, number>;
  readonly deferred: Map<string, number>;
  leftOut(): RollUpLeftOut[];
}

/**
 * The run's budget of {@link ROLL_UP_PART} reminders: `first` keeps a decoded delta's reminders while
 * they fit (the first account's always), else leaves them to the next runs; `rollUp` then does the
 * same with what each delta's roll-up adds, leaving out what a roll-up said less than an interval
 * ago once the run is in parts (retroactively, for the roll-ups kept before it was).
 */
export function rollUpParts(limit: number, now: Date, intervalMs: number) {
  let used = 0;
  /** Some reminders are left out of this run: the roll-up is in parts. */
  let inParts = false;
  const kept = new Map<string, RollUpPart>();
  const add = (counts: Map<string, number>, channel: string | undefined) => {
    const key = channel ?? DEFAULT_CHANNEL;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const leftOutOf = (said: Map<string, number>, deferred: Map<string, number>): RollUpLeftOut[] =>
    [...new Set([...said.keys(), ...deferred.keys()])].map((channel) => ({
      channel,
      said: said.get(channel) ?? 0,
      deferred: deferred.get(channel) ?? 0,
    }));
  const withoutSaid = (p: RollUpPart) => {
    const part: Change[] = [];
    for (const c of p.part) {
      if (saidWithin(c, now, intervalMs)) add(p.said, c.channel);
      else part.push(c);
    }
    used -= p.part.length - part.length;
    p.part = part;
  };
  return {
    first(decoded: ReturnType<typeof decodeDelta>): ReturnType<typeof decodeDelta> {
      if ('problem' in decoded) return decoded;
      const { delta } = decoded;
      const reminders = delta.changes.filter((c) => c.kind === 'reminder').length;
      if (reminders === 0) return decoded;
      if (used === 0 || used + reminders <= limit) {
        used += reminders;
        return decoded;
      }
      inParts = true;
      const deferred = new Map<string, number>();
      for (const c of delta.changes) if (c.kind === 'reminder') add(deferred, c.channel);
      return {
        delta: {
          ...delta,
          changes: delta.changes.filter((c) => c.kind !== 'reminder'),
          leftOut: leftOutOf(new Map(), deferred),
        },
      };
    },
    rollUp(delta: AccountDelta, adds: Change[]): RollUpPart {
      // Read twice (a late attempt's line): the first reading's part no longer counts.
      const before = kept.get(delta.accountId);
      if (before) used -= before.part.length;
      const p: RollUpPart = {
        part: adds,
        said: new Map(),
        deferred: new Map(),
        leftOut: () => leftOutOf(p.said, p.deferred),
      };
      // An account whose own reminders wait for the next runs waits whole (its roll-up with them).
      // Its adds include the reminders `first` took out (counted there): only the others count here.
      const waiting = delta.leftOut ?? [];
      if (waiting.some((l) => l.deferred > 0)) {
        for (const c of adds) add(p.deferred, c.channel);
        for (const l of waiting) {
          const more = (p.deferred.get(l.channel) ?? 0) - l.deferred;
          if (more > 0) p.deferred.set(l.channel, more);
          else p.deferred.delete(l.channel);
        }
        p.part = [];
        return p;
      }
      if (!inParts && used > 0 && used + adds.length > limit) {
        inParts = true;
        for (const other of kept.values()) withoutSaid(other);
      }
      used += adds.length;
      if (inParts) withoutSaid(p);
      if (used - p.part.length > 0 && used > limit) {
        used -= p.part.length;
        for (const c of p.part) add(p.deferred, c.channel);
        p.part = [];
      }
      kept.set(delta.accountId, p);
      return p;
    },
  };
}

/**
 * A decoded delta of an account on first contact without its baselined changes, which deliver does
 * not hold (an organization's first scan is most of them): by channel, their count and tally
 * (AccountDelta `held`). Any other delta, or a problem, as it is.
 */
function holdBaseline(
  decoded: ReturnType<typeof decodeDelta>,
  policy: NotificationPolicy,
  defaultChannel: string,
): ReturnType<typeof decodeDelta> {
  if ('problem' in decoded || !decoded.delta.baseline) return decoded;
  const { delta } = decoded;
  const held = heldBy(delta.accountId, policy);
  const kept: Change[] = [];
  const byChannel = new Map<string, Change[]>();
  for (const c of delta.changes) {
    if (!held(c)) {
      kept.push(c);
      continue;
    }
    const channel = c.channel ?? defaultChannel;
    const list = byChannel.get(channel) ?? [];
    list.push(c);
    byChannel.set(channel, list);
  }
  if (byChannel.size === 0) return decoded;
  return {
    delta: {
      ...delta,
      changes: kept,
      held: [...byChannel].map(([channel, changes]) => ({
        channel,
        count: changes.length,
        tally: tallyChanges(changes),
      })),
    },
  };
}

/**
 * A delta's roll-up without the baselined changes it holds back: they are announced by the baseline
 * summary (alignRollUps leaves out what the delta's changes say, and the held ones are not among them).
 */
export function rollUpBesideHeld(
  delta: AccountDelta,
  rollUp: readonly Change[],
  policy: NotificationPolicy,
): readonly Change[] {
  if (!delta.held) return rollUp;
  const held = heldBy(delta.accountId, policy);
  return rollUp.filter((c) => !held(c));
}

/** Which changes of an account on first contact deliver holds back: its baselined ones (notification-plan.ts). */
function heldBy(accountId: string, policy: NotificationPolicy): (c: Change) => boolean {
  const account = new Set([accountId]);
  return (c) => isBaselined(c, account, policy);
}

/** A delta as read for delivery: without its roll-up, which is read again only when one is due. */
function withoutRollUp(delta: Readonly<Record<string, unknown>>): unknown {
  const { rollUp: _rollUp, ...rest } = delta;
  return rest;
}

/**
 * A delta's roll-up, without the reminders of channels whose roll-up is not due (alignRollUps would
 * leave them out): an entry that is not a change of another channel is kept, for decodeRollUp to judge.
 */
function rollUpIn(delta: Readonly<Record<string, unknown>>, due: ReadonlySet<string>): { rollUp: unknown } {
  const { rollUp } = delta;
  if (!Array.isArray(rollUp)) return { rollUp };
  return {
    rollUp: rollUp.filter((c: unknown) => {
      const channel = (c as { channel?: unknown } | null)?.channel;
      return typeof channel !== 'string' || due.has(channel);
    }),
  };
}

const steps = createSteps();
/** Lambda handlers (`steps.discover`, `steps.scanBatch`, `steps.deliver` in the bundle). */
export const discover = steps.discover;
export const scanBatch = steps.scanBatch;
export const deliverRun = steps.deliver;
