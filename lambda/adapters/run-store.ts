/**
 * What the steps of one state machine execution hand each other through S3 (the {@link RunStore}
 * port): the run's account list, which the Distributed Map's ItemReader reads, and each account's
 * delta, written by the child that scanned it and read by the deliver step.
 *
 * Objects (`prefix` defaults to `runs/`):
 * - `runs/<runId>/accounts.json`: a JSON array of {@link AccountItem}, what an ItemReader with
 *   `ReaderConfig: { InputType: 'JSON' }` reads, one item per child;
 * - `runs/<runId>/deltas/<accountId>.json`: one account's delta (a JSON object with `accountId`).
 *
 * Everything read back is checked (a bucket is input): a delta object that does not decode is
 * reported in `unreadable`, never thrown; a call to S3 that fails is a {@link RunStoreError} naming the
 * bucket, the key and the AWS error. Objects are written with `ContentType: application/json`, no ACL
 * and no per-object encryption setting: the bucket's default encryption and lifecycle apply.
 */
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { CredwatchError } from '../core/errors';
import { mapLimit } from '../map-limit';
import type { AccountItem, RunStore } from '../ports';
import { REQUEST_TIMEOUTS } from './sdk';

/** A run's objects cannot be written or read, a run id or account id is invalid, or the account list does not decode. */
export class RunStoreError extends CredwatchError {}

/** The key prefix of every run's objects, unless configured otherwise. */
export const DEFAULT_RUN_PREFIX = 'runs/';
/** What a run id may be: an execution name or `scheduled-<time>-<execution id>`, never a path. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;
const ACCOUNT_ID = /^\d{12}$/;
const DELTA_FILE = /^(\d{12})\.json$/;

export interface S3RunStoreProps {
  /** The run bucket. */
  readonly bucketName: string;
  /**
   * S3 client; every call goes through it, with its configuration (region, endpoint, retries).
   * @default a new S3Client with {@link REQUEST_TIMEOUTS}
   */
  readonly client?: S3Client;
  /**
   * Prepended to every key: empty, or ending with `/` and not starting with one.
   * @default 'runs/'
   */
  readonly prefix?: string;
  /**
   * How many GetObject calls {@link S3RunStore.deltas} runs at once.
   * @default 16
   */
  readonly readConcurrency?: number;
}

/** The {@link RunStore} in an S3 bucket. */
export class S3RunStore implements RunStore {
  private readonly bucketName: string;
  private readonly client: S3Client;
  private readonly prefix: string;
  private readonly readConcurrency: number;

