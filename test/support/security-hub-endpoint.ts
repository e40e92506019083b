/**
 * A stand-in for AWS Security Hub CSPM on 127.0.0.1, REST-JSON as the SDK speaks it:
 * - `POST /findings/import` (BatchImportFindings): at most 100 findings a request (else 400
 *   InvalidInputException); a finding whose AwsAccountId is not the caller's account makes the whole
 *   call fail with 403 AccessDeniedException, as AWS answers for the default product; each finding is
 *   validated against the required ASFF attributes and refused on its own in `FailedFindings`
 *   (`ErrorCode` InvalidInput, "Finding does not adhere to Amazon Finding Format. …", as AWS words
 *   it) while the others are imported.
 * - `POST /findings` (GetFindings): Id and RecordState filters (EQUALS), MaxResults (1–100) and
 *   NextToken.
 * Findings are stored by Id (upsert) as Security Hub keeps them: an update whose UpdatedAt is not
 * later than the stored one is ignored (and still counted as a success), `Workflow` is kept from the
 * first import (a provider cannot change it), and the top-level Severity and Types are filled from
 * FindingProviderFields.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalServer, readBody, serveLocally } from './local-server';

type Json = Record<string, unknown>;

interface Answer {
  readonly status: number;
  readonly body: Json;
  /** The error type (`x-amzn-ErrorType`) of an error answer. */
  readonly type?: string;
}

export const MAX_IMPORT_BATCH = 100;

/** The required top-level ASFF attributes (Security Hub user guide, "Required top-level ASFF attributes"). */
const REQUIRED = [
  'AwsAccountId',
  'CreatedAt',
  'Description',
  'GeneratorId',
  'Id',
  'ProductArn',
  'Resources',
  'SchemaVersion',
  'Title',
  'UpdatedAt',
] as const;
/** Required, either at the top level or in FindingProviderFields (the provider's preferred place). */
const REQUIRED_EITHER = ['Severity', 'Types'] as const;
const MAX_LENGTH: Readonly<Record<string, number>> = {
  Id: 512,
  GeneratorId: 512,
  Title: 256,
  Description: 1024,
};
const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const RECORD_STATES = ['ACTIVE', 'ARCHIVED'];
const COMPLIANCE_STATUSES = ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'];
/** RFC 3339 with a time zone, as ASFF timestamps must be. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export interface SecurityHubEndpointOptions {
  /** The calling account: the only AwsAccountId the default product accepts. @default 123456789012 */
  readonly accountId?: string;
}

export interface SecurityHubEndpoint extends LocalServer {
  /** The stored findings by Id, as GetFindings would return them. */
  readonly findings: ReadonlyMap<string, Json>;
  /** The number of findings of every BatchImportFindings request, in order (refused ones included). */
  readonly importBatches: readonly number[];
  /**
   * Makes the next imports refuse the finding with this Id in `FailedFindings` (as AWS does for an
   * account whose Security Hub is not enabled), until cleared with `undefined`.
   */
  refuse(id: string | undefined, errorCode?: string, errorMessage?: string): void;
}

const notAdhering = (detail: string) => `Finding does not adhere to Amazon Finding Format. ${detail}`;

