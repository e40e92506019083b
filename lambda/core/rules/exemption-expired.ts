/** A `credwatch:exempt` tag whose `until` day (after the cap) has passed: its findings apply again. */
import { TAG_EXEMPT } from '../policy';
import { defineRule } from './definition';

export const exemptionExpired = defineRule({
  id: 'exemption-expired',
  label: 'exemption expired',
  threshold: 'exemptionExpired',
  readsKeysLive: false,
  principal: 'user',
  exemptible: false,
  evaluate: ({ thresholds, who, overrides: { expiredExemption: e } }) =>
    e
      ? [
          {
            severity: thresholds.exemptionExpired,
            credential: 'exemption',
            summary: `The ${TAG_EXEMPT} tag of ${who} expired on ${e.until} (reason: ${e.reason}); its findings apply again. Remove or renew the tag.`,
          },
        ]
      : [],
});
