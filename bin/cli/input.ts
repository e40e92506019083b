/**
 * What the CLI reads: the credential report file (CSV, or the JSON of `aws iam get-credential-report`),
 * the `--tags` file (the JSON of `aws iam get-account-authorization-details --filter User`), the
 * `--config` file and `--now`. Every failure is a {@link UsageError}: one sentence naming the file
 * (and line and column) and what is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseIsoInstant } from '../../lambda/core/dates';
import { CredwatchError } from '../../lambda/core/errors';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../lambda/core/policy';
import type { UserTags } from '../../lambda/core/types';
import type { CredentialReport } from '../../lambda/ports';
import type { EnforcementSettings } from '../../lambda/settings';
import { enforcementOn, enforcementSettings, loadConfig, readConfigFile } from '../../lib/config';

/** Bad usage or input: exit 2. */
export class UsageError extends CredwatchError {}

/**
 * A path as the user meant it: relative to the directory they ran the command in. `npm run` runs
 * scripts from the package root and says where it was started in `INIT_CWD`.
 */
export function userPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  if (isAbsolute(file)) return file;
  return resolve(env.INIT_CWD || process.cwd(), file);
}

/** A system error as a few words: `no such file`, `it is a directory`, `permission denied`. */
export function systemErrorSentence(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default:
      return code ?? (err as Error).message;
  }
}

