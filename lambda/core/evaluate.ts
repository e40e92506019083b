/**
 * evaluate(records, thresholds, tags, now) -> findings. Pure: the same input gives the same
 * findings, in the same order. Ages are whole days rounded down; a threshold is reached on its day
 * (a key exactly 90 days old is critical under the defaults). The rules themselves are in the
 * registry (./rules): this runs each on the records it judges and names the findings.
 */
import { accountIdOf } from './credential-report';
import { isoDay } from './dates';
import { type Thresholds, userOverrides } from './policy';
import { type AccountFacts, RULE_LIST, type RuleContext } from './rules';
import { exemptionCredential } from './rules/helpers';
import {
  type CredentialRecord,
  type Exemption,
  type Finding,
  type ScanWarning,
  type Severity,
  severityRank,
  type UserTags,
} from './types';

export { exemptionCredential, grade, keyCredential } from './rules/helpers';

export interface EvaluateInput {
  readonly records: readonly CredentialRecord[];
  readonly thresholds: Thresholds;
  /** Tags by user name; users without tags may be absent. */
  readonly tags?: UserTags;
  /** The instant the scan judges by. Never read from a clock here. */
  readonly now: Date;
  /** Overrides the account id taken from each record's ARN. */
  readonly accountId?: string;
  /**
   * When credwatch first saw each finding still open, by finding id (the remembered states): an
   * exemption is bounded from the day it was first seen. @default none: every exemption is new today
   */
  readonly knownSince?: ReadonlyMap<string, Date>;
  /**
   * Whether the root user's MFA device is virtual (read live with ListVirtualMFADevices).
   * @default unknown: `root-virtual-mfa` is not evaluated (a report file says nothing about it)
   */
  readonly rootMfaIsVirtual?: boolean;
}

export interface Evaluation {
  /** Sorted: most severe first, then by user, rule and credential. */
  readonly findings: Finding[];
  readonly warnings: ScanWarning[];
}

export function evaluate(input: EvaluateInput): Evaluation {
  const { thresholds: t, now } = input;
  const today = isoDay(now);
  const findings: Finding[] = [];
  const warnings: ScanWarning[] = [];
  const facts: AccountFacts =
    input.rootMfaIsVirtual === undefined ? {} : { rootMfaIsVirtual: input.rootMfaIsVirtual };

  for (const record of input.records) {
    const accountId = input.accountId ?? accountIdOf(record.arn);
    const grantedOn = (e: Exemption) => {
      const since = input.knownSince?.get(
        `${accountId}/${record.user}/exemption-granted/${exemptionCredential(e)}`,
      );
      return since ? isoDay(since) : undefined;
    };
    const overrides = record.isRoot
      ? { accessKeyAge: t.accessKeyAge, warnings: [] as ScanWarning[] }
      : userOverrides(record.user, input.tags?.get(record.user), t, today, grantedOn);
    warnings.push(...overrides.warnings);
    const owner = 'owner' in overrides ? overrides.owner : undefined;
    const exemption = 'exemption' in overrides ? overrides.exemption : undefined;
    const principal = record.isRoot ? 'root' : 'user';
    const ctx: RuleContext = {
      record,
      thresholds: t,
      now,
      who: record.isRoot ? 'the root user' : record.user,
      activeKeys: record.accessKeys.filter((k) => k.active),
      overrides,
      facts,
    };

    for (const rule of RULE_LIST) {
      if (rule.principal !== principal) continue;
      for (const j of rule.evaluate(ctx)) {
        if (j.severity === 'off') continue;
        findings.push({
          id: `${accountId}/${record.user}/${rule.id}/${j.credential}`,
          accountId,
          user: record.user,
          arn: record.arn,
          rule: rule.id,
          severity: j.severity,
          credential: j.credential,
          ...j.extra,
          ...(owner ? { owner } : {}),
          ...(exemption && rule.exemptible ? { exemption } : {}),
          summary: j.summary,
        });
      }
    }
  }
  findings.sort(compareFindings);
  return { findings, warnings };
}

/** Most severe first; then user, rule, credential. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    cmp(a.accountId, b.accountId) ||
    cmp(a.user, b.user) ||
    cmp(a.rule, b.rule) ||
    cmp(a.credential, b.credential)
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Counts of findings by severity; exempted findings are not counted. */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { info: 0, warning: 0, critical: 0 };
  for (const f of findings) if (!f.exemption) counts[f.severity]++;
  return counts;
}
