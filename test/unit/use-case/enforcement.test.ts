/**
 * Enforcement through the scan use case, run after run: the plan, the notice and its lead time, the
 * deactivation, every exclusion, dry run against enforce, a person re-activating a key, and a
 * failure halfway through the due keys. The remembered states come from the real diff and
 * nextStates (what delivery writes), so a notice counts only once it was announced.
 */
import { diff, nextStates } from '../../../lambda/core/diff';
import {
  type EnforcementAction,
  type EnforcementPolicy,
  enforcementPolicySchema,
} from '../../../lambda/core/enforcement';
import { IamWriteError } from '../../../lambda/core/errors';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import type { FindingState } from '../../../lambda/core/state';
import type { Finding, LastUse } from '../../../lambda/core/types';
import type { IamDirectory, KeyDeactivator, LiveAccessKey, LiveUser } from '../../../lambda/ports';
import { type ScanResult, scan } from '../../../lambda/scan';
import { report } from '../../support/report-builder';

const ACCOUNT = '123456789012';
const DAY = 86_400_000;
const T0 = new Date('2026-12-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);

/** A key created `ageDays` before T0, last used `usedDaysAgo` before T0 (null: never). */
interface KeySpec {
  readonly id: string;
  readonly ageDays: number;
  usedDaysAgo: number | null;
  active?: boolean;
}

/** IAM as the scan sees it (a report built from the model, the directory, UpdateAccessKey). */
class Iam implements IamDirectory, KeyDeactivator {
  readonly updates: { user: string; id: string }[] = [];
  /** Key ids whose UpdateAccessKey is refused. */
  readonly refuse = new Set<string>();
  now = T0;
  constructor(
    readonly keys: Record<string, KeySpec[]>,
    readonly tags: Record<string, Record<string, string>> = {},
  ) {}
  private created(k: KeySpec) {
    return new Date(Math.floor((T0.getTime() - k.ageDays * DAY) / 1000) * 1000);
  }
  private used(k: KeySpec): LastUse | null {
    return k.usedDaysAgo === null ? null : { date: new Date(T0.getTime() - k.usedDaysAgo * DAY) };
  }
  csv(): string {
    return report([
      { user: '<root_account>', mfa_active: 'true' },
      ...Object.entries(this.keys).map(([user, keys]) => ({
        user,
        ...Object.fromEntries(
          keys.flatMap((k, i) => [
            [`access_key_${i + 1}_active`, String(k.active !== false)],
            [`access_key_${i + 1}_last_rotated`, this.created(k).toISOString().replace('.000Z', '+00:00')],
            ...(k.usedDaysAgo === null
              ? []
              : [
                  [
                    `access_key_${i + 1}_last_used_date`,
                    this.used(k)!.date.toISOString().replace('.000Z', '+00:00'),
                  ],
                ]),
          ]),
        ),
      })),
    ]);
  }
  async listUsers(): Promise<LiveUser[]> {
    return Object.keys(this.keys).map((name) => ({
      name,
      arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
      createdAt: new Date('2020-01-01T00:00:00Z'),
      tags: this.tags[name] ?? {},
    }));
  }
  async listAccessKeys(user: string): Promise<LiveAccessKey[] | null> {
    return (this.keys[user] ?? []).map((k) => ({
      id: k.id,
      active: k.active !== false,
      createdAt: this.created(k),
    }));
  }
  async getAccessKeyLastUsed(id: string): Promise<LastUse | null> {
    for (const keys of Object.values(this.keys)) for (const k of keys) if (k.id === id) return this.used(k);
    return null;
  }
  async accountAlias() {
    return undefined;
  }
  /** Called after each deactivation (a test's clock moves on). */
  afterUpdate = () => {};
  async deactivateAccessKey(user: string, id: string): Promise<'deactivated' | 'gone'> {
    this.afterUpdate();
    if (this.refuse.has(id)) throw new IamWriteError(`UpdateAccessKey ${user} ${id}: AccessDenied`);
    const key = this.keys[user]?.find((k) => k.id === id);
    if (!key) return 'gone';
    this.updates.push({ user, id });
    key.active = false;
    return 'deactivated';
  }
}

const policy = (over: Partial<EnforcementPolicy> = {}): EnforcementPolicy =>
  enforcementPolicySchema.parse({
    mode: 'enforce',
    finalNoticeKeyAgeDays: 83,
    deactivateKeyAgeDays: 90,
    leadTimeDays: 7,
    ...over,
  });

/** Scans run after run, remembering what each run announced (as delivery would) and every action. */
class Runs {
  readonly states = new Map<string, FindingState>();
  readonly actions: EnforcementAction[] = [];
  /** When false, nothing a run announces is remembered (its delivery failed). */
  deliver = true;
  failRecord = false;
  constructor(
    readonly iam: Iam,
    public enforcement: EnforcementPolicy,
    readonly ownKeyIds: ReadonlySet<string> = new Set(),
  ) {}
  async run(
    now: Date,
    options: { deactivator?: boolean; confirmDeadline?: number; clock?: () => number } = {},
  ): Promise<ScanResult & { said: Finding[] }> {
    const result = await scan({
      report: { getReport: async () => ({ csv: this.iam.csv(), generatedAt: now }) },
      directory: this.iam,
      thresholds: DEFAULT_THRESHOLDS,
      now,
      ...(options.confirmDeadline !== undefined ? { confirmDeadline: options.confirmDeadline } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      enforcement: {
        policy: this.enforcement,
        runId: `run-${now.toISOString()}`,
        actor: 'arn:aws:iam::123456789012:role/credwatch-scanner',
        ownKeyIds: this.ownKeyIds,
        memory: async () => ({ states: new Map(this.states), actions: [...this.actions] }),
        ...(options.deactivator === false ? {} : { deactivator: this.iam }),
        record: async (a) => {
          if (this.failRecord) throw new Error('ProvisionedThroughputExceededException');
          this.actions.push(a);
        },
      },
    });
    const changes = diff(result.findings, [...this.states.values()], now, { reminderIntervalMs: DAY });
    if (this.deliver) for (const s of nextStates(changes, now)) this.states.set(s.id, s);
    return { ...result, said: changes.filter((c) => c.kind !== 'resolved').map((c) => c.finding) };
  }
}

const rules = (fs: readonly Finding[], prefix = 'access-key-') =>
  fs.filter((f) => f.rule.startsWith(prefix) && !['access-key-age', 'access-key-unused'].includes(f.rule));
const ruleIds = (fs: readonly Finding[]) => rules(fs).map((f) => `${f.user}:${f.rule}`);

describe('enforcement, run after run', () => {
  it('gives the final notice first, deactivates only after the lead time, and says how to undo it', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    const first = await runs.run(T0);
    expect(ruleIds(first.said)).toEqual(['alice:access-key-final-notice']);
    const notice = first.said.find((f) => f.rule === 'access-key-final-notice')!;
    // Past the deactivation age already: the lead time decides the day.
    expect(notice.summary).toContain('on or after 2026-12-08');
    expect(notice.accessKeyId).toBe('AKIAALICE00000000001');
    expect(iam.updates).toEqual([]);

    // Six days on: still inside the lead time, nothing done, nothing said again.
    const early = await runs.run(at(6));
    expect(ruleIds(early.said)).toEqual([]);
    expect(iam.updates).toEqual([]);

    const due = await runs.run(at(7));
    expect(iam.updates).toEqual([{ user: 'alice', id: 'AKIAALICE00000000001' }]);
    expect(due.enforcement?.actions.map((a) => [a.kind, a.user, a.accessKeyId])).toEqual([
      ['deactivated', 'alice', 'AKIAALICE00000000001'],
    ]);
    const recorded = runs.actions[0]!;
    expect(recorded).toMatchObject({
      kind: 'deactivated',
      accountId: ACCOUNT,
      runId: `run-${at(7).toISOString()}`,
      actor: 'arn:aws:iam::123456789012:role/credwatch-scanner',
      noticeAt: T0.toISOString(),
    });
    expect(recorded.reason).toMatch(/^age: 102 days old, deactivation at 90$/);
    const deactivated = due.said.filter((f) => f.rule === 'access-key-deactivated');
    expect(deactivated).toHaveLength(1);
    expect(deactivated[0]!.summary).toContain(
      'aws iam update-access-key --user-name alice --access-key-id AKIAALICE00000000001 --status Active',
    );
    // The key is inactive now: its age finding resolves; the notice is not given again.
    expect(due.findings.some((f) => f.rule === 'access-key-age')).toBe(false);
    expect(due.findings.some((f) => f.rule === 'access-key-final-notice')).toBe(false);

    // Later runs keep the deactivation open (announced once) and touch nothing.
    const after = await runs.run(at(8));
    expect(ruleIds(after.said)).toEqual([]);
    expect(after.findings.map((f) => f.rule)).toContain('access-key-deactivated');
    expect(iam.updates).toHaveLength(1);
  });

  it('deactivates from the midnight of the announced day, whatever the time of day the runs come', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    const noon = (days: number) => new Date(at(days).getTime() + 12.5 * 3_600_000);
    const first = await runs.run(noon(0));
    // Notice at 12:30 plus 7 days: from the next midnight, 2026-12-09.
    expect(first.said.find((f) => f.rule === 'access-key-final-notice')!.summary).toContain(
      'on or after 2026-12-09',
    );
    await runs.run(noon(7));
    expect(iam.updates).toEqual([]);
    // The first run on the day, at 09:00: deactivated (not postponed to the next midnight).
    await runs.run(new Date(at(8).getTime() + 9 * 3_600_000));
    expect(iam.updates).toHaveLength(1);
  });

  it('never counts a notice that was not delivered', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    runs.deliver = false;
    await runs.run(T0);
    await runs.run(at(10));
    expect(iam.updates).toEqual([]);
    runs.deliver = true;
    const told = await runs.run(at(11));
    expect(ruleIds(told.said)).toEqual(['alice:access-key-final-notice']);
    expect(told.said.find((f) => f.rule === 'access-key-final-notice')!.summary).toContain(
      'on or after 2026-12-19',
    );
    await runs.run(at(17));
    expect(iam.updates).toEqual([]);
    await runs.run(at(18));
    expect(iam.updates).toHaveLength(1);
  });

  it('notices a key on the day it reaches the notice age, and deactivates it at the deactivation age', async () => {
    const iam = new Iam({ bob: [{ id: 'AKIABOB0000000000001', ageDays: 82, usedDaysAgo: 5 }] });
    const runs = new Runs(iam, policy({ leadTimeDays: 3 }));
    expect(ruleIds((await runs.run(T0)).said)).toEqual([]);
    const notice = await runs.run(at(1));
    expect(ruleIds(notice.said)).toEqual(['bob:access-key-final-notice']);
    // 83 days old: the deactivation age (90) is 7 days away, more than the lead time (3).
    expect(notice.said[0]!.summary).toContain('on or after 2026-12-09');
    await runs.run(at(7));
    expect(iam.updates).toEqual([]);
    await runs.run(at(8));
    expect(iam.updates).toEqual([{ user: 'bob', id: 'AKIABOB0000000000001' }]);
  });

  it('leaves alone the root user, exempted and protected users, the scanner’s own key, recently used and inactive keys', async () => {
    const old = (id: string, usedDaysAgo: number | null = 5): KeySpec => ({ id, ageDays: 200, usedDaysAgo });
    const iam = new Iam(
      {
        alice: [old('AKIAALICE00000000001')],
        exempt: [old('AKIAEXEMPT0000000001')],
        listed: [old('AKIALISTED0000000001')],
        'ci-deploy': [old('AKIACIDEPLOY00000001')],
        tagged: [old('AKIATAGGED0000000001')],
        own: [old('AKIAOWN0000000000001')],
        // Used 6 hours before the run at T0 + 7 days.
        busy: [old('AKIABUSY000000000001', -6.75)],
        idle: [{ id: 'AKIAIDLE000000000001', ageDays: 200, usedDaysAgo: 5, active: false }],
      },
      {
        exempt: { 'credwatch:exempt': 'until=2026-12-30 reason=migration' },
        tagged: { 'credwatch:protected': 'yes' },
      },
    );
    const runs = new Runs(
      iam,
      policy({ protectedUsers: ['listed', 'ci-*'] }),
      new Set(['AKIAOWN0000000000001']),
    );
    const first = await runs.run(T0);
    expect(ruleIds(first.said).sort()).toEqual([
      'alice:access-key-final-notice',
      'busy:access-key-final-notice',
    ]);
    expect(first.enforcement?.plan.untouched.map((u) => `${u.user}: ${u.why}`).sort()).toEqual([
      'ci-deploy: on the protected list (enforcement.protectedUsers)',
      'exempt: exempted by credwatch:exempt until 2026-12-30',
      'listed: on the protected list (enforcement.protectedUsers)',
      "own: the scanner's own access key",
      'tagged: tagged credwatch:protected',
    ]);
    const due = await runs.run(at(7));
    // busy used its key 6 hours ago: held, with a warning saying why; alice is deactivated.
    expect(iam.updates).toEqual([{ user: 'alice', id: 'AKIAALICE00000000001' }]);
    const held = due.warnings.filter((w) => w.code === 'enforcement-held');
    expect(held.map((w) => w.user)).toEqual(['busy']);
    expect(held[0]!.message).toMatch(/used \d+ h ago \(within enforcement\.recentUseHours, 24 h\)/);
    // The root row is never planned (a root key is its own finding, root-access-key).
    expect(
      due.findings.some((f) => f.user === '<root_account>' && f.rule.startsWith('access-key-final')),
    ).toBe(false);
  });

  it('in dry run announces what enforce would do and when, and writes nothing', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy({ mode: 'dry-run' }));
    const first = await runs.run(T0);
    expect(ruleIds(first.said)).toEqual(['alice:access-key-deactivation-planned']);
    expect(first.said.find((f) => f.rule === 'access-key-deactivation-planned')!.summary).toBe(
      'Dry run: enforcement would give alice a final notice for access key AKIAALICE00000000001 now and deactivate it on or after 2026-12-08 (95 days old, deactivation at 90).',
    );
    const due = await runs.run(at(7));
    expect(ruleIds(due.said)).toEqual(['alice:access-key-would-deactivate']);
    expect(due.said.find((f) => f.rule === 'access-key-would-deactivate')!.summary).toContain(
      'would deactivate access key AKIAALICE00000000001 of alice in this run',
    );
    expect(iam.updates).toEqual([]);
    expect(runs.actions).toEqual([]);

    // Switched to enforce: a dry run's plan is no notice. The final notice comes first, then the lead time.
    runs.enforcement = policy({ mode: 'enforce' });
    const switched = await runs.run(at(8));
    expect(ruleIds(switched.said)).toEqual(['alice:access-key-final-notice']);
    expect(iam.updates).toEqual([]);
    await runs.run(at(15));
    expect(iam.updates).toHaveLength(1);
  });

  it('does not deactivate again a key a person re-activated until a new notice and its lead time', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    await runs.run(at(7));
    expect(iam.updates).toHaveLength(1);
    // A person turns it back on.
    iam.keys.alice![0]!.active = true;
    const seen = await runs.run(at(8));
    expect(seen.warnings.map((w) => w.code)).toContain('key-reactivated');
    expect(runs.actions.map((a) => a.kind)).toEqual(['deactivated', 'reactivation-seen']);
    // The new notice is said in the run that saw it, and counts from then.
    expect(ruleIds(seen.said)).toEqual(['alice:access-key-final-notice']);
    expect(seen.said.find((f) => f.rule === 'access-key-final-notice')!.summary).toContain(
      'on or after 2026-12-16',
    );
    await runs.run(at(14));
    expect(iam.updates).toHaveLength(1);
    await runs.run(at(15));
    expect(iam.updates).toHaveLength(2);
  });

  it('believes a report that still shows a deactivated key Active only once the key is read live', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    await runs.run(at(7));
    // The cached report still says Active; the live read says Inactive: nothing seen, nothing done.
    const key = iam.keys.alice![0]!;
    key.active = true;
    const csvActive = iam.csv();
    key.active = false;
    iam.csv = () => csvActive;
    const next = await runs.run(at(8));
    expect(next.warnings.map((w) => w.code)).not.toContain('key-reactivated');
    expect(runs.actions.map((a) => a.kind)).toEqual(['deactivated']);
    expect(next.findings.map((f) => f.rule)).toContain('access-key-deactivated');
  });

  it('goes on past a key IAM refuses, and retries it the next run', async () => {
    const iam = new Iam({
      a: [{ id: 'AKIAA000000000000001', ageDays: 120, usedDaysAgo: 3 }],
      b: [{ id: 'AKIAB000000000000001', ageDays: 120, usedDaysAgo: 3 }],
      c: [{ id: 'AKIAC000000000000001', ageDays: 120, usedDaysAgo: 3 }],
    });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    iam.refuse.add('AKIAB000000000000001');
    const due = await runs.run(at(7));
    expect(iam.updates.map((u) => u.user)).toEqual(['a', 'c']);
    expect(due.enforcement?.failed).toEqual([
      {
        user: 'b',
        accessKeyId: 'AKIAB000000000000001',
        error: 'UpdateAccessKey b AKIAB000000000000001: AccessDenied',
      },
    ]);
    expect(due.warnings.find((w) => w.code === 'enforcement-failed')?.message).toBe(
      'user "b": access key AKIAB000000000000001 could not be deactivated (UpdateAccessKey b AKIAB000000000000001: AccessDenied); retried next run',
    );
    expect(runs.actions.map((a) => a.user)).toEqual(['a', 'c']);
    iam.refuse.clear();
    await runs.run(at(8));
    expect(iam.updates.map((u) => u.user)).toEqual(['a', 'c', 'b']);
  });

  it('stops acting once an action cannot be recorded', async () => {
    const iam = new Iam({
      a: [{ id: 'AKIAA000000000000001', ageDays: 120, usedDaysAgo: 3 }],
      b: [{ id: 'AKIAB000000000000001', ageDays: 120, usedDaysAgo: 3 }],
    });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    runs.failRecord = true;
    const due = await runs.run(at(7));
    // a was deactivated (and is announced: this run knows); b is left for a run that can record.
    expect(iam.updates.map((u) => u.user)).toEqual(['a']);
    expect(due.warnings.find((w) => w.code === 'enforcement-unrecorded')?.message).toMatch(
      /^user "a": access key AKIAA000000000000001: the deactivated action could not be recorded \(ProvisionedThroughputExceededException\); no further key is deactivated in this run$/,
    );
    expect(due.said.filter((f) => f.rule === 'access-key-deactivated').map((f) => f.user)).toEqual(['a']);
  });

  it('without the permission to deactivate, says that nothing was done', async () => {
    const iam = new Iam({ a: [{ id: 'AKIAA000000000000001', ageDays: 120, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    const due = await runs.run(at(7), { deactivator: false });
    expect(iam.updates).toEqual([]);
    expect(due.warnings.find((w) => w.code === 'enforcement-not-acting')?.message).toBe(
      '1 access keys are due for deactivation, but this scan has no deactivator (IAM write access) for the account: nothing was deactivated',
    );
  });

  it('deactivates a key unused for the configured days, and not one used again since its notice', async () => {
    const iam = new Iam({
      idle: [{ id: 'AKIAIDLE000000000001', ageDays: 40, usedDaysAgo: 35 }],
      never: [{ id: 'AKIANEVER00000000001', ageDays: 40, usedDaysAgo: null }],
    });
    const runs = new Runs(
      iam,
      policy({
        finalNoticeKeyAgeDays: null,
        deactivateKeyAgeDays: null,
        finalNoticeUnusedDays: 30,
        deactivateUnusedDays: 37,
      }),
    );
    const first = await runs.run(T0);
    expect(ruleIds(first.said).sort()).toEqual([
      'idle:access-key-final-notice',
      'never:access-key-final-notice',
    ]);
    expect(first.said.find((f) => f.user === 'never')!.summary).toContain(
      'unused for 40 days, deactivation at 37',
    );
    // idle is used again after the notice (live last use 1 day before the deactivation day).
    iam.keys.idle![0]!.usedDaysAgo = -6;
    await runs.run(at(7));
    expect(iam.updates).toEqual([{ user: 'never', id: 'AKIANEVER00000000001' }]);
  });

  it('announces a new notice after a re-activation even when the deactivation run was never delivered', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    // The deactivating run's messages never reach the channel: the old notice's state stays open.
    runs.deliver = false;
    await runs.run(at(7));
    expect(iam.updates).toHaveLength(1);
    runs.deliver = true;
    iam.keys.alice![0]!.active = true;
    const seen = await runs.run(at(8));
    const notices = seen.said.filter((f) => f.rule === 'access-key-final-notice');
    expect(notices).toHaveLength(1);
    // A generation of its own, named by the deactivation: after it, the notice is a new finding.
    expect(notices[0]!.id).toMatch(/\/access-key-final-notice\/key-[0-9T:-]+Z@2026-12-08T00:00:00Z$/);
    expect(notices[0]!.summary).toContain('on or after 2026-12-16');
    await runs.run(at(14));
    expect(iam.updates).toHaveLength(1);
    const again = await runs.run(at(15));
    expect(iam.updates).toHaveLength(2);
    // The second deactivation is a finding of its own too, announced although the first one never was resolved.
    expect(again.said.filter((f) => f.rule === 'access-key-deactivated')).toHaveLength(1);
  });

  it('says a notice once while a re-activation cannot be recorded, run after run', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    await runs.run(at(7));
    iam.keys.alice![0]!.active = true;
    runs.failRecord = true;
    const said = [];
    for (const day of [8, 9, 10, 20]) said.push(...ruleIds((await runs.run(at(day))).said));
    expect(said).toEqual(['alice:access-key-final-notice']);
    // Nothing is deactivated while nothing can be recorded.
    expect(iam.updates).toHaveLength(1);
  });

  it('gives an age notice of its own to a key warned as unused that is then used', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 85, usedDaysAgo: 40 }] });
    const runs = new Runs(
      iam,
      policy({
        finalNoticeKeyAgeDays: 83,
        deactivateKeyAgeDays: 120,
        finalNoticeUnusedDays: 30,
        deactivateUnusedDays: 50,
      }),
    );
    const first = await runs.run(T0);
    const unused = first.said.find((f) => f.rule === 'access-key-final-notice')!;
    expect(unused.summary).toContain('unused for 40 days, deactivation at 50');
    // Used again two days later: the unused notice resolves, and the age notice is said on its own.
    iam.keys.alice![0]!.usedDaysAgo = -2;
    const used = await runs.run(at(2));
    const age = used.said.find((f) => f.rule === 'access-key-final-notice')!;
    expect(age.id).not.toBe(unused.id);
    expect(age.summary).toContain('87 days old, deactivation at 120');
    expect(age.summary).toContain('on or after 2027-01-05');
  });

  it('in dry run records nothing, not even a re-activation it sees', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 95, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    await runs.run(at(7));
    expect(runs.actions.map((a) => a.kind)).toEqual(['deactivated']);
    runs.enforcement = policy({ mode: 'dry-run' });
    iam.keys.alice![0]!.active = true;
    const dry = await runs.run(at(8));
    expect(runs.actions.map((a) => a.kind)).toEqual(['deactivated']);
    expect(dry.warnings.find((w) => w.code === 'key-reactivated')?.message).toBe(
      'user "alice": access key AKIAALICE00000000001, deactivated by credwatch, is Active again (a dry run: not recorded)',
    );
    expect(iam.updates).toHaveLength(1);
    // The plan is said once, under one id, however many dry runs see the re-activation.
    const planned = [
      ...ruleIds(dry.said),
      ...ruleIds((await runs.run(at(9))).said),
      ...ruleIds((await runs.run(at(10))).said),
    ];
    expect(planned).toEqual(['alice:access-key-deactivation-planned']);
  });

  it("stops deactivating when the scan's time is up, and leaves the rest for the next run", async () => {
    const iam = new Iam({
      a: [{ id: 'AKIAA000000000000001', ageDays: 120, usedDaysAgo: 3 }],
      b: [{ id: 'AKIAB000000000000001', ageDays: 120, usedDaysAgo: 3 }],
    });
    const runs = new Runs(iam, policy());
    await runs.run(T0);
    let late = false;
    iam.afterUpdate = () => {
      late = true;
    };
    const due = await runs.run(at(7), { confirmDeadline: 1_000, clock: () => (late ? 2_000 : 0) });
    expect(iam.updates.map((u) => u.user)).toEqual(['a']);
    expect(due.warnings.find((w) => w.code === 'enforcement-out-of-time')?.message).toBe(
      "1 access keys due for deactivation were left for the next run: this run's time was up",
    );
    iam.afterUpdate = () => {};
    await runs.run(at(8));
    expect(iam.updates.map((u) => u.user)).toEqual(['a', 'b']);
  });

  it('does nothing at all when enforcement is off', async () => {
    const iam = new Iam({ alice: [{ id: 'AKIAALICE00000000001', ageDays: 300, usedDaysAgo: 3 }] });
    const runs = new Runs(iam, enforcementPolicySchema.parse({}));
    const first = await runs.run(T0);
    expect(first.enforcement).toBeUndefined();
    expect(rules(first.findings)).toEqual([]);
    await runs.run(at(30));
    expect(iam.updates).toEqual([]);
  });
});
