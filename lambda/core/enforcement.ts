/**
 * Opt-in graduated enforcement for access keys (docs/enforcement.md): a final notice at one age, a
 * deactivation at another, never before the notice was announced a lead time earlier, never a
 * delete. Pure: the plan of each key from the credential records, the policy, the remembered states
 * of the notices and the recorded actions; the scan confirms the keys live and acts on the plan
 * (lambda/scan.ts), the state store records each action at once (lambda/adapters/state-store.ts).
 *
 * Never touched: the root user (its keys cannot be changed from a role, and its row is skipped),
 * users exempted by `credwatch:exempt`, users on the protected list or tagged `credwatch:protected`,
 * the scanner's own keys, keys used within the recent window, and inactive keys.
 */
import { z } from 'zod';
import { DAY_MS, isoDay, wholeDaysBetween } from './dates';
import type { Thresholds } from './policy';
import { TAG_EXEMPT, userOverrides } from './policy';
import { exemptionCredential, keyCredential } from './rules/helpers';
import type { FindingState } from './state';
import type { AccessKey, CredentialRecord, Finding, RuleId, ScanWarning, UserTags } from './types';

export type EnforcementMode = 'off' | 'dry-run' | 'enforce';
export const ENFORCEMENT_MODES: readonly EnforcementMode[] = ['off', 'dry-run', 'enforce'];

/** A user tag that moves the user's deactivation age (capped at `thresholds.tagLimits.maxKeyAgeDays`). */
export const TAG_DEACTIVATE_KEY_AGE = 'credwatch:deactivate-key-age-days';
/** A user tag (any value) that keeps credwatch's hands off the user's keys. */
export const TAG_PROTECTED = 'credwatch:protected';

/** The enforcement rules' ids (lambda/core/rules): what each stage of a key's plan is announced as. */
export const ENFORCEMENT_RULES = {
  /** Enforce: the key will be deactivated on or after a date unless it is rotated. */
  finalNotice: 'access-key-final-notice',
  /** Enforce: credwatch deactivated the key (with the command that undoes it). */
  deactivated: 'access-key-deactivated',
  /** Dry run: enforce would give the final notice now and deactivate on a date. */
  planned: 'access-key-deactivation-planned',
  /** Dry run: enforce would deactivate the key in this run. */
  wouldDeactivate: 'access-key-would-deactivate',
} as const satisfies Record<string, RuleId>;

const ENFORCEMENT_RULE_IDS: ReadonlySet<string> = new Set(Object.values(ENFORCEMENT_RULES));
export const isEnforcementRule = (rule: string): boolean => ENFORCEMENT_RULE_IDS.has(rule);

const days = z.int().min(1).max(3650);

const agesSchema = {
  /** Key age (days since creation) at which the final notice is given; null: no age enforcement. */
  finalNoticeKeyAgeDays: days.nullable().default(null),
  /** Key age at which the key is deactivated (after its notice and the lead time). */
  deactivateKeyAgeDays: days.nullable().default(null),
  /** Days unused (a never-used key counts from its creation) at which the final notice is given. */
  finalNoticeUnusedDays: days.nullable().default(null),
  /** Days unused at which the key is deactivated. */
  deactivateUnusedDays: days.nullable().default(null),
};

/** What one account may change of the policy (configuration `enforcement.accounts`). */
export const accountEnforcementSchema = z.strictObject({
  mode: z.enum(['off', 'dry-run', 'enforce']).optional(),
  finalNoticeKeyAgeDays: days.nullable().optional(),
  deactivateKeyAgeDays: days.nullable().optional(),
  finalNoticeUnusedDays: days.nullable().optional(),
  deactivateUnusedDays: days.nullable().optional(),
});

const pairsProblem = (p: {
  finalNoticeKeyAgeDays: number | null;
  deactivateKeyAgeDays: number | null;
  finalNoticeUnusedDays: number | null;
  deactivateUnusedDays: number | null;
}): { path: string; message: string } | undefined => {
  for (const [notice, deactivate] of [
    ['finalNoticeKeyAgeDays', 'deactivateKeyAgeDays'],
    ['finalNoticeUnusedDays', 'deactivateUnusedDays'],
  ] as const) {
    const n = p[notice];
    const d = p[deactivate];
    if ((n === null) !== (d === null)) {
      return {
        path: n === null ? notice : deactivate,
        message: `${notice} and ${deactivate} are set together`,
      };
    }
    if (n !== null && d !== null && n >= d) {
      return { path: notice, message: `${notice} must be less than ${deactivate}` };
    }
  }
  return undefined;
};

