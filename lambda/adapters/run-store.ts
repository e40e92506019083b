/**
 * What the steps of one state machine execution hand each other through S3 (the {@link RunStore}
 * port): the run's account list, which the Distributed Map's ItemReader reads, and each account's
 * delta, written by the child that scanned it and read by the deliver step.
 *
 * Objects (`prefix` defaults to `runs/`):
 * - `runs/<runId>/accounts.json`: a JSON array of {@link AccountItem}, what an ItemReader with
 *   `ReaderConfig: { InputType: 'JSON' }` reads, one item per child;
 * - `runs/<runId>/deltas/<batch>-<attempt>-<part>.jsonl`: a part of one child's deltas ({@link DeltaPart}:
 *   the batch's first account id, the attempt's start in epoch ms, the part's number in that attempt,
 *   four digits; an attempt never writes over another's), JSON Lines: a header line
 *   `{"credwatchDeltas":1,"accounts":[ids]}`, then one delta a line, in the header's order. A child
 *   writes a few of these (lambda/delta-parts.ts), not an object per account: at 5,000 accounts the
 *   requests of one object per account cost more than the orchestration.
 * - `runs/<runId>/deltas/<accountId>.json`: one account's delta (a JSON object with `accountId`), what
 *   the release before wrote; still read, so that an execution under way across a deployment delivers.
 *
 * Everything read back is checked (a bucket is input): an object or a line that does not decode is
 * reported in `unreadable` (with the account, when its header names it), never thrown; a call to S3
 * that fails is a {@link RunStoreError} naming the bucket, the key and the AWS error. An account found
 * in two objects (a retried child scanned it again) is taken from the newest attempt, a scan over a
 * failure; `sources` says from which key, and a second read given them reads each account from its key only. Objects are written
 * with no ACL and no per-object encryption setting: the bucket's default encryption and lifecycle apply.
 */
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { CredwatchError } from '../core/errors';
import { mapLimit } from '../map-limit';
import {
  type AccountItem,
  type DeltaPart,
  type DeltaReadOptions,
  isAttemptStart,
  type RunStore,
  type UnreadableDelta,
} from '../ports';
import { REQUEST_TIMEOUTS } from './sdk';

/** A run's objects cannot be written or read, a run id or account id is invalid, or the account list does not decode. */
export class RunStoreError extends CredwatchError {}

/** The key prefix of every run's objects, unless configured otherwise. */
export const DEFAULT_RUN_PREFIX = 'runs/';
/** Run bucket objects deliver reads at once (S3RunStore's `readConcurrency` default), each a line at a time. */
export const DELTA_READ_CONCURRENCY = 8;
/**
 * Objects read at once when each is read whole first (DeltaReadOptions `whole`): a part is up to
 * written once it reaches PART_FLUSH_BYTES, so these many hold about 4 × (8 MiB and one delta), twice
 * that while a body becomes text or for text that is not Latin-1.
 */
export const WHOLE_READ_CONCURRENCY = 4;

