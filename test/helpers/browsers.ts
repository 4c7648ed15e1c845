import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

const FIREFOX_PATHS = ['/usr/bin/firefox-esr', '/usr/bin/firefox'];
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function findOrFail(paths: string[], name: string, apt: string): string {
  const found = paths.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`${name} is not installed (looked at ${paths.join(', ')}). Install it with: apt-get install -y ${apt}`);
  }
  return found;
}

export function firefoxPath(): string {
  return findOrFail(FIREFOX_PATHS, 'Firefox', 'firefox-esr');
}

export function chromiumPath(): string {
  return findOrFail(CHROMIUM_PATHS, 'Chromium', 'chromium');
}

/** Headless Firefox over WebDriver BiDi; fails with the install command when Firefox is missing. */
export async function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({ browser: 'firefox', executablePath: firefoxPath(), headless: true });
}

/**
 * Headless Chromium with the flags this closed network needs and a fresh profile. Pass
 * `extensionDir` to load an unpacked extension at launch, or `installExtensions` to load one
 * later with `browser.installExtension(dir)` (Chromium takes that only with
 * --enable-unsafe-extension-debugging, which puppeteer's `enableExtensions` adds).
 */
export async function launchChromium(
  options: { extensionDir?: string; installExtensions?: boolean } = {},
): Promise<Browser & { cleanupProfile(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'socorrito-chromium-'));
  const args = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
  ];
  if (options.extensionDir) {
    args.push(`--disable-extensions-except=${options.extensionDir}`, `--load-extension=${options.extensionDir}`);
  }
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args,
    pipe: true,
    userDataDir: profile,
    enableExtensions: options.installExtensions ?? false,
  });
  return Object.assign(browser, {
    cleanupProfile: () => rm(profile, { recursive: true, force: true }),
  });
}
