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
    const dir = `runs/${RUN}/deltas/`;
    const ATTEMPT = Date.parse('2026-12-01T12:00:05Z');
    const part = (batch: string, n: number, attempt = ATTEMPT) => ({ batch, attempt, part: n });
    const keyOf = (batch: string, n: number, attempt = ATTEMPT) =>
      `${dir}${batch}-${attempt}-${String(n).padStart(4, '0')}.jsonl`;
    const header = (...ids: string[]) => JSON.stringify({ credwatchDeltas: 1, accounts: ids });

    it('reads back 2,400 deltas from 1,200 parts, listing every page (more than 1,000 keys), with bounded concurrency', async () => {
      const ids = Array.from({ length: 2_400 }, (_, i) => accountId(i));
      const batches = Array.from({ length: 1_200 }, (_, i) => [ids[2 * i]!, ids[2 * i + 1]!] as const);
      await mapLimit(batches, 32, ([a, b]) =>
        store.putDeltas(RUN, part(a, 0), [
          delta(a, { name: `account ${a}` }),
          delta(b, { name: `account ${b}` }),
        ]),
      );
      // Another run whose id starts with this one's: not read.
      await store.putDeltas(`${RUN}0`, part(accountId(0), 0), [delta(accountId(0))]);
      const reader = new S3RunStore({ bucketName: BUCKET, client, readConcurrency: 4 });
      sent = [];

      const { deltas, unreadable } = await reader.deltas(RUN);

      expect(unreadable).toEqual([]);
      expect(deltas.size).toBe(2_400);
      expect([...deltas.keys()].sort()).toEqual(ids);
      expect(deltas.get(accountId(1235))).toEqual(
        delta(accountId(1235), { name: `account ${accountId(1235)}` }),
      );
      expect(sent.filter((c) => c === 'ListObjectsV2Command')).toHaveLength(2);
      expect(sent.filter((c) => c === 'GetObjectCommand')).toHaveLength(1_200);
      expect(maxInFlightGets).toBeLessThanOrEqual(4);
      expect(maxInFlightGets).toBeGreaterThan(1);
    }, 120_000);

    it('keeps a part at runs/<runId>/deltas/<batch>-<part>.jsonl: a header line naming its accounts, then a delta a line', async () => {
      const a = delta('123456789012', { name: 'payments' });
      const b = delta('210987654321', { baseline: true });
      const { key } = await store.putDeltas(RUN, part('123456789012', 7), [a, b]);
      expect(key).toBe(`${dir}123456789012-${ATTEMPT}-0007.jsonl`);
      expect(store.deltaPartKey(RUN, part('123456789012', 7))).toBe(key);
      expect(await keys()).toEqual([key]);
      const raw = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(raw.ContentType).toBe('application/x-ndjson');
      const lines = (await raw.Body!.transformToString()).split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[3]).toBe('');
      expect(JSON.parse(lines[0]!)).toEqual({
        credwatchDeltas: 1,
        accounts: ['123456789012', '210987654321'],
      });
      expect(JSON.parse(lines[1]!)).toEqual(a);
      expect(JSON.parse(lines[2]!)).toEqual(b);
      const { deltas, unreadable } = await store.deltas(RUN);
      expect(unreadable).toEqual([]);
      expect([...deltas.entries()]).toEqual([
        ['123456789012', a],
        ['210987654321', b],
      ]);
    });

    it('keeps every attempt of a child apart: an account is taken from the newest attempt it is in, a scan over a failure', async () => {
      const later = ATTEMPT + 60_000;
      // The first attempt: parts 0 and 1. The retry, a minute later, writes its own part 0 with other
      // accounts in it, and a failure of one the first attempt scanned.
      await store.putDeltas(RUN, part('111111111111', 0), [delta('111111111111'), delta('222222222222')]);
      await store.putDeltas(RUN, part('111111111111', 1), [delta('333333333333', { name: 'first attempt' })]);
      await store.putDeltas(RUN, part('111111111111', 0, later), [
        delta('111111111111', { name: 'retry' }),
        delta('333333333333', { name: 'retry' }),
        delta('222222222222', { name: 'retry', error: { name: 'CredwatchError', message: 'out of time' } }),
      ]);
      // The first attempt, still running, writes after the retry: it does not replace the retry's.
      await store.putDeltas(RUN, part('111111111111', 2), [delta('444444444444', { name: 'first attempt' })]);
      expect((await keys(dir)).sort()).toEqual(
        [
          keyOf('111111111111', 0),
          keyOf('111111111111', 1),
          keyOf('111111111111', 2),
          keyOf('111111111111', 0, later),
        ].sort(),
      );
      const { deltas, unreadable, sources } = await store.deltas(RUN);
      expect(unreadable).toEqual([]);
      expect(
        Object.fromEntries(
          [...deltas].map(([id, d]) => [id, (d as { name?: string }).name ?? 'first attempt']),
        ),
      ).toEqual({
        '111111111111': 'retry',
        // The first attempt's scan, over the retry's failure.
        '222222222222': 'first attempt',
        '333333333333': 'retry',
        '444444444444': 'first attempt',
      });
      expect(Object.fromEntries(sources)).toEqual({
        '111111111111': keyOf('111111111111', 0, later),
        '222222222222': keyOf('111111111111', 0),
        '333333333333': keyOf('111111111111', 0, later),
        '444444444444': keyOf('111111111111', 2),
      });
    });

    it('reads each account again only from the key the first read took it from, whatever was written since', async () => {
      // Account 2 is in a legacy object written last and in account 1's part: the first read takes
      // the legacy one (newer), the second read must too, though it reads account 1's part again.
      await store.putDeltas(RUN, part('111111111111', 0), [
        delta('111111111111', { name: 'first' }),
        delta('222222222222', { name: 'in the part' }),
      ]);
      await putRaw(`${dir}222222222222.json`, JSON.stringify(delta('222222222222', { name: 'legacy' })));
      const first = await store.deltas(RUN, { project: (d) => ({ accountId: d.accountId, name: d.name }) });
      expect(Object.fromEntries(first.deltas)).toEqual({
        '111111111111': { accountId: '111111111111', name: 'first' },
        '222222222222': { accountId: '222222222222', name: 'legacy' },
      });
      // A late attempt writes account 1 again.
      await store.putDeltas(RUN, part('111111111111', 0, ATTEMPT + 1), [
        delta('111111111111', { name: 'late' }),
      ]);
      sent = [];
      const again = await store.deltas(RUN, { sources: first.sources });
      expect(
        Object.fromEntries([...again.deltas].map(([id, d]) => [id, (d as { name: string }).name])),
      ).toEqual({
        '111111111111': 'first',
        '222222222222': 'legacy',
      });
      expect(Object.fromEntries(again.sources)).toEqual(Object.fromEntries(first.sources));
      expect(sent).toEqual(['GetObjectCommand', 'GetObjectCommand']);
      // Keys outside the run's deltas are refused before S3 is called.
      for (const key of [`runs/${RUN}/accounts.json`, `${dir}nested/x.jsonl`, `runs/other/deltas/x.jsonl`]) {
        await rejectsWith(
          store.deltas(RUN, { sources: new Map([['111111111111', key]]) }),
          "is not a key of the run's deltas",
        );
      }
    });

    it('takes the newest scan of an account over newer failures, and the newest failure when it never was scanned', async () => {
      const failure = (id: string, when: string) =>
        delta(id, { name: when, error: { name: 'CredwatchError', message: 'out of time' } });
      await store.putDeltas(RUN, part('111111111111', 0, ATTEMPT), [
        delta('111111111111', { name: 't1' }),
        failure('222222222222', 't1'),
      ]);
      await store.putDeltas(RUN, part('111111111111', 0, ATTEMPT + 1), [
        delta('111111111111', { name: 't2' }),
        failure('222222222222', 't2'),
      ]);
      await store.putDeltas(RUN, part('111111111111', 0, ATTEMPT + 2), [
        failure('111111111111', 't3'),
        failure('222222222222', 't3'),
      ]);
      const { deltas } = await store.deltas(RUN);
      expect(Object.fromEntries([...deltas].map(([id, d]) => [id, (d as { name: string }).name]))).toEqual({
        '111111111111': 't2',
        '222222222222': 't3',
      });
    });

    it('still reads the release before: one object a delta at runs/<runId>/deltas/<accountId>.json', async () => {
      await putRaw(`${dir}123456789012.json`, JSON.stringify(delta('123456789012', { name: 'old' })));
      await store.putDeltas(RUN, part('210987654321', 0), [delta('210987654321')]);
      const { deltas, unreadable, sources } = await store.deltas(RUN);
      expect(sources.get('123456789012')).toBe(`${dir}123456789012.json`);
      expect(unreadable).toEqual([]);
      expect(deltas.get('123456789012')).toEqual(delta('123456789012', { name: 'old' }));
      expect([...deltas.keys()].sort()).toEqual(['123456789012', '210987654321']);
    });

    it('returns no deltas for a run nobody wrote to', async () => {
      const { deltas, unreadable } = await store.deltas(RUN);
      expect(deltas.size).toBe(0);
      expect(unreadable).toEqual([]);
    });

    it('reports what does not decode, by key and, where the object names it, by account, and still reads the rest', async () => {
      await store.putDeltas(RUN, part('111111111111', 0), [delta('111111111111')]);
      const ok = JSON.stringify(delta('200000000002'));
      const a = ATTEMPT;
      const parts: Record<string, string> = {
        // A line that is not JSON, and one whose delta is of another account: those accounts only.
        [`200000000001-${a}-0000.jsonl`]: `${header('200000000001', '200000000002', '200000000003')}\n{"accountId": "200000000001", "changes": [\n${ok}\n${JSON.stringify(delta('999999999999'))}\n`,
        // Cut short: the account it never got to.
        [`300000000001-${a}-0000.jsonl`]: `${header('300000000001', '300000000002')}\n${JSON.stringify(delta('300000000001'))}\n`,
        // More lines than its header names: those are not read.
        [`400000000001-${a}-0000.jsonl`]: `${header('400000000001')}\n${JSON.stringify(delta('400000000001'))}\n${JSON.stringify(delta('400000000002'))}\n`,
        // Headers that cannot be trusted: the object's accounts are unknown.
        [`500000000001-${a}-0000.jsonl`]: `not a header\n${JSON.stringify(delta('500000000001'))}\n`,
        [`500000000002-${a}-0000.jsonl`]: `${JSON.stringify({ credwatchDeltas: 2, accounts: ['500000000002'] })}\n${JSON.stringify(delta('500000000002'))}\n`,
        [`500000000003-${a}-0000.jsonl`]: `${header('500000000003', '500000000003')}\n${JSON.stringify(delta('500000000003'))}\n`,
        [`500000000004-${a}-0000.jsonl`]: `${JSON.stringify({ credwatchDeltas: 1, accounts: ['5000000004'] })}\n`,
        [`500000000005-${a}-0000.jsonl`]: '',
      };
      for (const [name, body] of Object.entries(parts)) await putRaw(`${dir}${name}`, body);
      // The release before's objects, and keys of neither form.
      await putRaw(`${dir}600000000001.json`, JSON.stringify(delta('600000000009')));
      await putRaw(`${dir}600000000002.json`, '[1, 2]');
      await putRaw(`${dir}notes.txt`, 'hello');
      await putRaw(`${dir}77777777777.json`, JSON.stringify(delta('77777777777')));
      await putRaw(
        `${dir}700000000001-1.jsonl`,
        `${header('700000000001')}\n${JSON.stringify(delta('700000000001'))}\n`,
      );
      await putRaw(
        `${dir}700000000002-0000.jsonl`,
        `${header('700000000002')}\n${JSON.stringify(delta('700000000002'))}\n`,
      );
      await putRaw(`${dir}nested/888888888888.json`, JSON.stringify(delta('888888888888')));

      const { deltas, unreadable } = await store.deltas(RUN);

      expect([...deltas.keys()].sort()).toEqual([
        '111111111111',
        '200000000002',
        '300000000001',
        '400000000001',
      ]);
      const found = unreadable.map((u) => ({ ...u, key: u.key.slice(dir.length) }));
      const of = (name: string) => found.filter((u) => u.key === name);
      expect(of(`200000000001-${a}-0000.jsonl`)).toEqual([
        {
          key: `200000000001-${a}-0000.jsonl`,
          accountId: '200000000001',
          problem: 'line 2: not JSON (it ends too soon)',
        },
        {
          key: `200000000001-${a}-0000.jsonl`,
          accountId: '200000000003',
          problem: 'line 4: its accountId is "999999999999", where it should be account 200000000003',
        },
      ]);
      expect(of(`300000000001-${a}-0000.jsonl`)).toEqual([
        {
          key: `300000000001-${a}-0000.jsonl`,
          accountId: '300000000002',
          problem: 'its line 3 is missing: the object ends after 1 of the 2 deltas its header names',
        },
      ]);
      expect(of(`400000000001-${a}-0000.jsonl`)).toEqual([
        {
          key: `400000000001-${a}-0000.jsonl`,
          problem: 'it has 1 more lines than its header names; they are not read',
        },
      ]);
      expect(of(`500000000001-${a}-0000.jsonl`)).toEqual([
        {
          key: `500000000001-${a}-0000.jsonl`,
          whole: true,
          problem: 'its header line is not JSON (invalid)',
        },
      ]);
      expect(of(`500000000002-${a}-0000.jsonl`)).toEqual([
        {
          key: `500000000002-${a}-0000.jsonl`,
          whole: true,
          problem: expect.stringMatching(/credwatchDeltas is number 2/),
        },
      ]);
      for (const name of [`500000000003-${a}-0000.jsonl`, `500000000004-${a}-0000.jsonl`]) {
        expect(of(name)).toEqual([
          {
            key: name,
            whole: true,
            problem: "its header line's accounts are not distinct 12-digit account ids",
          },
        ]);
      }
      expect(of(`500000000005-${a}-0000.jsonl`)).toEqual([
        {
          key: `500000000005-${a}-0000.jsonl`,
          whole: true,
          problem: 'its header line is not JSON (it ends too soon)',
        },
      ]);
      // What V8 says of bad JSON quotes the text around it (user names, key ids): never repeated.
      expect(JSON.stringify(unreadable)).not.toContain('changes');
      expect(of('600000000001.json')).toEqual([
        {
          key: '600000000001.json',
          accountId: '600000000001',
          problem: 'its accountId is "600000000009", where it should be account 600000000001',
        },
      ]);
      expect(of('600000000002.json')).toEqual([
        { key: '600000000002.json', accountId: '600000000002', problem: 'not a JSON object (got an array)' },
      ]);
      for (const wrongKey of [
        'notes.txt',
        '77777777777.json',
        '700000000001-1.jsonl',
        '700000000002-0000.jsonl',
        'nested/888888888888.json',
      ]) {
        expect(of(wrongKey)).toEqual([
          {
            key: wrongKey,
            // A .json or .jsonl of another form may hold deltas: which accounts is not known.
            ...(wrongKey === 'notes.txt' ? {} : { whole: true }),
            problem: `the key is not ${dir}<12-digit account id>-<13-digit attempt>-<4-digit part>.jsonl (or the release before's ${dir}<12-digit account id>.json)`,
          },
        ]);
      }
      expect(found).toHaveLength(16);
      expect(unreadable.every((u) => u.key.startsWith(dir))).toBe(true);
    });

    it('reads a part of several MiB back whole: lines longer than a chunk, characters split across chunks', async () => {
      // Each delta about 400 KiB of multi-byte names (2, 3 and 4 bytes a character): 9 of them are
      // about 3.6 MiB, which S3 sends in many chunks, some ending inside a character or a line.
      const ids = Array.from({ length: 9 }, (_, i) => accountId(500 + i));
      const wide = (i: number) => `é日本😀${i}`.repeat(35_000);
      const written = ids.map((id, i) => delta(id, { name: wide(i) }));
      await store.putDeltas(RUN, part(ids[0]!, 0), written);
      const { deltas, unreadable, sources } = await store.deltas(RUN);
      expect(unreadable).toEqual([]);
      expect([...deltas.values()]).toEqual(written);
      // Read again whole (deliver's second read of a baseline): the same deltas, the same characters.
      const whole = await store.deltas(RUN, { sources, whole: true, project: async (d) => d });
      expect(whole.unreadable).toEqual([]);
      expect([...whole.deltas.values()]).toEqual(written);
    }, 60_000);

    it('throws a RunStoreError naming the key and the AWS error when a listed object cannot be read', async () => {
      await store.putDeltas(RUN, part('111111111111', 0), [delta('111111111111')]);
      // An archived object: listed, but GetObject answers InvalidObjectState.
      await putRaw(
        keyOf('222222222222', 0),
        `${header('222222222222')}\n${JSON.stringify(delta('222222222222'))}\n`,
        {
          StorageClass: 'GLACIER',
        },
      );
      await rejectsWith(
        store.deltas(RUN),
        `Could not read the deltas part 222222222222-${ATTEMPT}-0000.jsonl (run ${RUN}) at s3://${BUCKET}/${keyOf('222222222222', 0)}: InvalidObjectState`,
      );
    });

    it.each([
      [
        'an account id of 11 digits',
        [delta('12345678901')],
        /delta 0 of the part has no 12-digit string accountId \(got "12345678901"\)/,
      ],
      [
        'an account id with a path',
        [delta('../123456789012')],
        /has no 12-digit string accountId \(got "..\/123456789012"\)/,
      ],
      [
        'no accountId',
        [delta('123456789012'), { changes: [] }],
        /delta 1 of the part has no 12-digit string accountId \(got nothing\)/,
      ],
      ['a numeric accountId', [{ accountId: 123456789012 }], /got number 123456789012/],
      ['an array', [[delta('123456789012')]], /delta 0 of the part is not a JSON object \(got an array\)/],
      ['null', [null], /delta 0 of the part is not a JSON object \(got null\)/],
      [
        'an account twice',
        [delta('123456789012'), delta('123456789012')],
        /account 123456789012 is twice in the part/,
      ],
      ['no delta', [], /would hold no delta/],
      [
        'a value JSON cannot hold',
        [delta('123456789012', { n: 1n })],
        /account 123456789012 is not JSON-serializable/,
      ],
    ])('refuses a part with %s and writes nothing', async (_what, value, message) => {
      await rejectsWith(store.putDeltas(RUN, part('123456789012', 0), value), message);
      expect(await keys()).toEqual([]);
    });

    it.each([
      [
        'a batch that is no account id',
        { batch: '1234', attempt: ATTEMPT, part: 0 },
        /batch "1234" is not a 12-digit account id/,
      ],
      [
        'a batch with a path',
        { batch: '../123456789012', attempt: ATTEMPT, part: 0 },
        /batch "..\/123456789012" is not a 12-digit/,
      ],
      [
        'a negative part',
        { batch: '123456789012', attempt: ATTEMPT, part: -1 },
        /part number -1 of batch 123456789012 is not an integer from 0 to 9999/,
      ],
      [
        'a fractional part',
        { batch: '123456789012', attempt: ATTEMPT, part: 1.5 },
        /part number 1.5 of batch/,
      ],
      [
        'part 10,000',
        { batch: '123456789012', attempt: ATTEMPT, part: 10_000 },
        /part number 10000 of batch/,
      ],
      [
        'an attempt that is no time in ms',
        { batch: '123456789012', attempt: 1_764_590_405, part: 0 },
        /attempt number 1764590405 of batch 123456789012 is not a time in epoch milliseconds/,
      ],
      ['a fractional attempt', { batch: '123456789012', attempt: ATTEMPT + 0.5, part: 0 }, /attempt number/],
    ])('refuses %s and writes nothing', async (_what, at, message) => {
      await rejectsWith(store.putDeltas(RUN, at, [delta('123456789012')]), message);
      expect(() => store.deltaPartKey(RUN, at)).toThrow(message);
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
      await rejectsWith(
        store.putDeltas(runId, { batch: '123456789012', attempt: 1_764_590_405_000, part: 0 }, [
          delta('123456789012'),
        ]),
        message,
      );
      await rejectsWith(store.deltas(runId), message);
      expect(() => store.accountsKey(runId)).toThrow(RunStoreError);
      expect(sent).toEqual([]);
    });

    it('accepts execution names and the scheduled form, up to 200 characters', async () => {
      for (const runId of ['x'.repeat(200), 'manual-run_1', 'a.b', RUN]) {
        await store.putDeltas(runId, { batch: '123456789012', attempt: 1_764_590_405_000, part: 0 }, [
          delta('123456789012'),
        ]);
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
        missing().putDeltas(RUN, { batch: '123456789012', attempt: 1_764_590_405_000, part: 3 }, [
          delta('123456789012'),
          delta('210987654321'),
        ]),
        `Could not write the deltas of accounts 123456789012, 210987654321 (run ${RUN}) to s3://no-such-bucket/runs/${RUN}/deltas/123456789012-1764590405000-0003.jsonl: NoSuchBucket`,
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
      await other.putDeltas(RUN, { batch: '123456789012', attempt: 1_764_590_405_000, part: 0 }, [
        delta('123456789012'),
      ]);
      expect(key).toBe(`credwatch/runs/${RUN}/accounts.json`);
      expect((await keys()).sort()).toEqual([
        key,
        `credwatch/runs/${RUN}/deltas/123456789012-1764590405000-0000.jsonl`,
      ]);
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
