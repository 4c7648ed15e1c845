import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceMapGenerator } from 'source-map';
import { describe, expect, it } from 'vitest';
import { SourceMapStore } from './store.ts';
import { Symbolicator } from './symbolicate.ts';

describe('context lines', () => {
  it('gives up to five lines around the original line, CRLF sources included, the same on every frame', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socorrito-context-'));
    try {
      const store = new SourceMapStore(dir, dir);
      await store.open();
      const source = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\r\n') + '\r\n';
      const gen = new SourceMapGenerator({ file: 'app.js' });
      for (const line of [1, 3, 12]) gen.addMapping({ generated: { line, column: 0 }, original: { line, column: 0 }, source: 'src/app.ts' });
      gen.setSourceContent('src/app.ts', source);
      await store.upload('app', '1', [
        { name: '~/app.js', data: Buffer.from('a;\nb;\nc;\n//# sourceMappingURL=app.js.map\n') },
        { name: '~/app.js.map', data: Buffer.from(gen.toString()) },
      ]);
      const symbolicator = new Symbolicator({ store, cacheBytes: 1 << 20 });
      const at = async (line: number) =>
        (await symbolicator.symbolicate({ function: null, url: 'https://a.example/app.js', line, column: 1 }, 'app', '1')).original!.context;
      expect(await at(1)).toEqual({ pre: [], line: 'line 1', post: ['line 2', 'line 3', 'line 4', 'line 5', 'line 6'] });
      expect(await at(3)).toEqual({ pre: ['line 1', 'line 2'], line: 'line 3', post: ['line 4', 'line 5', 'line 6', 'line 7', 'line 8'] });
      // The last line, twice: the second answer comes from what the first one kept.
      for (let i = 0; i < 2; i++) expect(await at(12)).toEqual({ pre: ['line 7', 'line 8', 'line 9', 'line 10', 'line 11'], line: 'line 12', post: [''] });
      symbolicator.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
