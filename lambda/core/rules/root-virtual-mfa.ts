/**
 * The root user's MFA device is virtual, not hardware: Security Hub IAM.6 ("Hardware MFA should be
 * enabled for the root user", severity Critical), AWS Config `root-account-hardware-mfa-enabled`
 * (non-compliant when a virtual MFA device is permitted for the root user; not applicable without
 * root credentials). No credential report says which kind a device is: a live scan reads it with
 * ListVirtualMFADevices (a virtual device assigned to `arn:aws:iam::ACCOUNT:root`); with a report
 * file (`--report`) the fact is unknown and the rule is not evaluated.
 */
import { defineRule } from './definition';

export const rootVirtualMfa = defineRule({
  id: 'root-virtual-mfa',
  label: 'root virtual MFA',
  threshold: 'rootVirtualMfa',
  readsKeysLive: false,
  principal: 'root',
  exemptible: false,
  evaluate: ({ record, thresholds, facts }) =>
    record.mfaActive && facts.rootMfaIsVirtual === true
      ? [
          {
            severity: thresholds.rootVirtualMfa,
            credential: 'mfa',
            summary:
              "The root user's MFA device is a virtual one; give the root user a hardware MFA device (a FIDO security key or a hardware TOTP token) instead (Security Hub IAM.6).",
          },
        ]
      : [],
});
