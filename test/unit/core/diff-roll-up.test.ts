import { ANNOUNCED_ONCE, compareChanges, diff, nextStates } from '../../../lambda/core/diff';
import type { Change, FindingState } from '../../../lambda/core/state';
import { SUMMARY_REASONS } from '../../../lambda/core/summary';
import type { Finding, RuleId, Severity } from '../../../lambda/core/types';

const DAY = 86_400_000;
const INTERVAL = 7 * DAY;
const NOW = new Date('2026-05-04T06:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const rollUp = { reminderIntervalMs: INTERVAL, alignReminders: true };
const A = '111111111111';
const B = '222222222222';

function finding(
  user: string,
  extra: Partial<Finding> & { rule?: RuleId; severity?: Severity; accountId?: string } = {},
): Finding {
  const accountId = extra.accountId ?? A;
  const rule = extra.rule ?? 'access-key-age';
  return {
    id: `${accountId}/${user}/${rule}/key-2025-01-01T00:00:00Z`,
    accountId,
    user,
    arn: `arn:aws:iam::${accountId}:user/${user}`,
    rule,
    severity: 'warning',
    credential: 'key-2025-01-01T00:00:00Z',
    days: 85,
    summary: `${user}: ${rule}`,
    ...extra,
  };
}

/** Open, announced `notifiedAgo` before NOW. */
function state(f: Finding, notifiedAgo: number, extra: Partial<FindingState> = {}): FindingState {
  return {
    id: f.id,
    accountId: f.accountId,
    status: 'open',
    notifiedSeverity: f.severity,
    firstSeen: ago(30 * DAY),
    lastNotifiedAt: ago(notifiedAgo),
    scanTime: ago(notifiedAgo),
    finding: f,
    ...extra,
  };
}

const kinds = (changes: readonly Change[]) => changes.map((c) => `${c.kind}:${c.finding.user}`);

describe('diff with alignReminders (roll-up)', () => {
  const due = finding('due');
  const quiet1 = finding('quiet1');
  const quiet2 = finding('quiet2', { severity: 'critical' });
  const notice = finding('notice', { rule: 'exemption-granted', severity: 'info', days: undefined });
  const worse = finding('worse', { severity: 'critical' });
  const fresh = finding('fresh');
  const gone = finding('gone');
  const findings = [due, quiet1, quiet2, notice, worse, fresh];
  const states = [
    state(due, 8 * DAY),
    state(quiet1, 1 * DAY),
    state(quiet2, 6 * DAY),
    state(notice, 1 * DAY),
    state(worse, 1 * DAY, { notifiedSeverity: 'warning', finding: { ...worse, severity: 'warning' } }),
    state(gone, 1 * DAY),
  ];

  it('the exemption notice is a rule announced once', () => {
    expect(ANNOUNCED_ONCE.has('exemption-granted')).toBe(true);
  });

  it('without the option, only the due finding is reminded', () => {
    const changes = diff(findings, states, NOW, { reminderIntervalMs: INTERVAL });
    expect(kinds(changes)).toEqual(['opened:fresh', 'escalated:worse', 'reminder:due', 'resolved:gone']);
  });

  it('one due finding pulls every other open finding of the account in, each once, never a notice', () => {
    const changes = diff(findings, states, NOW, rollUp);
    expect(kinds(changes)).toEqual([
      'opened:fresh',
      'escalated:worse',
      'reminder:quiet2',
      'reminder:due',
      'reminder:quiet1',
      'resolved:gone',
    ]);
    // Sorted like any diff, and each finding once: the escalation is not also a reminder.
    expect([...changes].sort(compareChanges)).toEqual(changes);
    expect(new Set(changes.map((c) => c.finding.id)).size).toBe(changes.length);
    expect(changes.some((c) => c.finding.rule === 'exemption-granted')).toBe(false);
  });

  it('a pulled-in reminder carries the current finding and its remembered state', () => {
    const moved = { ...quiet1, days: 86 };
    const changes = diff([due, moved], [state(due, 8 * DAY), state(quiet1, 1 * DAY)], NOW, rollUp);
    const pulled = changes.find((c) => c.finding.user === 'quiet1');
    expect(pulled).toEqual({ kind: 'reminder', finding: moved, previous: state(quiet1, 1 * DAY) });
  });

  it('a pulled-in reminder keeps the access key id it was announced with', () => {
    const announced = { ...quiet1, accessKeyId: 'AKIAQUIET1EXAMPLE' };
    const changes = diff([due, quiet1], [state(due, 8 * DAY), state(announced, 1 * DAY)], NOW, rollUp);
    expect(changes.find((c) => c.finding.user === 'quiet1')?.finding.accessKeyId).toBe('AKIAQUIET1EXAMPLE');
  });

  it('no finding due: no reminders at all, though there are other changes', () => {
    const notDue = states.map((s) => (s.id === due.id ? state(due, 6 * DAY) : s));
    const changes = diff(findings, notDue, NOW, rollUp);
    expect(kinds(changes)).toEqual(['opened:fresh', 'escalated:worse', 'resolved:gone']);
  });

  it('a notice quiet for longer than the interval does not pull the others in (it is never due)', () => {
    const changes = diff([notice, quiet1], [state(notice, 30 * DAY), state(quiet1, 1 * DAY)], NOW, rollUp);
    expect(changes).toEqual([]);
  });

  it('a finding that is no longer open (resolved, or no state) is not pulled in as a reminder', () => {
    const back = finding('back');
    const changes = diff(
      [due, back, fresh],
      [state(due, 8 * DAY), state(back, 1 * DAY, { status: 'resolved' })],
      NOW,
      rollUp,
    );
    expect(kinds(changes)).toEqual(['opened:back', 'opened:fresh', 'reminder:due']);
  });

  it('a finding that no longer pages (exempted now) is resolved, not reminded', () => {
    const exempted = { ...quiet1, exemption: { until: '2026-12-31', reason: 'migration' } };
    const changes = diff([due, exempted], [state(due, 8 * DAY), state(quiet1, 1 * DAY)], NOW, rollUp);
    expect(kinds(changes)).toEqual(['reminder:due', 'resolved:quiet1']);
  });

  it("aligns an account's reminders only: another account's open findings are not pulled in", () => {
    // DiffOptions.alignReminders: "when any open finding of the account is due ... every other open one".
    const other = finding('other', { accountId: B });
    const changes = diff(
      [due, quiet1, other],
      [state(due, 8 * DAY), state(quiet1, 1 * DAY), state(other, 1 * DAY)],
      NOW,
      rollUp,
    );
    expect(kinds(changes)).toEqual(['reminder:due', 'reminder:quiet1']);
  });

  it('after a roll-up the whole account falls due together again one interval later', () => {
    const first = diff(findings, states, NOW, rollUp);
    const written = nextStates(first, NOW, 'roll-up');
    const later = new Date(NOW.getTime() + INTERVAL);
    const carried = [...states.filter((s) => !written.some((w) => w.id === s.id)), ...written];
    const again = diff([due, quiet1, quiet2, worse, notice], carried, later, rollUp);
    expect(kinds(again)).toEqual([
      'reminder:quiet2',
      'reminder:worse',
      'reminder:due',
      'reminder:quiet1',
      'resolved:fresh',
    ]);
  });
});

describe('nextStates announcedIn', () => {
  const f = finding('alice');
  const previous = state(f, 8 * DAY, { firstSeen: ago(40 * DAY) });
  const changes: Change[] = [
    { kind: 'opened', finding: finding('new') },
    { kind: 'reminder', finding: f, previous },
    { kind: 'escalated', finding: { ...f, severity: 'critical' }, previous },
    { kind: 'resolved', finding: f, previous },
  ];

  it.each(SUMMARY_REASONS)('records announcedIn %s on the state of every kind', (reason) => {
    const written = nextStates(changes, NOW, reason);
    expect(written.map((s) => s.announcedIn)).toEqual([reason, reason, reason, reason]);
    // Nothing else changes because of it.
    expect(written.map(({ announcedIn: _, ...rest }) => rest)).toEqual(nextStates(changes, NOW));
  });

  it('leaves the attribute out (not undefined) when the change was announced in its own entry', () => {
    for (const s of nextStates(changes, NOW)) expect(Object.keys(s)).not.toContain('announcedIn');
  });

  it('does not carry a previous summary over: the last announcement is what it names', () => {
    const baselined: FindingState = { ...previous, announcedIn: 'baseline' };
    const [own] = nextStates([{ kind: 'reminder', finding: f, previous: baselined }], NOW);
    expect(Object.keys(own!)).not.toContain('announcedIn');
    const [rolled] = nextStates([{ kind: 'reminder', finding: f, previous: baselined }], NOW, 'roll-up');
    expect(rolled!.announcedIn).toBe('roll-up');
    expect(rolled!.firstSeen).toBe(previous.firstSeen);
    expect(rolled!.lastNotifiedAt).toBe(NOW.toISOString());
  });
});