  constructor(props: S3RunStoreProps) {
    if (props.bucketName === '') throw new RunStoreError('S3RunStore: bucketName is empty');
    const prefix = props.prefix ?? DEFAULT_RUN_PREFIX;
    if (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.includes('//'))) {
      throw new RunStoreError(
        `S3RunStore: prefix ${JSON.stringify(prefix)} must be empty or end with "/" (and not start with "/" or contain "//")`,
      );
    }
    const readConcurrency = props.readConcurrency ?? 16;
    if (!Number.isInteger(readConcurrency) || readConcurrency < 1) {
      throw new RunStoreError(
        `S3RunStore: readConcurrency must be a positive integer, got ${readConcurrency}`,
      );
    }
    this.bucketName = props.bucketName;
    this.client = props.client ?? new S3Client({ ...REQUEST_TIMEOUTS });
    this.prefix = prefix;
    this.readConcurrency = readConcurrency;
  }

  /** The key of a run's account list (what the map's ItemReader reads). @throws RunStoreError for a bad run id */
  accountsKey(runId: string): string {
    return `${this.runPrefix(runId)}accounts.json`;
  }

  /** The key of one account's delta. @throws RunStoreError for a bad run id or account id */
  deltaKey(runId: string, accountId: string): string {
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
      throw new RunStoreError(
        `run ${runId}: account id ${JSON.stringify(accountId)} is not 12 digits; the delta is not written`,
      );
    }
    return `${this.deltasPrefix(runId)}${accountId}.json`;
  }

  async putAccounts(runId: string, accounts: readonly AccountItem[]): Promise<{ readonly key: string }> {
    const key = this.accountsKey(runId);
    const problem = accountListProblem(accounts);
    if (problem) throw new RunStoreError(`run ${runId}: the account list is not written: ${problem}`);
    await this.put(key, JSON.stringify(accounts), `the account list of run ${runId}`);
    return { key };
  }

  async getAccounts(runId: string): Promise<AccountItem[]> {
    const key = this.accountsKey(runId);
    const body = await this.get(key, `the account list of run ${runId}`, (cause) => {
      throw new RunStoreError(`run ${runId} has no account list at ${this.url(key)}`, { cause });
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new RunStoreError(`The account list at ${this.url(key)} is not JSON: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const problem = accountListProblem(parsed);
    if (problem) throw new RunStoreError(`The account list at ${this.url(key)} does not decode: ${problem}`);
    return parsed as AccountItem[];
  }

  async putDelta(runId: string, delta: unknown): Promise<void> {
    this.runPrefix(runId);
    if (typeof delta !== 'object' || delta === null || Array.isArray(delta)) {
      throw new RunStoreError(`run ${runId}: a delta must be a JSON object, got ${describe(delta)}`);
    }
    const accountId = (delta as { accountId?: unknown }).accountId;
    if (typeof accountId !== 'string') {
      throw new RunStoreError(`run ${runId}: the delta has no string accountId (got ${describe(accountId)})`);
    }
    const key = this.deltaKey(runId, accountId);
    let body: string;
    try {
      body = JSON.stringify(delta);
    } catch (error) {
      throw new RunStoreError(
        `run ${runId}: the delta of account ${accountId} is not JSON-serializable: ${messageOf(error)}`,
        { cause: error },
      );
    }
    await this.put(key, body, `the delta of account ${accountId} (run ${runId})`);
  }

  async deltas(runId: string): Promise<{
    readonly deltas: ReadonlyMap<string, unknown>;
    readonly unreadable: readonly { readonly key: string; readonly problem: string }[];
  }> {
    const prefix = this.deltasPrefix(runId);
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.bucketName, Prefix: prefix },
      )) {
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      }
    } catch (error) {
      throw new RunStoreError(
        `Could not list the deltas of run ${runId} under ${this.url(prefix)}: ${awsError(error)}`,
        { cause: error },
      );
    }
    const unreadable: { key: string; problem: string }[] = [];
    const readable: { key: string; accountId: string }[] = [];
    for (const key of keys) {
      const file = DELTA_FILE.exec(key.slice(prefix.length));
      if (file) readable.push({ key, accountId: file[1]! });
      else unreadable.push({ key, problem: `the key is not ${prefix}<12-digit account id>.json` });
    }
    const read = await mapLimit(readable, this.readConcurrency, async ({ key, accountId }) => {
      const body = await this.get(key, `the delta of account ${accountId} (run ${runId})`);
      return { key, accountId, decoded: decodeDelta(body, accountId) };
    });
    const deltas = new Map<string, unknown>();
    for (const { key, accountId, decoded } of read) {
      if ('problem' in decoded) unreadable.push({ key, problem: decoded.problem });
      else deltas.set(accountId, decoded.delta);
    }
    return { deltas, unreadable };
  }

  /** `<prefix><runId>/`, after checking the run id. */
  private runPrefix(runId: string): string {
    if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId) || runId.includes('..') || runId === '.') {
      throw new RunStoreError(
        `Invalid run id ${JSON.stringify(runId)}: it must be 1 to 200 of A-Z a-z 0-9 . _ : - (no "/", no "..")`,
      );
    }
    return `${this.prefix}${runId}/`;
  }

  private deltasPrefix(runId: string): string {
    return `${this.runPrefix(runId)}deltas/`;
  }

  private url(key: string): string {
    return `s3://${this.bucketName}/${key}`;
  }

  private async put(key: string, body: string, what: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName,
          Key: key,
          Body: body,
          ContentType: 'application/json',
        }),
      );
    } catch (error) {
      throw new RunStoreError(`Could not write ${what} to ${this.url(key)}: ${awsError(error)}`, {
        cause: error,
      });
    }
  }

  /** The object's body as UTF-8; `onMissing` answers NoSuchKey, otherwise a failure is a RunStoreError. */
  private async get(key: string, what: string, onMissing?: (error: unknown) => never): Promise<string> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
      return (await answer.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (onMissing && errorName(error) === 'NoSuchKey') onMissing(error);
      throw new RunStoreError(`Could not read ${what} at ${this.url(key)}: ${awsError(error)}`, {
        cause: error,
      });
    }
  }
}

/** What is wrong with a value read or written as a run's account list, or undefined. */
function accountListProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return `it is not a JSON array (got ${describe(value)})`;
  const seen = new Map<string, number>();
  for (const [index, item] of value.entries()) {
    const at = `account at index ${index}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return `${at} is not an object (got ${describe(item)})`;
    }
    const { id, name, organizationalUnits, tags } = item as Record<string, unknown>;
    if (typeof id !== 'string' || !ACCOUNT_ID.test(id)) {
      return `${at} has no 12-digit string id (got ${describe(id)})`;
    }
    const earlier = seen.get(id);
    if (earlier !== undefined) return `${at}: account ${id} is also at index ${earlier}`;
    seen.set(id, index);
    if (name !== undefined && typeof name !== 'string') return `${at} (${id}): name is not a string`;
    if (
      organizationalUnits !== undefined &&
      (!Array.isArray(organizationalUnits) || !organizationalUnits.every((ou) => typeof ou === 'string'))
    ) {
      return `${at} (${id}): organizationalUnits is not an array of strings`;
    }
    if (
      tags !== undefined &&
      (typeof tags !== 'object' ||
        tags === null ||
        Array.isArray(tags) ||
        !Object.values(tags).every((v) => typeof v === 'string'))
    ) {
      return `${at} (${id}): tags is not an object of strings`;
    }
  }
  return undefined;
}

function decodeDelta(body: string, accountId: string): { delta: unknown } | { problem: string } {
  let delta: unknown;
  try {
    delta = JSON.parse(body);
  } catch (error) {
    return { problem: `not JSON: ${messageOf(error)}` };
  }
  if (typeof delta !== 'object' || delta === null || Array.isArray(delta)) {
    return { problem: `not a JSON object (got ${describe(delta)})` };
  }
  const inside = (delta as { accountId?: unknown }).accountId;
  if (inside !== accountId) {
    return { problem: `its accountId is ${describe(inside)}, its key names account ${accountId}` };
  }
  return { delta };
}

/** A short description of a value for an error message (never the whole value). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'nothing';
  return `${typeof value} ${String(value)}`;
}

const errorName = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** `Name: message` of an AWS SDK error (the HTTP status when S3 gave no message). */
function awsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = error.message && error.message !== error.name ? error.message : `HTTP ${status ?? '?'}`;
  return `${error.name}: ${message}`;
}
