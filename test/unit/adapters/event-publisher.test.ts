import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventPublishError, EventPublisher } from '../../../lambda/adapters/event-publisher';
import type { Change, ChangeKind } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';
import {
  type EventBridgeEndpoint,
  type EventBridgeEndpointOptions,
  type ReceivedEvent,
  startEventBridgeEndpoint,
} from '../../support/aws-json-endpoints';

const ACCOUNT = '123456789012';

function finding(user: string): Finding {
  return {
    id: `${ACCOUNT}/${user}/access-key-age/AKIAIOSFODNN7EXAMPLE`,
    accountId: ACCOUNT,
    user,
    arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
    rule: 'access-key-age',
    severity: 'critical',
    credential: 'AKIAIOSFODNN7EXAMPLE',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    days: 91,
    thresholdDays: 90,
    summary: `${user}'s access key is 91 days old`,
  };
}

const change = (user: string, kind: ChangeKind = 'opened'): Change => ({ kind, finding: finding(user) });
const userOf = (event: ReceivedEvent): string => JSON.parse(event.Detail ?? '{}').finding.user;

describe('EventPublisher against a local EventBridge endpoint', () => {
  let endpoint: EventBridgeEndpoint | undefined;
  const start = async (options: EventBridgeEndpointOptions = {}) => {
    endpoint = await startEventBridgeEndpoint(options);
    const client = new EventBridgeClient({
      endpoint: endpoint.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
      maxAttempts: 1,
    });
    return { endpoint, client };
  };
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  it('publishes one event per change with source credwatch and the finding as detail', async () => {
    const { endpoint, client } = await start();
    const escalated = change('alice', 'escalated');
    await new EventPublisher({ client, eventBusName: 'security' }).publish([escalated]);
    expect(endpoint.entries).toEqual([
      {
        EventBusName: 'security',
        Source: 'credwatch',
        DetailType: 'Credential Finding Escalated',
        Detail: JSON.stringify({ kind: 'escalated', finding: escalated.finding }),
        Resources: [`arn:aws:iam::${ACCOUNT}:user/alice`],
      },
    ]);
  });

  it.each<[ChangeKind, string]>([
    ['opened', 'Credential Finding Opened'],
    ['escalated', 'Credential Finding Escalated'],
    ['reminder', 'Credential Finding Reminder'],
    ['resolved', 'Credential Finding Resolved'],
  ])(
    'publishes a change of kind %s with the detail type "%s" on the default bus',
    async (kind, detailType) => {
      const { endpoint, client } = await start();
      await new EventPublisher({ client }).publish([change('alice', kind)]);
      expect(endpoint.entries.map((e) => [e.DetailType, e.EventBusName])).toEqual([[detailType, 'default']]);
      expect(JSON.parse(endpoint.entries[0]?.Detail ?? '{}')).toEqual({ kind, finding: finding('alice') });
    },
  );

  it('sends at most 10 events a call, in order', async () => {
    const { endpoint, client } = await start();
    const changes = Array.from({ length: 23 }, (_, i) => change(`user${i}`));
    await new EventPublisher({ client }).publish(changes);
    expect(endpoint.requestCount()).toBe(3);
    expect(endpoint.entries.map(userOf)).toEqual(changes.map((c) => c.finding.user));
  });

  it('makes no call when there is nothing to publish', async () => {
    const { endpoint, client } = await start();
    await new EventPublisher({ client }).publish([]);
    expect(endpoint.requestCount()).toBe(0);
  });

  it('retries only the entries EventBridge did not take, once', async () => {
    let bobFailures = 0;
    const { endpoint, client } = await start({
      rejectEntry: (entry) =>
        userOf(entry) === 'bob' && bobFailures++ === 0
          ? { code: 'InternalFailure', message: 'try again' }
          : undefined,
    });
    await new EventPublisher({ client }).publish([change('alice'), change('bob'), change('carol')]);
    expect(endpoint.requestCount()).toBe(2);
    expect(endpoint.entries.map(userOf)).toEqual(['alice', 'carol', 'bob']);
  });

  it('throws a named error when entries still fail after the retry', async () => {
    const { endpoint, client } = await start({
      rejectEntry: (entry) =>
        userOf(entry) === 'bob' ? { code: 'ThrottlingException', message: 'Rate exceeded' } : undefined,
    });
    await expect(
      new EventPublisher({ client, eventBusName: 'security' }).publish([change('alice'), change('bob')]),
    ).rejects.toThrow(
      new EventPublishError(
        'EventBridge bus security refused 1 of 2 credwatch events after one retry (first: ThrottlingException: Rate exceeded)',
      ),
    );
    expect(endpoint.requestCount()).toBe(2);
    expect(endpoint.entries.map(userOf)).toEqual(['alice']);
  });
});

describe('EventPublisher with a mocked client', () => {
  const ok = { FailedEntryCount: 0, Entries: [{ EventId: 'e0' }] };

  it('retries every entry when EventBridge counts failures without marking which', async () => {
    const client = new EventBridgeClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    mock
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'e0' }] })
      .resolves(ok);
    await new EventPublisher({ client }).publish([change('alice')]);
    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it('wraps a failed call in a named error that keeps the cause', async () => {
    const client = new EventBridgeClient({ region: 'eu-west-1' });
    const denied = Object.assign(new Error('User is not authorized to perform: events:PutEvents'), {
      name: 'AccessDeniedException',
    });
    mockClient(client).on(PutEventsCommand).rejects(denied);
    const error = await new EventPublisher({ client }).publish([change('alice')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as Error).message).toBe(
      'Could not publish credwatch events to EventBridge bus default: User is not authorized to perform: events:PutEvents',
    );
    expect((error as Error).cause).toBe(denied);
  });
});
