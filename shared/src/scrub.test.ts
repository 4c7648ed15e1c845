import { readFileSync } from 'node:fs';
import { parse as parseWithStacktraceParser } from 'stacktrace-parser';
import { describe, expect, it } from 'vitest';
import { dropCredentials, hideEmailsAndTokens, scrubUrl, scrubUrlsInText } from './scrub.ts';
import { parseStack } from './stack/parse.ts';

describe('scrubUrl', () => {
  it('drops the query and the fragment', () => {
    expect(scrubUrl('https://shop.example/cart?session=abc&x=1#pay')).toBe('https://shop.example/cart');
    expect(scrubUrl('https://shop.example/cart#pay?x')).toBe('https://shop.example/cart');
  });
  it('leaves a URL without either alone', () => {
    expect(scrubUrl('https://shop.example/a/b.js')).toBe('https://shop.example/a/b.js');
    expect(scrubUrl('')).toBe('');
  });
  it('drops an OAuth fragment carried encoded in the path, at any depth, as in text', () => {
    expect(scrubUrl('https://app.example/cb%23access_token%3Dx')).toBe('https://app.example/cb');
    expect(scrubUrl('https://app.example/cb%2523id_token%253Dy')).toBe('https://app.example/cb');
    expect(scrubUrl('https://app.example/issue%2342')).toBe('https://app.example/issue%2342');
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
  it('keeps the typographic quotes that close a URL in a localized message, and what follows them', () => {
    // Firefox's own words: `Loading failed for the <script> with source “…”.`
    expect(scrubUrlsInText('Loading failed for the <script> with source “https://x.example/a?token=x”.')).toBe(
      'Loading failed for the <script> with source “https://x.example/a”.',
    );
    expect(scrubUrlsInText('source “https://x.example/app.js;jsessionid=1A2B”.')).toBe('source “https://x.example/app.js”.');
    expect(scrubUrlsInText('Quelle «https://x.example/a#t=x». Quelle „https://x.example/a?t=x“, ‘https://x.example/a?t=x’.')).toBe(
      'Quelle «https://x.example/a». Quelle „https://x.example/a“, ‘https://x.example/a’.',
    );
    expect(scrubUrlsInText('source “https%3A%2F%2Fapi.example%2Fv1%3Fkey%3Dsecret”.')).toBe('source “https%3A%2F%2Fapi.example%2Fv1”.');
    // Relative URLs in them, as in ASCII quotes.
    expect(scrubUrlsInText('GET “/api/user?token=x”.')).toBe('GET “/api/user”.');
    expect(scrubUrlsInText('GET “user?token=x”, “callback#access_token=abc”.')).toBe('GET “user”, “callback”.');
    expect(scrubUrlsInText('GET “/cart;jsessionid=1A2B”, “api/user;sid=1A2B”.')).toBe('GET “/cart”, “api/user”.');
    expect(dropCredentials('GET “//alice:secret1@intranet.example/x”.')).toBe('GET “//intranet.example/x”.');
  });
  it('leaves regular expressions and questions alone', () => {
    for (const text of ['Invalid regular expression: /a?b/: Nothing to repeat', 'Is /tmp/x? the path', 'a /b?c d', 'x ? y=1 : z']) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
  });
  it('cuts the query of a one-word path: a word with ?name= glued to it', () => {
    expect(scrubUrlsInText('GET user?email=jane@example.com failed')).toBe('GET user failed');
    expect(scrubUrlsInText('fetch failed for api?token=abc')).toBe('fetch failed for api');
    expect(scrubUrlsInText('fetch failed for api?token=abc&user=jane\nnext line')).toBe('fetch failed for api\nnext line');
    expect(scrubUrlsInText('XHR "user?email=jane@example.com" failed: 500')).toBe('XHR "user" failed: 500');
    expect(scrubUrlsInText("fetch('items?page=2&session=S3')")).toBe("fetch('items')");
    expect(scrubUrlsInText('request to v2?key=K1 timed out (user?id=7)')).toBe('request to v2 timed out (user)');
    // Nothing tells this one from a query, so it goes too.
    expect(scrubUrlsInText('why?a=b')).toBe('why');
  });
  it('leaves questions and hash signs in prose alone', () => {
    for (const text of ['Is it ready? yes', 'Is it ready?yes', 'ready? a=b', 'what?', 'a?b', 'x?=1', 'x ?a=1', 'Expected "?" but found "="', 'see #a=b']) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
  });
});

describe('scrubbing path parameters', () => {
  it('drops ;name=value and ;value from the path of a URL', () => {
    expect(scrubUrl('https://shop.example/cart;jsessionid=1A2B3C4D')).toBe('https://shop.example/cart');
    expect(scrubUrl('https://shop.example/a;v=1/b;1A2B/c.js;jsessionid=1A2B3C4D?x=1#y')).toBe('https://shop.example/a/b/c.js');
    expect(scrubUrl('https://shop.example/cart;jsessionid=1A2B3C4D;JSESSIONID=5E6F/')).toBe('https://shop.example/cart/');
  });
  it('keeps what is not a path parameter', () => {
    for (const url of ['https://shop.example/cart', 'https://shop.example:8443/a/b.js', 'https://shop.example/a;', 'data:text/javascript;base64,Zm9vKCk=', 'not a url; really']) {
      expect(scrubUrl(url)).toBe(url);
    }
  });
  it("strips them from Firefox frames and keeps the frame's line and column", () => {
    const stack =
      'load@https://shop.example/static/app.js;jsessionid=1A2B3C4D:12:5\n' +
      'init/<@https://shop.example/static/vendor.js;jsessionid=1A2B3C4D?v=3:1:9876\n' +
      'async*@https://shop.example/cart;jsessionid=1A2B3C4D:40:1\n' +
      'f@https://shop.example/x.js;jsessionid=1A2B3C4D line 2 > eval:1:5\n';
    const scrubbed = scrubUrlsInText(stack);
    expect(scrubbed).toBe(
      'load@https://shop.example/static/app.js:12:5\n' +
        'init/<@https://shop.example/static/vendor.js:1:9876\n' +
        'async*@https://shop.example/cart:40:1\n' +
        'f@https://shop.example/x.js line 2 > eval:1:5\n',
    );
    expect(parseStack(scrubbed).map((f) => [f.function, f.url, f.line, f.column])).toEqual([
      ['load', 'https://shop.example/static/app.js', 12, 5],
      ['init/<', 'https://shop.example/static/vendor.js', 1, 9876],
      [null, 'https://shop.example/cart', 40, 1],
      ['f', 'https://shop.example/x.js', 2, null],
    ]);
    expect(parseStack(scrubbed)).toEqual(parseStack(stack).map((f, i) => ({ ...f, url: f.url!.replace(/[;?].*/, ''), raw: scrubbed.split('\n')[i] })));
  });
  it("strips them from Chrome frames and keeps the frame's line and column", () => {
    const stack =
      'TypeError: Cannot read properties of undefined (reading \'id\')\n' +
      '    at load (https://shop.example/static/app.js;jsessionid=1A2B3C4D:12:5)\n' +
      '    at https://shop.example/static/app.js;jsessionid=1A2B3C4D:30:7\n' +
      '    at async Promise.all (index 0)';
    const scrubbed = scrubUrlsInText(stack);
    expect(scrubbed).toBe(
      'TypeError: Cannot read properties of undefined (reading \'id\')\n' +
        '    at load (https://shop.example/static/app.js:12:5)\n' +
        '    at https://shop.example/static/app.js:30:7\n' +
        '    at async Promise.all (index 0)',
    );
    const parsed = parseStack(scrubbed);
    expect(parsed.map((f) => [f.function, f.url, f.line, f.column])).toEqual([
      ['load', 'https://shop.example/static/app.js', 12, 5],
      [null, 'https://shop.example/static/app.js', 30, 7],
    ]);
    expect(parsed).toEqual(parseStack(stack).map((f, i) => ({ ...f, url: f.url!.replace(/;.*/, ''), raw: parsed[i]!.raw })));
    // stacktrace-parser alone reads the same.
    expect(parseWithStacktraceParser(scrubbed).map((f) => [f.file, f.lineNumber, f.column])).toEqual(
      parseWithStacktraceParser(stack).map((f) => [f.file?.replace(/;.*/, ''), f.lineNumber, f.column]),
    );
  });
  it('strips them from URLs in messages and keeps what surrounds them', () => {
    expect(scrubUrlsInText('Loading failed for the <script> with source "https://shop.example/static/app.js;jsessionid=1A2B3C4D".')).toBe(
      'Loading failed for the <script> with source "https://shop.example/static/app.js".',
    );
    expect(scrubUrlsInText("import 'https://shop.example/m.js;jsessionid=1A2B' failed; retry")).toBe("import 'https://shop.example/m.js' failed; retry");
  });
  it('leaves semicolons that are no path parameters alone', () => {
    for (const text of [
      'see https://shop.example/a; then retry',
      'at https://shop.example;x=1',
      'f@data:text/javascript;base64,Zm9vKCk=:1:2',
      'for (i = 0; i < n; i++) x;y=2',
      'a@https://shop.example/app.js:1:2',
    ]) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
  });
});

describe('scrubbing percent-encoded URLs', () => {
  it('cuts the encoded query and fragment of a URL carried in a path', () => {
    expect(scrubUrl('https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb%3Ftoken%3Dabc')).toBe('https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb');
    expect(scrubUrl('https://app.example/r/HTTPS%3a%2f%2fidp.example%2fcb%23access_token%3dabc')).toBe('https://app.example/r/HTTPS%3a%2f%2fidp.example%2fcb');
    // An encoded URL inside an encoded URL goes with it.
    expect(scrubUrl('https://app.example/r/https%3A%2F%2Fa.example%2Fr%2Fhttps%3A%2F%2Fb.example%2Fcb%3Fkey%3Ds')).toBe(
      'https://app.example/r/https%3A%2F%2Fa.example%2Fr%2Fhttps%3A%2F%2Fb.example%2Fcb',
    );
  });
  it('cuts it in messages and stack frames, keeping line, column and closing quotes', () => {
    expect(scrubUrlsInText('Failed to load https%3A%2F%2Fapi.example%2Fv1%3Fkey%3Dsecret now')).toBe('Failed to load https%3A%2F%2Fapi.example%2Fv1 now');
    expect(scrubUrlsInText('Failed to load "https%3A%2F%2Fapi.example%2Fv1%3Fkey%3Dsecret".')).toBe('Failed to load "https%3A%2F%2Fapi.example%2Fv1".');
    expect(scrubUrlsInText('bad next=https%3a%2f%2fapi.example%2fv1%3fkey%3dsecret')).toBe('bad next=https%3a%2f%2fapi.example%2fv1');
    const stack = 'cb@https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb%3Ftoken%3Dabc:7:3\n    at cb (https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb%3Ftoken%3Dabc:7:3)';
    const scrubbed = scrubUrlsInText(stack);
    expect(scrubbed).toBe('cb@https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb:7:3\n    at cb (https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb:7:3)');
    expect(parseStack(scrubbed.split('\n')[0]!)[0]).toMatchObject({ url: 'https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb', line: 7, column: 3 });
    expect(parseStack(scrubbed.split('\n')[1]!)[0]).toMatchObject({ url: 'https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb', line: 7, column: 3 });
  });
  it('leaves encoded text that is no encoded URL alone', () => {
    for (const text of ['50%3F done', 'x=%3A%2F%2Fa%3Fb%3Dc', 'https%3A%2F%2Fidp.example%2Fcb', 'x_https%3A%2F%2Fidp.example%3Fa%3D1', 'https%3A%2Fidp.example%3Fa']) {
      expect(scrubUrlsInText(text)).toBe(text);
      expect(scrubUrl(text)).toBe(text);
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
  it('removes them from a scheme-relative URL wherever it starts: after a comma, a |, a ; or a brace too', () => {
    expect(dropCredentials('mirrors=a,//bob:pw@cdn.example/x')).toBe('mirrors=a,//cdn.example/x');
    expect(dropCredentials('hosts: a|//bob:pw@cdn.example|b')).toBe('hosts: a|//cdn.example|b');
    expect(dropCredentials('{//bob:pw@cdn.example};//eve:pw2@b.example <//carol@c.example>')).toBe('{//cdn.example};//b.example <//c.example>');
    expect(dropCredentials('//bob:pw@cdn.example')).toBe('//cdn.example');
    // Inside a word or a path it starts no URL, and mail stays mail.
    expect(dropCredentials('see a//b@c, x///y@z, ../a.//b@c and mail bob@example.com')).toBe('see a//b@c, x///y@z, ../a.//b@c and mail bob@example.com');
  });
  it('removes a password with an @ in it whole: a browser ends the user info at the last @ before the host', () => {
    // new URL('https://alice:p@ss@intranet.example/x').password is 'p%40ss'.
    expect(dropCredentials('fetch https://alice:p@ss@intranet.example/x failed')).toBe('fetch https://intranet.example/x failed');
    expect(dropCredentials('GET //alice:p@s@s@intranet.example/x, mail bob@example.com')).toBe('GET //intranet.example/x, mail bob@example.com');
    expect(dropCredentials('https://alice@intranet.example/a@b and https://bob:p@w@cdn.example')).toBe('https://intranet.example/a@b and https://cdn.example');
  });
  it('removes user names and passwords from percent-encoded URLs too, at any depth', () => {
    expect(dropCredentials('/redirect/https%3A%2F%2Falice%3Asecret%40intranet.example%2Fcb failed')).toBe('/redirect/https%3A%2F%2Fintranet.example%2Fcb failed');
    expect(dropCredentials('next=https%253a%252f%252falice%253Asecret%2540intranet.example%252Fcb')).toBe('next=https%253a%252f%252fintranet.example%252Fcb');
    // A password with an encoded @ in it goes whole, as a plain one does.
    expect(dropCredentials('https%3A%2F%2Falice%3Ap%40ss%40intranet.example')).toBe('https%3A%2F%2Fintranet.example');
    // An @ after the host's encoded / is the path's, and one of another depth is not this URL's.
    expect(dropCredentials('https%3A%2F%2Fshop.example%2Fa%40b')).toBe('https%3A%2F%2Fshop.example%2Fa%40b');
    expect(dropCredentials('https%253A%252F%252Fshop.example%40b')).toBe('https%253A%252F%252Fshop.example%40b');
  });
});

describe('scrubbing hostile text', () => {
  // A message or stack can be a MiB and anyone's: patterns that backtracked took minutes on these.
  it('scans a MiB of text that would make a backtracking pattern quadratic, in one pass', () => {
    for (const unit of ['a-', '=/', 'a://', 'a://b?', 'a://b?(', '(a://b?', 'a://(', '/a?b', 'x?a=', 'x=/a', ':a.b', ',//a', '|//', '//a,']) {
      const text = unit.repeat(Math.ceil((1 << 20) / unit.length));
      const scrubbed = scrubUrlsInText(text);
      expect(scrubbed.length).toBeLessThanOrEqual(text.length);
      expect(dropCredentials(text)).toBe(text);
    }
    // And a real query at the end of such text still goes.
    const long = `${'a-'.repeat(1 << 19)} https://x.example/a?token=secret`;
    expect(scrubUrlsInText(long)).toBe(`${'a-'.repeat(1 << 19)} https://x.example/a`);
  }, 10_000);
  it('scans a MiB of path parameters, encoded URLs and one-word queries in one pass', () => {
    // `https%3A%2F%2Fa%3F"`: each encoded query ends at its quote, the base only at the end.
    for (const unit of ['a;', '/a;', 'a://b/;', 'a://b/;c"', 'x%3A%2F%2F', 'x%3A%2F%2F%3F', 'https%3A%2F%2Fa%3F"', '%3a%2f%2f(', 'w?a=', 'w?', 'a%2Fb']) {
      const text = unit.repeat(Math.ceil((1 << 20) / unit.length));
      expect(scrubUrlsInText(text).length).toBeLessThanOrEqual(text.length);
      expect(scrubUrl(text).length).toBeLessThanOrEqual(text.length);
    }
    const long = `${'a;'.repeat(1 << 19)} https://x.example/app.js;jsessionid=1A2B:1:2`;
    expect(scrubUrlsInText(long)).toBe(`${'a;'.repeat(1 << 19)} https://x.example/app.js:1:2`);
  }, 10_000);
});

describe('scrubbing the path parameters of relative URLs', () => {
  it('drops ;name=value from a path that starts with /, ./ or ../, and from a file name', () => {
    expect(scrubUrlsInText('GET /cart;jsessionid=1A2B3C failed')).toBe('GET /cart failed');
    expect(scrubUrlsInText("fetch('./api;sid=S1D')")).toBe("fetch('./api')");
    expect(scrubUrlsInText('load ../x;token=T0K failed')).toBe('load ../x failed');
    expect(scrubUrlsInText('GET /a;jsessionid=1A2B/b;v=2;w/c.js?x=1 failed')).toBe('GET /a/b/c.js failed');
    expect(scrubUrlsInText('{"url":"/cart;jsessionid=1A2B","next":"x=/pay;sid=9"}')).toBe('{"url":"/cart","next":"x=/pay"}');
    expect(scrubUrlsInText('fetch(/cart;jsessionid=1A2B)')).toBe('fetch(/cart)');
    expect(scrubUrlsInText('GET app.js;jsessionid=1A2B failed')).toBe('GET app.js failed');
    // A stack frame keeps its line and column.
    expect(scrubUrlsInText('at /static/app.js;jsessionid=1A2B:12:5')).toBe('at /static/app.js:12:5');
    expect(scrubUrl('/cart;jsessionid=1A2B?x=1')).toBe('/cart');
  });
  it('leaves semicolons in prose and code, and after a host, alone', () => {
    for (const text of ['done; next', 'GET /cart; retry', 'see /docs;then retry', 'a /b;c d', 'x;y=2', 'obj;a=1', '//cdn.example;x=1', 'at https://shop.example;x=1', 'GET /a;', ';a=1']) {
      expect(scrubUrlsInText(text)).toBe(text);
      expect(scrubUrl(text)).toBe(text);
    }
  });
  it('drops ;name=value from a path whose first / comes after a word, as fetch takes paths relative to the page', () => {
    expect(scrubUrlsInText('GET api/user;jsessionid=1A2B3C failed')).toBe('GET api/user failed');
    expect(scrubUrlsInText('fetch("v2/cart;sid=abc")')).toBe('fetch("v2/cart")');
    expect(scrubUrlsInText('GET api/v1/user;sid=1A2B/orders;v=2 failed')).toBe('GET api/v1/user/orders failed');
    expect(scrubUrlsInText('next=shop.example/cart;jsessionid=1A2B')).toBe('next=shop.example/cart');
    expect(scrubUrlsInText('GET api%2Fuser%3Bjsessionid%3D1A2B failed')).toBe('GET api%2Fuser failed');
    expect(scrubUrlsInText('at static/app;jsessionid=1A2B:12:5')).toBe('at static/app:12:5');
    expect(scrubUrl('api/user;jsessionid=1A2B?x=1')).toBe('api/user');
  });
  it('leaves a ;name=value after a / that starts no path alone', () => {
    // A number before the `/` is a fraction or a date, as a number before `.` is no file name.
    for (const text of ['expected 1/2;got=3', 'on 2024/05;x=1', 'a/b;c', 'a/b; c=1', 'at https://shop.example;x=1']) {
      expect(scrubUrlsInText(text)).toBe(text);
      expect(scrubUrl(text)).toBe(text);
    }
  });
  it("leaves a media type's parameters alone: text/html;charset=UTF-8 is a word, a / and a word too", () => {
    for (const text of [
      'Expected JSON but got text/html;charset=UTF-8',
      "MIME type ('text/html;charset=utf-8') is not executable",
      'Content-Type: multipart/form-data;boundary=----x1',
      'unsupported image/svg+xml;charset=utf-8 and video/mp4;codecs=avc1.42E01E',
      'f@data:text/javascript;charset=utf-8,boom():1:2',
    ]) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
    // Other parameters of such a path still go, and any of a path from /.
    expect(scrubUrlsInText('GET text/html;jsessionid=1A2B')).toBe('GET text/html');
    expect(scrubUrlsInText('GET api/users;profile=bob@example.com')).toBe('GET api/users');
    expect(scrubUrlsInText('GET /upload;charset=x')).toBe('GET /upload');
  });
  it('leaves a number before ;name=value alone: a decimal or a version is not a file name', () => {
    for (const text of ['expected 1.0;got=2', 'Set-Cookie: v=1.5;path=/', 'x = 0.5;y=1', 'release 2.10.3;build=7']) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
    // A file name's extension begins with a letter, digits may follow.
    expect(scrubUrlsInText('GET track.mp3;sid=1A2B failed')).toBe('GET track.mp3 failed');
  });
});

describe('scrubbing percent-encoded path parameters', () => {
  it('drops them as it drops plain ones', () => {
    expect(scrubUrl('https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb%3Bjsessionid%3DABC')).toBe('https://app.example/redirect/https%3A%2F%2Fidp.example%2Fcb');
    expect(scrubUrlsInText('GET /redirect/https%3A%2F%2Fidp.example%2Fcb%3Bjsessionid%3DABC failed')).toBe('GET /redirect/https%3A%2F%2Fidp.example%2Fcb failed');
    expect(scrubUrlsInText('Failed to load https%3a%2f%2fidp.example%2fcb%3bjsessionid%3dABC%2fnext now')).toBe('Failed to load https%3a%2f%2fidp.example%2fcb%2fnext now');
    expect(scrubUrlsInText('GET app.js%3Bjsessionid%3DABC failed')).toBe('GET app.js failed');
    expect(scrubUrl('app.js%3Bjsessionid%3DABC')).toBe('app.js');
    expect(scrubUrlsInText('redirect to %2Fcart%3Bjsessionid%3DABC')).toBe('redirect to %2Fcart');
    const frame = 'load@https://shop.example/static/app.js%3Bjsessionid%3DABC:12:5';
    expect(scrubUrlsInText(frame)).toBe('load@https://shop.example/static/app.js:12:5');
    expect(parseStack(scrubUrlsInText(frame))[0]).toMatchObject({ url: 'https://shop.example/static/app.js', line: 12, column: 5 });
  });
  it('ends an encoded parameter at an encoded / no deeper than itself, a plain one only at /', () => {
    // `%252F` inside a once-encoded parameter is its value's own `/`, encoded with it.
    expect(scrubUrl('https://app.example/r/https%3A%2F%2Fidp%2Fcb%3Bsid%3Dab%252Fcd%2Fnext')).toBe('https://app.example/r/https%3A%2F%2Fidp%2Fcb%2Fnext');
    expect(scrubUrl('https://app.example/a;v=1%2Fsecret/b')).toBe('https://app.example/a/b');
  });
  it('leaves encoded semicolons that are no path parameters alone', () => {
    for (const text of ['50%3B done', 'a%3Bb%3Dc', 'x=%3Ba%3D1', '//cdn.example%3Bx%3D1']) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
  });
});

describe('scrubbing URLs encoded more than once', () => {
  it('cuts the query and fragment at any depth', () => {
    expect(scrubUrlsInText('https%253A%252F%252Fidp.example%252Fcb%253Ftoken%253Dabc')).toBe('https%253A%252F%252Fidp.example%252Fcb');
    expect(scrubUrl('https://app.example/r/https%253A%252F%252Fidp.example%252Fcb%253Ftoken%253Dabc')).toBe('https://app.example/r/https%253A%252F%252Fidp.example%252Fcb');
    expect(scrubUrlsInText('next=HTTPS%25253a%25252f%25252fidp%25252fcb%252523access_token%25253Dabc done')).toBe('next=HTTPS%25253a%25252f%25252fidp%25252fcb done');
    expect(scrubUrlsInText('GET /r/https%253A%252F%252Fidp%252Fcb%253Bjsessionid%253DABC failed')).toBe('GET /r/https%253A%252F%252Fidp%252Fcb failed');
    // Inside an encoded URL, as a redirect to a redirect carries it.
    expect(scrubUrl('https://a.example/r/https%3A%2F%2Fb.example%2Fr%2Fhttps%253A%252F%252Fc.example%252Fcb%253Fkey%253Ds')).toBe(
      'https://a.example/r/https%3A%2F%2Fb.example%2Fr%2Fhttps%253A%252F%252Fc.example%252Fcb',
    );
    const frame = 'cb@https://app.example/r/https%253A%252F%252Fidp.example%252Fcb%253Ftoken%253Dabc:7:3';
    expect(scrubUrlsInText(frame)).toBe('cb@https://app.example/r/https%253A%252F%252Fidp.example%252Fcb:7:3');
    expect(parseStack(scrubUrlsInText(frame))[0]).toMatchObject({ url: 'https://app.example/r/https%253A%252F%252Fidp.example%252Fcb', line: 7, column: 3 });
  });
  it('leaves doubly encoded text that is no encoded URL alone', () => {
    for (const text of ['50%253F done', 'https%253A%252Fidp.example%253Fa', 'https%3A%252F%252Fidp%253Fa%253D1', 'x_https%253A%252F%252Fidp%253Fa%253D1', '%2525%25']) {
      expect(scrubUrlsInText(text)).toBe(text);
      expect(scrubUrl(text)).toBe(text);
    }
  });
});

describe('scrubbing the fragment of a one-word path', () => {
  it('cuts #name=value glued to a word, as OAuth implicit-flow redirects carry it', () => {
    expect(scrubUrlsInText('callback#access_token=abc')).toBe('callback');
    expect(scrubUrlsInText('cb#id_token=eyJ0.eyJ1.c2ln&state=xyz failed')).toBe('cb failed');
    expect(scrubUrlsInText('redirected to app.html#access_token=abc&expires_in=3600.')).toBe('redirected to app.html');
    expect(scrubUrlsInText('see notes#a=b')).toBe('see notes');
  });
  it('cuts an encoded #name=value glued to a word the same way, at any depth', () => {
    expect(scrubUrlsInText('callback%23access_token%3Dabc')).toBe('callback');
    expect(scrubUrlsInText('redirect to cb%23id_token%3DeyJ0.eyJ1%26state%3Dxyz failed')).toBe('redirect to cb failed');
    expect(scrubUrlsInText('"/callback%23access_token%3dabc"')).toBe('"/callback"');
    expect(scrubUrlsInText('next=callback%2523access_token%253Dabc done')).toBe('next=callback done');
    expect(scrubUrlsInText('callback%252523access_token%25253Dabc')).toBe('callback');
    expect(scrubUrlsInText('callback%23access_token=abc')).toBe('callback');
    // A stack frame keeps its line and column, as with an encoded URL's query.
    const frame = 'cb@https://app.example/cb%23access_token%3Dabc:7:3';
    expect(scrubUrlsInText(frame)).toBe('cb@https://app.example/cb:7:3');
    expect(parseStack(scrubUrlsInText(frame))[0]).toMatchObject({ url: 'https://app.example/cb', line: 7, column: 3 });
  });
  it('leaves encoded hash signs in prose and private fields alone', () => {
    for (const text of ['%2342', 'issue %2342', 'see %23a%3Db', 'see notes%23a', 'this.%23count%3D1', 'a%23%3Db', 'a%2523']) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
  });
  it('leaves hash signs in prose and private fields in code alone', () => {
    for (const text of ['#1', 'issue #42', 'fixed in #42=done', 'see notes#a', 'this.#count=1', 'color: #fff', 'a#=b', '&#x27;']) {
      expect(scrubUrlsInText(text)).toBe(text);
    }
  });
});

describe('scrubbing hostile text, continued', () => {
  // As above: a MiB of each pattern the newer scans look at, each scrubbed in one pass (minutes, not
  // the test's timeout, if a scan went back over what it had read for every match), and where the
  // answer is easy to build, the answer itself: a text as long as the input.
  const n = 1 << 20;
  const repeat = (unit: string): string => unit.repeat(Math.ceil(n / unit.length));
  const expectNoLonger = (units: string[]): void => {
    for (const unit of units) {
      const text = repeat(unit);
      expect(scrubUrlsInText(text).length).toBeLessThanOrEqual(text.length);
      expect(scrubUrl(text).length).toBeLessThanOrEqual(text.length);
    }
  };
  it('scans a MiB of relative path parameters in one pass', () => {
    expectNoLonger([';a=', 'a.b;c=', 'a.b;', '//a;b=', 'a/b;', '1/b;c=', 'a%2Fb%3Bc%3D%3B']);
    // Each query ends at its closing quote, each base only at the end.
    expectNoLonger(['a://b?c”', '“a://b;c”', '“/a;b=”', '“w#a=”', 'a“/b?c=']);
    expect(scrubUrlsInText(repeat('“/a?b=c”'))).toBe(repeat('“/a?b=c”').replaceAll('?b=c', ''));
    expect(scrubUrlsInText(repeat(' a/b;c=d'))).toBe(repeat(' a/b;c=d').replaceAll(';c=d', ''));
    expect(scrubUrlsInText(repeat('/a;b='))).toBe(repeat('/a;b=').replaceAll(';b=', ''));
    expect(scrubUrlsInText(repeat(' /a;b=c'))).toBe(repeat(' /a;b=c').replaceAll(';b=c', ''));
    const long = `${repeat('a.b;')} GET /cart;jsessionid=1A2B failed`;
    expect(scrubUrlsInText(long)).toBe(`${repeat('a.b;')} GET /cart failed`);
  }, 10_000);
  it('scans a MiB of encoded path parameters in one pass', () => {
    expectNoLonger(['%3Ba%3D', '/%3Ba%3D', '%2F%3Ba%3D', 'a.js%3Bb%3D%3B', 'a://b/%3Bc%2F', 'https%3A%2F%2Fa%2F%3Bb%3D"']);
  }, 10_000);
  it('scans a MiB of URLs encoded again and again in one pass', () => {
    expectNoLonger(['%25', 'x%253A%252F%252F', 'https%253A%252F%252Fa%253F"']);
    // One escape as long as the text: `%`, then `25` over and over.
    const deep = `%${'25'.repeat(n / 2)}3F`;
    expect(scrubUrlsInText(deep)).toBe(deep);
    const long = `${repeat('%25')} https%253A%252F%252Fidp%252Fcb%253Ftoken%253Ds`;
    expect(scrubUrlsInText(long)).toBe(`${repeat('%25')} https%253A%252F%252Fidp%252Fcb`);
  }, 10_000);
  it('scans a MiB of one-word fragments in one pass', () => {
    expectNoLonger(['x#a=', 'a#', 'x%23a%3D', 'a%23', '.%23a%3D', 'a%23b', 'a%2523b%253D%', 'a%23b%23=']);
    expect(scrubUrlsInText(repeat(' w%23a%3Db'))).toBe(repeat(' w%23a%3Db').replaceAll('%23a%3Db', ''));
    expect(scrubUrlsInText(repeat(' w#a=b'))).toBe(repeat(' w#a=b').replaceAll('#a=b', ''));
    const long = `${repeat('a#')} cb#access_token=t`;
    expect(scrubUrlsInText(long)).toBe(`${repeat('a#')} cb`);
  }, 10_000);
});

describe('hideEmailsAndTokens', () => {
  it('replaces e-mail addresses in text and in URL paths, encoded or not', () => {
    expect(hideEmailsAndTokens('Error: user alice@example.com not found')).toBe('Error: user [email] not found');
    expect(hideEmailsAndTokens('https://app.example/users/alice@example.com/profile')).toBe('https://app.example/users/[email]/profile');
    expect(hideEmailsAndTokens('https://app.example/users/alice.b+tag%40mail.example.co.uk/x')).toBe('https://app.example/users/[email]/x');
    expect(hideEmailsAndTokens('/users%2Fbob%40example.com%2Fedit')).toBe('/users%2F[email]%2Fedit');
    expect(hideEmailsAndTokens('mail "bob.smith@sub.example.org", <carol@163.com> or mailto:dan@example.net.')).toBe(
      'mail "[email]", <[email]> or mailto:[email].',
    );
    // Firefox writes the page's URL into the frames of its inline scripts.
    expect(hideEmailsAndTokens('onload@https://app.example/users/alice@example.com/profile:10:5')).toBe('onload@https://app.example/users/[email]/profile:10:5');
  });
  it('leaves stack frames, npm scopes, versions and CSS at-rules alone', () => {
    const alone = [
      'foo@https://x.example/app.js:1:2\n@debugger eval code:1:1\nbar/<@http://127.0.0.1:8080/a.js line 2 > eval:3:4',
      'fn@foo.js:1:2\nrender@bundle.min.mjs:3:4\n@index.html line 1 > injectedScript:2:1\nobj["@fn"]@https://x.example/a.js:5:6',
      // A React Native bundle, and any script name the extension list does not know: its position tells.
      's@index.android.bundle:157:88\nhandleTopLevel@main.jsbundle:157:174\nrun@app.chunk:3',
      'TypeError: x is undefined\n    at Object.<anonymous> (https://x.example/a.js:1:2)\n    at f (webpack-internal:///./src/a.ts:3:4)',
      'Cannot find module @scope/pkg from node_modules/@babel/core/lib/index.js',
      'install user@1.2.3, react@18.2.0, pkg@1.0.0-beta.alpha and pkg@latest',
      '@media (max-width: 600px) { a { color: red } } @import url(x.css); a{}@media print',
      'resource://gre/modules/x.sys.mjs, moz-extension://abc/x.js, blob:https://x.example/uuid, @ alone, a@b',
      // Images for high-density screens, as asset pipelines name them.
      'Failed to load https://cdn.x.example/img/logo@2x.png, icon@3x.webp, avatar@2x.JPEG, sprite@1.5x.svg and Inter@400.woff',
    ];
    for (const text of alone) expect(hideEmailsAndTokens(text)).toBe(text);
  });
  it("leaves every stack of the browser corpus alone (other projects' recorded stacks, none with personal data)", () => {
    const corpus = JSON.parse(readFileSync(new URL('../../test/fixtures/stacks-corpus.json', import.meta.url), 'utf8')) as { stack: string; message?: string }[];
    expect(corpus.length).toBeGreaterThan(100);
    for (const { stack, message } of corpus) {
      expect(hideEmailsAndTokens(stack)).toBe(stack);
      if (message) expect(hideEmailsAndTokens(message)).toBe(message);
    }
  });
  it('replaces JSON Web Tokens and the credentials of Authorization headers, and leaves words alone', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    expect(hideEmailsAndTokens(`invalid token ${jwt}.`)).toBe('invalid token [token].');
    expect(hideEmailsAndTokens(`https://app.example/cb/${jwt}/done`)).toBe('https://app.example/cb/[token]/done');
    expect(hideEmailsAndTokens('unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. here')).toBe('unsigned [token] here');
    expect(hideEmailsAndTokens('Authorization: Bearer abc123.def-456_ghi failed; basic dXNlcjpwYXNzd29yZA==')).toBe(
      'Authorization: Bearer [token] failed; basic [token]',
    );
    expect(hideEmailsAndTokens('Bearer mF_9.B5f-4.1JqM')).toBe('Bearer [token]');
    const words = 'Bearer undefined; Bearer token missing; Basic authentication failed; eyJ is base64 for {"; x-eyJhbGciOiJIUzI1NiJ9.a.b';
    expect(hideEmailsAndTokens(words)).toBe(words);
  });
  it('replaces the values of secret-like pairs, quoted or not, and keeps their quotes', () => {
    expect(hideEmailsAndTokens('login failed: password=hunter2 for bob')).toBe('login failed: password=[filtered] for bob');
    expect(hideEmailsAndTokens('{"user":"bob","password":"hunter2","Token" : "abc"}')).toBe('{"user":"bob","password":"[filtered]","Token" : "[filtered]"}');
    expect(hideEmailsAndTokens("{user: 'bob', newPassword: 'x y', api_key:k3y}")).toBe("{user: 'bob', newPassword: '[filtered]', api_key:[filtered]}");
    expect(hideEmailsAndTokens('GET /a?apikey=1&access_token=2;pwd=3&x-api-key=4&client_secret=5&authToken=6 404')).toBe(
      'GET /a?apikey=[filtered]&access_token=[filtered];pwd=[filtered]&x-api-key=[filtered]&client_secret=[filtered]&authToken=[filtered] 404',
    );
    expect(hideEmailsAndTokens('body {\\"passwd\\":\\"hunt\\\\er2\\"} and secret="unclosed to the end')).toBe(
      'body {\\"passwd\\":\\"[filtered]\\"} and secret="[filtered]',
    );
    // A frame's URL keeps its line and column.
    expect(hideEmailsAndTokens('f@https://x.example/a.js?token=abc:1:2')).toBe('f@https://x.example/a.js?token=[filtered]:1:2');
  });
  it('leaves comparisons, plain values, other names and prose alone', () => {
    const alone = [
      'token == null, token === x, token !== y, token => x, token = x, token <= 3',
      'password=undefined, password="", token=null, secret: yes',
      'max_tokens=100 author=bob tokenizer=x expires_in=3600 passwordless=true',
      "Unexpected token: '}', Invalid token: expected string",
      'SyntaxError: Unexpected token \'<\', "<!DOCTYPE "... is not valid JSON',
    ];
    for (const text of alone) expect(hideEmailsAndTokens(text)).toBe(text);
  });
  it('replaces keys whose form gives them away, and pairs named session, sid or sig', () => {
    const keys = [
      `ghp_${'A1b2C3d4'.repeat(5)}`,
      `github_pat_11ABCDEFG0${'x_Y'.repeat(20)}`,
      `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`,
      `rk_test_${'51H0aBcDeFgHiJkL'}`,
      'xoxb-2345678901-3456789012-AbCdEfGhIjKlMnOpQrStUvWx',
      'AKIAIOSFODNN7EXAMPLE',
      `AIza${'SyA1b2C3d4E5f6G7h8I9j0K_L-m2n3o4p5q'}`,
      `npm_${'a1B2c3D4e5'.repeat(3)}a1B2c3`,
    ];
    for (const key of keys) expect(hideEmailsAndTokens(`request failed (key ${key}): 401`), key).toBe('request failed (key [token]): 401');
    expect(hideEmailsAndTokens('https://x.blob.core.windows.net/c/a.js?sv=2022&sig=AbC%2Bd3&se=1 failed; session=s3cr3t, PHPSESSID=abc')).toBe(
      'https://x.blob.core.windows.net/c/a.js?sv=2022&sig=[filtered]&se=1 failed; session=[filtered], PHPSESSID=[filtered]',
    );
    // Public or too short to be keys, and words that only look alike.
    const alone = ['pk_live_4eC39HqLyjWDarjtT1zdp7dc', 'ghp_short', 'AKIA is not a key', 'xoxb-', 'mysk_live_4eC39HqLyjWDarjtT1zdp7dc', 'config=x inside=y sessionStorage=z'];
    for (const text of alone) expect(hideEmailsAndTokens(text)).toBe(text);
  });
  it('changes nothing more when run again', () => {
    const text = 'user bob@example.com password=hunter2 "token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig" Bearer abc123def456';
    const once = hideEmailsAndTokens(text);
    expect(once).toBe('user [email] password=[filtered] "token":"[filtered]" Bearer [token]');
    expect(hideEmailsAndTokens(once)).toBe(once);
  });
  it('scans a MiB of hostile text in one pass', () => {
    const n = 1 << 20;
    const repeat = (unit: string): string => unit.repeat(Math.ceil(n / unit.length));
    for (const unit of ['a@', '@a.', 'a@b.', 'a.a@', 'a%40', '%40a.', '-eyJ', '.eyJ', 'eyJaaaaaaaaaaaaaaaaa.', 'eyJaaaaaaaaaaaaaaaaa.a', 'Bearer ', 'a=', 'a:', ' :', '"a":', '{a:', 'password=', 'password= ', '"password":"\\', 'token:', ', token:', 'ghp_a', 'ghp_', 'xoxb-', 'AKIA']) {
      const text = repeat(unit);
      expect(hideEmailsAndTokens(text).length).toBeLessThanOrEqual(2 * text.length);
    }
    expect(hideEmailsAndTokens(repeat(' a@b.cd'))).toBe(repeat(' a@b.cd').replaceAll('a@b.cd', '[email]'));
    expect(hideEmailsAndTokens(repeat('&token=x'))).toBe(repeat('&token=x').replaceAll('=x', '=[filtered]'));
    const long = `${repeat('a@')} user alice@example.com`;
    expect(hideEmailsAndTokens(long)).toBe(`${repeat('a@')} user [email]`);
  }, 10_000);
});
