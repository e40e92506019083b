/**
 * Which published control each rule's finding is evidence for: the CIS AWS Foundations Benchmark
 * v3.0.0 recommendation and the AWS Security Hub control. Pure data, used by the report formats
 * (lambda/formats/) and listed in docs/rules.md and docs/formats.md.
 *
 * Sources (checked, not remembered):
 * - CIS v3.0.0 numbering: section 1 "Identity and Access Management" of the benchmark as mapped by
 *   turbot/steampipe-mod-aws-compliance, cis_v300/section_1.pp: 1.4 "Ensure no 'root' user account
 *   access key exists", 1.5 "Ensure MFA is enabled for the 'root' user account", 1.6 "Ensure hardware
 *   MFA is enabled for the 'root' user account", 1.7 "Eliminate use of the 'root' user for
 *   administrative and daily tasks", 1.10 "Ensure multi-factor authentication (MFA) is enabled for
 *   all IAM users that have a console password", 1.12 "Ensure credentials unused for 45 days or
 *   greater are disabled", 1.13 "Ensure there is only one active access key available for any single
 *   IAM user", 1.14 "Ensure access keys are rotated every 90 days or less". CIS v3.0.0 has no
 *   password-expiry recommendation (v1.2.0's 1.11 is gone), hence nothing for `password-age`.
 * - Security Hub controls: the Security Hub User Guide, "AWS Identity and Access Management
 *   controls" (awsdocs/aws-security-hub-user-guide, doc_source/iam-controls.md): IAM.3 "IAM users'
 *   access keys should be rotated every 90 days or less", IAM.4 "IAM root user access key should not
 *   exist", IAM.5 "MFA should be enabled for all IAM users that have a console password", IAM.6
 *   "Hardware MFA should be enabled for the root user", IAM.8 "Unused IAM user credentials should be
 *   removed" (90 days), IAM.9 "MFA should be enabled for the root user", IAM.22 "IAM user credentials
 *   unused for 45 days should be removed". Of these, the AWS Foundational Security Best Practices
 *   (FSBP) standard holds IAM.3, IAM.4, IAM.5, IAM.6 and IAM.8; IAM.9 and IAM.22 are Security Hub
 *   controls of its CIS standards only (steampipe-mod-aws-compliance, foundational_security/iam.pp).
 *   The `fsbp` lists name the Security Hub control either way: it is the id Security Hub shows.
 */

export interface Compliance {
  /** CIS AWS Foundations Benchmark v3.0.0 recommendation numbers, e.g. `1.14`. */
  readonly cis: readonly string[];
  /** AWS Security Hub control ids, e.g. `IAM.3` (FSBP, or Security Hub's CIS standard: see above). */
  readonly fsbp: readonly string[];
}

/** The benchmark version the `cis` numbers belong to. */
export const CIS_VERSION = 'v3.0.0';

const NONE: Compliance = { cis: [], fsbp: [] };

/**
 * By rule id. A `Partial<Record<string, …>>` so that a rule added later has an entry before it has an
 * id in `RULE_IDS`; test/unit/core/compliance.test.ts checks every rule id has one.
 */
export const COMPLIANCE: Partial<Record<string, Compliance>> = {
  'access-key-age': { cis: ['1.14'], fsbp: ['IAM.3'] },
  // A key unused for 45 days fails CIS 1.12 and IAM.22 (45 days); IAM.8 fails from 90 days.
  'access-key-unused': { cis: ['1.12'], fsbp: ['IAM.8', 'IAM.22'] },
  'password-unused': { cis: ['1.12'], fsbp: ['IAM.8', 'IAM.22'] },
  'password-without-mfa': { cis: ['1.10'], fsbp: ['IAM.5'] },
  'password-age': NONE,
  'root-access-key': { cis: ['1.4'], fsbp: ['IAM.4'] },
  'root-without-mfa': { cis: ['1.5'], fsbp: ['IAM.9'] },
  // The root user's MFA is virtual: CIS 1.6 and IAM.6 ask for a hardware device.
  'root-virtual-mfa': { cis: ['1.6'], fsbp: ['IAM.6'] },
  // CIS 1.7 is a manual recommendation; no Security Hub IAM control judges root use.
  'root-used': { cis: ['1.7'], fsbp: [] },
  // A notice that the root user has no credentials left (centralized root access, which postdates
  // CIS v3.0.0): nothing fails, so no control is named.
  'root-credentials-removed': NONE,
  'multiple-active-keys': { cis: ['1.13'], fsbp: [] },
  'exemption-expired': NONE,
  'exemption-granted': NONE,
  'account-scan-failed': NONE,
  // Enforcement's notices and actions are credwatch's own doing, evidence for no control.
  'access-key-final-notice': NONE,
  'access-key-deactivated': NONE,
  'access-key-deactivation-planned': NONE,
  'access-key-would-deactivate': NONE,
};

/** The controls a finding of `rule` is evidence for; empty lists for a rule not mapped. */
export function complianceOf(rule: string): Compliance {
  return Object.hasOwn(COMPLIANCE, rule) ? (COMPLIANCE[rule] ?? NONE) : NONE;
}
