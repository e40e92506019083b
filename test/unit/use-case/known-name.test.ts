/**
 * The name an account without an Organizations name (a `list` source) is shown by when it has no
 * news of its own: the state machine's children read the IAM alias only for an account with news,
 * and deliver aligns the roll-ups across accounts afterwards, so an account pulled into another's
 * roll-up would be named by its id. Its `known` marker keeps the alias it was last shown by
 * (`LoadedStates.knownName`): the path of the engine's steps, scanEach in a child, then alignRollUps
 * and deliver, with in-memory ports.
 */
import { CLOCK_SKEW_MS } from '../../../lambda/contracts';
import { nextStates } from '../../../lambda/core/diff';
import type { Post } from '../../../lambda/core/notification-plan';
import { DEFAULT_THRESHOLDS } from '../../../lambda/core/policy';
import type { Change, FindingState } from '../../../lambda/core/state';
import { decodeDelta } from '../../../lambda/delta-codec';
import { type AccountDelta, type AccountJob, alignRollUps, deliver, scanEach } from '../../../lambda/monitor';
import type {
  DigestHeading,
  IamDirectory,
  LiveUser,
  LoadedStates,
  NotifyOptions,
  StateStore,
} from '../../../lambda/ports';
import { scan } from '../../../lambda/scan';
import { oldDeployKeyReport } from '../../support/report-builder';

