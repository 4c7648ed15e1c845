import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStack } from '../../../shared/src/stack/parse.ts';
import { SourceMapStore } from './store.ts';
import { Symbolicator } from './symbolicate.ts';

describe('Symbolicator notes', () => {
  it('says a frame lost its position because its stack line was cut, not that it never had one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socorrito-sym-'));
    try {
      const symbolicator = new Symbolicator({ store: new SourceMapStore(dir, dir), cacheBytes: 1024 * 1024 });
      const [cut] = parseStack(`Error\n    at f (https://a.example/${'a'.repeat(5000)}.js:1:2)`);
      expect((await symbolicator.symbolicate(cut!, null, null)).notes).toEqual([
        expect.stringMatching(/^not symbolicated: the frame's stack line is over 1024 characters and was cut short/),
      ]);
      const [native] = parseStack('Error\n    at Array.map (<anonymous>)');
      expect((await symbolicator.symbolicate(native!, null, null)).notes).toEqual(['not symbolicated: the frame has no script position']);
      symbolicator.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
