/** What every part of the benchmark does to the local IAM endpoints before a timed scan. */
import { IamAdapter } from '../lambda/adapters/iam';
import { mapLimit } from '../lambda/scan';
import type { IamEndpoint, ThrottleOptions } from '../test/support/iam-endpoint';
import { benchClient } from './client';
import { HARNESS } from './settings';

/** Reports of an organization's members are generated this many at once before the timed scans. */
const REPORT_CONCURRENCY = 16;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Has IAM generate each endpoint's credential report, so the timed scans find it COMPLETE. */
export async function generateReports(urls: readonly string[]): Promise<void> {
  await mapLimit(urls, REPORT_CONCURRENCY, async (url) => {
    const client = benchClient(url);
    try {
      await new IamAdapter({ client, pollIntervalMs: 50, reportDeadlineMs: 60_000 }).getReport();
    } finally {
      client.destroy();
    }
  });
}

/** Lets the token buckets refill, and forgets what the endpoints counted so far. */
export async function settle(
  endpoints: readonly IamEndpoint[],
  throttle: Pick<ThrottleOptions, 'burst' | 'ratePerSecond'> = HARNESS.throttle,
): Promise<void> {
  await sleep((throttle.burst / throttle.ratePerSecond) * 1000 + 100);
  for (const e of endpoints) e.resetCounts();
}
