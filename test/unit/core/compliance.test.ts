import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIS_VERSION, COMPLIANCE, complianceOf } from '../../../lambda/core/compliance';
import { RULE_IDS } from '../../../lambda/core/types';

/**
 * The mapping, pinned. Each number was checked against its source (lambda/core/compliance.ts says
 * which); a change here is a change of what auditors are told, so it must be deliberate.
 */
const EXPECTED: Record<string, { cis: string[]; fsbp: string[] }> = {
  'access-key-age': { cis: ['1.14'], fsbp: ['IAM.3'] },
  'access-key-unused': { cis: ['1.12'], fsbp: ['IAM.8', 'IAM.22'] },
  'password-unused': { cis: ['1.12'], fsbp: ['IAM.8', 'IAM.22'] },
  'password-without-mfa': { cis: ['1.10'], fsbp: ['IAM.5'] },
  'password-age': { cis: [], fsbp: [] },
  'root-access-key': { cis: ['1.4'], fsbp: ['IAM.4'] },
  'root-without-mfa': { cis: ['1.5'], fsbp: ['IAM.9'] },
  'root-virtual-mfa': { cis: ['1.6'], fsbp: ['IAM.6'] },
  'root-used': { cis: ['1.7'], fsbp: [] },
  'root-credentials-removed': { cis: [], fsbp: [] },
  'multiple-active-keys': { cis: ['1.13'], fsbp: [] },
  'exemption-expired': { cis: [], fsbp: [] },
  'exemption-granted': { cis: [], fsbp: [] },
  'account-scan-failed': { cis: [], fsbp: [] },
  'access-key-final-notice': { cis: [], fsbp: [] },
  'access-key-deactivated': { cis: [], fsbp: [] },
  'access-key-deactivation-planned': { cis: [], fsbp: [] },
  'access-key-would-deactivate': { cis: [], fsbp: [] },
};

describe('compliance mapping', () => {
  it('maps each rule to the CIS v3.0.0 and Security Hub controls pinned here', () => {
    expect(CIS_VERSION).toBe('v3.0.0');
    expect(COMPLIANCE).toEqual(EXPECTED);
  });

  it('has an explicit entry for every rule id, so that no new rule is silently unmapped', () => {
    const missing = RULE_IDS.filter((r) => !Object.hasOwn(COMPLIANCE, r));
    expect(missing).toEqual([]);
  });

  it('answers empty lists for a rule it does not know, including Object.prototype names', () => {
    for (const rule of ['no-such-rule', '', 'constructor', '__proto__', 'toString']) {
      expect(complianceOf(rule)).toEqual({ cis: [], fsbp: [] });
    }
    expect(complianceOf('access-key-age')).toEqual({ cis: ['1.14'], fsbp: ['IAM.3'] });
  });

  it('uses only well-formed control ids', () => {
    for (const c of Object.values(COMPLIANCE)) {
      for (const n of c?.cis ?? []) expect(n).toMatch(/^1\.\d{1,2}$/);
      for (const id of c?.fsbp ?? []) expect(id).toMatch(/^IAM\.\d{1,2}$/);
    }
  });
});

describe('docs/rules.md', () => {
  /** The rules table: rows of `| \`rule\` | ... |`, with the compliance column found by its header. */
  function rulesTable(): { header: string[]; rows: string[][] } {
    const md = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'rules.md'), 'utf8');
    const lines = md.split('\n');
    const start = lines.findIndex((l) => l.startsWith('| rule id |'));
    if (start < 0) throw new Error('docs/rules.md: no table starting with "| rule id |"');
    const cells = (l: string) =>
      l
        .replace(/^\|/, '')
        .replace(/\|\s*$/, '')
        .split(' | ')
        .map((c) => c.trim());
    const rows: string[][] = [];
    for (const l of lines.slice(start + 2)) {
      if (!l.startsWith('| `')) break;
      rows.push(cells(l));
    }
    return { header: cells(lines[start]!), rows };
  }

  /** How the table writes a rule's controls: `CIS 1.12, IAM.8, IAM.22`, or `—` for none. */
  const cell = (rule: string) => {
    const c = complianceOf(rule);
    const all = [...c.cis.map((n) => `CIS ${n}`), ...c.fsbp];
    return all.length ? all.join(', ') : '—';
  };

  it('lists for every rule the controls complianceOf() gives', () => {
    const { header, rows } = rulesTable();
    const column = header.findIndex((h) => h.startsWith('compliance'));
    expect(column).toBeGreaterThan(0);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) {
      const rule = /^`([^`]+)`$/.exec(row[0]!)?.[1];
      expect({ rule, controls: row[column] }).toEqual({ rule, controls: cell(rule ?? '') });
    }
  });
});