/** The policy (configuration `enforcement`, docs/enforcement.md), per account already resolved. */
export const enforcementPolicySchema = z
  .strictObject({
    mode: z.enum(['off', 'dry-run', 'enforce']).default('off'),
    ...agesSchema,
    /** Least time between the final notice being announced and the deactivation. */
    leadTimeDays: days.default(7),
    /** A key used within this many hours is never deactivated (its plan is held). */
    recentUseHours: z
      .int()
      .min(1)
      .max(24 * 90)
      .default(24),
    /** IAM user names never touched (exact names; a trailing `*` matches a prefix). */
    protectedUsers: z.array(z.string().min(1).max(128)).max(500).default([]),
  })
  .superRefine((p, ctx) => {
    const problem = pairsProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
    if (p.mode !== 'off' && p.finalNoticeKeyAgeDays === null && p.finalNoticeUnusedDays === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `mode ${p.mode} needs finalNoticeKeyAgeDays/deactivateKeyAgeDays or finalNoticeUnusedDays/deactivateUnusedDays`,
      });
    }
  });

export type EnforcementPolicy = z.infer<typeof enforcementPolicySchema>;
export type AccountEnforcement = z.infer<typeof accountEnforcementSchema>;

/** The documented defaults: off. */
export const DEFAULT_ENFORCEMENT: EnforcementPolicy = enforcementPolicySchema.parse({});

/**
 * The policy of one account: the global one with the account's overrides, checked again (an
 * override can break a pair). @returns the policy, or the problem (field and why)
 */
