/**
 * The state machine steps' own checks (lambda/steps.ts), without AWS: a step refuses input that its
 * state machine would not send, naming the field, before anything is read; and a delta written by a
 * child decodes back to what scanEach produced, while a damaged one is refused with where it is wrong
 * (lambda/delta-codec.ts).
 */
import { CLOCK_SKEW_MS } from '../../lambda/contracts';
import { DEFAULT_THRESHOLDS } from '../../lambda/core/policy';
import type { Change } from '../../lambda/core/state';
import { decodeDelta, decodeRollUp } from '../../lambda/delta-codec';
import { type AccountDelta, scanEach } from '../../lambda/monitor';
import type { RunStore } from '../../lambda/ports';
import { slimScan } from '../../lambda/scan';
import { createSteps, rollUpParts, StepInputError } from '../../lambda/steps';
import { REPORT_HEADER, reportRow } from '../support/report-builder';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const D = '444444444444';
const NOW = new Date('2026-12-01T12:00:00Z');

/** A store that fails the test if a step reaches it. */
const untouchable: RunStore = {
  putAccounts: () => Promise.reject(new Error('the step read or wrote the run bucket')),
  getAccounts: () => Promise.reject(new Error('the step read or wrote the run bucket')),
  putDeltas: () => Promise.reject(new Error('the step read or wrote the run bucket')),
  deltas: () => Promise.reject(new Error('the step read or wrote the run bucket')),
};

describe('state machine steps refuse input their state machine would not send', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, {
      CREDWATCH_SCHEDULE_PERIOD_MINUTES: '10',
      CREDWATCH_SLACK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123',
      CREDWATCH_STATE_TABLE: 'state',
      CREDWATCH_RUN_BUCKET: 'runs',
      CREDWATCH_ACCOUNTS: JSON.stringify({ source: 'list', ids: [A], memberRoleName: 'credwatch-member' }),
      AWS_REGION: 'us-east-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
  });
  afterAll(() => {
    process.env = saved;
  });
  const steps = () => createSteps({ runStore: untouchable });

  it.each([
    [{}, 'scanBatch: input.BatchInput: '],
    [{ BatchInput: { runId: 'r', now: '2026-12-01T12:00:00Z' }, Items: [] }, 'scanBatch: input.Items: '],
    [
      { BatchInput: { runId: 'a/../b', now: '2026-12-01T12:00:00Z' }, Items: [{ id: A }] },
      'scanBatch: input.BatchInput.runId: expected a run id',
    ],
    [
      { BatchInput: { runId: 'r', now: 'yesterday' }, Items: [{ id: A }] },
      'scanBatch: input.BatchInput.now: expected an ISO time in UTC',
    ],
    [
      { BatchInput: { runId: 'r', now: '2026-12-01T12:00:00Z' }, Items: [{ id: '12' }] },
      'scanBatch: input.Items.0.id: expected a 12-digit account id',
    ],
    [
      {
        BatchInput: { runId: 'r', now: '2026-12-01T12:00:00Z' },
        Items: [{ id: A }, { id: A, name: 'again' }],
      },
      'scanBatch: input.Items: an account is in the batch twice',
    ],
  ])('scanBatch refuses %j', async (input, message) => {
    const error = await steps()
      .scanBatch(input)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepInputError);
    expect((error as Error).message.startsWith(message)).toBe(true);
  });

  it("scanBatch refuses a child's start it cannot have had, before scanning anything", async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const runAt = Date.now() - 10 * 60_000;
    const batch = (childStartedAt: string) =>
      steps()
        .scanBatch({ BatchInput: { runId: 'r', now: iso(runAt) }, Items: [{ id: A }], childStartedAt })
        .catch((e: unknown) => e);
    const late = iso(Date.now() + 3_600_000);
    await expect(batch(late)).resolves.toEqual(
      new StepInputError(
        `scanBatch: input.childStartedAt ${late} lies after this step started; no child execution started then`,
      ),
    );
    const early = iso(runAt - 5 * 60_000);
    await expect(batch(early)).resolves.toEqual(
      new StepInputError(
        `scanBatch: input.childStartedAt ${early} lies before its run started (${iso(runAt)})`,
      ),
    );
    await expect(batch('soon')).resolves.toEqual(
      new StepInputError('scanBatch: input.childStartedAt: expected an ISO time in UTC'),
    );
  });

  it('deliver refuses a run clock in the future, which no discover step wrote', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await expect(steps().deliver({ runId: 'r', now: future, accounts: [] })).rejects.toThrow(
      `deliver: input.now ${future} lies in the future; no discover step wrote it`,
    );
  });

  it('discover refuses an event that is not the schedule, reading nothing', async () => {
    await expect(
      steps().discover({ schedule: { source: 'someone.else' }, execution: 'e-1' }),
    ).resolves.toEqual({
      refused: 'event.schedule.source: expected "credwatch.schedule", got "someone.else"',
    });
    // Not from the state machine at all (no execution name, or one that no execution has).
    for (const event of [{ source: 'credwatch.schedule' }, { schedule: {}, execution: 'a/b' }]) {
      await expect(steps().discover(event)).resolves.toEqual({
        refused: 'event.execution: expected the name of the state machine execution',
      });
    }
  });
});

