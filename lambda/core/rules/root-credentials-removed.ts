/**
 * The root user has no credentials left: no password, no active access key, no MFA device. With
 * centralized root access (AWS Organizations, since November 2024) the management account deletes a
 * member account's root password, access keys and signing certificates and deactivates its MFA
 * (AWS re:Post, "How do I set up centralized root access in IAM for member accounts?",
 * https://repost.aws/knowledge-center/set-up-centralized-root-access-iam); accounts created by
 * Organizations since then have no root credentials at all.
 *
 * The credential report shows such a root row as `password_enabled=false`, no active key and
 * `mfa_active=false`. Only reports since 2025 state the root's `password_enabled` (true or false,
 * as for an IAM user: "When the user has a password, this value is TRUE. Otherwise it is FALSE",
 * IAM User Guide, id_credentials_getting-report); earlier ones always said `not_supported` for the
 * root user (same page, before 2025), and `password_last_changed` is `not_supported` there too, so
 * neither column tells a removed password from an unknown one. Hence the rule needs the report to
 * state the password (`Password.enabledStated`): an old report's root without MFA stays
 * `root-without-mfa`. test/fixtures/credential-reports: every pre-2025 root row says
 * `not_supported`; the 2025 one (cfech_*) says `true`.
 */
import type { CredentialRecord } from '../types';
import { defineRule } from './definition';

/** The root record states that it has no password, and has no active access key and no MFA. */
export function rootCredentialsAreRemoved(record: CredentialRecord): boolean {
  return (
    record.isRoot &&
    record.password.enabledStated === true &&
    !record.password.enabled &&
    !record.mfaActive &&
    !record.accessKeys.some((k) => k.active)
  );
}

export const rootCredentialsRemoved = defineRule({
  id: 'root-credentials-removed',
  label: 'root credentials removed',
  threshold: 'rootCredentialsRemoved',
  readsKeysLive: false,
  principal: 'root',
  exemptible: false,
  evaluate: ({ record, thresholds }) =>
    rootCredentialsAreRemoved(record)
      ? [
          {
            severity: thresholds.rootCredentialsRemoved,
            credential: 'credentials',
            summary:
              'The root user has no password, access key or MFA device: its credentials were removed (centralized root access); nothing to do.',
          },
        ]
      : [],
});
