import {
  ageBands,
  agedCredentials,
  escapeHtml,
  humanDuration,
  keyAgeThresholds,
  renderHtml,
} from '../../../lambda/formats/html';
import { EXAMPLE, fullFinding, hostileReport, RENDER, resultOf, scanCsv, scanFile } from './support';

describe('HTML report (as text)', () => {
  it('escapes every character that could open markup or leave an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('never writes a hostile user name unescaped, and has no script, no external resource', async () => {
    const names = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "'><svg onload=alert(3)>"];
    const html = renderHtml(await scanCsv(hostileReport(names)), RENDER);
    for (const n of names) expect(html).not.toContain(n);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).not.toMatch(/<script|<img|<link|<iframe|\bsrc=["']?https?:|url\(/i);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
  });

  it('says how old the credential report was, or that a file does not say', async () => {
    const file = renderHtml(await scanFile(EXAMPLE), RENDER);
    expect(file).toContain('unknown (a credential report file does not say when IAM generated it)');
    expect(file).toContain('21 h 30 min after the evaluation');
    const live = renderHtml(await scanFile(EXAMPLE, new Date('2026-11-23T09:45:00Z')), RENDER);
    expect(live).toContain('2026-11-23T09:45:00Z (2 h 15 min before the evaluation)');
  });

  it('renders a result without findings', () => {
    const html = renderHtml(resultOf([]), RENDER);
    expect(html).toContain('No findings.');
    expect(html.match(/Nothing to chart: no finding\./g)).toHaveLength(4);
  });
});

describe('HTML chart data', () => {
  it('bands key ages around the thresholds, with the open band last', () => {
    const bands = ageBands([0, 29, 30, 79, 80, 89, 90, 100, 400, 2051], { warning: 80, critical: 90 });
    expect(bands.map((b) => [b.label, b.count])).toEqual([
      ['0–29', 2],
      ['30–59', 1],
      ['60–79', 1],
      ['80–89', 2],
      ['90–179', 2],
      ['180–364', 0],
      ['365–729', 1],
      ['730+', 1],
    ]);
    expect(ageBands([45], { warning: 45, critical: null }).map((b) => b.from)).toEqual([
      0, 30, 45, 60, 180, 365, 730,
    ]);
  });

  it('draws the thresholds the findings reached, else the defaults', async () => {
    expect(keyAgeThresholds(await scanFile(EXAMPLE))).toEqual({ warning: 80, critical: 90 });
    const custom = resultOf([
      fullFinding({ id: 'a', thresholdDays: 60 }),
      fullFinding({ id: 'b', thresholdDays: 60 }),
      fullFinding({ id: 'c', thresholdDays: 365 }),
    ]);
    expect(keyAgeThresholds(custom)).toEqual({ warning: 80, critical: 60 });
  });

  it('counts each key once, whatever the number of its findings', async () => {
    const aged = agedCredentials(await scanFile(EXAMPLE));
    // svc-legacy-etl's key has two findings (age and unused): one key.
    expect(aged.filter((c) => c.user === 'svc-legacy-etl')).toEqual([
      {
        accountId: '111122223333',
        user: 'svc-legacy-etl',
        credential: 'key-2025-01-10T12:00:30Z',
        ageDays: 681,
        kind: 'key',
      },
    ]);
    expect(aged.map((c) => c.user).sort()).toEqual([
      '<root_account>',
      'alice',
      'bob',
      'carol',
      'ci-deploy',
      'svc-legacy-etl',
    ]);
  });

  it('writes durations a person reads', () => {
    expect(
      [40_000, 5 * 60_000, 135 * 60_000, 2 * 3_600_000, 50 * 3_600_000, 72 * 3_600_000].map(humanDuration),
    ).toEqual(['40 s', '5 min', '2 h 15 min', '2 h', '2 days 2 h', '3 days']);
  });
});
