/** Age of an active access key, from its creation (the report's `last_rotated`): Security Hub IAM.3. */
import { wholeDaysBetween } from '../dates';
import { defineRule } from './definition';
import { asLastUsed, grade, keyCredential, keyLabel } from './helpers';

export const accessKeyAge = defineRule({
  id: 'access-key-age',
  label: 'key age',
  // Per user, `credwatch:max-key-age-days` / `warn-key-age-days` move it (ctx.overrides.accessKeyAge).
  threshold: 'accessKeyAge',
  readsKeysLive: true,
  principal: 'user',
  exemptible: true,
  evaluate: ({ record, now, who, activeKeys, overrides }) =>
    activeKeys.flatMap((key) => {
      if (!key.createdAt) return [];
      const age = wholeDaysBetween(key.createdAt, now);
      const g = grade(age, overrides.accessKeyAge);
      if (!g) return [];
      return [
        {
          severity: g.severity,
          credential: keyCredential(key, record.accessKeys),
          summary: `${keyLabel(key)} of ${who} is ${age} days old (${g.severity} at ${g.thresholdDays}); rotate it.`,
          extra: {
            ...(key.id ? { accessKeyId: key.id } : {}),
            lastUsed: asLastUsed(key),
            days: age,
            thresholdDays: g.thresholdDays,
          },
        },
      ];
    }),
});
