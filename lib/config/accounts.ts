/**
 * Which accounts one deployment scans (`accounts`, docs/configuration.md#accounts): its own
 * (`source: "self"`), a list of `ids`, or an AWS Organization (optionally some `organizationalUnits`),
 * narrowed by `include` and `exclude`; the member role it assumes in each (`memberRoleName`,
 * `scannerRoleName`, `externalId`, `organizationId`), how many at once (`concurrency`), and which
 * accounts may carry per-account `thresholds` (their values are merged and checked by thresholds.ts)
 * or per-account `enforcement.accounts` (enforcement.ts): {@link accountKeyProblem}.
 * {@link knownAccountIds} says which accounts that is when it is fixed at synth time.
 */
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import type { Thresholds } from '../../lambda/core/policy';
import { type ErrorFor, listedOnce, wholeNumber } from './messages';
import { EXTERNAL_ID, ORGANIZATION_ID, ROLE_NAME } from './patterns';

/** Where the accounts a deployment scans come from. */
export const ACCOUNT_SOURCES = ['self', 'list', 'organization'] as const;
export type AccountSource = (typeof ACCOUNT_SOURCES)[number];

/** The validated `accounts` section (docs/configuration.md#accounts), defaults filled in. */
export interface AccountsConfig {
  /** `self`: the deployment's own account, no AssumeRole; `list`: `ids`; `organization`: discovered. */
  readonly source: AccountSource;
  /** The accounts of `source: "list"`. */
  readonly ids?: readonly string[];
  /** `source: "organization"`: only the accounts under these OUs or roots (recursively); none = the whole organization. */
  readonly organizationalUnits?: readonly string[];
  /** When non-empty, only these accounts. */
  readonly include?: readonly string[];
  /** Never these accounts. */
  readonly exclude?: readonly string[];
  /** The name of the role the scanner assumes in every scanned account. */
  readonly memberRoleName: string;
  /** The fixed name of the scanner's own role when `source` is not `self` (member trust policies name it). */
  readonly scannerRoleName: string;
  /** The external id the scanner presents to AssumeRole. */
  readonly externalId?: string;
  /** The organization id for the member roles' `aws:PrincipalOrgID` condition. */
  readonly organizationId?: string;
  /** How many accounts are scanned at the same time. */
  readonly concurrency: number;
  /** Per-account thresholds: the global thresholds with the account's rules replaced, complete and validated. */
  readonly thresholds?: Readonly<Record<string, Thresholds>>;
  /**
   * How a run is carried out: one Lambda invocation, or an AWS Step Functions Distributed Map
   * ({@link engineOf} decides when not given; docs/organization.md, "Engines").
   */
  readonly engine?: Engine;
  /** Step Functions: accounts per map child. @default 60 */
  readonly batchSize?: number;
  /** Step Functions: map children at once. @default 10 */
  readonly mapConcurrency?: number;
}

/** How a run is carried out (docs/organization.md, "Engines"). */
export const ENGINES = ['lambda', 'step-functions'] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * A list of more accounts than this runs on Step Functions unless told otherwise: one invocation
 * covered about 85 accounts on a first scan with delivery in the benchmark (docs/benchmarks.md),
 * so this keeps a margin of more than a third.
 */
export const STEP_FUNCTIONS_LIST_THRESHOLD = 50;

/**
 * The engine of a deployment: the one given; else Step Functions for an organization (it may grow
 * past one invocation at any time) or a list longer than {@link STEP_FUNCTIONS_LIST_THRESHOLD}; else
 * one Lambda invocation (the deployment's own account, a short list).
 */
export function engineOf(accounts: Pick<AccountsConfig, 'source' | 'ids' | 'engine'>): Engine {
  if (accounts.engine) return accounts.engine;
  if (accounts.source === 'organization') return 'step-functions';
  if (accounts.source === 'list' && (accounts.ids?.length ?? 0) > STEP_FUNCTIONS_LIST_THRESHOLD) {
    return 'step-functions';
  }
  return 'lambda';
}

export const ACCOUNT_ID = /^\d{12}$/;
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;

const accountIdError: ErrorFor = (iss) =>
  `expected a 12-digit AWS account id, got ${describeValue(iss.input)}`;

export const accountIds = z
  .array(z.string({ error: accountIdError }).regex(ACCOUNT_ID, { error: accountIdError }), {
    error: (iss) => `expected an array of 12-digit AWS account ids, got ${describeValue(iss.input)}`,
  })
  .superRefine(listedOnce());

const ouError: ErrorFor = (iss) =>
  `expected an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx), got ${describeValue(iss.input)}`;

const roleNameError: ErrorFor = (iss) =>
  `expected an IAM role name: 1-64 characters of A-Z a-z 0-9 + = , . @ _ -, got ${describeValue(iss.input)}`;
const roleName = z.string({ error: roleNameError }).regex(ROLE_NAME, { error: roleNameError });

const externalIdError: ErrorFor = (iss) =>
  `expected 2-1224 characters of A-Z a-z 0-9 + = , . @ : / _ -, got ${describeValue(iss.input)}`;

const organizationIdError: ErrorFor = (iss) =>
  `expected an organization id (o- and 10-32 lowercase letters or digits), got ${describeValue(iss.input)}`;

/** The fields that mean nothing for the deployment's own account. */
const NOT_WITH_SELF = [
  'include',
  'exclude',
  'externalId',
  'organizationId',
  'thresholds',
  'engine',
  'batchSize',
  'mapConcurrency',
] as const;

