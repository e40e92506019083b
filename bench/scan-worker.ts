/**
 * One timed scan in a fresh process, so its peak memory (maxRSS) is the scan's own: bench/run.ts
 * bundles this file with esbuild and runs it with plain `node` (no tsx in the measured process).
 *
 * Argument: a {@link WorkerInput} as JSON. Writes a {@link WorkerOutput} as JSON to `input.out`.
 * Runs on load: import only its types.
 */
import { writeFileSync } from 'node:fs';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { assumeRoleCredentials, memberRoleArn } from '../lambda/adapters/assume-role';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from '../lambda/adapters/iam';
import { type RenderedMessage, renderPosts, SlackNotifier } from '../lambda/adapters/slack/notifier';
import { SlackSender } from '../lambda/adapters/slack/sender';
import type { NotificationPolicy, Post } from '../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../lambda/core/policy';
import { type AccountJob, monitor } from '../lambda/monitor';
import type { DigestHeading, Notifier } from '../lambda/ports';
import { scan } from '../lambda/scan';
import { startSlackReceiver } from '../test/support/slack-receiver';
import { benchClient, FAKE_CREDENTIALS, REGION } from './client';
import { BenchError } from './errors';
import { FileStateStore } from './file-state';
import { naiveScan } from './naive-scan';
import { peakRssKiB } from './peak-rss.cjs';
import { MESSAGE_KINDS, type MessageKind } from './settings';

/** What a scheduled scan (`monitor`) scans: one account at a URL, or the members of a local organization. */
export type MonitorTarget =
  | { readonly kind: 'account'; readonly url: string }
  | {
      readonly kind: 'organization';
      /** The organization's IAM router and STS (test/support/organization-endpoints.ts). */
      readonly iamUrl: string;
      readonly stsUrl: string;
      readonly memberRoleName: string;
      readonly accounts: readonly { readonly id: string; readonly name: string }[];
    };

export type WorkerInput = {
  /** The instant the scan judges by (ISO). */
  readonly now: string;
  /** Where to write the {@link WorkerOutput}. */
  readonly out: string;
} & (
  | {
      /** The seed's per-user scan. */
      readonly mode: 'naive';
      readonly url: string;
    }
  | {
      /** What the CLI does: IamAdapter + scan(), every would-be access-key finding confirmed live. */
      readonly mode: 'cli';
      readonly url: string;
    }
  | {
      /** The scheduled scan: monitor() with a state store in `stateDir` and a notifier that only counts. */
      readonly mode: 'monitor';
      readonly target: MonitorTarget;
      readonly stateDir: string;
      /** How long an open finding stays quiet before a reminder. */
      readonly reminderIntervalMs: number;
      /** Accounts scanned at once. @default monitor's (8) */
      readonly concurrency?: number;
      /** monitor()'s `notifications`. @default none given: monitor() uses DEFAULT_NOTIFICATION_POLICY */
      readonly notifications?: NotificationPolicy;
      /**
       * Deliver through the real SlackNotifier + SlackSender (its default pacing) to a Slack receiver
       * started in this process with this rate limit, both on one virtual clock: no real waiting.
       * Without it the notifier only counts (and renders) the messages.
       */
      readonly slack?: { readonly perSecond: number; readonly burst: number };
    }
);

/** `monitor` mode: what the channel was handed, with the cap and without it (renderPosts). */
export interface NotifiedFigures {
  /** Messages of the run, cap applied (what the channel posts), by kind. */
  readonly byKind: Record<MessageKind, number>;
  /** The same posts rendered without a cap: what a cap high enough for everything would post. */
  readonly uncappedByKind: Record<MessageKind, number>;
  /** Owners with a list in the plan (the owners of the reminded findings). */
  readonly owners: number;
  /** Of them, owners whose list was posted; the others are folded into the overflow summary. */
  readonly ownersMessaged: number;
  /** Header text of the first {@link HEADERS_KEPT} messages posted, in order. */
  readonly headers: readonly string[];
  /** With `slack`: what the receiver saw, on the virtual clock. */
  readonly slack?: {
    readonly requests: number;
    readonly shown: number;
    readonly rateLimited: number;
    /** Requests refused for another reason (a Block Kit limit: a credwatch bug). */
    readonly refused: number;
    /** The most messages shown within any one second (the receiver's `largestBurst()`). */
    readonly largestBurst: number;
    /** Virtual time from the first message to the end of delivery, ms. */
    readonly deliveryMs: number;
    readonly minIntervalMs: number;
  };
}

