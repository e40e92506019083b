/**
 * Composition root of the scanner Lambda (one invocation per run): environment -> adapters (one IAM
 * adapter per account, lambda/wiring.ts) -> monitor (scan, diff, deliver, remember) -> metrics and
 * one structured log line. The work itself is in lambda/monitor.ts and lambda/scan.ts; the steps of
 * the state machine engine are in lambda/steps.ts.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { METRIC, SCHEDULE_EVENT_SOURCE } from './contracts';
import { checkInvocation } from './core/invocation';
import { readEnv } from './env';
import { monitor } from './monitor';
import {
  accountsToScan,
  channelNotifier,
  DELIVERY_MARGIN_MS,
  eventSink,
  finishRun,
  type HandlerOptions,
  logger,
  memberAccountJob,
  metrics,
  ownAccountJob,
  type RunSummary,
  refuseInvocation,
  type Wiring,
  wire,
} from './wiring';

export { AccountsIncompleteError, type HandlerOptions } from './wiring';

/**
 * What EventBridge Scheduler sends (lib/constructs/scanner-schedule.ts). The scheduled time only
 * names the run: findings are judged by the function's own clock. Anything else is refused.
 */
export interface ScheduleEvent {
  readonly source?: string;
  readonly scheduledTime?: string;
  readonly executionId?: string;
}

export type HandlerResult =
  | RunSummary
  | {
      /** Why the invocation was refused; nothing was read or written. */
      readonly refused: string;
    };

/**
 * The scanner's entry point, built from its options: `handler` (below) is the one Lambda runs.
 * Wiring is built on the first accepted invocation and reused: the secret cache and SDK connections
 * outlive one scan.
 */
export function createHandler(options: HandlerOptions = {}) {
  let wiring: Wiring | undefined;
  return async (event: unknown, context?: Context): Promise<HandlerResult> => {
    const started = Date.now();
    // The run's clock is the wall clock, never the payload: a forged or late event must not move it.
    const now = new Date(started);
    try {
      const env = wiring?.env ?? readEnv(process.env);
      const check = checkInvocation(event, now, env.schedulePeriodMs, SCHEDULE_EVENT_SOURCE);
      if (!check.accepted) return refuseInvocation(check.reason);
      const runId = check.runId;
      logger.appendKeys({ runId });
      wiring ??= wire(env, options);
      return await run(wiring, runId, now, started, context);
    } catch (err) {
      metrics.addMetric(METRIC.scanIncomplete, MetricUnit.Count, 1);
      logger.error('scan incomplete', err as Error);
      throw err;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = createHandler();

async function run(
  wiring: Wiring,
  runId: string,
  now: Date,
  started: number,
  context: Context | undefined,
): Promise<RunSummary> {
  const { env, state } = wiring;
  const remaining = context?.getRemainingTimeInMillis?.();
  const sink = eventSink(wiring, context);
  const accounts = env.accounts
    ? (await accountsToScan(wiring)).map((a) => memberAccountJob(wiring, a, now, runId))
    : [ownAccountJob(wiring, now, runId, context?.invokedFunctionArn)];
  const result = await monitor({
    accounts,
    now,
    ...(env.accounts ? { concurrency: env.accounts.concurrency } : {}),
    state,
    outbox: state,
    notifier: channelNotifier(wiring),
    ...(sink ? { events: sink } : {}),
    reminderIntervalMs: env.reminderIntervalMs,
    notifications: env.notifications,
    ...(remaining !== undefined ? { deadline: started + remaining - DELIVERY_MARGIN_MS } : {}),
  });
  return finishRun(env, runId, started, result, { scanMetrics: true });
}
