/**
 * Opt-in enforcement (`enforcement`, docs/configuration.md#enforcement): the policy (its schema is the
 * function's own, lambda/core/enforcement.ts `enforcementPolicySchema`, so that the deployment, the
 * CLI's `--config` and the function agree) and the per-account overrides of `enforcement.accounts`
 * (`accountEnforcementSchema`), each resolved over the policy with `resolveEnforcement` at synth time,
 * so that a combination an override breaks is refused here, naming `enforcement.accounts.<id>.<field>`.
 * Which accounts may have an override is the accounts section's rule (accounts.ts `accountKeyProblem`),
 * the same as for `accounts.thresholds`.
 */
import { z } from 'zod';
import { describeValue } from '../../lambda/core/describe-value';
import {
  type AccountEnforcement,
  accountEnforcementSchema,
  type EnforcementPolicy,
  enforcementPolicySchema,
  resolveEnforcement,
} from '../../lambda/core/enforcement';
import { ConfigError } from '../../lambda/core/errors';
import { type EnforcementSettings, enforcementPolicies } from '../../lambda/settings';
import { type AccountsConfig, accountKeyProblem } from './accounts';
import { type ConfigProblem, issueMessage } from './messages';

/**
 * The validated `enforcement` section, in the shape it is written (so that a loaded configuration
 * loads to itself): the policy, defaults filled in, and each account's override as given; every
 * override was resolved over the policy and checked. {@link enforcementSettings} resolves them.
 */
export type EnforcementConfig = EnforcementPolicy & {
  readonly accounts?: Readonly<Record<string, AccountEnforcement>>;
};

/**
 * An IAM user name (1-64 of A-Z a-z 0-9 + = , . @ _ -), optionally ending in `*` for a prefix: the
 * names go into the Deny statement of the scanner's role (`user/NAME`, `user/*\/NAME`), where any
 * other `*` or `?` would be a wildcard.
 */
const PROTECTED_USER = /^[\w+=,.@-]{1,64}\*?$/;

/**
 * The characters the `protectedUsers` Deny statement may take (two resource ARNs per name, in the
 * longest partition): the rest of the role's inline policy stays well under IAM's 10,240 characters
 * per role. Users beyond it are protected by their `credwatch:protected` tag instead.
 */
export const PROTECTED_USERS_POLICY_CHARACTERS = 5000;

/** What one protected name adds to the Deny statement: `"arn:aws-us-gov:iam::123456789012:user/NAME",` and the `user/*\/NAME` form. */
export const protectedUserCharacters = (name: string): number =>
  2 * `"arn:aws-us-gov:iam::123456789012:user/${name}",`.length + 2;

const POLICY_FIELDS = Object.keys(enforcementPolicySchema.shape);

const sectionError = (iss: { readonly input?: unknown }) =>
  `expected an object, got ${describeValue(iss.input)}`;

/** An issue of a nested parse, moved under `path` (an unknown field named). */
function addNested(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  iss: z.core.$ZodIssue,
  allowed?: string[],
) {
  const keys = iss.code === 'unrecognized_keys' ? [iss.keys[0]!] : [];
  const message =
    iss.code === 'unrecognized_keys' && allowed
      ? `unknown field; allowed here: ${allowed.join(', ')}`
      : iss.message;
  ctx.addIssue({
    code: 'custom',
    input: iss.input,
    path: [...path, ...iss.path.map(String), ...keys],
    message,
  });
}

/**
 * `enforcement`: the policy fields of `enforcementPolicySchema` (defaults filled in: mode `off`) and
 * `accounts`, an object of 12-digit account ids to `{ mode?, ages? }` (checked field by field here,
 * against the scanned accounts and resolved over the policy by {@link resolveAccountEnforcement}).
 */
