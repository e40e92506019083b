/** What several rules share: grading by day thresholds, naming keys and exemptions. Pure. */
import type { ThresholdRule } from '../policy';
import type { AccessKey, Exemption, Finding, Severity } from '../types';

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

export const keyLabel = (key: AccessKey) =>
  key.id ? `Access key ${key.id}` : `Access key ${key.slot ?? '?'}`;

export const asLastUsed = (key: AccessKey): Finding['lastUsed'] =>
  key.lastUsed
    ? {
        date: key.lastUsed.date.toISOString(),
        ...(key.lastUsed.service ? { service: key.lastUsed.service } : {}),
        ...(key.lastUsed.region ? { region: key.lastUsed.region } : {}),
      }
    : null;

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
