/**
 * Composition root of the scanner Lambda: environment -> adapters -> monitor (scan, diff, deliver,
 * remember) -> metrics and one structured log line. The work itself is in lambda/monitor.ts and
 * lambda/scan.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { EventPublisher } from './adapters/event-publisher';
import { IamAdapter } from './adapters/iam';
import { SlackDeliveryError, SlackSender } from './adapters/slack-sender';
import { DynamoStateStore } from './adapters/state-store';
import { createWebhookUrlReader, webhookHostPolicyFromEnv } from './adapters/webhook-secret';
import { ConfigError } from './core/errors';
import { type LambdaEnv, readEnv } from './env';
import { monitor } from './monitor';

/** What EventBridge Scheduler sends (lib/constructs/scanner-schedule.ts); the scheduled time is the run's id. */
export interface ScheduleEvent {
  readonly source?: string;
  readonly scheduledTime?: string;
  readonly executionId?: string;
}

export interface HandlerResult {
  readonly runId: string;
  readonly findings: number;
  readonly changes: number;
  readonly delivered: number;
}

/** Time kept back at the end of an invocation to remember what was delivered and publish metrics. */
const DELIVERY_MARGIN_MS = 15_000;

const logger = new Logger({ serviceName: 'credwatch' });
const metrics = new Metrics({ namespace: 'Credwatch', serviceName: 'credwatch' });

interface Wiring {
  readonly env: LambdaEnv;
  readonly readWebhookUrl: () => Promise<string>;
  readonly state: DynamoStateStore;
  readonly events?: EventPublisher;
}
/** Built on the first invocation and reused: the secret cache and SDK connections outlive one scan. */
let wiring: Wiring | undefined;

function wire(): Wiring {
  const env = readEnv(process.env);
  if (!env.slackSecretArn) throw new ConfigError('environment: CREDWATCH_SLACK_SECRET_ARN is required');
  if (!env.stateTable) throw new ConfigError('environment: CREDWATCH_STATE_TABLE is required');
  return {
    env,
    readWebhookUrl: createWebhookUrlReader({
      secretArn: env.slackSecretArn,
      ...webhookHostPolicyFromEnv(env.slackAllowedHosts),
    }),
    state: new DynamoStateStore({ tableName: env.stateTable }),
    ...(env.eventBusName ? { events: new EventPublisher({ eventBusName: env.eventBusName }) } : {}),
  };
}

export const handler = async (event: ScheduleEvent = {}, context?: Context): Promise<HandlerResult> => {
  const started = Date.now();
  const now = event.scheduledTime ? new Date(event.scheduledTime) : new Date(started);
  if (Number.isNaN(now.getTime()))
    throw new ConfigError(`event.scheduledTime is not a time: "${event.scheduledTime}"`);
  const runId = now.toISOString();
  logger.appendKeys({ runId });
  try {
    wiring ??= wire();
    const { env, readWebhookUrl, state, events } = wiring;
    // A new IAM adapter per run: its call counters describe this scan only.
    const iam = new IamAdapter({ reportDeadlineMs: env.reportDeadlineMs });
    const remaining = context?.getRemainingTimeInMillis?.();
    const result = await monitor({
      accounts: [{ scan: { report: iam, directory: iam, counter: iam, thresholds: env.thresholds, now } }],
      now,
      state,
      notifier: async () => new SlackSender({ webhookUrl: await readWebhookUrl() }),
      ...(events ? { events } : {}),
      reminderIntervalMs: env.reminderIntervalMs,
      ...(remaining !== undefined ? { deliveryDeadline: started + remaining - DELIVERY_MARGIN_MS } : {}),
    });
    const scan = result.accounts[0]!.scan!;
    const iamCalls = Object.values(scan.iamCalls).reduce((a, b) => a + b, 0);
    metrics.addMetric('ScansCompleted', MetricUnit.Count, 1);
    metrics.addMetric('ScanDuration', MetricUnit.Milliseconds, Date.now() - started);
    metrics.addMetric('FindingsCritical', MetricUnit.Count, scan.counts.critical);
    metrics.addMetric('FindingsWarning', MetricUnit.Count, scan.counts.warning);
    metrics.addMetric('FindingsInfo', MetricUnit.Count, scan.counts.info);
    metrics.addMetric('IamCalls', MetricUnit.Count, iamCalls);
    metrics.addMetric('ChangesDelivered', MetricUnit.Count, result.delivered.length);
    metrics.addMetric('DeliveryFailures', MetricUnit.Count, result.deliveryError ? 1 : 0);
    if (result.deliveryError) {
      const e = result.deliveryError;
      logger.error('Slack delivery failed; undelivered changes are announced by the next scan', {
        error: e.message,
        ...(e instanceof SlackDeliveryError
          ? { permanent: e.permanent, status: e.status, slackError: e.slackError }
          : {}),
        undelivered: result.changes.length - result.delivered.length,
      });
    }
    logger.info('scan complete', {
      accountId: scan.accountId,
      usersScanned: scan.usersScanned,
      counts: scan.counts,
      exempted: scan.exempted,
      changes: result.changes.length,
      delivered: result.delivered.length,
      messages: `${result.messagesDelivered}/${result.messages}`,
      skippedAsStale: result.skippedAsStale.length,
      iamCalls: scan.iamCalls,
      usersConfirmed: scan.usersConfirmed,
      warnings: scan.warnings.map((w) => w.message),
    });
    return {
      runId,
      findings: scan.findings.length,
      changes: result.changes.length,
      delivered: result.delivered.length,
    };
  } catch (err) {
    metrics.addMetric('ScanIncomplete', MetricUnit.Count, 1);
    logger.error('scan incomplete', err as Error);
    throw err;
  } finally {
    metrics.publishStoredMetrics();
  }
};
