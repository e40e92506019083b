/**
 * The exemption cap over many scheduled runs: evaluate -> diff -> remember, day after day, as the
 * monitor does. A tag asking for a far-off `until` must exempt the user for at most
 * tagLimits.maxExemptionDays, and then never again until the tag changes.
 */
import { DAY_MS } from '../../../lambda/core/dates';
import { diff, nextStates } from '../../../lambda/core/diff';
import { evaluate } from '../../../lambda/core/evaluate';
import { DEFAULT_THRESHOLDS, thresholdsSchema } from '../../../lambda/core/policy';
import type { FindingState } from '../../../lambda/core/state';
import type { CredentialRecord } from '../../../lambda/core/types';

const START = new Date('2026-01-01T12:00:00Z');

const carol = (now: Date): CredentialRecord => ({
  user: 'carol',
  arn: 'arn:aws:iam::123456789012:user/carol',
  isRoot: false,
  createdAt: new Date('2020-01-01T00:00:00Z'),
  password: { enabled: false, lastUsed: null, lastChanged: null },
  mfaActive: true,
  accessKeys: [
    { slot: 1, active: true, createdAt: new Date('2020-01-01T00:00:00Z'), lastUsed: { date: now } },
  ],
  line: 2,
});

/** Runs daily for `days`; returns, per day, whether carol's key finding was exempted, and what was said. */
function simulate(tag: string, days: number) {
  const store = new Map<string, FindingState>();
  const log: { day: string; exempted: boolean; said: string[] }[] = [];
  for (let d = 0; d < days; d++) {
    const now = new Date(START.getTime() + d * DAY_MS);
    const open = [...store.values()].filter((s) => s.status === 'open');
    const { findings } = evaluate({
      records: [carol(now)],
      thresholds: DEFAULT_THRESHOLDS,
      tags: new Map([['carol', { 'credwatch:exempt': tag }]]),
      now,
      knownSince: new Map(open.map((s) => [s.id, new Date(s.firstSeen)])),
    });
    const changes = diff(findings, [...store.values()], now, { reminderIntervalMs: 30 * DAY_MS });
    for (const s of nextStates(changes, now)) store.set(s.id, s);
    log.push({
      day: now.toISOString().slice(0, 10),
      exempted: findings.some((f) => f.rule === 'access-key-age' && f.exemption !== undefined),
      said: changes.map((c) => `${c.kind}:${c.finding.rule}`),
    });
  }
  return log;
}

describe('the exemption cap over months of scheduled runs', () => {
  it('exempts for 90 days from the first announcement, then never again while the tag stays', () => {
    const log = simulate('until=2099-12-31 reason=forever', 200);
    const exemptedDays = log.filter((l) => l.exempted).map((l) => l.day);
    expect(exemptedDays[0]).toBe('2026-01-01');
    expect(exemptedDays.at(-1)).toBe('2026-04-01'); // 2026-01-01 + 90 days, inclusive
    expect(exemptedDays).toHaveLength(91);
    // Announced once when granted; once when it ended (the key finding and the expiry), then quiet.
    expect(log[0]!.said).toEqual(['opened:exemption-granted']);
    expect(log.find((l) => l.day === '2026-04-02')!.said.sort()).toEqual(
      ['opened:access-key-age', 'opened:exemption-expired'].sort(),
    );
    const noticeReopened = log.slice(1).filter((l) => l.said.includes('opened:exemption-granted'));
    expect(noticeReopened).toEqual([]);
  });

  it('cannot be turned off: exemptionGranted takes a severity, not "off"', () => {
    expect(() => thresholdsSchema.parse({ exemptionGranted: 'off' })).toThrow();
  });
});
