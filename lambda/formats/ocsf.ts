/**
 * OCSF 1.8.0 Detection Finding events (class_uid 2004, category Findings), one per finding, as a JSON
 * array: for a SIEM or a security data lake that reads OCSF.
 *
 * Written against the schema at https://github.com/ocsf/ocsf-schema tag 1.8.0:
 * events/findings/detection_finding.json (extends finding.json, extends base_event.json, which
 * includes the cloud profile), objects/finding_info.json, metadata.json, product.json,
 * resource_details.json, cloud.json, account.json, analytic.json, dictionary.json. What each field
 * carries is tabled in docs/formats.md. The Detection Finding class has no `compliance` attribute
 * (that belongs to the Compliance Finding class, 2003), so the CIS and Security Hub references go in
 * `unmapped.compliance`, the base event's place for what the class does not define.
 */

import { CIS_VERSION } from '../core/compliance';
import type { Finding, Severity } from '../core/types';
import type { ScanResult } from '../scan';
import { complianceOf, type RenderOptions, ruleText } from './common';
import { joinChunks, jsonDocumentChunks, LazyJsonArray } from './json-chunks';

export const OCSF_VERSION = '1.8.0';

/** `severity_id` enum of base_event (dictionary.json): 1 Informational, 3 Medium, 5 Critical. */
const SEVERITY: Record<Severity, { id: number; name: string }> = {
  info: { id: 1, name: 'Informational' },
  warning: { id: 3, name: 'Medium' },
  critical: { id: 5, name: 'Critical' },
};

/** The OCSF object of one event; only the attributes credwatch fills. */
export interface OcsfDetectionFinding {
  readonly activity_id: 1;
  readonly activity_name: 'Create';
  readonly category_uid: 2;
  readonly category_name: 'Findings';
  readonly class_uid: 2004;
  readonly class_name: 'Detection Finding';
  readonly type_uid: 200401;
  readonly type_name: 'Detection Finding: Create';
  readonly severity_id: number;
  readonly severity: string;
  readonly status_id: 1 | 3;
  readonly status: 'New' | 'Suppressed';
  readonly time: number;
  readonly timezone_offset: 0;
  readonly message: string;
  readonly is_alert: boolean;
  readonly metadata: {
    readonly version: string;
    readonly product: { readonly name: string; readonly vendor_name: string; readonly version: string };
    readonly profiles: readonly string[];
    readonly processed_time: number;
    readonly uid: string;
  };
  readonly finding_info: {
    readonly uid: string;
    readonly title: string;
    readonly desc: string;
    readonly created_time: number;
    readonly analytic: {
      readonly uid: string;
      readonly name: string;
      readonly type_id: 1;
      readonly type: 'Rule';
    };
    readonly types: readonly string[];
  };
  readonly resources: readonly {
    readonly uid: string;
    readonly name: string;
    readonly type: string;
    readonly owner?: { readonly uid?: string; readonly name?: string; readonly email_addr?: string };
    readonly data: Record<string, unknown>;
  }[];
  readonly cloud: {
    readonly provider: 'AWS';
    readonly account: { readonly uid: string; readonly type_id: 10; readonly type: 'AWS Account' };
  };
  readonly unmapped: Record<string, unknown>;
}

function toEvent(f: Finding, result: ScanResult, options: RenderOptions): OcsfDetectionFinding {
  const evaluated = Date.parse(result.evaluatedAt);
  const severity = SEVERITY[f.severity];
  const exempted = f.exemption !== undefined;
  const compliance = complianceOf(f.rule);
  const data: Record<string, unknown> = { credential: f.credential };
  if (f.accessKeyId !== undefined) data.access_key_id = f.accessKeyId;
  if (f.days !== undefined) data.days = f.days;
  if (f.thresholdDays !== undefined) data.threshold_days = f.thresholdDays;
  if (f.lastUsed !== undefined) data.last_used = f.lastUsed;
  if (f.unconfirmed) data.unconfirmed = true;
  // The OCSF user object needs a uid or a name (its at_least_one constraint).
  const owner = f.owner
    ? f.owner.includes('@')
      ? { name: f.owner, email_addr: f.owner }
      : { uid: f.owner }
    : undefined;
  const unmapped: Record<string, unknown> = {
    compliance: {
      cis_aws_foundations_benchmark: { version: CIS_VERSION, controls: compliance.cis },
      aws_security_hub: { controls: compliance.fsbp },
    },
  };
  if (f.exemption) unmapped.exemption = f.exemption;
  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    severity_id: severity.id,
    severity: severity.name,
    // An exempted finding is shown but does not count: Suppressed ("reviewed ... now suppressed").
    status_id: exempted ? 3 : 1,
    status: exempted ? 'Suppressed' : 'New',
    time: evaluated,
    timezone_offset: 0,
    message: f.summary,
    is_alert: !exempted && f.severity !== 'info',
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'credwatch', vendor_name: 'credwatch', version: options.toolVersion },
      profiles: ['cloud'],
      processed_time: options.now.getTime(),
      uid: f.id,
    },
    finding_info: {
      uid: f.id,
      title: ruleText(f.rule).title,
      desc: f.summary,
      created_time: evaluated,
      analytic: { uid: f.rule, name: f.rule, type_id: 1, type: 'Rule' },
      types: [
        ...compliance.cis.map((n) => `CIS AWS Foundations Benchmark ${CIS_VERSION}/${n}`),
        ...compliance.fsbp.map((id) => `AWS Security Hub/${id}`),
      ],
    },
    resources: [
      {
        uid: f.arn,
        name: f.user,
        // Security Hub's resource type names.
        type: f.arn.endsWith(':root') ? 'AwsAccount' : 'AwsIamUser',
        ...(owner ? { owner } : {}),
        data,
      },
    ],
    cloud: { provider: 'AWS', account: { uid: f.accountId, type_id: 10, type: 'AWS Account' } },
    unmapped,
  };
}

export function ocsfEvents(result: ScanResult, options: RenderOptions): OcsfDetectionFinding[] {
  return result.findings.map((f) => toEvent(f, result, options));
}

/**
 * {@link renderOcsf} in pieces, each event made as it is written: for a file of 50,000 findings
 * (bin/cli/output.ts writes the pieces as they come).
 */
export function* ocsfChunks(result: ScanResult, options: RenderOptions): Generator<string> {
  function* events() {
    for (const f of result.findings) yield toEvent(f, result, options);
  }
  yield* jsonDocumentChunks(new LazyJsonArray(events()), 1);
}

/** A JSON array of Detection Finding events, in the order of `result.findings`: `JSON.stringify(ocsfEvents(...), null, 2)` and a newline. */
export function renderOcsf(result: ScanResult, options: RenderOptions): string {
  return joinChunks(ocsfChunks(result, options));
}
