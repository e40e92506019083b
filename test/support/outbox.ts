/**
 * What the event outbox's adapter tests share (outbox-pages, outbox-batches): an opened change of a
 * numbered user, its outbox key, and the two local DynamoDBs they run on (dynalite, and moto_server's
 * as a second opinion), each with the state table made.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Change } from '../../lambda/core/state';
import { createStateTable, startDynalite } from './dynalite';
import { startMotoServer } from './moto-server';

/** An access-key-age opening of user `n` (zero-padded to three digits) in account 111111111111. */
export const outboxChange = (n: number, summary = 'old'): Change => ({
  kind: 'opened',
  finding: {
    id: `111111111111/user${String(n).padStart(3, '0')}/access-key-age/key-2025-01-01T00:00:00Z`,
    accountId: '111111111111',
    user: `user${String(n).padStart(3, '0')}`,
    arn: `arn:aws:iam::111111111111:user/user${n}`,
    rule: 'access-key-age',
    severity: 'critical',
    credential: 'key-2025-01-01T00:00:00Z',
    summary,
  },
});

/** The outbox entry's sort key of `change` added at `at` (operations.md, the state table). */
export const outboxKey = (at: Date, change: Change) =>
  `${at.toISOString()}#${change.finding.id}#${change.kind}`;

export interface LocalDynamo {
  readonly client: DynamoDBClient;
  readonly close: () => Promise<void>;
}

/** dynalite and moto_server's DynamoDB, by name, each starting with `table` made. */
export const LOCAL_DYNAMOS: ReadonlyArray<readonly [string, (table: string) => Promise<LocalDynamo>]> = [
  [
    'dynalite',
    async (table) => {
      const dynamo = await startDynalite(table);
      return { client: dynamo.client, close: dynamo.close };
    },
  ],
  [
    'moto_server',
    async (table) => {
      const moto = await startMotoServer();
      const client = new DynamoDBClient({ ...moto.clientConfig });
      await createStateTable(client, table);
      return {
        client,
        close: async () => {
          client.destroy();
          await moto.close();
        },
      };
    },
  ],
];
