/**
 * Enforcement's one IAM write, IamAdapter.deactivateAccessKey, through the real SDK client against
 * the local IAM endpoint (test/support/iam-endpoint.ts), and the endpoint's UpdateAccessKey itself:
 * what it accepts and refuses, and the shape of its answers (the API reference's sample in
 * test/fixtures/iam-xml). moto's opinion: test/conformance/iam-deactivate-moto.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { parse } from 'csv-parse/sync';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from '../../../lambda/adapters/iam';
import { IamWriteError } from '../../../lambda/core/errors';
import { FakeAccount } from '../../support/account-generator';
import { type IamEndpoint, type IamEndpointOptions, startIamEndpoint } from '../../support/iam-endpoint';

const NOW = new Date('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;
const FAKE_CREDENTIALS = {
  accessKeyId: 'AKIAFAKEFAKEFAKEFAKE',
  secretAccessKey: 'not-a-secret-but-never-shown',
};
const SCANNER = 'arn:aws:sts::111122223333:assumed-role/credwatch-scanner/credwatch';
const SAMPLE = readFileSync(
  join(__dirname, '../../fixtures/iam-xml/awsdoc_UpdateAccessKey_sample_response.xml'),
  'utf8',
);

const ALICE_1 = 'AKIAFAKEALICE0000001';
const ALICE_2 = 'AKIAFAKEALICE0000002';
const BOB_1 = 'AKIAFAKEBOB000000001';

/** alice with two active keys, bob with one. */
function account(): FakeAccount {
  const a = new FakeAccount({ accountId: '111122223333', createdAt: new Date('2020-01-01T00:00:00Z') });
  a.createUser('alice', {
    createdAt: new Date('2023-01-10T09:00:00Z'),
    accessKeys: [
      { id: ALICE_1, createdAt: new Date('2024-03-01T10:00:00Z') },
      { id: ALICE_2, createdAt: new Date('2025-02-01T10:00:00Z') },
    ],
  });
  a.createUser('bob', {
    createdAt: new Date('2024-06-01T00:00:00Z'),
    accessKeys: [{ id: BOB_1, createdAt: new Date('2024-06-02T00:00:00Z') }],
  });
  return a;
}

const endpoints: IamEndpoint[] = [];
const clients: IAMClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

async function start(options: IamEndpointOptions = {}): Promise<IamEndpoint> {
  const endpoint = await startIamEndpoint({ now: () => NOW, account: account(), ...options });
  endpoints.push(endpoint);
  return endpoint;
}

/** The Lambda's client (adaptive retry), on the endpoint; `maxAttempts` lowered where a test exhausts it. */
function adapterOn(endpoint: IamEndpoint, config: Partial<IAMClientConfig> = {}): IamAdapter {
  const client = new IAMClient({
    ...IAM_CLIENT_DEFAULTS,
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: FAKE_CREDENTIALS,
    ...config,
  });
  clients.push(client);
  return new IamAdapter({ client, sleep: async () => {} });
}

const statuses = (endpoint: IamEndpoint, user: string) =>
  Object.fromEntries(endpoint.account.user(user)!.accessKeys.map((k) => [k.id, k.status]));

const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );

async function post(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
    body: new URLSearchParams({ Action: 'UpdateAccessKey', Version: '2010-05-08', ...params }),
  });
  return { status: res.status, text: await res.text() };
}

/** The XML entities the endpoint writes (test/support/iam-endpoint.ts xmlEscape), read back. */
const xmlText = (s: string | undefined) =>
  s?.replace(
    /&(amp|lt|gt|quot|apos);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!,
  );
const errorOf = (text: string) => ({
  code: xmlText(/<Code>([^<]*)<\/Code>/.exec(text)?.[1]),
  message: xmlText(/<Message>([^<]*)<\/Message>/.exec(text)?.[1]),
});

