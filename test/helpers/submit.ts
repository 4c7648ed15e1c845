export { submitCrash } from '../../receiver/src/cli/submit.ts';

/** Annotations of a typical JavaScript crash as the extension sends them (about 4 KB, a 60-frame stack). */
export function jsCrashFields(overrides: Record<string, string> = {}): Record<string, string> {
  const stack = Array.from({ length: 60 }, (_, i) => `handler${i}@https://shop.example/static/app.3f9a1c.js:${i + 1}:${(i * 37) % 500}`).join('\n');
  return {
    ProductName: 'Shop',
    Version: '1.4.2',
    WebAppGUID: '6f1b3a52-7c1e-4d0b-9f39-3d1f4d2a9c10',
    URL: 'https://shop.example/cart',
    JSErrorType: 'TypeError',
    JSErrorMessage: "can't access property \"total\", cart is undefined",
    JSStack: stack,
    JSFilename: 'https://shop.example/static/app.3f9a1c.js',
    JSLine: '1',
    JSColumn: '1042',
    JSMechanism: 'onerror',
    CrashTime: String(Math.floor(Date.now() / 1000)),
    UserAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0',
    ...overrides,
  };
}
