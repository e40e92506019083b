/**
 * A self-contained HTML report: one file, inline CSS, inline SVG charts drawn here, no script, no
 * font or image to fetch (a Content-Security-Policy of `default-src 'none'` makes sure of it). Every
 * string that comes from IAM (user names, ARNs, tag values, summaries that quote them) is escaped.
 *
 * Contents (docs/formats.md): a header (account, evaluated at, credential report age, counts), four
 * charts (key-age distribution with the warning and critical thresholds, findings per rule, findings
 * per account, the 10 oldest credentials), the findings table and the scan's warnings.
 */

import { CIS_VERSION } from '../core/compliance';
import { DEFAULT_THRESHOLDS } from '../core/policy';
import type { Finding, Severity } from '../core/types';
import type { ScanResult } from '../scan';
import { complianceOf, isoSeconds, keyAgeDays, type RenderOptions, ruleText, SEVERITY_ORDER } from './common';
import { joinChunks } from './json-chunks';

/** Escapes text for HTML element content and quoted attribute values (SVG inline in HTML too). */
export function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const esc = escapeHtml;

const COLOR: Record<Severity | 'neutral', string> = {
  critical: '#c62828',
  warning: '#e08600',
  info: '#1565c0',
  neutral: '#78909c',
};

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Cuts a label to `max` characters (before escaping, so no entity is split). */
function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `2 h 5 min`, `3 days 4 h`, `40 s`. */
export function humanDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const days = Math.floor(h / 24);
  return h % 24 ? `${days} days ${h % 24} h` : `${days} days`;
}

// ---------------------------------------------------------------------------------------------- data

/** One access key (or password) that some finding names, with its age at the evaluation. */
export interface AgedCredential {
  readonly accountId: string;
  readonly user: string;
  readonly credential: string;
  readonly ageDays: number;
  /** A key (from its creation time) or a password (a `password-age` finding's days). */
  readonly kind: 'key' | 'password';
}

/**
 * The credentials with a known age among the findings, each once: access keys (their age from the
 * creation time in the credential name) and passwords with a `password-age` finding. A key or a
 * password without any finding is not in a ScanResult, so it is not here either.
 */
export function agedCredentials(result: ScanResult): AgedCredential[] {
  const at = new Date(result.evaluatedAt);
  const byId = new Map<string, AgedCredential>();
  for (const f of result.findings) {
    const id = `${f.accountId}/${f.user}/${f.credential}`;
    if (byId.has(id)) continue;
    const age = keyAgeDays(f, at);
    if (age !== null) {
      byId.set(id, {
        accountId: f.accountId,
        user: f.user,
        credential: f.credential,
        ageDays: age,
        kind: 'key',
      });
    } else if (f.rule === 'password-age' && f.days !== undefined) {
      byId.set(id, {
        accountId: f.accountId,
        user: f.user,
        credential: f.credential,
        ageDays: f.days,
        kind: 'password',
      });
    }
  }
  return [...byId.values()];
}

