import { describe, expect, it } from 'vitest';
import type { ProcessedCrash } from '../storage/types.ts';
import { chatText, NewSignatureWebhook, WEBHOOK_EVENTS_PER_MINUTE } from './webhook.ts';

describe('chatText', () => {
  it('leaves crash data nothing a chat would ping, link or render as an image', () => {
    const text = chatText('@channel @all [Reset your password](https://evil.example/login) ![x](https://evil.example/t.png) www.evil.example <!here> a&b');
    for (const live of ['@channel', '@all', '](', '![', 'https://', 'www.', '<!here>', '&b']) expect(text, live).not.toContain(live);
    // It still reads the same to a person.
    expect(text.replace(/\u200b/g, '')).toBe('@channel @all [Reset your password](https://evil.example/login) ![x](https://evil.example/t.png) www.evil.example &lt;!here&gt; a&amp;b');
  });
});

describe('NewSignatureWebhook', () => {
  it('sends at most 20 events a minute, and the next one says how many were left out', async () => {
    const sent: { text: string; left_out?: number }[] = [];
    const clock = { now: 0 };
    const logs: string[] = [];
    const hook = new NewSignatureWebhook({
      url: 'https://hooks.example/x',
      receiverUrl: () => 'https://crashes.example',
      log: (l) => logs.push(l),
      now: () => clock.now,
      fetch: (async (_url: string, init: RequestInit) => {
        sent.push(JSON.parse(init.body as string));
        return new Response('ok');
      }) as typeof fetch,
    });
    const crash = (i: number) => ({ crash_id: `c${i}`, signature: `Error: made-up ${i}`, signature_id: `s${i}`, product: 'Shop', version: null, app_guid: null, error_type: 'Error', submitted_at: '' }) as unknown as ProcessedCrash;
    for (let i = 0; i < WEBHOOK_EVENTS_PER_MINUTE + 5; i++) hook.notify(crash(i));
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toHaveLength(WEBHOOK_EVENTS_PER_MINUTE);
    expect(logs).toEqual([`webhook: more than ${WEBHOOK_EVENTS_PER_MINUTE} events in a minute; the next ones are counted, not sent, until the minute is over`]);
    clock.now += 60_000;
    hook.notify(crash(99));
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.at(-1)).toMatchObject({ left_out: 5, text: expect.stringMatching(/\(and 5 more events not sent: over 20 a minute\)$/) });
  });
});
