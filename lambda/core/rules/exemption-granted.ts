/**
 * A `credwatch:exempt` tag: a notice, announced once when the tag appears or changes (never
 * reminded: lambda/core/diff.ts ANNOUNCED_ONCE). It stays open, under the same id, while the same
 * tag value exists, also after the exemption ended (`exemption-expired` then says so): its
 * remembered first sighting is what bounds the exemption, so the cap cannot restart.
 */
import { TAG_EXEMPT } from '../policy';
import { defineRule } from './definition';
import { exemptionCredential } from './helpers';

export const exemptionGranted = defineRule({
  id: 'exemption-granted',
  label: 'exemption granted',
  threshold: 'exemptionGranted',
  readsKeysLive: false,
  principal: 'user',
  // The notice of an exemption is not itself exempted: it must be seen.
  exemptible: false,
  evaluate: ({ thresholds, who, overrides: { exemption, expiredExemption } }) => {
    if (!exemption) {
      if (!expiredExemption) return [];
      return [
        {
          severity: thresholds.exemptionGranted,
          credential: exemptionCredential(expiredExemption),
          summary: `The ${TAG_EXEMPT} exemption of ${who} ended on ${expiredExemption.until}; reason: ${expiredExemption.reason}.`,
        },
      ];
    }
    const capped = exemption.requestedUntil
      ? ` (the tag asks for ${exemption.requestedUntil}; capped at ${thresholds.tagLimits.maxExemptionDays} days)`
      : '';
    return [
      {
        severity: thresholds.exemptionGranted,
        credential: exemptionCredential(exemption),
        summary: `${who} is exempted from credwatch's findings until ${exemption.until}${capped} by the ${TAG_EXEMPT} tag; reason: ${exemption.reason}.`,
      },
    ];
  },
});
