/** Plain-text rendering of a scan for the terminal: findings grouped by severity. Pure. */
import type { Finding, ScanWarning, Severity } from './types';

export interface TableInput {
  readonly accountId: string;
  readonly evaluatedAt: string;
  readonly reportGeneratedAt: string | null;
  readonly usersScanned: number;
  readonly findings: readonly Finding[];
  readonly counts: Record<Severity, number>;
  readonly exempted: number;
  readonly warnings: readonly ScanWarning[];
}

const HEADINGS = ['USER', 'RULE', 'CREDENTIAL', 'DAYS', 'THRESHOLD', 'LAST USED', 'OWNER'] as const;

function lastUsed(f: Finding): string {
  if (f.lastUsed === undefined) return '';
  if (f.lastUsed === null) return 'never';
  const service = f.lastUsed.service ? ` ${f.lastUsed.service}` : '';
  return `${f.lastUsed.date.slice(0, 10)}${service}`;
}

function row(f: Finding): string[] {
  return [
    f.user,
    f.rule,
    f.accessKeyId ?? f.credential,
    f.days === undefined ? '' : String(f.days),
    f.thresholdDays === undefined ? '' : String(f.thresholdDays),
    lastUsed(f),
    f.owner ?? '',
  ];
}

function grid(rows: string[][]): string[] {
  const all = [HEADINGS as unknown as string[], ...rows];
  const widths = HEADINGS.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all.map((r) =>
    `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd(),
  );
}

export function renderTable(scan: TableInput): string {
  const lines: string[] = [];
  const report = scan.reportGeneratedAt ? `, report generated ${scan.reportGeneratedAt}` : '';
  lines.push(
    `credwatch: account ${scan.accountId}, ${scan.usersScanned} users, evaluated at ${scan.evaluatedAt}${report}`,
  );
  const groups: [string, Finding[]][] = [
    ['CRITICAL', scan.findings.filter((f) => !f.exemption && f.severity === 'critical')],
    ['WARNING', scan.findings.filter((f) => !f.exemption && f.severity === 'warning')],
    ['INFO', scan.findings.filter((f) => !f.exemption && f.severity === 'info')],
    ['EXEMPTED (shown, not counted)', scan.findings.filter((f) => f.exemption)],
  ];
  for (const [title, findings] of groups) {
    if (findings.length === 0) continue;
    lines.push('', `${title} (${findings.length})`, ...grid(findings.map(row)));
    for (const f of findings) {
      if (f.exemption) lines.push(`  ${f.id}: exempt until ${f.exemption.until} (${f.exemption.reason})`);
    }
  }
  if (scan.findings.length === 0) lines.push('', 'No findings.');
  if (scan.warnings.length > 0) {
    lines.push('', `WARNINGS (${scan.warnings.length})`, ...scan.warnings.map((w) => `  - ${w.message}`));
  }
  const c = scan.counts;
  lines.push(
    '',
    `${c.critical} critical, ${c.warning} warning, ${c.info} info, ${scan.exempted} exempted, ${scan.warnings.length} warnings`,
  );
  return `${lines.join('\n')}\n`;
}
