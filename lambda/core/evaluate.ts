/**
 * evaluate(records, thresholds, tags, now) -> findings. Pure: the same input gives the same
 * findings, in the same order. Ages are whole days rounded down; a threshold is reached on its day
 * (a key exactly 90 days old is critical under the defaults).
 */
import { accountIdOf } from './credential-report';
import { isoDay, wholeDaysBetween } from './dates';
import { TAG_EXEMPT, type ThresholdRule, type Thresholds, userOverrides } from './policy';
import {
  type AccessKey,
  type CredentialRecord,
  type Exemption,
  type Finding,
  type RuleId,
  type ScanWarning,
  type Severity,
  severityRank,
  type UserTags,
} from './types';

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
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable name for a free-text reason. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * How the `exemption-granted` finding names an exemption: by the `until` it asked for and its reason,
 * so that a changed exemption is a new finding (announced again) and an unchanged one keeps its id.
 */
export function exemptionCredential(exemption: Exemption): string {
  return `until-${exemption.requestedUntil ?? exemption.until}-${shortHash(exemption.reason)}`;
}

export interface Evaluation {
  /** Sorted: most severe first, then by user, rule and credential. */
  readonly findings: Finding[];
  readonly warnings: ScanWarning[];
}

/** The severity a figure of `days` reaches under a threshold rule, or null when it reaches none. */
export function grade(
  days: number,
  rule: ThresholdRule,
): { severity: Severity; thresholdDays: number } | null {
  if (rule.criticalDays !== null && days >= rule.criticalDays) {
    return { severity: 'critical', thresholdDays: rule.criticalDays };
  }
  if (rule.warningDays !== null && days >= rule.warningDays) {
    return { severity: 'warning', thresholdDays: rule.warningDays };
  }
  return null;
}

const second = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * How a finding names a key: by its creation time (`key-2026-07-20T14:02:11Z`), the one identity the
 * credential report (`last_rotated`, slots not ids) and ListAccessKeys (`CreateDate`) share. A
 * finding therefore keeps its id whether or not the key was read live; the access key id travels in
 * `accessKeyId` when known. Two keys of a user created in the same second get their slot (or id)
 * appended.
 */
export function keyCredential(key: AccessKey, siblings: readonly AccessKey[] = []): string {
  if (!key.createdAt) return `access-key-${key.slot ?? key.id ?? 0}`;
  const at = second(key.createdAt);
  const name = `key-${new Date(at * 1000).toISOString().replace('.000Z', 'Z')}`;
  const twin = siblings.some((k) => k !== key && k.createdAt !== null && second(k.createdAt) === at);
  return twin ? `${name}-${key.slot ?? key.id}` : name;
}

const keyLabel = (key: AccessKey) => (key.id ? `Access key ${key.id}` : `Access key ${key.slot ?? '?'}`);

const asLastUsed = (key: AccessKey): Finding['lastUsed'] =>
  key.lastUsed
    ? {
        date: key.lastUsed.date.toISOString(),
        ...(key.lastUsed.service ? { service: key.lastUsed.service } : {}),
        ...(key.lastUsed.region ? { region: key.lastUsed.region } : {}),
      }
    : null;

