/**
 * The root user was used recently: CIS AWS Foundations 1.7, "eliminate use of the root user for
 * administrative and daily tasks". Judged by the most recent of the password's last sign-in
 * (`password_last_used`) and every root access key's last use (active or not: a key used and then
 * deactivated was still used): a finding when it is less than `rootUsed.withinDays` whole days
 * before the scan (default 1: within the last 24 hours; a use in the future counts as 0 days).
 */
import { wholeDaysBetween } from '../dates';
import type { Finding, LastUse } from '../types';
import { defineRule } from './definition';

interface RootUse {
  readonly use: LastUse;
  /** `signed in to the console` or `used access key …`. */
  readonly what: string;
}

export const rootUsed = defineRule({
  id: 'root-used',
  label: 'root used',
  threshold: 'rootUsed',
  readsKeysLive: false,
  principal: 'root',
  exemptible: false,
  evaluate: ({ record, thresholds, now }) => {
    let latest: RootUse | undefined;
    const consider = (candidate: RootUse) => {
      if (!latest || candidate.use.date.getTime() > latest.use.date.getTime()) latest = candidate;
    };
    if (record.password.lastUsed) {
      consider({ use: { date: record.password.lastUsed }, what: 'signed in to the console' });
    }
    for (const key of record.accessKeys) {
      if (key.lastUsed) {
        consider({
          use: key.lastUsed,
          what: `used its access key ${key.id ?? `in slot ${key.slot ?? '?'}`}`,
        });
      }
    }
    const { withinDays, severity } = thresholds.rootUsed;
    if (!latest || wholeDaysBetween(latest.use.date, now) >= withinDays) return [];
    const { use, what } = latest;
    const lastUsed: NonNullable<Finding['lastUsed']> = {
      date: use.date.toISOString(),
      ...(use.service ? { service: use.service } : {}),
      ...(use.region ? { region: use.region } : {}),
    };
    return [
      {
        severity,
        credential: 'use',
        summary: `The root user ${what} at ${lastUsed.date}; keep the root user for the few tasks only it can do (CIS 1.7).`,
        extra: { lastUsed },
      },
    ];
  },
});
