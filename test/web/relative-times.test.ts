import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, DAY, direct, signatureIdOf } from './crashes.ts';

/**
 * First seen, last seen and a crash's received time read as "3 h ago", as in Sentry and Socorro,
 * with the exact time beside it and in `<time datetime>`; older than 30 days or in the future
 * (clock skew), the exact time alone. The receiver's page clock is fixed, so the words are known.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
// Whole seconds, as the crash index keeps times.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** Each signature's crashes, how long before NOW. */
const CRASHES: Record<string, number[]> = {
  'Error: fresh': [20_000],
  'Error: minutes': [5 * MIN + 10_000],
  'Error: hours': [3 * HOUR + 20 * MIN],
  // First seen 45 days ago: too old to count in days.
  'Error: days': [45 * DAY, 2 * DAY + HOUR],
};
const FUTURE = 'Error: from a clock ahead';

/** An ISO time as the pages write it: `2026-11-29 07:30 UTC`. */
function exact(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The `<time>` elements of some HTML: the class, the datetime, and the text shown (tags taken out). */
function times(html: string): { class: string | null; datetime: string; text: string }[] {
  return [...html.matchAll(/<time( class="([^"]*)")? datetime="([^"]*)">([\s\S]*?)<\/time>/g)].map((m) => ({
    class: m[2] ?? null,
    datetime: m[3]!,
    text: m[4]!.replace(/<[^>]*>/g, ''),
  }));
}

/** What a relative time shows, with the exact time kept in its datetime and its text. */
function relative(date: Date, words: string): { class: string; datetime: string; text: string } {
  return { class: 'ago', datetime: date.toISOString(), text: `${words} (${exact(date)})` };
}

/** What an absolute time shows. */
function absolute(date: Date): { class: null; datetime: string; text: string } {
  return { class: null, datetime: date.toISOString(), text: exact(date) };
}

describe('times told from now on the report pages', () => {
  let r: TestReceiver;
  const crashIds = new Map<string, string>();
  const get = async (path: string) => {
    const res = await fetch(`${r.url}${path}`, { headers: { authorization: 'Bearer test-admin-token' } });
    expect(res.status, path).toBe(200);
    // The CSP allows no script at all, and the pages have none.
    expect(res.headers.get('content-security-policy')).toContain("script-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script|\son\w+=/i);
    return html;
  };

  beforeAll(async () => {
    r = await startTestReceiver({}, { now: () => NOW });
    await r.indexRebuilt;
    for (const [signature, offsets] of Object.entries(CRASHES)) {
      for (const ms of offsets) crashIds.set(signature, (await addCrash(direct(r), { signature, at: ago(ms) })).crash_id);
    }
    crashIds.set(FUTURE, (await addCrash(direct(r), { signature: FUTURE, at: ago(-2 * HOUR) })).crash_id);
  });
  afterAll(async () => {
    await r?.stop();
  });

  it('shows top crashers\' first and last seen as just now, minutes, hours, days ago, and a date past 30 days', async () => {
    const html = await get(`/apps/${APP_GUID}?days=7`);
    const row = (signature: string) => {
      const tr = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]!).find((t) => t.includes(`>${signature}</a>`));
      expect(tr, signature).toBeDefined();
      return times(tr!);
    };
    expect(row('Error: fresh')).toEqual([relative(ago(20_000), 'just now'), relative(ago(20_000), 'just now')]);
    expect(row('Error: minutes')).toEqual([relative(ago(5 * MIN + 10_000), '5 min ago'), relative(ago(5 * MIN + 10_000), '5 min ago')]);
    expect(row('Error: hours')).toEqual([relative(ago(3 * HOUR + 20 * MIN), '3 h ago'), relative(ago(3 * HOUR + 20 * MIN), '3 h ago')]);
    expect(row('Error: days')).toEqual([absolute(ago(45 * DAY)), relative(ago(2 * DAY + HOUR), '2 days ago')]);
  });

  it('shows a signature\'s first and last seen, and its reports\' dates, from now', async () => {
    const html = await get(`/signatures/${signatureIdOf('Error: days')}?days=28`);
    expect(html).toContain(`<dt>First seen</dt><dd><time datetime="${ago(45 * DAY).toISOString()}">`);
    const seen = /<dt>Last seen<\/dt><dd>([\s\S]*?)<\/dd>/.exec(html)![1]!;
    expect(times(seen)).toEqual([relative(ago(2 * DAY + HOUR), '2 days ago')]);
    const reports = /<table class="reports">([\s\S]*?)<\/table>/.exec(html)![1]!;
    // The crash of 45 days ago is outside the 28 days shown.
    expect(times(reports)).toEqual([relative(ago(2 * DAY + HOUR), '2 days ago')]);
  });

  it('shows when a report was received from now, and a time ahead of the server\'s clock as it is', async () => {
    const received = async (signature: string) => {
      const html = await get(`/report/bp-${crashIds.get(signature)}`);
      return times(/<dt>Received<\/dt><dd>([\s\S]*?)<\/dd>/.exec(html)![1]!);
    };
    expect(await received('Error: minutes')).toEqual([relative(ago(5 * MIN + 10_000), '5 min ago')]);
    expect(await received('Error: hours')).toEqual([relative(ago(3 * HOUR + 20 * MIN), '3 h ago')]);
    expect(await received(FUTURE)).toEqual([absolute(ago(-2 * HOUR))]);
  });

  it('shows search results\' dates from now', async () => {
    const html = await get('/search?q=undefined');
    const rows = [.../<table class="reports">([\s\S]*?)<\/table>/.exec(html)![1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]!);
    const dateOf = (signature: string) => times(rows.find((t) => t.includes(`>${signature}</a>`))!);
    expect(dateOf('Error: fresh')).toEqual([relative(ago(20_000), 'just now')]);
    expect(dateOf('Error: hours')).toEqual([relative(ago(3 * HOUR + 20 * MIN), '3 h ago')]);
    expect(dateOf(FUTURE)).toEqual([absolute(ago(-2 * HOUR))]);
  });
});