describe('decodeDelta', () => {
  const csv = `${[
    REPORT_HEADER,
    reportRow({ user: '<root_account>', mfa_active: 'true' }, A),
    reportRow(
      {
        user: 'alice',
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2026-01-01T00:00:00+00:00',
        access_key_1_last_used_date: '2026-11-30T00:00:00+00:00',
      },
      A,
    ),
  ].join('\n')}\n`;
  const delta = async () => {
    const [d] = await scanEach({
      accounts: [
        {
          accountId: A,
          scan: {
            report: { getReport: async () => ({ csv, generatedAt: NOW }) },
            thresholds: DEFAULT_THRESHOLDS,
            now: NOW,
          },
        },
      ],
      now: NOW,
      state: {
        load: async () => ({ states: [], unreadable: [], known: true }),
        commit: async () => ({ written: 0, skippedAsStale: [] }),
        markKnown: async () => {},
      },
      notifier: async () => {
        throw new Error('nothing is sent');
      },
      reminderIntervalMs: 86_400_000,
    });
    // What the run bucket gives back: the JSON the child wrote.
    return JSON.parse(JSON.stringify(d));
  };

  it('gives back what scanEach produced, through JSON', async () => {
    const raw = await delta();
    expect(raw.changes.length).toBeGreaterThan(0);
    const decoded = decodeDelta(raw, NOW, CLOCK_SKEW_MS);
    expect(decoded).toEqual({ delta: raw });
  });

  it('gives back a slimmed scan (what a child writes): the counts, the unconfirmed findings, how many there were', async () => {
    const raw = await delta();
    // One unconfirmed finding beside the confirmed one(s).
    raw.scan.findings.push({
      ...raw.scan.findings[0],
      id: `${raw.scan.findings[0].id}-2`,
      unconfirmed: true,
    });
    const total = raw.scan.findings.length;
    expect(total).toBeGreaterThan(1);
    const slim = JSON.parse(JSON.stringify({ ...raw, scan: slimScan(raw.scan) }));
    expect(slim.scan.findings).toEqual([raw.scan.findings[total - 1]]);
    expect(slim.scan.findingsTotal).toBe(total);
    expect(slim.scan.counts).toEqual(raw.scan.counts);
    expect(slim.scan.userTags).toBeUndefined();
    // Slimmed again (a retried child), it still counts the findings there were.
    expect(slimScan(slim.scan).findingsTotal).toBe(total);
    const decoded = decodeDelta(slim, NOW, CLOCK_SKEW_MS);
    expect('delta' in decoded && decoded.delta.scan?.findingsTotal).toBe(total);
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(raw).length);
  });

  it('carries the lanes to close and the states to move, each checked as a state', async () => {
    const raw = await delta();
    const state = JSON.parse(JSON.stringify({ ...raw.changes[0].finding }));
    const lane = {
      id: state.id,
      accountId: A,
      status: 'resolved',
      notifiedSeverity: 'warning',
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastNotifiedAt: '2026-11-01T00:00:00.000Z',
      scanTime: NOW.toISOString(),
      finding: state,
      channel: 'teams',
    };
    const decoded = decodeDelta(
      { ...raw, retired: [lane], misplaced: [{ ...lane, status: 'open' }] },
      NOW,
      CLOCK_SKEW_MS,
    );
    expect('delta' in decoded && decoded.delta.retired).toEqual([lane]);
    expect('delta' in decoded && decoded.delta.misplaced?.[0]?.status).toBe('open');
    const bad = decodeDelta({ ...raw, retired: [{ ...lane, channel: 'Not A Channel' }] }, NOW, CLOCK_SKEW_MS);
    expect('problem' in bad && bad.problem).toMatch(/^retired\.0: channel: /);
    const late = decodeDelta(
      { ...raw, misplaced: [{ ...lane, scanTime: '2027-06-01T00:00:00.000Z' }] },
      NOW,
      CLOCK_SKEW_MS,
    );
    expect('problem' in late && late.problem).toMatch(/^misplaced\.0: /);
  });

  it('reads a roll-up on its own (deliver reads it only when one is due) as decodeDelta reads it within a delta', async () => {
    const raw = await delta();
    const changes = JSON.parse(JSON.stringify(raw.changes));
    expect(changes.length).toBeGreaterThan(0);
    const within = decodeDelta({ ...raw, rollUp: changes }, NOW, CLOCK_SKEW_MS);
    expect('delta' in within).toBe(true);
    expect(decodeRollUp(changes)).toEqual({ rollUp: 'delta' in within ? within.delta.rollUp : 'none' });
    expect(decodeRollUp(undefined)).toEqual({});
    const bad = decodeRollUp([...changes, { ...changes[0], kind: 'vanished' }]);
    expect('problem' in bad && bad.problem).toMatch(new RegExp(`^rollUp\\.${changes.length}: kind: `));
    expect(decodeRollUp({ not: 'a list' })).toEqual({ problem: expect.stringMatching(/^rollUp: /) });
  });

  it.each([
    [(d: Record<string, unknown>) => ({ ...d, accountId: 'x' }), 'accountId: expected a 12-digit account id'],
    [(d: Record<string, unknown>) => ({ ...d, changes: [{ kind: 'vanished' }] }), 'changes.0: kind: '],
    [(d: Record<string, unknown>) => ({ ...d, baseline: 'yes' }), 'baseline: '],
  ])('refuses a damaged delta, saying where', async (damage, problem) => {
    const decoded = decodeDelta(damage(await delta()), NOW, CLOCK_SKEW_MS);
    expect('problem' in decoded && decoded.problem.startsWith(problem)).toBe(true);
  });
});

