import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, checkSettings, chooseDestination, submitUrlOf } from './settings.ts';

const declared = { guid: 'g', submitUrl: 'https://crashes.shop.example/submit', source: 'meta' as const };

describe('settings', () => {
  it('defaults to on, stripping queries, declared apps only', () => {
    expect(checkSettings(undefined)).toEqual({ settings: DEFAULT_SETTINGS, problems: [] });
    expect(DEFAULT_SETTINGS).toMatchObject({ enabled: true, stripQueryAndFragment: true, hideEmailsAndTokens: true, reportAllSites: false });
  });

  it('normalizes sites and lists every problem', () => {
    const { settings, problems } = checkSettings({ allowSites: ['Shop.Example', 'https://x.example/path', '*.y.example', 'bad host'], receiverUrl: 'ftp://r', reportAllSites: true });
    expect(settings.allowSites).toEqual(['shop.example', 'x.example', 'y.example']);
    expect(settings.receiverUrl).toBe('');
    expect(problems).toHaveLength(3);
  });

  it('takes a host with a port or a path as that host, and wants a receiver for allowed sites', () => {
    const { settings, problems } = checkSettings({ allowSites: ['localhost:5173', 'shop.example/app', '[::1]:8080', '127.0.0.1:9420'] });
    expect(settings.allowSites).toEqual(['localhost', 'shop.example', '[::1]', '127.0.0.1']);
    expect(problems).toEqual(['allowed sites need the URL of your receiver to be reported to']);
    expect(checkSettings({ allowSites: ['localhost'], receiverUrl: 'http://127.0.0.1:8000' }).problems).toEqual([]);
    expect(checkSettings({ blockSites: ['localhost:5173'] }).problems).toEqual([]);
  });

  it('blocks a site reached by its fully-qualified name with a trailing dot', () => {
    const blocked = { ...DEFAULT_SETTINGS, blockSites: ['bank.example'] };
    expect(chooseDestination(blocked, 'https://bank.example./login', declared)).toEqual({ skip: 'site is blocked' });
    expect(chooseDestination(blocked, 'https://widget.example/', declared, 'https://www.bank.example./')).toEqual({ skip: 'site is blocked' });
  });

  it('sends declared apps to their receiver, undeclared ones only to mine when asked', () => {
    const s = DEFAULT_SETTINGS;
    expect(chooseDestination(s, 'https://shop.example/cart', declared)).toEqual({ submitUrl: declared.submitUrl, declared: true });
    expect(chooseDestination(s, 'https://other.example/', null)).toEqual({ skip: 'page declares no receiver' });
    const mine = { ...s, receiverUrl: 'http://127.0.0.1:8000' };
    expect(chooseDestination({ ...mine, reportAllSites: true }, 'https://other.example/', null)).toEqual({ submitUrl: 'http://127.0.0.1:8000/submit', declared: false });
    expect(chooseDestination({ ...mine, allowSites: ['other.example'] }, 'https://a.other.example/', null)).toMatchObject({ declared: false });
    expect(chooseDestination({ ...s, blockSites: ['shop.example'] }, 'https://shop.example/', declared)).toEqual({ skip: 'site is blocked' });
    expect(chooseDestination({ ...s, enabled: false }, 'https://shop.example/', declared)).toEqual({ skip: 'reporting is turned off' });
    expect(chooseDestination(s, 'about:blank', declared)).toEqual({ skip: 'not a web page' });
  });

  it('turns a receiver base URL into its submit URL', () => {
    expect(submitUrlOf('https://r.example')).toBe('https://r.example/submit');
    expect(submitUrlOf('https://r.example/crashes/')).toBe('https://r.example/crashes/submit');
    expect(submitUrlOf('https://r.example/submit?x=1')).toBe('https://r.example/submit');
    expect(submitUrlOf('https://r.example/submit?x=1#f', true)).toBe('https://r.example/submit?x=1');
  });

  it('reads a declared submit URL as every other place does: /submit added when its path lacks it', () => {
    for (const [given, sent] of [
      ['http://127.0.0.1:8670', 'http://127.0.0.1:8670/submit'],
      ['https://crashes.example.com/crash-reports', 'https://crashes.example.com/crash-reports/submit'],
      ['https://crashes.example.com/submit/', 'https://crashes.example.com/submit/'],
    ]) {
      expect(chooseDestination(DEFAULT_SETTINGS, 'https://shop.example/', { ...declared, submitUrl: given })).toEqual({ submitUrl: sent, declared: true });
    }
  });
});
