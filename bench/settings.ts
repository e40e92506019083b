/** The benchmark's fixed settings, shared by the runner (bench/run.ts) and the report (bench/report.ts). */

/** The harness: every IAM endpoint, of one account or of each member of an organization, has these settings. */
export const HARNESS = {
  latencyMs: 20,
  throttle: { ratePerSecond: 20, burst: 10 },
} as const;

/** Accounts are generated from this seed at this instant: the same accounts every run. */
export const SEED = 'credwatch-bench';
export const NOW = new Date('2025-06-01T12:00:00Z');
/** The steady-state scan runs this long after the first: the schedule's interval. */
export const STEADY_AFTER_MS = 10 * 60_000;
/** How long an open finding stays quiet before a reminder (the Lambda's default, 24 hours). */
export const REMINDER_INTERVAL_MS = 24 * 3_600_000;

export const DEFAULT_SIZES = [100, 1_000, 5_000];
/** Above this many users the per-user scan is extrapolated unless `--full-naive` (5,000 users take ~8 min). */
export const NAIVE_RUN_LIMIT = 1_000;
/**
 * The reminder scan (a third scheduled scan, 24 hours after the first) runs at sizes up to this many
 * users unless `--full-reminder` (it costs about what the first scan costs).
 */
export const REMINDER_RUN_LIMIT = 100;
/** parse + evaluate CPU: warm-up runs, then timed runs (the best is reported). */
export const CPU_WARMUPS = 2;
export const CPU_RUNS = 7;

/** Multi-account: member accounts of each organization, users per member, accounts scanned at once. */
export const DEFAULT_ACCOUNTS = [50, 200];
export const ORG_USERS = 200;
export const ORG_CONCURRENCY = 8;
export const MEMBER_ROLE = 'credwatch-member';
/** Above this many accounts the first scan is extrapolated unless `--full-org` (200 accounts take ~4 min). */
export const ORG_FIRST_RUN_LIMIT = 50;

/** A worker process is killed after this long (the per-user scan at 10,000 users takes ~16 min). */
export const SCAN_TIMEOUT_MS = 30 * 60_000;

/** The targets of docs/design.md (section "Targets"). */
export const TARGETS = {
  naiveCallRatio: 100,
  wallMs: 2_000,
  cpuMs: 50,
  peakRssMiB: 128,
  bundleBytes: 1024 * 1024,
  atUsers: 5_000,
} as const;

/** One Lambda invocation, for the multi-account capacity figures. */
export const LAMBDA = {
  /** The Lambda maximum (the stack's default `timeoutSeconds` is 300). */
  timeoutS: 900,
  /** Kept back for what the harness leaves out (see docs/benchmarks.md, "Accounts per invocation"). */
  safetyMarginS: 300,
  /** The stack's default `memoryMb`. */
  memoryMb: 512,
  /** Lambda gives a function one vCPU's worth of CPU at 1,769 MB, in proportion below it. */
  memoryMbPerVcpu: 1_769,
  /** SlackSender's pacing: one message a second (Slack's incoming-webhook rate limit). */
  slackMessageS: 1,
} as const;

/**
 * Delivery within the stack's timeout (bench/delivery.ts): a first run of this many users with IAM
 * throttled at each rate (burst and latency as {@link HARNESS}), then more runs `intervalMs` apart by
 * the scans' clock. The function's timeout and reminder interval are the stack's defaults (lib/config/index.ts).
 */
export const DELIVERY = {
  users: 5_000,
  rates: [10, 20],
  runs: 3,
  intervalMs: STEADY_AFTER_MS,
  /** lambda/handler.ts keeps this much of the invocation back (DELIVERY_MARGIN_MS, not exported). */
  deliveryMarginMs: 15_000,
  /** Slack's incoming-webhook limit: about one message a second, short bursts allowed. */
  slack: { ratePerSecond: 1, burst: 3 },
} as const;

/** The CLI on a large report (bench/cli.ts): formats, timed runs each (the best is reported), targets. */
export const CLI = {
  users: 50_000,
  formats: ['table', 'json', 'csv', 'ocsf', 'sarif', 'html'],
  runs: 3,
  targetWallMs: 5_000,
  targetRssMB: 300,
  /** Functions listed per format that misses a target (its `--cpu-prof` profile). */
  hotSpots: 12,
} as const;

/**
 * Alerts at scale (bench/alerts.ts, issue 12): the organization of the scans part (its largest size,
 * {@link ORG_USERS} users each) under the default notification policy and announce-everything, with
 * the targets. Slack's incoming-webhook limit as the receiver holds it: 1 message a second,
 * no burst beyond one (test/support/slack-receiver.ts `rateLimit`, its defaults).
 */
export const ALERTS = {
  accounts: 200,
  /** The reminder run comes this long after the first: one reminder interval. */
  reminderAfterMs: REMINDER_INTERVAL_MS,
  slack: { perSecond: 1, burst: 1 },
  targets: {
    /** Messages per channel on the first run. */
    firstRunMessages: 3,
    /** IAM calls of the first run over the steady state's, at most. */
    firstOverSteadyCalls: 0.1,
  },
} as const;

/** What a message is, by the post it renders (lambda/core/notification-plan.ts `Post`), and the cap's overflow; in sending order. */
export type MessageKind = 'baseline' | 'digest' | 'roll-up' | 'owner' | 'overflow';
export const MESSAGE_KINDS: readonly MessageKind[] = ['baseline', 'digest', 'roll-up', 'owner', 'overflow'];
