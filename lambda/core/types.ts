/**
 * The domain of credwatch: credential records (what IAM says about a user's credentials) and the
 * findings that the policy derives from them. Pure data; no I/O.
 */

export type Severity = 'info' | 'warning' | 'critical';

/** Severities from least to most severe. */
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/**
 * Every rule's id. The registry (lambda/core/rules/index.ts) must define exactly these, checked by
 * the compiler; the state table and the EventBridge events carry them, so an id is never renamed.
 */
const RULE_ID_LIST = [
  'access-key-age',
  'access-key-unused',
  'password-unused',
  'password-without-mfa',
  'password-age',
  'root-access-key',
  'root-without-mfa',
  'root-credentials-removed',
  'root-used',
  'root-virtual-mfa',
  'multiple-active-keys',
  'exemption-expired',
  /** A `credwatch:exempt` tag in force: announced once, so that no exemption goes unnoticed. */
  'exemption-granted',
  /** Multi-account: the account could not be scanned (role missing, access denied, throttled past the deadline). */
  'account-scan-failed',
  /** Enforcement (lambda/core/enforcement.ts), enforce: the key will be deactivated on or after a date. */
  'access-key-final-notice',
  /** Enforcement, enforce: credwatch deactivated the key; the finding carries the undo command. */
  'access-key-deactivated',
  /** Enforcement, dry run: what enforce would do to the key, and when. */
  'access-key-deactivation-planned',
  /** Enforcement, dry run: enforce would deactivate the key in this run. */
  'access-key-would-deactivate',
] as const;

export type RuleId = (typeof RULE_ID_LIST)[number];

export const RULE_IDS: readonly RuleId[] = RULE_ID_LIST;

export interface LastUse {
  readonly date: Date;
  /** AWS service the key was last used with, when IAM knows it. */
  readonly service?: string;
  /** Region of that last use; absent for non-regional services. */
  readonly region?: string;
}

/** One access key of a user, from the report (a slot) and, once confirmed, from ListAccessKeys. */
export interface AccessKey {
  /** Slot 1 or 2 of the credential report; absent for a key created after the report. */
  readonly slot?: 1 | 2;
  /** The AccessKeyId; known only after ListAccessKeys (the report has slots, not ids). */
  readonly id?: string;
  readonly active: boolean;
  /** When the key was created (the report's `last_rotated`). */
  readonly createdAt: Date | null;
  /** Last use, or null when the key has never been used (or IAM has no record of it). */
  readonly lastUsed: LastUse | null;
}

export interface Password {
  /**
   * A console password is set. The root row of reports before 2025 says `not_supported`: read as
   * false, which is then a default, not a fact (see `enabledStated`).
   */
  readonly enabled: boolean;
  /**
   * Root row: true when the report states `password_enabled` as true or false (reports since 2025)
   * rather than `not_supported`. Absent: not stated, so a false `enabled` says nothing.
   */
  readonly enabledStated?: boolean;
  /** Last sign-in, or null when never used / no information. */
  readonly lastUsed: Date | null;
  readonly lastChanged: Date | null;
}

/** What IAM knows about one principal's credentials (one row of the credential report). */
export interface CredentialRecord {
  readonly user: string;
  readonly arn: string;
  readonly isRoot: boolean;
  readonly createdAt: Date;
  readonly password: Password;
  readonly mfaActive: boolean;
  readonly accessKeys: readonly AccessKey[];
  /** 1-based line of the CSV the record came from; 0 when it did not come from a report. */
  readonly line: number;
}

/** IAM user tags, by user name. */
export type UserTags = ReadonlyMap<string, Readonly<Record<string, string>>>;

export interface Exemption {
  /** Last day (UTC, inclusive) on which the exemption applies, `YYYY-MM-DD` (after any cap). */
  readonly until: string;
  readonly reason: string;
  /** The `until` the tag asked for, when it was beyond the longest exemption allowed and was capped. */
  readonly requestedUntil?: string;
}

export interface Finding {
  /** Stable id: `account/user/rule/credential`. */
  readonly id: string;
  readonly accountId: string;
  readonly user: string;
  readonly arn: string;
  readonly rule: RuleId;
  readonly severity: Severity;
  /** Which credential: an access key id, `access-key-1|2` (slot, when the id is unknown), `password`, `mfa`, `account`. */
  readonly credential: string;
  readonly accessKeyId?: string;
  /** The figure the rule measured, in whole days (key age, days unused, password age). */
  readonly days?: number;
  /** The threshold, in days, that `days` reached. */
  readonly thresholdDays?: number;
  readonly lastUsed?: { readonly date: string; readonly service?: string; readonly region?: string } | null;
  /** Slack member (`U…`), user group (`S…`) or e-mail from the `credwatch:owner` tag. */
  readonly owner?: string;
  /** Set when a `credwatch:exempt` tag applies: the finding is shown but does not count or page. */
  readonly exemption?: Exemption;
  /** One sentence a person can act on. */
  readonly summary: string;
  /**
   * Set when the finding's key was to be confirmed live but was not (out of time, keys unreadable):
   * judged from the credential report alone, which can be up to 4 hours old.
   */
  readonly unconfirmed?: boolean;
}

export interface ScanWarning {
  /** Machine-readable kind, e.g. `bad-tag`, `user-not-in-report`. */
  readonly code: string;
  readonly message: string;
  readonly user?: string;
  readonly tag?: string;
}