/** The most frequent value, the smallest of equally frequent ones; undefined for none. */
function mode(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== undefined && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/**
 * The key-age thresholds to draw: those the `access-key-age` findings reached (the most common, when
 * tags gave users their own), else the defaults.
 */
export function keyAgeThresholds(result: ScanResult): { warning: number | null; critical: number | null } {
  const reached = (s: Severity) =>
    mode(
      result.findings
        .filter((f) => f.rule === 'access-key-age' && f.severity === s && f.thresholdDays !== undefined)
        .map((f) => f.thresholdDays!),
    );
  return {
    warning: reached('warning') ?? DEFAULT_THRESHOLDS.accessKeyAge.warningDays,
    critical: reached('critical') ?? DEFAULT_THRESHOLDS.accessKeyAge.criticalDays,
  };
}

export interface AgeBand {
  /** Inclusive lower bound, in days. */
  readonly from: number;
  /** Exclusive upper bound; null for the last, open band. */
  readonly to: number | null;
  readonly label: string;
  readonly count: number;
}

/** Age bands: 0, 30, 60, the thresholds, 180, 365, 730 days and over, with the keys in each. */
export function ageBands(
  ages: readonly number[],
  thresholds: { warning: number | null; critical: number | null },
): AgeBand[] {
  const edges = [
    ...new Set([0, 30, 60, 180, 365, 730, thresholds.warning, thresholds.critical].filter((e) => e !== null)),
  ].sort((a, b) => a - b);
  return edges.map((from, i) => {
    const to = edges[i + 1] ?? null;
    return {
      from,
      to,
      label: to === null ? `${from}+` : `${from}–${to - 1}`,
      count: ages.filter((a) => a >= from && (to === null || a < to)).length,
    };
  });
}

// -------------------------------------------------------------------------------------------- charts

interface Bar {
  readonly label: string;
  readonly value: number;
  readonly color: string;
  /** The tooltip (SVG <title>). */
  readonly tip: string;
}

const FONT = 12;

/** Horizontal bars, one row each: label on the left, the value after the bar. */
function horizontalBars(id: string, title: string, bars: readonly Bar[], unit: string): string {
  const width = 560;
  const labelWidth = 215;
  const valueWidth = 70;
  const row = 24;
  const top = 8;
  const height = top * 2 + bars.length * row;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const scale = (width - labelWidth - valueWidth - 10) / max;
  const rows = bars.map((b, i) => {
    const y = top + i * row;
    const w = Math.max(b.value > 0 ? 2 : 0, Math.round(b.value * scale));
    return [
      `<text x="${labelWidth - 8}" y="${y + row / 2 + FONT / 3}" text-anchor="end" class="label">${esc(clip(b.label, 29))}</text>`,
      `<rect class="bar" data-value="${b.value}" x="${labelWidth}" y="${y + 4}" width="${w}" height="${row - 8}" rx="2" fill="${b.color}"><title>${esc(b.tip)}</title></rect>`,
      `<text x="${labelWidth + w + 6}" y="${y + row / 2 + FONT / 3}" class="value">${b.value}${esc(unit)}</text>`,
    ].join('');
  });
  return svg(id, title, width, height, rows.join('\n'));
}

function svg(id: string, title: string, width: number, height: number, body: string): string {
  return [
    `<svg id="${id}" class="chart" role="img" aria-labelledby="${id}-title" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="${id}-title">${esc(title)}</title>`,
    body,
    '</svg>',
  ].join('\n');
}

function keyAgeHistogram(
  bands: readonly AgeBand[],
  thresholds: { warning: number | null; critical: number | null },
): string {
  const width = 560;
  const height = 250;
  const left = 40;
  const right = 10;
  const top = 28;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const slot = plotW / bands.length;
  const max = Math.max(1, ...bands.map((b) => b.count));
  const colorOf = (b: AgeBand) =>
    thresholds.critical !== null && b.from >= thresholds.critical
      ? COLOR.critical
      : thresholds.warning !== null && b.from >= thresholds.warning
        ? COLOR.warning
        : COLOR.neutral;
  const parts: string[] = [];
  // y axis: 0 and max, with a light grid line at each whole step when the counts are small.
  const step = Math.max(1, Math.ceil(max / 5));
  for (let v = 0; v <= max; v += step) {
    const y = top + plotH - (v / max) * plotH;
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" class="grid"/>`,
      `<text x="${left - 6}" y="${y + FONT / 3}" text-anchor="end" class="axis">${v}</text>`,
    );
  }
  bands.forEach((b, i) => {
    const h = (b.count / max) * plotH;
    const x = left + i * slot + 4;
    const y = top + plotH - h;
    parts.push(
      `<rect class="bar" data-value="${b.count}" data-from="${b.from}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot - 8).toFixed(1)}" height="${h.toFixed(1)}" rx="2" fill="${colorOf(b)}"><title>${b.count} key${b.count === 1 ? '' : 's'} ${esc(b.label)} days old</title></rect>`,
      `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" class="axis">${esc(b.label)}</text>`,
    );
    if (b.count > 0) {
      parts.push(
        `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value">${b.count}</text>`,
      );
    }
  });
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="axis">key age, days</text>`,
  );
  for (const [name, days] of [
    ['warning', thresholds.warning],
    ['critical', thresholds.critical],
  ] as const) {
    if (days === null) continue;
    const i = bands.findIndex((b) => b.from === days);
    if (i < 0) continue;
    const x = (left + i * slot).toFixed(1);
    parts.push(
      `<line class="threshold threshold-${name}" data-days="${days}" x1="${x}" x2="${x}" y1="${top - 14}" y2="${top + plotH}" stroke="${COLOR[name]}"/>`,
      `<text x="${x}" y="${name === 'warning' ? top - 18 : top - 4}" text-anchor="${name === 'warning' ? 'end' : 'start'}" class="threshold-label" fill="${COLOR[name]}">${name} ${days} d</text>`,
    );
  }
  return svg('chart-key-age', 'Active access keys with findings, by age', width, height, parts.join('\n'));
}

function worstSeverity(findings: readonly Finding[]): Severity {
  return findings.reduce<Severity>((w, f) => (RANK[f.severity] > RANK[w] ? f.severity : w), 'info');
}

function groupBy<K>(findings: readonly Finding[], key: (f: Finding) => K): Map<K, Finding[]> {
  const groups = new Map<K, Finding[]>();
  for (const f of findings) {
    const k = key(f);
    const list = groups.get(k);
    if (list) list.push(f);
    else groups.set(k, [f]);
  }
  return groups;
}

function countBars(groups: Map<string, Finding[]>, describe: (k: string) => string): Bar[] {
  return [...groups.entries()]
    .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
    .map(([k, list]) => {
      const by = SEVERITY_ORDER.map((s) => [s, list.filter((f) => f.severity === s).length] as const)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ');
      return {
        label: k,
        value: list.length,
        color: COLOR[worstSeverity(list)],
        tip: `${describe(k)}: ${list.length} finding${list.length === 1 ? '' : 's'} (${by})`,
      };
    });
}

function figure(title: string, chart: string, caption: string, empty: boolean): string {
  return [
    '<figure>',
    `<h3>${esc(title)}</h3>`,
    empty ? '<p class="empty">Nothing to chart: no finding.</p>' : chart,
    `<figcaption>${caption}</figcaption>`,
    '</figure>',
  ].join('\n');
}

// ------------------------------------------------------------------------------------------ sections

function header(result: ScanResult, options: RenderOptions): string {
  const evaluated = Date.parse(result.evaluatedAt);
  const report = result.reportGeneratedAt
    ? `${esc(isoSeconds(result.reportGeneratedAt))} (${humanDuration(evaluated - Date.parse(result.reportGeneratedAt))} before the evaluation)`
    : 'unknown (a credential report file does not say when IAM generated it)';
  const rendered = options.now.getTime();
  const renderedNote =
    rendered >= evaluated
      ? `${humanDuration(rendered - evaluated)} after the evaluation`
      : `${humanDuration(evaluated - rendered)} before the evaluation instant`;
  const accounts = [...new Set([result.accountId, ...result.findings.map((f) => f.accountId)])];
  const card = (label: string, value: number, color: string) =>
    `<div class="card" style="border-color:${color}"><span class="count" style="color:${color}">${value}</span><span>${esc(label)}</span></div>`;
  return [
    '<header>',
    `<h1>credwatch report: account${accounts.length > 1 ? 's' : ''} ${accounts.map(esc).join(', ')}</h1>`,
    '<dl>',
    `<dt>Evaluated at</dt><dd><time datetime="${esc(result.evaluatedAt)}">${esc(isoSeconds(result.evaluatedAt))}</time></dd>`,
    `<dt>Credential report generated</dt><dd>${report}</dd>`,
    `<dt>This page rendered</dt><dd>${esc(isoSeconds(options.now.toISOString()))} (${renderedNote})</dd>`,
    `<dt>Principals judged</dt><dd>${result.usersScanned}</dd>`,
    '</dl>',
    '<div class="cards">',
    card('critical', result.counts.critical, COLOR.critical),
    card('warning', result.counts.warning, COLOR.warning),
    card('info', result.counts.info, COLOR.info),
    card('exempted (not counted)', result.exempted, COLOR.neutral),
    '</div>',
    '</header>',
  ].join('\n');
}

function charts(result: ScanResult): string {
  const aged = agedCredentials(result);
  const keys = aged.filter((c) => c.kind === 'key');
  const thresholds = keyAgeThresholds(result);
  const bands = ageBands(
    keys.map((k) => k.ageDays),
    thresholds,
  );
  const perRule = countBars(
    groupBy(result.findings, (f) => f.rule),
    (r) => ruleText(r).title,
  );
  const perAccount = countBars(
    groupBy(result.findings, (f) => f.accountId),
    (a) => `account ${a}`,
  );
  const oldest = [...aged]
    .sort(
      (a, b) =>
        b.ageDays - a.ageDays || a.user.localeCompare(b.user) || a.credential.localeCompare(b.credential),
    )
    .slice(0, 10)
    .map<Bar>((c) => ({
      // `alice · 2026-07-20`: the key's creation day (the tooltip has the whole credential).
      label: `${clip(c.user, 16)} · ${c.kind === 'key' ? c.credential.slice(4, 14) : 'password'}`,
      value: c.ageDays,
      color:
        thresholds.critical !== null && c.kind === 'key' && c.ageDays >= thresholds.critical
          ? COLOR.critical
          : thresholds.warning !== null && c.kind === 'key' && c.ageDays >= thresholds.warning
            ? COLOR.warning
            : COLOR.neutral,
      tip: `${c.user} (account ${c.accountId}), ${c.credential}: ${c.ageDays} days old`,
    }));
  const thresholdText = [
    thresholds.warning !== null ? `warning at ${thresholds.warning} days` : null,
    thresholds.critical !== null ? `critical at ${thresholds.critical} days` : null,
  ]
    .filter((t) => t !== null)
    .join(', ');
  return [
    '<section class="charts">',
    figure(
      'Key-age distribution',
      keyAgeHistogram(bands, thresholds),
      `Active access keys named by a finding (${keys.length}), by age at the evaluation; lines: ${thresholdText || 'no key-age threshold set'}. Keys without any finding are not in the scan result, so not counted here.`,
      keys.length === 0,
    ),
    figure(
      'Findings per rule',
      horizontalBars('chart-rules', 'Findings per rule', perRule, ''),
      'All findings, exempted ones included; the colour is the most severe finding of the rule.',
      perRule.length === 0,
    ),
    figure(
      'Findings per account',
      horizontalBars('chart-accounts', 'Findings per account', perAccount, ''),
      'All findings, exempted ones included; the colour is the most severe finding of the account.',
      perAccount.length === 0,
    ),
    figure(
      'The 10 oldest credentials',
      horizontalBars('chart-oldest', 'The 10 oldest credentials, age in days', oldest, ' d'),
      'Access keys by age since creation (and console passwords with a password-age finding), oldest first.',
      oldest.length === 0,
    ),
    '</section>',
  ].join('\n');
}

const cell = (s: string | undefined) => `<td>${s === undefined ? '' : esc(s)}</td>`;

/** One finding's row of the findings table. */
function findingRow(f: Finding): string {
  const c = complianceOf(f.rule);
  const lastUsed =
    f.lastUsed === null
      ? 'never'
      : f.lastUsed
        ? `${isoSeconds(f.lastUsed.date).slice(0, 10)}${f.lastUsed.service ? ` ${f.lastUsed.service}` : ''}`
        : undefined;
  return [
    `<tr class="sev-${f.severity}${f.exemption ? ' exempted' : ''}">`,
    `<td><span class="badge" style="background:${COLOR[f.severity]}">${f.severity}</span></td>`,
    cell(f.accountId),
    `<td class="user">${esc(f.user)}</td>`,
    cell(f.rule),
    cell(f.accessKeyId ?? f.credential),
    `<td class="num">${f.days ?? ''}</td>`,
    `<td class="num">${f.thresholdDays ?? ''}</td>`,
    cell(lastUsed),
    cell(f.owner),
    cell(f.exemption ? `until ${f.exemption.until}: ${f.exemption.reason}` : undefined),
    cell(c.cis.join(' ')),
    cell(c.fsbp.join(' ')),
    cell(f.summary),
    '</tr>',
  ].join('');
}

/** The findings table in pieces, a row at a time: the section, its rows, one a line. */
function* findingsTable(result: ScanResult): Generator<string> {
  if (result.findings.length === 0) {
    yield '<section><h2>Findings</h2><p class="empty">No findings.</p></section>';
    return;
  }
  yield `${[
    '<section>',
    `<h2>Findings (${result.findings.length})</h2>`,
    '<table id="findings">',
    `<thead><tr><th>Severity</th><th>Account</th><th>User</th><th>Rule</th><th>Credential</th><th>Days</th><th>Threshold</th><th>Last used</th><th>Owner</th><th>Exemption</th><th>CIS ${CIS_VERSION}</th><th>Security Hub</th><th>Summary</th></tr></thead>`,
    '<tbody>',
  ].join('\n')}\n`;
  for (const f of result.findings) yield `${findingRow(f)}\n`;
  yield ['</tbody>', '</table>', '</section>'].join('\n');
}

function warningsList(result: ScanResult): string {
  if (result.warnings.length === 0) return '';
  return [
    '<section>',
    `<h2>Warnings (${result.warnings.length})</h2>`,
    '<ul class="warnings">',
    ...result.warnings.map((w) => `<li><code>${esc(w.code)}</code> ${esc(w.message)}</li>`),
    '</ul>',
    '</section>',
  ].join('\n');
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1c2430; margin: 24px auto; max-width: 1240px; padding: 0 16px; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 18px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 0 0 8px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 16px; }
dt { color: #5a6675; }
dd { margin: 0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 2px solid; border-radius: 8px; padding: 8px 16px; background: #fff; min-width: 110px; display: flex; flex-direction: column; }
.card .count { font-size: 26px; font-weight: 700; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(580px, 1fr)); gap: 16px; margin-top: 20px; }
figure { margin: 0; background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 12px; }
figcaption { color: #5a6675; font-size: 12px; margin-top: 6px; }
svg.chart { max-width: 100%; height: auto; font-size: 12px; }
svg .label, svg .value, svg .axis { fill: #1c2430; font-size: 12px; }
svg .axis { fill: #5a6675; font-size: 11px; }
svg .grid { stroke: #e6eaef; stroke-width: 1; }
svg .threshold { stroke-width: 2; stroke-dasharray: 5 3; }
svg .threshold-label { font-size: 11px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
th, td { border-bottom: 1px solid #e6eaef; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.user { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; min-width: 10em; }
tr.exempted td { color: #7b8794; }
.badge { color: #fff; border-radius: 4px; padding: 1px 6px; font-size: 12px; font-weight: 600; }
.empty { color: #5a6675; font-style: italic; }
.warnings code { background: #f0f3f6; padding: 0 4px; border-radius: 3px; }
@media print { body { background: #fff; } figure { break-inside: avoid; } th { position: static; } }
`;

/**
 * The whole document in pieces (the findings table a row at a time): for a file of 50,000
 * findings (bin/cli/output.ts writes the pieces as they come). Joined, they are {@link renderHtml}.
 */
export function* htmlChunks(result: ScanResult, options: RenderOptions): Generator<string> {
  yield `${[
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="credwatch ${esc(options.toolVersion)}">`,
    `<title>credwatch report: ${esc(result.accountId)}, ${esc(isoSeconds(result.evaluatedAt))}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    header(result, options),
    charts(result),
  ].join('\n')}\n`;
  yield* findingsTable(result);
  yield `\n${[
    warningsList(result),
    `<footer><p class="empty">credwatch ${esc(options.toolVersion)}. Rules, thresholds and controls: docs/rules.md and docs/formats.md.</p></footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n')}`;
}

/** The whole document. */
export function renderHtml(result: ScanResult, options: RenderOptions): string {
  return joinChunks(htmlChunks(result, options));
}
