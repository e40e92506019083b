#!/usr/bin/env -S npx tsx
/**
 * credwatch CLI: the same scan the Lambda runs, on the account of the current AWS credentials or on a
 * downloaded credential report. See docs/cli.md.
 *
 * Exit codes: 0 done; 1 findings reached --fail-on; 2 usage error or unreadable/malformed input;
 * 3 the scan could not complete (IAM refused, the report never became ready, credentials missing,
 * or --fail-on on a report that looks filtered or truncated).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Command, Option } from 'commander';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from '../lambda/adapters/iam';
import { REQUEST_TIMEOUTS } from '../lambda/adapters/sdk';
import { ROOT_USER } from '../lambda/core/credential-report';
import type { EnforcementPolicy } from '../lambda/core/enforcement';
import { ConfigError, CredentialReportParseError, CredwatchError } from '../lambda/core/errors';
import { countBySeverity } from '../lambda/core/evaluate';
import { DEFAULT_NOTIFICATION_POLICY, MESSAGE_CAP_BOUNDS } from '../lambda/core/notification-plan';
import { renderSummary, renderTable } from '../lambda/core/table';
import { type Finding, RULE_IDS, type ScanWarning, type Severity, severityRank } from '../lambda/core/types';
import { joinChunks, jsonDocumentChunks } from '../lambda/formats/json-chunks';
import type { CredentialReport, ReportSource } from '../lambda/ports';
import { type ScanResult, scan } from '../lambda/scan';
import type { EnforcementSettings } from '../lambda/settings';
import { checkProfile, credentialsHint } from './cli/aws';
import { parseCommandLine } from './cli/command';
import {
  parseNow,
  readConfigSections,
  readReportFile,
  readTagsFile,
  type TagsFile,
  UsageError,
} from './cli/input';
import { confirmProgress, exitQuietlyOnEpipe, terminalOf, writeOutputFile } from './cli/output';
import { renderSlackPreview } from './cli/slack-preview';

/** Version of the `--json` document; bumped on any incompatible change (docs/cli.md). */
export const JSON_SCHEMA_VERSION = 1;

/** credwatch's version, from package.json. */
export const VERSION: string = JSON.parse(
  readFileSync(join(__dirname, '..', 'package.json'), 'utf8'),
).version;

const FORMATS = ['table', 'json', 'csv', 'ocsf', 'sarif', 'html', 'slack'] as const;
type Format = (typeof FORMATS)[number];

/** The scan could not complete, or its result cannot be trusted for a gate: exit 3. */
class IncompleteError extends CredwatchError {}

interface Options {
  report?: string;
  tags?: string;
  now?: string;
  maxReportAge: string;
  json?: boolean;
  format?: Format;
  output?: string;
  summary?: boolean;
  config?: string;
  profile?: string;
  failOn?: Severity;
  severity?: Severity;
  rule: string[];
  user: string[];
  account: string[];
  quiet?: boolean;
  reportDeadline: string;
  baseline?: boolean;
  maxMessages?: string;
  plan?: boolean;
}

/** The `--json` document (docs/cli.md). */
export function toJson(result: ScanResult, filters?: AppliedFilters) {
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    complete: true,
    ...result,
    ...(filters ? { filters: filters.json } : {}),
  };
}

interface Filters {
  readonly severity?: Severity;
  readonly rules: ReadonlySet<string>;
  readonly users: ReadonlySet<string>;
  readonly accounts: ReadonlySet<string>;
}

interface AppliedFilters {
  /** How the table names them, e.g. `--severity critical --rule access-key-age`. */
  readonly words: string[];
  readonly total: number;
  readonly json: Record<string, unknown>;
}

const list = (values: readonly string[]) =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');

function readFilters(opts: Options): Filters {
  const rules = list(opts.rule);
  for (const rule of rules) {
    if (!(RULE_IDS as readonly string[]).includes(rule)) {
      throw new UsageError(`--rule: no rule "${rule}"; the rules are ${RULE_IDS.join(', ')}`);
    }
  }
  const accounts = list(opts.account);
  for (const account of accounts) {
    if (!/^\d{12}$/.test(account)) {
      throw new UsageError(`--account: expected a 12-digit account id, got "${account}"`);
    }
  }
  return {
    ...(opts.severity ? { severity: opts.severity } : {}),
    rules: new Set(rules),
    users: new Set(opts.user.filter((u) => u !== '')),
    accounts: new Set(accounts),
  };
}

