/**
 * REQUEST_TIMEOUTS against a local server that does not answer: the SDK clients built with it fail
 * in about their timeout instead of waiting (a run's budget depends on it). Real sockets and the
 * real values, so each case waits about 10 seconds.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { REQUEST_TIMEOUTS } from '../../../lambda/adapters/sdk';

const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };

describe('REQUEST_TIMEOUTS', () => {
  let server: Server;
  let endpoint: string;
  /** What the server does with a request: nothing, or headers and part of a body, then nothing. */
  let answer: (res: ServerResponse) => void;
  const open: ServerResponse[] = [];
  beforeAll(async () => {
    server = createServer((_req, res) => {
      open.push(res);
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of open) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fails a request that gets no answer after its requestTimeout, not when the run ends', async () => {
    answer = () => {};
    const client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
      ...REQUEST_TIMEOUTS,
    });
    const started = Date.now();
    const error = await client
      .send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }))
      .catch((e: unknown) => e as Error);
    const waited = Date.now() - started;
    client.destroy();
    expect((error as Error).name).toBe('TimeoutError');
    expect(waited).toBeGreaterThanOrEqual(REQUEST_TIMEOUTS.requestHandler.requestTimeout - 100);
    expect(waited).toBeLessThan(REQUEST_TIMEOUTS.requestHandler.requestTimeout + 5_000);
  }, 30_000);

  it('fails the read of a body that stops coming (a streamed run bucket part)', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-length': '1000000' });
      res.write('{"credwatchDeltas":1,"accounts":[]}\n');
    };
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
      maxAttempts: 1,
      ...REQUEST_TIMEOUTS,
    });
    const started = Date.now();
    const { Body } = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    const error = await (async () => {
      for await (const _chunk of Body as AsyncIterable<Uint8Array>) {
        // the first line comes, then nothing
      }
    })().catch((e: unknown) => e as Error);
    const waited = Date.now() - started;
    client.destroy();
    expect(error).toBeInstanceOf(Error);
    expect(waited).toBeGreaterThanOrEqual(REQUEST_TIMEOUTS.requestHandler.socketTimeout - 100);
    expect(waited).toBeLessThan(REQUEST_TIMEOUTS.requestHandler.socketTimeout + 5_000);
  }, 30_000);
});