export function resolveEnforcement(
  global: EnforcementPolicy,
  override: AccountEnforcement | undefined,
): { readonly policy: EnforcementPolicy } | { readonly problem: string } {
  if (!override) return { policy: global };
  const parsed = enforcementPolicySchema.safeParse({ ...global, ...override });
  if (parsed.success) return { policy: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { problem: `${issue.path.map(String).join('.')}: ${issue.message}` };
}

/** One action credwatch took (or saw) on a key, recorded at once in the state table: the audit trail. */
export interface EnforcementAction {
  /** `deactivated`: credwatch set the key Inactive. `reactivation-seen`: a key it deactivated was Active again. */
  readonly kind: 'deactivated' | 'reactivation-seen';
  readonly accountId: string;
  readonly user: string;
  readonly accessKeyId: string;
  /** The finding credential of the key (its creation time), as the notices name it. */
  readonly credential: string;
  /** ISO time of the action. */
  readonly at: string;
  /** Why: `age` or `unused`, with the figures (`key 120 days old, deactivation at 100`). */
  readonly reason: string;
  /** The run that acted (its scheduled time and execution, or the invocation). */
  readonly runId: string;
  /** Who acted: the scanner's principal (role ARN), when known. */
  readonly actor?: string;
  /** ISO time of the final notice the deactivation followed. */
  readonly noticeAt?: string;
}

/** The stage of one key's plan. */
export type KeyStage =
  /** Past the notice age: the final notice is (or stays) announced. */
  | 'notice'
  /** Notice given a lead time ago and past the deactivation age: deactivated now (enforce). */
  | 'due'
  /** Due, but held: used recently, or not confirmed live in this run. Said in the plan and a warning. */
  | 'held';

export interface KeyPlan {
  readonly user: string;
  readonly arn: string;
  readonly accessKeyId?: string;
  readonly credential: string;
  /** The credential of the key's notice finding: the key's, or after an action `<credential>@<time>` (a new generation). */
  readonly noticeCredential: string;
  /** `age` or `unused`: which figure reached its notice age (the one that deactivates first). */
  readonly reason: 'age' | 'unused';
  /** The figure, in days, and the ages that apply to the user. */
  readonly days: number;
  readonly noticeDays: number;
  readonly deactivateDays: number;
  readonly stage: KeyStage;
  /** Why a due key is held. */
  readonly heldBy?: string;
  /** When the final notice was (or, in a dry run, would have been) announced: ISO; absent: this run. */
  readonly noticeAt?: string;
  /** The day (UTC) on or after which the key is deactivated. */
  readonly deactivateOn: string;
  readonly owner?: string;
}

/** A key credwatch deactivated and that is still inactive: announced (once) with its undo command. */
export interface Deactivation {
  readonly user: string;
  readonly arn: string;
  readonly action: EnforcementAction;
}

export interface EnforcementPlan {
  readonly mode: EnforcementMode;
  readonly keys: readonly KeyPlan[];
  readonly deactivated: readonly Deactivation[];
  /** Keys credwatch deactivated that are Active again: a person undid it (record a `reactivation-seen`). */
  readonly reactivated: readonly {
    readonly user: string;
    readonly accessKeyId: string;
    readonly credential: string;
  }[];
  /** Users or keys left alone, and why (protected, exempted, own key): for the CLI's plan and the logs. */
  readonly untouched: readonly {
    readonly user: string;
    readonly credential?: string;
    readonly why: string;
  }[];
  readonly warnings: readonly ScanWarning[];
  /**
   * Users whose keys the scan should read live before acting: a due key (its state and last use),
   * a new notice, a key credwatch deactivated that the report shows Active.
   */
  readonly confirm: ReadonlySet<string>;
}

export interface PlanInput {
  readonly accountId: string;
  readonly records: readonly CredentialRecord[];
  readonly tags?: UserTags;
  readonly thresholds: Thresholds;
  readonly policy: EnforcementPolicy;
  readonly now: Date;
  /** The remembered states of this account's enforcement findings, by finding id. */
  readonly states?: ReadonlyMap<string, FindingState>;
  /** The recorded actions of this account (any order). */
  readonly actions?: readonly EnforcementAction[];
  /** The scanner's own access key ids: never touched. */
  readonly ownKeyIds?: ReadonlySet<string>;
  /**
   * When each still-open finding was first seen, by id (the remembered states): an exemption is
   * bounded from the day it was first announced (`thresholds.tagLimits.maxExemptionDays`).
   */
  readonly knownSince?: ReadonlyMap<string, Date>;
  /**
   * Users whose keys were read live in this run: a key is deactivated only when its state and last
   * use were read live. @default none (a report file: nothing is ever due, only planned)
   */
  readonly confirmedUsers?: ReadonlySet<string>;
}

const HOUR_MS = 3_600_000;

/** Whether a user name is on the protected list (exact, or a prefix ending in `*`). */
export function isProtected(user: string, list: readonly string[]): boolean {
  return list.some((p) => (p.endsWith('*') ? user.startsWith(p.slice(0, -1)) : user === p));
}

/** The finding id of a key's enforcement finding of `rule`. */
export const enforcementId = (accountId: string, user: string, rule: string, credential: string): string =>
  `${accountId}/${user}/${rule}/${credential}`;

/** The next midnight (UTC) at or after `ms`. */
const ceilDay = (ms: number): number => Math.ceil(ms / DAY_MS) * DAY_MS;

/** `2026-12-08T12:00:00Z` of an ISO time: a generation's name in a finding id. */
const compactTime = (iso: string): string =>
  new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The deactivation day a remembered notice announced, from the deactivation age it carried
 * (`thresholdDays`) and the key's own dates: later ages or tags never bring it forward.
 */
function announcedDay(
  notice: FindingState,
  key: AccessKey,
  reason: KeyPlan['reason'],
  leadTimeDays: number,
): number {
  const at = Date.parse(notice.firstSeen);
  const { thresholdDays } = notice.finding;
  let reached = at;
  if (thresholdDays !== undefined) {
    // Exact, from the key's own dates: its creation, or its last use (a use since the notice moves
    // the day later, never earlier).
    const since = reason === 'age' ? key.createdAt! : (key.lastUsed?.date ?? key.createdAt!);
    reached = since.getTime() + thresholdDays * DAY_MS;
  }
  return ceilDay(Math.max(reached, at + leadTimeDays * DAY_MS));
}

/**
 * The plan of every active access key of the account's users under the policy. Nothing when the
 * mode is off. A key is `due` only when it was read live in this run, its final notice (enforce) or
 * plan (dry run) was announced at least the lead time ago and after credwatch last deactivated it
 * or saw it re-activated, it reached the deactivation age, and it was not used within the recent
 * window.
 */
export function planEnforcement(input: PlanInput): EnforcementPlan {
  const { policy, now, accountId } = input;
  const keys: KeyPlan[] = [];
  const deactivated: Deactivation[] = [];
  const reactivated: EnforcementPlan['reactivated'][number][] = [];
  const untouched: EnforcementPlan['untouched'][number][] = [];
  const warnings: ScanWarning[] = [];
  const confirm = new Set<string>();
  if (policy.mode === 'off')
    return { mode: 'off', keys, deactivated, reactivated, untouched, warnings, confirm };
  const today = isoDay(now);
  const noticeRule = policy.mode === 'enforce' ? ENFORCEMENT_RULES.finalNotice : ENFORCEMENT_RULES.planned;
  const lastActions = latestActions(input.actions ?? []);
  // An action names its key by id when known (twins created in the same second share a credential).
  const lastOf = (user: string, key: AccessKey, credential: string) =>
    (key.id ? lastActions.get(`${user}/#${key.id}`) : undefined) ?? lastActions.get(`${user}/${credential}`);
  const lastDeactivations = latestActions((input.actions ?? []).filter((a) => a.kind === 'deactivated'));
  const lastDeactivationOf = (user: string, key: AccessKey, credential: string) =>
    (key.id ? lastDeactivations.get(`${user}/#${key.id}`) : undefined) ??
    lastDeactivations.get(`${user}/${credential}`);

  for (const record of input.records) {
    if (record.isRoot) continue;
    const user = record.user;
    const live = input.confirmedUsers?.has(user) ?? false;
    const keyed = record.accessKeys.flatMap((key) =>
      key.createdAt ? [{ key, credential: keyCredential(key, record.accessKeys) }] : [],
    );
    // What credwatch deactivated, by the key's credential (its creation time: the report and IAM
    // share it): still inactive (announced once), or Active again. A report can be 4 hours old, so
    // only a key read live as Active was re-activated by a person; the report's word is not enough.
    const actedOn = new Set<string>();
    for (const { key, credential } of keyed) {
      const last = lastOf(user, key, credential);
      if (last?.kind !== 'deactivated') continue;
      if (key.active && live) {
        reactivated.push({ user, accessKeyId: key.id ?? last.accessKeyId, credential });
        continue;
      }
      if (key.active) confirm.add(user);
      deactivated.push({ user, arn: record.arn, action: last });
      actedOn.add(credential);
    }
    const active = keyed.filter(({ key, credential }) => key.active && !actedOn.has(credential));
    if (active.length === 0) continue;
    const tags = input.tags?.get(user);
    if (isProtected(user, policy.protectedUsers)) {
      untouched.push({ user, why: 'on the protected list (enforcement.protectedUsers)' });
      continue;
    }
    if (tags?.[TAG_PROTECTED] !== undefined) {
      untouched.push({ user, why: `tagged ${TAG_PROTECTED}` });
      continue;
    }
    // An exemption is bounded from the day it was first announced, as for the findings (evaluate.ts).
    const overrides = userOverrides(user, tags, input.thresholds, today, (e) => {
      const since = input.knownSince?.get(`${accountId}/${user}/exemption-granted/${exemptionCredential(e)}`);
      return since ? isoDay(since) : undefined;
    });
    if (overrides.exemption) {
      untouched.push({ user, why: `exempted by ${TAG_EXEMPT} until ${overrides.exemption.until}` });
      continue;
    }
    const ages = userAges(user, tags, policy, input.thresholds, warnings);
    for (const { key, credential } of active) {
      if (key.id && input.ownKeyIds?.has(key.id)) {
        untouched.push({ user, credential, why: "the scanner's own access key" });
        continue;
      }
      const plan = planKey(key, ages, now);
      if (!plan) continue;
      const last = lastOf(user, key, credential);
      // After credwatch deactivated the key, its next notice is a new finding (a generation named by
      // that deactivation, which is always recorded), so it is announced even while an older
      // notice's state is still open (a run that did not deliver). A notice for the key being unused
      // is another finding than one for its age: a key warned as unused, then used, gets an age
      // notice of its own before any deactivation for its age.
      const deactivation = lastDeactivationOf(user, key, credential);
      const noticeCredential = `${credential}${plan.reason === 'unused' ? '~unused' : ''}${deactivation ? `@${compactTime(deactivation.at)}` : ''}`;
      const id = enforcementId(accountId, user, noticeRule, noticeCredential);
      const notice = validNotice(input.states?.get(id), last);
      const noticeAt = notice ? Date.parse(notice.firstSeen) : now.getTime();
      // Never before the day the notice announced (the ages or tags may have changed since), never
      // before the lead time, and on a day boundary: "on or after" a day means from its midnight (UTC).
      const { reachedAt, ...figures } = plan;
      const deactivateAt = ceilDay(
        Math.max(
          reachedAt,
          noticeAt + policy.leadTimeDays * DAY_MS,
          notice ? announcedDay(notice, key, plan.reason, policy.leadTimeDays) : 0,
        ),
      );
      const base = {
        user,
        arn: record.arn,
        ...(key.id ? { accessKeyId: key.id } : {}),
        credential,
        noticeCredential,
        ...figures,
        ...(notice ? { noticeAt: notice.firstSeen } : {}),
        deactivateOn: isoDay(new Date(deactivateAt)),
        ...(overrides.owner ? { owner: overrides.owner } : {}),
      };
      if (!notice || now.getTime() < deactivateAt) {
        // A new notice is about a key read live, when the scan reads keys at all.
        if (!notice) confirm.add(user);
        keys.push({ ...base, stage: 'notice' });
        continue;
      }
      const held = holdReason(key, live, policy, now);
      if (held) confirm.add(user);
      keys.push(held ? { ...base, stage: 'held', heldBy: held } : { ...base, stage: 'due' });
    }
  }
  return { mode: policy.mode, keys, deactivated, reactivated, untouched, warnings, confirm };
}

interface Ages {
  readonly noticeAge: number | null;
  readonly deactivateAge: number | null;
  readonly noticeUnused: number | null;
  readonly deactivateUnused: number | null;
}

/** The user's ages: `credwatch:deactivate-key-age-days` moves the age pair, keeping its gap. */
function userAges(
  user: string,
  tags: Readonly<Record<string, string>> | undefined,
  policy: EnforcementPolicy,
  thresholds: Thresholds,
  warnings: ScanWarning[],
): Ages {
  const base: Ages = {
    noticeAge: policy.finalNoticeKeyAgeDays,
    deactivateAge: policy.deactivateKeyAgeDays,
    noticeUnused: policy.finalNoticeUnusedDays,
    deactivateUnused: policy.deactivateUnusedDays,
  };
  const value = tags?.[TAG_DEACTIVATE_KEY_AGE];
  if (value === undefined || base.noticeAge === null || base.deactivateAge === null) return base;
  const trimmed = value.trim();
  const n = /^\d{1,5}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  const gap = base.deactivateAge - base.noticeAge;
  // A tag may only postpone: anyone who can tag a user must not be able to have its keys deactivated
  // sooner than the policy says.
  if (!Number.isInteger(n) || n < base.deactivateAge) {
    warnings.push({
      code: 'bad-tag',
      user,
      tag: TAG_DEACTIVATE_KEY_AGE,
      message: `user "${user}": tag ${TAG_DEACTIVATE_KEY_AGE}="${value}" ignored: expected a whole number of days, at least the policy's ${base.deactivateAge} (a tag may postpone a deactivation, never bring it forward)`,
    });
    return base;
  }
  // The ceiling bounds how far a tag postpones; it never makes the policy itself stricter.
  const ceiling = Math.max(thresholds.tagLimits.maxKeyAgeDays, base.deactivateAge);
  let deactivateAge = n;
  if (n > ceiling) {
    warnings.push({
      code: 'tag-capped',
      user,
      tag: TAG_DEACTIVATE_KEY_AGE,
      message: `user "${user}": tag ${TAG_DEACTIVATE_KEY_AGE}="${value}" is above the ceiling of ${ceiling} days (thresholds.tagLimits.maxKeyAgeDays); using ${ceiling}`,
    });
    deactivateAge = ceiling;
  }
  return { ...base, noticeAge: deactivateAge - gap, deactivateAge };
}

/** Which figure of the key reached its notice age: the one that deactivates it first. */
function planKey(
  key: AccessKey,
  ages: Ages,
  now: Date,
): (Pick<KeyPlan, 'reason' | 'days' | 'noticeDays' | 'deactivateDays'> & { reachedAt: number }) | undefined {
  const candidates: (Pick<KeyPlan, 'reason' | 'days' | 'noticeDays' | 'deactivateDays'> & {
    reachedAt: number;
  })[] = [];
  const created = key.createdAt!.getTime();
  const age = wholeDaysBetween(key.createdAt!, now);
  if (ages.noticeAge !== null && ages.deactivateAge !== null && age >= ages.noticeAge) {
    candidates.push({
      reason: 'age',
      days: age,
      noticeDays: ages.noticeAge,
      deactivateDays: ages.deactivateAge,
      // The instant the key is (or was) that many whole days old: fixed, whenever the run is.
      reachedAt: created + ages.deactivateAge * DAY_MS,
    });
  }
  const since = key.lastUsed?.date ?? key.createdAt!;
  const unused = wholeDaysBetween(since, now);
  if (ages.noticeUnused !== null && ages.deactivateUnused !== null && unused >= ages.noticeUnused) {
    candidates.push({
      reason: 'unused',
      days: unused,
      noticeDays: ages.noticeUnused,
      deactivateDays: ages.deactivateUnused,
      reachedAt: since.getTime() + ages.deactivateUnused * DAY_MS,
    });
  }
  candidates.sort((a, b) => a.reachedAt - b.reachedAt);
  return candidates[0];
}

/**
 * The remembered notice, when it counts: open, announced in the channel (a baseline summary is not a
 * notice to anyone), and announced after credwatch last deactivated the key or saw it re-activated.
 */
function validNotice(
  state: FindingState | undefined,
  last: EnforcementAction | undefined,
): FindingState | undefined {
  // Only its own entry is a notice: never a baseline or an overflow summary (the notifier keeps
  // enforcement out of those; an item written otherwise does not count).
  if (state?.status !== 'open' || state.announcedIn !== undefined) return undefined;
  // A notice of the run that saw the re-activation (same instant) counts: it was said after it.
  if (last && Date.parse(state.firstSeen) < Date.parse(last.at)) return undefined;
  return state;
}

function holdReason(key: AccessKey, live: boolean, policy: EnforcementPolicy, now: Date): string | undefined {
  if (!key.id || !live) return 'its key was not read live in this run';
  const used = key.lastUsed?.date.getTime();
  if (used !== undefined && now.getTime() - used < policy.recentUseHours * HOUR_MS) {
    const hours = Math.max(0, Math.floor((now.getTime() - used) / HOUR_MS));
    return `used ${hours} h ago (within enforcement.recentUseHours, ${policy.recentUseHours} h)`;
  }
  return undefined;
}

/** The latest action on each key, by `user/credential` and by `user/#accessKeyId`. */
function latestActions(actions: readonly EnforcementAction[]): Map<string, EnforcementAction> {
  const latest = new Map<string, EnforcementAction>();
  for (const a of actions) {
    for (const k of [`${a.user}/${a.credential}`, `${a.user}/#${a.accessKeyId}`]) {
      const seen = latest.get(k);
      // Later wins; at the same instant a re-activation seen follows the deactivation it undoes.
      const later =
        !seen ||
        Date.parse(a.at) > Date.parse(seen.at) ||
        (Date.parse(a.at) === Date.parse(seen.at) && a.kind === 'reactivation-seen');
      if (later) latest.set(k, a);
    }
  }
  return latest;
}

/** The command that undoes a deactivation (in the key's account). */
export function undoCommand(user: string, accessKeyId: string): string {
  return `aws iam update-access-key --user-name ${user} --access-key-id ${accessKeyId} --status Active`;
}

const reasonText = (k: Pick<KeyPlan, 'reason' | 'days' | 'deactivateDays'>) =>
  k.reason === 'age'
    ? `${k.days} days old, deactivation at ${k.deactivateDays}`
    : `unused for ${k.days} days, deactivation at ${k.deactivateDays}`;

/** Why a key is deactivated, as recorded and announced. */
export const actionReason = (k: KeyPlan): string => `${k.reason}: ${reasonText(k)}`;

/**
 * The findings the plan announces (each announced once, never reminded: lambda/core/diff.ts
 * ANNOUNCED_ONCE), with stable ids (`account/user/<rule>/<key credential>`):
 * - enforce: `access-key-final-notice` while a key is planned (notice, held), `access-key-deactivated`
 *   while a key credwatch deactivated stays inactive;
 * - dry run: `access-key-deactivation-planned` while a key is planned, `access-key-would-deactivate`
 *   when enforce would deactivate it in this run.
 */
export function enforcementFindings(accountId: string, plan: Omit<EnforcementPlan, 'confirm'>): Finding[] {
  if (plan.mode === 'off') return [];
  const dry = plan.mode === 'dry-run';
  const findings: Finding[] = [];
  const keyName = (k: { accessKeyId?: string; credential: string }) =>
    k.accessKeyId
      ? `access key ${k.accessKeyId}`
      : `the access key created ${k.credential.replace(/^key-/, '')}`;
  for (const k of plan.keys) {
    const common = {
      accountId,
      user: k.user,
      arn: k.arn,
      credential: k.credential,
      ...(k.accessKeyId ? { accessKeyId: k.accessKeyId } : {}),
      days: k.days,
      thresholdDays: k.deactivateDays,
      ...(k.owner ? { owner: k.owner } : {}),
    };
    const held = k.stage === 'held' ? ` Held in this run: ${k.heldBy}.` : '';
    if (!dry) {
      findings.push({
        ...common,
        id: enforcementId(accountId, k.user, ENFORCEMENT_RULES.finalNotice, k.noticeCredential),
        credential: k.noticeCredential,
        rule: ENFORCEMENT_RULES.finalNotice,
        severity: 'critical',
        summary: `Final notice: credwatch will deactivate ${keyName(k)} of ${k.user} on or after ${k.deactivateOn} (${reasonText(k)}) unless it is ${k.reason === 'age' ? 'rotated' : 'used or deleted'}.${held}`,
      });
      continue;
    }
    // The plan stays open while the key is planned (notice, due or held); on the day enforce would
    // act, what it would do in this run is said once more.
    const noticeOn = k.noticeAt ? k.noticeAt.slice(0, 10) : 'now';
    findings.push({
      ...common,
      id: enforcementId(accountId, k.user, ENFORCEMENT_RULES.planned, k.noticeCredential),
      credential: k.noticeCredential,
      rule: ENFORCEMENT_RULES.planned,
      severity: 'warning',
      summary: `Dry run: enforcement would give ${k.user} a final notice for ${keyName(k)} ${noticeOn === 'now' ? 'now' : `on ${noticeOn}`} and deactivate it on or after ${k.deactivateOn} (${reasonText(k)}).`,
    });
    if (k.stage === 'due') {
      findings.push({
        ...common,
        id: enforcementId(accountId, k.user, ENFORCEMENT_RULES.wouldDeactivate, k.noticeCredential),
        credential: k.noticeCredential,
        rule: ENFORCEMENT_RULES.wouldDeactivate,
        severity: 'warning',
        summary: `Dry run: enforcement would deactivate ${keyName(k)} of ${k.user} in this run (${reasonText(k)}; planned since ${noticeOn}); undo: ${undoCommand(k.user, k.accessKeyId ?? '<key id>')}`,
      });
    }
  }
  for (const d of plan.deactivated) {
    // One finding per deactivation (its time in the id): a second one, after a re-activation, is
    // announced even if the first one's state was never resolved.
    const credential = `${d.action.credential}@${compactTime(d.action.at)}`;
    findings.push({
      id: enforcementId(accountId, d.user, ENFORCEMENT_RULES.deactivated, credential),
      accountId,
      user: d.user,
      arn: d.arn,
      rule: ENFORCEMENT_RULES.deactivated,
      severity: 'critical',
      credential,
      accessKeyId: d.action.accessKeyId,
      summary: `credwatch deactivated access key ${d.action.accessKeyId} of ${d.user} at ${d.action.at.slice(0, 16).replace('T', ' ')} UTC (${d.action.reason}${d.action.noticeAt ? `; final notice ${d.action.noticeAt.slice(0, 10)}` : ''}). Undo: ${undoCommand(d.user, d.action.accessKeyId)}`,
    });
  }
  return findings;
}
