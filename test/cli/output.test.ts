/** The CLI's terminal handling and progress (bin/cli/output.ts), and the scan's confirmation progress. */
import { EventEmitter } from 'node:events';
import { systemErrorSentence, userPath } from '../../bin/cli/input';
import { confirmProgress, progressLine, terminalOf } from '../../bin/cli/output';
import { DEFAULT_THRESHOLDS } from '../../lambda/core/policy';
import type { IamDirectory } from '../../lambda/ports';
import { scan } from '../../lambda/scan';
import { report } from '../support/report-builder';

describe('progressLine', () => {
  it('gives the count, the rate and the time left', () => {
    expect(progressLine(120, 800, 10_000)).toBe(
      'confirming access keys: 120/800 users, 12.0/s, about 57s left',
    );
    expect(progressLine(100, 1000, 10_000)).toBe(
      'confirming access keys: 100/1000 users, 10.0/s, about 1m30s left',
    );
    expect(progressLine(800, 800, 10_000)).toBe('confirming access keys: 800/800 users, 80.0/s');
    expect(progressLine(1, 1, 0)).toBe('confirming access keys: 1/1 user, 0.0/s');
  });
});

class FakeStream extends EventEmitter {
  readonly written: string[] = [];
  constructor(readonly isTTY: boolean) {
    super();
  }
  write(text: string) {
    this.written.push(text);
    return true;
  }
}

describe('confirmProgress', () => {
  it('shows nothing when stderr is not a terminal', () => {
    expect(confirmProgress(new FakeStream(false) as unknown as NodeJS.WriteStream)).toBeUndefined();
  });

  it('redraws one line on a terminal, at most every interval, and ends it when done', () => {
    const stream = new FakeStream(true);
    let now = 0;
    const listener = confirmProgress(stream as unknown as NodeJS.WriteStream, () => now, 200)!;
    now = 1000;
    listener(10, 30);
    now = 1100;
    listener(11, 30); // too soon: skipped
    now = 2000;
    listener(30, 30);
    expect(stream.written).toEqual([
      '\r\x1b[2Kcredwatch: confirming access keys: 10/30 users, 10.0/s, about 2s left',
      '\r\x1b[2Kcredwatch: confirming access keys: 30/30 users, 15.0/s\n',
    ]);
  });
});

describe('terminalOf', () => {
  it('uses the width of a terminal and colours it unless NO_COLOR is set', () => {
    expect(terminalOf({ isTTY: true, columns: 120 }, {})).toEqual({ width: 120, colour: true });
    expect(terminalOf({ isTTY: true, columns: 120 }, { NO_COLOR: '1' })).toEqual({
      width: 120,
      colour: false,
    });
    expect(terminalOf({ isTTY: true, columns: 120 }, { NO_COLOR: '' })).toEqual({ width: 120, colour: true });
  });

  it('has no width limit and no colour on a pipe or file, unless COLUMNS says a width', () => {
    expect(terminalOf({ isTTY: false }, {})).toEqual({ width: undefined, colour: false });
    expect(terminalOf({}, { COLUMNS: '100' })).toEqual({ width: 100, colour: false });
    expect(terminalOf({}, { COLUMNS: 'wide' })).toEqual({ width: undefined, colour: false });
  });
});

describe('input helpers', () => {
  it.each([
    ['ENOENT', 'no such file'],
    ['EISDIR', 'it is a directory, not a file'],
    ['EACCES', 'permission denied'],
    ['EPERM', 'permission denied'],
    ['ENOTDIR', 'a part of the path is not a directory'],
  ])('says %s as "%s"', (code, sentence) => {
    expect(systemErrorSentence(Object.assign(new Error('x'), { code }))).toBe(sentence);
  });

  it('reads a relative path from INIT_CWD (npm), else the working directory', () => {
    expect(userPath('r.csv', { INIT_CWD: '/home/me/audit' })).toBe('/home/me/audit/r.csv');
    expect(userPath('/abs/r.csv', { INIT_CWD: '/home/me' })).toBe('/abs/r.csv');
    expect(userPath('r.csv', {})).toBe(`${process.cwd()}/r.csv`);
  });
});

describe('scan: confirmation progress', () => {
  it('reports each user confirmed live, done of total', async () => {
    const users = ['a', 'b', 'c'];
    const directory: IamDirectory = {
      listUsers: async () =>
        users.map((name) => ({
          name,
          arn: `arn:aws:iam::123456789012:user/${name}`,
          createdAt: new Date('2024-01-01T00:00:00Z'),
          tags: {},
        })),
      listAccessKeys: async () => [
        { id: 'AKIAEXAMPLE', active: true, createdAt: new Date('2020-01-01T00:00:00Z') },
      ],
      getAccessKeyLastUsed: async () => null,
      accountAlias: async () => undefined,
    };
    const csv = report([
      { user: '<root_account>', mfa_active: 'true' },
      ...users.map((user) => ({
        user,
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2020-01-01T00:00:00+00:00',
      })),
    ]);
    const calls: [number, number][] = [];
    await scan({
      report: { getReport: async () => ({ csv, generatedAt: null }) },
      directory,
      thresholds: DEFAULT_THRESHOLDS,
      now: new Date('2026-11-23T12:00:00Z'),
      concurrency: 2,
      onConfirmProgress: (done, total) => calls.push([done, total]),
    });
    expect(calls).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });
});
