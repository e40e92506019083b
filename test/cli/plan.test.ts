/**
 * `--plan`: the enforcement plan of a report, from the configuration's `enforcement` section, as the
 * scheduled scanner's dry run would announce it. It never changes anything: the CLI has no
 * deactivator and no state store, whatever the mode says.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/run-cli';

const EXAMPLE = 'examples/credential-report.csv';
const NOW = '2026-12-01';

function config(enforcement: unknown, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'credwatch-plan-'));
  const file = join(dir, 'credwatch.config.json');
  writeFileSync(file, JSON.stringify({ ...extra, enforcement }));
  return file;
}

const AGES = { finalNoticeKeyAgeDays: 83, deactivateKeyAgeDays: 90 };

describe('credwatch scan --plan', () => {
  it('needs a configuration that turns enforcement on (exit 2, naming what is missing)', async () => {
    const none = await runCli(['--report', EXAMPLE, '--plan']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      '--plan needs --config FILE whose "enforcement" section sets a mode (dry-run or enforce) and its ages (docs/enforcement.md)',
    );
    const off = config({ mode: 'off' });
    const offRun = await runCli(['--report', EXAMPLE, '--config', off, '--plan']);
    expect(offRun.code).toBe(2);
    expect(offRun.stderr).toContain(`${off} turns enforcement off`);
  });

  it('refuses an enforcement section that breaks a pair, naming the field', async () => {
    const bad = config({ mode: 'dry-run', finalNoticeKeyAgeDays: 95, deactivateKeyAgeDays: 90 });
    const run = await runCli(['--report', EXAMPLE, '--config', bad, '--plan']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/enforcement\.finalNoticeKeyAgeDays/);
  });

  it('lists each key enforce would give a final notice, with its deactivation day, and what it never touches', async () => {
    // Enforce in the file: the CLI still only plans.
    const file = config({ mode: 'enforce', ...AGES, protectedUsers: ['ci-*'] });
    const run = await runCli(['--report', EXAMPLE, '--config', file, '--plan', '--now', NOW, '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    const planned = doc.findings.filter(
      (f: { rule: string }) => f.rule === 'access-key-deactivation-planned',
    );
    expect(planned.map((f: { user: string }) => f.user).sort()).toEqual(['alice', 'bob', 'svc-legacy-etl']);
    const alice = planned.find((f: { user: string }) => f.user === 'alice');
    // 133 days old: past the deactivation age, so the day is the notice (now) plus the 7-day lead time.
    expect(alice.summary).toBe(
      'Dry run: enforcement would give alice a final notice for the access key created 2026-07-20T14:02:11Z now and deactivate it on or after 2026-12-08 (133 days old, deactivation at 90).',
    );
    expect(doc.enforcement.plan.untouched).toEqual([
      { user: 'ci-deploy', why: 'on the protected list (enforcement.protectedUsers)' },
    ]);
    expect(doc.enforcement.actions).toEqual([]);
    // The counts stay those of the credentials: a plan is not a finding about them.
    const withoutPlan = JSON.parse((await runCli(['--report', EXAMPLE, '--now', NOW, '--json'])).stdout);
    expect(doc.counts).toEqual(withoutPlan.counts);
    expect(run.stderr).toContain(
      'enforcement plan (access-key-deactivation-planned findings; nothing is changed): 3 access keys would get a final notice now, 3 of them already past the deactivation age',
    );
  });

  it("uses the report's account's own policy from enforcement.accounts", async () => {
    // Per-account policies need the accounts scanned: a list holding the example's account.
    const file = config(
      { mode: 'dry-run', ...AGES, accounts: { '111122223333': { mode: 'off' } } },
      { accounts: { source: 'list', ids: ['111122223333', '444455556666'] } },
    );
    const run = await runCli(['--report', EXAMPLE, '--config', file, '--plan', '--now', NOW, '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.findings.some((f: { rule: string }) => f.rule.startsWith('access-key-deactivation'))).toBe(
      false,
    );
    expect(run.stderr).toContain(
      '--plan: enforcement is off for this account (enforcement.accounts): nothing is planned',
    );
  });
});
