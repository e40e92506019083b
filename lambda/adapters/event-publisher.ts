/**
 * Publishes one EventBridge event per change (source `credwatch`), so that other systems can route
 * findings: page on criticals, open tickets, feed a SIEM.
 */
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { EVENT_DETAIL_TYPES, EVENT_SOURCE } from '../contracts';
import { CredwatchError } from '../core/errors';
import type { Change, ChangeKind } from '../core/state';

/** Some events could not be published, even after one retry of the failed entries. */
export class EventPublishError extends CredwatchError {}

/** The `source` of every credwatch event. */
export { EVENT_SOURCE };
export const DETAIL_TYPES: Readonly<Record<ChangeKind, string>> = EVENT_DETAIL_TYPES;

/** PutEvents takes at most 10 entries a call. */
const BATCH_SIZE = 10;

export interface EventPublisherProps {
  /**
   * Name or ARN of the event bus.
   * @default 'default'
   */
  readonly eventBusName?: string;
  /**
   * EventBridge client.
   * @default a new EventBridgeClient with the default configuration
   */
  readonly client?: EventBridgeClient;
}

/** Sends changes to EventBridge, `detail` = `{ kind, finding }`. */
export class EventPublisher {
  private readonly eventBusName: string;
  private readonly client: EventBridgeClient;

  constructor(props: EventPublisherProps = {}) {
    this.eventBusName = props.eventBusName ?? 'default';
    this.client = props.client ?? new EventBridgeClient({});
  }

  /**
   * Publishes one event per change, 10 to a PutEvents call; entries EventBridge did not take are
   * retried once.
   * @throws EventPublishError when entries still fail after the retry, or a call fails outright.
   */
  async publish(changes: readonly Change[]): Promise<void> {
    const entries = changes.map((change) => this.toEntry(change));
    for (let i = 0; i < entries.length; i += BATCH_SIZE) {
      const batch = entries.slice(i, i + BATCH_SIZE);
      const failed = await this.put(batch);
      if (failed.length === 0) continue;
      const stillFailed = await this.put(failed.map((f) => f.entry));
      if (stillFailed.length > 0) {
        const { result } = stillFailed[0]!;
        throw new EventPublishError(
          `EventBridge bus ${this.eventBusName} refused ${stillFailed.length} of ${entries.length} credwatch events ` +
            `after one retry (first: ${result.ErrorCode ?? 'unknown error'}: ${result.ErrorMessage ?? 'no message'})`,
        );
      }
    }
  }

  /** One PutEvents call; returns the entries that failed, with their results. */
  private async put(
    entries: readonly PutEventsRequestEntry[],
  ): Promise<{ entry: PutEventsRequestEntry; result: PutEventsResultEntry }[]> {
    let response: { FailedEntryCount?: number; Entries?: PutEventsResultEntry[] };
    try {
      response = await this.client.send(new PutEventsCommand({ Entries: [...entries] }));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EventPublishError(
        `Could not publish credwatch events to EventBridge bus ${this.eventBusName}: ${reason}`,
        {
          cause: error,
        },
      );
    }
    if (!response.FailedEntryCount) return [];
    // Result entries are in request order; a failed one carries an ErrorCode.
    const results = entries.map((entry, index) => ({
      entry,
      result: response.Entries?.[index] ?? { ErrorCode: 'MissingResultEntry' },
    }));
    const failed = results.filter(({ result }) => result.ErrorCode !== undefined);
    // A failure count without failed entries cannot say which failed: count them all as failed.
    return failed.length > 0
      ? failed
      : results.map(({ entry }) => ({ entry, result: { ErrorCode: 'UnknownFailure' } }));
  }

  private toEntry(change: Change): PutEventsRequestEntry {
    return {
      EventBusName: this.eventBusName,
      Source: EVENT_SOURCE,
      DetailType: DETAIL_TYPES[change.kind],
      Detail: JSON.stringify({ kind: change.kind, finding: change.finding }),
      Resources: change.finding.arn ? [change.finding.arn] : [],
    };
  }
}
