import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readVersion } from '../version.ts';
import { type FsOps, nodeFsOps, writeFileDurably } from './durable.ts';
import { isNotFound } from './fs-storage.ts';

/**
 * The data dir's format. Raise it whenever a release stores something an older release would
 * drop or misread when it rewrites a file (a new key in `signature-status.json`, a new folder
 * whose entries it would leave behind): an older receiver then refuses the data dir instead of
 * losing what it does not know.
 *
 * 1: the first marked format (bug links, per-app upload tokens, environments, spike alerts).
 * 2: journal segments begin with a key (a release before it would cut them off as torn), and
 *    `carried` in `signature-status.json` (where a regrouped signature's state came from).
 */
export const DATA_FORMAT = 2;

export const DATA_FORMAT_FILE = 'data-format.json';

/** The data dir was written by a newer release, or its mark cannot be read: the operator decides. */
export class DataFormatError extends Error {}

interface Mark {
  format: number;
  written_by: string;
}

/** This release as the mark names it: `socorrito 0.1.0 (commit 1a2b3c4d5e6f)`. */
export function thisRelease(): string {
  const v = readVersion();
  return `socorrito ${v.version} (commit ${v.commit === 'unknown' ? 'unknown' : v.commit.slice(0, 12)})`;
}

/**
 * Refuses a data dir a newer release has written (`DataFormatError`), else resolves with what
 * the mark said (null for a data dir from before marks, or a new one).
 */
export async function readDataFormat(dataDir: string): Promise<Mark | null> {
  const path = join(dataDir, DATA_FORMAT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw new DataFormatError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let mark: Partial<Mark>;
  try {
    mark = JSON.parse(text) as Partial<Mark>;
  } catch {
    mark = {};
  }
  if (typeof mark.format !== 'number' || !Number.isInteger(mark.format) || mark.format < 1) {
    throw new DataFormatError(`${path} is not a data format mark (${JSON.stringify(text.slice(0, 80))}): restore it from your backup, or delete it if this release wrote the data dir`);
  }
  // Said in the log and in errors: no control characters from a file edited by hand.
  const writtenBy = typeof mark.written_by === 'string' ? mark.written_by.slice(0, 200).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?') : 'an unknown release';
  if (mark.format > DATA_FORMAT) {
    throw new DataFormatError(
      `the data dir ${dataDir} was last used by ${writtenBy}, which stores data format ${mark.format}; ${thisRelease()} reads up to format ${DATA_FORMAT} ` +
        `and would lose what it does not know: run that release or a newer one (going back needs the backup taken before the upgrade)`,
    );
  }
  return { format: mark.format, written_by: writtenBy };
}

/**
 * Checks the mark (as readDataFormat) and writes this release's, when it names another release
 * or format. Call with the data dir locked, before anything else is written there.
 */
export async function markDataFormat(dataDir: string, tmpDir: string, fs: FsOps = nodeFsOps): Promise<{ before: Mark | null }> {
  const before = await readDataFormat(dataDir);
  const mark: Mark = { format: DATA_FORMAT, written_by: thisRelease() };
  if (before?.format !== mark.format || before.written_by !== mark.written_by) {
    await writeFileDurably(join(dataDir, DATA_FORMAT_FILE), `${JSON.stringify(mark)}\n`, tmpDir, fs);
  }
  return { before };
}
