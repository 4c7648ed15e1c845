// The search page's app menu offers every app the receiver knows: those with crashes, then those
// set up here (registered for forwarding, given upload tokens, source maps uploaded) that have
// none yet, as the Apps page lists them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { addCrash, APP_GUID, daysAgo, direct } from './crashes.ts';
import { setUpApps } from './set-up-apps.ts';

const BEARER = { authorization: 'Bearer test-admin-token' };
const SIGNATURE = 'TypeError: cart is undefined | total';
/** Registered for forwarding with `socorrito apps add` while the receiver runs. */
const FORWARDED = 'a1111111-1111-4111-8111-111111111111';
/** Given an upload token; braces, `+` and `@` are GUID characters too, and must come back as typed. */
const TOKENED = '{b2222222+blog@example}';
/** With only source maps (a script) uploaded. */
const MAPPED = 'c3333333-3333-4333-8333-333333333333';
/** The Apps page's order for apps with no crash: by key. */
const SET_UP = [FORWARDED, MAPPED, TOKENED];

/** The app menu's options of a search page, as [value, label, selected]. */
function appMenu(html: string): [string, string, boolean][] {
  const select = /<select name="app"[^>]*>([\s\S]*?)<\/select>/.exec(html);
  expect(select, 'the app menu').not.toBeNull();
  return [...select![1]!.matchAll(/<option value="([^"]*)"( selected="")?>([^<]*)<\/option>/g)].map((m) => [m[1]!, m[3]!, m[2] !== undefined]);
}

describe("search's app menu", () => {
  let r: TestReceiver;
  const page = async (path: string, status = 200): Promise<string> => {
    const res = await fetch(r.url + path, { headers: { ...BEARER, accept: 'text/html' } });
    const text = await res.text();
    expect(res.status, path).toBe(status);
    return text;
  };

  beforeAll(async () => {
    r = await startTestReceiver();
    await r.indexRebuilt;
    await addCrash(direct(r), { signature: SIGNATURE, app: APP_GUID, product: 'Shop', at: daysAgo(0) });
    await setUpApps(r, { forwarded: FORWARDED, tokened: TOKENED, mapped: MAPPED });
  }, 60_000);
  afterAll(() => r?.stop());

  it('offers the apps set up with no crash yet after those with crashes, marked, by key', async () => {
    expect(appMenu(await page('/search'))).toEqual([
      ['', 'any app', false],
      [APP_GUID, 'Shop', false],
      ...SET_UP.map((key) => [key, `${key} (no crashes yet)`, false]),
    ]);
  });

  it('keeps the app the URL chooses selected, once', async () => {
    for (const chosen of [...SET_UP, APP_GUID]) {
      const menu = appMenu(await page(`/search?app=${encodeURIComponent(chosen)}`));
      expect(menu.map(([value]) => value), chosen).toEqual(['', APP_GUID, ...SET_UP]);
      expect(menu.filter(([, , selected]) => selected).map(([value]) => value), chosen).toEqual([chosen]);
    }
    // A key nothing knows is still shown as the filter, and answered 404.
    const typo = `${MAPPED.slice(0, -1)}4`;
    const menu = appMenu(await page(`/search?app=${typo}`, 404));
    expect(menu.filter(([, , selected]) => selected)).toEqual([[typo, typo, true]]);
    expect(menu.map(([value]) => value)).toEqual(['', typo, APP_GUID, ...SET_UP]);
  });

  it('lists an app by its name, unmarked, once it has crashed', async () => {
    await addCrash(direct(r), { signature: SIGNATURE, app: MAPPED, product: 'Maps', at: daysAgo(1) });
    expect(appMenu(await page('/search'))).toEqual([
      ['', 'any app', false],
      [APP_GUID, 'Shop', false],
      [MAPPED, 'Maps', false],
      [FORWARDED, `${FORWARDED} (no crashes yet)`, false],
      [TOKENED, `${TOKENED} (no crashes yet)`, false],
    ]);
  });
});
