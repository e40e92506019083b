/** `--output FILE` written piece by piece: whole or not at all. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOutputFile } from '../../bin/cli/output';

describe('writeOutputFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'credwatch-output-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the pieces, in order, as UTF-8, also past one write batch', () => {
    const file = join(dir, 'out.json');
    const pieces = Array.from({ length: 3_000 }, (_, i) => `${i}:${'é'.repeat(500)}\n`);
    writeOutputFile(file, pieces);
    expect(readFileSync(file, 'utf8')).toBe(pieces.join(''));
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('writes a string as before', () => {
    const file = join(dir, 'out.txt');
    writeOutputFile(file, 'one\n');
    expect(readFileSync(file, 'utf8')).toBe('one\n');
  });

  it('leaves the file as it was, and no temporary file, when making the pieces fails', () => {
    const file = join(dir, 'out.json');
    writeFileSync(file, 'previous');
    function* failing() {
      yield 'x'.repeat(2 << 20); // one batch written to the temporary file
      throw new Error('renderer broke');
    }
    expect(() => writeOutputFile(file, failing())).toThrow('renderer broke');
    expect(readFileSync(file, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('names the file when it cannot be written', () => {
    expect(() => writeOutputFile(join(dir, 'missing', 'out.json'), ['x'])).toThrow(
      `cannot write ${join(dir, 'missing', 'out.json')}: no such file`,
    );
  });
});
