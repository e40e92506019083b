/**
 * S3RunStore against a real S3 emulator: moto_server (test/support/moto-server.ts), through the AWS
 * SDK v3 S3 client. Every case here is one moto can produce (GLACIER objects give the GetObject
 * failure of a listed delta); nothing is mocked.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { RunStoreError, S3RunStore } from '../../../lambda/adapters/run-store';
import { REQUEST_TIMEOUTS } from '../../../lambda/adapters/sdk';
import { mapLimit } from '../../../lambda/map-limit';
import type { AccountItem } from '../../../lambda/ports';
import { type MotoServer, startMotoServer } from '../../support/moto-server';

const BUCKET = 'credwatch-runs';
const RUN = 'scheduled-2026-12-01T12:00:00Z-4f1c2a7e-9b3d-4e8f-a1b2-c3d4e5f60718';

const ACCOUNTS: AccountItem[] = [
  {
    id: '111111111111',
    name: 'payments-prod',
    organizationalUnits: ['ou-ab12-prod', 'ou-ab12-workloads', 'r-ab12'],
    tags: { team: 'payments', env: 'prod' },
  },
  { id: '222222222222', name: 'audit' },
  { id: '333333333333' },
];

const accountId = (n: number) => String(100_000_000_000 + n);
const delta = (id: string, extra: Record<string, unknown> = {}) => ({
  accountId: id,
  changes: [],
  baseline: false,
  migrations: [],
  skippedAsStale: [],
  unreadable: [],
  ...extra,
});

/** Rejects with a RunStoreError whose message matches. */
async function rejectsWith(promise: Promise<unknown>, message: string | RegExp): Promise<RunStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RunStoreError);
  expect((error as Error).message).toMatch(message);
  return error as RunStoreError;
}

