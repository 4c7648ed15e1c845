// An index rebuild that waits until the test lets it go, so a test can ask a receiver about what
// the index being rebuilt does not hold yet. A test file mocks the rebuild module with it:
//   vi.mock('../../receiver/src/index/rebuild.ts', async (importOriginal) => (await import('./held-rebuild.ts')).heldRebuild(importOriginal));

type RebuildModule = typeof import('../../receiver/src/index/rebuild.ts');

let held = false;
let release: () => void = () => undefined;
const released = new Promise<void>((resolve) => (release = resolve));

export const rebuild = {
  /** Rebuilds started from now on wait for `letGo`. */
  hold(): void {
    held = true;
  },
  /** Lets the waiting rebuild, and any later one, go on. */
  letGo(): void {
    release();
  },
};

/** The rebuild module with `rebuildIndex` waiting while `rebuild` holds it. */
export async function heldRebuild(importOriginal: <T>() => Promise<T>): Promise<RebuildModule> {
  const real = await importOriginal<RebuildModule>();
  return {
    ...real,
    rebuildIndex: async (...args: Parameters<RebuildModule['rebuildIndex']>) => {
      if (held) await released;
      return real.rebuildIndex(...args);
    },
  };
}
