import { CompositeSink } from '../../../lambda/adapters/sinks';
import type { Change } from '../../../lambda/core/state';
import type { EventSink } from '../../../lambda/ports';

const change = { kind: 'opened', finding: { id: 'a' } } as unknown as Change;

describe('CompositeSink', () => {
  it('sends each chunk to every sink in order, and stops at the first failure', async () => {
    const seen: string[] = [];
    const ok = (name: string): EventSink => ({ publish: async (c) => void seen.push(`${name}:${c.length}`) });
    const failing: EventSink = {
      publish: async () => {
        seen.push('failing');
        throw new Error('down');
      },
    };
    await new CompositeSink([ok('a'), ok('b')]).publish([change]);
    expect(seen).toEqual(['a:1', 'b:1']);
    seen.length = 0;
    await expect(new CompositeSink([ok('a'), failing, ok('c')]).publish([change])).rejects.toThrow('down');
    expect(seen).toEqual(['a:1', 'failing']);
  });
});
