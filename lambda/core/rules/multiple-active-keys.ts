/** More than one active access key on a user: CIS 1.13. */
import { defineRule } from './definition';

export const multipleActiveKeys = defineRule({
  id: 'multiple-active-keys',
  label: 'several active keys',
  threshold: 'multipleActiveKeys',
  readsKeysLive: true,
  principal: 'user',
  exemptible: true,
  evaluate: ({ thresholds, who, activeKeys }) =>
    activeKeys.length > 1
      ? [
          {
            severity: thresholds.multipleActiveKeys,
            credential: 'access-keys',
            summary: `${who} has ${activeKeys.length} active access keys; keep one outside a rotation.`,
          },
        ]
      : [],
});
