import type { ProcessedCrash, RawCrash } from '../../receiver/src/storage/types.ts';

export const TOKEN = 'test-admin-token';
export const auth = { authorization: `Bearer ${TOKEN}` };

/** GET /api/crashes/<id> until the processor has written the processed crash. */
export async function waitProcessed(baseUrl: string, crashId: string, timeoutMs = 30_000, after?: string): Promise<ProcessedCrash> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${baseUrl}/api/crashes/${crashId}`, { headers: auth });
    if (res.status !== 200 && res.status !== 404) throw new Error(`GET /api/crashes/${crashId} answered ${res.status}`);
    if (res.status === 200) {
      const body = (await res.json()) as { raw: RawCrash; processed: ProcessedCrash | null };
      if (body.processed && (!after || body.processed.processed_at > after)) return body.processed;
    }
    if (Date.now() > deadline) throw new Error(`crash ${crashId} was not processed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
