import { randomUUID } from 'node:crypto';
import { readBody, serveLocally } from './local-server';

const JSON_1_1 = 'application/x-amz-json-1.1';

interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

const jsonError = (type: string, message: string): JsonAnswer => ({
  status: 400,
  body: { __type: type, message },
});

/**
 * The running server's handle. Every answer, errors included, carries an `x-amzn-RequestId` (a
 * UUID), as AWS's do: the SDK reads it into `$metadata.requestId`.
 */
export interface JsonEndpoint {
  /** `http://127.0.0.1:PORT`, for the client's `endpoint`. */
  readonly url: string;
  close(): Promise<void>;
}

async function startJsonEndpoint(
  targetPrefix: string,
  operations: Record<string, (input: Record<string, unknown>) => JsonAnswer>,
): Promise<JsonEndpoint> {
  return serveLocally(async (req, res) => {
    const text = await readBody(req);
    {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(`${targetPrefix}.`) ? target.slice(targetPrefix.length + 1) : '';
      let answer: JsonAnswer;
      let input: unknown;
      try {
        input = text === '' ? {} : JSON.parse(text);
      } catch {
        input = undefined;
      }
      if (req.method !== 'POST' || !Object.hasOwn(operations, operation)) {
        answer = jsonError('UnknownOperationException', `unknown operation "${target}"`);
      } else if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        answer = jsonError('SerializationException', 'the request body is not a JSON object');
      } else {
        answer = operations[operation]!(input as Record<string, unknown>);
      }
      const body = JSON.stringify(answer.body);
      const type = (answer.body as { __type?: string }).__type;
      res.writeHead(answer.status, {
        'Content-Type': JSON_1_1,
        'Content-Length': Buffer.byteLength(body),
        'x-amzn-RequestId': randomUUID(),
        ...(type ? { 'x-amzn-ErrorType': type } : {}),
      });
      res.end(body);
    }
  });
}

/** AWS's answer to a request that breaks the service model (length, pattern, required member). */
const validationError = (message: string): JsonAnswer => jsonError('ValidationException', message);

export interface SecretsManagerEndpointOptions {
  /** Secret strings by name or by full ARN (`arn:aws:secretsmanager:…:secret:NAME-AbCdEf`). */
  readonly secrets: Readonly<Record<string, string>>;
  /** Region and account of the ARNs made for secrets given by name. @default us-east-1, 123456789012 */
  readonly region?: string;
  readonly accountId?: string;
  /** CreatedDate of the versions in `secrets`. @default 2025-01-01T00:00:00Z */
  readonly createdAt?: Date;
  /** CreatedDate of the versions added later (putSecret, PutSecretValue). @default the current time */
  readonly now?: () => Date;
}

export interface SecretsManagerEndpoint extends JsonEndpoint {
  /** The SecretId of every GetSecretValue request, in order (unknown ones included). */
  readonly requests: readonly string[];
  /**
   * Adds a secret, or a new version of one (a rotation: a new VersionId labelled AWSCURRENT, the
   * version it replaces AWSPREVIOUS). Returns the new VersionId.
   */
  putSecret(nameOrArn: string, value: string): string;
}

interface SecretVersion {
  readonly id: string;
  readonly value: string;
  readonly createdAt: Date;
  stages: string[];
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly versions: SecretVersion[];
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const NO_SUCH_SECRET = "Secrets Manager can't find the specified secret.";

/**
 * Secrets Manager's GetSecretValue and PutSecretValue, with versions and staging labels as the real
 * service keeps them. A secret is found by name, by full ARN, or by the ARN without its random
 * 6-character suffix. Answers, as AWS words them (400 each):
 * - unknown secret: `ResourceNotFoundException` "Secrets Manager can't find the specified secret."
 * - unknown `VersionStage`: `ResourceNotFoundException` "Secrets Manager can't find the specified
 *   secret value for staging label: X" (aws/aws-sdk-js-v3#7701 quotes it from AWS);
 * - unknown `VersionId`: `ResourceNotFoundException` "… for VersionId: X" (moto, matching AWS);
 * - a `VersionStage` the `VersionId` does not carry: `InvalidRequestException` "You provided a
 *   VersionStage that is not associated to the provided VersionId.";
 * - PutSecretValue without a value: `InvalidRequestException` "You must provide either SecretString
 *   or SecretBinary."; an existing ClientRequestToken with another value: `ResourceExistsException`.
 * A PutSecretValue without VersionStages moves AWSCURRENT to the new version and AWSPREVIOUS to the
 * version it came from; with VersionStages, only those labels move. Strings only: SecretBinary is
 * refused (the stand-in does not model it).
 */
export async function startSecretsManagerEndpoint(
  options: SecretsManagerEndpointOptions,
): Promise<SecretsManagerEndpoint> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const createdAt = options.createdAt ?? new Date('2025-01-01T00:00:00Z');
  const now = options.now ?? (() => new Date());
  const secrets: StoredSecret[] = [];
  const requests: string[] = [];
  let versionSeq = 0;

