import '@microsoft/jest-sarif';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { principalUri, renderSarif, sarifLog } from '../../../lambda/formats/sarif';
import {
  EXAMPLE,
  fixtureReports,
  fullFinding,
  hostileReport,
  RENDER,
  resultOf,
  scanCsv,
  scanFile,
} from './support';

declare global {
  namespace jest {
    interface Matchers<R> {
      /** @microsoft/jest-sarif: validates against the official SARIF 2.1.0 (rtm.5) JSON schema. */
      toBeValidSarifLog(): R;
    }
  }
}

/**
 * What GitHub code scanning requires beyond the schema ("SARIF support for code scanning",
 * github/docs content/code-security/reference/code-scanning/sarif-files/sarif-support.md): of the
 * log `$schema`, `version` 2.1.0, `runs`; of the run `tool.driver` (`name`, `rules`) and `results`;
 * of a rule `id`, `shortDescription.text`, `fullDescription.text`, `help.text`; of a result
 * `message.text`, `locations[]` (1 to 10) with `physicalLocation.artifactLocation.uri` and a region
 * (`startLine`, `startColumn`, `endLine`, `endColumn`), and `partialFingerprints` (GitHub reads
 * `primaryLocationLineHash`). Required strings must not be empty.
 */
function githubProblems(log: Log): string[] {
  const problems: string[] = [];
  const text = (v: unknown, path: string) => {
    if (typeof v !== 'string' || v === '') problems.push(`${path}: required, non-empty`);
  };
  text(log.$schema, '$schema');
  if (log.version !== '2.1.0') problems.push('version: must be 2.1.0');
  log.runs.forEach((run, r) => {
    const driver = run.tool?.driver;
    text(driver?.name, `runs[${r}].tool.driver.name`);
    const rules = driver?.rules ?? [];
    if (!driver?.rules) problems.push(`runs[${r}].tool.driver.rules: required`);
    rules.forEach((rule: ReportingDescriptor, i) => {
      const at = `runs[${r}].tool.driver.rules[${i}]`;
      text(rule.id, `${at}.id`);
      text(rule.shortDescription?.text, `${at}.shortDescription.text`);
      text(rule.fullDescription?.text, `${at}.fullDescription.text`);
      text(rule.help?.text, `${at}.help.text`);
      if ((rule.shortDescription?.text.length ?? 0) > 1024)
        problems.push(`${at}.shortDescription.text: over 1024`);
      if ((rule.fullDescription?.text.length ?? 0) > 1024)
        problems.push(`${at}.fullDescription.text: over 1024`);
    });
    if (!run.results) problems.push(`runs[${r}].results: required`);
    (run.results ?? []).forEach((res: Result, i) => {
      const at = `runs[${r}].results[${i}]`;
      text(res.message.text, `${at}.message.text`);
      const locations = res.locations ?? [];
      if (locations.length < 1 || locations.length > 10) problems.push(`${at}.locations: 1 to 10 required`);
      const physical = locations[0]?.physicalLocation;
      text(physical?.artifactLocation?.uri, `${at}.locations[0].physicalLocation.artifactLocation.uri`);
      for (const k of ['startLine', 'startColumn', 'endLine', 'endColumn'] as const) {
        if (!Number.isInteger(physical?.region?.[k]))
          problems.push(`${at}.locations[0].physicalLocation.region.${k}: required`);
      }
      text(
        res.partialFingerprints?.primaryLocationLineHash,
        `${at}.partialFingerprints.primaryLocationLineHash`,
      );
      if (res.ruleIndex !== undefined && rules[res.ruleIndex]?.id !== res.ruleId)
        problems.push(`${at}.ruleIndex: not ${res.ruleId}`);
    });
  });
  return problems;
}

