/**
 * A second opinion on enforcement's one IAM write from a tool nobody here wrote: the IamAdapter's
 * deactivateAccessKey (UpdateAccessKey, Status Inactive) against moto
 * (https://github.com/getmoto/moto), through the real SDK client, with the user and keys made in
 * moto through the SDK; and the local IAM endpoint (test/support/iam-endpoint.ts) asked the same
 * questions, to see that both give the same answer where credwatch depends on it.
 *
 * moto's quirks for UpdateAccessKey (5.2.1), each asserted by the last test so that a moto upgrade
 * that changes one is noticed. Where moto differs, the stand-in follows AWS as documented (the API
 * reference: Status is required, one of Active | Inactive) and the NoSuchEntity wording it already
 * uses for GetAccessKeyLastUsed (no recorded real UpdateAccessKey refusal settles the final period):
 * - any Status is accepted and stored as given: `Bogus` is then what ListAccessKeys says (AWS: 400
 *   ValidationError, "Member must satisfy enum value set");
 * - a request without Status is accepted and changes nothing (AWS: 400 ValidationError, "Member must
 *   not be null");
 * - the unknown-key message has no final period: "The Access Key with id X cannot be found" (AWS and
 *   the stand-in: "… cannot be found."); the unknown-user message has it, as AWS's;
 * - its error bodies carry the message twice, as `<Message>` and `<message>`.
 * None of these touches credwatch, which sends only Status Inactive and reads only the error code.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { parse } from 'csv-parse/sync';
import { IamAdapter } from '../../lambda/adapters/iam';
import { FakeAccount } from '../support/account-generator';
import { type IamEndpoint, startIamEndpoint } from '../support/iam-endpoint';
import { type MotoServer, startMotoServer } from '../support/moto-server';

/** What an SDK error says: its name, IAM's code and the HTTP status. */
async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    const e = err as {
      name?: string;
      Code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    return { name: e.name, code: e.Code, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected a rejection');
}

describe('IamAdapter.deactivateAccessKey against moto', () => {
  let moto: MotoServer;
  let client: IAMClient;
  let endpoint: IamEndpoint | undefined;
  let local: IAMClient | undefined;

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
    client = new IAMClient({ ...moto.clientConfig, maxAttempts: 1 });
  });
  afterEach(async () => {
    local?.destroy();
    local = undefined;
    await endpoint?.close();
    endpoint = undefined;
  });

  /** A user with two keys, made in moto through the SDK. */
  async function seed(name: string): Promise<[string, string]> {
    await client.send(new CreateUserCommand({ UserName: name }));
    const first = await client.send(new CreateAccessKeyCommand({ UserName: name }));
    const second = await client.send(new CreateAccessKeyCommand({ UserName: name }));
    return [first.AccessKey!.AccessKeyId!, second.AccessKey!.AccessKeyId!];
  }

  const statusesIn = async (c: IAMClient, user: string) =>
    Object.fromEntries(
      ((await c.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => [
        k.AccessKeyId,
        k.Status,
      ]),
    );

  it('sets only that key Inactive: ListAccessKeys and the credential report say so', async () => {
    const [first, second] = await seed('alice');
    const [bobs] = await seed('bob');
    const adapter = new IamAdapter({ client, sleep: async () => {} });

    expect(await adapter.deactivateAccessKey('alice', first)).toBe('deactivated');

    expect(await statusesIn(client, 'alice')).toEqual({ [first]: 'Inactive', [second]: 'Active' });
    expect((await statusesIn(client, 'bob'))[bobs]).toBe('Active');
    // moto rebuilds its report on every GetCredentialReport (AWS: a snapshot up to 4 hours old).
    const rows = parse((await adapter.getReport()).csv, { columns: true }) as Record<string, string>[];
    const alice = rows.find((r) => r.user === 'alice')!;
    expect([alice.access_key_1_active, alice.access_key_2_active]).toEqual(['false', 'true']);
    expect(adapter.calls()).toMatchObject({ UpdateAccessKey: 1 });
  });

  it('gives gone for an unknown user, an unknown key and another user’s key, changing nothing', async () => {
    const [first, second] = await seed('alice');
    const [bobs, bobsOther] = await seed('bob');
    const adapter = new IamAdapter({ client });

    expect(await adapter.deactivateAccessKey('nobody', first)).toBe('gone');
    expect(await adapter.deactivateAccessKey('alice', 'AKIAFAKEUNKNOWN00001')).toBe('gone');
    expect(await adapter.deactivateAccessKey('alice', bobs)).toBe('gone');

    expect(await statusesIn(client, 'alice')).toEqual({ [first]: 'Active', [second]: 'Active' });
    expect(await statusesIn(client, 'bob')).toEqual({ [bobs]: 'Active', [bobsOther]: 'Active' });
  });

  it('answers an unknown key and an unknown user with the same error as the local IAM endpoint: NoSuchEntity, HTTP 404', async () => {
    await seed('alice');
    const account = new FakeAccount({
      accountId: '123456789012',
      createdAt: new Date('2020-01-01T00:00:00Z'),
    });
    account.createUser('alice', { createdAt: new Date('2024-01-01T00:00:00Z') });
    endpoint = await startIamEndpoint({ account });
    local = new IAMClient({ ...moto.clientConfig, endpoint: endpoint.url, maxAttempts: 1 });
    const unknownKey = {
      UserName: 'alice',
      AccessKeyId: 'AKIAFAKEUNKNOWN00001',
      Status: 'Inactive',
    } as const;
    const unknownUser = {
      UserName: 'nobody',
      AccessKeyId: 'AKIAFAKEUNKNOWN00001',
      Status: 'Inactive',
    } as const;

    for (const input of [unknownKey, unknownUser]) {
      const fromMoto = await refusal(client.send(new UpdateAccessKeyCommand(input)));
      const fromStandIn = await refusal(local.send(new UpdateAccessKeyCommand(input)));
      const { message: _motoMessage, ...motoAnswer } = fromMoto;
      const { message: _localMessage, ...localAnswer } = fromStandIn;
      expect(motoAnswer).toEqual({ name: 'NoSuchEntityException', code: 'NoSuchEntity', status: 404 });
      expect(localAnswer).toEqual(motoAnswer);
    }
    // The user's message is worded alike; the key's differs by moto's missing period (quirks below).
    expect((await refusal(client.send(new UpdateAccessKeyCommand(unknownUser)))).message).toBe(
      (await refusal(local.send(new UpdateAccessKeyCommand(unknownUser)))).message,
    );
  });

  it('has the UpdateAccessKey quirks listed at the top of this file (moto 5.2.1)', async () => {
    const [first, second] = await seed('alice');
    const query = (params: Record<string, string>) =>
      moto.query('iam', { Action: 'UpdateAccessKey', Version: '2010-05-08', ...params });

    // A Status AWS refuses is stored as given; none at all changes nothing. Both answer 200.
    await query({ UserName: 'alice', AccessKeyId: first, Status: 'Bogus' });
    await query({ UserName: 'alice', AccessKeyId: second });
    expect(await statusesIn(client, 'alice')).toEqual({ [first]: 'Bogus', [second]: 'Active' });

    // The unknown key's message without its final period; the message twice in the body.
    const unknown = await query({
      UserName: 'alice',
      AccessKeyId: 'AKIAFAKEUNKNOWN00001',
      Status: 'Inactive',
    }).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(unknown).toMatch(/^moto iam answered 404: /);
    expect(unknown).toContain(
      '<Message>The Access Key with id AKIAFAKEUNKNOWN00001 cannot be found</Message>',
    );
    expect(unknown).toContain(
      '<message>The Access Key with id AKIAFAKEUNKNOWN00001 cannot be found</message>',
    );
    // Its success answer has the structure of the API reference's sample: no Result element.
    const ok = await query({ UserName: 'alice', AccessKeyId: first, Status: 'Inactive' });
    expect(ok).toMatch(
      /^<UpdateAccessKeyResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><ResponseMetadata><RequestId>[^<]+<\/RequestId><\/ResponseMetadata><\/UpdateAccessKeyResponse>$/,
    );
  });
});
