import {
  enforcementFindings,
  enforcementPolicySchema,
  isProtected,
  planEnforcement,
  resolveEnforcement,
  undoCommand,
} from '../../../lambda/core/enforcement';
import { exemptionCredential } from '../../../lambda/core/evaluate';
import { isBaselined } from '../../../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import type { FindingState } from '../../../lambda/core/state';
import type { CredentialRecord, Finding } from '../../../lambda/core/types';

const NOW = new Date('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const ACCOUNT = '123456789012';

const record = (user: string, ageDays: number, extra: Partial<CredentialRecord> = {}): CredentialRecord => ({
  user,
  arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
  isRoot: false,
  createdAt: new Date('2020-01-01T00:00:00Z'),
  password: { enabled: false, lastUsed: null, lastChanged: null },
  mfaActive: false,
  accessKeys: [
    {
      slot: 1,
      id: `AKIA${user.toUpperCase().padEnd(16, '0')}`,
      active: true,
      createdAt: new Date(NOW.getTime() - ageDays * DAY),
      lastUsed: { date: new Date(NOW.getTime() - 3 * DAY) },
    },
  ],
  line: 2,
  ...extra,
});

const policy = enforcementPolicySchema.parse({
  mode: 'enforce',
  finalNoticeKeyAgeDays: 80,
  deactivateKeyAgeDays: 100,
});

describe('the enforcement policy', () => {
  it('is off by default, with a 7-day lead time and a 24-hour recent window', () => {
    expect(enforcementPolicySchema.parse({})).toEqual({
      mode: 'off',
      finalNoticeKeyAgeDays: null,
      deactivateKeyAgeDays: null,
      finalNoticeUnusedDays: null,
      deactivateUnusedDays: null,
      leadTimeDays: 7,
      recentUseHours: 24,
      protectedUsers: [],
    });
  });

  it.each([
    [
      { finalNoticeKeyAgeDays: 80 },
      'deactivateKeyAgeDays: finalNoticeKeyAgeDays and deactivateKeyAgeDays are set together',
    ],
    [
      { finalNoticeKeyAgeDays: 90, deactivateKeyAgeDays: 90 },
      'finalNoticeKeyAgeDays: finalNoticeKeyAgeDays must be less than deactivateKeyAgeDays',
    ],
    [
      { mode: 'dry-run' },
      'mode: mode dry-run needs finalNoticeKeyAgeDays/deactivateKeyAgeDays or finalNoticeUnusedDays/deactivateUnusedDays',
    ],
    [{ mode: 'delete' }, 'mode: Invalid option: expected one of "off"|"dry-run"|"enforce"'],
  ])('refuses %j naming the field', (input, message) => {
    const parsed = enforcementPolicySchema.safeParse(input);
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues[0]!;
    expect(`${issue.path.join('.')}: ${issue.message}`).toBe(message);
  });

  it('resolves an account override over the global policy, and refuses one that breaks a pair', () => {
    expect(resolveEnforcement(policy, { mode: 'dry-run' })).toEqual({
      policy: { ...policy, mode: 'dry-run' },
    });
    expect(resolveEnforcement(policy, { deactivateKeyAgeDays: 70 })).toEqual({
      problem: 'finalNoticeKeyAgeDays: finalNoticeKeyAgeDays must be less than deactivateKeyAgeDays',
    });
  });

  it('matches protected names exactly, or by a prefix ending in *', () => {
    expect(isProtected('ci-deploy', ['ci-*'])).toBe(true);
    expect(isProtected('ci', ['ci-*'])).toBe(false);
    expect(isProtected('break-glass', ['break-glass'])).toBe(true);
    expect(isProtected('break-glass-2', ['break-glass'])).toBe(false);
  });
});

describe('planEnforcement', () => {
  it('plans nothing when off, and nothing for a key younger than the notice age', () => {
    const off = planEnforcement({
      accountId: ACCOUNT,
      records: [record('old', 300)],
      thresholds: DEFAULT_THRESHOLDS,
      policy: enforcementPolicySchema.parse({}),
      now: NOW,
    });
    expect(off.keys).toEqual([]);
    const young = planEnforcement({
      accountId: ACCOUNT,
      records: [record('young', 79)],
      thresholds: DEFAULT_THRESHOLDS,
      policy,
      now: NOW,
    });
    expect(young.keys).toEqual([]);
  });

  it('lets credwatch:deactivate-key-age-days only postpone the pair, capped at the key-age ceiling', () => {
    const tags = new Map([
      ['late', { 'credwatch:deactivate-key-age-days': '200' }],
      ['greedy', { 'credwatch:deactivate-key-age-days': '9999' }],
      ['bad', { 'credwatch:deactivate-key-age-days': '10' }],
    ]);
    const plan = planEnforcement({
      accountId: ACCOUNT,
      records: [record('late', 185), record('greedy', 350), record('bad', 85)],
      tags,
      thresholds: DEFAULT_THRESHOLDS,
      policy,
      now: NOW,
    });
    expect(plan.keys.map((k) => [k.user, k.noticeDays, k.deactivateDays])).toEqual([
      ['late', 180, 200],
      ['greedy', 345, 365],
      ['bad', 80, 100],
    ]);
    expect(plan.warnings.map((w) => w.code)).toEqual(['tag-capped', 'bad-tag']);
    expect(plan.warnings[1]!.message).toBe(
      'user "bad": tag credwatch:deactivate-key-age-days="10" ignored: expected a whole number of days, at least the policy\'s 100 (a tag may postpone a deactivation, never bring it forward)',
    );
  });

  it('never makes the policy stricter by the ceiling: a policy above maxKeyAgeDays keeps its own ages', () => {
    const strict = enforcementPolicySchema.parse({
      mode: 'enforce',
      finalNoticeKeyAgeDays: 390,
      deactivateKeyAgeDays: 400,
    });
    const plan = planEnforcement({
      accountId: ACCOUNT,
      records: [record('slow', 395)],
      tags: new Map([['slow', { 'credwatch:deactivate-key-age-days': '500' }]]),
      thresholds: DEFAULT_THRESHOLDS,
      policy: strict,
      now: NOW,
    });
    // The tag asks for 500; the ceiling (365) is below the policy's 400, so the policy's ages hold.
    expect(plan.keys.map((k) => [k.noticeDays, k.deactivateDays])).toEqual([[390, 400]]);
    expect(plan.warnings.map((w) => w.code)).toEqual(['tag-capped']);
  });

  it('bounds an exemption from the day it was first announced, as the findings do', () => {
    const tags = new Map([['lazy', { 'credwatch:exempt': 'until=2099-01-01 reason=forever' }]]);
    const input = {
      accountId: ACCOUNT,
      records: [record('lazy', 200)],
      tags,
      thresholds: DEFAULT_THRESHOLDS,
      policy,
      now: NOW,
    };
    // Seen today for the first time: exempted (capped at 90 days).
    expect(planEnforcement(input).untouched.map((u) => u.why)).toEqual([
      'exempted by credwatch:exempt until 2027-03-01',
    ]);
    // First announced 100 days ago: the 90 days are over, the key is planned.
    const granted = `${ACCOUNT}/lazy/exemption-granted/${exemptionCredential({ until: '2099-01-01', reason: 'forever' })}`;
    const later = planEnforcement({
      ...input,
      knownSince: new Map([[granted, new Date(NOW.getTime() - 100 * DAY)]]),
    });
    expect(later.untouched).toEqual([]);
    expect(later.keys.map((k) => k.user)).toEqual(['lazy']);
  });

  const noticeState = (user: string, firstSeen: Date, extra: Partial<FindingState> = {}): FindingState => {
    const id = `${ACCOUNT}/${user}/access-key-final-notice/key-${new Date(Math.floor((NOW.getTime() - 120 * DAY) / 1000) * 1000).toISOString().replace('.000Z', 'Z')}`;
    return {
      id,
      accountId: ACCOUNT,
      status: 'open',
      notifiedSeverity: 'critical',
      firstSeen: firstSeen.toISOString(),
      lastNotifiedAt: firstSeen.toISOString(),
      scanTime: firstSeen.toISOString(),
      finding: { id } as Finding,
      ...extra,
    };
  };

  it('is due only with a notice announced in the channel a lead time ago, the key read live', () => {
    const at8 = new Date(NOW.getTime() - 8 * DAY);
    const plan = (state: FindingState, confirmed = true) =>
      planEnforcement({
        accountId: ACCOUNT,
        records: [record('alice', 120)],
        thresholds: DEFAULT_THRESHOLDS,
        policy,
        now: NOW,
        states: new Map([[state.id, state]]),
        ...(confirmed ? { confirmedUsers: new Set(['alice']) } : {}),
      }).keys[0]!;
    expect(plan(noticeState('alice', at8)).stage).toBe('due');
    // An overflow summary is nobody's notice either.
    expect(plan(noticeState('alice', at8, { announcedIn: 'overflow' })).stage).toBe('notice');
    // The day a notice announced holds, even when the ages changed since: eight days ago, at 112 days,
    // it said "deactivation at 150" (the policy then), so the key's 150th day, 30 days from now.
    const announced = noticeState('alice', at8, {
      finding: { id: 'x', days: 112, thresholdDays: 150 } as Finding,
    });
    const kept = plan({ ...announced, id: noticeState('alice', at8).id });
    expect([kept.stage, kept.deactivateOn]).toEqual(['notice', '2026-12-31']);
    // A baseline summary is no notice to anyone; a resolved notice is no notice.
    expect(plan(noticeState('alice', at8, { announcedIn: 'baseline' })).stage).toBe('notice');
    expect(plan(noticeState('alice', at8, { status: 'resolved' })).stage).toBe('notice');
    expect(plan(noticeState('alice', new Date(NOW.getTime() - 6 * DAY))).stage).toBe('notice');
    const held = plan(noticeState('alice', at8), false);
    expect([held.stage, held.heldBy]).toEqual(['held', 'its key was not read live in this run']);
  });

  it('never plans the root row', () => {
    const root = { ...record('<root_account>', 400), isRoot: true, arn: `arn:aws:iam::${ACCOUNT}:root` };
    expect(
      planEnforcement({
        accountId: ACCOUNT,
        records: [root],
        thresholds: DEFAULT_THRESHOLDS,
        policy,
        now: NOW,
      }).keys,
    ).toEqual([]);
  });

  it('makes findings with stable ids and never a baseline of them', () => {
    const plan = planEnforcement({
      accountId: ACCOUNT,
      records: [record('alice', 120)],
      thresholds: DEFAULT_THRESHOLDS,
      policy,
      now: NOW,
    });
    const [notice] = enforcementFindings(ACCOUNT, plan);
    expect(notice!.id).toMatch(/^123456789012\/alice\/access-key-final-notice\/key-2026-08-03T00:00:00Z$/);
    expect(
      isBaselined({ kind: 'opened', finding: notice! }, new Set([ACCOUNT]), {
        baseline: true,
        reminders: 'roll-up',
        maxMessagesPerRun: 10,
      }),
    ).toBe(false);
    expect(undoCommand('alice', 'AKIA1')).toBe(
      'aws iam update-access-key --user-name alice --access-key-id AKIA1 --status Active',
    );
  });
});