/** The result with only the findings the filters keep (counts recomputed), and what was applied. */
function applyFilters(result: ScanResult, f: Filters): { result: ScanResult; applied?: AppliedFilters } {
  const words: string[] = [];
  const json: Record<string, unknown> = {};
  if (f.severity) {
    words.push(`--severity ${f.severity}`);
    json.severity = f.severity;
  }
  if (f.rules.size > 0) {
    words.push(`--rule ${[...f.rules].join(',')}`);
    json.rules = [...f.rules];
  }
  if (f.users.size > 0) {
    words.push(...[...f.users].map((u) => `--user ${u}`));
    json.users = [...f.users];
  }
  if (f.accounts.size > 0) {
    words.push(`--account ${[...f.accounts].join(',')}`);
    json.accounts = [...f.accounts];
  }
  if (words.length === 0) return { result };
  const keep = (x: Finding) =>
    (!f.severity || severityRank(x.severity) >= severityRank(f.severity)) &&
    (f.rules.size === 0 || f.rules.has(x.rule)) &&
    (f.users.size === 0 || f.users.has(x.user)) &&
    (f.accounts.size === 0 || f.accounts.has(x.accountId));
  const findings = result.findings.filter(keep);
  json.findingsBeforeFilters = result.findings.length;
  return {
    result: {
      ...result,
      findings,
      counts: countBySeverity(findings),
      exempted: findings.filter((x) => x.exemption).length,
    },
    applied: { words, total: result.findings.length, json },
  };
}

function readFormat(opts: Options): Format {
  if (opts.json && opts.format && opts.format !== 'json') {
    throw new UsageError(`--json is --format json; it cannot be combined with --format ${opts.format}`);
  }
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  if (opts.summary && format !== 'table') {
    throw new UsageError(`--summary is a table; it cannot be combined with --format ${format}`);
  }
  for (const [given, option] of [
    [opts.baseline, '--baseline'],
    [opts.maxMessages, '--max-messages'],
  ] as const) {
    if (given !== undefined && format !== 'slack') {
      throw new UsageError(`${option} shapes the Slack preview; it needs --format slack, not ${format}`);
    }
  }
  return format;
}

