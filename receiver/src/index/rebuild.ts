import type { CrashStorage, ProcessedCrash } from '../storage/types.ts';
import type { CrashIndex } from './crash-index.ts';
import { Annotation, environmentName } from '../../../shared/src/protocol.ts';

/** Processed crashes read from storage per index transaction. */
export const REBUILD_BATCH = 500;

export interface RebuildProgress {
  /** Crash folders looked at so far, of `total`. */
  seen: number;
  total: number;
  indexed: number;
  /** Raw crashes with no processed crash yet (the processor will index them). */
  unprocessed: number;
}

export interface RebuildOptions {
  /**
   * `bulk` empties the index and loads without the count triggers, then recounts: fastest,
   * for `socorrito reindex` while the receiver is stopped. `live` upserts into the index as it
   * is, so a running receiver can keep indexing new crashes at the same time.
   */
  mode: 'bulk' | 'live';
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Stops between batches; the index is then left marked incomplete. */
  signal?: AbortSignal;
}

/**
 * Fills the index from every processed crash in storage and marks it complete.
 *
 * @example
 *   await rebuildIndex(storage, index, { mode: 'bulk', onProgress: (p) => console.log(`${p.seen}/${p.total}`) });
 */
export async function rebuildIndex(storage: CrashStorage, index: CrashIndex, options: RebuildOptions): Promise<RebuildProgress> {
  const ids: string[] = [];
  for await (const id of storage.listCrashIds()) ids.push(id);
  const progress: RebuildProgress = { seen: 0, total: ids.length, indexed: 0, unprocessed: 0 };
  const batchSize = options.batchSize ?? REBUILD_BATCH;
  if (options.mode === 'bulk') index.startBulk();
  options.onProgress?.({ ...progress });
  for (let i = 0; i < ids.length; i += batchSize) {
    if (options.signal?.aborted) return progress;
    const batch: ProcessedCrash[] = [];
    for (const id of ids.slice(i, i + batchSize)) {
      const processed = await storage.getProcessed(id);
      progress.seen++;
      if (!processed || typeof processed.signature_id !== 'string') {
        progress.unprocessed++;
        continue;
      }
      // Processed before environments were kept: its page may have declared one all the same
      // (the extension sent it to a receiver that did not read it yet).
      if (!('environment' in processed)) processed.environment = environmentName((await storage.getRaw(id))?.annotations[Annotation.Environment]);
      batch.push(processed);
    }
    if (options.signal?.aborted) return progress;
    if (options.mode === 'bulk') index.loadBulk(batch);
    else index.upsertMany(batch);
    progress.indexed += batch.length;
    options.onProgress?.({ ...progress });
  }
  if (options.mode === 'bulk') index.finishBulk();
  else index.markRebuilt();
  return progress;
}
