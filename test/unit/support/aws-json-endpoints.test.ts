import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  type EventBridgeEndpoint,
  type JsonEndpoint,
  putEventsEntrySize,
  type SecretsManagerEndpoint,
  startEventBridgeEndpoint,
  startSecretsManagerEndpoint,
} from '../../support/aws-json-endpoints';

const FAKE = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' },
  maxAttempts: 1,
};
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:credwatch/slack-Ab12Cd';

const open: JsonEndpoint[] = [];
const clients: { destroy(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(open.splice(0).map((e) => e.close()));
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function secretsManager(
  secrets: Record<string, string>,
  options: Omit<Parameters<typeof startSecretsManagerEndpoint>[0], 'secrets'> = {},
) {
  const endpoint: SecretsManagerEndpoint = await startSecretsManagerEndpoint({ ...options, secrets });
  open.push(endpoint);
  const client = new SecretsManagerClient({ ...FAKE, endpoint: endpoint.url });
  clients.push(client);
  return { endpoint, client };
}

async function eventBridge(options?: Parameters<typeof startEventBridgeEndpoint>[0]) {
  const endpoint: EventBridgeEndpoint = await startEventBridgeEndpoint(options);
  open.push(endpoint);
  const client = new EventBridgeClient({ ...FAKE, endpoint: endpoint.url });
  clients.push(client);
  return { endpoint, client };
}

const entry = (n: number) => ({
  Source: 'credwatch',
  DetailType: 'Credential finding opened',
  Detail: JSON.stringify({ n }),
  EventBusName: 'default',
});

describe('the local Secrets Manager endpoint', () => {
  it.each([
    ['its name', 'webhook', 'webhook'],
    ['its full ARN', SECRET_ARN, SECRET_ARN],
    ['its ARN without the random suffix', SECRET_ARN, SECRET_ARN.slice(0, -7)],
  ])('returns a secret asked for by %s', async (_, key, secretId) => {
    const { endpoint, client } = await secretsManager({ [key]: 'https://hooks.slack.test/T000/B000/XXXX' });

    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));

    expect(out.SecretString).toBe('https://hooks.slack.test/T000/B000/XXXX');
    expect(out.Name).toBe(key === SECRET_ARN ? 'credwatch/slack' : key);
    expect(out.ARN).toMatch(/^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/);
    expect(out.CreatedDate).toEqual(new Date('2025-01-01T00:00:00Z'));
    expect(out.VersionStages).toEqual(['AWSCURRENT']);
    expect(endpoint.requests).toEqual([secretId]);
  });

  it('answers an unknown secret with 400 ResourceNotFoundException', async () => {
    const { endpoint, client } = await secretsManager({ webhook: 'x' });

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
    expect(endpoint.requests).toEqual(['nope']);
  });

  it('serves a rotated secret under a new version id', async () => {
    const { endpoint, client } = await secretsManager({ webhook: 'old' });
    const before = await client.send(new GetSecretValueCommand({ SecretId: 'webhook' }));

    endpoint.putSecret('webhook', 'new');
    const after = await client.send(new GetSecretValueCommand({ SecretId: 'webhook' }));

    expect([before.SecretString, after.SecretString]).toEqual(['old', 'new']);
    expect(after.VersionId).not.toBe(before.VersionId);
    expect(after.ARN).toBe(before.ARN);
  });

  it('answers an operation it does not know with 400 UnknownOperationException', async () => {
    const { endpoint } = await secretsManager({});

    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.DeleteSecret',
      },
      body: '{}',
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('the local EventBridge endpoint', () => {
  it('records the entries it receives and gives each an event id', async () => {
    const { endpoint, client } = await eventBridge();

    const out = await client.send(new PutEventsCommand({ Entries: [entry(1), entry(2)] }));

    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(2);
    expect(new Set(out.Entries?.map((e) => e.EventId)).size).toBe(2);
    expect(endpoint.entries).toEqual([entry(1), entry(2)]);
    expect(endpoint.requestCount()).toBe(1);
  });

  it('fails the entries it is told to, without recording them', async () => {
    const { endpoint, client } = await eventBridge({
      rejectEntry: (e) =>
        e.Detail === JSON.stringify({ n: 2 }) ? { code: 'InternalFailure', message: 'try again' } : undefined,
    });

    const out = await client.send(new PutEventsCommand({ Entries: [entry(1), entry(2), entry(3)] }));

    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['ok', 'InternalFailure', 'ok']);
    expect(endpoint.entries.map((e) => e.Detail)).toEqual([entry(1).Detail, entry(3).Detail]);
  });

  it('rejects more than 10 entries in one request with 400 ValidationException', async () => {
    const { endpoint, client } = await eventBridge();
    const entries = Array.from({ length: 11 }, (_, i) => entry(i));

    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(endpoint.entries).toEqual([]);
  });
});

describe('the local Secrets Manager endpoint: versions and staging labels', () => {
  const get = (client: SecretsManagerClient, extra: { VersionStage?: string; VersionId?: string } = {}) =>
    client.send(new GetSecretValueCommand({ SecretId: 'webhook', ...extra }));

  it('serves AWSCURRENT by default and the replaced value as AWSPREVIOUS after a rotation', async () => {
    const { endpoint, client } = await secretsManager({ webhook: 'v1' });
    const first = await get(client);

    const secondId = endpoint.putSecret('webhook', 'v2');
    const current = await get(client);
    const explicit = await get(client, { VersionStage: 'AWSCURRENT' });
    const previous = await get(client, { VersionStage: 'AWSPREVIOUS' });

    expect(first).toMatchObject({ SecretString: 'v1', VersionStages: ['AWSCURRENT'] });
    expect(current).toMatchObject({ SecretString: 'v2', VersionId: secondId, VersionStages: ['AWSCURRENT'] });
    expect(explicit.VersionId).toBe(secondId);
    expect(previous).toMatchObject({
      SecretString: 'v1',
      VersionId: first.VersionId,
      VersionStages: ['AWSPREVIOUS'],
      ARN: current.ARN,
      Name: 'webhook',
    });
  });

  it('keeps a version that lost its labels readable by its VersionId only', async () => {
    const { endpoint, client } = await secretsManager({ webhook: 'v1' });
    const { VersionId: oldest } = await get(client);
    endpoint.putSecret('webhook', 'v2');
    endpoint.putSecret('webhook', 'v3');

    expect(await get(client, { VersionStage: 'AWSPREVIOUS' })).toMatchObject({ SecretString: 'v2' });
    expect(await get(client, { VersionId: oldest })).toMatchObject({ SecretString: 'v1', VersionStages: [] });
  });

  it('answers a staging label no version carries as AWS words it', async () => {
    const { client } = await secretsManager({ webhook: 'v1' });

    await expect(get(client, { VersionStage: 'AWSPREVIOUS' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(get(client, { VersionStage: 'AWSPENDING' })).rejects.toMatchObject({
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    });
  });

  it('answers an unknown VersionId, and a VersionStage its version lacks, as AWS words them', async () => {
    const { client } = await secretsManager({ webhook: 'v1' });
    const { VersionId } = await get(client);
    const unknown = '11111111-2222-4333-8444-555555555555';

    await expect(get(client, { VersionId: unknown })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: `Secrets Manager can't find the specified secret value for VersionId: ${unknown}`,
    });
    await expect(get(client, { VersionId, VersionStage: 'AWSPREVIOUS' })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'You provided a VersionStage that is not associated to the provided VersionId.',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(get(client, { VersionId, VersionStage: 'AWSCURRENT' })).resolves.toMatchObject({
      SecretString: 'v1',
    });
  });

  it('dates each version when it was made', async () => {
    const later = new Date('2026-03-04T05:06:07Z');
    const { endpoint, client } = await secretsManager({ webhook: 'v1' }, { now: () => later });
    endpoint.putSecret('webhook', 'v2');

    expect((await get(client)).CreatedDate).toEqual(later);
    expect((await get(client, { VersionStage: 'AWSPREVIOUS' })).CreatedDate).toEqual(
      new Date('2025-01-01T00:00:00Z'),
    );
  });

  it('stores a new current version with PutSecretValue, its VersionId the request token', async () => {
    const { client } = await secretsManager({ [SECRET_ARN]: 'v1' });

    const put = await client.send(
      new PutSecretValueCommand({ SecretId: 'credwatch/slack', SecretString: 'v2' }),
    );

    expect(put).toMatchObject({ ARN: SECRET_ARN, Name: 'credwatch/slack', VersionStages: ['AWSCURRENT'] });
    expect(put.VersionId).toMatch(UUID); // the SDK fills ClientRequestToken with a UUID
    expect(await client.send(new GetSecretValueCommand({ SecretId: SECRET_ARN }))).toMatchObject({
      SecretString: 'v2',
      VersionId: put.VersionId,
    });
    expect(
      await client.send(new GetSecretValueCommand({ SecretId: SECRET_ARN, VersionStage: 'AWSPREVIOUS' })),
    ).toMatchObject({ SecretString: 'v1' });
  });

  it('is idempotent for a repeated token and value, and refuses the token with another value', async () => {
    const { client } = await secretsManager({ webhook: 'v1' });
    const token = 'a'.repeat(32);
    const put = (SecretString: string) =>
      client.send(
        new PutSecretValueCommand({ SecretId: 'webhook', SecretString, ClientRequestToken: token }),
      );

    const first = await put('v2');
    const again = await put('v2');

    expect(again.VersionId).toBe(first.VersionId);
    expect(await get(client, { VersionStage: 'AWSPREVIOUS' })).toMatchObject({ SecretString: 'v1' });
    await expect(put('v3')).rejects.toMatchObject({
      name: 'ResourceExistsException',
      message: "You can't modify an existing version, you can only create a new version.",
    });
  });

  it('moves only the labels given in VersionStages', async () => {
    const { client } = await secretsManager({ webhook: 'v1' });

    const pending = await client.send(
      new PutSecretValueCommand({ SecretId: 'webhook', SecretString: 'next', VersionStages: ['AWSPENDING'] }),
    );

    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    expect(await get(client)).toMatchObject({ SecretString: 'v1', VersionStages: ['AWSCURRENT'] });
    expect(await get(client, { VersionStage: 'AWSPENDING' })).toMatchObject({ SecretString: 'next' });
  });

  it('refuses PutSecretValue for an unknown secret or without a value', async () => {
    const { client } = await secretsManager({ webhook: 'v1' });

    await expect(
      client.send(new PutSecretValueCommand({ SecretId: 'nope', SecretString: 'x' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
    await expect(client.send(new PutSecretValueCommand({ SecretId: 'webhook' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'You must provide either SecretString or SecretBinary.',
    });
  });
});

describe('the local EventBridge endpoint: validation', () => {
  const put = (client: EventBridgeClient, Entries: Record<string, unknown>[]) =>
    client.send(new PutEventsCommand({ Entries }));

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'no Source',
      { Source: undefined },
      'InvalidArgument',
      'Parameter Source is not valid. Reason: Source is a required argument.',
    ],
    [
      'no DetailType',
      { DetailType: undefined },
      'InvalidArgument',
      'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
    ],
    [
      'no Detail',
      { Detail: undefined },
      'InvalidArgument',
      'Parameter Detail is not valid. Reason: Detail is a required argument.',
    ],
    ['a Detail that is not JSON', { Detail: '{"n": 1' }, 'MalformedDetail', 'Detail is malformed.'],
    ['a Detail that is a JSON array', { Detail: '[1]' }, 'MalformedDetail', 'Detail is malformed.'],
    ['a Detail that is a JSON string', { Detail: '"one"' }, 'MalformedDetail', 'Detail is malformed.'],
    [
      'a Source in the aws. namespace',
      { Source: 'aws.iam' },
      'NotAuthorizedForSourceException',
      'Not authorized for the source.',
    ],
  ])('fails only the entry with %s, answering 200', async (_, change, code, message) => {
    const { endpoint, client } = await eventBridge();

    const out = await put(client, [entry(1), { ...entry(2), ...change }, entry(3)]);

    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[1]).toEqual({ ErrorCode: code, ErrorMessage: message });
    expect(out.Entries?.[0]?.EventId).toMatch(UUID);
    expect(endpoint.entries.map((e) => e.Detail)).toEqual([entry(1).Detail, entry(3).Detail]);
  });

  it('rejects an empty request with 400 ValidationException', async () => {
    const { endpoint, client } = await eventBridge();

    await expect(put(client, [])).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("at 'entries' failed to satisfy constraint"),
      $metadata: { httpStatusCode: 400 },
    });
    expect(endpoint.entries).toEqual([]);
  });

  it.each([
    'default',
    'security',
    'credwatch.events-prod_1',
    'arn:aws:events:eu-west-1:123456789012:event-bus/security',
    'arn:aws-us-gov:events:us-gov-west-1:123456789012:event-bus/default',
  ])('takes the bus name or ARN %s', async (EventBusName) => {
    const { endpoint, client } = await eventBridge();

    expect((await put(client, [{ ...entry(1), EventBusName }])).FailedEntryCount).toBe(0);
    expect(endpoint.entries).toHaveLength(1);
  });

  it.each([
    ['a space in the name', 'security bus'],
    ['an ARN with a short account id', 'arn:aws:events:eu-west-1:1234:event-bus/security'],
    ['an ARN of another service', 'arn:aws:sns:eu-west-1:123456789012:security'],
    ['an empty name', ''],
    ['a name over 1600 characters', 'b'.repeat(1601)],
  ])('fails the whole request for an EventBusName with %s', async (_, EventBusName) => {
    const { endpoint, client } = await eventBridge();

    await expect(put(client, [entry(1), { ...entry(2), EventBusName }])).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("at 'entries.2.member.eventBusName' failed to satisfy constraint"),
      $metadata: { httpStatusCode: 400 },
    });
    expect(endpoint.entries).toEqual([]);
  });

  /** An entry of exactly `size` bytes as EventBridge counts them, multi-byte characters included. */
  const entryOfSize = (size: number) => {
    const fixed = {
      Time: new Date('2026-01-01T00:00:00Z'),
      Source: 'credwatch',
      DetailType: 'Credential Finding Opened',
      Resources: ['arn:aws:iam::123456789012:user/zoë'],
      EventBusName: 'default',
    };
    const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
    const overhead =
      14 + bytes(fixed.Source) + bytes(fixed.DetailType) + bytes(fixed.Resources[0]!) + bytes('{"pad":"é"}');
    return { ...fixed, Detail: JSON.stringify({ pad: `é${'x'.repeat(size - overhead)}` }) };
  };

  it('counts an entry as EventBridge documents: Time 14 bytes, the rest in UTF-8 bytes', () => {
    expect(
      putEventsEntrySize({ Source: 'é', DetailType: 'ab', Detail: '{}', Resources: ['r', 'ß'], Time: 0 }),
    ).toBe(14 + 2 + 2 + 2 + 1 + 2);
    expect(putEventsEntrySize({ Source: 'a', DetailType: 'b', Detail: '{}' })).toBe(4);
  });

  it('takes entries of 256 KB together, and refuses one byte more with 400 ValidationException', async () => {
    const { endpoint, client } = await eventBridge();

    expect((await put(client, [entryOfSize(262_144)])).FailedEntryCount).toBe(0);
    await expect(put(client, [entryOfSize(262_145)])).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(put(client, [entryOfSize(131_073), entryOfSize(131_072)])).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect(endpoint.entries).toHaveLength(1);
  });

  it('takes a larger request limit when told (AWS raised it to 1 MB in 2026)', async () => {
    const { client } = await eventBridge({ maxRequestBytes: 1_048_576 });

    expect((await put(client, [entryOfSize(1_048_576)])).FailedEntryCount).toBe(0);
    await expect(put(client, [entryOfSize(1_048_577)])).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('asks rejectEntry only about entries EventBridge would take', async () => {
    const asked: unknown[] = [];
    const { client } = await eventBridge({
      rejectEntry: (e) => {
        asked.push(e.Detail);
        return undefined;
      },
    });

    await put(client, [entry(1), { ...entry(2), Detail: 'nope' }]);

    expect(asked).toEqual([entry(1).Detail]);
  });
});

describe('request ids', () => {
  it('puts a fresh x-amzn-RequestId on every Secrets Manager answer, errors included', async () => {
    const { client } = await secretsManager({ webhook: 'x' });

    const a = await client.send(new GetSecretValueCommand({ SecretId: 'webhook' }));
    const b = await client.send(new GetSecretValueCommand({ SecretId: 'webhook' }));
    const failure = await client
      .send(new GetSecretValueCommand({ SecretId: 'nope' }))
      .catch((e: unknown) => e);

    expect(a.$metadata.requestId).toMatch(UUID);
    expect(b.$metadata.requestId).toMatch(UUID);
    expect(a.$metadata.requestId).not.toBe(b.$metadata.requestId);
    expect((failure as { $metadata: { requestId?: string } }).$metadata.requestId).toMatch(UUID);
  });

  it('puts one on every EventBridge answer, and on an unknown operation', async () => {
    const { endpoint, client } = await eventBridge();

    const out = await client.send(new PutEventsCommand({ Entries: [entry(1)] }));
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutRule' },
      body: '{}',
    });

    expect(out.$metadata.requestId).toMatch(UUID);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-requestid')).toMatch(UUID);
  });
});