function wholeNumber(option: string, value: string, min: number, max: number, unit: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new UsageError(`${option}: expected whole ${unit} from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** Renders csv/ocsf/sarif/html with lambda/formats, when this build has it, in pieces (joined: the text). */
function renderOtherFormat(
  format: Exclude<Format, 'table' | 'json' | 'slack'>,
  result: ScanResult,
): Iterable<string> {
  let formats: typeof import('../lambda/formats');
  try {
    formats = require('../lambda/formats');
  } catch (err) {
    throw new UsageError(`format ${format} is not available in this build`, { cause: err });
  }
  return formats.renderFormatChunks(format, result, { now: new Date(), toolVersion: VERSION });
}

/** Warnings only the CLI can give: the report's age, tags not applied. */
function cliWarnings(
  result: ScanResult,
  opts: Options,
  tags: TagsFile | undefined,
  now: Date,
  maxAgeHours: number,
): ScanWarning[] {
  const warnings: ScanWarning[] = [];
  if (result.reportGeneratedAt) {
    const hours = (now.getTime() - Date.parse(result.reportGeneratedAt)) / 3_600_000;
    if (hours > maxAgeHours) {
      warnings.push({
        code: 'report-stale',
        message: `the credential report was generated ${result.reportGeneratedAt}, ${Math.floor(hours)} hours before ${result.evaluatedAt} (more than --max-report-age ${maxAgeHours}): keys rotated, used or deleted since are judged as they were then`,
      });
    }
  }
  if (opts.report && !tags) {
    warnings.push({
      code: 'tags-not-applied',
      message:
        'scanned without IAM tags: exemptions (credwatch:exempt), owners (credwatch:owner) and per-user thresholds are not applied; pass --tags FILE (aws iam get-account-authorization-details --filter User)',
    });
  }
  return warnings;
}

/** A report with no users or no root row passes no gate: AWS always writes the root row. */
const TRUNCATED = new Set(['report-empty', 'report-without-root']);

interface Run {
  readonly code: number;
  /** What goes to stdout (nothing with --quiet or --output). */
  readonly stdout: string;
}

async function run(opts: Options): Promise<Run> {
  const format = readFormat(opts);
  const filters = readFilters(opts);
  const now = parseNow(opts.now);
  const maxAgeHours = wholeNumber('--max-report-age', opts.maxReportAge, 1, 87_600, 'hours');
  const { thresholds, enforcement } = readConfigSections(opts.config);
  if (opts.plan && !enforcement) {
    throw new UsageError(
      `--plan needs --config FILE whose "enforcement" section sets a mode (dry-run or enforce) and its ages (docs/enforcement.md)${opts.config ? `; ${opts.config} turns enforcement off` : ''}`,
    );
  }
  const tags = opts.tags ? readTagsFile(opts.tags) : undefined;
  if (tags && !opts.report) {
    throw new UsageError('--tags applies to --report; a live scan reads the tags from IAM');
  }
  const info = (message: string) => {
    if (!opts.quiet) process.stderr.write(`credwatch: ${message}\n`);
  };
  let report: ReportSource;
  let live: IamAdapter | undefined;
  const profile = opts.profile ?? (process.env.AWS_PROFILE || undefined);
  let reportCsv: string | undefined;
  let ownKeyIds: ReadonlySet<string> | undefined;
  let liveAccount: string | undefined;
  if (opts.report) {
    const file: CredentialReport = readReportFile(opts.report);
    reportCsv = file.csv;
    report = { getReport: async () => file };
  } else {
    const deadline = wholeNumber('--report-deadline', opts.reportDeadline, 1, 900, 'seconds');
    checkProfile(profile);
    // The SDK's multi-line Node-version notice says nothing about the scan.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    // IAM is global; the SDK still needs a region to sign with. AWS_REGION picks the partition (aws-cn, ...).
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const client = new IAMClient({ ...IAM_CLIENT_DEFAULTS, region, ...(opts.profile ? { profile } : {}) });
    live = new IamAdapter({ reportDeadlineMs: deadline * 1000, client });
    report = live;
    if (opts.plan && enforcement) {
      // The plan of a live scan: the caller's own key is never planned, and its account's policy applies.
      try {
        const credentials = await client.config.credentials();
        ownKeyIds = new Set([credentials.accessKeyId]);
        const sts = new STSClient({ region, ...REQUEST_TIMEOUTS, ...(opts.profile ? { profile } : {}) });
        liveAccount = (await sts.send(new GetCallerIdentityCommand({}))).Account;
      } catch (err) {
        const hint = credentialsHint(err, profile);
        throw new IncompleteError(
          hint ?? `--plan: the caller's identity could not be read: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
  }
  const onConfirmProgress = opts.quiet ? undefined : confirmProgress();
  const accountPolicy =
    opts.plan && enforcement ? planPolicy(enforcement, reportCsv, liveAccount) : undefined;
  if (accountPolicy?.mode === 'off')
    info('--plan: enforcement is off for this account (enforcement.accounts): nothing is planned');
  const planned = accountPolicy?.mode === 'off' ? undefined : accountPolicy;
  let scanned: ScanResult;
  try {
    scanned = await scan({
      report,
      ...(live ? { directory: live, counter: live } : {}),
      ...(opts.report ? { reportFile: opts.report } : {}),
      ...(tags ? { tags: tags.tags } : {}),
      thresholds,
      now,
      // The plan only: the CLI never deactivates (no deactivator, no store), whatever the mode says.
      ...(planned
        ? {
            enforcement: {
              policy: { ...planned, mode: 'dry-run' as const },
              runId: 'cli',
              ...(ownKeyIds ? { ownKeyIds } : {}),
            },
          }
        : {}),
      onProgress: info,
      ...(onConfirmProgress ? { onConfirmProgress } : {}),
    });
  } catch (err) {
    const hint = live ? credentialsHint(err, profile) : undefined;
    if (hint) throw new IncompleteError(hint, { cause: err });
    throw err;
  }
  if (tags?.accountId && scanned.accountId !== 'unknown' && tags.accountId !== scanned.accountId) {
    throw new UsageError(
      `${opts.tags}: the tags are of account ${tags.accountId}, the report ${opts.report} of account ${scanned.accountId}`,
    );
  }
  if (scanned.enforcement) info(planLine(scanned));
  const extra = cliWarnings(scanned, opts, tags, now, maxAgeHours);
  // The table lists it among its warnings; JSON, other formats and files get it said on stderr too.
  if (format !== 'table' || opts.output) {
    for (const w of extra) if (w.code === 'tags-not-applied') info(w.message);
  }
  const complete: ScanResult = { ...scanned, warnings: [...scanned.warnings, ...extra] };
  const { result, applied } = applyFilters(complete, filters);

  let code = 0;
  if (opts.failOn) {
    const bar = severityRank(opts.failOn);
    if (result.findings.some((f) => !f.exemption && severityRank(f.severity) >= bar)) code = 1;
    const truncated = complete.warnings.find((w) => TRUNCATED.has(w.code));
    if (code === 0 && truncated) {
      throw new IncompleteError(
        `${truncated.message}; --fail-on does not pass a report without the ${ROOT_USER} row (exit 3)`,
      );
    }
  }

  const terminal = opts.output ? { width: undefined, colour: false } : terminalOf(process.stdout);
  const tableOptions = {
    ...(terminal.width !== undefined ? { width: terminal.width } : {}),
    colour: terminal.colour,
    ...(applied ? { filtered: { filters: applied.words, total: applied.total } } : {}),
  };
  // The text, or its pieces (JSON-like formats of a large report: written as they are made).
  const text: string | Iterable<string> =
    format === 'table'
      ? (opts.summary ? renderSummary : renderTable)(result, tableOptions)
      : format === 'json'
        ? jsonDocumentChunks(toJson(result, applied), 2)
        : format === 'slack'
          ? renderSlackPreview(result, {
              baseline: opts.baseline ?? false,
              maxMessages: wholeNumber(
                '--max-messages',
                opts.maxMessages ?? String(DEFAULT_NOTIFICATION_POLICY.maxMessagesPerRun),
                MESSAGE_CAP_BOUNDS.min,
                MESSAGE_CAP_BOUNDS.max,
                'messages',
              ),
            })
          : renderOtherFormat(format, result);
  if (opts.output) {
    writeOutputFile(opts.output, text);
    info(`wrote ${format} to ${opts.output}`);
    return { code, stdout: '' };
  }
  return { code, stdout: opts.quiet ? '' : typeof text === 'string' ? text : joinChunks(text) };
}

