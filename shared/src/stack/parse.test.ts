import { describe, expect, it } from 'vitest';
import { MAX_FRAME_LINE_CHARS, MAX_STACK_CHARS, parseStack } from './parse.ts';

const pick = (stack: string): unknown[] => parseStack(stack).map(({ raw: _raw, ...f }) => f);

// Stacks as the browsers print them (Firefox ESR 153 and Chromium on this machine, Safari 17).
describe('parseStack', () => {
  it('reads Firefox frames: named, anonymous, async*, eval and Function', () => {
    expect(
      pick(
        [
          'total@https://shop.example/static/app.3f9a1c.js:1:1042',
          '@https://shop.example/static/app.3f9a1c.js:1:2000',
          'async*checkout@https://shop.example/static/app.3f9a1c.js:2:15',
          'run@https://shop.example/static/app.js line 12 > eval:1:30',
          'anonymous@https://shop.example/static/app.js line 40 > Function:3:7',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      { function: 'total', url: 'https://shop.example/static/app.3f9a1c.js', line: 1, column: 1042 },
      { function: null, url: 'https://shop.example/static/app.3f9a1c.js', line: 1, column: 2000 },
      { function: 'checkout', url: 'https://shop.example/static/app.3f9a1c.js', line: 2, column: 15, async: true, awaited: true },
      { function: 'run', url: 'https://shop.example/static/app.js', line: 12, column: null, eval: true },
      { function: 'anonymous', url: 'https://shop.example/static/app.js', line: 40, column: null, eval: true },
    ]);
  });

  it('takes any Gecko async cause off the function name (setTimeout handler*, promise callback*, …)', () => {
    const url = 'https://shop.example/static/app.js';
    expect(
      pick(
        [
          `l@${url}:1:5`,
          `setTimeout handler*l@${url}:1:90`,
          `promise callback*checkout@${url}:2:15`,
          `EventListener.handleEvent*@${url}:3:1`,
          `requestAnimationFrame handler*draw@${url}:4:2`,
          `@async*save@${url}:5:3`,
        ].join('\n'),
      ),
    ).toEqual([
      { function: 'l', url, line: 1, column: 5 },
      { function: 'l', url, line: 1, column: 90, async: true },
      { function: 'checkout', url, line: 2, column: 15, async: true },
      { function: null, url, line: 3, column: 1, async: true },
      { function: 'draw', url, line: 4, column: 2, async: true },
      // Only an await (`async*`, older `@async*`) is marked as one.
      { function: 'save', url, line: 5, column: 3, async: true, awaited: true },
    ]);
  });

  it('reads Chrome frames: message lines skipped, new, async, eval origins, <anonymous>, native', () => {
    expect(
      pick(
        [
          "TypeError: Cannot read properties of undefined (reading 'total')",
          '  at the cart page',
          '    at Cart.total (https://shop.example/static/app.js:1:1042)',
          '    at new Cart (https://shop.example/static/app.js:1:90)',
          '    at https://shop.example/static/app.js:1:2000',
          '    at async checkout (https://shop.example/static/app.js:2:15)',
          '    at eval (eval at run (https://shop.example/static/app.js:12:5), <anonymous>:1:30)',
          '    at Array.forEach (<anonymous>)',
          '    at Array.map (native)',
        ].join('\n'),
      ),
    ).toEqual([
      { function: 'Cart.total', url: 'https://shop.example/static/app.js', line: 1, column: 1042 },
      { function: 'new Cart', url: 'https://shop.example/static/app.js', line: 1, column: 90 },
      { function: null, url: 'https://shop.example/static/app.js', line: 1, column: 2000 },
      { function: 'async checkout', url: 'https://shop.example/static/app.js', line: 2, column: 15, async: true, awaited: true },
      { function: 'eval', url: 'https://shop.example/static/app.js', line: 12, column: 5, eval: true },
      { function: 'Array.forEach', url: '<anonymous>', line: null, column: null },
      { function: 'Array.map', url: 'native', line: null, column: null },
    ]);
  });

  it('reads Safari frames: global code, [native code], eval code lines skipped', () => {
    expect(
      pick(['total@https://shop.example/app.js:1:1042', 'eval code', 'eval@[native code]', 'https://shop.example/app.js:3:9', 'global code@https://shop.example/app.js:9:1'].join('\n')),
    ).toEqual([
      { function: 'total', url: 'https://shop.example/app.js', line: 1, column: 1042 },
      { function: 'eval', url: '[native code]', line: null, column: null },
      { function: null, url: 'https://shop.example/app.js', line: 3, column: 9 },
      { function: 'global code', url: 'https://shop.example/app.js', line: 9, column: 1 },
    ]);
  });

  it('keeps @ inside Gecko function names and drops old argument lists', () => {
    expect(pick('obj["@fn"]@https://a.example/x.js:10:29\nbar(1)@https://a.example/x.js:13\n()@https://a.example/x.js:4')).toEqual([
      { function: 'obj["@fn"]', url: 'https://a.example/x.js', line: 10, column: 29 },
      { function: 'bar', url: 'https://a.example/x.js', line: 13, column: null },
      { function: null, url: 'https://a.example/x.js', line: 4, column: null },
    ]);
  });

  it('names data: scripts by type instead of copying the script into the URL', () => {
    const [frame] = parseStack("Error: x\n    at f (data:text/javascript,throw new Error('secret page data'):1:7)");
    expect(frame).toMatchObject({ function: 'f', url: '<data:text/javascript>', line: null, column: null });
  });

  it('reads a chain of Function and eval of any length in one pass, with no exponential backtracking', () => {
    const chain = ' > Function line 1'.repeat(50);
    expect(parseStack(`f@https://a.example/x.js line 7${chain} > Function:1:1`)).toMatchObject([{ function: 'f', url: 'https://a.example/x.js', line: 7, eval: true }]);
    // A line that almost matches used to try 2^50 ways to read the chain before giving up.
    const [almost] = parseStack(`f@https://a.example/x.js line 7${chain} > Functio:1:1`);
    expect(almost).toMatchObject({ function: 'f', line: 1, column: 1 });
    expect(almost!.eval).toBeUndefined();
  });

  it('cuts absurdly long lines before parsing and survives hostile input', () => {
    const long = `    at f (https://a.example/${'a'.repeat(5000)}.js:1:2)`;
    const [frame] = parseStack(`Error\n${long}`);
    expect(frame!.raw.length).toBeLessThanOrEqual(MAX_FRAME_LINE_CHARS);
    expect(frame!.cut).toBe(true); // so the report can say why it has no position
    expect(parseStack('Error\n    at f (https://a.example/x.js:1:2)')[0]!.cut).toBeUndefined();
    expect(parseStack('')).toEqual([]);
    expect(parseStack('@'.repeat(100_000)).length).toBeLessThanOrEqual(1);
    // Lines no engine prints are not handed to the backtracking regexes, and only the first
    // MAX_STACK_CHARS of a stack are read.
    expect(parseStack(`Error\n    at ${'('.repeat(1000)}:1:2)`)).toEqual([]);
    expect(parseStack(`Error\n    at ${'a '.repeat(400)}(https://a.example/x.js:1:2)`)).toEqual([]);
    const junk = `Error\n${'    at junk\n'.repeat(Math.ceil(MAX_STACK_CHARS / 12))}    at late (https://a.example/x.js:1:2)`;
    expect(parseStack(junk)).toEqual([]);
  });
});
