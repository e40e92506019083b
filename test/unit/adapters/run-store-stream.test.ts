/**
 * S3RunStore reads a part a line at a time as S3 sends it, never whole: a narrow test of the adapter
 * with a client whose GetObject answers a Node stream that is produced only as it is read, so that
 * what was read when is observable (moto, in run-store.test.ts, gives the same results, not when).
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3RunStore } from '../../../lambda/adapters/run-store';

const RUN = 'scheduled-2026-12-01T12:00:00Z-stream';
const KEY = `runs/${RUN}/deltas/111111111111-1796300000000-0000.jsonl`;
const ids = Array.from({ length: 40 }, (_, i) => String(111_111_111_111 + i));
const delta = (id: string) => ({
  accountId: id,
  changes: [],
  baseline: false,
  migrations: [],
  skippedAsStale: [],
  unreadable: [],
  // About 100 KiB a line: 40 lines are 4 MiB, sent in 64 KiB chunks.
  rollUp: Array.from({ length: 1_000 }, (_, n) => ({ note: `${id}-${n}`.padEnd(90, '.') })),
});

/** A body of `lines` in 64 KiB chunks, made as they are read; `sent` counts the chunks read so far. */
function lazyBody(lines: readonly string[]) {
  const text = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  /** Where each line's newline is, in bytes. */
  const lineEnds: number[] = [];
  for (let at = text.indexOf(10); at >= 0; at = text.indexOf(10, at + 1)) lineEnds.push(at);
  const state = {
    lineEnds,
    sent: 0,
    chunks: Math.ceil(text.length / 65_536),
    stream: undefined as Readable | undefined,
  };
  state.stream = new Readable({
    read() {
      if (state.sent >= state.chunks) {
        this.push(null);
        return;
      }
      this.push(text.subarray(state.sent * 65_536, (state.sent + 1) * 65_536));
      state.sent++;
    },
  });
  return state;
}

/** A store whose GetObject answers `body`, or, for a key of `others`, that body. */
const storeWith = (
  body: ReturnType<typeof lazyBody>,
  others: Record<string, ReturnType<typeof lazyBody>> = {},
) =>
  new S3RunStore({
    bucketName: 'credwatch-runs',
    client: {
      send: async (command: { constructor: { name: string }; input: { Key?: string } }) => {
        if (command.constructor.name !== 'GetObjectCommand')
          throw new Error(`unexpected ${command.constructor.name}`);
        return { Body: (others[command.input.Key ?? ''] ?? body).stream };
      },
    } as unknown as S3Client,
  });