/**
 * The policy `--plan` applies: the account's own (`enforcement.accounts`) when the report names an
 * account that has one, else the deployment's.
 */
function planPolicy(
  settings: EnforcementSettings,
  csv: string | undefined,
  liveAccount: string | undefined,
): EnforcementPolicy {
  if (!settings.accounts) return settings.policy;
  const account =
    liveAccount ?? (csv !== undefined ? /arn:aws[\w-]*:iam::(\d{12}):/.exec(csv)?.[1] : undefined);
  return (account ? settings.accounts[account] : undefined) ?? settings.policy;
}

/** One line on stderr: what the plan says, in numbers. */
function planLine(result: ScanResult): string {
  const plan = result.enforcement!.plan;
  const past = plan.keys.filter((k) => k.days >= k.deactivateDays).length;
  const untouched = plan.untouched.length;
  return `enforcement plan (${RULE_PLANNED} findings; nothing is changed): ${plan.keys.length} access keys would get a final notice now, ${past} of them already past the deactivation age (deactivated once their notice's lead time has passed); never touched: ${untouched === 0 ? 'none' : plan.untouched.map((u) => `${u.user}${u.credential ? ` ${u.credential}` : ''} (${u.why})`).join('; ')}`;
}

const RULE_PLANNED = 'access-key-deactivation-planned';

/** Exit code for an error: 2 for what the user gave us, 3 for a scan that could not complete. */
function exitCodeOf(err: unknown): number {
  return err instanceof UsageError || err instanceof ConfigError || err instanceof CredentialReportParseError
    ? 2
    : 3;
}