export interface WorkerOutput {
  readonly mode: WorkerInput['mode'];
  /** Wall time of the scan alone (the credential reports were already COMPLETE). */
  readonly wallMs: number;
  /** CPU time (user + system) of the process during the scan. */
  readonly cpuMs: number;
  /** RSS once the modules were loaded, before the scan, in MiB. */
  readonly rssBeforeMiB: number;
  /** The process's own peak RSS (bench/peak-rss.cjs), in MiB. */
  readonly maxRssMiB: number;
  /** Largest V8 heapUsed seen while scanning (sampled every {@link SAMPLE_MS} ms), in MiB. */
  readonly peakHeapUsedMiB: number;
  /** Logical IAM calls by action, summed over the accounts. */
  readonly calls: Record<string, number>;
  /** HTTP requests by action as the adapters counted them, SDK retries included (not `naive`). */
  readonly requests: Record<string, number>;
  /** Accounts scanned, and how many of them failed (`monitor`). */
  readonly accounts: number;
  readonly failedAccounts: number;
  /** The first few failures, `accountId: message`. */
  readonly failures: readonly string[];
  /** Users judged (root included), summed over the accounts; `naive`: users listed. */
  readonly users: number;
  /** Users whose keys were read live to confirm findings. */
  readonly usersConfirmed: number;
  /** `naive`: access keys found. */
  readonly keys: number;
  readonly findings: number;
  /** `monitor`: changes of the digest, those delivered (all: the notifier takes everything) and messages. */
  readonly changes: number;
  readonly delivered: number;
  readonly messages: number;
  /** `monitor`: the messages by kind, capped and not, and the owners (see {@link NotifiedFigures}). */
  readonly notified?: NotifiedFigures;
}

type Counts = Omit<
  WorkerOutput,
  'mode' | 'wallMs' | 'cpuMs' | 'rssBeforeMiB' | 'maxRssMiB' | 'peakHeapUsedMiB'
>;

const MIB = 1024 * 1024;
/** How often the heap is sampled during the scan. */
const SAMPLE_MS = 25;
const MAX_FAILURES_SHOWN = 3;
const HEADERS_KEPT = 12;
/** SlackSender's pacing: its default `minIntervalMs` (lambda/adapters/slack/sender.ts). */
const SENDER_MIN_INTERVAL_MS = 1_000;

const kindOf = (m: RenderedMessage): MessageKind =>
  m.owner !== undefined ? 'owner' : (m.announcedIn ?? 'digest');

function byKind(messages: readonly RenderedMessage[]): Record<MessageKind, number> {
  const counts = Object.fromEntries(MESSAGE_KINDS.map((k) => [k, 0])) as Record<MessageKind, number>;
  for (const m of messages) counts[kindOf(m)]++;
  return counts;
}

const headerOf = (m: RenderedMessage) => {
  const first = m.message.blocks[0];
  return first?.type === 'header' ? first.text.text : m.message.text;
};

/** What the notifier is handed, tallied as the channel posts it (cap applied) and as no cap would. */
function tally(posts: readonly Post[], heading: DigestHeading, maxMessages: number | undefined) {
  const sent = renderPosts(posts, heading, maxMessages);
  const all = renderPosts(posts, heading);
  return {
    byKind: byKind(sent),
    uncappedByKind: byKind(all),
    owners: new Set(posts.flatMap((p) => (p.kind === 'owner' ? [p.owner] : []))).size,
    ownersMessaged: sent.filter((m) => m.owner !== undefined).length,
    headers: sent.slice(0, HEADERS_KEPT).map(headerOf),
  };
}

