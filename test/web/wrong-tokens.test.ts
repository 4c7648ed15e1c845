// Guessing a token over the API is as slow as guessing it at the login form.
import { expect, it } from 'vitest';
import { WRONG_TOKENS_PER_MINUTE } from '../../receiver/src/web/auth.ts';
import { startTestReceiver } from '../helpers/receiver.ts';

it('answers 429 to every token from a client that sent too many wrong ones, the right one too', async () => {
  const r = await startTestReceiver();
  try {
    const get = (token: string) => fetch(`${r.url}/api/apps`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < WRONG_TOKENS_PER_MINUTE; i++) expect((await get(`wrong-${i}`)).status).toBe(401);
    const limited = await get('wrong-again');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: 'too_many_wrong_tokens' });
    // The right token now looks the same as a wrong one: a guesser learns nothing.
    expect((await get(r.adminToken)).status).toBe(429);
  } finally {
    await r.stop();
  }
});

it('never limits a client that sends the right token', async () => {
  const r = await startTestReceiver();
  try {
    for (let i = 0; i < WRONG_TOKENS_PER_MINUTE + 10; i++) {
      expect((await fetch(`${r.url}/api/apps`, { headers: { authorization: `Bearer ${r.adminToken}` } })).status).toBe(200);
    }
  } finally {
    await r.stop();
  }
});