/** `accounts`: the section as written, its per-account `thresholds` not yet merged (index.ts). */
export const accountsSchema = z
  .strictObject({
    source: z.enum(ACCOUNT_SOURCES).default('self'),
    ids: accountIds
      .min(1, { error: (iss) => `expected at least one account id, got ${describeValue(iss.input)}` })
      .optional(),
    organizationalUnits: z
      .array(
        z.string({ error: ouError }).refine((v) => OU_ID.test(v) || ROOT_ID.test(v), { error: ouError }),
        {
          error: (iss) => `expected an array of organizational unit ids, got ${describeValue(iss.input)}`,
        },
      )
      .superRefine(listedOnce())
      .optional(),
    include: accountIds.optional(),
    exclude: accountIds.optional(),
    memberRoleName: roleName.default('credwatch-member'),
    scannerRoleName: roleName.default('credwatch-scanner'),
    externalId: z
      .string({ error: externalIdError })
      .regex(EXTERNAL_ID, { error: externalIdError })
      .optional(),
    organizationId: z
      .string({ error: organizationIdError })
      .regex(ORGANIZATION_ID, { error: organizationIdError })
      .optional(),
    concurrency: wholeNumber(1, 50).default(8),
    engine: z
      .enum(ENGINES, {
        error: (iss) => `expected one of ${ENGINES.join(', ')}, got ${describeValue(iss.input)}`,
      })
      .optional(),
    batchSize: wholeNumber(1, 100).optional(),
    mapConcurrency: wholeNumber(1, 1000).optional(),
    // Validated after merging over the global thresholds (configSchema's transform, thresholds.ts).
    thresholds: z
      .record(z.string(), z.unknown(), {
        error: (iss) =>
          `expected an object of 12-digit account ids to thresholds, got ${describeValue(iss.input)}`,
      })
      .optional(),
  })
  .superRefine((a, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', input: a, path, message });
    if (a.source === 'list' && a.ids === undefined) return issue(['ids'], 'required when source is "list"');
    if (a.source !== 'list' && a.ids !== undefined) {
      return issue(['ids'], `only allowed when source is "list", got source "${a.source}"`);
    }
    if (a.source !== 'organization' && a.organizationalUnits !== undefined) {
      return issue(
        ['organizationalUnits'],
        `only allowed when source is "organization", got source "${a.source}"`,
      );
    }
    if (a.source === 'self') {
      const field = NOT_WITH_SELF.find((f) => a[f] !== undefined);
      if (field) {
        return issue([field], 'not allowed when source is "self" (only with "list" or "organization")');
      }
      return;
    }
    const engine = engineOf(a as AccountsConfig);
    for (const field of ['batchSize', 'mapConcurrency'] as const) {
      if (engine !== 'step-functions' && a[field] !== undefined) {
        return issue([field], `only with the step-functions engine, got engine "${engine}"`);
      }
    }
    const include = new Set(a.include ?? []);
    const both = (a.exclude ?? []).findIndex((id) => include.has(id));
    if (both >= 0) return issue(['exclude', both], `"${a.exclude![both]}" is also in include`);
    if (a.ids !== undefined && knownAccountIds(a as AccountsConfig)!.length === 0) {
      return issue([include.size > 0 ? 'include' : 'exclude'], 'leaves none of ids to scan');
    }
    for (const id of Object.keys(a.thresholds ?? {})) {
      const problem = accountKeyProblem(a, id);
      if (problem) return issue(['thresholds', id], problem);
    }
  });

/**
 * Why `id` cannot key a per-account setting (`accounts.thresholds`, `enforcement.accounts`) of a
 * deployment scanning `accounts`: not a 12-digit id, or not one of the accounts it scans when they
 * are fixed at synth (`ids`, `include`, `exclude`). `undefined`: it may. The own account (source
 * `self`) has no per-account settings: its global ones are its own.
 */
export function accountKeyProblem(
  accounts: Pick<AccountsConfig, 'source' | 'ids' | 'include' | 'exclude'>,
  id: string,
): string | undefined {
  if (accounts.source === 'self')
    return 'not allowed when source is "self" (only with "list" or "organization")';
  if (!ACCOUNT_ID.test(id)) return `expected a 12-digit AWS account id as the key, got ${describeValue(id)}`;
  if (accounts.ids !== undefined && !accounts.ids.includes(id)) return 'not one of ids';
  if ((accounts.include?.length ?? 0) > 0 && !accounts.include!.includes(id)) return 'not one of include';
  if (accounts.exclude?.includes(id)) return 'excluded (in exclude)';
  return undefined;
}

/**
 * The accounts a deployment will scan when they are fixed at synth time: `ids` (source `list`) or
 * `include` (source `organization`), less `exclude`, in order. `undefined` when they are whatever
 * the organization holds (or the deployment's own account, source `self`).
 */
export function knownAccountIds(accounts: AccountsConfig): readonly string[] | undefined {
  const include = accounts.include ?? [];
  const exclude = new Set(accounts.exclude ?? []);
  let ids: readonly string[];
  if (accounts.source === 'list') {
    ids =
      include.length > 0 ? (accounts.ids ?? []).filter((id) => include.includes(id)) : (accounts.ids ?? []);
  } else if (accounts.source === 'organization' && include.length > 0) {
    ids = include;
  } else {
    return undefined;
  }
  return ids.filter((id) => !exclude.has(id));
}
