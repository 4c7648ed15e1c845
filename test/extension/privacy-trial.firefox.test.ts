/**
 * What leaves the browser, seen from the other end: a page that declares an app throws errors
 * carrying private data, and a stand-in collector records every header and byte the extension
 * sends. Found in a privacy trial of the extension against the README's promises.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS, MAX_STACK_CHARS } from '../../extension/src/relay.ts';
import { newGuid, useFirefoxWithExtension, useInlinePages, waitFor } from './harness.ts';

const env = useFirefoxWithExtension();
const pages = useInlinePages();

/** Every submission the stand-in collector got, by the app GUID in its body. */
const seen = new Map<string, { headers: IncomingHttpHeaders; body: string }>();
let collector: Server;
let collectorUrl = '';

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      const guid = /name="WebAppGUID"\r\n\r\n([^\r]*)/.exec(body)?.[1] ?? '';
      seen.set(guid, { headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('CrashID=bp-de1bb258-cbbf-4589-a673-34f800261130\n');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/submit`;
});

afterAll(async () => {
  collector?.closeAllConnections();
  await new Promise<void>((resolve) => (collector ? collector.close(() => resolve()) : resolve()));
});

/** Opens a page of its own declaring a new app that reports to the stand-in collector, runs `script`, and returns what was sent. */
async function submissionOf(script: string): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  const guid = newGuid();
  pages.serve(
    `/${guid}`,
    `<!doctype html><meta charset="utf-8"><meta name="socorrito:guid" content="${guid}">` +
      `<meta name="socorrito:submit-url" content="${collectorUrl}"><meta name="socorrito:release" content="1.0"><script>${script}</script>`,
  );
  const page = await env.browser.newPage();
  await page.goto(pages.nextUrl(`/${guid}`));
  const sent = await waitFor('the submission', () => seen.get(guid));
  await page.close();
  return sent;
}

describe('privacy on the wire', () => {
  it("sends no Accept-Language: the person's languages would link their reports as the Origin would", async () => {
    const { headers } = await submissionOf(`setTimeout(() => { throw new Error('user alice@example.com not found'); })`);
    expect(headers['user-agent']).toMatch(/Firefox\//);
    expect(headers['accept-language']).toBeUndefined();
  });

  it('never sends part of a password when the message or the stack is cut inside a URL that carries one', async () => {
    // Cut at its limit, each text ends in the URL's user name and password, before the `@` that marks them.
    const url = 'https://alice:correcthorsebatterystaple@intranet.example/api';
    const message = `${'m'.repeat(MAX_MESSAGE_CHARS - 'https://alice:correct'.length)}${url}`;
    const stack = `${'s'.repeat(MAX_STACK_CHARS - 'https://alice:correct'.length)}${url}`;
    const { body } = await submissionOf(`setTimeout(() => { const e = new Error(${JSON.stringify(message)}); e.stack = ${JSON.stringify(stack)}; throw e; })`);
    expect(body).toContain(`name="JSErrorMessage"\r\n\r\n${'m'.repeat(100)}`);
    expect(body).toContain(`name="JSStack"\r\n\r\n${'s'.repeat(100)}`);
    expect(body).not.toContain('alice');
    expect(body).not.toContain('correct');
  });

  it('sends no password that has an @ in it, nor one in a percent-encoded URL', async () => {
    const { body } = await submissionOf(
      `setTimeout(() => { throw new Error('login via https://alice:p@ssw0rd@intranet.example/sso then /redirect/https%3A%2F%2Fbob%3Ahunter2%40idp.example%2Fcb failed'); })`,
    );
    expect(body).toContain('name="JSErrorMessage"\r\n\r\nlogin via https://intranet.example/sso then /redirect/https%3A%2F%2Fidp.example%2Fcb failed\r\n');
    expect(body).not.toMatch(/alice|ssw0rd|bob|hunter2/);
  });
});
