/**
 * Opt-in enforcement (docs/enforcement.md) on the Step Functions engine, end to end and offline: the
 * definition `cdk synth` produces with an `enforcement` section in mode `enforce`, run on the local
 * Amazon States Language interpreter (test/support/state-machine.ts `runLocally`), each Lambda task
 * bound to its step of the bundle `cdk synth` built, against an organization of two member accounts
 * (the Organizations, STS and per-account IAM stand-ins), dynalite, Secrets Manager, EventBridge,
 * the Slack receiver and moto_server's S3 for the run bucket. Modelled on state-machine.test.ts
 * (its harness notes apply here too).
 *
 * On this engine the deactivation happens in a child of the map (the scanBatch step, through the
 * member role of the key's account), the child records each action in the state table at once (a
 * PutItem of an `#action/` item in the account's partition), and the deliver step announces it
 * later, from the delta the child wrote to the run bucket. The last block shows, on the template,
 * why the child may write that item: only with `enforce` does its role get RecordEnforcementActions.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { STATE_TABLE_SCHEMA } from '../../lambda/contracts';
import { DAY_MS, isoDay } from '../../lambda/core/dates';
import type { ScannerStep } from '../../lib/constructs/scanner-function';
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
  localStepEnvironment,
  type SynthesizedStateMachine,
  synthesizeStateMachine,
} from '../support/bundled-lambda';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import { type Organization, startOrganization } from '../support/organization-endpoints';
import { type SlackReceiver, startSlackReceiver } from '../support/slack-receiver';
import { childStartOnClock, type ExecutionOutcome, type Json, runLocally } from '../support/state-machine';

const SECRET_NAME = 'credwatch/slack-webhooks';
const PROD = '111111111111';
const STAGING = '222222222222';
const STEPS: readonly ScannerStep[] = ['discover', 'scanBatch', 'deliver'];
/** One account per child: each account's key is deactivated, and its action recorded, by a child of its own. */
const BATCH_SIZE = 1;
/** The policy the state machine is synthesized with (the configuration's `enforcement` section). */
const POLICY = { finalNoticeKeyAgeDays: 83, deactivateKeyAgeDays: 90, leadTimeDays: 7 } as const;
/** Execution 1: the final notices are given then. */
const T0 = new Date('2026-11-23T12:00:00Z');
const NOTICE_DAY = '2026-11-23';
/** The end of the notices' lead time (the keys reached their deactivation age long before). */
const LEAD_TIME_END = T0.getTime() + POLICY.leadTimeDays * DAY_MS;
/**
 * How long after the keys are due execution 2 comes, and before it the early execution (the steps'
 * clocks run on during execution 1, by seconds).
 */
const PAST_DUE_MINUTES = 10;
/** The member role the scanBatch step assumes in each account (the organization's default). */
const memberRole = (account: string) => `arn:aws:iam::${account}:role/credwatch-member`;