/** What a run id may be: an execution name or `scheduled-<time>-<execution id>`, never a path. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;
const ACCOUNT_ID = /^\d{12}$/;
/** The release before: one account's delta. */
const DELTA_FILE = /^(\d{12})\.json$/;
const PART_FILE = /^(\d{12})-(\d{13})-(\d{4})\.jsonl$/;
/** The first line of a part: what it holds. */
export const DELTA_PART_VERSION = 1;
/** The most parts one batch may write (the part's four digits). */
export const MAX_PARTS_PER_BATCH = 10_000;

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
   * How many GetObject calls {@link S3RunStore.deltas} runs at once (a part is up to about 8 MiB).
   * @default 8
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
    const readConcurrency = props.readConcurrency ?? DELTA_READ_CONCURRENCY;
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

  /** The key of one part of a batch's deltas. @throws RunStoreError for a bad run id or part */
  deltaPartKey(runId: string, at: DeltaPart): string {
    const prefix = this.deltasPrefix(runId);
    if (typeof at?.batch !== 'string' || !ACCOUNT_ID.test(at.batch)) {
      throw new RunStoreError(
        `run ${runId}: batch ${describe(at?.batch)} is not a 12-digit account id (the batch's first); the part is not written`,
      );
    }
    if (!isAttemptStart(at.attempt)) {
      throw new RunStoreError(
        `run ${runId}: attempt ${describe(at.attempt)} of batch ${at.batch} is not a time in epoch milliseconds (13 digits); the part is not written`,
      );
    }
    if (!Number.isInteger(at.part) || at.part < 0 || at.part >= MAX_PARTS_PER_BATCH) {
      throw new RunStoreError(
        `run ${runId}: part ${describe(at.part)} of batch ${at.batch} is not an integer from 0 to ${MAX_PARTS_PER_BATCH - 1}; the part is not written`,
      );
    }
    return `${prefix}${at.batch}-${at.attempt}-${String(at.part).padStart(4, '0')}.jsonl`;
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

  async putDeltas(
    runId: string,
    at: DeltaPart,
    deltas: readonly unknown[],
  ): Promise<{ readonly key: string }> {
    const key = this.deltaPartKey(runId, at);
    if (!Array.isArray(deltas) || deltas.length === 0) {
      throw new RunStoreError(`run ${runId}: part ${key} would hold no delta; it is not written`);
    }
    const ids: string[] = [];
    const lines: string[] = [];
    for (const [index, delta] of deltas.entries()) {
      const at = `delta ${index} of the part`;
      if (typeof delta !== 'object' || delta === null || Array.isArray(delta)) {
        throw new RunStoreError(
          `run ${runId}: ${at} is not a JSON object (got ${describe(delta)}); the part is not written`,
        );
      }
      const accountId = (delta as { accountId?: unknown }).accountId;
      if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
        throw new RunStoreError(
          `run ${runId}: ${at} has no 12-digit string accountId (got ${describe(accountId)}); the part is not written`,
        );
      }
      if (ids.includes(accountId)) {
        throw new RunStoreError(
          `run ${runId}: account ${accountId} is twice in the part; the part is not written`,
        );
      }
      try {
        lines.push(JSON.stringify(delta));
      } catch (error) {
        throw new RunStoreError(
          `run ${runId}: the delta of account ${accountId} is not JSON-serializable: ${messageOf(error)}; the part is not written`,
          { cause: error },
        );
      }
      ids.push(accountId);
    }
    const header = JSON.stringify({ credwatchDeltas: DELTA_PART_VERSION, accounts: ids });
    await this.put(
      key,
      `${header}\n${lines.join('\n')}\n`,
      `the deltas of accounts ${ids.join(', ')} (run ${runId})`,
      'application/x-ndjson',
    );
    return { key };
  }

  async deltas(
    runId: string,
    options: DeltaReadOptions = {},
  ): Promise<{
    readonly deltas: ReadonlyMap<string, unknown>;
    readonly unreadable: readonly UnreadableDelta[];
    readonly sources: ReadonlyMap<string, string>;
  }> {
    const prefix = this.deltasPrefix(runId);
    const objects: { key: string; modified: number }[] = [];
    const only = options.sources;
    if (only) {
      for (const key of new Set(only.values())) {
        if (typeof key !== 'string' || !key.startsWith(prefix) || key.slice(prefix.length).includes('/')) {
          throw new RunStoreError(
            `run ${runId}: ${describe(key)} is not a key of the run's deltas (${prefix}…)`,
          );
        }
        objects.push({ key, modified: 0 });
      }
    } else {
      try {
        for await (const page of paginateListObjectsV2(
          { client: this.client },
          { Bucket: this.bucketName, Prefix: prefix },
        )) {
          for (const object of page.Contents ?? []) {
            if (object.Key !== undefined)
              objects.push({ key: object.Key, modified: object.LastModified?.getTime() ?? 0 });
          }
        }
      } catch (error) {
        throw new RunStoreError(
          `Could not list the deltas of run ${runId} under ${this.url(prefix)}: ${awsError(error)}`,
          { cause: error },
        );
      }
    }
    const unreadable: UnreadableDelta[] = [];
    /** `attempt`: when the attempt that wrote it started (a part's key says), or when it was written. */
    const readable: { key: string; attempt: number; accountId?: string }[] = [];
    for (const object of objects) {
      const name = object.key.slice(prefix.length);
      const single = DELTA_FILE.exec(name);
      const part = PART_FILE.exec(name);
      if (single) readable.push({ key: object.key, attempt: object.modified, accountId: single[1]! });
      else if (part) readable.push({ key: object.key, attempt: Number(part[2]) });
      else {
        unreadable.push({
          key: object.key,
          // A name of another form may still hold deltas (another release's): its accounts are unknown.
          ...(/\.jsonl?$/.test(name) ? { whole: true as const } : {}),
          problem: `the key is not ${prefix}<12-digit account id>-<13-digit attempt>-<4-digit part>.jsonl (or the release before's ${prefix}<12-digit account id>.json)`,
        });
      }
    }
    // Each delta is kept as projected as soon as its line is read: a part's whole deltas are never held.
    const keep = options.project ?? ((delta: Record<string, unknown>) => delta);
    const whole = options.whole === true;
    const concurrency = whole ? Math.min(this.readConcurrency, WHOLE_READ_CONCURRENCY) : this.readConcurrency;
    const read = await mapLimit(readable, concurrency, async ({ key, attempt, accountId }) => {
      const what =
        accountId === undefined
          ? `the deltas part ${key.slice(prefix.length)} (run ${runId})`
          : `the delta of account ${accountId} (run ${runId})`;
      // A part is read a line at a time as it arrives (a part is up to PART_FLUSH_BYTES, and deliver
      // reads several at once: none is held whole, unless `whole` asks for it); an object of the release
      // before is one delta.
      const wanted = only ? (id: string) => only.get(id) === key : undefined;
      const decoded =
        accountId === undefined
          ? await decodePart(whole ? linesOf(await this.get(key, what)) : this.lines(key, what), keep, wanted)
          : await decodeSingle(await this.get(key, what), accountId, keep);
      return { key, attempt, decoded };
    });
    // The newest attempt first (a retried child writes its accounts again, under its own keys), then by
    // key; a scan is taken over a failure of the same account (both are of this run).
    read.sort((a, b) => b.attempt - a.attempt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const deltas = new Map<string, unknown>();
    const sources = new Map<string, string>();
    const failed = new Set<string>();
    for (const { key, decoded } of read) {
      for (const problem of decoded.problems) unreadable.push({ key, ...problem });
      for (const [accountId, delta, error] of decoded.deltas) {
        if (only && only.get(accountId) !== key) continue;
        if (deltas.has(accountId) && !(failed.has(accountId) && !error)) continue;
        deltas.set(accountId, delta);
        sources.set(accountId, key);
        if (error) failed.add(accountId);
        else failed.delete(accountId);
      }
    }
    return { deltas, unreadable, sources };
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

  private async put(
    key: string,
    body: string,
    what: string,
    contentType = 'application/json',
  ): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName,
          Key: key,
          Body: body,
          ContentType: contentType,
        }),
      );
    } catch (error) {
      throw new RunStoreError(`Could not write ${what} to ${this.url(key)}: ${awsError(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * The object's body as UTF-8, a line at a time as it arrives (without its newlines; a last line
   * without one too): only the line being read and the chunk it is in are held. A failure to get or
   * to read it is a RunStoreError.
   */
  private async *lines(key: string, what: string): AsyncGenerator<string> {
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }))).Body;
    } catch (error) {
      throw new RunStoreError(`Could not read ${what} at ${this.url(key)}: ${awsError(error)}`, {
        cause: error,
      });
    }
    if (body === undefined || body === null) return;
    const failed = (error: unknown) =>
      new RunStoreError(`Could not read ${what} at ${this.url(key)}: ${awsError(error)}`, { cause: error });
    if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
      // Not a stream (a runtime whose SDK answers with a blob): read whole, then split.
      let text: string;
      try {
        text = await (body as { transformToString(encoding: string): Promise<string> }).transformToString(
          'utf-8',
        );
      } catch (error) {
        throw failed(error);
      }
      yield* linesOf(text);
      return;
    }
    const decoder = new TextDecoder('utf-8');
    let pending: string[] = [];
    let done = false;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        let text = decoder.decode(chunk, { stream: true });
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
          pending.push(text.slice(0, nl));
          const line = pending.join('');
          pending = [];
          text = text.slice(nl + 1);
          yield line;
        }
        if (text !== '') pending.push(text);
      }
      done = true;
    } catch (error) {
      throw failed(error);
    } finally {
      // Stopped before its end (a header that cannot be read): the connection is given back.
      if (!done) (body as { destroy?: () => void }).destroy?.();
    }
    const last = pending.join('') + decoder.decode();
    if (last !== '') yield last;
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

/** What one object held: its deltas by account, and what could not be read in it. */
interface Decoded {
  /** Each delta as kept, and whether it is of an account that could not be scanned. */
  readonly deltas: readonly (readonly [string, unknown, boolean])[];
  readonly problems: readonly {
    readonly problem: string;
    readonly accountId?: string;
    readonly whole?: true;
  }[];
}

/** What is kept of each delta read ({@link DeltaReadOptions.project}). */
type Keep = (delta: Record<string, unknown>) => unknown;
/** Whether the line of this account is read at all (a second read takes each account from one key). */
type Wanted = (accountId: string) => boolean;

/** An object of the release before: one account's delta. */
async function decodeSingle(body: string, accountId: string, keep: Keep): Promise<Decoded> {
  const decoded = deltaObject(body, accountId);
  return 'problem' in decoded
    ? { deltas: [], problems: [{ accountId, problem: decoded.problem }] }
    : { deltas: [[accountId, await keep(decoded.delta), hasError(decoded.delta)]], problems: [] };
}

/** The lines of a text read whole (each a slice of it: the text is not copied). */
async function* linesOf(text: string): AsyncGenerator<string> {
  let from = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
    yield text.slice(from, nl);
    from = nl + 1;
  }
  if (from < text.length) yield text.slice(from);
}

/**
 * A part, read a line at a time: its header line names its accounts, then one delta a line in that
 * order. A line is dropped once its delta is kept (projected).
 */
async function decodePart(lines: AsyncGenerator<string>, keep: Keep, wanted?: Wanted): Promise<Decoded> {
  const first = await lines.next();
  const refused = async (decoded: Decoded): Promise<Decoded> => {
    await lines.return(undefined);
    return decoded;
  };
  let header: unknown;
  try {
    header = JSON.parse(first.done ? '' : first.value);
  } catch (error) {
    return refused({
      deltas: [],
      problems: [{ whole: true, problem: `its header line is not JSON (${jsonError(error)})` }],
    });
  }
  const { credwatchDeltas, accounts } = (
    typeof header === 'object' && header !== null ? header : {}
  ) as Record<string, unknown>;
  if (credwatchDeltas !== DELTA_PART_VERSION) {
    return refused({
      deltas: [],
      problems: [
        {
          whole: true,
          problem: `its header line is not {"credwatchDeltas":${DELTA_PART_VERSION},"accounts":[…]} (credwatchDeltas is ${describe(credwatchDeltas)})`,
        },
      ],
    });
  }
  if (
    !Array.isArray(accounts) ||
    !accounts.every((id) => typeof id === 'string' && ACCOUNT_ID.test(id)) ||
    new Set(accounts).size !== accounts.length
  ) {
    return refused({
      deltas: [],
      problems: [
        { whole: true, problem: "its header line's accounts are not distinct 12-digit account ids" },
      ],
    });
  }
  const deltas: (readonly [string, unknown, boolean])[] = [];
  const problems: { problem: string; accountId?: string; whole?: true }[] = [];
  const names = accounts as string[];
  /** Delta lines read (after the header). */
  let read = 0;
  for await (const line of lines) {
    const accountId = names[read++];
    if (accountId === undefined || (wanted && !wanted(accountId))) continue;
    const decoded = deltaObject(line, accountId);
    if ('problem' in decoded) problems.push({ accountId, problem: `line ${read + 1}: ${decoded.problem}` });
    // The next line is read once the delta is kept (a projection may write before it answers).
    else deltas.push([accountId, await keep(decoded.delta), hasError(decoded.delta)]);
  }
  for (const [index, accountId] of names.entries()) {
    if (index < read) continue;
    problems.push({
      accountId,
      problem: `its line ${index + 2} is missing: the object ends after ${read} of the ${names.length} deltas its header names`,
    });
  }
  if (read > names.length) {
    problems.push({
      problem: `it has ${read - names.length} more lines than its header names; they are not read`,
    });
  }
  return { deltas, problems };
}

function deltaObject(
  text: string,
  accountId: string,
): { delta: Record<string, unknown> } | { problem: string } {
  let delta: unknown;
  try {
    delta = JSON.parse(text);
  } catch (error) {
    return { problem: `not JSON (${jsonError(error)})` };
  }
  if (typeof delta !== 'object' || delta === null || Array.isArray(delta)) {
    return { problem: `not a JSON object (got ${describe(delta)})` };
  }
  const inside = (delta as { accountId?: unknown }).accountId;
  if (inside !== accountId) {
    return { problem: `its accountId is ${describe(inside)}, where it should be account ${accountId}` };
  }
  return { delta: delta as Record<string, unknown> };
}

/** Whether a delta is of an account that could not be scanned. */
const hasError = (delta: unknown): boolean => (delta as { error?: unknown }).error !== undefined;

/**
 * Where JSON.parse stopped, without the text around it (V8 quotes the input: user names, ARNs, key ids).
 */
function jsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `invalid at character ${position}`;
  return /end of( JSON)? input/i.test(message) ? 'it ends too soon' : 'invalid';
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
