/**
 * Several sinks as one: a chunk of changes goes to each in order, and the first failure stops it (the
 * outbox keeps the chunk for the next run, which sends it to every sink again: sinks are idempotent,
 * or, like EventBridge, put last so that a retry repeats as little as possible).
 */
import type { Change } from '../core/state';
import type { EventSink } from '../ports';

export class CompositeSink implements EventSink {
  constructor(private readonly sinks: readonly EventSink[]) {}

  async publish(changes: readonly Change[]): Promise<void> {
    for (const sink of this.sinks) await sink.publish(changes);
  }
}
