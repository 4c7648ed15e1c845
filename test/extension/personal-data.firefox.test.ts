/**
 * "Hide e-mail addresses and tokens in messages" end to end in real headless Firefox with the
 * extension installed, against a real receiver: a page at an address with an e-mail in its path
 * throws an error whose name and message carry an address, a JSON Web Token, a Bearer token and a
 * password. With the option on (the default) none of them reaches the receiver and two people's
 * reports of the bug share one signature; with it off they arrive as written, but for a URL's
 * user name and password, which never leave. A report queued with it off is sent with it on once
 * the person turns it on. (A scheme-relative URL's password after a comma never leaves either.)
 */
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { freePort, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { extensionStorage, newGuid, showExtensionPage, useFirefoxWithExtension, useInlinePages, waitFor, waitForCrashes } from './harness.ts';

const env = useFirefoxWithExtension();
const pages = useInlinePages();

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

/** The page's error: its name a URL with a password and a token, its message personal data and things that only look like it. */
function script(user: string): string {
  const message = `user ${user}@example.com not found; sent "password":"hunter2", Bearer ${JWT} (@scope/pkg user@1.2.3 @media) mirrors=a,//carol:pw2@cdn.example/x`;
  return `setTimeout(() => { const e = new Error(${JSON.stringify(message)}); e.name = 'https://bob:pw1@cdn.example/x?token=T0K'; throw e; }, 0);`;
}

/** Opens a page declaring a new app that reports to `submitUrl`, at `/u/<user>@example.com/<guid>`. */
async function openApp(user: string, submitUrl = `${env.receiver.url}/submit`): Promise<{ page: Page; guid: string; url: string }> {
  const guid = newGuid();
  const path = `/u/${user}@example.com/${guid}`;
  pages.serve(
    path,
    `<!doctype html><meta charset="utf-8"><meta name="socorrito:guid" content="${guid}">` +
      `<meta name="socorrito:submit-url" content="${submitUrl}"><meta name="socorrito:release" content="1.0"><script>${script(user)}</script>`,
  );
  const url = pages.nextUrl(path);
  const page = await env.browser.newPage();
  await page.goto(url);
  return { page, guid, url };
}

/** Sets options through the real options page and its Save button. */
async function saveOptions(values: Record<string, boolean>): Promise<void> {
  await showExtensionPage(env.extensionPage, 'options.html');
  await env.extensionPage.evaluate((v) => {
    for (const [id, value] of Object.entries(v)) (document.getElementById(id) as HTMLInputElement).checked = value;
    delete document.body.dataset.saved;
    (document.getElementById('save') as HTMLButtonElement).click();
  }, values);
  await waitFor('the options to be saved', () => env.extensionPage.evaluate(() => Boolean(document.body.dataset.saved)));
}

async function signatureOf(receiver: TestReceiver, crashId: string): Promise<string> {
  return waitFor('the crash processed', async () => {
    const response = await fetch(`${receiver.url}/api/crashes/${crashId}`, { headers: { authorization: 'Bearer test-admin-token' } });
    const body = (await response.json()) as { processed: { signature: string } | null };
    return body.processed?.signature;
  });
}

describe('hiding e-mail addresses and tokens in Firefox', () => {
  it('is on by default: the name, message, page URL and stack carry placeholders, and two people share one signature', async () => {
    const alice = await openApp('alice');
    const bob = await openApp('bob');
    const [a] = await waitForCrashes(env.receiver, alice.guid);
    const [b] = await waitForCrashes(env.receiver, bob.guid);
    await alice.page.close();
    await bob.page.close();
    const annotations = a!.annotations;
    expect(JSON.stringify(annotations)).not.toMatch(/alice|hunter2|eyJ|pw1|T0K|carol|pw2/);
    expect(annotations.JSErrorType).toBe('https://cdn.example/x');
    expect(annotations.JSErrorMessage).toBe('user [email] not found; sent "password":"[filtered]", Bearer [token] (@scope/pkg user@1.2.3 @media) mirrors=a,//cdn.example/x');
    const origin = new URL(alice.url).origin;
    expect(annotations.URL).toBe(`${origin}/u/[email]/${alice.guid}`);
    // Firefox names the page in its inline script's frame: the frame keeps its line and column.
    expect(annotations.JSStack).toMatch(new RegExp(`^@${origin.replaceAll('.', '\\.')}/u/\\[email\\]/${alice.guid}:1:\\d+\\n`));
    const signature = await signatureOf(env.receiver, a!.crash_id);
    expect(signature).toBe(await signatureOf(env.receiver, b!.crash_id));
    expect(signature).toContain('user [email] not found');
  });

  it('sends them as written when the person turns it off, but never the password of a URL', async () => {
    await saveOptions({ hideEmailsAndTokens: false, stripQueryAndFragment: false });
    try {
      const { page, guid, url } = await openApp('alice');
      const [crash] = await waitForCrashes(env.receiver, guid);
      await page.close();
      const annotations = crash!.annotations;
      expect(annotations.JSErrorType).toBe('https://cdn.example/x?token=T0K');
      expect(annotations.JSErrorMessage).toBe(`user alice@example.com not found; sent "password":"hunter2", Bearer ${JWT} (@scope/pkg user@1.2.3 @media) mirrors=a,//cdn.example/x`);
      expect(annotations.URL).toBe(url);
      expect(JSON.stringify(annotations)).not.toMatch(/pw1|carol|pw2/);
    } finally {
      await saveOptions({ hideEmailsAndTokens: true, stripQueryAndFragment: true });
    }
  });

  it('hides them in a report queued while it was off, once it is on when the report is sent', async () => {
    await saveOptions({ hideEmailsAndTokens: false });
    const port = await freePort();
    let receiver: TestReceiver | undefined;
    try {
      const { page, guid } = await openApp('alice', `http://127.0.0.1:${port}/submit`);
      const queued = await waitFor('a failed first attempt', async () => {
        const { reports } = await extensionStorage<{ reports?: { status: string; attempts: number; annotations: Record<string, string> }[] }>(env.extensionPage, ['reports']);
        const entry = reports?.find((r) => r.annotations.WebAppGUID === guid);
        return entry?.status === 'queued' && entry.attempts === 1 ? entry : undefined;
      });
      await page.close();
      expect(queued.annotations.JSErrorMessage).toContain('alice@example.com');
      await saveOptions({ hideEmailsAndTokens: true });
      receiver = await startTestReceiver({ port });
      await showExtensionPage(env.extensionPage, 'popup.html');
      await env.extensionPage.click('#retry');
      const [crash] = await waitForCrashes(receiver, guid);
      expect(JSON.stringify(crash!.annotations)).not.toMatch(/alice|hunter2|eyJ/);
      expect(crash!.annotations.JSErrorMessage).toContain('user [email] not found');
    } finally {
      await saveOptions({ hideEmailsAndTokens: true });
      await receiver?.stop();
    }
  });
});