const HELP_AFTER = `
Exit codes:
  0  the scan completed (findings or not)
  1  the scan completed and a finding reached --fail-on
  2  bad usage or input: one line naming the file, line and column or the option
  3  the scan could not complete (IAM refused, no credentials, the report never became ready),
     or --fail-on on a report that looks filtered or truncated; nothing on stdout

Environment:
  AWS_PROFILE, AWS_REGION, ...   the AWS credential chain of a live scan (--profile overrides AWS_PROFILE)
  AWS_ENDPOINT_URL_IAM           another IAM endpoint (local stand-ins, docs/development.md)
  NO_COLOR                       no colour in the table, even on a terminal
  COLUMNS                        the table's width when stdout is not a terminal (default: no limit)
  INIT_CWD                       set by npm: relative paths are read from there
  CREDWATCH_DEBUG=1              print the stack trace of an error

Examples:
  npm run -s scan -- --report report.csv                   a downloaded report, no AWS call
  npm run -s scan -- --report report.csv --tags users.json  with the users' tags (exemptions, owners)
  AWS_PROFILE=audit npm run -s scan                         the account of a profile, live
  npm run -s scan -- --json > findings.json                 JSON for scripts (-s: no npm banner)
  npm run -s scan -- --format sarif --output credwatch.sarif
  npm run -s scan -- --now 2026-12-07 --severity critical   what will be critical on 7 December (UTC)?
  npm run -s scan -- --fail-on critical --quiet             a CI gate: the exit code only

Documentation: docs/cli.md`;

export async function main(argv: string[]): Promise<number> {
  const collect = (value: string, previous: string[]) => [...previous, value];
  const program = new Command()
    .name('credwatch')
    .description(
      'Judge the age and use of every IAM credential of an account (or of a credential report file).',
    )
    .version(VERSION, '-V, --version', 'print the version of credwatch')
    .option(
      '--report <file>',
      'a credential report CSV, or the JSON of "aws iam get-credential-report"; no AWS calls',
    )
    .option(
      '--tags <file>',
      'with --report: the users\' tags, the JSON of "aws iam get-account-authorization-details --filter User"',
    )
    .option('--now <iso>', 'evaluate as of this instant instead of now, e.g. 2026-12-01 (no zone: UTC)')
    .option('--max-report-age <hours>', 'warn when the report is older than this', '24')
    .option('--config <file>', 'configuration file whose "thresholds" are used (docs/configuration.md)')
    .option('--profile <name>', 'live scan: the AWS profile to use (instead of AWS_PROFILE)')
    .addOption(new Option('--format <format>', 'output format (default: table)').choices(FORMATS))
    .option('--json', 'the same as --format json (schema: docs/cli.md)')
    .option('--output <file>', 'write the output to this file instead of stdout')
    .option('--summary', 'table: counts per rule instead of every finding')
    .addOption(
      new Option('--severity <level>', 'show only findings of this severity or worse').choices([
        'info',
        'warning',
        'critical',
      ]),
    )
    .option('--rule <id>', 'show only this rule (repeatable, or a comma list)', collect, [])
    .option('--user <name>', 'show only this IAM user (repeatable)', collect, [])
    .option('--account <id>', 'show only this account (repeatable, or a comma list)', collect, [])
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a shown finding reaches this severity').choices([
        'warning',
        'critical',
      ]),
    )
    .option('-q, --quiet', 'print nothing but errors: the exit code says it all')
    .option('--report-deadline <seconds>', 'live scan: how long to wait for IAM to generate the report', '60')
    .option(
      '--plan',
      'with --config: the enforcement plan (docs/enforcement.md) as access-key-deactivation-planned findings; never changes anything',
    )
    .option(
      '--baseline',
      "with --format slack: the first scheduled run's baseline summary, not every finding",
    )
    .option(
      '--max-messages <n>',
      `with --format slack: the scanner's message cap per run (default: ${DEFAULT_NOTIFICATION_POLICY.maxMessagesPerRun})`,
    );
  const parsed = parseCommandLine(program, argv, HELP_AFTER);
  if (parsed !== undefined) return parsed;
  try {
    const { code, stdout } = await run(program.opts<Options>());
    exitCode = code;
    if (stdout) process.stdout.write(stdout);
    return code;
  } catch (err) {
    process.stderr.write(`credwatch: ${(err as Error).message ?? String(err)}\n`);
    if (process.env.CREDWATCH_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    exitCode = exitCodeOf(err);
    return exitCode;
  }
}

/** The code the process ends with, also when a reader closes the pipe early (`| head`). */
let exitCode = 0;

if (require.main === module) {
  exitQuietlyOnEpipe(() => exitCode);
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
