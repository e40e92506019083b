/**
 * Where the CLI writes: stdout (ending quietly when the reader goes away, e.g. `| head`), a file
 * (`--output`), and progress on stderr when a person watches it.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { systemErrorSentence, UsageError, userPath } from './input';

/**
 * Ends the process quietly with `code` when stdout or stderr is closed by its reader (EPIPE):
 * `credwatch ... | head` prints what head shows and no stack trace. `code` is read when the pipe
 * breaks, so it can be set once the result is known.
 */
export function exitQuietlyOnEpipe(code: () => number): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(code());
      throw err;
    });
  }
}

/** Pieces are gathered up to this many characters before each write. */
const WRITE_BATCH_CHARS = 1 << 20;

/**
 * Writes `text` (one string, or its pieces in order) to FILE, whole or not at all: into a temporary
 * file beside it, renamed into place once every piece is written; on failure the temporary file is
 * removed and FILE is left as it was. Pieces are written as they come, so a document of 100 MB
 * is never held whole in memory.
 */
export function writeOutputFile(file: string, text: string | Iterable<string>): void {
  const path = userPath(file);
  const temporary = join(dirname(path), `.${process.pid}.credwatch.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'w');
    if (typeof text === 'string') {
      writeAll(fd, text);
    } else {
      let batch = '';
      for (const piece of text) {
        batch += piece;
        if (batch.length >= WRITE_BATCH_CHARS) {
          writeAll(fd, batch);
          batch = '';
        }
      }
      writeAll(fd, batch);
    }
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (err) {
    try {
      if (fd !== undefined) closeSync(fd);
      rmSync(temporary, { force: true });
    } catch {
      // The error that stopped the write is the one to report.
    }
    // A system error (ENOSPC, EACCES, ...) is named; anything else (a renderer's bug) is itself.
    if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
    throw new UsageError(`cannot write ${file}: ${systemErrorSentence(err)}`, { cause: err });
  }
}

/** Writes all of `text` as UTF-8 (writeSync may write less than asked). */
function writeAll(fd: number, text: string): void {
  if (text === '') return;
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** How stdout shows the table: its width (undefined: no limit) and whether it takes colour. */
export interface Terminal {
  readonly width: number | undefined;
  readonly colour: boolean;
}

/**
 * A terminal's width is its `columns`; a pipe or a file has no width limit unless `COLUMNS` says
 * one. Colour only on a terminal, and never when `NO_COLOR` is set to anything but "" (no-color.org).
 */
export function terminalOf(
  stream: { readonly isTTY?: boolean; readonly columns?: number },
  env: NodeJS.ProcessEnv = process.env,
): Terminal {
  const fromEnv = Number(env.COLUMNS);
  const width =
    stream.isTTY && stream.columns
      ? stream.columns
      : Number.isInteger(fromEnv) && fromEnv > 0
        ? fromEnv
        : undefined;
  return { width, colour: stream.isTTY === true && !env.NO_COLOR };
}

/** `1m05s`, `42s`. */
function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One progress line: `confirming access keys: 120/800 users, 12.0/s, about 57s left`. Pure. */
export function progressLine(done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const eta = rate > 0 && done < total ? `, about ${duration((total - done) / rate)} left` : '';
  const unit = total === 1 ? 'user' : 'users';
  return `confirming access keys: ${done}/${total} ${unit}, ${rate.toFixed(1)}/s${eta}`;
}

/**
 * A progress listener that redraws one stderr line (at most every `intervalMs`) while a person
 * watches; nothing when stderr is not a terminal (CI logs, redirects).
 */
export function confirmProgress(
  stream: NodeJS.WriteStream = process.stderr,
  clock: () => number = Date.now,
  intervalMs = 200,
): ((done: number, total: number) => void) | undefined {
  if (!stream.isTTY) return undefined;
  const started = clock();
  let last = 0;
  return (done, total) => {
    const now = clock();
    if (done < total && now - last < intervalMs) return;
    last = now;
    stream.write(
      `\r\x1b[2Kcredwatch: ${progressLine(done, total, now - started)}${done === total ? '\n' : ''}`,
    );
  };
}
