/**
 * The rule registry (lambda/core/rules): one definition per rule id, and what the rest of credwatch
 * reads from it. The compiler checks completeness (see docs/rules.md "Adding a rule"); these tests
 * check what it cannot: the values.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderEntry } from '../../../lambda/adapters/slack/message';
import { thresholdsSchema } from '../../../lambda/core/policy';
import { RULE_LIST, RULES, readsKeysLive, ruleDefinition, ruleLabel } from '../../../lambda/core/rules';
import { type Finding, RULE_IDS, type RuleId } from '../../../lambda/core/types';

const BASE = 'https://console.aws.amazon.com/iam/home';

/** The label lambda/adapters/slack/message.ts shows for a rule: the third fact of a resolved entry's line. */
function slackLabel(rule: RuleId): string {
  const finding: Finding = {
    id: `123456789012/alice/${rule}/x`,
    accountId: '123456789012',
    user: 'alice',
    arn: 'arn:aws:iam::123456789012:user/alice',
    rule,
    severity: 'warning',
    credential: 'x',
    summary: 'a summary',
  };
  const line = renderEntry({ kind: 'resolved', finding }, BASE);
  return line.split(' · ')[2]!;
}

describe('the rule registry', () => {
  it('defines every rule id once, under its own id, in the order of RULE_IDS', () => {
    expect(Object.keys(RULES)).toEqual([...RULE_IDS]);
    for (const [id, definition] of Object.entries(RULES)) expect(definition.id).toBe(id);
    expect(RULE_LIST.map((r) => r.id)).toEqual([...RULE_IDS]);
  });

  it('has one file per rule under lambda/core/rules', () => {
    const files = readdirSync(join(__dirname, '../../../lambda/core/rules'))
      .filter((f) => !['index.ts', 'definition.ts', 'helpers.ts'].includes(f))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(files).toEqual([...RULE_IDS].sort());
  });

  // RULE_LABELS in lambda/adapters/slack/message.ts is to be replaced by the registry's labels: until then they must agree.
  it.each([...RULE_IDS])('labels %s as the Slack digest does', (rule) => {
    expect(ruleLabel(rule)).toBe(RULES[rule].label);
    expect(slackLabel(rule)).toBe(RULES[rule].label);
  });

  it('confirms live exactly the rules judged on IAM users’ access keys', () => {
    expect(RULE_IDS.filter(readsKeysLive)).toEqual([
      'access-key-age',
      'access-key-unused',
      'multiple-active-keys',
    ]);
  });

  it('answers for an id no release knows: its own label, not read live, no definition', () => {
    expect(ruleLabel('rule-from-the-future')).toBe('rule-from-the-future');
    expect(readsKeysLive('rule-from-the-future')).toBe(false);
    expect(ruleDefinition('rule-from-the-future')).toBeUndefined();
    expect(ruleDefinition('toString')).toBeUndefined();
  });

  it('reads every threshold but tagLimits, each from one rule', () => {
    const keys = Object.keys(thresholdsSchema.parse({})).filter((k) => k !== 'tagLimits');
    const read = RULE_LIST.flatMap((r) => (r.threshold === null ? [] : [r.threshold]));
    expect([...read].sort()).toEqual([...keys].sort());
    expect(RULES['account-scan-failed'].threshold).toBeNull();
  });

  it('judges each principal with its own rules; account-scan-failed and enforcement judge no record', () => {
    const by = (p: string) => RULE_LIST.filter((r) => r.principal === p).map((r) => r.id);
    expect(by('root')).toEqual([
      'root-access-key',
      'root-without-mfa',
      'root-credentials-removed',
      'root-used',
      'root-virtual-mfa',
    ]);
    // Made elsewhere: by the monitor (accounts.ts) and by the enforcement plan (enforcement.ts).
    expect(by('account')).toEqual([
      'account-scan-failed',
      'access-key-final-notice',
      'access-key-deactivated',
      'access-key-deactivation-planned',
      'access-key-would-deactivate',
    ]);
    for (const id of by('account')) expect(RULES[id as RuleId].evaluate({} as never)).toEqual([]);
  });

  it('never marks the exemption notices, nor root findings, as exempted', () => {
    expect(RULE_LIST.filter((r) => r.exemptible).map((r) => r.id)).toEqual([
      'access-key-age',
      'access-key-unused',
      'password-unused',
      'password-without-mfa',
      'password-age',
      'multiple-active-keys',
    ]);
  });
});
