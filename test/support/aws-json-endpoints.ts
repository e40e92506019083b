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

/** The running server's handle. */
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
        ...(type ? { 'x-amzn-ErrorType': type } : {}),
      });
      res.end(body);
    }
  });
}

export interface SecretsManagerEndpointOptions {
  /** Secret strings by name or by full ARN (`arn:aws:secretsmanager:…:secret:NAME-AbCdEf`). */
  readonly secrets: Readonly<Record<string, string>>;
  /** Region and account of the ARNs made for secrets given by name. @default us-east-1, 123456789012 */
  readonly region?: string;
  readonly accountId?: string;
  /** CreatedDate of every secret. @default 2025-01-01T00:00:00Z */
  readonly createdAt?: Date;
}

export interface SecretsManagerEndpoint extends JsonEndpoint {
  /** The SecretId of every GetSecretValue request, in order (unknown ones included). */
  readonly requests: readonly string[];
  /** Adds or replaces a secret (a rotation: a new VersionId). */
  putSecret(nameOrArn: string, value: string): void;
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  value: string;
  version: number;
}

/**
 * Secrets Manager's GetSecretValue. A secret is found by name, by full ARN, or by the ARN without
 * its random 6-character suffix, as the real service does. Unknown:
 * 400 `ResourceNotFoundException` "Secrets Manager can't find the specified secret."
 */
export async function startSecretsManagerEndpoint(
  options: SecretsManagerEndpointOptions,
): Promise<SecretsManagerEndpoint> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const createdAt = options.createdAt ?? new Date('2025-01-01T00:00:00Z');
  const secrets: StoredSecret[] = [];
  const requests: string[] = [];

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
  const putSecret = (nameOrArn: string, value: string) => {
    const { name, arn } = parse(nameOrArn);
    const existing = secrets.find((s) => s.arn === arn);
    if (existing) {
      existing.value = value;
      existing.version += 1;
    } else secrets.push({ name, arn, value, version: 1 });
  };
  for (const [nameOrArn, value] of Object.entries(options.secrets)) putSecret(nameOrArn, value);

  const endpoint = await startJsonEndpoint('secretsmanager', {
    GetSecretValue(input) {
      const id = typeof input.SecretId === 'string' ? input.SecretId : '';
      requests.push(id);
      const secret = find(id);
      if (!secret)
        return jsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return {
        status: 200,
        body: {
          ARN: secret.arn,
          Name: secret.name,
          SecretString: secret.value,
          VersionId: `00000000-0000-4000-8000-${secret.version.toString(16).padStart(12, '0')}`,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: createdAt.getTime() / 1000,
        },
      };
    },
  });
  return { ...endpoint, requests, putSecret };
}

/** One entry PutEvents received, as sent (Time in epoch seconds, as the SDK serializes it). */
export interface ReceivedEvent {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Resources?: readonly string[];
  readonly Time?: number;
}

export interface EventBridgeEndpointOptions {
  /** Makes an entry fail (reported in the answer, not recorded). @default every entry succeeds */
  readonly rejectEntry?: (
    entry: ReceivedEvent,
  ) => { readonly code: string; readonly message: string } | undefined;
}

export interface EventBridgeEndpoint extends JsonEndpoint {
  /** Every accepted entry, in the order received. */
  readonly entries: readonly ReceivedEvent[];
  /** Number of PutEvents requests. */
  requestCount(): number;
}

/**
 * EventBridge's PutEvents: records each entry and answers `{FailedEntryCount, Entries: [{EventId}]}`.
 * More than 10 entries in one request is a 400 ValidationException, as in the real service.
 */
export async function startEventBridgeEndpoint(
  options: EventBridgeEndpointOptions = {},
): Promise<EventBridgeEndpoint> {
  const entries: ReceivedEvent[] = [];
  let requests = 0;
  let eventSeq = 0;
  const endpoint = await startJsonEndpoint('AWSEvents', {
    PutEvents(input) {
      requests += 1;
      const received = Array.isArray(input.Entries) ? (input.Entries as ReceivedEvent[]) : [];
      if (received.length < 1 || received.length > 10) {
        return jsonError(
          'ValidationException',
          `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10 (got ${received.length})`,
        );
      }
      let failed = 0;
      const results = received.map((entry) => {
        const rejection = options.rejectEntry?.(entry);
        if (rejection) {
          failed += 1;
          return { ErrorCode: rejection.code, ErrorMessage: rejection.message };
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
