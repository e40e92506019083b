#!/usr/bin/env -S npx tsx
/**
 * credwatch CLI: the same scan the Lambda runs, on the account of the current AWS credentials or on a
 * downloaded credential report. See docs/cli.md.
 *
 * Exit codes: 0 done; 1 findings reached --fail-on; 2 usage error or unreadable/malformed input;
 * 3 the scan could not complete (IAM refused, the report never became ready, ...).
 */
import { readFileSync } from 'node:fs';
import { IAMClient } from '@aws-sdk/client-iam';
import { Command, CommanderError, Option } from 'commander';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from '../lambda/adapters/iam';
import { ConfigError, CredentialReportParseError, CredwatchError } from '../lambda/core/errors';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../lambda/core/policy';
import { renderTable } from '../lambda/core/table';
import { type Severity, severityRank } from '../lambda/core/types';
import type { CredentialReport, ReportSource } from '../lambda/ports';
import { type ScanResult, scan } from '../lambda/scan';
import { loadConfig } from '../lib/config';

/** Version of the `--json` document; bumped on any incompatible change (docs/cli.md). */
export const JSON_SCHEMA_VERSION = 1;

class UsageError extends CredwatchError {}

interface Options {
  report?: string;
  now?: string;
  json?: boolean;
  config?: string;
  failOn?: Severity;
  reportDeadline: string;
}

function readReportFile(file: string): CredentialReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read report ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!text.trimStart().startsWith('{')) return { csv: text, generatedAt: null };
  // The JSON printed by `aws iam get-credential-report`: {"Content": "<base64>", "GeneratedTime": "..."}.
  let doc: { Content?: unknown; GeneratedTime?: unknown };
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `${file}: not a CSV credential report and not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof doc.Content !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(doc.Content)) {
    throw new UsageError(
      `${file}: JSON without a base64 "Content" field; expected the output of "aws iam get-credential-report"`,
    );
  }
  const generated = typeof doc.GeneratedTime === 'string' ? new Date(doc.GeneratedTime) : null;
  return {
    csv: Buffer.from(doc.Content, 'base64').toString('utf8'),
    generatedAt: generated && !Number.isNaN(generated.getTime()) ? generated : null,
  };
}

function readThresholds(file: string | undefined): Thresholds {
  if (!file) return DEFAULT_THRESHOLDS;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`cannot read config ${file}: ${reason}`);
  }
  return loadConfig(raw, file).thresholds;
}

function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const d = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? new Date(value)
    : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(
      `--now: expected an ISO 8601 date or time such as 2026-12-01 or 2026-12-01T09:00:00Z, got "${value}"`,
    );
  }
  return d;
}

/** The `--json` document (docs/cli.md). */
export function toJson(result: ScanResult) {
  return { schemaVersion: JSON_SCHEMA_VERSION, complete: true, ...result };
}

async function run(opts: Options): Promise<number> {
  const now = parseNow(opts.now);
  const thresholds = readThresholds(opts.config);
  const progress = (message: string) => process.stderr.write(`credwatch: ${message}\n`);
  let report: ReportSource;
  let live: IamAdapter | undefined;
  if (opts.report) {
    const file = readReportFile(opts.report);
    report = { getReport: async () => file };
  } else {
    const deadline = Number(opts.reportDeadline);
    if (!Number.isInteger(deadline) || deadline < 1 || deadline > 900) {
      throw new UsageError(
        `--report-deadline: expected whole seconds from 1 to 900, got "${opts.reportDeadline}"`,
      );
    }
    // IAM is global; the SDK still needs a region to sign with. AWS_REGION picks the partition (aws-cn, ...).
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    live = new IamAdapter({
      reportDeadlineMs: deadline * 1000,
      client: new IAMClient({ ...IAM_CLIENT_DEFAULTS, region }),
    });
    report = live;
  }
  const result = await scan({
    report,
    ...(live ? { directory: live, counter: live } : {}),
    thresholds,
    now,
    onProgress: progress,
  });
  process.stdout.write(opts.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : renderTable(result));
  if (opts.failOn) {
    const bar = severityRank(opts.failOn);
    if (result.findings.some((f) => !f.exemption && severityRank(f.severity) >= bar)) return 1;
  }
  return 0;
}

/** Exit code for an error: 2 for what the user gave us, 3 for a scan that could not complete. */
function exitCodeOf(err: unknown): number {
  return err instanceof UsageError || err instanceof ConfigError || err instanceof CredentialReportParseError
    ? 2
    : 3;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('credwatch')
    .description(
      'Judge the age and use of every IAM credential of an account (or of a credential report file).',
    )
    .option(
      '--report <file>',
      'a credential report CSV, or the JSON of "aws iam get-credential-report"; no AWS calls',
    )
    .option('--now <iso>', 'evaluate as of this instant instead of now, e.g. 2026-12-01')
    .option('--json', 'print the result as JSON (schema: docs/cli.md)')
    .option(
      '--config <file>',
      'configuration file whose "thresholds" are used (schema: docs/configuration.md)',
    )
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding reaches this severity').choices([
        'warning',
        'critical',
      ]),
    )
    .option('--report-deadline <seconds>', 'live scan: how long to wait for IAM to generate the report', '60')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  try {
    return await run(program.opts<Options>());
  } catch (err) {
    process.stderr.write(`credwatch: ${(err as Error).message ?? String(err)}\n`);
    if (process.env.CREDWATCH_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return exitCodeOf(err);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`credwatch: ${(err as Error).message}\n`);
      process.exitCode = 3;
    },
  );
}
