import { describe, expect, it } from 'vitest';
import type { ProcessedFrame } from '../storage/types.ts';
import { runRules } from './pipeline.ts';
import { generateSignature, MAX_SIGNATURE_CHARS, normalizeMessage, signatureFunctionName, signatureId } from './signature.ts';
import { loadTuning } from './tuning.ts';

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

  it('gives the same signature to Firefox and Chrome spellings of the same frames', async () => {
    const chrome = await generateSignature({ errorType: 'TypeError', message: null, frames: [frame('HTMLButtonElement.onClick'), frame('async Object.checkout [as run]'), frame('new Cart')], tuning });
    const firefox = await generateSignature({ errorType: 'TypeError', message: null, frames: [frame('onClick'), frame('checkout'), frame('Cart')], tuning });
    expect(chrome.signature).toBe(firefox.signature);
    expect(signatureFunctionName(frame('test/</<'))).toBe('test');
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
