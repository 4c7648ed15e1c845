/**
 * An error in a loop, in real Firefox with the extension against a real receiver: every repeat
 * reaches the receiver in some report's JSRepeatCount, in a few submissions.
 */
import { describe, expect, it } from 'vitest';
import { type RawCrash } from '../../receiver/src/storage/types.ts';
import { crashesOf, extensionStorage, useFirefoxWithExtension, useInlineApps, waitFor } from './harness.ts';

const env = useFirefoxWithExtension();
const openApp = useInlineApps(env);

const repeatsIn = (crashes: RawCrash[]): number => crashes.reduce((n, c) => n + Number(c.annotations.JSRepeatCount ?? '1'), 0);

describe('an error in a loop', () => {
  it('counts every repeat of an error thrown thousands of times by a timer, in a few reports', async () => {
    const THROWS = 3_000;
    // A timer throws every few milliseconds (about 15 to 20 s in all), as a broken render loop
    // does. The page also sums the repeats the hook hands on (its relay event is visible by design).
    const { page, guid } = await openApp(`let n = 0;
      window.relayed = 0;
      document.addEventListener('socorrito:errors', (e) => { for (const x of JSON.parse(e.detail).errors) relayed += x.count; });
      const id = setInterval(() => { if (++n === ${THROWS}) clearInterval(id); throw new TypeError('loop tick'); }, 5);`);
    // Closed only once the hook has handed everything on: Firefox may end the page's scripts
    // before the batch the hook sends as a tab closes arrives (see MAX_FLUSH_DELAY_MS in hook.ts).
    await page.waitForFunction((n) => (window as unknown as { relayed: number }).relayed === n, { timeout: 120_000 }, THROWS);
    await page.close();
    // The first report goes at once; the repeats after it go together when its minute is over.
    const crashes = await waitFor(
      'every report of the loop to be sent',
      async () => {
        const { reports } = await extensionStorage<{ reports: { status: string; annotations: Record<string, string> }[] }>(env.extensionPage, ['reports']);
        const mine = reports.filter((r) => r.annotations.WebAppGUID === guid);
        if (mine.length === 0 || mine.some((r) => r.status !== 'submitted')) return undefined;
        return crashesOf(env.receiver, guid);
      },
      100_000,
    );
    expect(crashes.every((c) => c.annotations.JSErrorMessage === 'loop tick')).toBe(true);
    expect(repeatsIn(crashes)).toBe(THROWS);
    expect(crashes.length).toBeLessThanOrEqual(3);
    const { stats } = await extensionStorage<{ stats: Record<string, number> }>(env.extensionPage, ['stats']);
    expect(stats).toMatchObject({ droppedInPage: 0, droppedRateLimited: 0, droppedQueueFull: 0 });
  }, 200_000);
});
