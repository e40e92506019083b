/**
 * The thresholds credwatch judges credentials by (docs/rules.md), their schema, and the
 * per-user overrides read from IAM user tags. The same schema is used by the CLI's `--config` and
 * by the deployment's configuration.
 */
import { z } from 'zod';
import type { Exemption, ScanWarning, Severity } from './types';

const days = z.int().min(1).max(3650);

const thresholdRule = (warningDays: number | null, criticalDays: number | null) =>
  z
    .strictObject({
      /** Days at which the finding becomes a warning; null turns the warning level off. */
      warningDays: days.nullable().default(warningDays),
      /** Days at which the finding becomes critical; null turns the critical level off. */
      criticalDays: days.nullable().default(criticalDays),
    })
    .refine((t) => t.warningDays === null || t.criticalDays === null || t.warningDays < t.criticalDays, {
      message: 'warningDays must be less than criticalDays',
      path: ['warningDays'],
    })
    .prefault({});

const severityRule = (defaultSeverity: Severity | 'off') =>
  z.enum(['info', 'warning', 'critical', 'off']).default(defaultSeverity);

export const thresholdsSchema = z
  .strictObject({
    /** Age of an active access key (Security Hub IAM.3). */
    accessKeyAge: thresholdRule(80, 90),
    /** Days since an active access key was last used; a never-used key counts from its creation (IAM.22, CIS 1.12). */
    accessKeyUnused: thresholdRule(45, null),
    /** Days since a console password was last used; never used counts from when it was set (IAM.22). */
    passwordUnused: thresholdRule(45, null),
    /** Age of a console password (IAM.8). Off by default: NIST SP 800-63B no longer advises forced rotation. */
    passwordAge: thresholdRule(null, null),
    /** A console password without MFA (IAM.5). */
    passwordWithoutMfa: severityRule('critical'),
    /** An active access key on the root user (IAM.4). */
    rootAccessKey: severityRule('critical'),
    /** The root user without MFA (IAM.9). */
    rootWithoutMfa: severityRule('critical'),
    /**
     * The root user has no password, no access key and no MFA device: its credentials were removed
     * (centralized root access, 2024+). A notice, in place of `rootWithoutMfa`.
     */
    rootCredentialsRemoved: severityRule('info'),
    /**
     * The root user's password or an access key of it was used within the last `withinDays` days
     * (CIS 1.7, "avoid the use of the root user"); judged by the most recent use.
     */
    rootUsed: z
      .strictObject({
        /** How recent a use is reported: used less than this many whole days before the scan. */
        withinDays: days.default(1),
        severity: severityRule('warning'),
      })
      .prefault({}),
    /** The root user's MFA device is a virtual one, not hardware (IAM.6); live scans only. */
    rootVirtualMfa: severityRule('critical'),
    /** More than one active access key on a user (CIS 1.13). */
    multipleActiveKeys: severityRule('info'),
    /** A `credwatch:exempt` tag whose `until` date has passed. */
    exemptionExpired: severityRule('warning'),
    /**
     * A `credwatch:exempt` tag: announced once when it appears or changes (never reminded). It cannot
     * be turned off: its remembered state is what bounds the exemption (tagLimits.maxExemptionDays).
     */
    exemptionGranted: z.enum(['info', 'warning', 'critical']).default('info'),
    /**
     * What a user's own tags may ask for. Anyone who can tag a user can set them, so they are bounded:
     * a longer exemption or a higher key age is capped, with a warning naming the user and the tag.
     */
    tagLimits: z
      .strictObject({
        /** Longest exemption, in days from when credwatch first saw it. */
        maxExemptionDays: days.default(90),
        /** Highest `credwatch:max-key-age-days` (and `warn-key-age-days`). */
        maxKeyAgeDays: days.default(365),
      })
      .prefault({}),
  })
  .prefault({});

export type Thresholds = z.infer<typeof thresholdsSchema>;
export type ThresholdRule = Thresholds['accessKeyAge'];

/** The documented defaults (docs/rules.md). */
export const DEFAULT_THRESHOLDS: Thresholds = thresholdsSchema.parse({});

export const TAG_MAX_KEY_AGE = 'credwatch:max-key-age-days';
export const TAG_WARN_KEY_AGE = 'credwatch:warn-key-age-days';
export const TAG_EXEMPT = 'credwatch:exempt';
export const TAG_OWNER = 'credwatch:owner';

/** What a user's tags change about how it is judged. */
export interface UserOverrides {
  readonly accessKeyAge: ThresholdRule;
  readonly owner?: string;
  /** An exemption in force today. */
  readonly exemption?: Exemption;
  /** An exemption whose `until` has passed: no longer applied, and reported. */
  readonly expiredExemption?: Exemption;
  readonly warnings: ScanWarning[];
}

/**
 * A Slack member (`U…`/`W…`) or user group (`S…`) id, or a plain e-mail address: no scheme, path or
 * other characters Slack would turn into a link (`https://evil.example/reset@evil.example.com`).
 */
const OWNER =
  /^(?:[UWS][A-Z0-9]{2,40}|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,63})$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function badTag(user: string, tag: string, value: string, problem: string): ScanWarning {
  return {
    code: 'bad-tag',
    user,
    tag,
    message: `user "${user}": tag ${tag}="${value}" ignored: ${problem}`,
  };
}