/** Element paths (`A/B/C`) of an XML document: structure only, no text, order or attributes. */
function elementPaths(xml: string): string[] {
  const paths = new Set<string>();
  const stack: string[] = [];
  for (const [, closing, name, selfClosing] of xml.matchAll(/<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>/g)) {
    if (closing) {
      stack.pop();
      continue;
    }
    stack.push(name!);
    paths.add(stack.join('/'));
    if (selfClosing) stack.pop();
  }
  return [...paths].sort();
}

describe('IamAdapter.deactivateAccessKey', () => {
  it('sends UpdateAccessKey with Status Inactive for that user and key, and nothing else; ListAccessKeys then reads it inactive', async () => {
    const endpoint = await start();
    const adapter = adapterOn(endpoint);

    expect(await adapter.deactivateAccessKey('alice', ALICE_1)).toBe('deactivated');

    expect(endpoint.updates()).toEqual([
      { userName: 'alice', accessKeyId: ALICE_1, status: 'Inactive', answer: 'OK' },
    ]);
    expect(endpoint.counts()).toEqual({ UpdateAccessKey: 1 });
    expect(await adapter.listAccessKeys('alice')).toEqual([
      { id: ALICE_1, active: false, createdAt: new Date('2024-03-01T10:00:00Z') },
      { id: ALICE_2, active: true, createdAt: new Date('2025-02-01T10:00:00Z') },
    ]);
    expect(statuses(endpoint, 'bob')).toEqual({ [BOB_1]: 'Active' });
    expect(adapter.calls()).toEqual({ UpdateAccessKey: 1, ListAccessKeys: 1 });
    expect(adapter.requests()).toEqual({ UpdateAccessKey: 1, ListAccessKeys: 1 });
  });

  it('sends Inactive again for a key already inactive (nothing to undo), and never Active', async () => {
    const endpoint = await start();
    endpoint.account.setAccessKeyStatus('alice', ALICE_2, 'Inactive');
    const adapter = adapterOn(endpoint);

    expect(await adapter.deactivateAccessKey('alice', ALICE_2)).toBe('deactivated');
    expect(await adapter.deactivateAccessKey('alice', ALICE_2)).toBe('deactivated');

    expect(endpoint.updates().map((u) => u.status)).toEqual(['Inactive', 'Inactive']);
    expect(statuses(endpoint, 'alice')).toEqual({ [ALICE_1]: 'Active', [ALICE_2]: 'Inactive' });
    expect(adapter.calls()).toEqual({ UpdateAccessKey: 2 });
  });

  it('shows in the next credential report IAM generates, not in the one it already had (a snapshot)', async () => {
    let now = NOW.getTime();
    const endpoint = await start({ now: () => new Date(now) });
    const adapter = adapterOn(endpoint);
    const aliceRow = async () => {
      const rows = parse((await adapter.getReport()).csv, { columns: true }) as Record<string, string>[];
      const row = rows.find((r) => r.user === 'alice')!;
      return [row.access_key_1_active, row.access_key_2_active];
    };
    expect(await aliceRow()).toEqual(['true', 'true']);

    await adapter.deactivateAccessKey('alice', ALICE_1);

    expect(await aliceRow()).toEqual(['true', 'true']);
    now += 4 * HOUR;
    expect(await aliceRow()).toEqual(['false', 'true']);
  });

  it.each<[string, string, string]>([
    ['an unknown user', 'nobody', ALICE_1],
    ['an unknown key', 'alice', 'AKIAFAKEUNKNOWN00001'],
    ["another user's key", 'alice', BOB_1],
  ])('gives gone for %s (NoSuchEntity), changing nothing, without retrying', async (_, user, key) => {
    const endpoint = await start();
    const adapter = adapterOn(endpoint);

    expect(await adapter.deactivateAccessKey(user, key)).toBe('gone');

    expect(endpoint.updates()).toEqual([
      { userName: user, accessKeyId: key, status: 'Inactive', answer: 'NoSuchEntity' },
    ]);
    expect(statuses(endpoint, 'alice')).toEqual({ [ALICE_1]: 'Active', [ALICE_2]: 'Active' });
    expect(statuses(endpoint, 'bob')).toEqual({ [BOB_1]: 'Active' });
    expect(adapter.calls()).toEqual({ UpdateAccessKey: 1 });
    expect(adapter.requests()).toEqual({ UpdateAccessKey: 1 });
  });

  it('throws an IamWriteError naming the action, the user, the key and AccessDenied when IAM denies it, without retrying', async () => {
    const endpoint = await start();
    endpoint.deny('UpdateAccessKey', { userName: 'alice' });
    const adapter = adapterOn(endpoint);

    const err = await failure(adapter.deactivateAccessKey('alice', ALICE_1));

    expect(err).toBeInstanceOf(IamWriteError);
    expect((err as Error).message).toBe(
      `IAM UpdateAccessKey (Status Inactive) for user "alice", access key ${ALICE_1} failed: AccessDenied: User: ${SCANNER} is not authorized to perform: iam:UpdateAccessKey on resource: user alice`,
    );
    expect((err as Error).message).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
    expect((err as Error).cause).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(statuses(endpoint, 'alice')).toEqual({ [ALICE_1]: 'Active', [ALICE_2]: 'Active' });
    expect(adapter.requests()).toEqual({ UpdateAccessKey: 1 });
    // Only alice is denied: bob's key is deactivated.
    expect(await adapter.deactivateAccessKey('bob', BOB_1)).toBe('deactivated');
    expect(endpoint.updates().map((u) => u.answer)).toEqual(['AccessDenied', 'OK']);
  });

  it('is denied for one key only when the denial names that key', async () => {
    const endpoint = await start();
    endpoint.deny('UpdateAccessKey', { accessKeyId: ALICE_2 });
    const adapter = adapterOn(endpoint);

    expect(await adapter.deactivateAccessKey('alice', ALICE_1)).toBe('deactivated');
    await expect(adapter.deactivateAccessKey('alice', ALICE_2)).rejects.toThrow(
      `for user "alice", access key ${ALICE_2} failed: AccessDenied:`,
    );

    expect(statuses(endpoint, 'alice')).toEqual({ [ALICE_1]: 'Inactive', [ALICE_2]: 'Active' });
  });

  it('lets the SDK retry a throttled UpdateAccessKey: one call, two requests, deactivated', async () => {
    const endpoint = await start();
    endpoint.failNext('UpdateAccessKey', 'Throttling');
    const adapter = adapterOn(endpoint);

    expect(await adapter.deactivateAccessKey('alice', ALICE_1)).toBe('deactivated');

    expect(endpoint.updates().map((u) => u.answer)).toEqual(['Throttling', 'OK']);
    expect(adapter.calls()).toEqual({ UpdateAccessKey: 1 });
    expect(adapter.requests()).toEqual({ UpdateAccessKey: 2 });
    expect(statuses(endpoint, 'alice')[ALICE_1]).toBe('Inactive');
  });

  it.each([
    ['Throttling', 'Rate exceeded'],
    ['LimitExceeded', 'Limit exceeded.'],
    ['ServiceFailure', 'We encountered an internal error. Please try again.'],
  ] as const)('throws an IamWriteError naming %s once the SDK’s retries ran out', async (fault, message) => {
    const endpoint = await start();
    endpoint.failNext('UpdateAccessKey', fault, 2);
    const adapter = adapterOn(endpoint, { maxAttempts: 2 });

    const err = await failure(adapter.deactivateAccessKey('alice', ALICE_1));

    expect(err).toBeInstanceOf(IamWriteError);
    expect((err as Error).message).toBe(
      `IAM UpdateAccessKey (Status Inactive) for user "alice", access key ${ALICE_1} failed: ${fault}: ${message}`,
    );
    expect(adapter.calls()).toEqual({ UpdateAccessKey: 1 });
    expect(adapter.requests()).toEqual({ UpdateAccessKey: 2 });
    expect(statuses(endpoint, 'alice')[ALICE_1]).toBe('Active');
  });

  const SECRET_SHAPED = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  it.each<[string, unknown, unknown, string]>([
    ['an empty user name', '', ALICE_1, 'userName "" (0 characters) is not an IAM user name'],
    ['a user name with a space', 'alice smith', ALICE_1, 'userName "alice smith" (11 characters)'],
    ['a user name over 64 characters', 'a'.repeat(65), ALICE_1, '(65 characters) is not an IAM user name'],
    ['the report’s root row name', '<root_account>', ALICE_1, 'userName "<root_account>"'],
    ['no user name', undefined, ALICE_1, 'userName undefined is not an IAM user name'],
    ['a key id in lower case', 'alice', ALICE_1.toLowerCase(), 'accessKeyId for user "alice"'],
    [
      'a key id under 16 characters',
      'alice',
      'AKIAFAKE',
      'accessKeyId for user "alice" is not an access key id (8 characters;',
    ],
    [
      'a secret access key given as the key id',
      'alice',
      SECRET_SHAPED,
      'accessKeyId for user "alice" is not an access key id (40 characters;',
    ],
    ['no key id', 'alice', null, 'accessKeyId for user "alice" is not an access key id (object;'],
  ])('refuses %s with an IamWriteError naming the field, sending nothing', async (_, user, key, expected) => {
    const endpoint = await start();
    const adapter = adapterOn(endpoint);

    const err = await failure(adapter.deactivateAccessKey(user as string, key as string));

    expect(err).toBeInstanceOf(IamWriteError);
    expect((err as Error).message).toMatch(/^IAM UpdateAccessKey not sent: /);
    expect((err as Error).message).toContain(expected);
    expect((err as Error).message).not.toContain(SECRET_SHAPED);
    expect(endpoint.counts()).toEqual({});
    expect(adapter.calls()).toEqual({});
  });
});