const A = '111111111111';
const B = '222222222222';
const NOW = new Date('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;
const INTERVAL = 24 * HOUR;

const csvOf = oldDeployKeyReport;

/** An account's IAM, as far as these runs ask it: its users, and its alias (each call counted). */
class Directory implements IamDirectory {
  aliasCalls = 0;
  constructor(
    private readonly accountId: string,
    public alias: string | undefined,
  ) {}
  async listUsers(): Promise<LiveUser[]> {
    return [
      {
        name: 'deploy',
        arn: `arn:aws:iam::${this.accountId}:user/deploy`,
        createdAt: new Date('2025-06-01T00:00:00Z'),
        tags: {},
      },
    ];
  }
  async listAccessKeys() {
    return [];
  }
  async getAccessKeyLastUsed() {
    return null;
  }
  async accountAlias() {
    this.aliasCalls++;
    return this.alias;
  }
}

/** States and `known` markers in memory, each marker with the name markKnown gave it. */
class Store implements StateStore {
  readonly states = new Map<string, FindingState[]>();
  readonly markers = new Map<string, { name?: string; unreadable?: string }>();
  readonly marked: string[][] = [];
  async load(accountId: string): Promise<LoadedStates> {
    const marker = this.markers.get(accountId);
    return {
      states: this.states.get(accountId) ?? [],
      unreadable: marker?.unreadable ? [{ id: '#known', problem: marker.unreadable }] : [],
      known: marker !== undefined,
      ...(marker?.name !== undefined ? { knownName: marker.name } : {}),
    };
  }
  async commit(states: FindingState[]) {
    for (const s of states) {
      const list = (this.states.get(s.finding.accountId) ?? []).filter((o) => o.id !== s.id);
      this.states.set(s.finding.accountId, [...list, s]);
    }
    return { written: states.length, skippedAsStale: [] };
  }
  async markKnown(accountIds: readonly string[], _at: Date, names?: ReadonlyMap<string, string>) {
    this.marked.push([...accountIds]);
    for (const id of accountIds) {
      const name = names?.get(id);
      this.markers.set(id, name !== undefined ? { name } : {});
    }
  }
}

/** The states an account's first run left `hoursAgo` before NOW (every finding announced in its baseline). */
async function announced(accountId: string, hoursAgo: number): Promise<FindingState[]> {
  const then = new Date(NOW.getTime() - hoursAgo * HOUR);
  const result = await scan({
    report: { getReport: async () => ({ csv: csvOf(accountId), generatedAt: then }) },
    thresholds: DEFAULT_THRESHOLDS,
    now: then,
  });
  const changes = result.findings
    .filter((f) => f.severity !== 'info')
    .map((finding) => ({ kind: 'opened' as const, finding }));
  return nextStates(changes, then, 'baseline');
}

const job = (accountId: string, directory: Directory, name?: string): AccountJob => ({
  accountId,
  ...(name ? { name } : {}),
  scan: {
    report: { getReport: async () => ({ csv: csvOf(accountId), generatedAt: NOW }) },
    thresholds: DEFAULT_THRESHOLDS,
    now: NOW,
    directory,
  },
});

/** One run as the state machine makes it: each account in its child, then deliver over the deltas. */
async function run(store: Store, directories: Record<string, Directory>, names: Record<string, string> = {}) {
  const children: AccountDelta[] = [];
  for (const [accountId, directory] of Object.entries(directories)) {
    children.push(
      ...(await scanEach({
        accounts: [job(accountId, directory, names[accountId])],
        now: NOW,
        state: store,
        notifier: async () => {
          throw new Error('a child sends nothing');
        },
        reminderIntervalMs: INTERVAL,
      })),
    );
  }
  const shown: Record<string, string>[] = [];
  const said: Change[] = [];
  // Through the run bucket: the JSON a child writes, decoded by deliver as the step does.
  const read = children.map((d) => {
    const decoded = decodeDelta(JSON.parse(JSON.stringify(d)), NOW, CLOCK_SKEW_MS);
    if ('problem' in decoded) throw new Error(decoded.problem);
    return decoded.delta;
  });
  const deltas = alignRollUps(read);
  await deliver(deltas, {
    now: NOW,
    state: store,
    notifier: async () => ({
      notify: async (posts: readonly Post[], context: DigestHeading, options: NotifyOptions) => {
        shown.push({ ...context.accountNames });
        const carried = posts.flatMap((p) => p.carries);
        said.push(...carried);
        await options.onDelivered(carried);
        return { messages: 1, messagesDelivered: 1, uncertain: 0 };
      },
    }),
  });
  return { children, deltas, shown, said };
}

describe("an account's name on its known marker", () => {
  it('names an account pulled into the roll-up by the alias its marker keeps, without reading it', async () => {
    const store = new Store();
    // A's reminders are due (announced 25 hours ago); B's are not (1 hour ago): A's roll-up pulls B in.
    store.states.set(A, await announced(A, 25));
    store.states.set(B, await announced(B, 1));
    store.markers.set(A, { name: 'alpha-prod' });
    store.markers.set(B, { name: 'bravo-prod' });
    const dirs = { [A]: new Directory(A, 'alpha-prod'), [B]: new Directory(B, 'bravo-prod') };
    const { children, deltas, shown, said } = await run(store, dirs);
    // B had no news of its own in its child: no alias read, the marker's name instead.
    expect(children.find((d) => d.accountId === B)!.changes).toEqual([]);
    expect(dirs[B]!.aliasCalls).toBe(0);
    expect(dirs[A]!.aliasCalls).toBe(1);
    expect(deltas.find((d) => d.accountId === B)!.changes.length).toBeGreaterThan(0);
    expect(said.some((c) => c.finding.accountId === B)).toBe(true);
    expect(shown).toEqual([{ [A]: 'alpha-prod', [B]: 'bravo-prod' }]);
    // The names read are the ones kept: no marker written again.
    expect(store.marked).toEqual([]);
  });

  it("a marker written before the name was kept gets it from the account's first run with news", async () => {
    const store = new Store();
    store.states.set(A, await announced(A, 25));
    store.states.set(B, await announced(B, 1));
    store.markers.set(A, {});
    store.markers.set(B, {});
    const dirs = { [A]: new Directory(A, 'alpha-prod'), [B]: new Directory(B, 'bravo-prod') };
    const first = await run(store, dirs);
    // B, pulled in without news, is shown by its id (nothing kept yet); A's alias, read, is kept.
    expect(first.shown).toEqual([{ [A]: 'alpha-prod' }]);
    expect(store.marked).toEqual([[A]]);
    expect(store.markers.get(A)).toEqual({ name: 'alpha-prod' });
    expect(store.markers.get(B)).toEqual({});
  });

  it('an alias changed or removed is written again when it is read', async () => {
    const store = new Store();
    store.states.set(A, await announced(A, 25));
    store.markers.set(A, { name: 'old-alias' });
    const dirs = { [A]: new Directory(A, 'new-alias') };
    await run(store, dirs);
    expect(store.markers.get(A)).toEqual({ name: 'new-alias' });
    // A day later, its reminders due again, the alias is gone: the marker keeps no name.
    store.states.set(A, await announced(A, 25));
    dirs[A]!.alias = undefined;
    const { shown } = await run(store, dirs);
    expect(shown).toEqual([{}]);
    expect(store.markers.get(A)).toEqual({});
  });

  it('a marker whose name cannot be read is written again once the alias is read, even when there is none', async () => {
    const store = new Store();
    store.states.set(A, await announced(A, 25));
    store.markers.set(A, { unreadable: 'accountName: expected a string attribute (S)' });
    await run(store, { [A]: new Directory(A, undefined) });
    expect(store.marked).toEqual([[A]]);
    expect(store.markers.get(A)).toEqual({});
  });

  it("an Organizations account's marker whose name cannot be read is written again with its given name", async () => {
    const store = new Store();
    store.states.set(A, await announced(A, 1));
    store.markers.set(A, { unreadable: 'accountName: expected a string attribute (S)' });
    const dirs = { [A]: new Directory(A, 'alias-not-read') };
    await run(store, dirs, { [A]: 'Payments production' });
    expect(dirs[A]!.aliasCalls).toBe(0);
    expect(store.markers.get(A)).toEqual({ name: 'Payments production' });
    // Readable since: not written again.
    store.marked.length = 0;
    await run(store, dirs, { [A]: 'Payments production' });
    expect(store.marked).toEqual([]);
  });

  it('a first scan marks the account known with the alias it was shown by', async () => {
    const store = new Store();
    const dirs = { [A]: new Directory(A, 'alpha-prod') };
    const { children } = await run(store, dirs);
    expect(children[0]!.baseline).toBe(true);
    expect(store.marked).toEqual([[A]]);
    expect(store.markers.get(A)).toEqual({ name: 'alpha-prod' });
  });
});
