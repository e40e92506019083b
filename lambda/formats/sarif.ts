/**
 * SARIF 2.1.0 for code-scanning pipelines: one run, credwatch as the tool, one result per finding.
 *
 * GitHub code scanning ("SARIF support for code scanning", github/docs
 * content/code-security/reference/code-scanning/sarif-files/sarif-support.md) requires of a result
 * `message.text`, `locations[]` with a `physicalLocation` (`artifactLocation.uri` and a region) and
 * `partialFingerprints`; of a rule `id`, `shortDescription.text`, `fullDescription.text` and
 * `help.text`. An IAM principal is no file, so the physical location is a stable pseudo-path,
 * `aws-iam/<account>/<principal>` (line 1), and the principal's ARN is the result's logical location.
 * `partialFingerprints.primaryLocationLineHash` (the one GitHub reads) is derived from the finding id,
 * so an alert keeps its identity from scan to scan.
 */
import { createHash } from 'node:crypto';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { CIS_VERSION } from '../core/compliance';
import type { Finding, Severity } from '../core/types';
import type { ScanResult } from '../scan';
import { complianceOf, type RenderOptions, rulesOf, ruleText } from './common';
import { joinChunks, jsonDocumentChunks, LazyJsonArray } from './json-chunks';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const LEVEL: Record<Severity, Result.level> = { critical: 'error', warning: 'warning', info: 'note' };

/** GitHub's security-severity scale: over 9.0 critical, 4.0-6.9 medium, 0.1-3.9 low. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', warning: '5.5', info: '2.0' };

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** The pseudo-path naming an IAM principal: `aws-iam/<account>/<user>` (`root` for the root user). */
export function principalUri(f: Finding): string {
  const principal = f.arn.endsWith(':root') ? 'root' : `user/${encodeURIComponent(f.user)}`;
  return `aws-iam/${encodeURIComponent(f.accountId)}/${principal}`;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

function ruleDescriptor(rule: string, worst: Severity | undefined): ReportingDescriptor {
  const text = ruleText(rule);
  const c = complianceOf(rule);
  const controls = [
    ...c.cis.map((n) => `CIS AWS Foundations Benchmark ${CIS_VERSION} ${n}`),
    ...c.fsbp.map((id) => `AWS Security Hub ${id}`),
  ];
  const helpText = `${text.description}${controls.length ? ` Controls: ${controls.join(', ')}.` : ''} Thresholds and tags: docs/rules.md of credwatch.`;
  return {
    id: rule,
    name: rule,
    shortDescription: { text: text.title },
    fullDescription: { text: text.description },
    help: { text: helpText },
    properties: {
      tags: [
        'security',
        'iam',
        ...c.cis.map((n) => `external/cis-aws-foundations-${CIS_VERSION}/${n}`),
        ...c.fsbp.map((id) => `external/aws-security-hub/${id}`),
      ],
      precision: 'very-high',
      // Per rule, GitHub's scale: the most severe of this run's findings of the rule.
      ...(worst ? { 'security-severity': SECURITY_SEVERITY[worst] } : {}),
    },
  };
}

function toResult(f: Finding, ruleIndex: number): Result {
  const findingHash = hash(f.id);
  const c = complianceOf(f.rule);
  const properties: Record<string, unknown> = {
    accountId: f.accountId,
    user: f.user,
    arn: f.arn,
    severity: f.severity,
    credential: f.credential,
    findingId: f.id,
    cis: c.cis,
    fsbp: c.fsbp,
  };
  if (f.accessKeyId !== undefined) properties.accessKeyId = f.accessKeyId;
  if (f.days !== undefined) properties.days = f.days;
  if (f.thresholdDays !== undefined) properties.thresholdDays = f.thresholdDays;
  if (f.lastUsed !== undefined) properties.lastUsed = f.lastUsed;
  if (f.owner !== undefined) properties.owner = f.owner;
  if (f.unconfirmed) properties.unconfirmed = true;
  return {
    ruleId: f.rule,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: f.summary },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: principalUri(f) },
          region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 },
        },
        logicalLocations: [{ name: f.user, fullyQualifiedName: f.arn, kind: 'resource' }],
      },
    ],
    partialFingerprints: {
      primaryLocationLineHash: `${findingHash.slice(0, 16)}:1`,
      'credwatchFindingId/v1': findingHash,
    },
    // An exempted finding (credwatch:exempt tag) is suppressed outside the code, in IAM.
    ...(f.exemption
      ? {
          suppressions: [
            {
              kind: 'external' as const,
              status: 'accepted' as const,
              justification: `credwatch:exempt until ${f.exemption.until}: ${f.exemption.reason}`,
            },
          ],
        }
      : {}),
    properties,
  };
}

export function sarifLog(result: ScanResult, options: RenderOptions): Log {
  const rules = rulesOf(result.findings);
  return sarifLogWith(
    result,
    options,
    rules,
    result.findings.map((f) => toResult(f, rules.indexOf(f.rule))),
  );
}

/** The log of {@link sarifLog} with `results` as given: the array, or one made as it is written. */
function sarifLogWith(
  result: ScanResult,
  options: RenderOptions,
  rules: readonly string[],
  results: Result[] | LazyJsonArray<Result>,
): Log {
  const worst = new Map<string, Severity>();
  for (const f of result.findings) {
    const w = worst.get(f.rule);
    if (!w || RANK[f.severity] > RANK[w]) worst.set(f.rule, f.severity);
  }
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'credwatch',
            version: options.toolVersion,
            ...(/^\d+\.\d+\.\d+(?:[-+].*)?$/.test(options.toolVersion)
              ? { semanticVersion: options.toolVersion }
              : {}),
            rules: rules.map((r) => ruleDescriptor(r, worst.get(r))),
          },
        },
        // One category per account: SARIF files of several accounts uploaded for one commit stay apart.
        automationDetails: { id: `credwatch/${result.accountId}/` },
        invocations: [{ executionSuccessful: true, endTimeUtc: result.evaluatedAt }],
        // A LazyJsonArray is written by jsonChunks as the array it stands for.
        results: results as Result[],
        properties: {
          accountId: result.accountId,
          evaluatedAt: result.evaluatedAt,
          reportGeneratedAt: result.reportGeneratedAt,
          usersScanned: result.usersScanned,
          renderedAt: options.now.toISOString(),
        },
      },
    ],
  };
}

/**
 * {@link renderSarif} in pieces, each result made as it is written: for a file of 50,000 findings
 * (bin/cli/output.ts writes the pieces as they come).
 */
export function* sarifChunks(result: ScanResult, options: RenderOptions): Generator<string> {
  const rules = rulesOf(result.findings);
  const index = new Map(rules.map((r, i) => [r, i]));
  function* results() {
    for (const f of result.findings) yield toResult(f, index.get(f.rule) ?? -1);
  }
  // Depth 4: the log, runs, the run and its results are written piece by piece; each result whole.
  yield* jsonDocumentChunks(sarifLogWith(result, options, rules, new LazyJsonArray(results())), 4);
}

/** The SARIF log as JSON: `JSON.stringify(sarifLog(...), null, 2)` and a newline. */
export function renderSarif(result: ScanResult, options: RenderOptions): string {
  return joinChunks(sarifChunks(result, options));
}
