/**
 * The HTML report in a real headless Chromium (playwright-core, the Debian `chromium` package at
 * /usr/bin/chromium): it renders without console errors, asks for nothing over the network, draws
 * the expected bars, shows hostile user names as text, and leaves a screenshot to look at.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CIS_VERSION } from '../../../lambda/core/compliance';
import { ageBands, agedCredentials, keyAgeThresholds, renderHtml } from '../../../lambda/formats/html';
import type { ScanResult } from '../../../lambda/scan';
import { EXAMPLE, hostileReport, RENDER, scanCsv, scanFile } from './support';

const CHROMIUM = '/usr/bin/chromium';

let browser: Browser;
const shots = mkdtempSync(join(tmpdir(), 'credwatch-html-'));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian package "chromium")`,
    );
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

interface Loaded {
  readonly page: Page;
  readonly errors: string[];
  readonly requests: string[];
  readonly dialogs: string[];
}

/** Loads the HTML as the document of a page that refuses every request it makes. */
async function load(html: string, width = 1280): Promise<Loaded> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (r.url() !== 'about:blank') requests.push(r.url());
  });
  // Every request is recorded (the 'request' event above) and refused.
  await page.route('**', (route) => route.abort());
  await page.setContent(html, { waitUntil: 'load' });
  return { page, errors, requests, dialogs };
}

/** `data-value` of each bar of one chart, in document order. */
const bars = (page: Page, chart: string) =>
  page.$$eval(`#${chart} rect.bar`, (rects) => rects.map((r) => Number(r.getAttribute('data-value'))));

describe('HTML report in Chromium', () => {
  let example: ScanResult;
  beforeAll(async () => {
    example = await scanFile(EXAMPLE, new Date('2026-11-23T09:45:00Z'));
  });

  it('renders the example report: no console error, no request, the expected bars', async () => {
    const { page, errors, requests } = await load(renderHtml(example, RENDER));
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);

      // Key ages: one bar per band; the bars hold each distinct key with a finding once.
      const keys = agedCredentials(example).filter((c) => c.kind === 'key');
      const bands = ageBands(
        keys.map((k) => k.ageDays),
        keyAgeThresholds(example),
      );
      expect(await bars(page, 'chart-key-age')).toEqual(bands.map((b) => b.count));
      expect((await bars(page, 'chart-key-age')).reduce((a, b) => a + b, 0)).toBe(6);
      expect(
        await page.$$eval('#chart-key-age line.threshold', (ls) =>
          ls.map((l) => l.getAttribute('data-days')),
        ),
      ).toEqual(['80', '90']);

      // Per rule: one bar per rule with findings, most findings first.
      const perRule = new Map<string, number>();
      for (const f of example.findings) perRule.set(f.rule, (perRule.get(f.rule) ?? 0) + 1);
      expect((await bars(page, 'chart-rules')).sort()).toEqual([...perRule.values()].sort());
      expect(await page.$$eval('#chart-rules text.label', (t) => t.map((x) => x.textContent))).toEqual(
        [...perRule.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r]) => r),
      );

      expect(await bars(page, 'chart-accounts')).toEqual([example.findings.length]);

      // The 10 oldest: at most 10, oldest first, the oldest being ci-deploy's 2051-day key.
      const oldest = await bars(page, 'chart-oldest');
      expect(oldest).toHaveLength(Math.min(10, agedCredentials(example).length));
      expect(oldest).toEqual([...oldest].sort((a, b) => b - a));
      expect(oldest[0]).toBe(2051);

      // Header and table.
      await expect(page.textContent('h1')).resolves.toBe('credwatch report: account 111122223333');
      await expect(page.textContent('header')).resolves.toContain('2 h 15 min before the evaluation');
      expect(await page.$$eval('#findings tbody tr', (rows) => rows.length)).toBe(example.findings.length);
      expect(await page.$$eval('#findings thead th', (th) => th.map((h) => h.textContent))).toContain(
        `CIS ${CIS_VERSION}`,
      );

      const shot = join(shots, 'example.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      process.stdout.write(`HTML report screenshot: ${shot}\n`);
    } finally {
      await page.close();
    }
  });

  it('shows hostile user names as text: nothing runs, nothing is injected', async () => {
    const names = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "'><svg onload=alert(3)>"];
    const result = await scanCsv(hostileReport(names));
    const { page, errors, requests, dialogs } = await load(renderHtml(result, RENDER));
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(dialogs).toEqual([]);
      expect(await page.$$('script')).toHaveLength(0);
      expect(await page.$$('img')).toHaveLength(0);
      expect(await page.$$('body svg:not(.chart)')).toHaveLength(0);
      const shown = await page.$$eval('#findings td.user', (cells) => cells.map((c) => c.textContent));
      expect(new Set(shown)).toEqual(new Set(names));
      // The labels of the charts are text too.
      const labels = await page.$$eval('#chart-rules text, #chart-oldest text', (t) =>
        t.map((x) => x.textContent ?? ''),
      );
      expect(labels.some((l) => l.startsWith('<script>'))).toBe(true);
      await page.screenshot({ path: join(shots, 'hostile.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('would report a request or a console error (the checks can fail)', async () => {
    const html = renderHtml(example, RENDER).replace(
      '</body>',
      '<img src="https://example.invalid/x.png"></body>',
    );
    const { page, errors } = await load(html);
    try {
      // The page's own Content-Security-Policy refuses the image and says so on the console.
      expect(errors.join('\n')).toMatch(/Content Security Policy/);
    } finally {
      await page.close();
    }
    const open = renderHtml(example, RENDER)
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
      .replace('</body>', '<img src="https://example.invalid/x.png"></body>');
    const loaded = await load(open);
    try {
      expect(loaded.requests).toEqual(['https://example.invalid/x.png']);
    } finally {
      await loaded.page.close();
    }
  });
});