describe("rollUpParts: the deliver step's budget of reminders in a run", () => {
  const DAY = 86_400_000;
  /** A reminder in the default channel, last said `agoMs` before NOW. */
  const reminder = (accountId: string, n: number, agoMs: number): Change => ({
    kind: 'reminder',
    channel: 'default',
    finding: {
      id: `${accountId}/user${n}/access-key-age/AKIA${n}`,
      accountId,
      user: `user${n}`,
      arn: `arn:aws:iam::${accountId}:user/user${n}`,
      rule: 'access-key-age',
      severity: 'warning',
      credential: `AKIA${n}`,
      days: 100,
      summary: 'old',
    },
    previous: {
      id: `${accountId}/user${n}/access-key-age/AKIA${n}`,
      accountId,
      status: 'open',
      notifiedSeverity: 'warning',
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastNotifiedAt: new Date(NOW.getTime() - agoMs).toISOString(),
      scanTime: '2026-01-01T00:00:00.000Z',
      finding: {} as Change['finding'],
    },
  });
  const delta = (accountId: string, changes: Change[]): AccountDelta => ({
    accountId,
    changes,
    baseline: false,
    migrations: [],
    skippedAsStale: [],
    unreadable: [],
  });
  const reminders = (accountId: string, n: number, agoMs: number) =>
    Array.from({ length: n }, (_, i) => reminder(accountId, i + 1, agoMs));
  const kept = (d: ReturnType<typeof decodeDelta>) => {
    if ('problem' in d) throw new Error(d.problem);
    return d.delta;
  };

  it('keeps whole what fits; once it does not, leaves out what was said within the interval, also from the parts kept before', () => {
    const parts = rollUpParts(5, NOW, DAY);
    expect(kept(parts.first({ delta: delta(A, reminders(A, 2, DAY)) })).changes).toHaveLength(2);
    // B's roll-up was said an hour ago (an earlier part): it fits, so it is kept, for now.
    const b = parts.rollUp(delta(B, []), reminders(B, 2, 3_600_000));
    expect(b.part).toHaveLength(2);
    // C's is due and does not fit beside B's: the roll-up is in parts, and B's, said lately, is left out.
    const c = parts.rollUp(delta(C, []), reminders(C, 2, DAY));
    expect(c.part).toHaveLength(2);
    expect(b.part).toHaveLength(0);
    expect(b.leftOut()).toEqual([{ channel: 'default', said: 2, deferred: 0 }]);
    // D's is due too: beyond the part, it waits for the next run.
    const d = parts.rollUp(delta(D, []), reminders(D, 2, DAY));
    expect(d.part).toHaveLength(0);
    expect(d.leftOut()).toEqual([{ channel: 'default', said: 0, deferred: 2 }]);
  });

  it("leaves an account's reminders to the next run whole, counting each once", () => {
    const parts = rollUpParts(3, NOW, DAY);
    parts.first({ delta: delta(A, reminders(A, 3, DAY)) });
    // B's two due reminders do not fit: taken out, its other changes kept.
    const opened: Change = { kind: 'opened', channel: 'default', finding: reminder(B, 9, 0).finding };
    const b = kept(parts.first({ delta: delta(B, [...reminders(B, 2, DAY), opened]) }));
    expect(b.changes).toEqual([opened]);
    expect(b.leftOut).toEqual([{ channel: 'default', said: 0, deferred: 2 }]);
    // Its roll-up adds those two again (they are no longer among its changes) and a third: one more waits.
    const roll = parts.rollUp(b, [...reminders(B, 2, DAY), reminder(B, 3, 3_600_000)]);
    expect(roll.part).toHaveLength(0);
    expect(roll.leftOut()).toEqual([{ channel: 'default', said: 0, deferred: 1 }]);
  });
});
