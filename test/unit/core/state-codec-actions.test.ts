/**
 * decodeAction (issue 15): an enforcement action, as the state table holds it, checked field by field;
 * a bad one is one line naming the field.
 */
import type { EnforcementAction } from '../../../lambda/core/enforcement';
import { ACTION_TEXT_MAX, decodeAction } from '../../../lambda/core/state-codec';

const ACTION: EnforcementAction = {
  kind: 'deactivated',
  accountId: '123456789012',
  user: 'ci.deploy+bot@example.com',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  credential: 'key-2025-01-01T00:00:00Z',
  at: '2026-05-04T06:00:00.000Z',
  reason: 'age: 120 days old, deactivation at 100',
  runId: '2026-05-04T06:00:00Z_0123abcd',
  actor: 'arn:aws:iam::123456789012:role/credwatch-scanner',
  noticeAt: '2026-04-20T06:00:00.000Z',
};

const problemOf = (raw: unknown): string => {
  const decoded = decodeAction(raw);
  if ('action' in decoded) throw new Error(`expected a problem, decoded ${JSON.stringify(decoded.action)}`);
  return decoded.problem;
};

describe('decodeAction', () => {
  it('decodes an action with every field as it is', () => {
    expect(decodeAction({ ...ACTION })).toEqual({ action: ACTION });
  });

  it('decodes a reactivation without actor or notice, leaving those keys out', () => {
    const { actor: _actor, noticeAt: _noticeAt, ...rest } = ACTION;
    const decoded = decodeAction({ ...rest, kind: 'reactivation-seen' });
    expect(decoded).toEqual({ action: { ...rest, kind: 'reactivation-seen' } });
    if (!('action' in decoded)) throw new Error('not decoded');
    expect(Object.keys(decoded.action)).not.toContain('actor');
    expect(Object.keys(decoded.action)).not.toContain('noticeAt');
  });

  it('accepts ISO times with an offset and without fractions', () => {
    const decoded = decodeAction({
      ...ACTION,
      at: '2026-05-04T08:00:00+02:00',
      noticeAt: '2026-04-20T06:00:00Z',
    });
    expect('action' in decoded && decoded.action.at).toBe('2026-05-04T08:00:00+02:00');
  });

  it('drops attributes it does not know (a later release may add some)', () => {
    const decoded = decodeAction({ ...ACTION, ticket: 'SEC-1' });
    expect(decoded).toEqual({ action: ACTION });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['kind', { kind: 'deleted' }, /^kind: /],
    ['accountId (11 digits)', { accountId: '12345678901' }, /^accountId: expected a 12-digit account id$/],
    ['accountId (letters)', { accountId: '12345678901a' }, /^accountId: /],
    ['user (a space)', { user: 'alice smith' }, /^user: expected an IAM user name/],
    ['user (65 characters)', { user: 'a'.repeat(65) }, /^user: /],
    ['user (empty)', { user: '' }, /^user: /],
    [
      'accessKeyId (lower case)',
      { accessKeyId: 'akiaiosfodnn7example' },
      /^accessKeyId: expected an access key id/,
    ],
    ['accessKeyId (15 characters)', { accessKeyId: 'AKIAIOSFODNN7EX' }, /^accessKeyId: /],
    ['accessKeyId (129 characters)', { accessKeyId: 'A'.repeat(129) }, /^accessKeyId: /],
    ['credential (empty)', { credential: '' }, /^credential: expected a non-empty string$/],
    ['at (a day)', { at: '2026-05-04' }, /^at: expected an ISO time$/],
    ['at (no such hour)', { at: '2026-05-04T25:00:00Z' }, /^at: expected an ISO time$/],
    ['at (a number)', { at: 1_777_874_400_000 }, /^at: /],
    ['noticeAt', { noticeAt: 'last week' }, /^noticeAt: expected an ISO time$/],
    ['reason (empty)', { reason: '' }, /^reason: expected a non-empty string$/],
    [
      'reason (too long)',
      { reason: 'x'.repeat(ACTION_TEXT_MAX + 1) },
      /^reason: expected at most 500 characters$/,
    ],
    ['runId (empty)', { runId: '' }, /^runId: /],
    [
      'runId (too long)',
      { runId: 'r'.repeat(ACTION_TEXT_MAX + 1) },
      /^runId: expected at most 500 characters$/,
    ],
    ['actor (empty)', { actor: '' }, /^actor: /],
    ['actor (null)', { actor: null }, /^actor: /],
  ])('refuses a bad %s, naming the field', (_what, change, problem) => {
    expect(problemOf({ ...ACTION, ...change })).toMatch(problem);
  });

  it.each(['kind', 'accountId', 'user', 'accessKeyId', 'credential', 'at', 'reason', 'runId'])(
    'refuses an action without %s, naming it',
    (field) => {
      const raw: Record<string, unknown> = { ...ACTION };
      delete raw[field];
      expect(problemOf(raw)).toMatch(new RegExp(`^${field}: `));
    },
  );

  it('takes a reason of exactly the bound', () => {
    expect('action' in decodeAction({ ...ACTION, reason: 'x'.repeat(ACTION_TEXT_MAX) })).toBe(true);
  });

  it('refuses what is not an object, in one line', () => {
    for (const raw of [null, 'deactivated', [ACTION]]) {
      const problem = problemOf(raw);
      expect(problem).not.toContain('\n');
      expect(problem).toMatch(/expected object/);
    }
  });
});
