/**
 * A roll-up says what changed since the channel's last summary (lambda/core/summary.ts
 * `sinceLastSummary`): opened since then, announced worse since then, resolved since then; and the
 * Slack roll-up renders it.
 */
import { buildSummaryMessage } from '../../../lambda/adapters/slack/message';
import { nextStates } from '../../../lambda/core/diff';
import { DEFAULT_NOTIFICATION_POLICY, planPosts } from '../../../lambda/core/notification-plan';
import type { Change, FindingState } from '../../../lambda/core/state';
import { sinceLastSummary } from '../../../lambda/core/summary';
import type { Finding } from '../../../lambda/core/types';
import { checkWebhookBody } from '../../support/block-kit';

const A = '111111111111';
const ROLL_UP = new Date('2026-11-24T12:00:00Z');
const LAST = new Date('2026-11-23T12:00:00Z');
const hoursAfterLast = (h: number) => new Date(LAST.getTime() + h * 3_600_000);

const finding = (user: string, severity: Finding['severity'] = 'warning'): Finding => ({
  id: `${A}/${user}/access-key-age/AKIA${user.toUpperCase()}`,
  accountId: A,
  user,
  arn: `arn:aws:iam::${A}:user/${user}`,
  rule: 'access-key-age',
  severity,
  credential: `AKIA${user.toUpperCase()}`,
  days: 100,
  summary: 'old key',
});

/** The state of a finding announced at `at`: in a summary, or on its own. */
const state = (f: Finding, at: Date, announcedIn?: 'baseline' | 'roll-up', firstSeen = at): FindingState => {
  const [s] = nextStates([{ kind: 'opened', finding: f }], at, announcedIn);
  return { ...s!, firstSeen: firstSeen.toISOString() };
};
const reminder = (f: Finding, previous: FindingState): Change => ({ kind: 'reminder', finding: f, previous });

describe('sinceLastSummary', () => {
  const base = [
    reminder(finding('a'), state(finding('a'), LAST, 'roll-up', new Date('2026-10-01T00:00:00Z'))),
    reminder(finding('b'), state(finding('b'), LAST, 'roll-up', new Date('2026-10-01T00:00:00Z'))),
  ];

  it('counts opened, worse and resolved since the latest summary of the reminded findings', () => {
    const reminders = [
      ...base,
      // Opened after the last roll-up and announced on its own.
      reminder(finding('c'), state(finding('c'), hoursAfterLast(3))),
      // In the last roll-up, then announced worse on its own (its first sight is older).
      reminder(
        finding('d', 'critical'),
        state(finding('d', 'critical'), hoursAfterLast(5), undefined, new Date('2026-10-01T00:00:00Z')),
      ),
    ];
    const resolvedAt = [hoursAfterLast(1).toISOString(), new Date('2026-11-22T12:00:00Z').toISOString()];
    expect(sinceLastSummary(reminders, resolvedAt, 2)).toEqual({
      at: LAST.toISOString(),
      opened: 1,
      escalated: 1,
      // one resolved after the last roll-up, one before it (not counted), two by this run
      resolved: 3,
    });
  });

  it('takes a baseline as the last summary, and is undefined when no summary is remembered', () => {
    const baselined = [reminder(finding('a'), state(finding('a'), LAST, 'baseline'))];
    expect(sinceLastSummary(baselined, [])).toEqual({
      at: LAST.toISOString(),
      opened: 0,
      escalated: 0,
      resolved: 0,
    });
    const announcedEach = [reminder(finding('a'), state(finding('a'), LAST))];
    expect(sinceLastSummary(announcedEach, [hoursAfterLast(1).toISOString()])).toBeUndefined();
  });
});

describe('the roll-up message', () => {
  it('says what changed since the last summary, and that nothing did', () => {
    const reminders = [
      reminder(finding('a'), state(finding('a'), LAST, 'roll-up', new Date('2026-10-01T00:00:00Z'))),
      reminder(finding('c'), state(finding('c'), hoursAfterLast(3))),
    ];
    const resolved: Change = {
      kind: 'resolved',
      finding: finding('z'),
      previous: state(finding('z'), LAST, 'roll-up'),
    };
    const posts = planPosts([...reminders, resolved], new Set(), DEFAULT_NOTIFICATION_POLICY, [
      hoursAfterLast(2).toISOString(),
    ]);
    const rollUp = posts.find((p) => p.kind === 'summary')!;
    expect(rollUp.kind === 'summary' && rollUp.summary.sinceLast).toEqual({
      at: LAST.toISOString(),
      opened: 1,
      escalated: 0,
      resolved: 2,
    });
    const ctx = { accountId: A, accountNames: {}, scanTime: ROLL_UP };
    const message = rollUp.kind === 'summary' ? buildSummaryMessage(rollUp.summary, ctx) : undefined;
    expect(checkWebhookBody(JSON.stringify(message)).ok).toBe(true);
    expect(JSON.stringify(message)).toContain(
      '*Since the last summary* (2026-11-23 12:00 UTC): 1 new · 2 resolved',
    );

    const quiet = planPosts([reminders[0]!], new Set(), DEFAULT_NOTIFICATION_POLICY);
    const quietSummary = quiet[0]!;
    expect(quietSummary.kind).toBe('summary');
    if (quietSummary.kind !== 'summary') return;
    expect(JSON.stringify(buildSummaryMessage(quietSummary.summary, ctx))).toContain(
      '(2026-11-23 12:00 UTC): nothing new, nothing resolved',
    );
  });
});
