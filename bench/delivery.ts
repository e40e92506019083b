/**
 * Delivery within the stack's timeout (issue 10): a 5,000-user account's first runs with IAM
 * throttled, run as the Lambda runs them (bench/delivery-worker.ts), against a Slack receiver with
 * Slack's rate limit, dynalite as the state table and outbox, and a local EventBridge. Three runs,
 * 10 minutes apart by the scans' clock; what Slack took is compared across them.
 */
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../lib/config';
import { generateAccount } from '../test/support/account-generator';
import { startEventBridgeEndpoint } from '../test/support/aws-json-endpoints';
import { startDynalite } from '../test/support/dynalite';
import { startIamEndpoint } from '../test/support/iam-endpoint';
import { startSlackReceiver } from '../test/support/slack-receiver';
import { runNode } from './child';
import type { AcceptedMessage, DeliveryWorkerInput, DeliveryWorkerOutput, Interval } from './delivery-worker';
import { generateReports, settle } from './endpoints';
import { BenchError } from './errors';
import { num } from './markdown';
import { DELIVERY, HARNESS, NOW, SEED } from './settings';
import { startLimitedSlack } from './slack-limit';

/** The share of one run's time, by phase, measured from the wrapped ports. */
export interface Phases {
  /** GenerateCredentialReport + GetCredentialReport, then users and tags (state load and parse in between). */
  readonly reportUsersMs: number;
  /** From the last users call to the first live confirmation: evaluate (CPU; port calls none). */
  readonly evaluateMs: number;
  readonly confirmMs: number;
  /** From the last confirmation to the first message: re-evaluate, diff, account alias. */
  readonly diffMs: number;
  /** of which the account-alias lookup (ListAccountAliases). */
  readonly aliasMs: number;
  /** The notifier's time less the commits it waited for: rendering, posting, pacing, 429 waits. */
  readonly slackMs: number;
  /** State and outbox writes after each accepted message. */
  readonly commitMs: number;
  /** After the last message: the outbox read, PutEvents, outbox removal. */
  readonly eventsMs: number;
  /** Everything else (module-level work after the last port call; 0 when timed out). */
  readonly otherMs: number;
  readonly totalMs: number;
}

export interface DeliveryRun {
  /** The scans' clock (ISO). */
  readonly now: string;
  readonly worker: DeliveryWorkerOutput;
  readonly phases: Phases;
  /** HTTP requests the IAM endpoint received, by action, plus `throttled`. */
  readonly iamRequests: Record<string, number>;
  /** Slack: messages the receiver accepted, requests the limiter answered 429. */
  readonly slackAccepted: number;
  readonly slackRateLimited: number;
  /** Findings announced as new or worse (opened, escalated) in this run. */
  readonly announced: number;
  readonly reminders: number;
}

