import { buildDigest, SLACK_LIMITS } from '../../../lambda/adapters/slack/message';
import { accountScanFailure, selectAccounts } from '../../../lambda/core/accounts';
import type { Change } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';

const accounts = [
  { id: '333333333333', name: 'sandbox', status: 'ACTIVE' },
  { id: '111111111111', name: 'prod', status: 'ACTIVE' },
  { id: '222222222222', name: 'old', status: 'SUSPENDED' },
  { id: '444444444444', name: 'closing', status: 'PENDING_CLOSURE' },
  { id: '555555555555', name: 'listed' },
];

describe('selectAccounts', () => {
  it('keeps active accounts in id order and says why each other one is skipped', () => {
    expect(selectAccounts(accounts)).toEqual({
      selected: [
        { id: '111111111111', name: 'prod', status: 'ACTIVE' },
        { id: '333333333333', name: 'sandbox', status: 'ACTIVE' },
        { id: '555555555555', name: 'listed' },
      ],
      skipped: [
        { id: '222222222222', reason: 'status SUSPENDED' },
        { id: '444444444444', reason: 'status PENDING_CLOSURE' },
      ],
    });
  });

  it.each([
    [{ exclude: ['333333333333'] }, ['111111111111', '555555555555'], [['333333333333', 'excluded']]],
    [
      { include: ['333333333333'] },
      ['333333333333'],
      [
        ['111111111111', 'not included'],
        ['555555555555', 'not included'],
      ],
    ],
    [
      { include: ['333333333333', '111111111111'], exclude: ['111111111111'] },
      ['333333333333'],
      [
        ['111111111111', 'excluded'],
        ['555555555555', 'not included'],
      ],
    ],
  ])('applies %j', (filter, selected, skipped) => {
    const result = selectAccounts(accounts, filter);
    expect(result.selected.map((a) => a.id)).toEqual(selected);
    expect(result.skipped.filter((s) => !s.reason.startsWith('status')).map((s) => [s.id, s.reason])).toEqual(
      skipped,
    );
  });

  it('lists an account discovered twice (in two OUs) once', () => {
    expect(selectAccounts([accounts[1]!, accounts[1]!]).selected).toHaveLength(1);
  });
});

describe('accountScanFailure', () => {
  it('is a critical finding with a stable id per account, naming the account and the reason', () => {
    const f = accountScanFailure(
      '111111111111',
      'AccessDenied: not authorized to perform sts:AssumeRole',
      'prod',
    );
    expect(f).toMatchObject({
      id: '111111111111/<account>/account-scan-failed/scan',
      rule: 'account-scan-failed',
      severity: 'critical',
      summary:
        'credwatch could not scan account prod (111111111111): AccessDenied: not authorized to perform sts:AssumeRole. Its findings are not up to date until it can.',
    });
    expect(accountScanFailure('111111111111', 'other reason').id).toBe(f.id);
  });
});

describe('buildDigest for several accounts', () => {
  const finding = (accountId: string, user: string): Finding => ({
    id: `${accountId}/${user}/access-key-age/AKIA${user.toUpperCase().padEnd(16, 'X')}`,
    accountId,
    user,
    arn: `arn:aws:iam::${accountId}:user/${user}`,
    rule: 'access-key-age',
    severity: 'critical',
    credential: 'key',
    days: 100,
    thresholdDays: 90,
    summary: `Key of ${user} is old.`,
  });
  const opened = (f: Finding): Change => ({ kind: 'opened', finding: f });
  const ctx = {
    accountId: 'unused',
    scanTime: new Date('2026-11-23T12:00:00Z'),
    accountNames: { '111111111111': 'prod', '333333333333': 'sandbox <&>' },
  };

  it('has a section per account, in account order, headed by the account name', () => {
    const [message, ...rest] = buildDigest(
      [opened(finding('333333333333', 'zed')), opened(finding('111111111111', 'amy')), accountFailure()],
      ctx,
    );
    expect(rest).toEqual([]);
    const sections = message!.blocks
      .filter((b) => b.type === 'section')
      .map((b) => (b as { text: { text: string } }).text.text);
    expect(sections.filter((s) => s.startsWith('*'))).toEqual([
      '*prod (111111111111)* · :red_circle: *Critical* (1)',
      '*222222222222* · :red_circle: *Critical* (1)',
      '*sandbox &lt;&amp;&gt; (333333333333)* · :red_circle: *Critical* (1)',
    ]);
    expect(JSON.stringify(message!.blocks[0])).toContain('3 accounts');
    expect(JSON.stringify(message)).toContain('credwatch could not scan account 222222222222');
  });

  it('splits a large multi-account digest within the limits, each account continued where it was cut', () => {
    const many = ['111111111111', '333333333333'].flatMap((acct) =>
      Array.from({ length: 300 }, (_, i) =>
        opened(finding(acct, `user-${acct.slice(0, 1)}-${String(i).padStart(3, '0')}`)),
      ),
    );
    const messages = buildDigest(many, ctx);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
      expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(SLACK_LIMITS.messageChars);
    }
    const all = messages.map((m) => JSON.stringify(m)).join('');
    for (const c of many) expect(all).toContain(`users/details/${c.finding.user}|`);
  });

  function accountFailure(): Change {
    return opened(accountScanFailure('222222222222', 'AccessDenied'));
  }
});
