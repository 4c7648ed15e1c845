import { describe, expect, it } from 'vitest';
import type { RawCrash } from '../storage/types.ts';
import { forwardedSubmission, forwardedUrl, hopsOf } from './policy.ts';

function raw(annotations: Record<string, string>, files: string[] = []): RawCrash {
  return {
    crash_id: 'de1bb258-cbbf-4589-a673-34f800261129',
    submitted_at: '2026-11-29T10:00:00.000Z',
    annotations,
    files: files.map((name) => ({ name, filename: `${name}.bin`, size: 1, contentType: 'application/octet-stream' })),
    metadata: { throttle_rule: 'accept_everything', content_encoding: 'identity' },
  };
}

describe('forwardedSubmission', () => {
  it('keeps only allowlisted annotations, strips the URL query and sets the hop counter', () => {
    const sub = forwardedSubmission(
      raw({ ProductName: 'Shop', Environment: 'staging', JSStack: 's', URL: 'https://a.example/p?q=1#f', Cookie: 'x', SubmitURL: 'https://b/submit', ForwardHops: '1' }, [
        'upload_file_minidump',
        'screenshot',
      ]),
      { trustFiles: false, hops: 2 },
    );
    expect(sub.annotations).toEqual({ ProductName: 'Shop', Environment: 'staging', JSStack: 's', URL: 'https://a.example/p', ForwardHops: '2' });
    expect(sub.fileNames).toEqual([]);
    expect(sub.withheld).toEqual({ annotations: ['Cookie', 'SubmitURL'], files: ['screenshot', 'upload_file_minidump'], url_query: true });
  });

  it('strips the queries of URLs in the stack, the script URL and the message, and a user name and password from the URL', () => {
    const sub = forwardedSubmission(
      raw({
        URL: 'https://alice:hunter2@shop.example/account',
        JSStack: 'f@https://shop.example/app.js?auth=S3:1:2\n    at g (https://shop.example/v.js?k=1#x:3:4)\nh@https://bob:pw@intranet.example/i.js:5:6',
        JSFilename: 'https://shop.example/app.js?auth=S3',
        JSErrorMessage: 'see https://shop.example/reset?token=S4 now, or https://bob:hunter2@intranet.example/x',
      }),
      { trustFiles: false, hops: 1 },
    );
    expect(sub.annotations).toMatchObject({
      URL: 'https://shop.example/account',
      JSStack: 'f@https://shop.example/app.js:1:2\n    at g (https://shop.example/v.js:3:4)\nh@https://intranet.example/i.js:5:6',
      JSFilename: 'https://shop.example/app.js',
      JSErrorMessage: 'see https://shop.example/reset now, or https://intranet.example/x',
    });
    expect(sub.withheld.url_query).toBe(true);
  });

  it('drops user names and passwords from URLs in the stack, script URL and message even without a query', () => {
    const sub = forwardedSubmission(
      raw({ JSStack: 'a@https://bob:hunter2@intranet.example/app.js:1:1', JSFilename: 'https://bob:hunter2@intranet.example/app.js', JSErrorMessage: 'no https://bob@intranet.example/x' }),
      { trustFiles: false, hops: 1 },
    );
    expect(sub.annotations).toMatchObject({ JSStack: 'a@https://intranet.example/app.js:1:1', JSFilename: 'https://intranet.example/app.js', JSErrorMessage: 'no https://intranet.example/x' });
    expect(sub.withheld.url_query).toBe(false);
  });

  it('strips path parameters and the queries of encoded URLs from the URL, the stack, the script URL and the message', () => {
    const sub = forwardedSubmission(
      raw({
        URL: 'https://shop.example/cart;jsessionid=1A2B3C4D',
        JSStack: 'load@https://shop.example/static/app.js;jsessionid=1A2B3C4D:12:5\n    at cb (https://shop.example/r/https%3A%2F%2Fidp.example%2Fcb%3Ftoken%3Dabc:7:3)',
        JSFilename: 'https://shop.example/static/app.js;jsessionid=1A2B3C4D',
        JSErrorMessage: 'GET user?email=jane@example.com failed',
      }),
      { trustFiles: false, hops: 1 },
    );
    expect(sub.annotations).toMatchObject({
      URL: 'https://shop.example/cart',
      JSStack: 'load@https://shop.example/static/app.js:12:5\n    at cb (https://shop.example/r/https%3A%2F%2Fidp.example%2Fcb:7:3)',
      JSFilename: 'https://shop.example/static/app.js',
      JSErrorMessage: 'GET user failed',
    });
    expect(sub.withheld.url_query).toBe(true);
    // Only the URL's path parameter: still something withheld.
    expect(forwardedSubmission(raw({ URL: 'https://shop.example/cart;jsessionid=1A2B3C4D' }), { trustFiles: false, hops: 1 }).withheld.url_query).toBe(true);
    // Only the URL's spelling changed: nothing withheld.
    expect(forwardedSubmission(raw({ URL: 'HTTPS://shop.example' }), { trustFiles: false, hops: 1 })).toMatchObject({
      annotations: { URL: 'https://shop.example/' },
      withheld: { url_query: false },
    });
  });

  it('forwards every file to a trusted app', () => {
    const sub = forwardedSubmission(raw({ URL: 'https://a.example/p' }, ['upload_file_minidump', 'other']), { trustFiles: true, hops: 1 });
    expect(sub.fileNames).toEqual(['upload_file_minidump', 'other']);
    expect(sub.withheld).toEqual({ annotations: [], files: [], url_query: false });
  });
});

describe('helpers', () => {
  it('reads hop counters defensively', () => {
    expect(hopsOf({})).toBe(0);
    expect(hopsOf({ ForwardHops: '3' })).toBe(3);
    expect(hopsOf({ ForwardHops: '-1' })).toBe(0);
    expect(hopsOf({ ForwardHops: 'lots' })).toBe(0);
  });

  it('cuts query and fragment even from a URL that does not parse', () => {
    expect(forwardedUrl('https://a.example/x?token=1')).toBe('https://a.example/x');
    expect(forwardedUrl('/relative/path?token=1#x')).toBe('/relative/path');
    expect(forwardedUrl('https://a.example/x;jsessionid=1A2B/y;v=2?token=1')).toBe('https://a.example/x/y');
    expect(forwardedUrl('https://a.example/redirect/https%3A%2F%2Fidp.example%2Fcb%3Ftoken%3Dabc')).toBe('https://a.example/redirect/https%3A%2F%2Fidp.example%2Fcb');
    // Not a URL (a space in the host): cut the same way.
    expect(forwardedUrl('https://a b/x;jsessionid=1A2B?token=1')).toBe('https://a b/x');
  });
});
