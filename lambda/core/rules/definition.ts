/**
 * What a rule is: the one place that says its id, its Slack label, the threshold it reads, whether
 * its findings are confirmed live, and how it judges one credential record. The registry
 * (./index.ts) lists every rule; evaluate() (../evaluate.ts) runs them. Pure: no I/O, no clock.
 */
import type { Thresholds, UserOverrides } from '../policy';
import type { AccessKey, CredentialRecord, Finding, RuleId, Severity } from '../types';

/** The keys of `Thresholds` a rule can read (`tagLimits` bounds the tags, it is no rule's). */
export type ThresholdKey = Exclude<keyof Thresholds, 'tagLimits'>;

/** Facts about the account that no credential report holds; read live, absent when unknown. */
export interface AccountFacts {
  /**
   * The root user's MFA device is a virtual one (ListVirtualMFADevices): true or false when read
   * live, absent when not read (a report file, or the root user has no password or MFA).
   */
  readonly rootMfaIsVirtual?: boolean;
}

/** What a rule sees of one record. */
export interface RuleContext {
  readonly record: CredentialRecord;
  readonly thresholds: Thresholds;
  /** The instant the scan judges by. */
  readonly now: Date;
  /** `the root user`, or the user's name. */
  readonly who: string;
  /** The record's active access keys. */
  readonly activeKeys: readonly AccessKey[];
  /** What the user's tags change (the root user has no tags: the configured values). */
  readonly overrides: Pick<UserOverrides, 'accessKeyAge' | 'exemption' | 'expiredExemption'>;
  readonly facts: AccountFacts;
}

/** A finding as a rule states it; evaluate() adds the id, account, user, ARN, owner and exemption. */
export interface Judgement {
  /** `off` drops the finding (a rule turned off in the configuration). */
  readonly severity: Severity | 'off';
  /** Which credential; part of the finding id, so a contract (test/unit/core/finding-ids.test.ts). */
  readonly credential: string;
  readonly summary: string;
  readonly extra?: Partial<Pick<Finding, 'accessKeyId' | 'days' | 'thresholdDays' | 'lastUsed'>>;
}

export interface RuleDefinition<
  Id extends RuleId = RuleId,
  T extends ThresholdKey | null = ThresholdKey | null,
> {
  readonly id: Id;
  /** The short label of the rule in Slack (lambda/adapters/slack/message.ts). */
  readonly label: string;
  /** The key of `Thresholds` the rule reads its severity or days from; null when it has none. */
  readonly threshold: T;
  /**
   * Its findings depend on access keys, which the report gives as slots and up to 4 hours old: they
   * are confirmed live (ListAccessKeys, GetAccessKeyLastUsed) before they are reported.
   */
  readonly readsKeysLive: boolean;
  /**
   * Whom it judges: the root user's row, IAM users' rows, or no row at all (`account`: raised by
   * the multi-account monitor, lambda/core/accounts.ts).
   */
  readonly principal: 'root' | 'user' | 'account';
  /** A `credwatch:exempt` tag in force marks its findings as exempted. */
  readonly exemptible: boolean;
  /** The findings this rule makes of one record, in any order (evaluate() sorts them). */
  readonly evaluate: (ctx: RuleContext) => readonly Judgement[];
}

/** Declares a rule, keeping its id and threshold key as literal types for the registry's checks. */
export function defineRule<const Id extends RuleId, const T extends ThresholdKey | null>(
  definition: RuleDefinition<Id, T>,
): RuleDefinition<Id, T> {
  return definition;
}
