/**
 * `--format slack`: the messages the scheduled scanner would post for a report, printed as Block
 * Kit JSON and never sent; checked with the same Block Kit rules the Slack receiver enforces.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAccount, renderCredentialReport } from '../support/account-generator';
import { checkWebhookBody } from '../support/block-kit';
import { runCli } from '../support/run-cli';

const EXAMPLE = 'examples/credential-report.csv';
const NOW = '2026-12-01T09:00:00Z';

interface Message {
  readonly text: string;
  readonly blocks: readonly { type: string; text?: { text: string } }[];
}

const messagesOf = (stdout: string): Message[] => JSON.parse(stdout) as Message[];
const header = (m: Message) => m.blocks[0]?.text?.text ?? '';

describe('credwatch --format slack (the Slack dry run)', () => {
  it('with --baseline: one summary message a first scheduled run would post', async () => {
    const r = await runCli(['--report', EXAMPLE, '--now', NOW, '--format', 'slack', '--baseline']);
    expect(r.code).toBe(0);
    const messages = messagesOf(r.stdout);
    expect(messages).toHaveLength(1);
    const json = await runCli(['--report', EXAMPLE, '--now', NOW, '--json']);
    const paging = (JSON.parse(json.stdout).findings as { severity: string }[]).filter(
      (f) => f.severity !== 'info',
    ).length;
    expect(header(messages[0]!)).toBe(`credwatch: ${paging} findings on first scan — 111122223333`);
    expect(checkWebhookBody(JSON.stringify(messages[0])).ok).toBe(true);
  });

  it('without --baseline: every warning and critical finding, each once, in digests Slack accepts', async () => {
    const r = await runCli(['--report', EXAMPLE, '--now', NOW, '--format', 'slack']);
    expect(r.code).toBe(0);
    const messages = messagesOf(r.stdout);
    const json = await runCli(['--report', EXAMPLE, '--now', NOW, '--json']);
    const findings = (JSON.parse(json.stdout).findings as { severity: string; summary: string }[]).filter(
      (f) => f.severity !== 'info',
    );
    const all = messages.map((m) => JSON.stringify(m)).join('\n');
    for (const f of findings) {
      const escaped = JSON.stringify(
        f.summary.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
      );
      expect(all.split(escaped.slice(1, -1)).length - 1).toBe(1);
    }
    for (const m of messages) expect(checkWebhookBody(JSON.stringify(m)).ok).toBe(true);
  });

  it('holds the message cap: 2,000 users in at most --max-messages messages, the rest in an overflow summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'credwatch-preview-'));
    const file = join(dir, 'report.csv');
    writeFileSync(
      file,
      renderCredentialReport(generateAccount({ users: 2000, seed: 'preview', now: new Date(NOW) })),
    );
    const r = await runCli(['--report', file, '--now', NOW, '--format', 'slack', '--max-messages', '4']);
    expect(r.code).toBe(0);
    const messages = messagesOf(r.stdout);
    expect(messages).toHaveLength(4);
    expect(header(messages[3]!)).toMatch(/^credwatch: \d+ more changes — 123456789012$/);
    for (const m of messages) expect(checkWebhookBody(JSON.stringify(m)).ok).toBe(true);
  });

  it('refuses --baseline or --max-messages without --format slack, and a cap out of bounds', async () => {
    const baseline = await runCli(['--report', EXAMPLE, '--baseline']);
    expect(baseline.code).toBe(2);
    expect(baseline.stderr).toContain(
      '--baseline shapes the Slack preview; it needs --format slack, not table',
    );
    const cap = await runCli(['--report', EXAMPLE, '--format', 'slack', '--max-messages', '1']);
    expect(cap.code).toBe(2);
    expect(cap.stderr).toContain('--max-messages: expected whole messages from 2 to 1000, got "1"');
  });
});
