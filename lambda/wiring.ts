/**
 * What every entry point of the scanner is built from (lambda/handler.ts, one invocation per run;
 * lambda/steps.ts, the steps of a state machine): the adapters from the environment, the accounts a
 * run scans and the job of each, the event sinks, a channel's notifier, and the account of what a
 * run did (metrics, one structured log line, the error that makes it incomplete). No use case here:
 * that is lambda/monitor.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { assumeRoleCredentials, memberRoleArn } from './adapters/assume-role';
import { EventPublisher } from './adapters/event-publisher';
import { IAM_CLIENT_DEFAULTS, IamAdapter } from './adapters/iam';
import { OrganizationsDiscovery } from './adapters/organizations';
import { REQUEST_TIMEOUTS } from './adapters/sdk';
import { SecurityHubSink } from './adapters/security-hub';
import { CompositeSink } from './adapters/sinks';
import { SlackAppNotifier } from './adapters/slack/app-notifier';
import { SlackNotifier } from './adapters/slack/notifier';
import { SlackDeliveryError, SlackSender } from './adapters/slack/sender';
import { SlackApiError, SlackWebApi } from './adapters/slack/web-api';
import {
  type ChannelSecret,
  createChannelSecretReader,
  destinationFor,
  WebhookSecretError,
} from './adapters/slack/webhook-secret';
import { DynamoStateStore } from './adapters/state-store';
import { TeamsNotifier } from './adapters/teams/notifier';
import { TeamsDeliveryError, TeamsSender } from './adapters/teams/sender';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './contracts';
import { selectAccounts } from './core/accounts';
import { DEFAULT_ENFORCEMENT } from './core/enforcement';
import { ConfigError, CredwatchError } from './core/errors';
import { DEFAULT_CHANNEL, routingNeeds } from './core/routing';
import type { LambdaEnv } from './env';
import type { AccountDelta, AccountJob, MonitorResult } from './monitor';
import type { AccountItem, EventSink, Notifier } from './ports';
import type { ScanEnforcement } from './scan';
import { enforcementOf, requiredSetting } from './settings';

/** What the composition root takes from outside the environment (tests inject a local Slack host). */
export interface HandlerOptions {
  /**
   * Hosts (`host[:port]`) the webhook URLs may point at, Slack's and Teams' alike; `http:` is then
   * accepted for loopback hosts.
   * @default hooks.slack.com for Slack webhooks; Power Automate's hosts for Teams workflows
   */
  readonly webhookHosts?: readonly string[];
  /** Base URL of the Slack Web API, ending in `/` (the app mode). @default https://slack.com/api/ */
  readonly slackApiUrl?: string;
}

/** Some accounts could not be scanned: the run is incomplete (after the others were delivered). */
export class AccountsIncompleteError extends CredwatchError {}

/** Time kept back at the end of an invocation to remember what was delivered and publish metrics. */
export const DELIVERY_MARGIN_MS = 15_000;

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

export interface Wiring {
  readonly env: LambdaEnv;
  /** Every channel's destination, and the Slack bot token, from the channels secret (cached). */
  readonly readChannels: () => Promise<ChannelSecret>;
  /** The Slack Web API base URL, when not Slack's own. */
  readonly slackApiUrl?: string;
  readonly secretArn: string;
  readonly state: DynamoStateStore;
  readonly events?: EventPublisher;
  readonly sts: STSClient;
  /** When the deployment exports to Security Hub. */
  readonly securityHub?: SecurityHubClient;
}

/** The function's own account, from its ARN (`arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`). */
function ownAccount(context: Context | undefined): string {
  const account = context?.invokedFunctionArn?.split(':')[4];
  if (!account || !/^\d{12}$/.test(account)) {
    throw new ConfigError(
      "Security Hub export needs the function's own account: context.invokedFunctionArn has none",
    );
  }
  return account;
}