describe('the local IAM endpoint’s UpdateAccessKey', () => {
  it('answers with the structure of the API reference’s sample: ResponseMetadata only, no Result', async () => {
    const endpoint = await start();

    const { status, text } = await post(endpoint.url, {
      UserName: 'alice',
      AccessKeyId: ALICE_1,
      Status: 'Inactive',
    });

    expect(status).toBe(200);
    expect(elementPaths(text)).toEqual(elementPaths(SAMPLE));
    expect(text).not.toContain('UpdateAccessKeyResult');
    expect(statuses(endpoint, 'alice')[ALICE_1]).toBe('Inactive');
  });

  it('sets a key Active again, as IAM does: the endpoint would let a wrong Status through, so tests see it', async () => {
    const endpoint = await start();
    endpoint.account.setAccessKeyStatus('alice', ALICE_1, 'Inactive');

    const { status } = await post(endpoint.url, {
      UserName: 'alice',
      AccessKeyId: ALICE_1,
      Status: 'Active',
    });

    expect(status).toBe(200);
    expect(statuses(endpoint, 'alice')[ALICE_1]).toBe('Active');
    expect(endpoint.updates()).toEqual([
      { userName: 'alice', accessKeyId: ALICE_1, status: 'Active', answer: 'OK' },
    ]);
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'no Status',
      { UserName: 'alice', AccessKeyId: ALICE_1 },
      "1 validation error detected: Value null at 'status' failed to satisfy constraint: Member must not be null",
    ],
    [
      'a Status IAM does not know',
      { UserName: 'alice', AccessKeyId: ALICE_1, Status: 'Disabled' },
      "1 validation error detected: Value 'Disabled' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
    ],
    [
      'a Status in the wrong case',
      { UserName: 'alice', AccessKeyId: ALICE_1, Status: 'inactive' },
      "1 validation error detected: Value 'inactive' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
    ],
    [
      'no AccessKeyId',
      { UserName: 'alice', Status: 'Inactive' },
      "1 validation error detected: Value null at 'accessKeyId' failed to satisfy constraint: Member must not be null",
    ],
    [
      'a short AccessKeyId and a bad UserName',
      { UserName: 'al ice', AccessKeyId: 'AKIA', Status: 'Inactive' },
      "2 validation errors detected: Value 'al ice' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value 'AKIA' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16",
    ],
  ])('refuses %s with 400 ValidationError, changing nothing', async (_, params, message) => {
    const endpoint = await start();

    const { status, text } = await post(endpoint.url, params);

    expect(status).toBe(400);
    expect(errorOf(text)).toEqual({ code: 'ValidationError', message });
    expect(statuses(endpoint, 'alice')).toEqual({ [ALICE_1]: 'Active', [ALICE_2]: 'Active' });
    expect(endpoint.updates()).toEqual([
      {
        userName: params.UserName ?? null,
        accessKeyId: params.AccessKeyId ?? null,
        status: params.Status ?? null,
        answer: 'ValidationError',
      },
    ]);
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'an unknown user',
      { UserName: 'nobody', AccessKeyId: ALICE_1 },
      'The user with name nobody cannot be found.',
    ],
    [
      'an unknown key',
      { UserName: 'alice', AccessKeyId: 'AKIAFAKEUNKNOWN00001' },
      'The Access Key with id AKIAFAKEUNKNOWN00001 cannot be found.',
    ],
    [
      "another user's key",
      { UserName: 'alice', AccessKeyId: BOB_1 },
      `The Access Key with id ${BOB_1} cannot be found.`,
    ],
  ])('answers %s with 404 NoSuchEntity in IAM’s words', async (_, params, message) => {
    const endpoint = await start();

    const { status, text } = await post(endpoint.url, { ...params, Status: 'Inactive' });

    expect(status).toBe(404);
    expect(errorOf(text)).toEqual({ code: 'NoSuchEntity', message });
    expect(statuses(endpoint, 'bob')).toEqual({ [BOB_1]: 'Active' });
  });

  it('updates a key of the signing user when UserName is left out, and refuses a caller that is no user', async () => {
    const endpoint = await start();
    const signedBy = (key: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=${key}/20261123/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
    });

    const own = await post(endpoint.url, { AccessKeyId: BOB_1, Status: 'Inactive' }, signedBy(BOB_1));
    const others = await post(endpoint.url, { AccessKeyId: ALICE_1, Status: 'Inactive' }, signedBy(BOB_1));
    const role = await post(
      endpoint.url,
      { AccessKeyId: ALICE_1, Status: 'Inactive' },
      signedBy('ASIAFAKEROLE00000001'),
    );

    expect(own.status).toBe(200);
    expect(statuses(endpoint, 'bob')).toEqual({ [BOB_1]: 'Inactive' });
    expect([others.status, errorOf(others.text).code]).toEqual([404, 'NoSuchEntity']);
    expect(errorOf(role.text)).toEqual({
      code: 'ValidationError',
      message: 'Must specify userName when calling with non-User credentials',
    });
    expect(statuses(endpoint, 'alice')).toEqual({ [ALICE_1]: 'Active', [ALICE_2]: 'Active' });
  });

  it('names iam:UpdateAccessKey on the user in a denial, and throttles it with the other actions', async () => {
    let now = NOW.getTime();
    const endpoint = await start({ now: () => new Date(now), throttle: { ratePerSecond: 1, burst: 1 } });
    endpoint.deny('UpdateAccessKey', { userName: 'bob' });

    const denied = await post(endpoint.url, { UserName: 'bob', AccessKeyId: BOB_1, Status: 'Inactive' });
    const throttled = await post(endpoint.url, {
      UserName: 'alice',
      AccessKeyId: ALICE_1,
      Status: 'Inactive',
    });
    now += 1_000;
    const accepted = await post(endpoint.url, {
      UserName: 'alice',
      AccessKeyId: ALICE_1,
      Status: 'Inactive',
    });

    expect([denied.status, errorOf(denied.text)]).toEqual([
      403,
      {
        code: 'AccessDenied',
        message: `User: ${SCANNER} is not authorized to perform: iam:UpdateAccessKey on resource: user bob`,
      },
    ]);
    expect([throttled.status, errorOf(throttled.text)]).toEqual([
      400,
      { code: 'Throttling', message: 'Rate exceeded' },
    ]);
    expect(accepted.status).toBe(200);
    expect(endpoint.updates().map((u) => u.answer)).toEqual(['AccessDenied', 'Throttling', 'OK']);
    expect(statuses(endpoint, 'bob')).toEqual({ [BOB_1]: 'Active' });
  });
});
