/**
 * A child's deltas, written to the run store in a few parts instead of one object per account: each
 * part holds the deltas scanned since the one before, and is written once they reach
 * {@link PART_FLUSH_BYTES} of JSON, {@link PART_FLUSH_INTERVAL_MS} after the first of them was
 * scanned, and at the end of the batch. An account scanned long before a slow one of the same batch
 * runs out the step's time is written on time, not lost with it; at 5,000 accounts a run writes a few
 * hundred objects, not 5,000 (docs/organization.md, "The run bucket").
 *
 * Parts are named by the batch's first account id, the attempt's start and a number from 0: a retried
 * child (or one still running beside its retry) writes under its own names, never over another
 * attempt's, and the reader takes an account from the newest attempt it is in.
 * Parts are written one at a time, in order. A part that cannot be written is reported with its
 * accounts (`onUnwritten`), which deliver then announces as not scanned; nothing is thrown.
 */
import { isAttemptStart, type RunStore } from './ports';

/** A part is written once its deltas reach about this many characters of JSON. */
export const PART_FLUSH_BYTES = 8 * 1024 * 1024;
/** A part is written at the latest this long after its first delta was scanned. */
export const PART_FLUSH_INTERVAL_MS = 60_000;

export interface DeltaPartsOptions {
  readonly store: RunStore;
  readonly runId: string;
  /** The batch's first account id: its parts' name. */
  readonly batch: string;
  /** When this attempt of the child started (epoch ms): its parts' keys are its own. */
  readonly attempt: number;
  /** Why and which accounts: a part that could not be written. */
  readonly onUnwritten: (accountIds: readonly string[], error: unknown) => void;
  /** @default PART_FLUSH_BYTES */
  readonly flushBytes?: number;
  /** @default PART_FLUSH_INTERVAL_MS */
  readonly flushIntervalMs?: number;
}

/** The deltas of one batch on their way to the run store. */
export class DeltaParts {
  /** The keys of the parts written so far. */
  readonly keys: string[] = [];
  private pending: { readonly accountId: string }[] = [];
  private pendingBytes = 0;
  private nextPart = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly flushBytes: number;
  private readonly flushIntervalMs: number;

  constructor(private readonly options: DeltaPartsOptions) {
    // Checked before anything is scanned (every part's key carries it).
    if (!isAttemptStart(options.attempt)) {
      throw new Error(
        `DeltaParts: attempt ${options.attempt} is not a time in epoch milliseconds (13 digits)`,
      );
    }
    this.flushBytes = options.flushBytes ?? PART_FLUSH_BYTES;
    this.flushIntervalMs = options.flushIntervalMs ?? PART_FLUSH_INTERVAL_MS;
  }

  /** Adds one account's delta; resolves once it is written when it filled its part, at once otherwise. */
  async add(delta: { readonly accountId: string }): Promise<void> {
    if (this.closed)
      throw new Error(`DeltaParts: account ${delta.accountId} added after the batch was closed`);
    this.pending.push(delta);
    this.pendingBytes += JSON.stringify(delta).length;
    if (this.pendingBytes >= this.flushBytes) return this.flush();
    this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs);
  }

  /** Writes what is pending as the next part; resolves once every part so far is written (or reported). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return this.writing;
    const deltas = this.pending;
    const at = { batch: this.options.batch, attempt: this.options.attempt, part: this.nextPart++ };
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writing.then(async () => {
      try {
        const { key } = await this.options.store.putDeltas(this.options.runId, at, deltas);
        this.keys.push(key);
      } catch (error) {
        try {
          this.options.onUnwritten(
            deltas.map((d) => d.accountId),
            error,
          );
        } catch (reportError) {
          // A report that fails must not stop the parts after it.
          console.error('DeltaParts: reporting an unwritten part failed', reportError);
        }
      }
    });
    return this.writing;
  }

  /** Writes what is left; nothing may be added after. */
  close(): Promise<void> {
    this.closed = true;
    return this.flush();
  }
}
