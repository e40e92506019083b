/**
 * The scheduled use case: scan, diff against what was already said, deliver the digest, publish one
 * event per change, and remember only what was delivered (at-least-once: what fails to reach Slack is
 * announced again by the next scan; nothing is lost). Depends on ports only.
 */
import { diff, nextStates } from './core/diff';
import { buildDigestParts } from './core/slack-message';
import type { Change } from './core/state';
import type { EventSink, Notifier, StateStore } from './ports';
import { type ScanInput, type ScanResult, scan } from './scan';

export interface MonitorInput {
  readonly scan: ScanInput;
  readonly state: StateStore;
  /** Created only when there is something to say, so a quiet scan never reads the webhook secret. */
  readonly notifier: () => Promise<Notifier>;
  readonly events?: EventSink;
  readonly reminderIntervalMs: number;
  /** Epoch ms after which no further Slack message is started (the Lambda's time is running out). */
  readonly deliveryDeadline?: number;
}

export interface MonitorResult {
  readonly scan: ScanResult;
  readonly changes: readonly Change[];
  /** Changes that reached Slack and were remembered. */
  readonly delivered: readonly Change[];
  readonly messages: number;
  readonly messagesDelivered: number;
  /** Why Slack delivery stopped, when it did. The changes not delivered are announced next scan. */
  readonly deliveryError?: Error;
  /** States not written because a newer scan had already written them. */
  readonly skippedAsStale: readonly string[];
}

export async function monitor(input: MonitorInput): Promise<MonitorResult> {
  const now = input.scan.now;
  const result = await scan(input.scan);
  const states = await input.state.load(result.accountId);
  const changes = diff(result.findings, states, now, { reminderIntervalMs: input.reminderIntervalMs });
  if (changes.length === 0) {
    return { scan: result, changes, delivered: [], messages: 0, messagesDelivered: 0, skippedAsStale: [] };
  }

  const alias = await input.scan.directory?.accountAlias();
  const parts = buildDigestParts(changes, {
    accountId: result.accountId,
    scanTime: now,
    ...(alias ? { accountAlias: alias } : {}),
  });
  const notifier = await input.notifier();
  const sent = await notifier.sendAll(
    parts.map((p) => p.message),
    input.deliveryDeadline !== undefined ? { deadline: input.deliveryDeadline } : {},
  );
  // Remember exactly the changes of the messages Slack took; the rest are announced by the next scan.
  const delivered = parts.slice(0, sent.delivered).flatMap((p) => p.changes);

  let eventError: unknown;
  if (input.events && delivered.length > 0) {
    try {
      await input.events.publish(delivered);
    } catch (err) {
      eventError = err;
    }
  }
  const committed = delivered.length > 0 ? await input.state.commit(nextStates(delivered, now)) : undefined;
  // Slack has the news and the state says so; a failed event publish must still fail the run loudly.
  if (eventError) throw eventError;
  return {
    scan: result,
    changes,
    delivered,
    messages: parts.length,
    messagesDelivered: sent.delivered,
    ...(sent.error ? { deliveryError: sent.error } : {}),
    skippedAsStale: committed?.skippedAsStale ?? [],
  };
}
