import { describe, expect, it } from 'vitest';
import { dropCredentials, scrubUrl, scrubUrlsInText } from './scrub.ts';

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
  it('strips a query containing ( or ), which browsers do not percent-encode', () => {
    // Firefox writes the document's URL, query included, into the stack of every inline script.
    const stack = 'handler@https://mail.example/inbox?folder=Inbox(3)&token=abc123:10:5\n@https://mail.example/search?q=(foo)&session=SECRET:9:1';
    expect(scrubUrlsInText(stack)).toBe('handler@https://mail.example/inbox:10:5\n@https://mail.example/search:9:1');
    expect(scrubUrlsInText('failed at https://mail.example/inbox?folder=Inbox(3)&token=abc123')).toBe('failed at https://mail.example/inbox');
    expect(scrubUrlsInText('f@https://wiki.example/Foo_(bar)?token=1:2:3')).toBe('f@https://wiki.example/Foo_(bar):2:3');
    expect(scrubUrlsInText('f@https://a.example/x?q=a(b&token=1:2:3')).toBe('f@https://a.example/x:2:3');
    // A `)` without its `(` closes a bracket around the URL.
    expect(scrubUrlsInText('    at f (https://a.example/app.js?q=(1)&token=2:3:9)')).toBe('    at f (https://a.example/app.js:3:9)');
    expect(scrubUrlsInText('GET /api/user?q=(x)&token=abc failed')).toBe('GET /api/user failed');
    expect(scrubUrlsInText('fetch(/search?q=(a)&token=b)')).toBe('fetch(/search)');
  });
  it('leaves text without queries unchanged', () => {
    const stack = 'a@https://a.example/x.js:1:2\nb@https://a.example/y.js:3:4';
    expect(scrubUrlsInText(stack)).toBe(stack);
    expect(scrubUrlsInText('what? no #urls here')).toBe('what? no #urls here');
  });
});

describe('scrubUrlsInText on relative URLs', () => {
  it("cuts a relative URL's query or fragment when it carries name=value", () => {
    expect(scrubUrlsInText('GET /api/user?email=bob@example.com&session=s3cr3t failed with 500')).toBe('GET /api/user failed with 500');
    expect(scrubUrlsInText('{"url":"/callback#access_token=abc","status":0}')).toBe('{"url":"/callback","status":0}');
    expect(scrubUrlsInText('fetch(/search?q=secret)')).toBe('fetch(/search)');
    // Relative to the page, as fetch('api/user?…') takes them, and file names.
    expect(scrubUrlsInText('relative api/user?email=bob@x.com failed')).toBe('relative api/user failed');
    expect(scrubUrlsInText("fetch('./v2/items?token=abc')")).toBe("fetch('./v2/items')");
    expect(scrubUrlsInText('GET search.php?q=secret 404')).toBe('GET search.php 404');
  });
  it('keeps the quote that closes a quoted URL', () => {
    expect(scrubUrlsInText('Failed to load "https://q.example/a?b=SECRET"')).toBe('Failed to load "https://q.example/a"');
    expect(scrubUrlsInText("Failed to load 'https://q.example/a#t=SECRET'.")).toBe("Failed to load 'https://q.example/a'.");
    expect(scrubUrlsInText('<a href="https://q.example/a?b=1">')).toBe('<a href="https://q.example/a">');
  });
  it('leaves regular expressions and questions alone', () => {
    for (const text of ['Invalid regular expression: /a?b/: Nothing to repeat', 'Is /tmp/x? the path', 'a /b?c d', 'why?a=b', 'x ? y=1 : z']) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
  });
});

describe('dropCredentials', () => {
  it('removes user names and passwords from every URL, and only them', () => {
    expect(dropCredentials('http://alice:pw123@127.0.0.1:8972/?a=1')).toBe('http://127.0.0.1:8972/?a=1');
    expect(dropCredentials('c@http://alice:pw123@intranet.example/static/main.js:1:15\nd@https://bob@cdn.example/x.js:2:3')).toBe(
      'c@http://intranet.example/static/main.js:1:15\nd@https://cdn.example/x.js:2:3',
    );
    expect(dropCredentials('mail bob@example.com about https://shop.example/a@b')).toBe('mail bob@example.com about https://shop.example/a@b');
    // Scheme-relative, as a fetch of `//host/x` names it.
    expect(dropCredentials('GET //alice:secret1@intranet.example/x failed')).toBe('GET //intranet.example/x failed');
    expect(dropCredentials('see a//b@c and x=//u:p@h/')).toBe('see a//b@c and x=//h/');
  });
});

describe('scrubbing hostile text', () => {
  // A message or stack can be a MiB and anyone's: patterns that backtracked took minutes on these.
  it('scans a MiB of text that would make a backtracking pattern quadratic, in one pass', () => {
    for (const unit of ['a-', '=/', 'a://', 'a://b?', 'a://b?(', '(a://b?', 'a://(', '/a?b', 'x?a=', 'x=/a', ':a.b']) {
      const text = unit.repeat(Math.ceil((1 << 20) / unit.length));
      const scrubbed = scrubUrlsInText(text);
      expect(scrubbed.length).toBeLessThanOrEqual(text.length);
      expect(dropCredentials(text)).toBe(text);
    }
    // And a real query at the end of such text still goes.
    const long = `${'a-'.repeat(1 << 19)} https://x.example/a?token=secret`;
    expect(scrubUrlsInText(long)).toBe(`${'a-'.repeat(1 << 19)} https://x.example/a`);
  }, 10_000);
});