  const suffixOf = (name: string) => {
    let h = 0;
    for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
    return h.toString(36).padStart(6, 'a').slice(-6);
  };
  const parse = (nameOrArn: string) => {
    if (!nameOrArn.startsWith('arn:')) {
      return {
        name: nameOrArn,
        arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${nameOrArn}-${suffixOf(nameOrArn)}`,
      };
    }
    const full = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(.+)-[A-Za-z0-9]{6}$/.exec(nameOrArn);
    if (!full?.[1])
      throw new Error(`"${nameOrArn}" is not a full Secrets Manager secret ARN (…:secret:NAME-AbCdEf)`);
    return { name: full[1], arn: nameOrArn };
  };
  const find = (id: string) =>
    secrets.find(
      (s) => s.name === id || s.arn === id || (id.startsWith('arn:') && s.arn.slice(0, -7) === id),
    );
  /** Adds a version labelled `stages`, moving those labels (and AWSPREVIOUS after AWSCURRENT). */
  const addVersion = (secret: StoredSecret, value: string, at: Date, id?: string, stages = [CURRENT]) => {
    const version: SecretVersion = {
      id: id ?? `00000000-0000-4000-8000-${(++versionSeq).toString(16).padStart(12, '0')}`,
      value,
      createdAt: at,
      stages: [...new Set(stages)],
    };
    const wasCurrent = secret.versions.find((v) => v.stages.includes(CURRENT));
    for (const v of secret.versions) v.stages = v.stages.filter((s) => !version.stages.includes(s));
    if (version.stages.includes(CURRENT) && wasCurrent && !version.stages.includes(PREVIOUS)) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== PREVIOUS);
      wasCurrent.stages.push(PREVIOUS);
    }
    secret.versions.push(version);
    return version;
  };
  const putSecret = (nameOrArn: string, value: string, at = now()) => {
    const { name, arn } = parse(nameOrArn);
    let secret = secrets.find((s) => s.arn === arn);
    if (!secret) {
      secret = { name, arn, versions: [] };
      secrets.push(secret);
    }
    return addVersion(secret, value, at).id;
  };
  for (const [nameOrArn, value] of Object.entries(options.secrets)) putSecret(nameOrArn, value, createdAt);

  const optionalString = (input: Record<string, unknown>, key: string): string | undefined | null => {
    const v = input[key];
    return v === undefined ? undefined : typeof v === 'string' ? v : null;
  };

  const endpoint = await startJsonEndpoint('secretsmanager', {
    GetSecretValue(input) {
      const id = optionalString(input, 'SecretId');
      requests.push(typeof id === 'string' ? id : '');
      const versionId = optionalString(input, 'VersionId');
      const versionStage = optionalString(input, 'VersionStage');
      if (id === null || versionId === null || versionStage === null)
        return jsonError('SerializationException', 'SecretId, VersionId and VersionStage are strings');
      if (id === undefined)
        return validationError(
          "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
        );
      const secret = find(id);
      if (!secret) return jsonError('ResourceNotFoundException', NO_SUCH_SECRET);
      let version: SecretVersion | undefined;
      if (versionId !== undefined) {
        version = secret.versions.find((v) => v.id === versionId);
        if (!version)
          return jsonError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
          );
        if (versionStage !== undefined && !version.stages.includes(versionStage))
          return jsonError(
            'InvalidRequestException',
            'You provided a VersionStage that is not associated to the provided VersionId.',
          );
      } else {
        const stage = versionStage ?? CURRENT;
        version = secret.versions.find((v) => v.stages.includes(stage));
        if (!version)
          return jsonError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
          );
      }
      return {
        status: 200,
        body: {
          ARN: secret.arn,
          Name: secret.name,
          SecretString: version.value,
          VersionId: version.id,
          VersionStages: [...version.stages],
          CreatedDate: version.createdAt.getTime() / 1000,
        },
      };
    },

    PutSecretValue(input) {
      const id = optionalString(input, 'SecretId');
      const value = optionalString(input, 'SecretString');
      const token = optionalString(input, 'ClientRequestToken');
      const rawStages = input.VersionStages;
      if (id === null || value === null || token === null)
        return jsonError(
          'SerializationException',
          'SecretId, SecretString and ClientRequestToken are strings',
        );
      if (
        rawStages !== undefined &&
        !(Array.isArray(rawStages) && rawStages.every((s) => typeof s === 'string'))
      )
        return jsonError('SerializationException', 'VersionStages is a list of strings');
      const stages = (rawStages as string[] | undefined) ?? [];
      if (id === undefined)
        return validationError(
          "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
        );
      if (token !== undefined && (token.length < 32 || token.length > 64))
        return validationError(
          `1 validation error detected: Value '${token}' at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 64`,
        );
      const secret = find(id);
      if (!secret) return jsonError('ResourceNotFoundException', NO_SUCH_SECRET);
      if (input.SecretBinary !== undefined)
        return jsonError('InvalidRequestException', 'This local stand-in stores SecretString only.');
      if (value === undefined)
        return jsonError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
      const existing = token === undefined ? undefined : secret.versions.find((v) => v.id === token);
      if (existing && existing.value !== value)
        return jsonError(
          'ResourceExistsException',
          "You can't modify an existing version, you can only create a new version.",
        );
      const version =
        existing ?? addVersion(secret, value, now(), token, stages.length > 0 ? stages : undefined);
      return {
        status: 200,
        body: {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: version.id,
          VersionStages: [...version.stages],
        },
      };
    },
  });
  return { ...endpoint, requests, putSecret: (nameOrArn, value) => putSecret(nameOrArn, value) };
}

/** One entry PutEvents received, as sent (Time in epoch seconds, as the SDK serializes it). */
export interface ReceivedEvent {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Resources?: readonly string[];
  readonly Time?: number;
  readonly TraceHeader?: string;
}

export interface EventBridgeEndpointOptions {
  /**
   * Makes an entry that passed validation fail (reported in the answer, not recorded), e.g.
   * `InternalFailure` or `ThrottlingException`. @default every valid entry succeeds
   */
  readonly rejectEntry?: (
    entry: ReceivedEvent,
  ) => { readonly code: string; readonly message: string } | undefined;
  /**
   * Most bytes the entries of one request may hold together, counted as EventBridge documents it
   * (see {@link putEventsEntrySize}). AWS raised this from 256 KB to 1 MB on 2026-01-29 (AWS Compute
   * Blog, "serverless services now support payloads up to 1 MB"); the API reference still says
   * 256 KB. @default 262_144 (256 KB: what fits there fits everywhere)
   */
  readonly maxRequestBytes?: number;
}

export interface EventBridgeEndpoint extends JsonEndpoint {
  /** Every accepted entry, in the order received. */
  readonly entries: readonly ReceivedEvent[];
  /** Number of PutEvents requests. */
  requestCount(): number;
}

/** PutEventsRequestEntry.EventBusName: a name or an event bus ARN (EventBridge API reference). */
const EVENT_BUS_NAME = /^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[.\-_A-Za-z0-9]+$/;

/**
 * The size EventBridge counts for one PutEvents entry ("Calculating Amazon EventBridge PutEvents
 * event entry size"): 14 bytes for Time if present, plus the UTF-8 bytes of Source, DetailType,
 * Detail and each of Resources.
 */
export function putEventsEntrySize(entry: ReceivedEvent): number {
  const bytes = (s: unknown) => (typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0);
  return (
    (entry.Time !== undefined ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0)
  );
}

/** Why EventBridge fails one entry (still answering 200), or undefined for a valid one. */
function entryFailure(entry: ReceivedEvent): { code: string; message: string } | undefined {
  const required = (field: 'Source' | 'DetailType' | 'Detail') => ({
    code: 'InvalidArgument',
    message: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
  });
  if (!entry.Source) return required('Source');
  if (!entry.DetailType) return required('DetailType');
  if (!entry.Detail) return required('Detail');
  // "The aws. value prefix is service-reserved" (PutEventsRequestEntry); ErrorCode per PutEventsResultEntry.
  if (entry.Source.startsWith('aws.'))
    return { code: 'NotAuthorizedForSourceException', message: 'Not authorized for the source.' };
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    return { code: 'MalformedDetail', message: 'Detail is malformed.' };
  return undefined;
}

/** Type errors AWS's JSON deserializer rejects before any validation, or undefined. */
function serializationProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return 'an entry is not a structure';
  const e = entry as Record<string, unknown>;
  for (const key of ['Source', 'DetailType', 'Detail', 'EventBusName', 'TraceHeader'])
    if (e[key] !== undefined && typeof e[key] !== 'string') return `${key} is not a string`;
  if (e.Time !== undefined && typeof e.Time !== 'number') return 'Time is not a timestamp';
  if (
    e.Resources !== undefined &&
    !(Array.isArray(e.Resources) && e.Resources.every((r) => typeof r === 'string'))
  )
    return 'Resources is not a list of strings';
  return undefined;
}

/**
 * EventBridge's PutEvents, validating as EventBridge does. Request-level failures (400, nothing
 * recorded): no `Entries` or not 1–10 of them, an EventBusName that is neither a bus name nor a bus
 * ARN (length 1–1600 and the API reference's pattern), a Resources ARN over 2048 characters or a
 * TraceHeader over 500 (`ValidationException` "1 validation error detected: …"), entries that
 * together exceed `maxRequestBytes` (`ValidationException` "Total size of the entries in the request
 * is over the limit.", as AWS answered localstack's validated test), wrong JSON types
 * (`SerializationException`).
 * Entry-level failures (200, `FailedEntryCount`, `{ErrorCode, ErrorMessage}` in the entry's place),
 * as recorded against AWS in localstack's snapshot tests: a missing Source, DetailType or Detail
 * (`InvalidArgument` "Parameter Detail is not valid. Reason: Detail is a required argument."), a
 * Detail that is not a JSON object (`MalformedDetail` "Detail is malformed."), a Source starting
 * with `aws.` (`NotAuthorizedForSourceException`); then whatever `rejectEntry` scripts. Good
 * entries get `{EventId}` and are recorded. As on AWS, a well-formed name of a bus that does not
 * exist is accepted (aws/aws-cli#9186).
 */
export async function startEventBridgeEndpoint(
  options: EventBridgeEndpointOptions = {},
): Promise<EventBridgeEndpoint> {
  const maxRequestBytes = options.maxRequestBytes ?? 262_144;
  const entries: ReceivedEvent[] = [];
  let requests = 0;
  let eventSeq = 0;
  const endpoint = await startJsonEndpoint('AWSEvents', {
    PutEvents(input) {
      requests += 1;
      if (input.Entries === undefined || input.Entries === null)
        return validationError(
          "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
        );
      if (!Array.isArray(input.Entries)) return jsonError('SerializationException', 'Entries is not a list');
      const received = input.Entries as unknown[];
      if (received.length < 1 || received.length > 10) {
        const bound = received.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10';
        return validationError(
          `1 validation error detected: Value '[${received.length} entries]' at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
        );
      }
      for (const entry of received) {
        const problem = serializationProblem(entry);
        if (problem) return jsonError('SerializationException', problem);
      }
      const typed = received as ReceivedEvent[];
      const violations = typed.flatMap((entry, i) => {
        const at = `entries.${i + 1}.member`;
        const found: string[] = [];
        const bus = entry.EventBusName;
        if (bus !== undefined) {
          if (bus.length < 1 || bus.length > 1600)
            found.push(
              `Value '${bus}' at '${at}.eventBusName' failed to satisfy constraint: Member must have length between 1 and 1600`,
            );
          else if (!EVENT_BUS_NAME.test(bus))
            found.push(
              `Value '${bus}' at '${at}.eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${EVENT_BUS_NAME.source.slice(1, -1)}`,
            );
        }
        if (entry.Resources?.some((r) => r.length > 2048))
          found.push(
            `Value at '${at}.resources' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048]`,
          );
        if (
          entry.TraceHeader !== undefined &&
          (entry.TraceHeader.length < 1 || entry.TraceHeader.length > 500)
        )
          found.push(
            `Value '${entry.TraceHeader}' at '${at}.traceHeader' failed to satisfy constraint: Member must have length between 1 and 500`,
          );
        return found;
      });
      if (violations.length > 0)
        return validationError(
          `${violations.length} validation error${violations.length > 1 ? 's' : ''} detected: ${violations.join('; ')}`,
        );
      const total = typed.reduce((n, entry) => n + putEventsEntrySize(entry), 0);
      if (total > maxRequestBytes)
        return validationError('Total size of the entries in the request is over the limit.');

      let failed = 0;
      const results = typed.map((entry) => {
        const failure = entryFailure(entry) ?? options.rejectEntry?.(entry);
        if (failure) {
          failed += 1;
          return { ErrorCode: failure.code, ErrorMessage: failure.message };
        }
        entries.push(entry);
        eventSeq += 1;
        return { EventId: `00000000-0000-4000-8000-${eventSeq.toString(16).padStart(12, '0')}` };
      });
      return { status: 200, body: { FailedEntryCount: failed, Entries: results } };
    },
  });
  return { ...endpoint, entries, requestCount: () => requests };
}
