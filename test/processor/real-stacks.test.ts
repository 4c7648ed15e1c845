// Stacks recorded from the real browsers on this machine (Firefox ESR 153, Chromium 156) for
// the same five errors: constructors, async functions, eval, Function and callbacks. Each
// parses into the right frames, and each error gets one signature in both browsers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStack } from '../../shared/src/stack/parse.ts';
import { processCrash } from '../../receiver/src/processor/process-crash.ts';
import { loadTuning } from '../../receiver/src/processor/tuning.ts';
import { REPO_ROOT } from '../helpers/receiver.ts';

const recorded = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/stacks/real-browsers.json'), 'utf8')) as Record<string, Record<string, string>>;
const FIREFOX = recorded['firefox/153.8.0']!;
const CHROMIUM = recorded['Chrome/156.0.8078.108']!;
const LIB = 'http://shop.example/static/lib.js';
const PPTR = 'pptr:evaluate;file%3A%2F%2F%2Fcapture.mts%3A1%3A537';

/** `fn@url:line:col` per frame, `!` for async, `~` for eval: compact and easy to read against lib.js. */
const compact = (stack: string): string[] =>
  parseStack(stack).map((f) => `${f.async ? '!' : ''}${f.eval ? '~' : ''}${f.function ?? '?'}@${f.url === LIB ? 'lib' : f.url === PPTR ? 'pptr' : f.url}:${f.line}:${f.column}`);

describe('stacks recorded from Firefox 153 and Chromium 156', () => {
  it('parses Firefox frames', () => {
    expect(compact(FIREFOX.viaNew!)).toEqual(['Cart@lib:3:23', 'viaNew@lib:7:10', '?@pptr:1:80', '?@pptr:3:3']);
    expect(compact(FIREFOX.asyncOuter!)).toEqual(['asyncInner@lib:15:9', '!asyncOuter@lib:11:16', '!?@pptr:1:80', '?@pptr:3:3']);
    expect(compact(FIREFOX.viaEval!)).toEqual(['~evald@lib:18:null', '~eval@lib:18:null', 'viaEval@lib:18:10', '?@pptr:1:80', '!?@pptr:3:3']);
    expect(compact(FIREFOX.viaFunction!)).toEqual(['~anonymous@lib:21:null', 'viaFunction@lib:21:52', '?@pptr:1:80', '!?@pptr:3:3']);
    expect(compact(FIREFOX.viaMap!)).toEqual(['viaMap/<@lib:25:11', 'viaMap@lib:24:14', '?@pptr:1:80', '!?@pptr:3:3']);
  });

  it('parses Chromium frames', () => {
    expect(compact(CHROMIUM.viaNew!)).toEqual(['new Cart@lib:3:23', 'viaNew@lib:7:10', '?@pptr:1:80']);
    expect(compact(CHROMIUM.asyncOuter!)).toEqual(['asyncInner@lib:15:9', '!async asyncOuter@lib:11:10', '!?@pptr:1:74']);
    expect(compact(CHROMIUM.viaEval!)).toEqual(['~evald@lib:18:10', '~eval@lib:18:10', 'viaEval@lib:18:10', '?@pptr:1:80']);
    expect(compact(CHROMIUM.viaFunction!)).toEqual(['~eval@lib:21:10', 'viaFunction@lib:21:52', '?@pptr:1:80']);
    expect(compact(CHROMIUM.viaMap!)).toEqual(['?@lib:25:11', 'Array.map@<anonymous>:null:null', 'viaMap@lib:24:14', '?@pptr:1:80']);
  });

  it('gives each error one signature in both browsers', async () => {
    const tuning = loadTuning();
    const expected: Record<string, string> = {
      viaNew: 'TypeError: Cart | viaNew',
      asyncOuter: 'Error: asyncInner | asyncOuter',
      viaEval: 'Error: evald | viaEval',
      viaFunction: 'Error: viaFunction',
      viaMap: 'Error: viaMap',
    };
    for (const [name, signature] of Object.entries(expected)) {
      for (const stack of [FIREFOX[name]!, CHROMIUM[name]!]) {
        const processed = await processCrash(
          {
            crash_id: '00000000-0000-4000-8000-000000261129',
            submitted_at: new Date().toISOString(),
            annotations: { JSErrorType: name === 'viaNew' ? 'TypeError' : 'Error', JSStack: stack },
            files: [],
            metadata: { throttle_rule: 'test', content_encoding: 'identity' },
          },
          { symbolicator: null, tuning },
        );
        expect(processed.signature, `${name}: ${stack}`).toBe(signature);
        expect(processed.frames.filter((f) => f.url === PPTR).every((f) => f.category === 'noise')).toBe(true);
      }
    }
  });
});
