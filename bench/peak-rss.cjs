'use strict';
/**
 * This process's own peak resident set size, in KiB, for the bench's fresh processes (workers, the
 * CLI probe, the engine's step runner).
 *
 * Not `process.resourceUsage().maxRSS` alone: on Linux getrusage's ru_maxrss survives execve, so a
 * process spawned by the bench starts with the bench's own RSS at the fork as its maximum (a child of
 * a 1 GiB parent reports 1 GiB having used 40 MiB). `VmHWM` in /proc/self/status is the peak of the
 * memory the process has had since its exec: its own. Elsewhere (no /proc) maxRSS is the figure.
 * Plain CommonJS so that plain `node` scripts can load it as well as the TypeScript workers.
 */
const { readFileSync } = require('node:fs');

function peakRssKiB() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux: below
  }
  return process.resourceUsage().maxRSS;
}

module.exports = { peakRssKiB, PEAK_RSS_MODULE: __filename };