/** The adapters of `env`. Nothing is called yet: clients connect on first use. */
export function wire(env: LambdaEnv, options: HandlerOptions): Wiring {
  const secretArn = requiredSetting(env, 'slackSecretArn');
  const tableName = requiredSetting(env, 'stateTable');
  return {
    env,
    secretArn,
    readChannels: createChannelSecretReader({
      secretArn,
      client: new SecretsManagerClient({ region: env.region, ...REQUEST_TIMEOUTS }),
      ...(options.webhookHosts
        ? {
            allowedHosts: options.webhookHosts,
            extraTeamsHosts: options.webhookHosts,
            allowInsecureHosts: true,
          }
        : {}),
    }),
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    state: new DynamoStateStore({
      tableName,
      client: new DynamoDBClient({ region: env.region, ...REQUEST_TIMEOUTS }),
      defaultChannel: env.notifications.defaultChannel ?? DEFAULT_CHANNEL,
    }),
    ...(env.eventBusName
      ? {
          events: new EventPublisher({
            eventBusName: env.eventBusName,
            client: new EventBridgeClient({ region: env.region, ...REQUEST_TIMEOUTS }),
          }),
        }
      : {}),
    sts: new STSClient({ region: env.region, retryMode: 'adaptive', maxAttempts: 5, ...REQUEST_TIMEOUTS }),
    ...(env.securityHub
      ? { securityHub: new SecurityHubClient({ region: env.region, ...REQUEST_TIMEOUTS }) }
      : {}),
  };
}

/**
 * What a scan of one account enforces (docs/enforcement.md), when its policy is on: the run that
 * acts, who acts, and in `enforce` mode the IAM adapter that deactivates (through the same
 * credentials as the scan). The scan adds the account's memory and the store that records actions.
 */
function enforcementOfJob(
  env: LambdaEnv,
  accountId: string | undefined,
  iam: IamAdapter,
  runId: string,
  actor: string | undefined,
): { readonly enforcement?: ScanEnforcement } {
  const policy = accountId ? enforcementOf(env, accountId) : (env.enforcement?.policy ?? DEFAULT_ENFORCEMENT);
  if (policy.mode === 'off') return {};
  return {
    enforcement: {
      policy,
      runId,
      ...(actor ? { actor } : {}),
      ...(policy.mode === 'enforce' ? { deactivator: iam } : {}),
    },
  };
}

/** The deployment's own account, scanned with the function's own credentials. */
export function ownAccountJob({ env }: Wiring, now: Date, runId: string, actor?: string): AccountJob {
  // A new IAM adapter per run: its call counters describe this scan only.
  const iam = new IamAdapter({
    reportDeadlineMs: env.reportDeadlineMs,
    userDirectory: env.userDirectory,
    client: new IAMClient({ ...IAM_CLIENT_DEFAULTS, region: env.region, ...REQUEST_TIMEOUTS }),
  });
  return {
    scan: {
      report: iam,
      directory: iam,
      counter: iam,
      thresholds: env.thresholds,
      now,
      ...enforcementOfJob(env, undefined, iam, runId, actor),
    },
  };
}

/**
 * The accounts a multi-account run scans: listed, or discovered in the organization (with the OUs
 * and tags routes need), less suspended, excluded and not included ones (logged).
 */
export async function accountsToScan({ env }: Wiring): Promise<AccountItem[]> {
  const settings = env.accounts;
  if (!settings) throw new ConfigError('accountsToScan: the deployment scans only its own account');
  const needs = routingNeeds(env.notifications.routes);
  // Organizations is served from us-east-1 (aws partition).
  const discovery = new OrganizationsDiscovery({
    client: new OrganizationsClient({
      region: 'us-east-1',
      retryMode: 'adaptive',
      maxAttempts: 10,
      ...REQUEST_TIMEOUTS,
    }),
  });
  const found =
    settings.source === 'list'
      ? (settings.ids ?? []).map((id) => ({ id }))
      : await discovery.listAccounts(settings.organizationalUnits, {
          placement: { organizationalUnits: needs.organizationalUnits },
        });
  const chosen = selectAccounts(found, settings);
  if (chosen.skipped.length > 0) logger.info('accounts not scanned', { skipped: chosen.skipped });
  // Tags only of the accounts scanned: an excluded account's tags are neither read nor needed.
  const selected = needs.accountTags
    ? await discovery.place(chosen.selected, { tags: true })
    : chosen.selected;
  return selected.map((a) => ({
    id: a.id,
    ...(a.name ? { name: a.name } : {}),
    ...(a.organizationalUnits ? { organizationalUnits: a.organizationalUnits } : {}),
    ...(a.tags ? { tags: a.tags } : {}),
  }));
}

