/**
 * Polls `probe` until it gives a truthy value (returned), or fails after `ms` naming `what`. A
 * probe that throws (a server still starting) is tried again; the last error is in the failure.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message ?? String(last)}` : ''}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
