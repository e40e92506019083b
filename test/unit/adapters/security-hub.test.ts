/**
 * SecurityHubSink with the real SDK client (REST-JSON) against the Security Hub stand-in
 * (test/support/security-hub-endpoint.ts), which validates ASFF, refuses per finding as Security Hub
 * does and keeps findings by Id with Security Hub's update rules.
 */
import {
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import {
  defaultProductArn,
  partitionOf,
  relatedRequirements,
  SecurityHubExportError,
  SecurityHubSink,
  securityHubFindingId,
  toAsffFinding,
} from '../../../lambda/adapters/security-hub';
import { ruleLabel } from '../../../lambda/core/rules';
import type { Change, FindingState } from '../../../lambda/core/state';
import type { Finding } from '../../../lambda/core/types';
import { type SecurityHubEndpoint, startSecurityHubEndpoint } from '../../support/security-hub-endpoint';

const ACCOUNT = '111122223333';
const MEMBER = '444455556666';
const REGION = 'eu-west-1';
const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const HOUR = 3_600_000;

const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: `${ACCOUNT}/alice/access-key-age/AKIAIOSFODNN7EXAMPLE`,
  accountId: ACCOUNT,
  user: 'alice',
  arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
  rule: 'access-key-age',
  severity: 'warning',
  credential: 'AKIAIOSFODNN7EXAMPLE',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  days: 85,
  thresholdDays: 80,
  summary: "alice's access key AKIAIOSFODNN7EXAMPLE is 85 days old (warning at 80). Rotate it.",
  ...overrides,
});

const stateOf = (f: Finding, firstSeen: string): FindingState => ({
  id: f.id,
  accountId: f.accountId,
  status: 'open',
  notifiedSeverity: f.severity,
  firstSeen,
  lastNotifiedAt: firstSeen,
  scanTime: firstSeen,
  finding: f,
});

