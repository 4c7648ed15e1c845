import { describe, expect, it } from 'vitest';
import { scrubUrl, scrubUrlsInText } from './scrub.ts';

describe('scrubUrl', () => {
  it('drops the query and the fragment', () => {
    expect(scrubUrl('https://shop.example/cart?session=abc&x=1#pay')).toBe('https://shop.example/cart');
    expect(scrubUrl('https://shop.example/cart#pay?x')).toBe('https://shop.example/cart');
  });
  it('leaves a URL without either alone', () => {
    expect(scrubUrl('https://shop.example/a/b.js')).toBe('https://shop.example/a/b.js');
    expect(scrubUrl('')).toBe('');
  });
});

describe('scrubUrlsInText', () => {
  it('strips queries from Firefox frames and keeps line and column', () => {
    const stack = 'boom@http://127.0.0.1:8080/app.js?v=3&token=s3cret:10:5\n@http://127.0.0.1:8080/?user=me#frag:1:44\n';
    expect(scrubUrlsInText(stack)).toBe('boom@http://127.0.0.1:8080/app.js:10:5\n@http://127.0.0.1:8080/:1:44\n');
  });
  it('strips queries from Chrome frames in parentheses', () => {
    const stack = 'TypeError: x\n    at boom (https://a.example/app.js?token=1:3:9)\n    at https://a.example/b.js#x:1:1';
    expect(scrubUrlsInText(stack)).toBe('TypeError: x\n    at boom (https://a.example/app.js:3:9)\n    at https://a.example/b.js:1:1');
  });
  it('handles Firefox eval frames and URLs inside messages', () => {
    expect(scrubUrlsInText('f@https://a.example/x.js?k=v line 2 > eval:1:5')).toBe('f@https://a.example/x.js line 2 > eval:1:5');
    expect(scrubUrlsInText('Loading failed for https://cdn.example/a.js?sig=abc now')).toBe(
      'Loading failed for https://cdn.example/a.js now',
    );
  });
  it('leaves text without queries unchanged', () => {
    const stack = 'a@https://a.example/x.js:1:2\nb@https://a.example/y.js:3:4';
    expect(scrubUrlsInText(stack)).toBe(stack);
    expect(scrubUrlsInText('what? no #urls here')).toBe('what? no #urls here');
  });
});
