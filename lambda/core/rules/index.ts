/**
 * The registry: every rule credwatch knows, by id. Adding a rule is adding a file next to this one
 * and a line below (docs/rules.md, "Adding a rule"); the compiler checks that
 * - every id of `RuleId` (lambda/core/types.ts) has exactly one definition, under its own id;
 * - every threshold of `Thresholds` (lambda/core/policy.ts) but `tagLimits` is read by a rule.
 */
import type { RuleId } from '../types';
import { accessKeyAge } from './access-key-age';
import { accessKeyDeactivated } from './access-key-deactivated';
import { accessKeyDeactivationPlanned } from './access-key-deactivation-planned';
import { accessKeyFinalNotice } from './access-key-final-notice';
import { accessKeyUnused } from './access-key-unused';
import { accessKeyWouldDeactivate } from './access-key-would-deactivate';
import { accountScanFailed } from './account-scan-failed';
import type { RuleDefinition, ThresholdKey } from './definition';
import { exemptionExpired } from './exemption-expired';
import { exemptionGranted } from './exemption-granted';
import { multipleActiveKeys } from './multiple-active-keys';
import { passwordAge } from './password-age';
import { passwordUnused } from './password-unused';
import { passwordWithoutMfa } from './password-without-mfa';
import { rootAccessKey } from './root-access-key';
import { rootCredentialsRemoved } from './root-credentials-removed';
import { rootUsed } from './root-used';
import { rootVirtualMfa } from './root-virtual-mfa';
import { rootWithoutMfa } from './root-without-mfa';

export type { AccountFacts, Judgement, RuleContext, RuleDefinition, ThresholdKey } from './definition';
export { defineRule } from './definition';

/** Every rule, by id; evaluate() runs them in this order (the findings are sorted afterwards). */
export const RULES = {
  'access-key-age': accessKeyAge,
  'access-key-unused': accessKeyUnused,
  'password-unused': passwordUnused,
  'password-without-mfa': passwordWithoutMfa,
  'password-age': passwordAge,
  'root-access-key': rootAccessKey,
  'root-without-mfa': rootWithoutMfa,
  'root-credentials-removed': rootCredentialsRemoved,
  'root-used': rootUsed,
  'root-virtual-mfa': rootVirtualMfa,
  'multiple-active-keys': multipleActiveKeys,
  'exemption-expired': exemptionExpired,
  'exemption-granted': exemptionGranted,
  'account-scan-failed': accountScanFailed,
  'access-key-final-notice': accessKeyFinalNotice,
  'access-key-deactivated': accessKeyDeactivated,
  'access-key-deactivation-planned': accessKeyDeactivationPlanned,
  'access-key-would-deactivate': accessKeyWouldDeactivate,
} as const satisfies { readonly [Id in RuleId]: RuleDefinition<Id> };

/** The thresholds no rule reads; must be none (a forgotten rule, or a stale threshold). */
type UnreadThreshold = Exclude<ThresholdKey, (typeof RULES)[RuleId]['threshold']>;
/** Fails to compile, naming the threshold, when a threshold is read by no rule. */
export const EVERY_THRESHOLD_IS_READ: [UnreadThreshold] extends [never] ? true : UnreadThreshold = true;

/** The definitions in registry order. */
export const RULE_LIST: readonly RuleDefinition[] = Object.values(RULES);

/** A rule's definition; undefined for an id no release knows (e.g. read from a newer state). */
export function ruleDefinition(id: string): RuleDefinition | undefined {
  return Object.hasOwn(RULES, id) ? RULES[id as RuleId] : undefined;
}

/** The rule's short Slack label; an unknown id is its own label. */
export function ruleLabel(id: RuleId | string): string {
  return ruleDefinition(id)?.label ?? id;
}

/** Whether the rule's findings depend on access keys and are confirmed live before they are reported. */
export function readsKeysLive(id: RuleId | string): boolean {
  return ruleDefinition(id)?.readsKeysLive ?? false;
}