export interface DeliveryFigures {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly users: number;
  readonly keys: number;
  readonly timeoutS: number;
  readonly deliveryMarginMs: number;
  readonly runs: readonly DeliveryRun[];
  /** Findings that page in any run (to be said at least once over the runs). */
  readonly toSay: number;
  /** Finding ids announced as new or worse more than once at the same severity, and how many extra times. */
  readonly duplicateFindings: number;
  readonly duplicateAnnouncements: number;
  /** Paging findings never announced over the runs. */
  readonly neverSaid: number;
  /** Items in the table after the last run (finding states and outbox entries left). */
  readonly stateItems: number;
  /** Events EventBridge received over the runs, and how many distinct changes (finding id, kind, time) they were. */
  readonly eventsReceived?: number;
  readonly eventsDistinct?: number;
  readonly loadAverage: { readonly before: number; readonly after: number };
  readonly startedAt: string;
  readonly durationMs: number;
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/**
 * lambda/handler.ts does not export its DELIVERY_MARGIN_MS; the bench keeps a copy
 * ({@link DELIVERY}.deliveryMarginMs) and refuses to run when the handler's value is another.
 */
function checkDeliveryMargin(): void {
  const file = join(__dirname, '..', 'lambda', 'handler.ts');
  const found = /const DELIVERY_MARGIN_MS = ([\d_]+);/.exec(readFileSync(file, 'utf8'));
  const value = found ? Number(found[1]!.replace(/_/g, '')) : undefined;
  if (value !== DELIVERY.deliveryMarginMs) {
    throw new BenchError(
      `${file}: DELIVERY_MARGIN_MS is ${value ?? 'not found'}, the bench assumes ${DELIVERY.deliveryMarginMs} (bench/settings.ts, DELIVERY.deliveryMarginMs): update it`,
    );
  }
}

/** Splits one run's wall time into phases from the intervals of its wrapped ports. */
export function phasesOf(timeline: readonly Interval[], totalMs: number): Phases {
  const of = (...kinds: Interval['kind'][]) => timeline.filter((i) => kinds.includes(i.kind));
  const first = (list: readonly Interval[]) => Math.min(...list.map((i) => i.start));
  const last = (list: readonly Interval[]) => Math.max(...list.map((i) => i.end));
  const span = (list: readonly Interval[]) => list.reduce((n, i) => n + (i.end - i.start), 0);
  const reading = of('report', 'users');
  const confirm = of('confirm');
  const notify = of('notify');
  const events = of('events');
  const alias = of('alias');
  const readEnd = reading.length > 0 ? last(reading) : 0;
  const confirmStart = confirm.length > 0 ? first(confirm) : undefined;
  const confirmEnd = confirm.length > 0 ? last(confirm) : undefined;
  // The scan phase ends where delivery starts: the first message, or else the outbox read.
  const notifyStart = notify.length > 0 ? first(notify) : undefined;
  const notifyEnd = notify.length > 0 ? last(notify) : undefined;
  const deliverStart = notifyStart ?? (events.length > 0 ? first(events) : totalMs);
  const commitMs = notify.length > 0 ? span(of('commit').filter((c) => c.start >= notifyStart!)) : 0;
  const eventsFrom = notifyEnd ?? deliverStart;
  const eventsMs = events.length > 0 ? Math.min(totalMs, last(events)) - eventsFrom : 0;
  const evaluateMs = confirmStart !== undefined ? confirmStart - readEnd : 0;
  const confirmMs = confirmStart !== undefined ? Math.min(confirmEnd!, deliverStart) - confirmStart : 0;
  const diffMs = deliverStart - (confirmEnd ?? readEnd);
  const notifyMs = notifyStart !== undefined ? Math.min(notifyEnd!, totalMs) - notifyStart : 0;
  const slackMs = notifyMs - commitMs;
  const known = readEnd + evaluateMs + confirmMs + diffMs + slackMs + commitMs + Math.max(0, eventsMs);
  return {
    reportUsersMs: readEnd,
    evaluateMs,
    confirmMs,
    diffMs,
    aliasMs: span(alias),
    slackMs,
    commitMs,
    eventsMs: Math.max(0, eventsMs),
    otherMs: Math.max(0, totalMs - known),
    totalMs,
  };
}

const isAnnouncement = (c: AcceptedMessage['changes'][number]) =>
  c.kind === 'opened' || c.kind === 'escalated';

export async function measureDelivery(
  ratePerSecond: number,
  users: number,
  workerJs: string,
  tmp: string,
): Promise<DeliveryFigures> {
  checkDeliveryMargin();
  const started = new Date();
  const t0 = performance.now();
  const config = loadConfig({}, 'the default configuration');
  const timeoutS = config.timeoutSeconds;
  const reminderIntervalMs = config.reminderHours * 3_600_000;
  const throttle = { ratePerSecond, burst: HARNESS.throttle.burst };
  const account = generateAccount({ users, seed: SEED, now: NOW });
  const keys = account.users().reduce((n, u) => n + u.accessKeys.length, 0);
  const loadBefore = os.loadavg()[0]!;

  const iam = await startIamEndpoint({ account, latencyMs: HARNESS.latencyMs, throttle });
  const dynamo = await startDynalite();
  const eventBridge = await startEventBridgeEndpoint();
  const receiver = await startSlackReceiver();
  const slack = await startLimitedSlack(receiver, DELIVERY.slack);
  try {
    await generateReports([iam.url]);
    await settle([iam], throttle);
    const runs: DeliveryRun[] = [];
    for (let i = 0; i < DELIVERY.runs; i++) {
      const now = new Date(NOW.getTime() + i * DELIVERY.intervalMs);
      log(
        `delivery, IAM at ${ratePerSecond} requests/s: run ${i + 1} of ${DELIVERY.runs} (${now.toISOString()}; up to ${timeoutS} s)`,
      );
      const out = join(tmp, `delivery-${ratePerSecond}-${i + 1}.json`);
      const input: DeliveryWorkerInput = {
        now: now.toISOString(),
        out,
        iamUrl: iam.url,
        dynamoUrl: dynamo.endpoint,
        tableName: dynamo.tableName,
        eventsUrl: eventBridge.url,
        webhookUrl: slack.url,
        timeoutMs: timeoutS * 1000,
        deliveryMarginMs: DELIVERY.deliveryMarginMs,
        reminderIntervalMs,
        reportDeadlineMs: config.reportDeadlineSeconds * 1000,
      };
      const slackBefore = slack.counts();
      const acceptedBefore = receiver.delivered().length;
      await runNode([workerJs, JSON.stringify(input)], {
        // The watchdog ends the worker at the timeout; this only catches a worker that hangs past it.
        timeoutMs: timeoutS * 1000 + 60_000,
        what: `delivery run ${i + 1} at ${ratePerSecond} requests/s`,
      });
      const worker = JSON.parse(readFileSync(out, 'utf8')) as DeliveryWorkerOutput;
      rmSync(out);
      const slackAfter = slack.counts();
      const totalMs = worker.timedOut ? timeoutS * 1000 : (worker.wallMs ?? timeoutS * 1000);
      const changes = worker.accepted.flatMap((m) => m.changes);
      runs.push({
        now: now.toISOString(),
        worker,
        phases: phasesOf(worker.timeline, totalMs),
        iamRequests: iam.counts(),
        slackAccepted: receiver.delivered().length - acceptedBefore,
        slackRateLimited: slackAfter.rateLimited - slackBefore.rateLimited,
        announced: changes.filter(isAnnouncement).length,
        reminders: changes.filter((c) => c.kind === 'reminder').length,
      });
      log(
        `  ${worker.timedOut ? 'TIMED OUT' : `${num((worker.wallMs ?? 0) / 1000, 1)} s`}: ${worker.accepted.length} messages, ${runs.at(-1)!.announced} findings announced${worker.error ? `; error: ${worker.error}` : ''}`,
      );
      await settle([iam], throttle);
    }

    // What was said over the runs, from what Slack accepted (the notifier's onDelivered).
    const said = new Map<string, number>();
    for (const run of runs) {
      for (const c of run.worker.accepted.flatMap((m) => m.changes).filter(isAnnouncement)) {
        const key = `${c.id}\u0000${c.severity}`;
        said.set(key, (said.get(key) ?? 0) + 1);
      }
    }
    const repeated = [...said.values()].filter((n) => n > 1);
    const announcedIds = new Set([...said.keys()].map((k) => k.split('\u0000')[0]!));
    const toSay = new Set(runs.flatMap((r) => r.worker.result?.paging ?? []));
    const neverSaid = [...toSay].filter((id) => !announcedIds.has(id)).length;
    const stateItems = await countItems(dynamo.client, dynamo.tableName);
    const eventKeys = eventBridge.entries.map((e) => `${e.DetailType}\u0000${e.Detail}`);
    return {
      ratePerSecond,
      burst: throttle.burst,
      users,
      keys,
      timeoutS,
      deliveryMarginMs: DELIVERY.deliveryMarginMs,
      runs,
      toSay: toSay.size,
      duplicateFindings: repeated.length,
      duplicateAnnouncements: repeated.reduce((n, k) => n + k - 1, 0),
      neverSaid,
      stateItems,
      eventsReceived: eventKeys.length,
      eventsDistinct: new Set(eventKeys).size,
      loadAverage: { before: loadBefore, after: os.loadavg()[0]! },
      startedAt: started.toISOString(),
      durationMs: performance.now() - t0,
    };
  } finally {
    await slack.close();
    await receiver.close();
    await eventBridge.close();
    await dynamo.close();
    await iam.close();
  }
}

/** Items in the table (state of every finding, and the outbox entries still waiting). */
async function countItems(client: DynamoDBClient, tableName: string): Promise<number> {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}
