import { describe, expect, it } from 'vitest';
import type { ProcessedFrame } from '../storage/types.ts';
import { runRules } from './pipeline.ts';
import { generateSignature, MAX_SIGNATURE_CHARS, normalizeMessage, signatureFunctionName, signatureId } from './signature.ts';
import { loadTuning } from './tuning.ts';
import { parseStack } from '../../../shared/src/stack/parse.ts';

const tuning = loadTuning();
const frame = (fn: string | null, category: ProcessedFrame['category'] = 'app', original?: string): ProcessedFrame => ({
  function: fn,
  url: 'https://a.example/app.js',
  line: 1,
  column: 1,
  category,
  ...(original ? { original: { file: 'src/a.ts', line: 1, column: 1, function: original } } : {}),
});

describe('signatures', () => {
  it('reads like "TypeError: Cart.total | checkout | onClick", from original names, skipping noise', async () => {
    const { signature, signature_id, notes } = await generateSignature({
      errorType: 'TypeError',
      message: 'x',
      frames: [frame('r.total', 'app', 'Cart.total'), frame('forEach', 'noise'), frame('s', 'app', 'checkout'), frame('a', 'app', 'onClick'), frame('main')],
      tuning,
    });
    expect(signature).toBe('TypeError: Cart.total | checkout | onClick');
    expect(signature_id).toBe(signatureId(signature));
    expect(notes).toEqual(['error-type: "" -> "TypeError"', 'frames: "TypeError" -> "TypeError: Cart.total | checkout | onClick"']);
  });

  it("tells cross-origin scripts' \"Script error.\" apart by the script's address", async () => {
    const at = (url: string | null): ProcessedFrame => ({ function: null, url, line: null, column: null, category: 'app' });
    const widget = await generateSignature({ errorType: 'Error', message: 'Script error.', frames: [at('https://cdn.example/widget.js?v=3')], tuning });
    expect(widget.signature).toBe('Error: Script error. | <cdn.example/widget.js>');
    const other = await generateSignature({ errorType: 'Error', message: 'Script error.', frames: [at('https://ads.example/tag.js')], tuning });
    expect(other.signature).toBe('Error: Script error. | <ads.example/tag.js>');
    // Without an address there is nothing to tell them apart by.
    expect((await generateSignature({ errorType: 'Error', message: 'Script error.', frames: [at(null)], tuning })).signature).toBe('Error: Script error.');
  });

  it('says why a JSErrorType it cannot use was replaced', async () => {
    const { signature, notes } = await generateSignature({ errorType: '<b>Err</b>', message: 'RangeError: too deep', frames: [], tuning });
    expect(signature.startsWith('RangeError')).toBe(true);
    expect(notes[0]).toBe('error-type: JSErrorType "<b>Err</b>" is not a type name (up to 80 letters, digits, _ $ . -); used "RangeError"');
  });

  it('gives the same signature to Firefox and Chrome spellings of the same frames', async () => {
    const chrome = await generateSignature({ errorType: 'TypeError', message: null, frames: [frame('HTMLButtonElement.onClick'), frame('async Object.checkout [as run]'), frame('new Cart')], tuning });
    const firefox = await generateSignature({ errorType: 'TypeError', message: null, frames: [frame('onClick'), frame('checkout'), frame('Cart')], tuning });
    expect(chrome.signature).toBe(firefox.signature);
    expect(signatureFunctionName(frame('test/</<'))).toBe('test');
    // Older Firefox spelled prototype methods out, and named functions in arrays of modules.
    expect(signatureFunctionName(frame('App.prototype.foo'))).toBe('App.foo');
    expect(signatureFunctionName(frame('[2]</Bar.prototype._baz/</<'))).toBe('Bar._baz');
  });

  it("leaves out the webpack 5 module keys Gecko names functions after, and any browser's name for a function known to be anonymous", async () => {
    expect(signatureFunctionName(frame('151/<'))).toBeNull();
    expect(signatureFunctionName(frame('525/</<'))).toBeNull();
    expect(signatureFunctionName(frame('151/search/e<'))).toBe('search/e');
    const known = (browserName: string): ProcessedFrame => ({ ...frame(browserName), original: { file: 'src/main.ts', line: 61, column: 25, function: null, anonymous: true } });
    expect(signatureFunctionName(known('loadUser/<'))).toBeNull();
    // Not known to be anonymous (the map named nothing): the browser's name is all there is.
    expect(signatureFunctionName({ ...frame('loadUser'), original: { file: 'src/main.ts', line: 1, column: 1, function: null } })).toBe('loadUser');
    // One bug, one signature: in either browser, and whatever key this build gave the module.
    const message = 'JSON.parse: unexpected character at line 1 column 1 of the JSON data';
    const signatures = await Promise.all(
      [[frame('525/<')], [frame('151/<')], [frame('HTMLButtonElement.<anonymous>')], [known('main/<')]].map(async (frames) => (await generateSignature({ errorType: 'SyntaxError', message, frames, tuning })).signature),
    );
    expect(new Set(signatures).size).toBe(1);
    expect(signatures[0]).not.toMatch(/\d{3}/);
  });

  it("gives webpack's failed chunk loads one signature, whatever the chunk and its caller", async () => {
    const signatures = new Set<string>();
    for (const [message, frames] of [
      ['Loading chunk 525 failed.\n(missing: https://shop.example/assets/todo.3f9a.js)', [frame('e', 'library'), frame('openTodos')]],
      ['Loading chunk 77 failed.\n(timeout: https://shop.example/assets/cart.8b1c.js)', [frame('j', 'library'), frame('e', 'library'), frame('151/<')]],
    ] as const) {
      signatures.add((await generateSignature({ errorType: 'ChunkLoadError', message, frames: [...frames], tuning })).signature);
    }
    expect([...signatures]).toEqual(['ChunkLoadError: Loading chunk failed']);
    // mini-css-extract-plugin throws a plain Error for a stylesheet chunk.
    const css = await generateSignature({ errorType: 'Error', message: 'Loading CSS chunk 9 failed.\n(/assets/9.css)', frames: [frame('n', 'library'), frame('openTodos')], tuning });
    expect(css.signature).toBe('Error: Loading CSS chunk failed');
  });

  it("gives Firefox's closures (outer/< called from outer) no place of their own, as V8 leaves them unnamed", async () => {
    const firefox = await generateSignature({ errorType: 'Error', message: 'boom', frames: [frame('inner'), frame('outer/<'), frame('outer'), frame('main')], tuning });
    const chrome = await generateSignature({ errorType: 'Error', message: 'boom', frames: [frame('inner'), frame(null), frame('outer'), frame('main')], tuning });
    expect(firefox.signature).toBe('Error: inner | outer | main');
    expect(chrome.signature).toBe(firefox.signature);
    // Direct recursion takes one place too; the frames after it are named.
    const recursion = await generateSignature({ errorType: 'RangeError', message: null, frames: [frame('visit'), frame('visit'), frame('visit'), frame('walk'), frame('main')], tuning });
    expect(recursion.signature).toBe('RangeError: visit | walk | main');
  });

  it('stops where the stack turns asynchronous, after the first awaiting function, so Firefox and Chrome agree', async () => {
    const signature = async (stack: string) => {
      const frames = parseStack(stack).map((f): ProcessedFrame => ({ ...frame(f.function), ...(f.async ? { async: true } : {}), ...(f.awaited ? { awaited: true } : {}) }));
      return (await generateSignature({ errorType: 'TypeError', message: 'x', frames, tuning })).signature;
    };
    const u = 'https://shop.example/app.js';
    // An await: V8 lists the awaiting functions; Gecko marks the first and goes on into its callers.
    const chrome = await signature(`TypeError: x\n    at inner (${u}:1:1)\n    at async load (${u}:1:2)\n    at async init (${u}:1:3)`);
    const firefox = await signature(`inner@${u}:1:1\nasync*load@${u}:1:2\ninit@${u}:1:3\nbug@${u}:1:4\nsetTimeout handler*@${u}:1:5\nmain@${u}:1:6\n`);
    expect(chrome).toBe('TypeError: inner | load');
    expect(firefox).toBe(chrome);
    // A timer or promise callback: V8 lists nothing past it, Gecko the code that set it up.
    expect(await signature(`inner@${u}:1:1\nouter@${u}:1:2\npromise callback*setUp@${u}:1:3\nmain@${u}:1:4\n`)).toBe('TypeError: inner | outer');
    expect(await signature(`TypeError: x\n    at inner (${u}:1:1)\n    at outer (${u}:1:2)`)).toBe('TypeError: inner | outer');
  });

  it("gives Firefox's InternalError \"too much recursion\" the RangeError of other browsers' stack overflow", async () => {
    const frames = [frame('visit'), frame('walk')];
    const firefox = await generateSignature({ errorType: 'InternalError', message: 'too much recursion', frames, tuning });
    const chrome = await generateSignature({ errorType: 'RangeError', message: 'Maximum call stack size exceeded', frames, tuning });
    expect(firefox.signature).toBe('RangeError: visit | walk');
    expect(chrome.signature).toBe(firefox.signature);
    expect(firefox.notes).toContainEqual(expect.stringMatching(/InternalError "too much recursion" is the RangeError/));
    // Other InternalErrors keep their type.
    expect((await generateSignature({ errorType: 'InternalError', message: 'allocation size overflow', frames, tuning })).signature).toBe('InternalError: visit | walk');
  });

  it('reads a constructor name from the submitted stack as a name, never as a pattern', async () => {
    // `(a|a)*b` made into a regular expression against `class aaaa…` would backtrack for hours.
    const hostile: ProcessedFrame = {
      ...frame('(a|a)*b.constructor'),
      original: { file: 'src/x.js', line: 2, column: 1, function: null, context: { pre: [`class ${'a'.repeat(40)}`], line: 'super(1)', post: [] } },
    };
    const { signature } = await generateSignature({ errorType: 'Error', message: 'x', frames: [hostile, frame('pay')], tuning });
    expect(signature).toBe('Error: (a|a)*b.constructor | pay');
  });

  it("skips the custom Error subclass's constructor frame Firefox adds, so Firefox and Chrome agree", async () => {
    const ctor = (fn: string, line: string, pre: string[]): ProcessedFrame => ({
      ...frame(fn, 'app', `${fn === 'a' ? 'PaymentDeclinedError' : 'DeclinedPayment'}.constructor`),
      original: { file: 'src/errors.js', line: 3, column: 5, function: `${fn === 'a' ? 'PaymentDeclinedError' : 'DeclinedPayment'}.constructor`, context: { pre, line, post: [] } },
    });
    const callers = [frame('b', 'app', 'authorize'), frame('c', 'app', 'pay')];
    const pre = ['export class PaymentDeclinedError extends Error {', '  constructor(reason, amount) {'];
    const firefox = await generateSignature({ errorType: 'PaymentDeclinedError', message: 'x', frames: [ctor('a', '    super(`declined`);', pre), ...callers], tuning });
    const chrome = await generateSignature({ errorType: 'PaymentDeclinedError', message: 'x', frames: callers, tuning });
    expect(firefox.signature).toBe('PaymentDeclinedError: authorize | pay');
    expect(chrome.signature).toBe(firefox.signature);
    expect(firefox.notes).toContain('error-constructor-frames: skipped "PaymentDeclinedError.constructor" (the error class\'s constructor, which V8 leaves out)');
    // Unsymbolicated Firefox (`PaymentDeclinedError@`) and Chrome's `new X` name the class itself.
    expect((await generateSignature({ errorType: 'PaymentDeclinedError', message: null, frames: [frame('PaymentDeclinedError'), ...callers], tuning })).signature).toBe(firefox.signature);
    expect((await generateSignature({ errorType: 'PaymentDeclinedError', message: null, frames: [frame('new PaymentDeclinedError'), ...callers], tuning })).signature).toBe(firefox.signature);
    // A subclass that keeps the name "Error" is found by its `super(` line in `class X extends Error`.
    const plain = ['class DeclinedPayment extends Error {', '  constructor() {'];
    expect((await generateSignature({ errorType: 'Error', message: null, frames: [ctor('z', '    super("declined");', plain), ...callers], tuning })).signature).toBe('Error: authorize | pay');
    // Not an error class, or not at the `super(` line: the frame is where the bug is, and stays.
    expect((await generateSignature({ errorType: 'TypeError', message: null, frames: [frame('new Cart'), ...callers], tuning })).signature).toBe('TypeError: Cart | authorize | pay');
    expect((await generateSignature({ errorType: 'Error', message: null, frames: [ctor('z', '    this.check();', plain), ...callers], tuning })).signature).toBe('Error: DeclinedPayment.constructor | authorize | pay');
    // Only innermost frames: an error class's constructor further out is a real caller.
    expect((await generateSignature({ errorType: 'TypeError', message: null, frames: [frame('parse'), frame('ConfigError')], tuning })).signature).toBe('TypeError: parse | ConfigError');
  });

  it('prefers app frames; keeps the library function the app called into; skips plumbing', async () => {
    const { signature } = await generateSignature({
      errorType: 'Error',
      message: null,
      frames: [frame('lodashInternal', 'library'), frame('get', 'library'), frame('Promise.then'), frame('loadUser'), frame('dispatch', 'library'), frame('main')],
      tuning,
    });
    expect(signature).toBe('Error: get | loadUser | main');
  });

  it('falls back to the type and the normalised message, the same for Firefox, Chrome and Safari wordings', async () => {
    const messages = [
      `can't access property "total", cart is undefined`,
      "Cannot read properties of undefined (reading 'total')",
      "undefined is not an object (evaluating 'cart.total')",
      "Uncaught TypeError: Cannot read properties of undefined (reading 'total')",
    ];
    const signatures = new Set<string>();
    for (const message of messages) signatures.add((await generateSignature({ errorType: 'TypeError', message, frames: [frame(null, 'noise')], tuning })).signature);
    expect([...signatures]).toEqual(['TypeError: Cannot read properties of undefined (reading total)']);
    // A thrown string, as Firefox and Chrome word it in window.onerror.
    const thrown = new Set<string>();
    for (const message of ['uncaught exception: feature flags missing', 'Uncaught feature flags missing']) {
      thrown.add((await generateSignature({ errorType: 'Error', message, frames: [frame(null, 'noise')], tuning })).signature);
    }
    expect([...thrown]).toEqual(['Error: feature flags missing']);
  });

  it('falls back to one wording for JSON that does not parse and for a fetch that fails, in Firefox, Chrome and Safari', async () => {
    const fallback = async (errorType: string, message: string) => (await generateSignature({ errorType, message, frames: [frame(null, 'noise')], tuning })).signature;
    const json = new Set<string>();
    for (const message of [
      'JSON.parse: unexpected character at line 1 column 1 of the JSON data',
      `Unexpected token '<', "<!DOCTYPE "... is not valid JSON`,
      'JSON Parse error: Unrecognized token \'<\'',
    ]) json.add(await fallback('SyntaxError', message));
    expect([...json]).toEqual(['SyntaxError: JSON.parse: not valid JSON']);
    const empty = new Set<string>();
    for (const message of ['JSON.parse: unexpected end of data at line 1 column 1 of the JSON data', 'Unexpected end of JSON input', 'JSON Parse error: Unexpected EOF']) {
      empty.add(await fallback('SyntaxError', message));
    }
    expect([...empty]).toEqual(['SyntaxError: JSON.parse: unexpected end of JSON']);
    const fetches = new Set<string>();
    for (const message of ['NetworkError when attempting to fetch resource.', 'Failed to fetch', 'Load failed']) fetches.add(await fallback('TypeError', message));
    expect([...fetches]).toEqual(['TypeError: Failed to fetch']);
    const chunks = new Set<string>();
    for (const message of [
      'error loading dynamically imported module: https://shop.example/assets/reports-Bx1.js',
      'Failed to fetch dynamically imported module: https://shop.example/assets/reports-Q9z.js',
      'Importing a module script failed.',
    ]) chunks.add(await fallback('TypeError', message));
    expect([...chunks]).toEqual(['TypeError: Failed to fetch dynamically imported module']);
    // V8 gives the failed fetch its caller's stack, Firefox none: grouped by the message in both.
    const chrome = await generateSignature({ errorType: 'TypeError', message: 'Failed to fetch', frames: [frame('fetchBug'), frame('main')], tuning });
    expect(chrome.signature).toBe('TypeError: Failed to fetch');
    expect(chrome.notes.at(-1)).toMatch(/^network-error: /);
  });

  it("marks an error thrown entirely by a browser extension's script, apart from the app's own of the same message", async () => {
    const at = (url: string): ProcessedFrame => ({ function: 'g', url, line: 1, column: 1, category: 'noise' });
    const message = "Cannot read properties of undefined (reading 'groups')";
    const extension = await generateSignature({ errorType: 'TypeError', message, frames: [at('chrome-extension://abc/inject.js'), at('moz-extension://1234/content.js')], tuning });
    expect(extension.signature).toBe('TypeError: Cannot read properties of undefined (reading groups) | <browser extension>');
    // An app's own message cannot pass for the mark.
    const posing = await generateSignature({ errorType: 'Error', message: 'x | <browser extension>', frames: [], tuning });
    expect(posing.signature).toBe('Error: x | (browser extension)');
    // Safari masks its extensions' addresses.
    const safari = await generateSignature({ errorType: 'TypeError', message, frames: [at('webkit-masked-url://hidden/')], tuning });
    expect(safari.signature).toBe(extension.signature);
    const app = await generateSignature({ errorType: 'TypeError', message, frames: [], tuning });
    expect(app.signature).toBe('TypeError: Cannot read properties of undefined (reading groups)');
    // An extension frame beside the page's own code is the app's error.
    const mixed = await generateSignature({ errorType: 'TypeError', message, frames: [at('moz-extension://1234/content.js'), frame('load')], tuning });
    expect(mixed.signature).toBe('TypeError: load');
    // Capped, it keeps the mark at its end, where triage looks for it.
    const inExtension = (fn: string): ProcessedFrame => ({ ...frame(fn), url: 'moz-extension://1234/content.js' });
    const long = await generateSignature({ errorType: 'TypeError', message, frames: ['a', 'b', 'c'].map((c) => inExtension(c.repeat(100))), tuning });
    expect(long.signature).toHaveLength(MAX_SIGNATURE_CHARS);
    expect(long.signature).toMatch(/^TypeError: a+ \| b+ \| c+\.\.\. \| <browser extension>$/);
  });

  it('replaces variable parts of messages: numbers, hex, UUIDs, quoted strings, URLs', () => {
    expect(normalizeMessage('Request 42 to https://api.example/v1/users/9?x=1 failed with "Not Found" after 1.5s', tuning)).toBe(
      'Request <n> to <url> failed with <str> after <n>s',
    );
    expect(normalizeMessage('Object 0x7ffde4a1 with id 6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10 and hash deadbeef1234 gone', tuning)).toBe(
      'Object <hex> with id <uuid> and hash <hex> gone',
    );
    expect(normalizeMessage("Can't find variable: jQuery", tuning)).toBe('jQuery is not defined');
  });

  it('caps long signatures and keeps the ID URL-safe and stable', async () => {
    const long = await generateSignature({ errorType: 'Error', message: 'x'.repeat(50), frames: [frame('a'.repeat(100)), frame('b'.repeat(100)), frame('c'.repeat(100))], tuning });
    expect(long.signature.length).toBe(MAX_SIGNATURE_CHARS);
    expect(long.signature.endsWith('...')).toBe(true);
    expect(signatureId('TypeError: a | b')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(signatureId('TypeError: a | b')).toBe(signatureId('TypeError: a | b'));
    expect(signatureId('TypeError: a | b')).not.toBe(signatureId('TypeError: a | c'));
  });
});

describe('rule runner', () => {
  it('records "rule X failed: ErrorName" without the message, and runs the rules after it', async () => {
    const ctx = { notes: [] as string[], ran: [] as string[] };
    await runRules(
      [
        { name: 'first', predicate: () => true, action: (c) => void c.ran.push('first') },
        {
          name: 'boom',
          predicate: () => true,
          action: () => {
            throw new RangeError('page said <script>alert(1)</script>');
          },
        },
        { name: 'skipped', predicate: () => false, action: (c) => void c.ran.push('skipped') },
        { name: 'last', predicate: () => true, action: (c) => void c.ran.push('last') },
      ],
      ctx,
    );
    expect(ctx.ran).toEqual(['first', 'last']);
    expect(ctx.notes).toEqual(['rule boom failed: RangeError']);
  });
});
