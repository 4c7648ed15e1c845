import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceMapGenerator } from 'source-map';
import { describe, expect, it } from 'vitest';
import { ByteLruCache } from './cache.ts';
import { SourceMapStore } from './store.ts';
import { parsedMapBytes, Symbolicator } from './symbolicate.ts';

describe('ByteLruCache', () => {
  it('evicts the least recently used values past its byte budget and frees each', () => {
    const freed: string[] = [];
    const cache = new ByteLruCache<string>(100, (v) => freed.push(v));
    cache.set('a', 'A', 40);
    cache.set('b', 'B', 40);
    expect(cache.get('a')).toBe('A'); // a is now the most recently used
    cache.set('c', 'C', 40);
    expect(freed).toEqual(['B']);
    expect(cache.has('a') && cache.has('c') && !cache.has('b')).toBe(true);
    expect(cache.bytes).toBe(80);
    // Replacing a key frees the old value; a value larger than the budget is not kept.
    cache.set('a', 'A2', 10);
    expect(freed).toEqual(['B', 'A']);
    expect(cache.set('huge', 'H', 101)).toBe(false);
    expect(freed).toEqual(['B', 'A', 'H']);
    expect(cache.bytes).toBe(50);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(freed.sort()).toEqual(['A', 'A2', 'B', 'C', 'H']);
  });
});

describe('Symbolicator cache', () => {
  it('keeps parsed maps within the byte budget and destroys the consumers it evicts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'socorrito-cache-'));
    try {
      const store = new SourceMapStore(dir, dir);
      await store.open();
      const files = [];
      for (let i = 0; i < 6; i++) {
        const gen = new SourceMapGenerator({ file: `s${i}.js` });
        for (let l = 1; l <= 200; l++) gen.addMapping({ generated: { line: l, column: 0 }, original: { line: l, column: 0 }, source: `src${i}.ts` });
        gen.setSourceContent(`src${i}.ts`, Array.from({ length: 200 }, (_, l) => `export const v${l} = ${l};`).join('\n'));
        files.push({ name: `~/s${i}.js`, data: Buffer.from(`var x;\n//# sourceMappingURL=s${i}.js.map\n`) }, { name: `~/s${i}.js.map`, data: Buffer.from(gen.toString()) });
      }
      await store.upload('app', '1', files);
      // Room for two and a half parsed maps, as the cache counts them (text and decoded mappings).
      const mapText = files[1]!.data.toString();
      const mapBytes = parsedMapBytes(mapText.length, (JSON.parse(mapText) as { mappings: string }).mappings.length);
      const symbolicator = new Symbolicator({ store, cacheBytes: Math.floor(mapBytes * 2.5) });
      const [release] = await store.list('app', '1');
      const shaOf = (key: string): string => release!.files.find((f) => f.key === key)!.sha256;
      // Watch the first consumer: eviction must destroy it (source-map 0.7 holds WASM memory).
      await symbolicator.symbolicate({ function: null, url: 'https://a.example/s0.js', line: 10, column: 1 }, 'app', '1');
      const first = symbolicator.maps.get(`map:${shaOf('~/s0.js.map')}`)!;
      let destroyed = 0;
      const destroy = first.consumer.destroy.bind(first.consumer);
      first.consumer.destroy = () => {
        destroyed++;
        destroy();
      };
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 6; i++) {
          const s = await symbolicator.symbolicate({ function: null, url: `https://a.example/s${i}.js`, line: 10, column: 1 }, 'app', '1');
          expect(s.original).toMatchObject({ file: `src${i}.ts`, line: 10 });
        }
        expect(symbolicator.maps.size).toBeLessThanOrEqual(2);
        expect(symbolicator.maps.bytes).toBeLessThanOrEqual(symbolicator.maps.maxBytes);
      }
      expect(destroyed).toBe(1);
      expect(symbolicator.maps.evictions).toBeGreaterThanOrEqual(10);
      symbolicator.close();
      expect(symbolicator.maps.size).toBe(0);
      expect(symbolicator.maps.bytes).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
