/** Days since an active access key was last used (never used: since its creation): IAM.22, CIS 1.12. */
import { wholeDaysBetween } from '../dates';
import { defineRule } from './definition';
import { asLastUsed, grade, keyCredential, keyLabel } from './helpers';

export const accessKeyUnused = defineRule({
  id: 'access-key-unused',
  label: 'key unused',
  threshold: 'accessKeyUnused',
  readsKeysLive: true,
  principal: 'user',
  exemptible: true,
  evaluate: ({ record, thresholds, now, who, activeKeys }) =>
    activeKeys.flatMap((key) => {
      const since = key.lastUsed?.date ?? key.createdAt;
      if (!since) return [];
      const idle = wholeDaysBetween(since, now);
      const g = grade(idle, thresholds.accessKeyUnused);
      if (!g) return [];
      const what = key.lastUsed
        ? `has not been used for ${idle} days`
        : `has never been used in the ${idle} days since it was created`;
      return [
        {
          severity: g.severity,
          credential: keyCredential(key, record.accessKeys),
          summary: `${keyLabel(key)} of ${who} ${what} (${g.severity} at ${g.thresholdDays}); deactivate or delete it.`,
          extra: {
            ...(key.id ? { accessKeyId: key.id } : {}),
            lastUsed: asLastUsed(key),
            days: idle,
            thresholdDays: g.thresholdDays,
          },
        },
      ];
    }),
});