/** A member account's job: scanned through its member role. */
export function memberAccountJob(
  { env, sts }: Wiring,
  account: AccountItem,
  now: Date,
  runId: string,
): AccountJob {
  const settings = env.accounts;
  if (!settings) throw new ConfigError('memberAccountJob: the deployment scans only its own account');
  const roleArn = memberRoleArn(account.id, settings.memberRoleName, env.region);
  const credentials = assumeRoleCredentials({
    roleArn,
    ...(settings.externalId ? { externalId: settings.externalId } : {}),
    client: sts,
  });
  const iam = new IamAdapter({
    reportDeadlineMs: env.reportDeadlineMs,
    userDirectory: env.userDirectory,
    client: new IAMClient({ ...IAM_CLIENT_DEFAULTS, region: env.region, credentials, ...REQUEST_TIMEOUTS }),
  });
  return {
    accountId: account.id,
    ...(account.name ? { name: account.name } : {}),
    placement: {
      id: account.id,
      ...(account.organizationalUnits ? { organizationalUnits: account.organizationalUnits } : {}),
      ...(account.tags ? { tags: account.tags } : {}),
    },
    scan: {
      report: iam,
      directory: iam,
      counter: iam,
      thresholds: settings.thresholds?.[account.id] ?? env.thresholds,
      now,
      ...enforcementOfJob(env, account.id, iam, runId, roleArn),
    },
  };
}

/** Where changes go besides Slack: Security Hub first (an import is idempotent), then EventBridge. */
export function eventSink(wiring: Wiring, context: Context | undefined): EventSink | undefined {
  const { env, events } = wiring;
  const sinks = [
    ...(env.securityHub
      ? [
          new SecurityHubSink({
            client: wiring.securityHub ?? new SecurityHubClient({ region: env.region, ...REQUEST_TIMEOUTS }),
            accountId: ownAccount(context),
            region: env.region,
          }),
        ]
      : []),
    ...(events ? [events] : []),
  ];
  return sinks.length === 0 ? undefined : sinks.length === 1 ? sinks[0]! : new CompositeSink(sinks);
}

/**
 * The notifier of a channel, by the kind of its destination in the secret: a Slack webhook, a Slack
 * conversation of the app (its bot token; message records in the state table), a Teams workflow.
 */
export function channelNotifier(wiring: Wiring): (channel: string) => Promise<Notifier> {
  return async (channel) => {
    const secret = await wiring.readChannels();
    const destination = destinationFor(secret, channel, wiring.secretArn);
    switch (destination.kind) {
      case 'slack-webhook':
        return new SlackNotifier(new SlackSender({ webhookUrl: destination.url }));
      case 'slack-app': {
        if (secret.slackBotToken === undefined) {
          throw new WebhookSecretError(
            `channels secret ${wiring.secretArn}: channel "${channel}" is a Slack conversation but the secret has no "slackBotToken"`,
          );
        }
        return new SlackAppNotifier({
          api: new SlackWebApi({
            token: secret.slackBotToken,
            ...(wiring.slackApiUrl ? { apiUrl: wiring.slackApiUrl } : {}),
          }),
          conversation: destination.conversation,
          directMessages: destination.directMessages,
          records: wiring.state,
          onWarning: (warning) => logger.warn('Slack app channel', { channel, warning }),
        });
      }
      case 'teams-workflow':
        return new TeamsNotifier(new TeamsSender({ url: destination.url }));
    }
  };
}

