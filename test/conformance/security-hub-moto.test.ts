/**
 * A second opinion on the Security Hub export from a tool nobody here wrote: SecurityHubSink's
 * findings imported into moto (https://github.com/getmoto/moto) with BatchImportFindings and read
 * back with GetFindings, through the real SDK client (REST-JSON).
 *
 * moto's quirks (5.2.1), each asserted by the last test so that a moto upgrade that changes one is
 * noticed (where moto differs, AWS's behaviour is the user guide's "BatchImportFindings for finding
 * providers", modelled by test/support/security-hub-endpoint.ts):
 * - BatchImportFindings imports into an account whose Security Hub is not enabled (AWS: each finding
 *   in FailedFindings with InvalidAccess);
 * - it checks only that `Resources` is a non-empty list: a finding without a Title or Severity is
 *   imported (AWS: InvalidInput "Finding does not adhere to Amazon Finding Format. …"), and it takes
 *   more than 100 findings in one call (AWS: InvalidInputException);
 * - it accepts another account's AwsAccountId (AWS, for the default product: AccessDeniedException);
 * - an update replaces the stored fields whatever its UpdatedAt (AWS ignores an update whose
 *   UpdatedAt is not later than the stored one) and overwrites Workflow (AWS ignores it on an
 *   update);
 * - the top-level Severity is not filled in from FindingProviderFields (AWS fills it in);
 * - GetFindings ignores Filters and SortCriteria: it returns every finding of the account and region.
 */
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  EnableSecurityHubCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { SecurityHubSink, securityHubFindingId, toAsffFinding } from '../../lambda/adapters/security-hub';
import type { FindingState } from '../../lambda/core/state';
import type { Finding } from '../../lambda/core/types';
import { MOTO_ACCOUNT_ID, type MotoServer, startMotoServer } from '../support/moto-server';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const DAY = 86_400_000;