const add = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

const none = { accounts: 1, failedAccounts: 0, failures: [], changes: 0, delivered: 0, messages: 0 };

/** The IAM adapter of each account of the target, and the clients to close afterwards. */
function accountJobs(target: MonitorTarget, now: Date) {
  const thresholds = DEFAULT_THRESHOLDS;
  if (target.kind === 'account') {
    const client = benchClient(target.url);
    const adapter = new IamAdapter({ client });
    const jobs: AccountJob[] = [
      { scan: { report: adapter, directory: adapter, counter: adapter, thresholds, now } },
    ];
    return { jobs, adapters: [adapter], clients: [client] };
  }
  // One STS client for every AssumeRole, one IAM client (with its own credentials and retry
  // limiter) per member account, as a multi-account deployment wires them.
  const sts = new STSClient({ endpoint: target.stsUrl, region: REGION, credentials: FAKE_CREDENTIALS });
  const adapters: IamAdapter[] = [];
  const clients: { destroy(): void }[] = [sts];
  const jobs = target.accounts.map((a): AccountJob => {
    const client = new IAMClient({
      ...IAM_CLIENT_DEFAULTS,
      endpoint: target.iamUrl,
      region: REGION,
      credentials: assumeRoleCredentials({
        roleArn: memberRoleArn(a.id, target.memberRoleName),
        client: sts,
      }),
    });
    const adapter = new IamAdapter({ client });
    adapters.push(adapter);
    clients.push(client);
    return {
      accountId: a.id,
      name: a.name,
      scan: { report: adapter, directory: adapter, counter: adapter, thresholds, now },
    };
  });
  return { jobs, adapters, clients };
}

