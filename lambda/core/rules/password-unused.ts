/** Days since a console password was last used (never used: since it was set): IAM.22. */
import { wholeDaysBetween } from '../dates';
import { defineRule } from './definition';
import { grade } from './helpers';

export const passwordUnused = defineRule({
  id: 'password-unused',
  label: 'password unused',
  threshold: 'passwordUnused',
  readsKeysLive: false,
  principal: 'user',
  exemptible: true,
  evaluate: ({ record, thresholds, now, who }) => {
    const { password } = record;
    if (!password.enabled) return [];
    const since = password.lastUsed ?? password.lastChanged ?? record.createdAt;
    const idle = wholeDaysBetween(since, now);
    const g = grade(idle, thresholds.passwordUnused);
    if (!g) return [];
    const what = password.lastUsed
      ? `has not been used for ${idle} days`
      : `has never been used in ${idle} days`;
    return [
      {
        severity: g.severity,
        credential: 'password',
        summary: `The console password of ${who} ${what} (${g.severity} at ${g.thresholdDays}); remove it.`,
        extra: {
          days: idle,
          thresholdDays: g.thresholdDays,
          lastUsed: password.lastUsed ? { date: password.lastUsed.toISOString() } : null,
        },
      },
    ];
  },
});
