/**
 * Finding ids are a contract: the state table is keyed by them, and every release must produce the
 * same id for the same credential. This test pins the scheme of every rule. Changing any of these
 * strings needs a migration in lambda/core/migrations.ts (and a test there).
 */
import { accountScanFailure } from '../../../lambda/core/accounts';
import { evaluate } from '../../../lambda/core/evaluate';
import { migrateLegacyIds } from '../../../lambda/core/migrations';
import { thresholdsSchema } from '../../../lambda/core/policy';
import type { FindingState } from '../../../lambda/core/state';
import type { CredentialRecord, Finding } from '../../../lambda/core/types';

const ACCOUNT = '123456789012';
const NOW = new Date('2026-11-23T12:00:00Z');
const d = (iso: string) => new Date(iso);

const records: CredentialRecord[] = [
  {
    user: '<root_account>',
    arn: `arn:aws:iam::${ACCOUNT}:root`,
    isRoot: true,
    createdAt: d('2020-01-01T00:00:00Z'),
    password: { enabled: false, lastUsed: null, lastChanged: null },
    mfaActive: false,
    accessKeys: [{ slot: 1, active: true, createdAt: d('2021-06-14T15:20:03Z'), lastUsed: null }],
    line: 2,
  },
  {
    user: 'alice',
    arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
    isRoot: false,
    createdAt: d('2024-01-01T00:00:00Z'),
    password: { enabled: true, lastUsed: null, lastChanged: d('2024-01-01T00:00:00Z') },
    mfaActive: false,
    accessKeys: [
      { slot: 1, active: true, createdAt: d('2025-01-10T12:00:30Z'), lastUsed: null },
      { slot: 2, active: true, createdAt: d('2025-01-10T12:00:30Z'), lastUsed: null },
    ],
    line: 3,
  },
  {
    user: 'bob',
    arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
    isRoot: false,
    createdAt: d('2024-01-01T00:00:00Z'),
    password: { enabled: false, lastUsed: null, lastChanged: null },
    mfaActive: true,
    accessKeys: [{ slot: 1, active: true, createdAt: d('2026-07-20T14:02:11Z'), lastUsed: null }],
    line: 4,
  },
];

describe('finding ids (a contract: changing one needs a migration)', () => {
  it('are account/user/rule/credential, keys named by their creation time', () => {
    const thresholds = thresholdsSchema.parse({ passwordAge: { criticalDays: 300 } });
    const ids = evaluate({ records, thresholds, now: NOW })
      .findings.map((f) => f.id)
      .sort();
    expect(ids).toEqual(
      [
        `${ACCOUNT}/<root_account>/root-access-key/key-2021-06-14T15:20:03Z`,
        `${ACCOUNT}/<root_account>/root-without-mfa/mfa`,
        // Two keys created in the same second: the slot is appended.
        `${ACCOUNT}/alice/access-key-age/key-2025-01-10T12:00:30Z-1`,
        `${ACCOUNT}/alice/access-key-age/key-2025-01-10T12:00:30Z-2`,
        `${ACCOUNT}/alice/access-key-unused/key-2025-01-10T12:00:30Z-1`,
        `${ACCOUNT}/alice/access-key-unused/key-2025-01-10T12:00:30Z-2`,
        `${ACCOUNT}/alice/multiple-active-keys/access-keys`,
        `${ACCOUNT}/alice/password-age/password`,
        `${ACCOUNT}/alice/password-unused/password`,
        `${ACCOUNT}/alice/password-without-mfa/password`,
        `${ACCOUNT}/bob/access-key-age/key-2026-07-20T14:02:11Z`,
        `${ACCOUNT}/bob/access-key-unused/key-2026-07-20T14:02:11Z`,
      ].sort(),
    );
  });

  it('of exemptions: the notice by the asked until and a hash of the reason, the expiry by "exemption"', () => {
    const tags = new Map([
      ['bob', { 'credwatch:exempt': 'until=2026-12-31 reason=vendor pipeline' }],
      ['alice', { 'credwatch:exempt': 'until=2026-01-31 reason=vendor pipeline' }],
    ]);
    const ids = evaluate({ records, thresholds: thresholdsSchema.parse({}), tags, now: NOW })
      .findings.filter((f) => f.rule.startsWith('exemption'))
      .map((f) => f.id)
      .sort();
    expect(ids).toEqual([
      `${ACCOUNT}/alice/exemption-expired/exemption`,
      `${ACCOUNT}/alice/exemption-granted/until-2026-01-31-78ab1f37`,
      `${ACCOUNT}/bob/exemption-granted/until-2026-12-31-78ab1f37`,
    ]);
  });

  it('of a key without a creation time is its report slot', () => {
    const root: CredentialRecord = {
      ...records[0]!,
      mfaActive: true,
      accessKeys: [{ slot: 2, active: true, createdAt: null, lastUsed: null }],
    };
    const ids = evaluate({ records: [root], thresholds: thresholdsSchema.parse({}), now: NOW }).findings.map(
      (f) => f.id,
    );
    expect(ids).toEqual([`${ACCOUNT}/<root_account>/root-access-key/access-key-2`]);
  });

  it('of a failed account scan is account/<account>/account-scan-failed/scan', () => {
    expect(accountScanFailure('210987654321', 'AccessDenied').id).toBe(
      '210987654321/<account>/account-scan-failed/scan',
    );
  });
});