async function runMonitor(input: Extract<WorkerInput, { mode: 'monitor' }>): Promise<Counts> {
  const now = new Date(input.now);
  const { jobs, adapters, clients } = accountJobs(input.target, now);
  let messages = 0;
  let notified: Omit<NotifiedFigures, 'slack'> | undefined;
  // Slack's rendering and splitting, without Slack: every message is taken at once.
  let deliver: Notifier['notify'] = async (posts, heading, options) => {
    const parts = renderPosts(posts, heading, options.maxMessages);
    for (const part of parts) await options.onDelivered(part.carries, part.announcedIn);
    return { messages: parts.length, messagesDelivered: parts.length, uncertain: 0 };
  };
  // Or the real notifier and sender, paced on a virtual clock the receiver's rate limit shares.
  let virtualMs = 0;
  let firstSentAt: number | undefined;
  const receiver = input.slack
    ? await startSlackReceiver({ rateLimit: { ...input.slack, clock: () => virtualMs } })
    : undefined;
  if (receiver) {
    const slack = new SlackNotifier(
      new SlackSender({
        webhookUrl: receiver.url,
        minIntervalMs: SENDER_MIN_INTERVAL_MS,
        clock: () => virtualMs,
        sleep: async (ms) => {
          virtualMs += ms;
        },
      }),
    );
    deliver = (posts, heading, options) =>
      slack.notify(posts, heading, {
        ...options,
        onDelivered: async (carried, announcedIn) => {
          firstSentAt ??= virtualMs;
          await options.onDelivered(carried, announcedIn);
        },
      });
  }
  const notifier: Notifier = {
    notify: async (posts, heading, options) => {
      // One channel, so one notify() a run.
      if (notified) throw new BenchError('scan-worker: notify() was called twice in one run');
      notified = tally(posts, heading, options.maxMessages);
      const result = await deliver(posts, heading, options);
      messages += result.messages;
      return result;
    },
  };
  try {
    const result = await monitor({
      accounts: jobs,
      now,
      state: new FileStateStore(input.stateDir),
      notifier: async () => notifier,
      reminderIntervalMs: input.reminderIntervalMs,
      ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
      ...(input.notifications ? { notifications: input.notifications } : {}),
    });
    if (result.deliveryError) throw new BenchError(`delivery stopped: ${result.deliveryError.message}`);
    if (result.commitError) throw new BenchError(`state commit failed: ${result.commitError.message}`);
    // Read after monitor(): the account-alias lookup for the digest is an IAM call too.
    const calls: Record<string, number> = {};
    const requests: Record<string, number> = {};
    for (const a of adapters) {
      add(calls, a.calls());
      add(requests, a.requests());
    }
    const scanned = result.accounts.flatMap((o) => (o.scan ? [o.scan] : []));
    const failed = result.accounts.filter((o) => o.error);
    return {
      calls,
      requests,
      accounts: result.accounts.length,
      failedAccounts: failed.length,
      failures: failed.slice(0, MAX_FAILURES_SHOWN).map((o) => `${o.accountId}: ${o.error?.message}`),
      users: scanned.reduce((n, s) => n + s.usersScanned, 0),
      usersConfirmed: scanned.reduce((n, s) => n + s.usersConfirmed, 0),
      keys: 0,
      findings: scanned.reduce((n, s) => n + s.findings.length, 0),
      changes: result.changes.length,
      delivered: result.delivered.length,
      messages,
      ...(notified
        ? {
            notified: {
              ...notified,
              ...(receiver
                ? {
                    slack: {
                      requests: receiver.requests.length,
                      shown: receiver.delivered().length,
                      rateLimited: receiver.requests.filter((r) => r.answeredWith === 429).length,
                      refused: receiver.requests.filter((r) => r.refusedFor !== undefined).length,
                      largestBurst: receiver.largestBurst(),
                      deliveryMs: virtualMs - (firstSentAt ?? virtualMs),
                      minIntervalMs: SENDER_MIN_INTERVAL_MS,
                    },
                  }
                : {}),
            },
          }
        : {}),
    };
  } finally {
    for (const c of clients) c.destroy();
    await receiver?.close();
  }
}

async function run(input: WorkerInput): Promise<Counts> {
  switch (input.mode) {
    case 'monitor':
      return runMonitor(input);
    case 'cli': {
      const client = benchClient(input.url);
      const adapter = new IamAdapter({ client });
      try {
        const result = await scan({
          report: adapter,
          directory: adapter,
          counter: adapter,
          thresholds: DEFAULT_THRESHOLDS,
          now: new Date(input.now),
        });
        return {
          ...none,
          calls: result.iamCalls,
          requests: result.iamRequests,
          users: result.usersScanned,
          usersConfirmed: result.usersConfirmed,
          keys: 0,
          findings: result.findings.length,
        };
      } finally {
        client.destroy();
      }
    }
    case 'naive': {
      const client = benchClient(input.url);
      try {
        const result = await naiveScan(client);
        return {
          ...none,
          calls: result.calls,
          requests: {},
          users: result.users,
          usersConfirmed: 0,
          keys: result.keys,
          findings: 0,
        };
      } finally {
        client.destroy();
      }
    }
  }
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined)
    throw new BenchError('scan-worker: expected a JSON WorkerInput as the first argument');
  const input = JSON.parse(raw) as WorkerInput;
  const rssBefore = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, SAMPLE_MS);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const counts = await run(input);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const output: WorkerOutput = {
    mode: input.mode,
    ...counts,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBeforeMiB: rssBefore / MIB,
    // The process's own peak (VmHWM), in KiB: maxRSS would count the bench's RSS at the fork.
    maxRssMiB: (peakRssKiB() * 1024) / MIB,
    peakHeapUsedMiB: peakHeap / MIB,
  };
  writeFileSync(input.out, JSON.stringify(output));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
