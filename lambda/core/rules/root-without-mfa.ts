/**
 * The root user has no MFA device: Security Hub IAM.9. Not when its credentials were removed
 * (no password, no key: nothing to protect), which `root-credentials-removed` reports instead.
 */
import { defineRule } from './definition';
import { rootCredentialsAreRemoved } from './root-credentials-removed';

export const rootWithoutMfa = defineRule({
  id: 'root-without-mfa',
  label: 'root without MFA',
  threshold: 'rootWithoutMfa',
  readsKeysLive: false,
  principal: 'root',
  exemptible: false,
  evaluate: ({ record, thresholds }) =>
    !record.mfaActive && !rootCredentialsAreRemoved(record)
      ? [
          {
            severity: thresholds.rootWithoutMfa,
            credential: 'mfa',
            summary: 'The root user has no MFA device.',
          },
        ]
      : [],
});
