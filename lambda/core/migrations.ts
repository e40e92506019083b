/**
 * Finding ids are a contract: the state table is keyed by them. When an id scheme changes, the states
 * stored under the old ids are mapped to the new ones here, so an upgrade announces neither a false
 * "Resolved" (old id gone) nor a duplicate "New" (new id unknown). Pure.
 *
 * Schemes so far:
 * - v1 (until 0.1.0's keys-by-creation-time change): an access key was named by its access key id
 *   (`…/access-key-age/AKIA…`) when it had been read live, else by its report slot (`…/access-key-1`).
 * - v2 (now): by its creation time (`…/access-key-age/key-2026-07-20T14:02:11Z`), see evaluate.ts.
 */
import type { FindingState } from './state';
import type { Finding } from './types';

/** A state stored under a v1 id, and the state it becomes under the finding's current id. */
export interface Migration {
  readonly from: FindingState;
  readonly to: FindingState;
}

/** Rules whose credential names an access key. */
const KEY_RULES: ReadonlySet<string> = new Set(['access-key-age', 'access-key-unused', 'root-access-key']);

/** An access key id (v1 credential of a key read live). */
const ACCESS_KEY_ID = /^(AKIA|ASIA|AIDA|ABIA|ACCA)[A-Z0-9]{12,124}$/;
/** A report slot (v1 credential of a key not read live). */
const SLOT = /^access-key-[12]$/;

const credentialOf = (id: string) => id.slice(id.lastIndexOf('/') + 1);
const ownerOf = (f: Pick<Finding, 'accountId' | 'user' | 'rule'>) => `${f.accountId}/${f.user}/${f.rule}`;

/** Whether a stored id is of the v1 scheme (and so a candidate for migration). */
export function isLegacyId(state: FindingState): boolean {
  if (!KEY_RULES.has(state.finding.rule)) return false;
  const credential = credentialOf(state.id);
  return ACCESS_KEY_ID.test(credential) || SLOT.test(credential);
}

/**
 * Maps v1 states to the current findings they describe: by access key id when the current finding
 * carries one (a finding about to be announced is read live, so it does), or, for a slot id, when the
 * user has exactly one current finding of that rule and one v1 state of it. A state that cannot be
 * mapped is left as it is (it resolves as before). A current id that already has a state wins.
 * @returns the states to diff with (v1 states replaced by their migrated form) and the migrations
 */
export function migrateLegacyIds(
  states: readonly FindingState[],
  findings: readonly Finding[],
): { readonly states: FindingState[]; readonly migrations: Migration[] } {
  // A slot id is also what the current scheme gives a key without a creation time: a state whose id a
  // current finding has is current, whatever it looks like.
  const current = new Set(findings.map((f) => f.id));
  const legacy = states.filter((s) => isLegacyId(s) && !current.has(s.id));
  if (legacy.length === 0) return { states: [...states], migrations: [] };
  const known = new Set(states.map((s) => s.id));
  const byKeyId = new Map<string, Finding>();
  const byOwner = new Map<string, Finding[]>();
  for (const f of findings) {
    if (!KEY_RULES.has(f.rule) || known.has(f.id)) continue;
    if (f.accessKeyId) byKeyId.set(`${ownerOf(f)}/${f.accessKeyId}`, f);
    const list = byOwner.get(ownerOf(f)) ?? [];
    list.push(f);
    byOwner.set(ownerOf(f), list);
  }
  // Each channel's state of a finding is migrated on its own (lambda/core/lanes.ts).
  const lane = (s: FindingState) => `\n${s.channel ?? ''}`;
  const legacyPerOwner = new Map<string, number>();
  for (const s of legacy) {
    const owner = ownerOf(s.finding) + lane(s);
    legacyPerOwner.set(owner, (legacyPerOwner.get(owner) ?? 0) + 1);
  }

  const migrations: Migration[] = [];
  const taken = new Set<string>();
  for (const s of legacy) {
    const credential = credentialOf(s.id);
    const keyId = ACCESS_KEY_ID.test(credential) ? credential : s.finding.accessKeyId;
    let target = keyId ? byKeyId.get(`${ownerOf(s.finding)}/${keyId}`) : undefined;
    if (!target && SLOT.test(credential) && legacyPerOwner.get(ownerOf(s.finding) + lane(s)) === 1) {
      const candidates = byOwner.get(ownerOf(s.finding)) ?? [];
      if (candidates.length === 1) target = candidates[0];
    }
    if (!target || taken.has(target.id + lane(s))) continue;
    taken.add(target.id + lane(s));
    migrations.push({
      from: s,
      to: {
        ...s,
        id: target.id,
        finding: {
          ...s.finding,
          id: target.id,
          credential: target.credential,
          ...(keyId ? { accessKeyId: keyId } : {}),
        },
      },
    });
  }
  const replaced = new Map(migrations.map((m) => [m.from.id + lane(m.from), m.to]));
  return { states: states.map((s) => replaced.get(s.id + lane(s)) ?? s), migrations };
}