/** Why a finding does not adhere to ASFF, or undefined when it does. */
function invalidity(finding: unknown): string | undefined {
  if (typeof finding !== 'object' || finding === null || Array.isArray(finding)) {
    return notAdhering('data should be object.');
  }
  const f = finding as Json;
  for (const name of REQUIRED) {
    if (f[name] === undefined) return notAdhering(`data should have required property '${name}'.`);
  }
  const provider = (f.FindingProviderFields ?? {}) as Json;
  for (const name of REQUIRED_EITHER) {
    if (f[name] === undefined && provider[name] === undefined) {
      return notAdhering(
        `data should have required property '${name}', data should have required property 'FindingProviderFields', data should match some schema in anyOf.`,
      );
    }
  }
  for (const [name, max] of Object.entries(MAX_LENGTH)) {
    const value = f[name];
    if (typeof value !== 'string' || value.trim() === '') {
      return notAdhering(`data.${name} should be a non-empty string.`);
    }
    if (value.length > max) return notAdhering(`data.${name} should NOT be longer than ${max} characters.`);
  }
  if (typeof f.AwsAccountId !== 'string' || !/^\d{12}$/.test(f.AwsAccountId)) {
    return notAdhering('data.AwsAccountId should be a 12-digit account id.');
  }
  if (f.SchemaVersion !== '2018-10-08')
    return notAdhering('data.SchemaVersion should be equal to "2018-10-08".');
  for (const name of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt']) {
    if (f[name] !== undefined && (typeof f[name] !== 'string' || !TIMESTAMP.test(f[name] as string))) {
      return notAdhering(`data.${name} should match format "date-time".`);
    }
  }
  if (!Array.isArray(f.Resources) || f.Resources.length < 1 || f.Resources.length > 32) {
    return notAdhering('data.Resources should NOT have fewer than 1 items or more than 32.');
  }
  for (const [i, r] of (f.Resources as Json[]).entries()) {
    if (typeof r?.Type !== 'string' || typeof r?.Id !== 'string') {
      return notAdhering(`data.Resources[${i}] should have required properties 'Type' and 'Id'.`);
    }
  }
  for (const types of [f.Types, provider.Types]) {
    if (types !== undefined && (!Array.isArray(types) || types.length < 1 || types.length > 50)) {
      return notAdhering('data.Types should be an array of 1 to 50 items.');
    }
  }
  for (const severity of [f.Severity, provider.Severity]) {
    const label = (severity as Json | undefined)?.Label;
    if (severity !== undefined && !SEVERITY_LABELS.includes(String(label))) {
      return notAdhering(
        `data.Severity.Label should be equal to one of the allowed values, got ${JSON.stringify(label)}.`,
      );
    }
  }
  if (f.RecordState !== undefined && !RECORD_STATES.includes(String(f.RecordState))) {
    return notAdhering('data.RecordState should be equal to one of the allowed values.');
  }
  const compliance = f.Compliance as Json | undefined;
  if (compliance?.Status !== undefined && !COMPLIANCE_STATUSES.includes(String(compliance.Status))) {
    return notAdhering('data.Compliance.Status should be equal to one of the allowed values.');
  }
  const requirements = compliance?.RelatedRequirements;
  if (requirements !== undefined && (!Array.isArray(requirements) || requirements.length > 32)) {
    return notAdhering('data.Compliance.RelatedRequirements should NOT have more than 32 items.');
  }
  return undefined;
}

const isLater = (a: string, b: string) => Date.parse(a) > Date.parse(b);

