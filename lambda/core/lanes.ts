/**
 * A finding's lifecycle in each channel that announces it (docs/alerts.md, "Routing" and "Mirrors").
 * Pure: the channels a finding goes to come from lambda/core/routing.ts `channelsFor`.
 *
 * Each channel has its own state of a finding, its lane (`FindingState.channel`; a state without a
 * channel, written before routing, is the default channel's): a finding announced in Slack and in
 * Teams is opened, reminded, escalated and resolved in each, and a channel that could not be reached
 * hears what it missed when it can be, without the other one hearing it twice.
 *
 * - In a channel the finding goes to, the changes are those of lambda/core/diff.ts against that
 *   channel's lane.
 * - A channel the finding goes to that has not heard of it while another one has (a route, a tag or
 *   a mirror changed, or its message was not delivered) is reminded of it at once (or told it is
 *   worse), as still open since it was first seen, not told it is new; on the account's first
 *   contact it gets it as new, for its own baseline summary. A change in a mirror is marked
 *   `mirror`: a finding's events follow its own channel's lifecycle, one event per change.
 * - A channel the finding no longer goes to hears nothing more about it: its lane is closed silently
 *   (`retired`) once the finding's changes of the run were delivered. A notice (said once) keeps
 *   its lane where it was said and is not said again elsewhere.
 * - A finding that resolved is announced resolved in each channel that has it open. A lane of a
 *   channel the configuration no longer has (a route or a mirror removed) is closed; if no channel
 *   the configuration has holds the finding open, its resolution goes to the finding's channels now.
 */
import { ANNOUNCED_ONCE, compareChanges, type DiffOptions, diff, pages } from './diff';
import type { Change, FindingState } from './state';
import { type Finding, severityRank } from './types';

/** An account's changes, each with the channel that announces it, and the lanes the run closes. */
export interface LaneChanges {
  /** In diff order (lambda/core/diff.ts `compareChanges`), each with its `channel`. */
  readonly changes: Change[];
  /**
   * Lanes of channels the finding no longer goes to, as they are to be remembered (resolved, the
   * time of this run): written once all of the finding's changes of the run were delivered, so a
   * channel whose reminder was not delivered still has a finding to be reminded of next run.
   */
  readonly retired: FindingState[];
}

/** The channel whose state `state` is: its own, or (written before routing) the default channel's. */
export const laneOf = (state: FindingState, defaultChannel: string): string =>
  state.channel ?? defaultChannel;

/**
 * Whether a resolved state's resolution was announced: its last write was that announcement (its
 * scan time is the time it was announced). A lane closed silently, because its finding went to
 * another channel, keeps the time of its last announcement, and so does a state retired by a
 * migration: neither counts as a resolution its channel heard of.
 */
export const resolutionAnnounced = (state: FindingState): boolean =>
  state.status === 'resolved' && state.lastNotifiedAt === state.scanTime;

/** Whether a change is about its channel's own lane (a reminder due there), not a finding that came from another channel. */
export const fromOwnLane = (change: Change, defaultChannel: string): boolean =>
  change.previous !== undefined &&
  laneOf(change.previous, defaultChannel) === (change.channel ?? defaultChannel);

/**
 * The changes of one account's findings in every channel of `configured`, against the account's
 * remembered `states` (every lane of every finding).
 * @param channelsOf the channels a finding goes to now (routing.ts `channelsFor`), each configured
 */
export interface LaneOptions extends DiffOptions {
  /**
   * The account's first contact (its baseline): a channel that has not heard of a finding another
   * channel recorded (a mirror that could not be reached) gets it as new, for its own baseline
   * summary, not as a reminder. @default false
   */
  readonly firstContact?: boolean;
}