describe('S3RunStore reading a part', () => {
  it('keeps each delta as it arrives: the first is kept before most of the part was sent', async () => {
    const body = lazyBody([
      JSON.stringify({ credwatchDeltas: 1, accounts: ids }),
      ...ids.map((id) => JSON.stringify(delta(id))),
    ]);
    const sentWhenKept: number[] = [];
    const { deltas, unreadable } = await storeWith(body).deltas(RUN, {
      sources: new Map(ids.map((id) => [id, KEY])),
      project: (d) => {
        sentWhenKept.push(body.sent);
        return { accountId: d.accountId };
      },
    });
    expect(unreadable).toEqual([]);
    expect([...deltas.keys()]).toEqual(ids);
    // Each delta is kept once the chunk its line ends in has come, give or take the stream's
    // read-ahead: read whole first, every one would be kept only after the last chunk.
    const ends = body.lineEnds.slice(1).map((end) => Math.floor(end / 65_536) + 1);
    for (const [i, sent] of sentWhenKept.entries()) {
      expect(sent).toBeGreaterThanOrEqual(ends[i]!);
      expect(sent).toBeLessThanOrEqual(ends[i]! + 2);
    }
    expect(sentWhenKept[0]).toBeLessThan(body.chunks / 4);
  });

  it('stops reading a part whose header cannot be read, and gives its connection back', async () => {
    const body = lazyBody([
      '{"credwatchDeltas":2,"accounts":[]}',
      ...ids.map((id) => JSON.stringify(delta(id))),
    ]);
    const { deltas, unreadable } = await storeWith(body).deltas(RUN, { sources: new Map([[ids[0]!, KEY]]) });
    expect(deltas.size).toBe(0);
    expect(unreadable).toEqual([
      {
        key: KEY,
        whole: true,
        problem: 'its header line is not {"credwatchDeltas":1,"accounts":[…]} (credwatchDeltas is number 2)',
      },
    ]);
    expect(body.sent).toBeLessThan(body.chunks / 4);
    expect(body.stream!.destroyed).toBe(true);
  });

  it('reads the next line of a part only once an asynchronous projection has settled (deliver writes what it read again)', async () => {
    const body = lazyBody([
      JSON.stringify({ credwatchDeltas: 1, accounts: ids }),
      ...ids.map((id) => JSON.stringify(delta(id))),
    ]);
    const order: string[] = [];
    let under = 0;
    await storeWith(body).deltas(RUN, {
      sources: new Map(ids.map((id) => [id, KEY])),
      project: async (d) => {
        under++;
        order.push(`start ${d.accountId} (${under} under way)`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        order.push(`end ${d.accountId}`);
        under--;
        return true;
      },
    });
    expect(order).toEqual(ids.flatMap((id) => [`start ${id} (1 under way)`, `end ${id}`]));
  });

  it('fails the read when a projection rejects, and gives the connection back', async () => {
    const body = lazyBody([
      JSON.stringify({ credwatchDeltas: 1, accounts: ids }),
      ...ids.map((id) => JSON.stringify(delta(id))),
    ]);
    await expect(
      storeWith(body).deltas(RUN, {
        sources: new Map(ids.map((id) => [id, KEY])),
        project: async (d) => {
          if (d.accountId === ids[2]) throw new Error('DynamoDB is down');
          return true;
        },
      }),
    ).rejects.toThrow('DynamoDB is down');
    expect(body.sent).toBeLessThan(body.chunks / 4);
    expect(body.stream!.destroyed).toBe(true);
  });

  it('with sources, skips the lines of accounts taken from another key unread: one that is not JSON is no problem', async () => {
    const body = lazyBody([
      JSON.stringify({ credwatchDeltas: 1, accounts: ids.slice(0, 3) }),
      JSON.stringify(delta(ids[0]!)),
      '{not json',
      JSON.stringify(delta(ids[2]!)),
    ]);
    const other = `runs/${RUN}/deltas/${ids[1]}-1796300000001-0000.jsonl`;
    const retried = lazyBody([
      JSON.stringify({ credwatchDeltas: 1, accounts: [ids[1]] }),
      JSON.stringify(delta(ids[1]!)),
    ]);
    const projected: string[] = [];
    const { deltas, unreadable } = await storeWith(body, { [other]: retried }).deltas(RUN, {
      sources: new Map([
        [ids[0]!, KEY],
        [ids[1]!, other],
        [ids[2]!, KEY],
      ]),
      project: (d) => {
        projected.push(String(d.accountId));
        return true;
      },
    });
    expect(projected.sort()).toEqual(ids.slice(0, 3));
    expect(unreadable).toEqual([]);
    expect([...deltas.keys()].sort()).toEqual(ids.slice(0, 3));
  });

  it('with whole, reads the part to its end before the first projection (a projection that commits leaves no stream paused)', async () => {
    const body = lazyBody([
      JSON.stringify({ credwatchDeltas: 1, accounts: ids }),
      ...ids.map((id) => JSON.stringify(delta(id))),
    ]);
    // What the SDK adds to a response stream: the whole body as text.
    const stream = body.stream!;
    Object.assign(stream, {
      transformToString: async (encoding: BufferEncoding) => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString(encoding);
      },
    });
    const sentWhenKept: number[] = [];
    const { deltas } = await storeWith(body).deltas(RUN, {
      sources: new Map(ids.map((id) => [id, KEY])),
      whole: true,
      project: async (d) => {
        sentWhenKept.push(body.sent);
        return d.accountId;
      },
    });
    expect([...deltas.values()]).toEqual(ids);
    expect(sentWhenKept.every((sent) => sent === body.chunks)).toBe(true);
  });
});
