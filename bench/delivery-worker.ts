/**
 * One scheduled run as the Lambda runs it, in a fresh process: `monitor()` with the deadline
 * lambda/handler.ts gives it (invocation start + remaining time − its delivery margin), the real
 * adapters (IAM, the DynamoDB state store and outbox, EventBridge, Slack's notifier and sender)
 * pointed at local stand-ins, and a watchdog that ends the process at the function's timeout as
 * Lambda would. Every port is wrapped with a timer, from outside: nothing in lambda/ is changed.
 *
 * Argument: a {@link DeliveryWorkerInput} as JSON. Writes a {@link DeliveryWorkerOutput} as JSON to
 * `input.out`, also when the watchdog fires (then `timedOut` is true). Runs on load: import only its types.
 */
import { writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { EventPublisher } from '../lambda/adapters/event-publisher';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from '../lambda/adapters/iam';
import { REQUEST_TIMEOUTS } from '../lambda/adapters/sdk';
import { SlackNotifier } from '../lambda/adapters/slack/notifier';
import { SlackSender } from '../lambda/adapters/slack/sender';
import { DynamoStateStore } from '../lambda/adapters/state-store';
import { pages } from '../lambda/core/diff';
import { ANNOUNCE_EVERYTHING } from '../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../lambda/core/policy';
import type { ChangeKind } from '../lambda/core/state';
import { type MonitorResult, monitor } from '../lambda/monitor';
import type {
  EventOutbox,
  EventSink,
  IamDirectory,
  Notifier,
  ReportSource,
  StateStore,
} from '../lambda/ports';
import { FAKE_CREDENTIALS, REGION } from './client';
import { BenchError } from './errors';
import { peakRssKiB } from './peak-rss.cjs';

export interface DeliveryWorkerInput {
  /** The instant the run judges by (ISO). */
  readonly now: string;
  readonly out: string;
  readonly iamUrl: string;
  readonly dynamoUrl: string;
  readonly tableName: string;
  readonly eventsUrl: string;
  /** The webhook (a local, fake one). */
  readonly webhookUrl: string;
  /** The function's timeout: what `context.getRemainingTimeInMillis()` says at the start. */
  readonly timeoutMs: number;
  /** lambda/handler.ts's DELIVERY_MARGIN_MS. */
  readonly deliveryMarginMs: number;
  readonly reminderIntervalMs: number;
  readonly reportDeadlineMs: number;
}

/** What a wrapped port was doing, from `start` to `end` (ms since the invocation started). */
export type PortKind =
  | 'report'
  | 'users'
  | 'state-load'
  | 'confirm'
  | 'alias'
  | 'notify'
  | 'commit'
  | 'events';

export interface Interval {
  readonly kind: PortKind;
  readonly start: number;
  readonly end: number;
}

/** One message Slack accepted (the notifier's `onDelivered`), with the changes it carried. */
export interface AcceptedMessage {
  /** ms since the invocation started. */
  readonly at: number;
  readonly changes: readonly {
    readonly id: string;
    readonly kind: ChangeKind;
    readonly severity: string;
    /** The finding was judged from the report, its user's keys not read live in time. */
    readonly unconfirmed?: true;
  }[];
}

/** The digest the notifier was handed (known even when the run is killed before monitor() returns). */
export interface Digest {
  readonly changes: number;
  /** Changes whose finding is marked unconfirmed. */
  readonly unconfirmed: number;
}

export interface DeliveryWorkerOutput {
  /** The watchdog ended the process at the timeout: what follows is what it had done by then. */
  readonly timedOut: boolean;
  /** monitor() threw (the own account's scan failed): its message. */
  readonly error?: string;
  /** ms since the invocation started: the deadline given to monitor(), and when monitor() returned. */
  readonly deadlineMs: number;
  readonly wallMs?: number;
  readonly timeline: readonly Interval[];
  readonly accepted: readonly AcceptedMessage[];
  readonly digest?: Digest;
  /** From monitor()'s result (absent when it did not return). */
  readonly result?: {
    readonly findings: number;
    /** Ids of the findings that page (announced when new or worse). */
    readonly paging: readonly string[];
    /** Ids of the findings marked unconfirmed (their user's keys not read live in time). */
    readonly unconfirmed: readonly string[];
    readonly usersConfirmed: number;
    readonly usersUnconfirmed: number;
    readonly calls: Record<string, number>;
    readonly changesByKind: Record<string, number>;
    readonly messages: number;
    readonly messagesDelivered: number;
    readonly delivered: number;
    readonly deliveryError?: string;
    readonly commitError?: string;
    readonly eventError?: string;
    readonly eventsPublished: number;
    readonly eventsPending: number;
    readonly uncertain: number;
  };
  /** Peak RSS of the process, MiB. */
  readonly maxRssMiB: number;
}

const raw = process.argv[2];
if (raw === undefined) throw new BenchError('delivery-worker: expected a JSON input as the first argument');
const input = JSON.parse(raw) as DeliveryWorkerInput;

// The handler's `started` (Date.now() on entry) and its context's remaining time.
const invokedAt = Date.now();
const t0 = performance.now();
const since = () => performance.now() - t0;
const remaining = () => input.timeoutMs - (Date.now() - invokedAt);
const deadline = invokedAt + remaining() - input.deliveryMarginMs;

const timeline: Interval[] = [];
const accepted: AcceptedMessage[] = [];
let digest: Digest | undefined;
const MIB = 1024 * 1024;

function write(
  output: Omit<DeliveryWorkerOutput, 'timeline' | 'accepted' | 'digest' | 'deadlineMs' | 'maxRssMiB'>,
) {
  const full: DeliveryWorkerOutput = {
    ...output,
    deadlineMs: deadline - invokedAt,
    timeline,
    accepted,
    ...(digest ? { digest } : {}),
    maxRssMiB: (peakRssKiB() * 1024) / MIB,
  };
  writeFileSync(input.out, JSON.stringify(full));
}

// Lambda ends the invocation at its timeout, whatever it is doing.
const watchdog = setTimeout(() => {
  write({ timedOut: true });
  process.exit(0);
}, input.timeoutMs);

async function timed<T>(kind: PortKind, fn: () => Promise<T>): Promise<T> {
  const start = since();
  try {
    return await fn();
  } finally {
    timeline.push({ kind, start, end: since() });
  }
}

async function main(): Promise<void> {
  const iamClient = new IAMClient({
    ...IAM_CLIENT_DEFAULTS,
    endpoint: input.iamUrl,
    region: REGION,
    credentials: FAKE_CREDENTIALS,
  });
  const dynamo = new DynamoDBClient({
    endpoint: input.dynamoUrl,
    region: REGION,
    credentials: FAKE_CREDENTIALS,
    ...REQUEST_TIMEOUTS,
  });
  const eventBridge = new EventBridgeClient({
    endpoint: input.eventsUrl,
    region: REGION,
    credentials: FAKE_CREDENTIALS,
    ...REQUEST_TIMEOUTS,
  });
  const iam = new IamAdapter({ client: iamClient, reportDeadlineMs: input.reportDeadlineMs });
  const store = new DynamoStateStore({ tableName: input.tableName, client: dynamo });
  const publisher = new EventPublisher({ eventBusName: 'default', client: eventBridge });

  const report: ReportSource = { getReport: (p) => timed('report', () => iam.getReport(p)) };
  const directory: IamDirectory = {
    listUsers: () => timed('users', () => iam.listUsers()),
    listAccessKeys: (user) => timed('confirm', () => iam.listAccessKeys(user)),
    getAccessKeyLastUsed: (id) => timed('confirm', () => iam.getAccessKeyLastUsed(id)),
    accountAlias: () => timed('alias', () => iam.accountAlias()),
    rootMfaIsVirtual: () => timed('users', () => iam.rootMfaIsVirtual()),
  };
  const state: StateStore = {
    load: (accountId) => timed('state-load', () => store.load(accountId)),
    commit: (states) => timed('commit', () => store.commit(states)),
    markKnown: (ids, at) => timed('commit', () => store.markKnown(ids, at)),
  };
  const outbox: EventOutbox = {
    add: (changes, at) => timed('commit', () => store.add(changes, at)),
    pending: (options) => timed('events', () => store.pending(options)),
    remove: (keys) => timed('events', () => store.remove(keys)),
  };
  const events: EventSink = { publish: (changes) => timed('events', () => publisher.publish(changes)) };
  const notifier = async (): Promise<Notifier> => {
    const slack = new SlackNotifier(new SlackSender({ webhookUrl: input.webhookUrl }));
    return {
      notify: (posts, heading, options) => {
        const changes = posts.flatMap((p) => p.carries);
        digest = {
          changes: changes.length,
          unconfirmed: changes.filter((c) => c.finding.unconfirmed).length,
        };
        return timed('notify', () =>
          slack.notify(posts, heading, {
            ...options,
            onDelivered: async (carried, announcedIn) => {
              // Slack has taken this message: it is said, whatever the commit then does.
              accepted.push({
                at: since(),
                changes: carried.map((c) => ({
                  id: c.finding.id,
                  kind: c.kind,
                  severity: c.finding.severity,
                  ...(c.finding.unconfirmed ? { unconfirmed: true as const } : {}),
                })),
              });
              await options.onDelivered(carried, announcedIn);
            },
          }),
        );
      },
    };
  };

  const now = new Date(input.now);
  let result: MonitorResult;
  try {
    result = await monitor({
      accounts: [{ scan: { report, directory, counter: iam, thresholds: DEFAULT_THRESHOLDS, now } }],
      now,
      state,
      outbox,
      notifier,
      events,
      reminderIntervalMs: input.reminderIntervalMs,
      // The worst case for delivery, as measured: every finding in its own entry (no baseline, no
      // roll-up, the highest cap). With the defaults a first run is one baseline summary.
      notifications: ANNOUNCE_EVERYTHING,
      deadline,
    });
  } catch (err) {
    write({ timedOut: false, wallMs: since(), error: err instanceof Error ? err.message : String(err) });
    return;
  } finally {
    iamClient.destroy();
    dynamo.destroy();
    eventBridge.destroy();
  }
  const wallMs = since();
  const scans = result.accounts.flatMap((a) => (a.scan ? [a.scan] : []));
  const findings = scans.flatMap((s) => s.findings);
  const changesByKind: Record<string, number> = {};
  for (const c of result.changes) changesByKind[c.kind] = (changesByKind[c.kind] ?? 0) + 1;
  const calls: Record<string, number> = {};
  for (const s of scans) for (const [k, v] of Object.entries(s.iamCalls)) calls[k] = (calls[k] ?? 0) + v;
  write({
    timedOut: false,
    wallMs,
    ...(result.accounts.some((a) => a.error)
      ? { error: result.accounts.map((a) => a.error?.message ?? '').join('; ') }
      : {}),
    result: {
      findings: findings.length,
      paging: findings.filter(pages).map((f) => f.id),
      unconfirmed: findings.filter((f) => f.unconfirmed).map((f) => f.id),
      usersConfirmed: scans.reduce((n, s) => n + s.usersConfirmed, 0),
      usersUnconfirmed: scans.reduce((n, s) => n + s.usersUnconfirmed, 0),
      calls,
      changesByKind,
      messages: result.messages,
      messagesDelivered: result.messagesDelivered,
      delivered: result.delivered.length,
      ...(result.deliveryError ? { deliveryError: result.deliveryError.message } : {}),
      ...(result.commitError ? { commitError: result.commitError.message } : {}),
      ...(result.eventError ? { eventError: result.eventError.message } : {}),
      eventsPublished: result.eventsPublished,
      eventsPending: result.eventsPending,
      uncertain: result.uncertain,
    },
  });
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(watchdog));