/** Reads a text file, without its byte order mark. @throws UsageError "cannot read FILE: no such file" */
export function readText(file: string): string {
  let text: string;
  try {
    text = readFileSync(userPath(file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${systemErrorSentence(err)}`, { cause: err });
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** `JSON.parse` whose error names the file, line and column. */
export function parseJson(file: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    let where = '';
    if (position) {
      const before = text.slice(0, Number(position[1]));
      where = ` line ${before.split('\n').length} column ${before.length - before.lastIndexOf('\n')}`;
    }
    const reason = message.replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, '');
    throw new UsageError(`${file}${where}: ${what} is not valid JSON: ${reason}`, { cause: err });
  }
}

const BASE64 = /^[A-Za-z0-9+/=\s]+$/;
const looksLikeCsvReport = (text: string) => /^\uFEFF?"?user"?,/.test(text);

/**
 * The output of `aws iam get-credential-report` in another `--output` than json: named, with the fix.
 * @returns the hint, or undefined when the text does not look like one
 */
function awsCliOutputHint(text: string): string | undefined {
  const first = text.split('\n', 1)[0]!.trim();
  const fix = 'run "aws iam get-credential-report --output json" instead, or pass the CSV';
  if (/^Content:\s/m.test(text) && /^(GeneratedTime|ReportFormat):/m.test(text)) {
    return `this is the YAML output of "aws iam get-credential-report": ${fix}`;
  }
  const fields = first.split('\t');
  if (fields.length >= 2 && fields.some((f) => f === 'text/csv') && BASE64.test(fields[0]!)) {
    return `this is the text output of "aws iam get-credential-report": ${fix}`;
  }
  if (/^-+$/.test(first) && /^\|\s+GetCredentialReport\s+\|/m.test(text)) {
    return `this is the table output of "aws iam get-credential-report": ${fix}`;
  }
  return undefined;
}

/**
 * A credential report file: the CSV (as downloaded from the console), the JSON of
 * `aws iam get-credential-report` (base64 `Content`, `GeneratedTime`), or a JSON whose `Content`
 * is the CSV itself (as cloudmapper and boto3-based tools save it). A byte order mark is accepted.
 */
export function readReportFile(file: string): CredentialReport {
  const text = readText(file);
  const start = text.trimStart();
  if (!start.startsWith('{')) {
    const hint = awsCliOutputHint(start);
    if (hint) throw new UsageError(`${file}: ${hint}`);
    return { csv: text, generatedAt: null };
  }
  const doc = parseJson(file, text, 'the report') as { Content?: unknown; GeneratedTime?: unknown };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || typeof doc.Content !== 'string') {
    throw new UsageError(
      `${file}: JSON without a base64 "Content" field; expected the output of "aws iam get-credential-report"`,
    );
  }
  let csv: string;
  if (looksLikeCsvReport(doc.Content)) {
    csv = doc.Content; // already decoded (cloudmapper, boto3 dumps)
  } else if (BASE64.test(doc.Content)) {
    csv = Buffer.from(doc.Content, 'base64').toString('utf8');
    if (!looksLikeCsvReport(csv)) {
      throw new UsageError(
        `${file}: "Content" is base64 but does not decode to a credential report CSV (it should start with "user,arn,")`,
      );
    }
  } else {
    throw new UsageError(
      `${file}: "Content" is neither base64 nor a credential report CSV (it should start with "user,arn,")`,
    );
  }
  let generatedAt: Date | null = null;
  if (doc.GeneratedTime !== undefined) {
    const parsed = typeof doc.GeneratedTime === 'string' ? parseIsoInstant(doc.GeneratedTime) : undefined;
    if (!parsed?.ok) {
      throw new UsageError(
        `${file}: "GeneratedTime" is not an ISO 8601 time: ${JSON.stringify(doc.GeneratedTime)}`,
      );
    }
    generatedAt = parsed.date;
  }
  return { csv, generatedAt };
}

/** The tags of `--tags FILE`, and the account its users belong to (from their ARNs), when stated. */
export interface TagsFile {
  readonly tags: UserTags;
  readonly accountId?: string;
}

/**
 * The JSON of `aws iam get-account-authorization-details --filter User`:
 * `{"UserDetailList": [{"UserName": "alice", "Arn": "...", "Tags": [{"Key": "...", "Value": "..."}]}]}`.
 * Several pages concatenated as an array of such documents are accepted too.
 */
export function readTagsFile(file: string): TagsFile {
  const doc = parseJson(file, readText(file), 'the tags file');
  const pages = Array.isArray(doc) ? doc : [doc];
  const tags = new Map<string, Record<string, string>>();
  const accounts = new Set<string>();
  const expected = `expected the output of "aws iam get-account-authorization-details --filter User"`;
  pages.forEach((page, p) => {
    const list = (page as { UserDetailList?: unknown } | null)?.UserDetailList;
    if (!Array.isArray(list)) throw new UsageError(`${file}: no "UserDetailList" array; ${expected}`);
    list.forEach((u: unknown, i) => {
      const at = `${file}: UserDetailList[${i}]${pages.length > 1 ? ` of page ${p + 1}` : ''}`;
      const user = u as { UserName?: unknown; Arn?: unknown; Tags?: unknown };
      if (typeof user?.UserName !== 'string' || user.UserName === '') {
        throw new UsageError(`${at}: "UserName" must be a non-empty string`);
      }
      if (typeof user.Arn === 'string') accounts.add(user.Arn.split(':')[4] ?? '');
      const record: Record<string, string> = {};
      const list = user.Tags ?? [];
      if (!Array.isArray(list)) throw new UsageError(`${at} (${user.UserName}): "Tags" must be an array`);
      list.forEach((t: { Key?: unknown; Value?: unknown }, j) => {
        if (typeof t?.Key !== 'string' || typeof t.Value !== 'string') {
          throw new UsageError(`${at} (${user.UserName}): Tags[${j}] must have a string "Key" and "Value"`);
        }
        record[t.Key] = t.Value;
      });
      tags.set(user.UserName, record);
    });
  });
  accounts.delete('');
  if (accounts.size > 1) {
    throw new UsageError(`${file}: holds users of ${accounts.size} accounts (${[...accounts].join(', ')})`);
  }
  const [accountId] = accounts;
  return { tags, ...(accountId ? { accountId } : {}) };
}

/** The thresholds of `--config FILE`, or the defaults. */
export function readThresholds(file: string | undefined): Thresholds {
  return readConfigSections(file).thresholds;
}

/**
 * The sections of `--config FILE` the CLI uses: the thresholds and the enforcement policy (absent
 * when the file turns enforcement off), or the defaults without a file.
 */
export function readConfigSections(file: string | undefined): {
  readonly thresholds: Thresholds;
  readonly enforcement?: EnforcementSettings;
} {
  if (!file) return { thresholds: DEFAULT_THRESHOLDS };
  const path = userPath(file);
  if (!existsSync(path)) throw new UsageError(`cannot read ${file}: no such file`);
  const config = loadConfig(readConfigFile(path, file), file);
  const enforcement = enforcementSettings(config.enforcement);
  return {
    thresholds: config.thresholds,
    ...(enforcementOn(enforcement) ? { enforcement } : {}),
  };
}

/**
 * `--now`: an ISO 8601 date or time; a time without a zone is UTC, whatever the machine's zone.
 * @throws UsageError for anything else, impossible dates (2026-02-30) included
 */
export function parseNow(value: string | undefined, clock: () => Date = () => new Date()): Date {
  if (value === undefined) return clock();
  const parsed = parseIsoInstant(value.trim());
  if (parsed.ok) return parsed.date;
  if (parsed.reason === 'calendar')
    throw new UsageError(`--now: "${value}" is not a valid date: ${parsed.problem}`);
  throw new UsageError(
    `--now: expected an ISO 8601 date or time such as 2026-12-01 or 2026-12-01T09:00:00Z, got "${value}"`,
  );
}