function tagDays(
  user: string,
  tag: string,
  value: string | undefined,
  ceiling: number,
  warnings: ScanWarning[],
) {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const n = /^\d{1,12}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(n) || n < 1) {
    warnings.push(badTag(user, tag, value, 'expected a whole number of days, at least 1'));
    return undefined;
  }
  if (n > ceiling) {
    warnings.push({
      code: 'tag-capped',
      user,
      tag,
      message: `user "${user}": tag ${tag}="${value}" is above the ceiling of ${ceiling} days (thresholds.tagLimits.maxKeyAgeDays); using ${ceiling}`,
    });
    return ceiling;
  }
  return n;
}

/** `YYYY-MM-DD` plus `n` days. */
function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Parse `until=YYYY-MM-DD reason=...` (either order). IAM tag values allow only letters, digits,
 * spaces and `_ . : / = + - @`, so the parts are separated by spaces; `;` is accepted too. The
 * reason runs to the next `until=` or the end.
 */
export function parseExemption(value: string): Exemption | string {
  const keys = [...value.matchAll(/(?:^|[\s;/])(until|reason)=/gi)];
  const first = keys[0];
  if (!first) return 'expected "until=YYYY-MM-DD reason=..."';
  const before = value.slice(0, first.index).trim();
  if (before !== '') return `"${before}" is not until=... or reason=...`;
  const parts = new Map<string, string>();
  keys.forEach((m, i) => {
    const end = keys[i + 1]?.index ?? value.length;
    parts.set(m[1]!.toLowerCase(), value.slice(m.index + m[0].length, end).replace(/^[\s;]+|[\s;]+$/g, ''));
  });
  const until = parts.get('until');
  const reason = parts.get('reason');
  if (!until) return 'until=YYYY-MM-DD is required';
  if (!DAY.test(until) || Number.isNaN(Date.parse(`${until}T00:00:00Z`)) || !sameDay(until)) {
    return `until "${until}" is not a date (YYYY-MM-DD)`;
  }
  if (!reason) return 'reason=... is required';
  return { until, reason };
}

/** Rejects dates such as 2026-02-30 that Date.parse rolls over. */
function sameDay(day: string): boolean {
  return new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

/**
 * The overrides a user's tags ask for. A bad value never throws: it becomes a warning naming the
 * user and the tag, and the policy's value is used.
 * @param today `YYYY-MM-DD` (UTC) of the scan; an exemption applies through its `until` day.
 */
export function userOverrides(
  user: string,
  tags: Readonly<Record<string, string>> | undefined,
  thresholds: Thresholds,
  today: string,
  grantedOn: (exemption: Exemption) => string | undefined = () => undefined,
): UserOverrides {
  const warnings: ScanWarning[] = [];
  if (!tags) return { accessKeyAge: thresholds.accessKeyAge, warnings };
  let accessKeyAge = thresholds.accessKeyAge;
  const ceiling = thresholds.tagLimits.maxKeyAgeDays;
  const max = tagDays(user, TAG_MAX_KEY_AGE, tags[TAG_MAX_KEY_AGE], ceiling, warnings);
  const warn = tagDays(user, TAG_WARN_KEY_AGE, tags[TAG_WARN_KEY_AGE], ceiling, warnings);
  if (max !== undefined || warn !== undefined) {
    const criticalDays = max ?? accessKeyAge.criticalDays;
    // A max without a warn tag moves the warning level with it: 10 days before, as 80/90 (off at <= 10).
    const warningDays = warn ?? (max !== undefined ? (max > 10 ? max - 10 : null) : accessKeyAge.warningDays);
    if (warningDays !== null && criticalDays !== null && warningDays >= criticalDays) {
      warnings.push(
        badTag(
          user,
          TAG_WARN_KEY_AGE,
          String(warn),
          `must be less than the critical age (${criticalDays} days); using ${accessKeyAge.warningDays ?? 'off'}/${accessKeyAge.criticalDays ?? 'off'}`,
        ),
      );
    } else {
      accessKeyAge = { warningDays, criticalDays };
    }
  }

  let owner: string | undefined;
  const ownerTag = tags[TAG_OWNER];
  if (ownerTag !== undefined) {
    if (OWNER.test(ownerTag.trim())) owner = ownerTag.trim();
    else
      warnings.push(
        badTag(
          user,
          TAG_OWNER,
          ownerTag,
          'expected a Slack member id (U…/W…), a user group id (S…) or an e-mail address',
        ),
      );
  }

  let exemption: Exemption | undefined;
  let expiredExemption: Exemption | undefined;
  const exemptTag = tags[TAG_EXEMPT];
  if (exemptTag !== undefined) {
    const parsed = parseExemption(exemptTag);
    if (typeof parsed === 'string') warnings.push(badTag(user, TAG_EXEMPT, exemptTag, parsed));
    else {
      // Bounded from the day credwatch first saw this exemption (today for a new one): asking again
      // with another date starts a new exemption, which is announced again.
      const maxDays = thresholds.tagLimits.maxExemptionDays;
      const latest = addDays(grantedOn(parsed) ?? today, maxDays);
      let granted: Exemption = parsed;
      if (parsed.until > latest) {
        granted = { ...parsed, until: latest, requestedUntil: parsed.until };
        warnings.push({
          code: 'exemption-capped',
          user,
          tag: TAG_EXEMPT,
          message: `user "${user}": tag ${TAG_EXEMPT} until ${parsed.until} is longer than the longest exemption (${maxDays} days, thresholds.tagLimits.maxExemptionDays); in force until ${latest}`,
        });
      }
      if (today <= granted.until) exemption = granted;
      else expiredExemption = granted;
    }
  }
  return {
    accessKeyAge,
    warnings,
    ...(owner ? { owner } : {}),
    ...(exemption ? { exemption } : {}),
    ...(expiredExemption ? { expiredExemption } : {}),
  };
}
