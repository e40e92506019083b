/**
 * DynamoDB for tests: dynalite (in-memory, no JVM, no Docker) on 127.0.0.1 with a free port, and a
 * table with the state table's key schema.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE_SCHEMA } from '../../lambda/adapters/state-store';

// dynalite ships no type declarations.
const dynalite = require('dynalite') as (options: { createTableMs?: number }) => Server;

export interface LocalDynamo {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** A client for the endpoint, with fake credentials. */
  readonly client: DynamoDBClient;
  /** A table with the state table's key schema (pk S, sk S), ACTIVE. */
  readonly tableName: string;
  close(): Promise<void>;
}

/** Starts dynalite and creates the state table. */
/** The state table's key schema (lambda/contracts.ts), made on any DynamoDB (dynalite, moto_server). */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: STATE_TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
        { AttributeName: STATE_TABLE_SCHEMA.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: STATE_TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
}

export async function startDynalite(tableName = 'credwatch-state'): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
  });
  await createStateTable(client, tableName);
  for (let i = 0; ; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (i >= 100) throw new Error(`dynalite table ${tableName} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    endpoint,
    client,
    tableName,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