export function evaluate(input: EvaluateInput): Evaluation {
  const { thresholds: t, now } = input;
  const today = isoDay(now);
  const findings: Finding[] = [];
  const warnings: ScanWarning[] = [];

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

    const add = (
      rule: RuleId,
      severity: Severity | 'off',
      credential: string,
      summary: string,
      extra: Partial<Pick<Finding, 'accessKeyId' | 'days' | 'thresholdDays' | 'lastUsed'>> = {},
    ) => {
      if (severity === 'off') return;
      findings.push({
        id: `${accountId}/${record.user}/${rule}/${credential}`,
        accountId,
        user: record.user,
        arn: record.arn,
        rule,
        severity,
        credential,
        ...extra,
        ...(owner ? { owner } : {}),
        ...(exemption && rule !== 'exemption-expired' && rule !== 'exemption-granted' ? { exemption } : {}),
        summary,
      });
    };
    const who = record.isRoot ? 'the root user' : record.user;
    const activeKeys = record.accessKeys.filter((k) => k.active);

    if (record.isRoot) {
      for (const key of activeKeys) {
        add(
          'root-access-key',
          t.rootAccessKey,
          keyCredential(key, record.accessKeys),
          `The root user has an active access key (${key.id ?? `slot ${key.slot ?? '?'}`}); delete it.`,
          {
            ...(key.id ? { accessKeyId: key.id } : {}),
            ...(key.createdAt ? { days: wholeDaysBetween(key.createdAt, now) } : {}),
            lastUsed: asLastUsed(key),
          },
        );
      }
      if (!record.mfaActive)
        add('root-without-mfa', t.rootWithoutMfa, 'mfa', 'The root user has no MFA device.');
    } else {
      for (const key of activeKeys) {
        const credential = keyCredential(key, record.accessKeys);
        const keyFacts = { ...(key.id ? { accessKeyId: key.id } : {}), lastUsed: asLastUsed(key) };
        if (key.createdAt) {
          const age = wholeDaysBetween(key.createdAt, now);
          const g = grade(age, overrides.accessKeyAge);
          if (g) {
            add(
              'access-key-age',
              g.severity,
              credential,
              `${keyLabel(key)} of ${who} is ${age} days old (${g.severity} at ${g.thresholdDays}); rotate it.`,
              {
                ...keyFacts,
                days: age,
                thresholdDays: g.thresholdDays,
              },
            );
          }
        }
        const since = key.lastUsed?.date ?? key.createdAt;
        if (since) {
          const idle = wholeDaysBetween(since, now);
          const g = grade(idle, t.accessKeyUnused);
          if (g) {
            const what = key.lastUsed
              ? `has not been used for ${idle} days`
              : `has never been used in the ${idle} days since it was created`;
            add(
              'access-key-unused',
              g.severity,
              credential,
              `${keyLabel(key)} of ${who} ${what} (${g.severity} at ${g.thresholdDays}); deactivate or delete it.`,
              {
                ...keyFacts,
                days: idle,
                thresholdDays: g.thresholdDays,
              },
            );
          }
        }
      }
      if (activeKeys.length > 1) {
        add(
          'multiple-active-keys',
          t.multipleActiveKeys,
          'access-keys',
          `${who} has ${activeKeys.length} active access keys; keep one outside a rotation.`,
        );
      }
      if (record.password.enabled) {
        if (!record.mfaActive) {
          add(
            'password-without-mfa',
            t.passwordWithoutMfa,
            'password',
            `${who} can sign in to the console without MFA.`,
          );
        }
        const since = record.password.lastUsed ?? record.password.lastChanged ?? record.createdAt;
        const idle = wholeDaysBetween(since, now);
        const unused = grade(idle, t.passwordUnused);
        if (unused) {
          const what = record.password.lastUsed
            ? `has not been used for ${idle} days`
            : `has never been used in ${idle} days`;
          add(
            'password-unused',
            unused.severity,
            'password',
            `The console password of ${who} ${what} (${unused.severity} at ${unused.thresholdDays}); remove it.`,
            {
              days: idle,
              thresholdDays: unused.thresholdDays,
              lastUsed: record.password.lastUsed ? { date: record.password.lastUsed.toISOString() } : null,
            },
          );
        }
        if (record.password.lastChanged) {
          const age = wholeDaysBetween(record.password.lastChanged, now);
          const g = grade(age, t.passwordAge);
          if (g) {
            add(
              'password-age',
              g.severity,
              'password',
              `The console password of ${who} is ${age} days old (${g.severity} at ${g.thresholdDays}).`,
              {
                days: age,
                thresholdDays: g.thresholdDays,
              },
            );
          }
        }
      }
      if (exemption) {
        const capped = exemption.requestedUntil
          ? ` (the tag asks for ${exemption.requestedUntil}; capped at ${t.tagLimits.maxExemptionDays} days)`
          : '';
        add(
          'exemption-granted',
          t.exemptionGranted,
          exemptionCredential(exemption),
          `${who} is exempted from credwatch's findings until ${exemption.until}${capped} by the ${TAG_EXEMPT} tag; reason: ${exemption.reason}.`,
        );
      }
      if ('expiredExemption' in overrides && overrides.expiredExemption) {
        const e = overrides.expiredExemption;
        add(
          'exemption-expired',
          t.exemptionExpired,
          'exemption',
          `The ${TAG_EXEMPT} tag of ${who} expired on ${e.until} (reason: ${e.reason}); its findings apply again. Remove or renew the tag.`,
        );
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
