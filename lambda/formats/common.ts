/**
 * What the report formats share: the words for each rule, the render options, and facts derived from
 * a finding (its key's creation time, its compliance references). Pure: no I/O, no clock.
 */
import { CIS_VERSION, type Compliance, complianceOf } from '../core/compliance';
import { wholeDaysBetween } from '../core/dates';
import { type Finding, RULE_IDS, type Severity } from '../core/types';

export interface RenderOptions {
  /** The instant the document is rendered (not the scan's `evaluatedAt`). */
  readonly now: Date;
  /** credwatch's version, as `package.json` says. */
  readonly toolVersion: string;
}

export interface RuleText {
  /** A few words, e.g. `Access key age`. */
  readonly title: string;
  /** One or two sentences: what the rule judges and why it matters. */
  readonly description: string;
}

/** By rule id; a rule not listed falls back to its id (see `ruleText`). */
const RULE_TEXT: Partial<Record<string, RuleText>> = {
  'access-key-age': {
    title: 'Access key age',
    description:
      'An active IAM access key older than the rotation threshold (default: warning at 80 days, critical at 90). Old keys have had more chances to leak; rotate them.',
  },
  'access-key-unused': {
    title: 'Access key unused',
    description:
      'An active access key not used for the threshold (default 45 days; a never-used key counts from its creation). An unused key is risk without benefit; deactivate or delete it.',
  },
  'password-unused': {
    title: 'Console password unused',
    description:
      'A console password not used for the threshold (default 45 days; never used counts from when it was set). Remove console access that nobody uses.',
  },
  'password-without-mfa': {
    title: 'Console password without MFA',
    description: 'A user can sign in to the AWS console with a password and no MFA device.',
  },
  'password-age': {
    title: 'Console password age',
    description:
      'A console password older than the configured threshold (off by default: NIST SP 800-63B no longer advises forced rotation).',
  },
  'root-access-key': {
    title: 'Root access key',
    description: 'The root user has an active access key: unrestricted programmatic access to the account.',
  },
  'root-without-mfa': {
    title: 'Root without MFA',
    description: 'The root user has no MFA device.',
  },
  'root-virtual-mfa': {
    title: 'Root with virtual MFA',
    description:
      "The root user's MFA device is a virtual one; the root user should have a hardware MFA device.",
  },
  'root-used': {
    title: 'Root used',
    description: 'The root user signed in or used an access key recently; use IAM roles for daily work.',
  },
  'root-credentials-removed': {
    title: 'Root credentials removed',
    description:
      'The root user has no password, access key or MFA device (centralized root access): a notice, nothing to do.',
  },
  'multiple-active-keys': {
    title: 'Several active keys',
    description: 'A user has more than one active access key; keep one, except briefly while rotating.',
  },
  'exemption-expired': {
    title: 'Exemption expired',
    description:
      'A credwatch:exempt tag whose until day has passed: the findings it covered count again. Remove or renew the tag.',
  },
  'exemption-granted': {
    title: 'Exemption granted',
    description: "A credwatch:exempt tag in force: the user's findings are shown but do not count or page.",
  },
  'account-scan-failed': {
    title: 'Account not scanned',
    description:
      'The account could not be scanned (member role missing, access denied, throttled past the deadline): its credentials were not judged.',
  },
  'access-key-final-notice': {
    title: 'Final notice',
    description:
      "credwatch's enforcement will deactivate this access key on the day named unless it is rotated (docs/enforcement.md).",
  },
  'access-key-deactivated': {
    title: 'Key deactivated by credwatch',
    description:
      "credwatch's enforcement set this access key Inactive after its final notice; the finding names the command that undoes it.",
  },
  'access-key-deactivation-planned': {
    title: 'Deactivation planned (dry run)',
    description: 'Enforcement in dry run: what enforce would do to this access key, and when.',
  },
  'access-key-would-deactivate': {
    title: 'Would deactivate (dry run)',
    description: 'Enforcement in dry run: enforce would deactivate this access key in this run.',
  },
};

export function ruleText(rule: string): RuleText {
  return Object.hasOwn(RULE_TEXT, rule)
    ? (RULE_TEXT[rule] ?? { title: rule, description: rule })
    : { title: rule, description: rule };
}

/** Every rule id credwatch knows, then any other rule the findings name, each once, in that order. */
export function rulesOf(findings: readonly Finding[]): string[] {
  const rules: string[] = [...RULE_IDS];
  for (const f of findings) if (!rules.includes(f.rule)) rules.push(f.rule);
  return rules;
}

/** `CIS v3.0.0 1.14` style labels of a rule's controls, CIS first. */
export function complianceLabels(c: Compliance): { cis: string[]; fsbp: string[] } {
  return {
    cis: c.cis.map((n) => `CIS ${CIS_VERSION} ${n}`),
    fsbp: c.fsbp.map((id) => `Security Hub ${id}`),
  };
}

export { complianceOf };

// An enforcement finding adds `~unused` and `@<time>` to its key's credential (lambda/core/enforcement.ts).
const KEY_CREDENTIAL = /^key-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)(?:~unused)?(?:@[0-9T:Z-]+)?$/;

/** When a finding's access key was created, from its credential (`key-<creation time>`); null otherwise. */
export function keyCreatedAt(f: Finding): Date | null {
  const m = KEY_CREDENTIAL.exec(f.credential);
  if (!m) return null;
  const d = new Date(m[1]!);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The age in whole days of a finding's access key at `at`, or null when the finding names no key. */
export function keyAgeDays(f: Finding, at: Date): number | null {
  const created = keyCreatedAt(f);
  return created ? wholeDaysBetween(created, at) : null;
}

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'warning', 'info'];

/** `2026-11-22T16:40:00.000Z` -> `2026-11-22T16:40:00Z`: whole seconds, as the credential report has them. */
export function isoSeconds(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}