describe('S3RunStore on moto', () => {
  let moto: MotoServer;
  let client: S3Client;
  let store: S3RunStore;
  /** Commands sent through `client`, by name, and the most GetObject calls at once. */
  let sent: string[];
  let inFlightGets = 0;
  let maxInFlightGets = 0;

  const keys = async (prefix = '') => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
      );
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return out;
  };
  const putRaw = (key: string, body: string, extra: { StorageClass?: 'GLACIER' } = {}) =>
    client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...extra }));

  beforeAll(async () => {
    moto = await startMotoServer();
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.close();
  });
  beforeEach(async () => {
    await moto.reset();
    client?.destroy();
    client = new S3Client({ ...moto.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    sent = [];
    inFlightGets = 0;
    maxInFlightGets = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? '?';
        sent.push(name);
        if (name !== 'GetObjectCommand') return next(args);
        maxInFlightGets = Math.max(maxInFlightGets, ++inFlightGets);
        try {
          return await next(args);
        } finally {
          inFlightGets--;
        }
      },
      { step: 'initialize', name: 'countCommands' },
    );
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    store = new S3RunStore({ bucketName: BUCKET, client });
  });

  describe('account list', () => {
    it('writes a JSON array the ItemReader reads, at runs/<runId>/accounts.json, and reads it back', async () => {
      const { key } = await store.putAccounts(RUN, ACCOUNTS);
      expect(key).toBe(`runs/${RUN}/accounts.json`);
      expect(store.accountsKey(RUN)).toBe(key);

      const raw = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(raw.ContentType).toBe('application/json');
      expect(JSON.parse(await raw.Body!.transformToString())).toEqual(ACCOUNTS);

      await expect(store.getAccounts(RUN)).resolves.toEqual(ACCOUNTS);
      expect(await keys()).toEqual([key]);
    });

    it('writes and reads an empty list', async () => {
      await store.putAccounts(RUN, []);
      await expect(store.getAccounts(RUN)).resolves.toEqual([]);
    });

    it('reports a run without an account list by run id and S3 address', async () => {
      const error = await rejectsWith(
        store.getAccounts(RUN),
        `run ${RUN} has no account list at s3://${BUCKET}/runs/${RUN}/accounts.json`,
      );
      expect(error.cause).toMatchObject({ name: 'NoSuchKey' });
    });

    it.each([
      ['not JSON', '[{"id": "111111111111"', /accounts\.json is not JSON/],
      ['not an array', '{"id": "111111111111"}', /does not decode: it is not a JSON array \(got an object\)/],
      [
        'an item that is not an object',
        '[{"id": "111111111111"}, "222222222222"]',
        /index 1 is not an object/,
      ],
      [
        'an id that is a number',
        '[{"id": "111111111111"}, {"id": 222222222222}]',
        /index 1 has no 12-digit string id/,
      ],
      [
        'an id of 11 digits',
        '[{"id": "11111111111"}]',
        /index 0 has no 12-digit string id \(got "11111111111"\)/,
      ],
      ['a missing id', '[{"name": "audit"}]', /index 0 has no 12-digit string id \(got nothing\)/],
      [
        'tags that are not strings',
        '[{"id": "111111111111", "tags": {"n": 1}}]',
        /index 0 \(111111111111\): tags/,
      ],
      [
        'OUs that are not strings',
        '[{"id": "111111111111", "organizationalUnits": "ou-1"}]',
        /organizationalUnits/,
      ],
      [
        'the same account twice',
        '[{"id": "111111111111"}, {"id": "111111111111"}]',
        /index 1: account 111111111111 is also at index 0/,
      ],
    ])('refuses a stored list with %s, naming the object and the index', async (_what, body, message) => {
      await putRaw(`runs/${RUN}/accounts.json`, body);
      const error = await rejectsWith(store.getAccounts(RUN), message);
      expect(error.message).toContain(`s3://${BUCKET}/runs/${RUN}/accounts.json`);
    });

    it('refuses to write a list that would not read back, and writes nothing', async () => {
      await rejectsWith(
        store.putAccounts(RUN, [{ id: '111111111111' }, { id: 'acme' }]),
        /account list is not written: account at index 1 has no 12-digit string id/,
      );
      expect(await keys()).toEqual([]);
    });
  });

  describe('deltas', () => {
    it('reads back 2,500 deltas, listing every page (more than 1,000 keys), with bounded concurrency', async () => {
      const ids = Array.from({ length: 2_500 }, (_, i) => accountId(i));
      await mapLimit(ids, 32, (id) => store.putDelta(RUN, delta(id, { name: `account ${id}` })));
      // Another run whose id starts with this one's: not read.
      await store.putDelta(`${RUN}0`, delta(accountId(0)));
      const reader = new S3RunStore({ bucketName: BUCKET, client, readConcurrency: 4 });
      sent = [];

      const { deltas, unreadable } = await reader.deltas(RUN);

      expect(unreadable).toEqual([]);
      expect(deltas.size).toBe(2_500);
      expect([...deltas.keys()].sort()).toEqual(ids);
      expect(deltas.get(accountId(1234))).toEqual(
        delta(accountId(1234), { name: `account ${accountId(1234)}` }),
      );
      expect(sent.filter((c) => c === 'ListObjectsV2Command')).toHaveLength(3);
      expect(sent.filter((c) => c === 'GetObjectCommand')).toHaveLength(2_500);
      expect(maxInFlightGets).toBeLessThanOrEqual(4);
      expect(maxInFlightGets).toBeGreaterThan(1);
    }, 120_000);

    it('keeps the delta at runs/<runId>/deltas/<accountId>.json, as JSON', async () => {
      await store.putDelta(RUN, delta('123456789012'));
      expect(await keys()).toEqual([`runs/${RUN}/deltas/123456789012.json`]);
      expect(store.deltaKey(RUN, '123456789012')).toBe(`runs/${RUN}/deltas/123456789012.json`);
      const raw = await client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `runs/${RUN}/deltas/123456789012.json` }),
      );
      expect(raw.ContentType).toBe('application/json');
      expect(JSON.parse(await raw.Body!.transformToString())).toEqual(delta('123456789012'));
    });

    it('replaces an account delta written twice', async () => {
      await store.putDelta(RUN, delta('123456789012', { baseline: true }));
      await store.putDelta(
        RUN,
        delta('123456789012', { error: { name: 'AccessDenied', message: 'denied' } }),
      );
      const { deltas, unreadable } = await store.deltas(RUN);
      expect(unreadable).toEqual([]);
      expect([...deltas.entries()]).toEqual([
        ['123456789012', delta('123456789012', { error: { name: 'AccessDenied', message: 'denied' } })],
      ]);
    });

    it('returns no deltas for a run nobody wrote to', async () => {
      const { deltas, unreadable } = await store.deltas(RUN);
      expect(deltas.size).toBe(0);
      expect(unreadable).toEqual([]);
    });

    it('reports each object that does not decode, by key, and still reads the others', async () => {
      const dir = `runs/${RUN}/deltas/`;
      await store.putDelta(RUN, delta('111111111111'));
      await putRaw(`${dir}222222222222.json`, '{"accountId": "222222222222", "changes": [');
      await putRaw(`${dir}333333333333.json`, JSON.stringify(delta('444444444444')));
      await putRaw(`${dir}555555555555.json`, '[1, 2]');
      await putRaw(`${dir}666666666666.json`, JSON.stringify({ changes: [] }));
      await putRaw(`${dir}notes.txt`, 'hello');
      await putRaw(`${dir}77777777777.json`, JSON.stringify(delta('77777777777')));
      await putRaw(`${dir}nested/888888888888.json`, JSON.stringify(delta('888888888888')));

      const { deltas, unreadable } = await store.deltas(RUN);

      expect([...deltas.keys()]).toEqual(['111111111111']);
      const problems = Object.fromEntries(unreadable.map((u) => [u.key.slice(dir.length), u.problem]));
      expect(Object.keys(problems).sort()).toEqual([
        '222222222222.json',
        '333333333333.json',
        '555555555555.json',
        '666666666666.json',
        '77777777777.json',
        'nested/888888888888.json',
        'notes.txt',
      ]);
      expect(problems['222222222222.json']).toMatch(/^not JSON: /);
      expect(problems['333333333333.json']).toBe(
        'its accountId is "444444444444", its key names account 333333333333',
      );
      expect(problems['555555555555.json']).toBe('not a JSON object (got an array)');
      expect(problems['666666666666.json']).toBe(
        'its accountId is nothing, its key names account 666666666666',
      );
      for (const wrongKey of ['notes.txt', '77777777777.json', 'nested/888888888888.json']) {
        expect(problems[wrongKey]).toBe(`the key is not ${dir}<12-digit account id>.json`);
      }
      expect(unreadable.every((u) => u.key.startsWith(dir))).toBe(true);
    });

    it('throws a RunStoreError naming the key and the AWS error when a listed delta cannot be read', async () => {
      await store.putDelta(RUN, delta('111111111111'));
      // An archived object: listed, but GetObject answers InvalidObjectState.
      await putRaw(`runs/${RUN}/deltas/222222222222.json`, JSON.stringify(delta('222222222222')), {
        StorageClass: 'GLACIER',
      });
      await rejectsWith(
        store.deltas(RUN),
        `Could not read the delta of account 222222222222 (run ${RUN}) at s3://${BUCKET}/runs/${RUN}/deltas/222222222222.json: InvalidObjectState`,
      );
    });

    it.each([
      ['an account id of 11 digits', delta('12345678901'), /account id "12345678901" is not 12 digits/],
      [
        'an account id with a path',
        delta('../123456789012'),
        /account id "..\/123456789012" is not 12 digits/,
      ],
      ['no accountId', { changes: [] }, /the delta has no string accountId \(got nothing\)/],
      ['a numeric accountId', { accountId: 123456789012 }, /no string accountId \(got number 123456789012\)/],
      ['an array', [delta('123456789012')], /a delta must be a JSON object, got an array/],
      ['null', null, /a delta must be a JSON object, got null/],
      [
        'a value JSON cannot hold',
        delta('123456789012', { n: 1n }),
        /account 123456789012 is not JSON-serializable/,
      ],
    ])('refuses a delta with %s and writes nothing', async (_what, value, message) => {
      await rejectsWith(store.putDelta(RUN, value), message);
      expect(await keys()).toEqual([]);
    });
  });

  describe('run ids', () => {
    it.each([
      ['empty', ''],
      ['a slash', 'runs/../other'],
      ['a plain slash', 'a/b'],
      ['".."', '..'],
      ['".." inside', 'a..b'],
      ['"."', '.'],
      ['a space', 'scheduled 2026'],
      ['201 characters', 'x'.repeat(201)],
      ['a non-ASCII letter', 'exécution'],
    ])('refuses a run id with %s in every call, before any S3 call', async (_what, runId) => {
      const message = `Invalid run id ${JSON.stringify(runId)}`;
      sent = [];
      await rejectsWith(store.putAccounts(runId, ACCOUNTS), message);
      await rejectsWith(store.getAccounts(runId), message);
      await rejectsWith(store.putDelta(runId, delta('123456789012')), message);
      await rejectsWith(store.deltas(runId), message);
      expect(() => store.accountsKey(runId)).toThrow(RunStoreError);
      expect(sent).toEqual([]);
    });

    it('accepts execution names and the scheduled form, up to 200 characters', async () => {
      for (const runId of ['x'.repeat(200), 'manual-run_1', 'a.b', RUN]) {
        await store.putDelta(runId, delta('123456789012'));
        expect([...(await store.deltas(runId)).deltas.keys()]).toEqual(['123456789012']);
      }
    });
  });

  describe('S3 failures', () => {
    const missing = () => new S3RunStore({ bucketName: 'no-such-bucket', client });

    it('throws a RunStoreError naming the bucket and NoSuchBucket when the listing fails', async () => {
      await rejectsWith(
        missing().deltas(RUN),
        `Could not list the deltas of run ${RUN} under s3://no-such-bucket/runs/${RUN}/deltas/: NoSuchBucket`,
      );
    });

    it('tells a missing bucket from a missing account list', async () => {
      const error = await rejectsWith(
        missing().getAccounts(RUN),
        `Could not read the account list of run ${RUN} at s3://no-such-bucket/runs/${RUN}/accounts.json: NoSuchBucket`,
      );
      expect(error.cause).toMatchObject({ name: 'NoSuchBucket' });
    });

    it('throws a RunStoreError naming the key when a write fails', async () => {
      await rejectsWith(
        missing().putDelta(RUN, delta('123456789012')),
        `Could not write the delta of account 123456789012 (run ${RUN}) to s3://no-such-bucket/runs/${RUN}/deltas/123456789012.json: NoSuchBucket`,
      );
      await rejectsWith(
        missing().putAccounts(RUN, ACCOUNTS),
        `Could not write the account list of run ${RUN} to s3://no-such-bucket/runs/${RUN}/accounts.json: NoSuchBucket`,
      );
    });
  });

  describe('configuration', () => {
    it('puts every key under the configured prefix', async () => {
      const other = new S3RunStore({ bucketName: BUCKET, client, prefix: 'credwatch/runs/' });
      const { key } = await other.putAccounts(RUN, ACCOUNTS);
      await other.putDelta(RUN, delta('123456789012'));
      expect(key).toBe(`credwatch/runs/${RUN}/accounts.json`);
      expect((await keys()).sort()).toEqual([key, `credwatch/runs/${RUN}/deltas/123456789012.json`]);
      await expect(other.getAccounts(RUN)).resolves.toEqual(ACCOUNTS);
      expect([...(await other.deltas(RUN)).deltas.keys()]).toEqual(['123456789012']);
      // The default prefix does not see them.
      await rejectsWith(store.getAccounts(RUN), /has no account list/);
    });

    it.each(['runs', '/runs/', 'a//b/'])('refuses the prefix %j', (prefix) => {
      expect(() => new S3RunStore({ bucketName: BUCKET, client, prefix })).toThrow(
        new RunStoreError(
          `S3RunStore: prefix ${JSON.stringify(prefix)} must be empty or end with "/" (and not start with "/" or contain "//")`,
        ),
      );
    });

    it.each([0, -1, 1.5, Number.NaN])('refuses readConcurrency %p', (readConcurrency) => {
      expect(() => new S3RunStore({ bucketName: BUCKET, client, readConcurrency })).toThrow(
        /readConcurrency must be a positive integer/,
      );
    });

    it('refuses an empty bucket name', () => {
      expect(() => new S3RunStore({ bucketName: '' })).toThrow('S3RunStore: bucketName is empty');
    });

    it('builds its default client with the request timeouts of every credwatch client', async () => {
      const own = new S3RunStore({ bucketName: BUCKET });
      const ownClient = (own as unknown as { client: S3Client }).client;
      const handler = ownClient.config.requestHandler as unknown as {
        configProvider: Promise<{ requestTimeout?: number; connectionTimeout?: number }>;
      };
      await expect(handler.configProvider).resolves.toMatchObject(REQUEST_TIMEOUTS.requestHandler);
      ownClient.destroy();
    });
  });
});
