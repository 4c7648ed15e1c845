/**
 * The hook in real Firefox against thrown values it cannot read and pages that patch built-ins
 * the hook's own objects would inherit from: each error is still reported. Each page is served
 * inline by the harness's small server and is its own app (GUID) on its own loopback host, so
 * the extension's per-site limits never mix the tests (see useInlineApps).
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.ts';
import { crashesOf, useFirefoxWithExtension, useInlineApps, waitForCrashes } from './harness.ts';

const env = useFirefoxWithExtension();
const openApp = useInlineApps(env);

describe('thrown values the hook cannot read', () => {
  const CASES = [
    {
      name: 'a Proxy whose every trap throws',
      script: `throw new Proxy({}, new Proxy({}, { get() { return () => { throw new Error('trap'); }; } }));`,
      message: 'Object captured as exception',
    },
    { name: 'a revoked Proxy', script: `const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy;`, message: 'Object captured as exception' },
    {
      name: 'a promise rejected with a revoked Proxy',
      script: `const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); Promise.reject(proxy);`,
      message: 'Object captured as promise rejection',
    },
    {
      name: 'an Error whose stack getter throws',
      script: `const e = new Error('stack getter throws'); Object.defineProperty(e, 'stack', { get() { throw new Error('no'); } }); throw e;`,
      message: 'stack getter throws',
    },
    {
      name: 'an Error whose message getter throws',
      script: `const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw new Error('no'); } }); throw e;`,
      message: 'A message that could not be read',
    },
    {
      name: "an Error when the page made Error.prototype's name getter throw",
      script: `Object.defineProperty(Error.prototype, 'name', { get() { throw new Error('no'); } }); throw new Error('name getter throws');`,
      message: 'name getter throws',
    },
  ];
  it.each(CASES)('reports $name', async ({ script, message }) => {
    const { page, guid } = await openApp(`setTimeout(() => { ${script} }, 10);`);
    const crashes = await waitForCrashes(env.receiver, guid, 1, 8_000);
    expect(crashes.map((c) => c.annotations.JSErrorMessage)).toEqual([message]);
    await page.close();
  });
});

describe('an Error whose message is not a string', () => {
  const CASES = [
    { name: 'a number', script: `const e = new Error('x'); e.message = 42; throw e;`, type: 'Error', message: '42' },
    { name: 'null, on a TypeError', script: `const e = new TypeError('x'); e.message = null; throw e;`, type: 'TypeError', message: 'null' },
    { name: 'a symbol', script: `const e = new RangeError('x'); e.message = Symbol('why'); throw e;`, type: 'RangeError', message: 'Symbol(why)' },
    { name: 'undefined', script: `const e = new Error('x'); e.message = undefined; throw e;`, type: 'Error', message: '' },
    // Its values are the page's data, and its toString the page's code: neither is used.
    {
      name: 'an object whose toString throws',
      script: `const e = new Error('x'); e.message = { code: 7, secret: 'hunter2', toString() { throw new Error('no'); } }; throw e;`,
      type: 'Error',
      message: 'Object with keys: code, secret, toString',
    },
    { name: 'a huge array', script: `const e = new Error('x'); e.message = new Array(1e7).fill('hunter2'); throw e;`, type: 'Error', message: 'Array with 10000000 items' },
    {
      name: 'an object with a million keys',
      script: `const e = new Error('x'); const m = {}; for (let i = 0; i < 1e6; i++) m['k' + i] = i; e.message = m; throw e;`,
      type: 'Error',
      message: `Object with keys: ${Array.from({ length: 2_000 }, (_, i) => `k${i}`).sort().slice(0, 20).join(', ')} and more`,
    },
  ];
  it.each(CASES)('keeps the type and stack of one whose message is $name, and gives the message as text', async ({ script, type, message }) => {
    const { page, guid } = await openApp(`setTimeout(function throwsIt() { ${script} }, 10);`);
    const [crash] = await waitForCrashes(env.receiver, guid, 1, 8_000);
    expect(crash!.annotations).toMatchObject({ JSErrorType: type, JSErrorMessage: message });
    expect(crash!.annotations.JSStack).toMatch(/^throwsIt@http:\/\/127\.0\.0\.\d+:\d+\//);
    expect(JSON.stringify(crash!.annotations)).not.toMatch(/hunter2/);
    await page.close();
  });
});

describe('a thrown object with a million keys', () => {
  it('looks at no more than a few thousand of them, and names the first 20 of those, sorted', async () => {
    // A Proxy counts every key the hook asks about (Object.keys would ask about all of them).
    const { page, guid } = await openApp(`const keys = []; for (let i = 0; i < 1e6; i++) keys.push('k' + i);
      window.asked = 0;
      const huge = new Proxy({}, { ownKeys: () => keys, getOwnPropertyDescriptor: () => (window.asked++, { value: 1, enumerable: true, configurable: true }) });
      setTimeout(() => { throw huge; }, 10);`);
    const [crash] = await waitForCrashes(env.receiver, guid, 1, 8_000);
    const first = Array.from({ length: 2_000 }, (_, i) => `k${i}`).sort().slice(0, 20);
    expect(crash!.annotations.JSErrorMessage).toBe(`Object captured as exception with keys: ${first.join(', ')} and more`);
    expect(await page.evaluate(() => (window as unknown as { asked: number }).asked)).toBeLessThanOrEqual(2_000);
    await page.close();
  });
});

describe('pages that patch what the hook builds on', () => {
  const CASES = [
    // Prototype.js 1.5.1-1.6 defines it: JSON.stringify made the batch a string.
    { name: 'Array.prototype.toJSON', script: `Array.prototype.toJSON = function () { return '[' + this.map(String).join(',') + ']'; };` },
    { name: 'Object.prototype.toJSON', script: `Object.prototype.toJSON = function () { return 'mine'; };` },
    { name: 'an Array.prototype[0] setter', script: `Object.defineProperty(Array.prototype, '0', { set() {}, configurable: true });` },
    // Read from CustomEvent's init dictionary.
    { name: 'an Object.prototype.bubbles getter that throws', script: `Object.defineProperty(Object.prototype, 'bubbles', { get() { throw new Error('no'); }, configurable: true });` },
  ];
  it.each(CASES)('still reports errors on a page that defines $name', async ({ name, script }) => {
    const { page, guid } = await openApp(`${script}\nsetTimeout(() => { throw new Error('with ${name}'); }, 10);`);
    const crashes = await waitForCrashes(env.receiver, guid, 1, 8_000);
    expect(crashes.map((c) => c.annotations.JSErrorMessage)).toEqual([`with ${name}`]);
    await page.close();
  });
});

describe('a tab open for long', () => {
  it('reports a new bug a minute after 200 distinct errors (messages with IDs) in the same page', async () => {
    const { page, guid } = await openApp(`for (let i = 0; i < 200; i++) setTimeout(() => { throw new Error('Failed to load item ' + (1000 + i)); }, i * 20);
      window.later = () => setTimeout(() => { throw new TypeError('a new bug, a minute later'); }, 0);`);
    // Past the hook's minute (and every per-minute limit after it).
    await new Promise((r) => setTimeout(r, 62_000));
    await page.evaluate(() => (window as unknown as { later: () => void }).later());
    // The hook kept every error it had seen for the document's life, and dropped every new one after 200.
    await waitFor('the new bug on the receiver', async () =>
      (await crashesOf(env.receiver, guid)).some((c) => c.annotations.JSErrorMessage === 'a new bug, a minute later') || undefined,
    10_000);
    await page.close();
  }, 90_000);
});
