/**
 * The benchmark's state store: the remembered finding states of each account in one JSON file,
 * `<dir>/<accountId>.json`, so a scheduled scan in one worker process can leave its state for the
 * next scan in a fresh process. Like the DynamoDB store (pk = account#id) it is read per account,
 * when the scan of that account needs it, and a state older than the stored one is never written.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLOCK_SKEW_MS } from '../lambda/contracts';
import type { FindingState } from '../lambda/core/state';
import { decodeState, type UnreadableState } from '../lambda/core/state-codec';
import type { LoadedStates, StateStore } from '../lambda/ports';
import { BenchError } from './errors';

const ACCOUNT_ID = /^[\w-]{1,64}$/;

/** A {@link StateStore} over one JSON file per account in a directory (created on the first commit). */
export class FileStateStore implements StateStore {
  /** @param dir where the per-account files are kept */
  constructor(private readonly dir: string) {}

  /** The account's states (decoded as the DynamoDB store does), or none when nothing was committed for it yet. */
  async load(accountId: string): Promise<LoadedStates> {
    const states: FindingState[] = [];
    const unreadable: UnreadableState[] = [];
    for (const raw of await this.read(accountId)) {
      const decoded = decodeState(raw, new Date(), CLOCK_SKEW_MS);
      if ('state' in decoded) states.push(decoded.state);
      else unreadable.push({ id: String((raw as { id?: unknown })?.id ?? '?'), problem: decoded.problem });
    }
    return { states, unreadable, known: await this.isKnown(accountId) };
  }

  /** The `known` markers: an empty file `<dir>/<accountId>.known` each. */
  async markKnown(accountIds: readonly string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const id of accountIds) await writeFile(join(this.dir, `${this.checked(id)}.known`), '');
  }

  private async isKnown(accountId: string): Promise<boolean> {
    try {
      await readFile(join(this.dir, `${this.checked(accountId)}.known`));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new BenchError(`state store: could not read the marker of ${accountId}`, { cause: err });
    }
  }

  private async read(accountId: string): Promise<unknown[]> {
    const file = this.file(accountId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new BenchError(`state store: could not read ${file}`, { cause: err });
    }
    try {
      return JSON.parse(text) as unknown[];
    } catch (err) {
      throw new BenchError(`state store: ${file} is not JSON`, { cause: err });
    }
  }

  /** Writes the states, account by account; one older than the stored state of its id is skipped. */
  async commit(states: FindingState[]): Promise<{ written: number; skippedAsStale: string[] }> {
    const byAccount = new Map<string, FindingState[]>();
    for (const s of states) {
      const list = byAccount.get(s.accountId);
      if (list) list.push(s);
      else byAccount.set(s.accountId, [s]);
    }
    let written = 0;
    const skippedAsStale: string[] = [];
    await mkdir(this.dir, { recursive: true });
    for (const [accountId, incoming] of byAccount) {
      const stored = new Map((await this.load(accountId)).states.map((s) => [s.id, s]));
      for (const s of incoming) {
        const old = stored.get(s.id);
        if (old && Date.parse(old.scanTime) > Date.parse(s.scanTime)) skippedAsStale.push(s.id);
        else {
          stored.set(s.id, s);
          written++;
        }
      }
      await writeFile(this.file(accountId), JSON.stringify([...stored.values()]));
    }
    return { written, skippedAsStale };
  }

  private file(accountId: string): string {
    return join(this.dir, `${this.checked(accountId)}.json`);
  }

  private checked(accountId: string): string {
    if (!ACCOUNT_ID.test(accountId)) {
      throw new BenchError(`state store: account id "${accountId}" cannot name a file in ${this.dir}`);
    }
    return accountId;
  }
}
