import { checkInvocation } from '../../../lambda/core/invocation';

const SOURCE = 'credwatch.schedule';
const CLOCK = new Date('2026-11-23T12:00:30Z');
const PERIOD = 10 * 60_000;
const check = (event: unknown, clock = CLOCK) => checkInvocation(event, clock, PERIOD, SOURCE);

describe('checkInvocation', () => {
  it('accepts the schedule event of this period and names the run by its scheduled time', () => {
    expect(check({ source: SOURCE, scheduledTime: '2026-11-23T12:00:00Z', executionId: 'x' })).toEqual({
      accepted: true,
      runId: '2026-11-23T12:00:00.000Z',
      scheduledTime: new Date('2026-11-23T12:00:00Z'),
    });
  });

  it.each([
    ['exactly one period late', '2026-11-23T11:50:30Z', true],
    ['one second more than a period late', '2026-11-23T11:50:29Z', false],
    ['one period early', '2026-11-23T12:10:30Z', true],
    ['more than a period early', '2026-11-23T12:10:31Z', false],
    ['in 2099', '2099-01-01T00:00:00Z', false],
    ['with an offset instead of Z', '2026-11-23T13:00:00+01:00', true],
  ])('a scheduled time %s: accepted=%s', (_what, scheduledTime, accepted) => {
    expect(check({ source: SOURCE, scheduledTime }).accepted).toBe(accepted);
  });

  it.each([
    [null, "event: expected the schedule's object, got null"],
    ['2026-11-23T12:00:00Z', 'event: expected the schedule\'s object, got "2026-11-23T12:00:00Z"'],
    [[], "event: expected the schedule's object, got []"],
    [{}, 'event.source: expected "credwatch.schedule", got nothing'],
    [
      { source: 'aws.events', scheduledTime: '2026-11-23T12:00:00Z' },
      'event.source: expected "credwatch.schedule", got "aws.events"',
    ],
    [{ source: SOURCE }, 'event.scheduledTime: expected an ISO time, got nothing'],
    [
      { source: SOURCE, scheduledTime: 1764000000000 },
      'event.scheduledTime: expected an ISO time, got 1764000000000',
    ],
    [
      { source: SOURCE, scheduledTime: '2026-11-23 12:00' },
      'event.scheduledTime: expected an ISO time with a zone, got "2026-11-23 12:00"',
    ],
    [
      { source: SOURCE, scheduledTime: '2026-11-23T12:00:00' },
      'event.scheduledTime: expected an ISO time with a zone, got "2026-11-23T12:00:00"',
    ],
    [
      { source: SOURCE, scheduledTime: '2026-11-31T12:00:00Z' },
      'event.scheduledTime: expected an ISO time with a zone, got "2026-11-31T12:00:00Z"',
    ],
  ])('refuses %j', (event, reason) => {
    const result = check(event);
    expect(result.accepted).toBe(false);
    if (reason !== undefined) expect(result).toEqual({ accepted: false, reason });
  });

  it('says how far the time is from the clock and what is accepted', () => {
    expect(check({ source: SOURCE, scheduledTime: '2026-11-23T11:30:00Z' })).toEqual({
      accepted: false,
      reason:
        'event.scheduledTime 2026-11-23T11:30:00.000Z is 31 minutes from the clock (2026-11-23T12:00:30.000Z); at most one schedule period (10 minutes) is accepted',
    });
  });

  it('never echoes a long value whole', () => {
    const result = check({ source: 'x'.repeat(5000) });
    expect(result.accepted).toBe(false);
    if (!result.accepted) expect(result.reason.length).toBeLessThan(200);
  });
});
