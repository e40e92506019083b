import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type EventBridgeEndpoint,
  type JsonEndpoint,
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

async function secretsManager(secrets: Record<string, string>) {
  const endpoint: SecretsManagerEndpoint = await startSecretsManagerEndpoint({ secrets });
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
