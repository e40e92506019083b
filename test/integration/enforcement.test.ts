/**
 * Opt-in enforcement (docs/enforcement.md) through the bundled Lambda exactly as `cdk synth` built it
 * with an `enforcement` section: a single-account deployment against the IAM stand-in (which answers
 * UpdateAccessKey and records every one), dynalite, the Secrets Manager and EventBridge stand-ins and
 * the Slack receiver. Each run is a fresh child process whose clock starts at `now`; the clock is
 * moved on between runs by days, so the lead time between a final notice and its deactivation is real.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { STATE_TABLE_SCHEMA } from '../../lambda/contracts';
import { DAY_MS } from '../../lambda/core/dates';
import { enforcementPolicySchema } from '../../lambda/core/enforcement';
import { decodeSettings, encodeSettings, SETTINGS_VARIABLES } from '../../lambda/settings';
import { FakeAccount } from '../support/account-generator';
import {
  type EventBridgeEndpoint,
  type SecretsManagerEndpoint,
  startEventBridgeEndpoint,
  startSecretsManagerEndpoint,
} from '../support/aws-json-endpoints';
import {
  type Invocation,
  invokeBundled,
  localEnvironment,
  type SynthesizedScanner,
  synthesizeScanner,
} from '../support/bundled-lambda';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { type IamEndpoint, startIamEndpoint } from '../support/iam-endpoint';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';

const SECRET_NAME = 'credwatch/slack-webhook';
const ACCOUNT_ID = '123456789012';
/** The policy the stack is synthesized with (the configuration's `enforcement` section). */
const POLICY = { finalNoticeKeyAgeDays: 83, deactivateKeyAgeDays: 90, leadTimeDays: 7 } as const;
/**
 * The first run; a final notice given then is due a lead time later, from the next midnight (UTC):
 * "on or after" a day means from its start.
 */
const T0 = new Date('2026-11-23T12:00:00Z');
const NOTICE_DAY = '2026-11-23';
const DUE_DAY = '2026-12-01';
/** Minutes past the lead time the due run comes (the child's clock runs on during each run). */
const PAST_DUE_MINUTES = 10;