describe('SARIF', () => {
  it('the validators can fail: a log missing what is required is rejected by both', async () => {
    const log = sarifLog(await scanFile(EXAMPLE), RENDER);
    const broken = JSON.parse(JSON.stringify(log)) as Log;
    const result = broken.runs[0]!.results![0]!;
    delete (result as { message?: unknown }).message;
    result.level = 'fatal' as Result.level;
    expect(broken).not.toBeValidSarifLog();
    (result as { message: { text: string } }).message = { text: '' };
    delete result.partialFingerprints;
    expect(githubProblems(broken)).toEqual([
      'runs[0].results[0].message.text: required, non-empty',
      'runs[0].results[0].partialFingerprints.primaryLocationLineHash: required, non-empty',
    ]);
  });

  it('is a valid SARIF 2.1.0 log with what GitHub code scanning requires, for the example report', async () => {
    const result = await scanFile(EXAMPLE);
    const log = JSON.parse(renderSarif(result, RENDER)) as Log;
    expect(log).toBeValidSarifLog();
    expect(githubProblems(log)).toEqual([]);
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0]!;
    expect(run.tool.driver).toMatchObject({ name: 'credwatch', version: '0.1.0', semanticVersion: '0.1.0' });
    expect(run.automationDetails?.id).toBe('credwatch/111122223333/');
    expect(run.results).toHaveLength(result.findings.length);

    const byId = new Map(run.results!.map((r) => [r.properties?.findingId, r]));
    const alice = byId.get('111122223333/alice/access-key-age/key-2026-07-20T14:02:11Z')!;
    expect(alice).toMatchObject({
      ruleId: 'access-key-age',
      level: 'error',
      message: { text: 'Access key 1 of alice is 125 days old (critical at 90); rotate it.' },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: 'aws-iam/111122223333/user/alice' } },
          logicalLocations: [
            { fullyQualifiedName: 'arn:aws:iam::111122223333:user/alice', kind: 'resource' },
          ],
        },
      ],
      properties: { cis: ['1.14'], fsbp: ['IAM.3'], days: 125 },
    });
    expect(byId.get('111122223333/bob/access-key-age/key-2026-08-30T09:15:27Z')!.level).toBe('warning');
    expect(byId.get('111122223333/erin/multiple-active-keys/access-keys')!.level).toBe('note');
    const root = byId.get('111122223333/<root_account>/root-without-mfa/mfa')!;
    expect(root.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('aws-iam/111122223333/root');

    const rule = run.tool.driver.rules!.find((r) => r.id === 'access-key-age')!;
    expect(rule.properties?.tags).toEqual(
      expect.arrayContaining([
        'security',
        'external/cis-aws-foundations-v3.0.0/1.14',
        'external/aws-security-hub/IAM.3',
      ]),
    );
    // The most severe finding of the rule sets its security-severity; a rule without findings has none.
    expect(rule.properties?.['security-severity']).toBe('9.5');
    expect(
      run.tool.driver.rules!.find((r) => r.id === 'multiple-active-keys')!.properties?.['security-severity'],
    ).toBe('2.0');
    expect(
      run.tool.driver.rules!.find((r) => r.id === 'exemption-expired')!.properties?.['security-severity'],
    ).toBeUndefined();
  });

  it('keeps each alert identity: fingerprints are stable across renders and unique across findings', async () => {
    const result = await scanFile(EXAMPLE);
    const a = sarifLog(result, RENDER).runs[0]!.results!;
    const b = sarifLog(result, { now: new Date('2027-01-01T00:00:00Z'), toolVersion: '0.2.0' }).runs[0]!
      .results!;
    const prints = a.map((r) => r.partialFingerprints!.primaryLocationLineHash);
    expect(b.map((r) => r.partialFingerprints!.primaryLocationLineHash)).toEqual(prints);
    expect(new Set(prints).size).toBe(a.length);
    for (const p of prints) expect(p).toMatch(/^[0-9a-f]{16}:1$/);
  });

  it('records an exemption as an external suppression', () => {
    const f = fullFinding({ exemption: { until: '2026-12-31', reason: 'vendor pipeline' } });
    const log = sarifLog(resultOf([f]), RENDER);
    expect(log).toBeValidSarifLog();
    expect(log.runs[0]!.results![0]!.suppressions).toEqual([
      {
        kind: 'external',
        status: 'accepted',
        justification: 'credwatch:exempt until 2026-12-31: vendor pipeline',
      },
    ]);
  });

  it('encodes hostile user names in the pseudo-path and keeps them intact as data', async () => {
    const names = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', 'a/../../b'];
    const result = await scanCsv(hostileReport(names));
    const log = sarifLog(result, RENDER);
    expect(log).toBeValidSarifLog();
    expect(githubProblems(log)).toEqual([]);
    for (const f of result.findings) {
      const uri = principalUri(f);
      expect(uri).toMatch(/^aws-iam\/123456789012\/user\/[A-Za-z0-9%._~!*'()-]+$/);
      expect(decodeURIComponent(uri.split('/').pop()!)).toBe(f.user);
    }
  });

  it('is valid with no finding at all', () => {
    const log = sarifLog(resultOf([]), RENDER);
    expect(log).toBeValidSarifLog();
    expect(githubProblems(log)).toEqual([]);
    expect(log.runs[0]!.results).toEqual([]);
  });

  it.each(fixtureReports().map((p) => [p.split('/').pop()!, p]))(
    'renders the real report %s as a valid log',
    async (_n, path) => {
      const result = await scanFile(path);
      const log = JSON.parse(renderSarif(result, RENDER)) as Log;
      expect(log).toBeValidSarifLog();
      expect(githubProblems(log)).toEqual([]);
      expect(log.runs[0]!.results!.map((r) => r.properties?.findingId)).toEqual(
        result.findings.map((f) => f.id),
      );
    },
  );
});
