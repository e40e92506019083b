/** A user with a console password and no MFA device: Security Hub IAM.5. */
import { defineRule } from './definition';

export const passwordWithoutMfa = defineRule({
  id: 'password-without-mfa',
  label: 'console password without MFA',
  threshold: 'passwordWithoutMfa',
  readsKeysLive: false,
  principal: 'user',
  exemptible: true,
  evaluate: ({ record, thresholds, who }) =>
    record.password.enabled && !record.mfaActive
      ? [
          {
            severity: thresholds.passwordWithoutMfa,
            credential: 'password',
            summary: `${who} can sign in to the console without MFA.`,
          },
        ]
      : [],
});
