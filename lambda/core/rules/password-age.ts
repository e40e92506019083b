/** Age of a console password: Security Hub IAM.8. Off by default (NIST SP 800-63B). */
import { wholeDaysBetween } from '../dates';
import { defineRule } from './definition';
import { grade } from './helpers';

export const passwordAge = defineRule({
  id: 'password-age',
  label: 'password age',
  threshold: 'passwordAge',
  readsKeysLive: false,
  principal: 'user',
  exemptible: true,
  evaluate: ({ record, thresholds, now, who }) => {
    const { password } = record;
    if (!password.enabled || !password.lastChanged) return [];
    const age = wholeDaysBetween(password.lastChanged, now);
    const g = grade(age, thresholds.passwordAge);
    if (!g) return [];
    return [
      {
        severity: g.severity,
        credential: 'password',
        summary: `The console password of ${who} is ${age} days old (${g.severity} at ${g.thresholdDays}).`,
        extra: { days: age, thresholdDays: g.thresholdDays },
      },
    ];
  },
});
