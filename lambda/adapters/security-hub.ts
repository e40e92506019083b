/**
 * Exports announced changes to AWS Security Hub CSPM as findings of the scanner account's default
 * product (a custom integration: no partner subscription needed), with BatchImportFindings. One
 * credwatch finding is one Security Hub finding, kept under a stable `Id` and updated in place:
 * opened, escalated and reminded findings are ACTIVE and FAILED, resolved ones ARCHIVED and PASSED.
 *
 * Idempotent, as an outbox sink must be: importing the same change again updates the finding with
 * the same `Id` (one finding per Id), never adds one. Security Hub ignores an update whose
 * `UpdatedAt` is not later than the stored one, so every call is stamped later than the previous
 * one of this sink, and changes of the same finding in one call are collapsed to the last one.
 *
 * What a finding provider may set (Security Hub user guide, "BatchImportFindings for finding
 * providers"): `Workflow` is the customer's (BatchUpdateFindings) and is ignored on an update, so the
 * sink sets `Workflow.Status` NEW only as the initial value and says "resolved" with `RecordState`
 * ARCHIVED and `Compliance.Status` PASSED; severity and types go in `FindingProviderFields`, the
 * provider's own copy, so a severity a customer changed with BatchUpdateFindings is never
 * overwritten. Security Hub itself moves a RESOLVED or NOTIFIED workflow back to NEW when a finding
 * goes from ARCHIVED to ACTIVE (reopened) or from PASSED to FAILED.
 *
 * Accounts: with the default product, BatchImportFindings accepts only findings whose `AwsAccountId`
 * is the calling account (AWS answers AccessDeniedException for the whole call otherwise). Every
 * finding is therefore imported into the scanner's own account (`accountId`) and region; a finding
 * about another (scanned) account names that account in its title, its resources and the product
 * field `credwatch/ScannedAccountId`. See docs/operations.md, "Security Hub".
 *
 * The handler builds the client with `REQUEST_TIMEOUTS` (lambda/adapters/sdk.ts), as every client of
 * the scanner, so that a Security Hub call never hangs a run.
 */
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  type ImportFindingsError,
  type Resource,
  type SecurityHubClient,
  type SeverityLabel,
} from '@aws-sdk/client-securityhub';
import { CIS_VERSION, complianceOf } from '../core/compliance';
import { CredwatchError } from '../core/errors';
import { ruleLabel } from '../core/rules';
import type { Change } from '../core/state';
import type { Finding, RuleId, Severity } from '../core/types';
import type { EventSink } from '../ports';

/** Security Hub refused findings, or the call failed: the outbox keeps the changes for the next run. */
export class SecurityHubExportError extends CredwatchError {}

/** BatchImportFindings takes at most 100 findings a call. */
export const SECURITY_HUB_BATCH_SIZE = 100;
export const ASFF_SCHEMA_VERSION = '2018-10-08';
/** ASFF limits the sink keeps to (AwsSecurityFinding in the Security Hub API reference). */
const MAX_TITLE = 256;
const MAX_DESCRIPTION = 1024;
const MAX_RELATED_REQUIREMENTS = 32;

/** The finding types of every credwatch finding (ASFF types taxonomy). */
export const FINDING_TYPES = ['Software and Configuration Checks/AWS Security Best Practices'] as const;
/** Added when the rule maps to a CIS AWS Foundations Benchmark recommendation. */
const CIS_TYPE =
  'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark';

/** credwatch severity → ASFF severity label. */
export const SEVERITY_LABELS: Readonly<Record<Severity, SeverityLabel>> = {
  info: 'INFORMATIONAL',
  warning: 'MEDIUM',
  critical: 'CRITICAL',
};

export const CIS_BENCHMARK = `CIS AWS Foundations Benchmark ${CIS_VERSION}`;
/**
 * The prefix of a Security Hub control in `RelatedRequirements`: the controls of lambda/core/compliance.ts
 * belong to FSBP or only to Security Hub's CIS standards (IAM.9, IAM.22), so they are named as
 * controls, not as FSBP requirements.
 */
export const SECURITY_HUB_CONTROL = 'AWS Security Hub control';

/**
 * `Compliance.RelatedRequirements` of a rule (lambda/core/compliance.ts), e.g.
 * `CIS AWS Foundations Benchmark v3.0.0/1.14` and `AWS Security Hub control/IAM.3`.
 */
export function relatedRequirements(rule: RuleId): string[] {
  const { cis, fsbp } = complianceOf(rule);
  return [
    ...cis.map((id) => `${CIS_BENCHMARK}/${id}`),
    ...fsbp.map((id) => `${SECURITY_HUB_CONTROL}/${id}`),
  ].slice(0, MAX_RELATED_REQUIREMENTS);
}