export function laneChanges(
  findings: readonly Finding[],
  states: readonly FindingState[],
  now: Date,
  options: LaneOptions,
  channelsOf: (finding: Finding) => readonly string[],
  defaultChannel: string,
  configured: readonly string[],
): LaneChanges {
  const lanes = new Map<string, FindingState[]>();
  const byId = new Map<string, FindingState[]>();
  for (const s of states) {
    push(lanes, laneOf(s, defaultChannel), s);
    push(byId, s.id, s);
  }
  const targets = new Map<string, readonly string[]>();
  const current = new Map<string, Finding>();
  for (const f of findings) {
    if (!targets.has(f.id)) targets.set(f.id, channelsOf(f));
    if (!pages(f)) continue;
    const seen = current.get(f.id);
    if (!seen || severityRank(f.severity) > severityRank(seen.severity)) current.set(f.id, f);
  }
  const retiredAt = now.toISOString();
  const retire = (lane: FindingState): FindingState => ({ ...lane, status: 'resolved', scanTime: retiredAt });
  const changes: Change[] = [];
  const retired: FindingState[] = [];

  // A change in a channel that mirrors the finding's own: its events are the own channel's.
  // (A finding resolved is gone: its channels are those of the finding as it was announced.)
  const mirrored = (c: Change, channel: string) => {
    const to = targets.get(c.finding.id) ?? channelsOf(c.previous?.finding ?? c.finding);
    return to[0] !== channel ? { mirror: true as const } : {};
  };
  for (const channel of configured) {
    const here = findings.filter((f) => targets.get(f.id)?.includes(channel));
    const own = new Map((lanes.get(channel) ?? []).map((s) => [s.id, s]));
    for (const c of diff(here, lanes.get(channel) ?? [], now, options)) {
      const found = current.get(c.finding.id);
      if (c.kind === 'resolved' && found) {
        // Still open, but no longer announced here: this channel hears nothing more of it.
        if (!ANNOUNCED_ONCE.has(found.rule)) retired.push(retire(c.previous!));
        continue;
      }
      // On an account's first contact every channel gets its baseline: nothing is "still open" yet.
      if (c.kind === 'opened' && found && !options.firstContact) {
        // Open elsewhere, in the lifecycle this channel has not heard of (not one it saw resolved).
        const resolvedHere = own.get(found.id)?.lastNotifiedAt;
        const elsewhere = (byId.get(found.id) ?? [])
          .filter(
            (s) =>
              s.status === 'open' &&
              laneOf(s, defaultChannel) !== channel &&
              (resolvedHere === undefined || s.firstSeen > resolvedHere),
          )
          .sort((a, b) => (a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : 0));
        const previous = elsewhere[0];
        if (previous && ANNOUNCED_ONCE.has(found.rule)) {
          // A notice is said once: not again in a channel the finding moved to, but a mirror that
          // missed it (the channel that said it is still one of the finding's) hears it.
          const to = targets.get(found.id) ?? [];
          if (!elsewhere.some((s) => to.includes(laneOf(s, defaultChannel)))) continue;
        } else if (previous) {
          const worse = severityRank(found.severity) > severityRank(previous.notifiedSeverity);
          const knownId = previous.finding.accessKeyId;
          const finding =
            !c.finding.accessKeyId && knownId ? { ...c.finding, accessKeyId: knownId } : c.finding;
          changes.push({
            kind: worse ? 'escalated' : 'reminder',
            finding,
            previous,
            channel,
            ...mirrored(c, channel),
          });
          continue;
        }
      }
      changes.push({ ...c, channel, ...mirrored(c, channel) });
    }
  }

  // Lanes of channels the configuration no longer has.
  const known = new Set(configured);
  const resolvedIn = new Set(
    changes.filter((c) => c.kind === 'resolved').map((c) => key(c.finding.id, c.channel!)),
  );
  for (const [channel, held] of lanes) {
    if (known.has(channel)) continue;
    for (const lane of held) {
      if (lane.status !== 'open') continue;
      const found = current.get(lane.id);
      if (found && ANNOUNCED_ONCE.has(found.rule)) continue;
      retired.push(retire(lane));
      if (found) continue;
      const openHere = (byId.get(lane.id) ?? []).some(
        (s) => s.status === 'open' && known.has(laneOf(s, defaultChannel)),
      );
      if (openHere) continue;
      for (const [i, to] of channelsOf(lane.finding).entries()) {
        if (resolvedIn.has(key(lane.id, to))) continue;
        resolvedIn.add(key(lane.id, to));
        changes.push({
          kind: 'resolved',
          finding: lane.finding,
          previous: lane,
          channel: to,
          ...(i > 0 ? { mirror: true as const } : {}),
        });
      }
    }
  }
  return { changes: changes.sort(compareChanges), retired };
}

const key = (id: string, channel: string) => `${id}\n${channel}`;

function push<T>(map: Map<string, T[]>, k: string, value: T): void {
  const list = map.get(k);
  if (list) list.push(value);
  else map.set(k, [value]);
}

/**
 * One state per finding id for what is decided before the channels are known (which findings to
 * confirm live, since when an exemption runs, what enforcement remembers): of its open lanes the one
 * least said (lowest severity announced, then first seen earliest), else any.
 */
export function representatives(states: readonly FindingState[]): Map<string, FindingState> {
  const chosen = new Map<string, FindingState>();
  for (const s of states) {
    const best = chosen.get(s.id);
    if (!best || better(s, best)) chosen.set(s.id, s);
  }
  return chosen;
}

function better(a: FindingState, b: FindingState): boolean {
  if ((a.status === 'open') !== (b.status === 'open')) return a.status === 'open';
  const bySeverity = severityRank(a.notifiedSeverity) - severityRank(b.notifiedSeverity);
  if (bySeverity !== 0) return bySeverity < 0;
  return a.firstSeen < b.firstSeen;
}
