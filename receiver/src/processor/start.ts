import type { Config } from '../config.ts';
import type { CrashStorage, ProcessedCrash, RawCrash, WorkQueue } from '../storage/types.ts';
import { REMOTE_FETCH_DEFAULTS, RemoteFetcher } from '../symbols/remote.ts';
import { SourceMapStore } from '../symbols/store.ts';
import { Symbolicator } from '../symbols/symbolicate.ts';
import { BackgroundProcessor } from './runner.ts';
import { DEFAULT_TUNING_DIR, loadTuning } from './tuning.ts';

export interface Processing {
  store: SourceMapStore;
  symbolicator: Symbolicator;
  processor: BackgroundProcessor;
  /** Stops the processor (after the crash in hand) and frees the cached source maps. */
  close(): Promise<void>;
}

/**
 * Opens the source map store and builds the background processor from the configuration.
 * Tuning files are read and checked here, so a bad pattern stops the receiver at start.
 * Call `processor.start()` once the server listens; `processor.wake()` when a crash is queued.
 */
export async function openProcessing(
  config: Config,
  deps: {
    dataDir: string;
    tmpDir: string;
    storage: CrashStorage;
    queue: WorkQueue;
    log: (line: string) => void;
    onProcessed?: (processed: ProcessedCrash, raw: RawCrash) => void | Promise<void>;
    yieldTo?: () => boolean;
  },
): Promise<Processing> {
  const tuning = loadTuning(config.tuningDir ?? DEFAULT_TUNING_DIR, config.libraryUrlPatterns);
  const store = new SourceMapStore(deps.dataDir, deps.tmpDir);
  await store.open();
  const remote = config.fetchSourcesFrom.length
    ? new RemoteFetcher({
        ...REMOTE_FETCH_DEFAULTS,
        allowedOrigins: config.fetchSourcesFrom,
        allowPrivate: config.fetchAllowPrivate,
        maxBytes: config.fetchMaxBytes,
        timeoutMs: config.fetchTimeoutMs,
      })
    : null;
  if (remote) deps.log(`processor: may fetch scripts and maps from ${config.fetchSourcesFrom.join(', ')}`);
  const symbolicator = new Symbolicator({ store, cacheBytes: config.sourcemapCacheBytes, remote });
  const processor = new BackgroundProcessor({
    storage: deps.storage,
    queue: deps.queue,
    symbolicator,
    tuning,
    onProcessed: deps.onProcessed,
    log: deps.log,
    yieldTo: deps.yieldTo,
  });
  return {
    store,
    symbolicator,
    processor,
    close: async () => {
      await processor.stop();
      symbolicator.close();
    },
  };
}