describe('the bundled scanner with enforcement', () => {
  let scanner: SynthesizedScanner;
  let now: Date;
  let iam: IamEndpoint;
  let dynamo: LocalDynamo;
  let slack: SlackReceiver;
  let secrets: SecretsManagerEndpoint;
  let bus: EventBridgeEndpoint;

  beforeAll(() => {
    // The defaults (a baseline on first contact, roll-up reminders) with enforcement on: what a
    // deployment that turns it on gets.
    scanner = synthesizeScanner({ enforcement: { mode: 'enforce', ...POLICY } });
  });
  beforeEach(() => {
    now = T0;
  });
  afterEach(async () => {
    await Promise.all([iam?.close(), dynamo?.close(), slack?.close(), secrets?.close(), bus?.close()]);
  });

  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  /** Just past the day a notice given at T0 announced (the key's deactivation age was reached long ago). */
  const toDueTime = () => {
    now = new Date(Date.parse(`${DUE_DAY}T00:00:00Z`) + PAST_DUE_MINUTES * 60_000);
  };

  /**
   * An account whose users each have one active key `keyAgeDays` old, last used 10 days ago (well
   * outside the recent-use window), plus carol, whose key is 10 days old (nothing to enforce).
   */
  function account(users: Readonly<Record<string, { keyAgeDays: number; tags?: Record<string, string> }>>) {
    const a = new FakeAccount({ accountId: ACCOUNT_ID, createdAt: ago(3000), alias: 'example-prod' });
    const used = { date: ago(10), service: 's3', region: 'us-east-1' };
    for (const [name, u] of Object.entries(users)) {
      a.createUser(name, {
        createdAt: ago(u.keyAgeDays + 100),
        ...(u.tags ? { tags: u.tags } : {}),
        accessKeys: [{ createdAt: ago(u.keyAgeDays), lastUsed: used }],
      });
    }
    a.createUser('carol', { createdAt: ago(900), accessKeys: [{ createdAt: ago(10), lastUsed: used }] });
    return a;
  }

  const startIam = (a: FakeAccount) =>
    // The child's clock is faked to `now`: IAM's answers are dated by the same clock.
    startIamEndpoint({ account: a, now: () => now, datedByNow: true });

  async function start(a: FakeAccount) {
    [iam, dynamo, slack, bus] = await Promise.all([
      startIam(a),
      startDynalite(),
      startSlackReceiver(),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({ secrets: { [SECRET_NAME]: slack.url } });
  }

  /** The function's environment from the template, its references resolved to the stand-ins. */
  function environment(): Record<string, string> {
    return localEnvironment(scanner, {
      secretName: SECRET_NAME,
      tableName: dynamo.tableName,
      iam: iam.url,
      dynamodb: dynamo.endpoint,
      secretsManager: secrets.url,
      eventBridge: bus.url,
    });
  }

  /** The environment with another enforcement policy, encoded as the stack encodes it. */
  function withPolicy(env: Record<string, string>, policy: Record<string, unknown>): Record<string, string> {
    const settings = decodeSettings(env);
    const encoded = encodeSettings({
      ...settings,
      enforcement: { policy: enforcementPolicySchema.parse(policy) },
    });
    return { ...env, [SETTINGS_VARIABLES.enforcement]: encoded[SETTINGS_VARIABLES.enforcement]! };
  }

  const invoke = async (env: Record<string, string> = environment()): Promise<Invocation> => {
    const event = { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' };
    const run = await invokeBundled(scanner.entry, env, event, {
      now,
      webhookHosts: [new URL(slack.url).host],
    });
    expect(run.stdout + run.stderr).not.toContain(slack.secret);
    expect(run.error).toBeUndefined();
    return run;
  };

  /** The entries of the messages Slack showed: each finding's fact line with its summary line. */
  const entries = (payloads: readonly unknown[] = slack.delivered()): string[] =>
    payloads.flatMap((p) =>
      ((p as { blocks?: { text?: { text?: string } }[] }).blocks ?? [])
        .flatMap((b) => (b.text?.text ?? '').split(/\n(?=• )/))
        .filter((e) => e.startsWith('• ')),
    );
  /** Everything Slack showed, as one text. */
  const shown = () => JSON.stringify(slack.delivered());
  const keyOf = (user: string) => iam.account.user(user)!.accessKeys[0]!.id;
  const undo = (user: string, key: string) =>
    `aws iam update-access-key --user-name ${user} --access-key-id ${key} --status Active`;

  /** The recorded enforcement actions (`#action/…` items) of the table. */
  const actionItems = async () =>
    ((await dynamo.client.send(new ScanCommand({ TableName: dynamo.tableName }))).Items ?? []).filter((i) =>
      i.sk?.S?.startsWith(STATE_TABLE_SCHEMA.actionSortKeyPrefix),
    );

  /** The key's status as IAM lists it (a ListAccessKeys of the stand-in, through the SDK). */
  async function listedStatus(user: string): Promise<string | undefined> {
    const client = new IAMClient({
      region: 'us-east-1',
      endpoint: iam.url,
      credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' },
    });
    try {
      const listed = await client.send(new ListAccessKeysCommand({ UserName: user }));
      return listed.AccessKeyMetadata?.find((k) => k.AccessKeyId === keyOf(user))?.Status;
    } finally {
      client.destroy();
    }
  }

  /** The findings EventBridge received, as `DetailType rule accessKeyId`. */
  const events = () =>
    bus.entries.map((e) => {
      const f = (JSON.parse(e.Detail ?? '{}') as { finding?: { rule?: string; accessKeyId?: string } })
        .finding;
      return `${e.DetailType} ${f?.rule} ${f?.accessKeyId}`;
    });

  it('gives a final notice in its own entry, waits the lead time, deactivates once, records it and says how to undo it', async () => {
    // What the stack wrote: the policy as the configuration gave it, encoded for the function.
    expect(JSON.parse(String(scanner.environment[SETTINGS_VARIABLES.enforcement]))).toMatchObject({
      policy: { mode: 'enforce', ...POLICY },
    });
    await start(account({ alice: { keyAgeDays: 100 } }));
    const key = keyOf('alice');
    const notice = `Final notice: credwatch will deactivate access key ${key} of alice on or after ${DUE_DAY} (100 days old, deactivation at 90) unless it is rotated.`;

    // Run 1, first contact: the age finding goes into the baseline summary, the notice in an entry of its own.
    const first = await invoke();
    expect(first.result).toMatchObject({ accounts: 1 });
    const noticeEntries = entries().filter((e) => e.includes(notice));
    expect(noticeEntries).toHaveLength(1);
    expect(noticeEntries[0]).toMatch(new RegExp(`^• \\*New\\* · .* · final notice · key \`${key}\``));
    expect(shown()).toMatch(/First scan of this account/);
    expect(iam.updates()).toEqual([]);
    expect(events()).toContain(`Credential Finding Opened access-key-final-notice ${key}`);

    // Run 2, three days on: still under notice, nothing touched.
    later(3 * 24 * 60);
    const second = await invoke();
    expect(second.metrics.KeysDeactivated ?? 0).toBe(0);
    expect(iam.updates()).toEqual([]);
    expect(await actionItems()).toEqual([]);
    expect(await listedStatus('alice')).toBe('Active');
    expect(shown()).not.toContain('credwatch deactivated');

    // Run 3, the notice's lead time later: deactivated, once, recorded, announced with the undo.
    toDueTime();
    const posted = slack.delivered().length;
    const third = await invoke();
    expect(third.metrics).toMatchObject({ KeysDeactivated: 1, EnforcementFailed: 0 });
    expect(iam.updates()).toEqual([
      { userName: 'alice', accessKeyId: key, status: 'Inactive', answer: 'OK' },
    ]);
    expect(await listedStatus('alice')).toBe('Inactive');
    const items = await actionItems();
    expect(items).toHaveLength(1);
    const item = items[0]!;
    expect(item.sk?.S).toMatch(
      new RegExp(`^#action/${key}/${DUE_DAY}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z/deactivated$`),
    );
    expect({
      pk: item.pk?.S,
      action: item.action?.S,
      user: item.user?.S,
      accessKeyId: item.accessKeyId?.S,
      runId: item.runId?.S,
      reason: item.reason?.S,
    }).toEqual({
      pk: `account#${ACCOUNT_ID}`,
      action: 'deactivated',
      user: 'alice',
      accessKeyId: key,
      runId: third.result?.runId,
      reason: 'age: 107 days old, deactivation at 90',
    });
    expect(item.noticeAt?.S?.slice(0, 10)).toBe(NOTICE_DAY);
    const deactivations = entries(slack.delivered().slice(posted)).filter((e) =>
      e.includes(`credwatch deactivated access key ${key} of alice`),
    );
    expect(deactivations).toHaveLength(1);
    expect(deactivations[0]).toContain(`final notice ${NOTICE_DAY}). Undo: ${undo('alice', key)}`);
    expect(events().filter((e) => e.includes('access-key-deactivated'))).toEqual([
      `Credential Finding Opened access-key-deactivated ${key}`,
    ]);

    // Run 4: nothing new to say, nothing touched again.
    later(10);
    const requests = slack.requests.length;
    const eventCount = bus.entries.length;
    const fourth = await invoke();
    expect(fourth.result).toMatchObject({ changes: 0 });
    expect(slack.requests).toHaveLength(requests);
    expect(bus.entries).toHaveLength(eventCount);
    expect(iam.updates()).toHaveLength(1);
    expect(await actionItems()).toHaveLength(1);
  });

  it('dry-run announces the plan and, on the due day, what it would do, and touches nothing', async () => {
    await start(account({ alice: { keyAgeDays: 100 } }));
    const key = keyOf('alice');
    const dry = () => withPolicy(environment(), { mode: 'dry-run', ...POLICY });

    await invoke(dry());
    const planned = entries().filter((e) =>
      e.includes(
        `Dry run: enforcement would give alice a final notice for access key ${key} now and deactivate it on or after ${DUE_DAY} (100 days old, deactivation at 90).`,
      ),
    );
    expect(planned).toHaveLength(1);
    expect(shown()).not.toContain('Final notice');

    toDueTime();
    const posted = slack.delivered().length;
    const due = await invoke(dry());
    const would = entries(slack.delivered().slice(posted)).filter((e) =>
      e.includes(
        `Dry run: enforcement would deactivate access key ${key} of alice in this run (107 days old, deactivation at 90; planned since ${NOTICE_DAY}); undo: ${undo('alice', key)}`,
      ),
    );
    expect(would).toHaveLength(1);
    expect(events()).toContain(`Credential Finding Opened access-key-would-deactivate ${key}`);
    expect(due.metrics.KeysDeactivated ?? 0).toBe(0);

    // Said once: the next dry run, still due, says nothing again.
    later(10);
    const requests = slack.requests.length;
    const again = await invoke(dry());
    expect(again.result).toMatchObject({ changes: 0 });
    expect(slack.requests).toHaveLength(requests);

    // Nothing was written to IAM or recorded, in either run.
    expect(iam.updates()).toEqual([]);
    expect(iam.counts().UpdateAccessKey).toBeUndefined();
    expect(await actionItems()).toEqual([]);
    expect(await listedStatus('alice')).toBe('Active');
  });

  it('a key IAM refuses to deactivate stays under notice while the others are deactivated, and is deactivated the next run', async () => {
    await start(account({ alice: { keyAgeDays: 100 }, erin: { keyAgeDays: 100 } }));
    const [alice, erin] = [keyOf('alice'), keyOf('erin')];
    await invoke();
    expect(
      entries().filter((e) => e.includes('Final notice: credwatch will deactivate access key')),
    ).toHaveLength(2);

    iam.deny('UpdateAccessKey', { accessKeyId: erin });
    toDueTime();
    const posted = slack.delivered().length;
    const refused = await invoke();
    expect(refused.metrics).toMatchObject({ KeysDeactivated: 1, EnforcementFailed: 1 });
    expect([...iam.updates()].sort((a, b) => String(a.userName).localeCompare(String(b.userName)))).toEqual([
      { userName: 'alice', accessKeyId: alice, status: 'Inactive', answer: 'OK' },
      { userName: 'erin', accessKeyId: erin, status: 'Inactive', answer: 'AccessDenied' },
    ]);
    expect(refused.stdout + refused.stderr).toContain(`access key ${erin} could not be deactivated`);
    // The run still delivered: alice's deactivation is announced; erin's key is neither announced nor recorded.
    const news = entries(slack.delivered().slice(posted));
    expect(news.filter((e) => e.includes(`credwatch deactivated access key ${alice} of alice`))).toHaveLength(
      1,
    );
    expect(news.filter((e) => e.includes(`credwatch deactivated access key ${erin}`))).toEqual([]);
    expect((await actionItems()).map((i) => i.accessKeyId?.S)).toEqual([alice]);
    expect(await listedStatus('erin')).toBe('Active');

    // The denial lifted (the same account behind an IAM that allows it): erin's key is deactivated.
    const same = iam.account;
    await iam.close();
    iam = await startIam(same);
    later(10);
    const retried = await invoke();
    expect(retried.metrics).toMatchObject({ KeysDeactivated: 1, EnforcementFailed: 0 });
    expect(iam.updates()).toEqual([
      { userName: 'erin', accessKeyId: erin, status: 'Inactive', answer: 'OK' },
    ]);
    expect(await listedStatus('erin')).toBe('Inactive');
    expect((await actionItems()).map((i) => i.accessKeyId?.S).sort()).toEqual([alice, erin].sort());
    expect(
      entries().filter((e) => e.includes(`credwatch deactivated access key ${erin} of erin`)),
    ).toHaveLength(1);
  });

  it('never gives a protected user a notice nor touches its keys', async () => {
    await start(
      account({
        alice: { keyAgeDays: 100 },
        vault: { keyAgeDays: 2000, tags: { 'credwatch:protected': 'break-glass' } },
      }),
    );
    const vault = keyOf('vault');
    await invoke();
    // Enforcement is at work (alice has her notice); the protected user has none.
    expect(entries().filter((e) => e.includes(`of alice on or after ${DUE_DAY}`))).toHaveLength(1);
    expect(shown()).not.toContain(`deactivate access key ${vault}`);
    // vault was scanned: its key's age finding is in the baseline summary.
    expect(shown()).toMatch(
      /details\/vault\|vault> · key age · key created \d{4}-\d{2}-\d{2} · 2000 days old/,
    );

    toDueTime();
    await invoke();
    expect(iam.updates().map((u) => u.userName)).toEqual(['alice']);
    expect(shown()).not.toContain(`access key ${vault} of vault`);
    expect(await listedStatus('vault')).toBe('Active');
    expect((await actionItems()).map((i) => i.user?.S)).toEqual(['alice']);
  });
});