describe('SecurityHubSink', () => {
  let hub: SecurityHubEndpoint;
  let client: SecurityHubClient;
  let now: number;
  let sink: SecurityHubSink;

  beforeEach(async () => {
    hub = await startSecurityHubEndpoint({ accountId: ACCOUNT });
    client = new SecurityHubClient({
      endpoint: hub.url,
      region: REGION,
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
      maxAttempts: 1,
    });
    now = T0;
    sink = new SecurityHubSink({ client, accountId: ACCOUNT, region: REGION, clock: () => new Date(now) });
  });
  afterEach(async () => {
    client.destroy();
    await hub.close();
  });

  /** The stored finding, read back with the SDK's GetFindings. */
  async function readBack(findingId: string) {
    const out = await client.send(
      new GetFindingsCommand({
        Filters: { Id: [{ Value: securityHubFindingId(findingId), Comparison: 'EQUALS' }] },
      }),
    );
    expect(out.Findings).toHaveLength(1);
    return out.Findings![0]!;
  }

  it('imports an opened finding as ACTIVE, FAILED and NEW, with its severity, resource and requirements', async () => {
    const f = finding();
    await sink.publish([{ kind: 'opened', finding: f }]);

    const stored = await readBack(f.id);
    expect(stored).toMatchObject({
      SchemaVersion: '2018-10-08',
      Id: `credwatch/${f.id}`,
      ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`,
      GeneratorId: 'credwatch/access-key-age',
      AwsAccountId: ACCOUNT,
      CreatedAt: '2026-11-23T12:00:00.000Z',
      FirstObservedAt: '2026-11-23T12:00:00.000Z',
      UpdatedAt: '2026-11-23T12:00:00.000Z',
      RecordState: 'ACTIVE',
      Workflow: { Status: 'NEW' },
      FindingProviderFields: { Severity: { Label: 'MEDIUM', Original: 'warning' } },
      Severity: { Label: 'MEDIUM' },
      Description: f.summary,
      Compliance: {
        Status: 'FAILED',
        RelatedRequirements: ['CIS AWS Foundations Benchmark v3.0.0/1.14', 'AWS Security Hub control/IAM.3'],
      },
    });
    expect(stored.Types).toContain('Software and Configuration Checks/AWS Security Best Practices');
    expect(stored.Title).toBe(`credwatch: ${ruleLabel('access-key-age')}: alice in account ${ACCOUNT}`);
    expect(stored.Resources?.map((r) => [r.Type, r.Id])).toEqual([
      ['AwsIamAccessKey', 'AKIAIOSFODNN7EXAMPLE'],
      ['AwsIamUser', `arn:aws:iam::${ACCOUNT}:user/alice`],
    ]);
    expect(stored.Resources?.[1]?.Details?.AwsIamUser?.UserName).toBe('alice');
  });

  it('escalated: the same Id, a later UpdatedAt and the new severity; CreatedAt stays when first announced', async () => {
    const f = finding();
    await sink.publish([{ kind: 'opened', finding: f }]);
    now = T0 + 24 * HOUR;
    const critical = finding({ severity: 'critical', days: 91, thresholdDays: 90 });
    await sink.publish([
      { kind: 'escalated', finding: critical, previous: stateOf(f, new Date(T0).toISOString()) },
    ]);

    expect(hub.findings.size).toBe(1);
    const stored = await readBack(f.id);
    expect(stored.FindingProviderFields?.Severity).toEqual({ Label: 'CRITICAL', Original: 'critical' });
    expect(stored.Severity?.Label).toBe('CRITICAL');
    expect(stored.UpdatedAt).toBe('2026-11-24T12:00:00.000Z');
    expect(stored.CreatedAt).toBe('2026-11-23T12:00:00.000Z');
    expect(stored.RecordState).toBe('ACTIVE');
  });

  it('resolved: ARCHIVED and PASSED, informational; the workflow is left to the customer', async () => {
    const f = finding({ severity: 'critical' });
    await sink.publish([{ kind: 'opened', finding: f }]);
    now = T0 + HOUR;
    await sink.publish([{ kind: 'resolved', finding: f, previous: stateOf(f, new Date(T0).toISOString()) }]);

    const stored = await readBack(f.id);
    expect(stored.RecordState).toBe('ARCHIVED');
    expect(stored.Compliance?.Status).toBe('PASSED');
    expect(stored.FindingProviderFields?.Severity).toEqual({ Label: 'INFORMATIONAL', Original: 'critical' });
    expect(stored.Workflow?.Status).toBe('NEW');
    expect(stored.Description).toBe(`Resolved: ${f.summary}`);
    const archived = await client.send(
      new GetFindingsCommand({ Filters: { RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }] } }),
    );
    expect(archived.Findings).toEqual([]);
  });

  it('re-publishing the same changes (an outbox retry) keeps one finding per Id, in the same state', async () => {
    const a = finding();
    const b = finding({
      id: `${ACCOUNT}/bob/password-without-mfa/password`,
      user: 'bob',
      arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
      rule: 'password-without-mfa',
      severity: 'critical',
      credential: 'password',
      accessKeyId: undefined,
    });
    const changes: Change[] = [
      { kind: 'opened', finding: a },
      { kind: 'opened', finding: b },
    ];
    await sink.publish(changes);
    const first = JSON.stringify([...hub.findings.keys()]);
    // The clock has not moved (same millisecond): the sink still stamps the retry later, so that
    // Security Hub does not ignore it.
    await sink.publish(changes);
    await sink.publish(changes);

    expect(hub.findings.size).toBe(2);
    expect(JSON.stringify([...hub.findings.keys()])).toBe(first);
    const stored = await readBack(a.id);
    expect(stored.RecordState).toBe('ACTIVE');
    expect(Date.parse(stored.UpdatedAt!)).toBe(T0 + 2);
  });

  it('collapses changes of one finding in a chunk to the last one (Security Hub would keep only one)', async () => {
    const f = finding();
    const previous = stateOf(f, '2026-11-01T00:00:00.000Z');
    await sink.publish([
      { kind: 'opened', finding: f },
      { kind: 'resolved', finding: f, previous },
    ]);
    expect(hub.importBatches).toEqual([1]);
    const stored = await readBack(f.id);
    expect(stored.RecordState).toBe('ARCHIVED');
    expect(stored.CreatedAt).toBe('2026-11-01T00:00:00.000Z');
  });

  it('a finding Security Hub refuses fails the publish, naming the finding and the error', async () => {
    const ok = finding();
    const bad = finding({
      id: `${ACCOUNT}/carol/access-key-age/AKIA2`,
      user: 'carol',
      arn: `arn:aws:iam::${ACCOUNT}:user/carol`,
    });
    hub.refuse(securityHubFindingId(bad.id));
    const error = await sink
      .publish([
        { kind: 'opened', finding: ok },
        { kind: 'opened', finding: bad },
      ])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(SecurityHubExportError);
    expect((error as Error).message).toBe(
      `Security Hub refused 1 of 2 credwatch findings (arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default); ` +
        `first: credwatch/${bad.id}: InvalidAccess: Account is not subscribed to AWS Security Hub`,
    );
    // The other finding was imported; the retry imports both.
    expect([...hub.findings.keys()]).toEqual([securityHubFindingId(ok.id)]);
    hub.refuse(undefined);
    await sink.publish([
      { kind: 'opened', finding: ok },
      { kind: 'opened', finding: bad },
    ]);
    expect(hub.findings.size).toBe(2);
  });

  it('a finding that does not adhere to ASFF is refused by the stand-in as Security Hub words it', async () => {
    const asff = toAsffFinding(
      { kind: 'opened', finding: finding() },
      {
        accountId: ACCOUNT,
        region: REGION,
        partition: 'aws',
        productArn: sink.productArn,
        updatedAt: new Date(T0),
      },
    );
    const { Title: _, ...withoutTitle } = asff;
    const out = await client.send(
      new BatchImportFindingsCommand({ Findings: [withoutTitle as typeof asff] }),
    );
    expect(out.FailedCount).toBe(1);
    expect(out.FailedFindings?.[0]).toEqual({
      Id: asff.Id,
      ErrorCode: 'InvalidInput',
      ErrorMessage:
        "Finding does not adhere to Amazon Finding Format. data should have required property 'Title'.",
    });
  });

  it('a failed call fails the publish with the service error', async () => {
    await hub.close();
    const error = await sink.publish([{ kind: 'opened', finding: finding() }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecurityHubExportError);
    expect((error as Error).message).toMatch(
      /^Could not import 1 credwatch findings into Security Hub \(arn:aws:securityhub:eu-west-1:111122223333:product\/111122223333\/default\): /,
    );
    hub = await startSecurityHubEndpoint({ accountId: ACCOUNT }); // for afterEach
  });

  it('imports more than 100 findings in calls of at most 100', async () => {
    const many = Array.from({ length: 234 }, (_, i) =>
      finding({
        id: `${ACCOUNT}/user${i}/access-key-age/AKIA${i}`,
        user: `user${i}`,
        arn: `arn:aws:iam::${ACCOUNT}:user/user${i}`,
      }),
    );
    await sink.publish(many.map((f) => ({ kind: 'opened', finding: f })));
    expect(hub.importBatches).toEqual([100, 100, 34]);
    expect(hub.findings.size).toBe(234);
  });

  it('the stand-in refuses a request of more than 100 findings, as Security Hub does', async () => {
    const asff = (i: number) =>
      toAsffFinding(
        { kind: 'opened', finding: finding({ id: `${ACCOUNT}/u${i}/access-key-age/K${i}` }) },
        {
          accountId: ACCOUNT,
          region: REGION,
          partition: 'aws',
          productArn: sink.productArn,
          updatedAt: new Date(T0),
        },
      );
    await expect(
      client.send(
        new BatchImportFindingsCommand({ Findings: Array.from({ length: 101 }, (_, i) => asff(i)) }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInputException' });
    expect(hub.findings.size).toBe(0);
  });

  it("root: the account is the resource; another account's finding is imported into the scanner's account", async () => {
    const root = finding({
      id: `${MEMBER}/<root_account>/root-access-key/access-key-1`,
      accountId: MEMBER,
      user: '<root_account>',
      arn: `arn:aws:iam::${MEMBER}:root`,
      rule: 'root-access-key',
      severity: 'critical',
      credential: 'access-key-1',
      accessKeyId: undefined,
      summary: 'The root user has an active access key. Delete it.',
    });
    await sink.publish([{ kind: 'opened', finding: root }]);
    const stored = await readBack(root.id);
    // The default product accepts only the calling account's id (the stand-in answers
    // AccessDeniedException for the whole call otherwise, as AWS does).
    expect(stored.AwsAccountId).toBe(ACCOUNT);
    expect(stored.ProductFields?.['credwatch/ScannedAccountId']).toBe(MEMBER);
    expect(stored.Title).toContain(`the root user in account ${MEMBER}`);
    expect(stored.Resources).toEqual([
      { Type: 'AwsAccount', Id: `AWS::::Account:${MEMBER}`, Partition: 'aws', Region: REGION },
    ]);
    expect(stored.Compliance?.RelatedRequirements).toEqual([
      'CIS AWS Foundations Benchmark v3.0.0/1.4',
      'AWS Security Hub control/IAM.4',
    ]);
  });

  it("the stand-in refuses another account's AwsAccountId for the whole call, as AWS does", async () => {
    const asff = toAsffFinding(
      { kind: 'opened', finding: finding() },
      {
        accountId: MEMBER,
        region: REGION,
        partition: 'aws',
        productArn: sink.productArn,
        updatedAt: new Date(T0),
      },
    );
    await expect(client.send(new BatchImportFindingsCommand({ Findings: [asff] }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('names every CIS recommendation and Security Hub control of lambda/core/compliance.ts, and none for an unmapped rule', () => {
    expect(relatedRequirements('access-key-unused')).toEqual([
      'CIS AWS Foundations Benchmark v3.0.0/1.12',
      'AWS Security Hub control/IAM.8',
      'AWS Security Hub control/IAM.22',
    ]);
    expect(relatedRequirements('exemption-granted')).toEqual([]);
    const asff = toAsffFinding(
      { kind: 'opened', finding: finding({ rule: 'exemption-granted', severity: 'info' }) },
      {
        accountId: ACCOUNT,
        region: REGION,
        partition: 'aws',
        productArn: sink.productArn,
        updatedAt: new Date(T0),
      },
    );
    expect(asff.Compliance).toEqual({ Status: 'FAILED' });
    expect(asff.Types).toEqual(['Software and Configuration Checks/AWS Security Best Practices']);
  });

  it('truncates a description to 1,024 characters', () => {
    const asff = toAsffFinding(
      { kind: 'opened', finding: finding({ summary: 'x'.repeat(2000) }) },
      {
        accountId: ACCOUNT,
        region: REGION,
        partition: 'aws',
        productArn: sink.productArn,
        updatedAt: new Date(T0),
      },
    );
    expect(asff.Description).toHaveLength(1024);
    expect(asff.Description!.endsWith('…')).toBe(true);
  });

  it('builds the product ARN of the partition of the region, and refuses a bad account id', () => {
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('eu-west-1')).toBe('aws');
    expect(defaultProductArn('aws-cn', 'cn-north-1', ACCOUNT)).toBe(
      `arn:aws-cn:securityhub:cn-north-1:${ACCOUNT}:product/${ACCOUNT}/default`,
    );
    expect(() => new SecurityHubSink({ client, accountId: '1234', region: REGION })).toThrow(
      'SecurityHubSink: accountId must be a 12-digit account id, got "1234"',
    );
  });
});