const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: `${MOTO_ACCOUNT_ID}/alice/access-key-age/AKIAIOSFODNN7EXAMPLE`,
  accountId: MOTO_ACCOUNT_ID,
  user: 'alice',
  arn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/alice`,
  rule: 'access-key-age',
  severity: 'warning',
  credential: 'AKIAIOSFODNN7EXAMPLE',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  days: 85,
  thresholdDays: 80,
  summary: "alice's access key AKIAIOSFODNN7EXAMPLE is 85 days old (warning at 80). Rotate it.",
  ...overrides,
});

const open = (f: Finding, firstSeen: string): FindingState => ({
  id: f.id,
  accountId: f.accountId,
  status: 'open',
  notifiedSeverity: f.severity,
  firstSeen,
  lastNotifiedAt: firstSeen,
  scanTime: firstSeen,
  finding: f,
});

describe('Security Hub export against moto', () => {
  let moto: MotoServer;
  let client: SecurityHubClient;

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
    client = new SecurityHubClient({ ...moto.clientConfig, maxAttempts: 1 });
  });

  const all = async () => (await client.send(new GetFindingsCommand({}))).Findings ?? [];

  it('imports opened, escalated and resolved findings under one Id, read back with GetFindings', async () => {
    await client.send(new EnableSecurityHubCommand({}));
    let now = T0;
    const sink = new SecurityHubSink({
      client,
      accountId: MOTO_ACCOUNT_ID,
      region: moto.clientConfig.region,
      clock: () => new Date(now),
    });
    const warning = finding();
    const root = finding({
      id: `${MOTO_ACCOUNT_ID}/<root_account>/root-without-mfa/mfa`,
      user: '<root_account>',
      arn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root`,
      rule: 'root-without-mfa',
      severity: 'critical',
      credential: 'mfa',
      accessKeyId: undefined,
      summary: 'The root user has no MFA device. Enable one.',
    });
    await sink.publish([
      { kind: 'opened', finding: warning },
      { kind: 'opened', finding: root },
    ]);
    let findings = await all();
    expect(findings.map((f) => f.Id).sort()).toEqual(
      [securityHubFindingId(warning.id), securityHubFindingId(root.id)].sort(),
    );
    const imported = findings.find((f) => f.Id === securityHubFindingId(warning.id))!;
    expect(imported).toMatchObject({
      ProductArn: `arn:aws:securityhub:${moto.clientConfig.region}:${MOTO_ACCOUNT_ID}:product/${MOTO_ACCOUNT_ID}/default`,
      AwsAccountId: MOTO_ACCOUNT_ID,
      RecordState: 'ACTIVE',
      Workflow: { Status: 'NEW' },
      Compliance: { Status: 'FAILED' },
      FindingProviderFields: { Severity: { Label: 'MEDIUM', Original: 'warning' } },
    });

    now = T0 + DAY;
    const critical = finding({ severity: 'critical', days: 91, thresholdDays: 90 });
    await sink.publish([
      { kind: 'escalated', finding: critical, previous: open(warning, new Date(T0).toISOString()) },
    ]);
    now = T0 + 2 * DAY;
    await sink.publish([
      { kind: 'resolved', finding: root, previous: open(root, new Date(T0).toISOString()) },
    ]);
    // The outbox's retry of the same chunk: still one finding per Id.
    await sink.publish([
      { kind: 'resolved', finding: root, previous: open(root, new Date(T0).toISOString()) },
    ]);

    findings = await all();
    expect(findings).toHaveLength(2);
    const escalated = findings.find((f) => f.Id === securityHubFindingId(warning.id))!;
    expect(escalated.FindingProviderFields?.Severity?.Label).toBe('CRITICAL');
    expect(escalated.UpdatedAt).toBe('2026-11-24T12:00:00.000Z');
    expect(escalated.CreatedAt).toBe('2026-11-23T12:00:00.000Z');
    const resolved = findings.find((f) => f.Id === securityHubFindingId(root.id))!;
    expect(resolved).toMatchObject({
      RecordState: 'ARCHIVED',
      Compliance: { Status: 'PASSED' },
      Resources: [{ Type: 'AwsAccount', Id: `AWS::::Account:${MOTO_ACCOUNT_ID}` }],
    });
  });

  it("shows moto's quirks, against AWS's own answers (the comment at the top of this file)", async () => {
    const region = moto.clientConfig.region;
    const productArn = `arn:aws:securityhub:${region}:${MOTO_ACCOUNT_ID}:product/${MOTO_ACCOUNT_ID}/default`;
    const asff = (f: Finding, at: number, accountId = MOTO_ACCOUNT_ID): AwsSecurityFinding =>
      toAsffFinding(
        { kind: 'opened', finding: f },
        { accountId, region, partition: 'aws', productArn, updatedAt: new Date(at) },
      );
    const importFindings = (findings: AwsSecurityFinding[]) =>
      client.send(new BatchImportFindingsCommand({ Findings: findings }));

    // Security Hub not enabled (reset above): imported all the same.
    expect((await importFindings([asff(finding(), T0)])).FailedCount).toBe(0);

    // No Title, no severity: imported.
    const {
      Title: _t,
      FindingProviderFields: _p,
      ...bare
    } = asff(finding({ id: `${MOTO_ACCOUNT_ID}/bare/x/y` }), T0);
    expect((await importFindings([bare as AwsSecurityFinding])).FailedCount).toBe(0);
    // Without Resources: refused, moto's only check.
    const { Resources: _r, ...noResources } = asff(finding({ id: `${MOTO_ACCOUNT_ID}/nores/x/y` }), T0);
    const refused = await importFindings([noResources as AwsSecurityFinding]);
    expect(refused.FailedCount).toBe(1);
    expect(refused.FailedFindings?.[0]?.ErrorCode).toBe('InvalidInput');

    // 101 findings in one call: all imported.
    const many = Array.from({ length: 101 }, (_, i) =>
      asff(finding({ id: `${MOTO_ACCOUNT_ID}/u${i}/r/c` }), T0),
    );
    expect(await importFindings(many)).toMatchObject({ FailedCount: 0, SuccessCount: 101 });

    // Another account's AwsAccountId: imported.
    expect(
      (await importFindings([asff(finding({ id: '999999999999/x/y/z' }), T0, '999999999999')])).FailedCount,
    ).toBe(0);

    // An older UpdatedAt replaces the stored finding, Workflow included.
    const id = securityHubFindingId(finding().id);
    const older = {
      ...asff(finding({ severity: 'critical' }), T0 - DAY),
      Workflow: { Status: 'SUPPRESSED' as const },
    };
    await importFindings([older]);
    const findings = await all();
    const stored = findings.find((f) => f.Id === id)!;
    expect(stored.UpdatedAt).toBe(new Date(T0 - DAY).toISOString());
    expect(stored.Workflow?.Status).toBe('SUPPRESSED');
    // The top-level Severity is not filled in from FindingProviderFields.
    expect(stored.FindingProviderFields?.Severity?.Label).toBe('CRITICAL');
    expect(stored.Severity).toBeUndefined();

    // GetFindings ignores Filters: every finding, whatever the Id asked for.
    const filtered = await client.send(
      new GetFindingsCommand({ Filters: { Id: [{ Value: id, Comparison: 'EQUALS' }] }, MaxResults: 100 }),
    );
    expect(filtered.Findings?.length).toBe(100);
    expect(filtered.NextToken).toBeDefined();
  });
});