/** An invocation refused before anything was read or written: counted, logged, answered. */
export function refuseInvocation(reason: string): { readonly refused: string } {
  metrics.addMetric(METRIC.invocationsRefused, MetricUnit.Count, 1);
  logger.warn('invocation refused: nothing was read or written', { reason });
  return { refused: reason };
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

/** What one run did, in numbers: the handler's answer. */
export interface RunSummary {
  readonly runId: string;
  readonly accounts: number;
  readonly findings: number;
  readonly changes: number;
  readonly delivered: number;
  /** Reminders a roll-up in parts left to the next runs (lambda/steps.ts `ROLL_UP_PART`). @default none */
  readonly remindersDeferred?: number;
}

/**
 * The metrics of the accounts scanned (a run, or a batch of a state machine's map).
 * @param accounts also `AccountsScanned` and `AccountsFailed` (multi-account): false for a batch,
 *   whose run's deliver step counts every account's final outcome once ({@link addAccountMetrics})
 */
export function addScanMetrics(
  env: LambdaEnv,
  deltas: readonly AccountDelta[],
  options: { readonly accounts: boolean } = { accounts: true },
): void {
  const scans = deltas.flatMap((a) => (a.scan ? [a.scan] : []));
  metrics.addMetric('FindingsCritical', MetricUnit.Count, sum(scans.map((s) => s.counts.critical)));
  metrics.addMetric('FindingsWarning', MetricUnit.Count, sum(scans.map((s) => s.counts.warning)));
  metrics.addMetric('FindingsInfo', MetricUnit.Count, sum(scans.map((s) => s.counts.info)));
  metrics.addMetric('IamCalls', MetricUnit.Count, sum(scans.flatMap((s) => Object.values(s.iamCalls))));
  metrics.addMetric(
    METRIC.findingsUnconfirmed,
    MetricUnit.Count,
    sum(scans.map((s) => s.findings.filter((f) => f.unconfirmed).length)),
  );
  const enforced = scans.flatMap((s) => (s.enforcement ? [s.enforcement] : []));
  if (enforced.length > 0) {
    metrics.addMetric(
      METRIC.keysDeactivated,
      MetricUnit.Count,
      sum(enforced.map((e) => e.actions.filter((a) => a.kind === 'deactivated').length)),
    );
    metrics.addMetric(
      METRIC.enforcementFailed,
      MetricUnit.Count,
      sum(
        scans.map(
          (s) =>
            s.warnings.filter((w) => w.code === 'enforcement-failed' || w.code === 'enforcement-unrecorded')
              .length,
        ),
      ),
    );
  }
  if (options.accounts) addAccountMetrics(env, deltas);
}

/** `AccountsScanned` and `AccountsFailed` of a multi-account run, each account once. */
export function addAccountMetrics(env: LambdaEnv, deltas: readonly AccountDelta[]): void {
  if (!env.accounts) return;
  metrics.addMetric('AccountsScanned', MetricUnit.Count, deltas.filter((a) => a.scan).length);
  metrics.addMetric('AccountsFailed', MetricUnit.Count, deltas.filter((a) => a.error).length);
}

/** One log line per account scanned: what it found, what it cost, what went wrong. */
export const accountLog = (deltas: readonly AccountDelta[]) =>
  deltas.map((a) =>
    a.scan
      ? {
          accountId: a.accountId,
          usersScanned: a.scan.usersScanned,
          counts: a.scan.counts,
          exempted: a.scan.exempted,
          iamCalls: a.scan.iamCalls,
          usersConfirmed: a.scan.usersConfirmed,
          warnings: a.scan.warnings.map((w) => w.message),
          // The audit trail in the log too: each action with its key, reason and run.
          ...(a.scan.enforcement && a.scan.enforcement.actions.length > 0
            ? { enforcementActions: a.scan.enforcement.actions }
            : {}),
        }
      : { accountId: a.accountId, error: a.error?.message },
  );

/**
 * Metrics and the log line of a finished run, then the error that makes it incomplete, if any: a
 * commit that failed, a channel that could not be reached, events that could not be published,
 * accounts that could not be scanned (in that order).
 * @param scanMetrics also emit the scan's figures (false when each batch emitted its own)
 */
export function finishRun(
  env: LambdaEnv,
  runId: string,
  started: number,
  result: MonitorResult,
  options: { readonly scanMetrics: boolean },
): RunSummary {
  const scans = result.accounts.flatMap((a) => (a.scan ? [a.scan] : []));
  const said = new Set(result.delivered);
  const failed = result.accounts.filter((a) => a.error);
  // Held baselined changes (an organization's first scan) are counted apart from `changes`.
  const held = result.held ?? [];
  const changes = result.changes.length + sum(held.map((h) => h.changes));
  const delivered = result.delivered.length + sum(held.map((h) => h.delivered));
  // The heartbeat: only a run that scanned at least one account and every account it set out to.
  if (scans.length > 0 && failed.length === 0) metrics.addMetric(METRIC.scansCompleted, MetricUnit.Count, 1);
  metrics.addMetric('ScanDuration', MetricUnit.Milliseconds, Date.now() - started);
  if (options.scanMetrics) addScanMetrics(env, result.accounts);
  metrics.addMetric('ChangesDelivered', MetricUnit.Count, delivered);
  metrics.addMetric(METRIC.changesSummarized, MetricUnit.Count, result.summarized);
  metrics.addMetric('DeliveryFailures', MetricUnit.Count, result.channelErrors.length);
  metrics.addMetric(METRIC.stateItemsUnreadable, MetricUnit.Count, result.unreadableStates.length);
  metrics.addMetric(METRIC.deliveryUncertain, MetricUnit.Count, result.uncertain);
  metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, result.eventsPublished);
  metrics.addMetric(METRIC.eventsPending, MetricUnit.Count, result.eventsPending);
  if (result.unreadableStates.length > 0) {
    logger.warn('state items could not be read; treated as absent and overwritten by the next write', {
      unreadable: result.unreadableStates.slice(0, 50),
      count: result.unreadableStates.length,
    });
  }
  for (const { channel, error: e } of result.channelErrors) {
    const undelivered =
      result.changes.filter(
        (c) => (c.channel ?? env.notifications.defaultChannel ?? DEFAULT_CHANNEL) === channel && !said.has(c),
      ).length + sum(held.filter((h) => h.channel === channel).map((h) => h.changes - h.delivered));
    logger.error('Slack delivery failed; undelivered changes are announced by the next scan', {
      channel,
      error: e.message,
      ...(e instanceof SlackDeliveryError
        ? { permanent: e.permanent, status: e.status, slackError: e.slackError }
        : {}),
      ...(e instanceof SlackApiError ? { permanent: e.permanent, slackError: e.slackError } : {}),
      ...(e instanceof TeamsDeliveryError
        ? { permanent: e.permanent, status: e.status, teamsError: e.code }
        : {}),
      undelivered,
    });
  }
  logger.info('scan complete', {
    ...(options.scanMetrics
      ? { accounts: accountLog(result.accounts) }
      : { accounts: result.accounts.length }),
    changes,
    delivered,
    summarized: result.summarized,
    messages: `${result.messagesDelivered}/${result.messages}`,
    skippedAsStale: result.skippedAsStale.length,
    migrated: result.migrated,
    uncertain: result.uncertain,
    // A roll-up in parts: reminders this run could not hold, reminded by the next runs.
    ...(result.deferred ? { remindersDeferred: result.deferred } : {}),
    events: {
      published: result.eventsPublished,
      pending: result.eventsPending,
      // Stopped before the end of the outbox (out of time, or a failure): more may wait than `pending` says.
      ...(result.eventsPendingUnread ? { pendingUnread: true } : {}),
    },
  });
  if (result.commitError) {
    // Slack has the message but the state does not say so: the next run announces it once more.
    throw result.commitError;
  }
  if (result.notifierError) {
    // A channel could not be reached at all (its webhook is not in the secret, the secret is
    // unreadable): the other channels were delivered, this one's changes wait for the next run.
    throw result.notifierError;
  }
  if (result.eventError) {
    logger.error('events could not be published; they wait in the outbox for the next run', {
      error: result.eventError.message,
      pending: result.eventsPending,
    });
    throw result.eventError;
  }
  if (failed.length > 0) {
    throw new AccountsIncompleteError(
      `${failed.length} of ${result.accounts.length} accounts could not be scanned: ${failed
        .map((a) => `${a.accountId} (${a.error?.message})`)
        .join('; ')
        .slice(0, 1000)}`,
    );
  }
  return {
    runId,
    accounts: result.accounts.length,
    findings: sum(scans.map((s) => s.findingsTotal ?? s.findings.length)),
    changes,
    delivered,
    ...(result.deferred ? { remindersDeferred: result.deferred } : {}),
  };
}