export async function startSecurityHubEndpoint(
  options: SecurityHubEndpointOptions = {},
): Promise<SecurityHubEndpoint> {
  const accountId = options.accountId ?? '123456789012';
  const findings = new Map<string, Json>();
  const importBatches: number[] = [];
  let refused: { id: string; code: string; message: string } | undefined;

  const send = (res: ServerResponse, { status, body, type: errorType }: Answer) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
    });
    res.end(text);
  };
  const fail = (status: number, type: string, message: string): Answer => ({
    status,
    body: { Code: type, Message: message },
    type,
  });

  function store(finding: Json): void {
    const provider = (finding.FindingProviderFields ?? {}) as Json;
    const existing = findings.get(finding.Id as string);
    if (existing && !isLater(finding.UpdatedAt as string, existing.UpdatedAt as string)) return;
    const stored: Json = {
      ...finding,
      // Security Hub fills the top level from the provider's fields (unless a customer changed it).
      ...(provider.Severity ? { Severity: provider.Severity } : {}),
      ...(provider.Types ? { Types: provider.Types } : {}),
      ...(existing ? { Workflow: existing.Workflow } : {}),
      ProcessedAt: new Date().toISOString(),
    };
    if (!existing) stored.Workflow = finding.Workflow ?? { Status: 'NEW' };
    if (stored.RecordState === undefined) stored.RecordState = 'ACTIVE';
    findings.set(finding.Id as string, stored);
  }

  function batchImport(input: Json): Answer {
    const batch = input.Findings;
    if (!Array.isArray(batch) || batch.length === 0) {
      return fail(400, 'InvalidInputException', 'Findings must contain between 1 and 100 findings.');
    }
    importBatches.push(batch.length);
    if (batch.length > MAX_IMPORT_BATCH) {
      return fail(
        400,
        'InvalidInputException',
        `Findings must contain at most ${MAX_IMPORT_BATCH} findings, got ${batch.length}.`,
      );
    }
    const foreign = batch.find(
      (f) =>
        typeof f?.AwsAccountId === 'string' &&
        /^\d{12}$/.test(f.AwsAccountId) &&
        f.AwsAccountId !== accountId,
    );
    if (foreign) {
      return fail(
        403,
        'AccessDeniedException',
        `User: arn:aws:sts::${accountId}:assumed-role/caller is not authorized to perform: securityhub:BatchImportFindings on resource: ${String(foreign.ProductArn)}`,
      );
    }
    const failed: Json[] = [];
    for (const finding of batch) {
      const reason = invalidity(finding);
      const id = typeof finding?.Id === 'string' ? finding.Id : '';
      if (reason) {
        failed.push({ Id: id, ErrorCode: 'InvalidInput', ErrorMessage: reason });
      } else if (refused && refused.id === id) {
        failed.push({ Id: id, ErrorCode: refused.code, ErrorMessage: refused.message });
      } else {
        store(finding as Json);
      }
    }
    return {
      status: 200,
      body: {
        FailedCount: failed.length,
        SuccessCount: batch.length - failed.length,
        FailedFindings: failed,
      },
    };
  }

  /** The values of an EQUALS string filter, or undefined when there is none. */
  function equalsValues(filters: Json, name: string): string[] | undefined {
    const list = filters[name];
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) throw new Error(`Filters.${name} must be a list`);
    return list.map((f: Json) => {
      if ((f.Comparison ?? 'EQUALS') !== 'EQUALS') throw new Error(`Filters.${name}: only EQUALS is served`);
      return String(f.Value);
    });
  }

  function getFindings(input: Json): Answer {
    const filters = (input.Filters ?? {}) as Json;
    const unsupported = Object.keys(filters).filter((k) => k !== 'Id' && k !== 'RecordState');
    if (unsupported.length > 0) {
      return fail(400, 'InvalidInputException', `the stand-in serves no filter ${unsupported.join(', ')}`);
    }
    const max = input.MaxResults === undefined ? 100 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      return fail(400, 'InvalidInputException', 'MaxResults must be a number between 1 and 100');
    }
    let ids: string[] | undefined;
    let states: string[] | undefined;
    try {
      ids = equalsValues(filters, 'Id');
      states = equalsValues(filters, 'RecordState');
    } catch (err) {
      return fail(400, 'InvalidInputException', (err as Error).message);
    }
    const matching = [...findings.values()].filter(
      (f) =>
        (ids === undefined || ids.includes(f.Id as string)) &&
        (states === undefined || states.includes(f.RecordState as string)),
    );
    const start = input.NextToken === undefined ? 0 : Number(input.NextToken);
    if (!Number.isInteger(start) || start < 0 || start > matching.length) {
      return fail(400, 'InvalidInputException', 'NextToken is not valid');
    }
    const page = matching.slice(start, start + max);
    const next = start + max < matching.length ? String(start + max) : undefined;
    return { status: 200, body: { Findings: page, ...(next ? { NextToken: next } : {}) } };
  }

  const server = await serveLocally(async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readBody(req);
    let input: unknown;
    try {
      input = text === '' ? {} : JSON.parse(text);
    } catch {
      input = undefined;
    }
    const path = (req.url ?? '').split('?')[0];
    const answer =
      typeof input !== 'object' || input === null || Array.isArray(input)
        ? fail(400, 'InvalidInputException', 'the request body is not a JSON object')
        : req.method === 'POST' && path === '/findings/import'
          ? batchImport(input as Json)
          : req.method === 'POST' && path === '/findings'
            ? getFindings(input as Json)
            : fail(404, 'ResourceNotFoundException', `the stand-in serves no ${req.method} ${path}`);
    send(res, answer);
  });

  return {
    ...server,
    findings,
    importBatches,
    refuse(id, errorCode = 'InvalidAccess', errorMessage = 'Account is not subscribed to AWS Security Hub') {
      refused = id === undefined ? undefined : { id, code: errorCode, message: errorMessage };
    },
  };
}
