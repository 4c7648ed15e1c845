import { sep } from 'node:path';
import { type JournalFs, nodeJournalFs } from '../../receiver/src/storage/journal.ts';

/**
 * The receiver's filesystem with two holds a test turns on and off, to stop a deletion and the
 * processor at the step it looks at: the processed crash's rename into its folder (each held
 * rename waits in `processedWaiting` until called), and writes to the journal segments opened
 * while `holdJournal` is on, such as the new segment a deletion begins (all wait for `openJournal`).
 */
export function heldFs(): {
  fs: JournalFs;
  holds: { processed: boolean; journal: boolean };
  processedWaiting: (() => void)[];
  openJournal: () => void;
  /** Lets everything held go, and holds nothing more: for the test's cleanup. */
  release: () => void;
} {
  const holds = { processed: false, journal: false };
  const processedWaiting: (() => void)[] = [];
  let openJournal!: () => void;
  const journalGate = new Promise<void>((r) => (openJournal = r));
  const fs: JournalFs = {
    ...nodeJournalFs,
    async rename(from, to) {
      if (holds.processed && to.endsWith(`${sep}processed_crash.json`)) await new Promise<void>((r) => processedWaiting.push(r));
      return nodeJournalFs.rename(from, to);
    },
    async openAppend(path) {
      const file = await nodeJournalFs.openAppend(path);
      return holds.journal ? { ...file, writev: async (buffers) => (await journalGate, file.writev(buffers)) } : file;
    },
  };
  const release = (): void => {
    holds.processed = false;
    for (const go of processedWaiting.splice(0)) go();
    openJournal();
  };
  return { fs, holds, processedWaiting, openJournal, release };
}