describe('enforcement on the state machine engine, run locally with its bundled steps', () => {
  let sm: SynthesizedStateMachine;
  let moto: MotoServer;
  let s3: S3Client;
  let now: Date;
  let org: Organization | undefined;
  let dynamo: LocalDynamo;
  let slack: SlackReceiver;
  let secrets: SecretsManagerEndpoint;
  let bus: EventBridgeEndpoint;

  beforeAll(async () => {
    // The defaults (a baseline on first contact, roll-up reminders) with enforcement on.
    sm = synthesizeStateMachine({ enforcement: { mode: 'enforce', ...POLICY } }, { batchSize: BATCH_SIZE });
    moto = await startMotoServer();
    s3 = new S3Client({ ...moto.clientConfig });
  }, 120_000);
  afterAll(async () => {
    s3?.destroy();
    await moto?.close();
  });

  beforeEach(async () => {
    now = T0;
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: sm.runBucketName }));
    [dynamo, slack, bus] = await Promise.all([
      startDynalite(),
      startSlackReceiver(),
      startEventBridgeEndpoint(),
    ]);
    secrets = await startSecretsManagerEndpoint({ secrets: { [SECRET_NAME]: slack.url } });
  });
  afterEach(async () => {
    await Promise.all([org?.close(), dynamo.close(), slack.close(), secrets.close(), bus.close()]);
    org = undefined;
  });

  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const later = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  /**
   * When the noticed keys are due: the later of the end of the lead time and the start (midnight UTC)
   * of the day the notice announced ("on or after <day>", docs/enforcement.md).
   */
  const dueAt = (announcedDay: string) => Math.max(LEAD_TIME_END, Date.parse(`${announcedDay}T00:00:00Z`));

  /**
   * A member account whose users each have one active key `keyAgeDays` old, last used 10 days ago
   * (well outside the recent-use window).
   */
  function account(
    id: string,
    alias: string,
    users: Readonly<Record<string, { keyAgeDays: number; tags?: Record<string, string> }>>,
  ): FakeAccount {
    const a = new FakeAccount({ accountId: id, createdAt: ago(3000), alias });
    const used = { date: ago(10), service: 's3', region: 'us-east-1' };
    for (const [name, u] of Object.entries(users)) {
      a.createUser(name, {
        createdAt: ago(u.keyAgeDays + 100),
        ...(u.tags ? { tags: u.tags } : {}),
        accessKeys: [{ createdAt: ago(u.keyAgeDays), lastUsed: used }],
      });
    }
    return a;
  }

  /**
   * prod: alice (a 100-day-old key) and vault (tagged credwatch:protected, a 2000-day-old key);
   * staging: bob (a 100-day-old key).
   */
  async function startOrg(): Promise<Organization> {
    org = await startOrganization({
      accounts: [
        {
          account: account(PROD, 'prod', {
            alice: { keyAgeDays: 100 },
            vault: { keyAgeDays: 2000, tags: { 'credwatch:protected': 'break-glass' } },
          }),
          name: 'prod',
        },
        { account: account(STAGING, 'staging', { bob: { keyAgeDays: 100 } }), name: 'staging' },
      ],
      now: () => now,
      // The steps' clocks are faked to `now` (plus the execution's elapsed time): IAM dates by `now` too.
      iam: { now: () => now, datedByNow: true },
    });
    return org;
  }

  interface StepCall {
    readonly step: ScannerStep;
    readonly payload: Json;
    readonly run: Invocation;
    /** When the step had answered: the UpdateAccessKey requests each account's IAM had received, and the action items recorded. */
    readonly after: { readonly updates: Readonly<Record<string, number>>; readonly actions: number };
  }

  /** The name of the execution started at `now`, and the run id discover makes of it. */
  const executionName = () => `credwatch-${now.getTime()}`;
  const runIdOf = () => `${now.toISOString()}_${executionName()}`;

  /**
   * One execution: the definition `cdk synth` produced, on the interpreter, each Lambda task bound to
   * its step of the bundle, in a fresh process whose clock is `now` plus the execution's elapsed time
   * (as in state-machine.test.ts).
   */
  async function execute(): Promise<{ run: ExecutionOutcome; calls: StepCall[] }> {
    const o = org!;
    const calls: StepCall[] = [];
    const abandoned = new AbortController();
    const started = Date.now();
    const environment = (step: ScannerStep) => ({
      ...localStepEnvironment(sm.steps[step], sm.runBucketLogicalId, {
        secretName: SECRET_NAME,
        tableName: dynamo.tableName,
        iam: o.iamUrl,
        dynamodb: dynamo.endpoint,
        secretsManager: secrets.url,
        eventBridge: bus.url,
        runBucket: sm.runBucketName,
        s3: moto.url,
      }),
      AWS_ENDPOINT_URL_STS: o.stsUrl,
      AWS_ENDPOINT_URL_ORGANIZATIONS: o.organizationsUrl,
    });
    const handlers = Object.fromEntries(
      STEPS.map((step) => [
        sm.steps[step].logicalId,
        async (payload: Json) => {
          const onClock = (wallMs: number) => new Date(now.getTime() + (wallMs - started));
          const run = await invokeBundled(
            sm.steps[step].entry,
            environment(step),
            childStartOnClock(payload, onClock),
            {
              step,
              now: onClock(Date.now()),
              webhookHosts: [new URL(slack.url).host],
              timeoutMs: sm.steps[step].timeoutSeconds * 1000,
              signal: abandoned.signal,
            },
          );
          const after = {
            updates: Object.fromEntries([PROD, STAGING].map((id) => [id, o.iam(id).updates().length])),
            actions: (await actionItems()).length,
          };
          calls.push({ step, payload, run, after });
          expect(run.stdout + run.stderr).not.toContain(slack.secret);
          if (run.error !== undefined) {
            throw Object.assign(new Error(run.error), { name: run.errorName ?? 'Error' });
          }
          return run.result;
        },
      ]),
    );
    try {
      const run = await runLocally(sm.machine.definition, {
        handlers,
        tasks: {
          // The DynamoDB integration that gives the lease back after a failure, on dynalite (the
          // harness quirk of state-machine.test.ts: the `S.$` under `:run` is left unresolved by the
          // interpreter, so the run id it stands for is put in here).
          'Release the run lease': async (input) => {
            const params = input as unknown as {
              TableName: string;
              Key: Record<string, AttributeValue>;
              ConditionExpression: string;
              ExpressionAttributeValues: Record<string, AttributeValue>;
            };
            try {
              const run = params.ExpressionAttributeValues[':run'] as { S?: string; 'S.$'?: string };
              const values =
                run['S.$'] === '$.runId' ? { ':run': { S: runIdOf() } } : params.ExpressionAttributeValues;
              await dynamo.client.send(
                new DeleteItemCommand({
                  ...params,
                  TableName: dynamo.tableName,
                  ExpressionAttributeValues: values,
                }),
              );
              return {};
            } catch (err) {
              if (err instanceof ConditionalCheckFailedException) {
                throw Object.assign(new Error(err.message), {
                  name: 'DynamoDB.ConditionalCheckFailedException',
                });
              }
              throw err;
            }
          },
        },
        input: { source: 'credwatch.schedule', scheduledTime: now.toISOString(), executionId: 'test' },
        // The context object Step Functions gives every execution: its name is part of the run id.
        context: { Execution: { Name: executionName() } },
        itemReader: async (req) => {
          const { Bucket, Key } = req.parameters as { Bucket: string; Key: string };
          const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
          return JSON.parse(await object.Body!.transformToString('utf-8')) as unknown[];
        },
      });
      return { run, calls };
    } finally {
      abandoned.abort();
    }
  }

  /** The entries of the messages Slack showed: each finding's fact line with its summary line. */
  const entries = (payloads: readonly unknown[] = slack.delivered()): string[] =>
    payloads.flatMap((p) =>
      ((p as { blocks?: { text?: { text?: string } }[] }).blocks ?? [])
        .flatMap((b) => (b.text?.text ?? '').split(/\n(?=• )/))
        .filter((e) => e.startsWith('• ')),
    );
  const shown = () => JSON.stringify(slack.delivered());
  const keyOf = (accountId: string, user: string) =>
    org!.iam(accountId).account.user(user)!.accessKeys[0]!.id;
  const undo = (user: string, key: string) =>
    `aws iam update-access-key --user-name ${user} --access-key-id ${key} --status Active`;
  /** The final notice of a 100-day-old key; it captures the day it announces. */
  const noticeOf = (user: string, key: string) =>
    new RegExp(
      `Final notice: credwatch will deactivate access key ${key} of ${user} on or after (\\d{4}-\\d{2}-\\d{2}) \\(100 days old, deactivation at 90\\) unless it is rotated\\.`,
    );

  /** The recorded enforcement actions (`#action/…` items) of the table. */
  const actionItems = async () =>
    ((await dynamo.client.send(new ScanCommand({ TableName: dynamo.tableName }))).Items ?? []).filter((i) =>
      i.sk?.S?.startsWith(STATE_TABLE_SCHEMA.actionSortKeyPrefix),
    );
  /** The findings EventBridge received, as `DetailType rule accessKeyId`. */
  const events = () =>
    bus.entries.map((e) => {
      const f = (JSON.parse(e.Detail ?? '{}') as { finding?: { rule?: string; accessKeyId?: string } })
        .finding;
      return `${e.DetailType} ${f?.rule} ${f?.accessKeyId}`;
    });
  /** The map's child that scanned `accountId` (batches of one account). */
  const childOf = (calls: readonly StepCall[], accountId: string) => {
    const children = calls.filter(
      (c) =>
        c.step === 'scanBatch' &&
        (c.payload as { Items: { id: string }[] }).Items.some((item) => item.id === accountId),
    );
    expect(children).toHaveLength(1);
    return children[0]!;
  };

  it('notices in execution 1, nothing before they are due, deactivates in the children of execution 2 (recorded with its run id, announced with the undo), nothing more in execution 3', async () => {
    const o = await startOrg();
    const [alice, vault, bob] = [keyOf(PROD, 'alice'), keyOf(PROD, 'vault'), keyOf(STAGING, 'bob')];
    const noticed = [
      ['alice', alice, PROD],
      ['bob', bob, STAGING],
    ] as const;

    // Execution 1, first contact: each noticed key's final notice in an entry of its own; nothing touched.
    const first = await execute();
    expect(first.run.status).toBe('SUCCEEDED');
    expect(first.run.mapRuns).toMatchObject([{ state: 'ScanInline', items: 2, children: 2, failedItems: 0 }]);
    const announcedDays: string[] = [];
    for (const [user, key] of noticed) {
      const own = entries().filter((e) => noticeOf(user, key).test(e));
      expect(own).toHaveLength(1);
      expect(own[0]).toMatch(new RegExp(`^• \\*New\\* · .* · final notice · key \`${key}\``));
      announcedDays.push(noticeOf(user, key).exec(own[0]!)![1]!);
      expect(events()).toContain(`Credential Finding Opened access-key-final-notice ${key}`);
    }
    expect(shown()).toMatch(/First scan of 2 accounts/);
    // The protected user is scanned (its key's age is in the baseline summary) but never noticed.
    expect(shown()).toMatch(
      /vault> · key age · account 111111111111 · key created \d{4}-\d{2}-\d{2} · 2000 days old/,
    );
    expect(shown()).not.toContain(`deactivate access key ${vault}`);
    expect(o.iam(PROD).updates()).toEqual([]);
    expect(o.iam(STAGING).updates()).toEqual([]);
    expect(await actionItems()).toEqual([]);
    for (const id of [PROD, STAGING]) {
      expect(childOf(first.calls, id).run.metrics.KeysDeactivated ?? 0).toBe(0);
    }
    // Both notices announce the same day: the day the lead time ends or, when "on or after" a day
    // means from its midnight (UTC), the next one.
    const dueDay = announcedDays[0]!;
    expect(announcedDays).toEqual([dueDay, dueDay]);
    expect([isoDay(new Date(LEAD_TIME_END)), isoDay(new Date(LEAD_TIME_END + DAY_MS))]).toContain(dueDay);

    // An execution shortly before the keys are due: still under notice, nothing touched or recorded.
    now = new Date(dueAt(dueDay) - PAST_DUE_MINUTES * 60_000);
    const early = await execute();
    expect(early.run.status).toBe('SUCCEEDED');
    expect(o.iam(PROD).updates()).toEqual([]);
    expect(o.iam(STAGING).updates()).toEqual([]);
    expect(await actionItems()).toEqual([]);
    expect(shown()).not.toContain('credwatch deactivated');

    // Execution 2, once the keys are due: each child deactivates its account's noticed key, once,
    // through its member role, and records it; deliver announces it with the undo command.
    now = new Date(dueAt(dueDay) + PAST_DUE_MINUTES * 60_000);
    const runId = runIdOf();
    // The keys were created 100 days before T0.
    const reason = `age: ${100 + Math.floor((now.getTime() - T0.getTime()) / DAY_MS)} days old, deactivation at 90`;
    const posted = slack.delivered().length;
    const second = await execute();
    expect(second.run.status).toBe('SUCCEEDED');
    const discovered = second.calls.find((c) => c.step === 'discover')!;
    expect((discovered.run.result as { runId: string }).runId).toBe(runId);
    expect(o.iam(PROD).updates()).toEqual([
      { userName: 'alice', accessKeyId: alice, status: 'Inactive', answer: 'OK' },
    ]);
    expect(o.iam(STAGING).updates()).toEqual([
      { userName: 'bob', accessKeyId: bob, status: 'Inactive', answer: 'OK' },
    ]);
    expect(o.iam(PROD).account.user('vault')!.accessKeys[0]!.status).toBe('Active');
    // Each child deactivated its own account's key and recorded it before it answered, and counted
    // it; discover touched nothing, deliver added nothing (it only announced).
    expect(discovered.after).toEqual({ updates: { [PROD]: 0, [STAGING]: 0 }, actions: 0 });
    for (const id of [PROD, STAGING]) {
      const child = childOf(second.calls, id);
      expect(child.after.updates[id]).toBe(1);
      expect(child.run.metrics).toMatchObject({ KeysDeactivated: 1, EnforcementFailed: 0 });
    }
    const children = second.calls.filter((c) => c.step === 'scanBatch');
    expect(children.at(-1)!.after).toEqual({ updates: { [PROD]: 1, [STAGING]: 1 }, actions: 2 });
    expect(second.calls.at(-1)).toMatchObject({
      step: 'deliver',
      after: { updates: { [PROD]: 1, [STAGING]: 1 }, actions: 2 },
    });
    const recorded = (await actionItems())
      .map((i) => ({
        pk: i.pk?.S,
        sk: i.sk?.S,
        action: i.action?.S,
        accountId: i.accountId?.S,
        user: i.user?.S,
        accessKeyId: i.accessKeyId?.S,
        runId: i.runId?.S,
        actor: i.actor?.S,
        reason: i.reason?.S,
        noticeDay: i.noticeAt?.S?.slice(0, 10),
      }))
      .sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
    expect(recorded).toEqual(
      noticed.map(([user, key, id]) => ({
        pk: `account#${id}`,
        sk: expect.stringMatching(
          new RegExp(`^#action/${key}/${isoDay(now)}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z/deactivated$`),
        ),
        action: 'deactivated',
        accountId: id,
        user,
        accessKeyId: key,
        runId,
        actor: memberRole(id),
        reason,
        noticeDay: NOTICE_DAY,
      })),
    );
    const news = entries(slack.delivered().slice(posted));
    for (const [user, key] of noticed) {
      const announced = news.filter((e) => e.includes(`credwatch deactivated access key ${key} of ${user}`));
      expect(announced).toHaveLength(1);
      expect(announced[0]).toContain(`final notice ${NOTICE_DAY}). Undo: ${undo(user, key)}`);
      expect(events().filter((e) => e.includes(`access-key-deactivated ${key}`))).toEqual([
        `Credential Finding Opened access-key-deactivated ${key}`,
      ]);
    }
    expect(shown()).not.toContain(`access key ${vault} of vault`);

    // Execution 3, 10 minutes on: nothing new to say, nothing touched again, nothing recorded again.
    later(10);
    const requests = slack.requests.length;
    const eventCount = bus.entries.length;
    const third = await execute();
    expect(third.run.status).toBe('SUCCEEDED');
    if (third.run.status === 'SUCCEEDED') expect(third.run.output).toMatchObject({ accounts: 2, changes: 0 });
    expect(slack.requests).toHaveLength(requests);
    expect(bus.entries).toHaveLength(eventCount);
    expect(o.iam(PROD).updates()).toHaveLength(1);
    expect(o.iam(STAGING).updates()).toHaveLength(1);
    expect(await actionItems()).toHaveLength(2);
    for (const id of [PROD, STAGING]) {
      expect(childOf(third.calls, id).run.metrics.KeysDeactivated ?? 0).toBe(0);
    }
  }, 300_000);

  describe("why the child may write: the scanBatch role's RecordEnforcementActions, only with enforce", () => {
    /** The inline-policy statement that lets a step record an action in an account's partition. */
    const RECORD_ACTIONS = {
      Properties: {
        Policies: Match.arrayWith([
          Match.objectLike({
            PolicyDocument: Match.objectLike({
              Statement: Match.arrayWith([
                Match.objectLike({
                  Sid: 'RecordEnforcementActions',
                  Effect: 'Allow',
                  Action: 'dynamodb:PutItem',
                  Condition: {
                    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['account#*'] },
                  },
                }),
              ]),
            }),
          }),
        ]),
      },
    };
    /** The roles (logical ids) that have it. */
    const recordingRoles = (machine: SynthesizedStateMachine) =>
      Object.keys(Template.fromJSON(machine.template).findResources('AWS::IAM::Role', RECORD_ACTIONS));
    const roleOf = (machine: SynthesizedStateMachine, step: ScannerStep) =>
      (
        machine.template.Resources[machine.steps[step].logicalId]!.Properties.Role as {
          'Fn::GetAtt': [string, string];
        }
      )['Fn::GetAtt'][0];

    it('with enforce, the scanBatch role, and no other, may PutItem the action items (on the state table)', () => {
      expect(recordingRoles(sm)).toEqual([roleOf(sm, 'scanBatch')]);
      const table = Object.keys(Template.fromJSON(sm.template).findResources('AWS::DynamoDB::Table'));
      expect(table).toHaveLength(1);
      const role = sm.template.Resources[roleOf(sm, 'scanBatch')]!.Properties as {
        Policies: { PolicyDocument: { Statement: { Sid?: string; Resource?: unknown }[] } }[];
      };
      const statement = role.Policies.flatMap((p) => p.PolicyDocument.Statement).find(
        (s) => s.Sid === 'RecordEnforcementActions',
      );
      expect(statement?.Resource).toEqual({ 'Fn::GetAtt': [table[0], 'Arn'] });
    });

    it.each(['off', 'dry-run'] as const)(
      'with %s, no role of the state machine has it',
      (mode) => {
        const machine = synthesizeStateMachine(mode === 'off' ? {} : { enforcement: { mode, ...POLICY } }, {
          batchSize: BATCH_SIZE,
        });
        // The roles are the same ones (the scanBatch role exists, with its other statements)…
        expect(Object.keys(machine.template.Resources)).toContain(roleOf(machine, 'scanBatch'));
        // …and none may record an action.
        expect(recordingRoles(machine)).toEqual([]);
      },
      120_000,
    );
  });
});