/** The partition of a region: `aws`, `aws-cn` or `aws-us-gov`. */
export function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/** The default product of an account: where its own custom findings are imported. */
export function defaultProductArn(partition: string, region: string, accountId: string): string {
  return `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/** The Security Hub finding id of a credwatch finding (ASFF `Id`: 1 to 512 characters). */
export function securityHubFindingId(findingId: string): string {
  return `credwatch/${findingId}`;
}

export interface SecurityHubSinkProps {
  /** Built by the handler with `REQUEST_TIMEOUTS` (lambda/adapters/sdk.ts) and the Lambda's region. */
  readonly client: SecurityHubClient;
  /** The scanner's own account: the caller of BatchImportFindings and every finding's `AwsAccountId`. */
  readonly accountId: string;
  /** The region whose Security Hub receives the findings (the client's). */
  readonly region: string;
  /** @default partitionOf(region) */
  readonly partition?: string;
  /** What `UpdatedAt` is read from. @default the wall clock */
  readonly clock?: () => Date;
}

/** What turning a change into ASFF needs besides the change. */
export interface AsffContext {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  readonly productArn: string;
  /** This import's time: `UpdatedAt` (and `CreatedAt` of a finding opened now). */
  readonly updatedAt: Date;
}

const truncate = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

const isAccountLevel = (finding: Finding): boolean => finding.arn.endsWith(':root');

function resourcesOf(finding: Finding, ctx: AsffContext): Resource[] {
  const common = { Partition: ctx.partition as Resource['Partition'], Region: ctx.region };
  if (isAccountLevel(finding)) {
    // The root user, and account-level findings (account-scan-failed): the account is the resource.
    return [{ ...common, Type: 'AwsAccount', Id: `AWS::::Account:${finding.accountId}` }];
  }
  const user: Resource = {
    ...common,
    Type: 'AwsIamUser',
    Id: finding.arn,
    Details: { AwsIamUser: { UserName: finding.user } },
  };
  if (!finding.accessKeyId) return [user];
  return [
    {
      ...common,
      Type: 'AwsIamAccessKey',
      Id: finding.accessKeyId,
      Details: {
        AwsIamAccessKey: {
          AccessKeyId: finding.accessKeyId,
          UserName: finding.user,
          PrincipalName: finding.user,
          PrincipalType: 'IAMUser',
          AccountId: finding.accountId,
        },
      },
    },
    user,
  ];
}

/** The ASFF finding of one change, as imported by {@link SecurityHubSink}. */
export function toAsffFinding(change: Change, ctx: AsffContext): AwsSecurityFinding {
  const { finding } = change;
  const resolved = change.kind === 'resolved';
  const now = ctx.updatedAt.toISOString();
  // When credwatch first announced it; an opened finding (new, or back after being resolved) is now.
  const created = change.kind === 'opened' ? now : (change.previous?.firstSeen ?? now);
  const other = finding.accountId !== ctx.accountId;
  const who = isAccountLevel(finding)
    ? finding.user === '<root_account>'
      ? 'the root user'
      : 'the account'
    : finding.user;
  const title = `credwatch: ${ruleLabel(finding.rule)}: ${who} in account ${finding.accountId}`;
  const types = relatedRequirements(finding.rule).some((r) => r.startsWith(CIS_BENCHMARK))
    ? [...FINDING_TYPES, CIS_TYPE]
    : [...FINDING_TYPES];
  const productFields: Record<string, string> = {
    'credwatch/Rule': finding.rule,
    'credwatch/Credential': finding.credential,
    'credwatch/Severity': finding.severity,
    'credwatch/Change': change.kind,
    'credwatch/FindingId': finding.id,
    ...(other ? { 'credwatch/ScannedAccountId': finding.accountId } : {}),
    ...(finding.days !== undefined ? { 'credwatch/Days': String(finding.days) } : {}),
    ...(finding.thresholdDays !== undefined
      ? { 'credwatch/ThresholdDays': String(finding.thresholdDays) }
      : {}),
    ...(finding.owner ? { 'credwatch/Owner': finding.owner } : {}),
    ...(finding.exemption ? { 'credwatch/ExemptUntil': finding.exemption.until } : {}),
    ...(finding.unconfirmed ? { 'credwatch/Unconfirmed': 'true' } : {}),
  };
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: securityHubFindingId(finding.id),
    ProductArn: ctx.productArn,
    GeneratorId: `credwatch/${finding.rule}`,
    // The calling account: the default product accepts no other (see the file comment).
    AwsAccountId: ctx.accountId,
    Types: types,
    CreatedAt: created,
    FirstObservedAt: created,
    ...(resolved ? {} : { LastObservedAt: now }),
    UpdatedAt: now,
    FindingProviderFields: {
      // A resolved finding is informational, as Security Hub's own passed checks are; Original
      // keeps the severity credwatch last announced.
      Severity: {
        Label: resolved ? 'INFORMATIONAL' : SEVERITY_LABELS[finding.severity],
        Original: finding.severity,
      },
      Types: types,
    },
    Title: truncate(title, MAX_TITLE),
    Description: truncate(resolved ? `Resolved: ${finding.summary}` : finding.summary, MAX_DESCRIPTION),
    Resources: resourcesOf(finding, ctx),
    Compliance: {
      Status: resolved ? 'PASSED' : 'FAILED',
      ...(relatedRequirements(finding.rule).length > 0
        ? { RelatedRequirements: relatedRequirements(finding.rule) }
        : {}),
    },
    // The initial workflow status only: Security Hub ignores Workflow on an update.
    Workflow: { Status: 'NEW' },
    RecordState: resolved ? 'ARCHIVED' : 'ACTIVE',
    ProductFields: productFields,
  };
}

/** Publishes changes as Security Hub findings of the scanner account's default product. */
export class SecurityHubSink implements EventSink {
  readonly productArn: string;
  private readonly client: SecurityHubClient;
  private readonly accountId: string;
  private readonly region: string;
  private readonly partition: string;
  private readonly clock: () => Date;
  private lastStamp = 0;

  constructor(props: SecurityHubSinkProps) {
    if (!/^\d{12}$/.test(props.accountId)) {
      throw new CredwatchError(
        `SecurityHubSink: accountId must be a 12-digit account id, got ${JSON.stringify(props.accountId)}`,
      );
    }
    this.client = props.client;
    this.accountId = props.accountId;
    this.region = props.region;
    this.partition = props.partition ?? partitionOf(props.region);
    this.clock = props.clock ?? (() => new Date());
    this.productArn = defaultProductArn(this.partition, this.region, this.accountId);
  }

  /**
   * Imports one finding per changed credwatch finding (the last change of each), 100 to a call.
   * @throws SecurityHubExportError naming the first refused finding and Security Hub's error, or the
   *   failed call: the outbox publishes the changes again on the next run.
   */
  async publish(changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    // The last change of a finding wins: in one call, Security Hub would keep only one of them.
    const latest = new Map<string, Change>();
    for (const change of changes) {
      const earlier = latest.get(change.finding.id);
      latest.delete(change.finding.id);
      // Keep when it was first announced, which an opened-then-escalated pair carries in the first.
      const previous = change.previous ?? earlier?.previous;
      latest.set(change.finding.id, { ...change, ...(previous ? { previous } : {}) });
    }
    const ctx: AsffContext = {
      accountId: this.accountId,
      region: this.region,
      partition: this.partition,
      productArn: this.productArn,
      updatedAt: this.stamp(),
    };
    const findings = [...latest.values()].map((change) => toAsffFinding(change, ctx));
    for (let i = 0; i < findings.length; i += SECURITY_HUB_BATCH_SIZE) {
      await this.import(findings.slice(i, i + SECURITY_HUB_BATCH_SIZE), findings.length);
    }
  }

  /** A time later than any this sink stamped before: Security Hub ignores an update not later. */
  private stamp(): Date {
    const ms = Math.max(this.clock().getTime(), this.lastStamp + 1);
    this.lastStamp = ms;
    return new Date(ms);
  }

  private async import(batch: AwsSecurityFinding[], total: number): Promise<void> {
    let response: { FailedCount?: number; FailedFindings?: ImportFindingsError[] };
    try {
      response = await this.client.send(new BatchImportFindingsCommand({ Findings: batch }));
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SecurityHubExportError(
        `Could not import ${batch.length} credwatch findings into Security Hub (${this.productArn}): ${reason}`,
        { cause: error },
      );
    }
    const failed = response.FailedFindings ?? [];
    const failedCount = response.FailedCount ?? failed.length;
    if (failedCount === 0 && failed.length === 0) return;
    const first = failed[0];
    const detail = first
      ? `first: ${first.Id ?? 'unknown id'}: ${first.ErrorCode ?? 'unknown error'}: ${first.ErrorMessage ?? 'no message'}`
      : 'Security Hub named none of them';
    throw new SecurityHubExportError(
      `Security Hub refused ${Math.max(failedCount, failed.length)} of ${total} credwatch findings (${this.productArn}); ${detail}`,
    );
  }
}