const finding = (user: string, credential: string, extra: Partial<Finding> = {}): Finding => ({
  id: `${ACCOUNT}/${user}/access-key-age/${credential}`,
  accountId: ACCOUNT,
  user,
  arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
  rule: 'access-key-age',
  severity: 'critical',
  credential,
  summary: 'old',
  ...extra,
});
const stateOf = (f: Finding): FindingState => ({
  id: f.id,
  accountId: ACCOUNT,
  status: 'open',
  notifiedSeverity: f.severity,
  firstSeen: '2026-01-01T00:00:00.000Z',
  lastNotifiedAt: '2026-11-22T12:00:00.000Z',
  scanTime: '2026-11-22T12:00:00.000Z',
  finding: f,
});

describe('migrateLegacyIds (v1: keys by access key id or report slot -> v2: by creation time)', () => {
  const KEY = 'AKIAIOSFODNN7EXAMPLE';
  const current = finding('alice', 'key-2025-01-10T12:00:30Z', { accessKeyId: KEY });

  it('maps a v1 access-key-id state to the current finding with that key id, keeping its history', () => {
    const old = stateOf(finding('alice', KEY, { accessKeyId: KEY }));
    const { states, migrations } = migrateLegacyIds([old], [current]);
    expect(migrations).toHaveLength(1);
    expect(migrations[0]!.from).toBe(old);
    expect(states).toEqual([
      {
        ...old,
        id: current.id,
        finding: { ...old.finding, id: current.id, credential: current.credential, accessKeyId: KEY },
      },
    ]);
  });

  it("maps each channel's v1 state of a finding on its own", () => {
    const inSlack = { ...stateOf(finding('alice', KEY, { accessKeyId: KEY })), channel: 'security' };
    const inTeams = { ...inSlack, channel: 'security-teams', firstSeen: '2026-02-01T00:00:00.000Z' };
    const { states, migrations } = migrateLegacyIds([inSlack, inTeams], [current]);
    expect(migrations.map((m) => [m.from.channel, m.to.id])).toEqual([
      ['security', current.id],
      ['security-teams', current.id],
    ]);
    expect(states.map((s) => [s.id, s.channel, s.firstSeen])).toEqual([
      [current.id, 'security', inSlack.firstSeen],
      [current.id, 'security-teams', inTeams.firstSeen],
    ]);
  });

  it('maps a v1 slot state when the user has exactly one current finding of the rule', () => {
    const old = stateOf(finding('alice', 'access-key-1'));
    const plain = finding('alice', 'key-2025-01-10T12:00:30Z');
    expect(migrateLegacyIds([old], [plain]).migrations.map((m) => m.to.id)).toEqual([plain.id]);
  });

  it('leaves a slot state alone when two current findings could be it', () => {
    const old = stateOf(finding('alice', 'access-key-1'));
    const a = finding('alice', 'key-2025-01-10T12:00:30Z');
    const b = finding('alice', 'key-2026-01-10T12:00:30Z');
    const result = migrateLegacyIds([old], [a, b]);
    expect(result.migrations).toEqual([]);
    expect(result.states).toEqual([old]);
  });

  it('leaves a key-id state alone when no current finding has that key (the key is gone: it resolves)', () => {
    const old = stateOf(finding('alice', KEY, { accessKeyId: KEY }));
    const other = finding('alice', 'key-2026-01-10T12:00:30Z', { accessKeyId: 'AKIAOTHEROTHEROTHER1' });
    expect(migrateLegacyIds([old], [other]).migrations).toEqual([]);
  });

  it('never maps onto an id that already has a state, nor touches current ids', () => {
    const old = stateOf(finding('alice', KEY, { accessKeyId: KEY }));
    const already = stateOf(current);
    const result = migrateLegacyIds([old, already], [current]);
    expect(result.migrations).toEqual([]);
    expect(result.states).toEqual([old, already]);
  });

  it('never takes a current slot id (a key without a creation time) for a v1 id', () => {
    const slot = finding('alice', 'access-key-1');
    const dated = finding('alice', 'key-2026-01-10T12:00:30Z');
    const result = migrateLegacyIds([stateOf(slot)], [slot, dated]);
    expect(result.migrations).toEqual([]);
  });

  it('does not take password or account ids for v1 ids', () => {
    const pw = stateOf({
      ...finding('alice', 'password'),
      rule: 'password-without-mfa',
      id: `${ACCOUNT}/alice/password-without-mfa/password`,
    });
    expect(migrateLegacyIds([pw], [current]).migrations).toEqual([]);
  });
});