export const enforcementSchema = z
  .record(z.string(), z.unknown(), { error: sectionError })
  .transform((raw, ctx): EnforcementConfig => {
    const { accounts, ...fields } = raw;
    const policy = enforcementPolicySchema.safeParse(fields, { reportInput: true, error: issueMessage });
    if (!policy.success) {
      addNested(ctx, [], policy.error.issues[0]!, [...POLICY_FIELDS, 'accounts']);
      return z.NEVER;
    }
    const names = policy.data.protectedUsers;
    const bad = names.findIndex((n) => !PROTECTED_USER.test(n));
    if (bad >= 0) {
      ctx.addIssue({
        code: 'custom',
        input: names[bad],
        path: ['protectedUsers', bad],
        message: `expected an IAM user name (1-64 characters of A-Z a-z 0-9 + = , . @ _ -), optionally ending in * for a prefix, got ${describeValue(names[bad])}`,
      });
      return z.NEVER;
    }
    const seen = new Set<string>();
    const twice = names.findIndex((n) => seen.size === seen.add(n).size);
    if (twice >= 0) {
      ctx.addIssue({
        code: 'custom',
        input: names[twice],
        path: ['protectedUsers', twice],
        message: `"${names[twice]}" is listed twice`,
      });
      return z.NEVER;
    }
    const characters = names.reduce((n, name) => n + protectedUserCharacters(name), 0);
    if (characters > PROTECTED_USERS_POLICY_CHARACTERS) {
      ctx.addIssue({
        code: 'custom',
        input: names,
        path: ['protectedUsers'],
        message: `${names.length} names take ${characters} characters of the scanner role's policy, more than the ${PROTECTED_USERS_POLICY_CHARACTERS} it has room for (IAM allows 10,240 per role); tag the users credwatch:protected instead`,
      });
      return z.NEVER;
    }
    if (accounts === undefined) return policy.data;
    if (typeof accounts !== 'object' || accounts === null || Array.isArray(accounts)) {
      ctx.addIssue({
        code: 'custom',
        input: accounts,
        path: ['accounts'],
        message: `expected an object of 12-digit account ids to enforcement overrides, got ${describeValue(accounts)}`,
      });
      return z.NEVER;
    }
    const overrides: Record<string, AccountEnforcement> = {};
    for (const [id, override] of Object.entries(accounts)) {
      const parsed = accountEnforcementSchema.safeParse(override ?? null, {
        reportInput: true,
        error: issueMessage,
      });
      if (!parsed.success) {
        addNested(ctx, ['accounts', id], parsed.error.issues[0]!);
        return z.NEVER;
      }
      overrides[id] = parsed.data;
    }
    return { ...policy.data, accounts: overrides };
  });

/**
 * Why an `enforcement.accounts` key cannot be there: an account the deployment does not scan (the
 * rule of `accounts.thresholds`, accounts.ts `accountKeyProblem`). The first such key, or none.
 */
export function enforcementAccountsProblem(c: {
  readonly enforcement: EnforcementConfig;
  readonly accounts: Pick<AccountsConfig, 'source' | 'ids' | 'include' | 'exclude'>;
}): ConfigProblem | undefined {
  for (const id of Object.keys(c.enforcement.accounts ?? {})) {
    const problem = accountKeyProblem(c.accounts, id);
    if (problem) return { path: ['enforcement', 'accounts', id], input: id, message: problem };
  }
  return undefined;
}

/** The policy of a section (its fields but `accounts`). */
function policyOf(section: EnforcementConfig): EnforcementPolicy {
  const { accounts: _, ...policy } = section;
  return policy;
}

/**
 * Each account's override resolved over the policy (`resolveEnforcement`, which checks the
 * combination again). A problem is added to `ctx` at `enforcement.accounts.<id>.<field>`.
 */
export function checkAccountEnforcement(section: EnforcementConfig, ctx: z.RefinementCtx): void {
  resolveAll(section, (id, override, problem) => {
    // `field: why` (the field may be empty for a problem of the whole policy).
    const at = problem.indexOf(': ');
    const field = at < 0 ? '' : problem.slice(0, at);
    ctx.addIssue({
      code: 'custom',
      input: override,
      path: ['enforcement', 'accounts', id, ...(field === '' ? [] : field.split('.'))],
      message: at < 0 ? problem : problem.slice(at + 2),
    });
  });
}

function resolveAll(
  section: EnforcementConfig,
  onProblem: (id: string, override: AccountEnforcement, problem: string) => void,
): EnforcementSettings {
  const policy = policyOf(section);
  if (!section.accounts) return { policy };
  const accounts: Record<string, EnforcementPolicy> = {};
  for (const [id, override] of Object.entries(section.accounts)) {
    const resolved = resolveEnforcement(policy, override);
    if ('policy' in resolved) accounts[id] = resolved.policy;
    else onProblem(id, override, resolved.problem);
  }
  return { policy, accounts };
}

/**
 * What the scanner function is given (lambda/settings.ts `EnforcementSettings`): the policy, and each
 * overridden account's policy resolved over it.
 * @throws ConfigError for an override that breaks the policy (never after loadConfig, which refuses it)
 */
export function enforcementSettings(section: EnforcementConfig): EnforcementSettings {
  return resolveAll(section, (id, _override, problem) => {
    throw new ConfigError(`enforcement.accounts.${id}.${problem}`);
  });
}

/** Whether some policy (the deployment's or an account's) has mode `enforce`: the write permissions are added. */
export const enforces = (e: EnforcementSettings | undefined): boolean =>
  enforcementPolicies(e).some((p) => p.mode === 'enforce');

/** Whether some policy is not `off`: the function is given CREDWATCH_ENFORCEMENT. */
export const enforcementOn = (e: EnforcementSettings | undefined): boolean =>
  enforcementPolicies(e).some((p) => p.mode !== 'off');
