import type { Annotations } from '../../../shared/src/protocol.ts';

/** A file that came with a submission, as recorded beside the raw annotations. */
export interface StoredFileInfo {
  /** The form part name, e.g. `upload_file_minidump`; also its file name on disk. */
  name: string;
  /** The file name the client gave the part. */
  filename: string;
  size: number;
  contentType: string;
}

/** What the collector saves for an accepted crash: `raw_crash.json`. */
export interface RawCrash {
  crash_id: string;
  /** ISO time the collector received it. */
  submitted_at: string;
  annotations: Annotations;
  files: StoredFileInfo[];
  /** Collector facts that are not the client's annotations. */
  metadata: {
    throttle_rule: string;
    content_encoding: 'gzip' | 'identity';
    /** `host[:port]/path` the client posted to, as it addressed us (a proxy's X-Forwarded-Host when trusted). */
    submitted_to?: string;
    /** Set by the forwarder on the copy a master keeps (issue 7). */
    [key: string]: unknown;
  };
}

/** One stack frame after processing, innermost first (DESIGN.md contract). */
export interface ProcessedFrame {
  function: string | null;
  url: string | null;
  line: number | null;
  column: number | null;
  category: 'app' | 'library' | 'noise';
  original?: {
    file: string;
    line: number;
    column: number;
    function: string | null;
    /**
     * The original source (or the uploaded script) shows the function is anonymous (a callback,
     * top-level code): the signature skips it, as V8 does, rather than take the name Gecko makes
     * up for it (`loadUser/<`, or webpack's module key `151/<`).
     */
    anonymous?: true;
    context?: { pre: string[]; line: string; post: string[] };
  };
  notes?: string[];
  /** The frame begins an asynchronous part of the stack (Gecko `async*`, `setTimeout handler*`…; V8 `at async`). */
  async?: boolean;
  /** That part began at an `await` (Gecko `async*`, V8 `at async`), not a timer, event or promise callback. */
  awaited?: boolean;
  /** Code made by `eval`/`Function`: url and line are where it was made. */
  eval?: boolean;
}

/**
 * What the processor saves: `processed_crash.json`. The index (top crashers, facets, search)
 * reads the flat fields below; further fields may be added freely.
 */
export interface ProcessedCrash {
  crash_id: string;
  /** ISO time the collector received it (from the raw crash). */
  submitted_at: string;
  processed_at: string;
  signature: string;
  /** A stable short ID of the signature text (URL-safe), for `/signatures/<id>`. */
  signature_id: string;
  /** How the signature was made: which rule changed it from what. */
  signature_notes?: string[];
  notes: string[];
  frames: ProcessedFrame[];
  /** `WebAppGUID`, else null. */
  app_guid: string | null;
  product: string | null;
  version: string | null;
  /** `Environment` as the page declared it (`production`), or null; absent in crashes processed before it was kept. */
  environment?: string | null;
  error_type: string | null;
  error_message: string | null;
  mechanism: string | null;
  /** From UserAgent: e.g. { name: 'Firefox', version: '153.0' }. */
  browser: { name: string; version: string } | null;
  /** From UserAgent: e.g. 'Linux', 'Windows', 'macOS', 'Android', 'iOS'. */
  os: string | null;
  /** Path of the page URL, no query or fragment. */
  url_path: string | null;
  /** When the error happened by the client's clock (CrashTime, ISO), or null; absent in crashes processed before it was kept. */
  crash_time?: string | null;
  /** Set when processing threw: the error name, so the crash is not retried forever. */
  processing_error?: string;
  [key: string]: unknown;
}

/** A submission's multipart body (inflated) and boundary, exactly as the collector parsed it. */
export interface WireSubmission {
  body: Uint8Array;
  boundary: string;
}

/**
 * Where crashes live. Implementations compose like Socorro's: the filesystem store, later a
 * forwarding store and a poly store that writes to several.
 */
export interface CrashStorage {
  /**
   * Saves a raw crash and its files durably; resolves only when they are on disk. `wire` is the
   * submission as it arrived, which a storage may keep instead of encoding the crash again.
   */
  saveRaw(raw: RawCrash, files: ReadonlyMap<string, Uint8Array>, wire?: WireSubmission): Promise<void>;
  /**
   * True while an accepted crash is not in its final place yet (a storage that saves in two
   * steps): it can be read, but not processed until it is.
   */
  awaitingLayout?(crashId: string): boolean;
  getRaw(crashId: string): Promise<RawCrash | null>;
  /** One attached file, byte for byte, or null when the crash or the file is unknown. */
  getFile(crashId: string, name: string): Promise<Uint8Array | null>;
  saveProcessed(processed: ProcessedCrash): Promise<void>;
  getProcessed(crashId: string): Promise<ProcessedCrash | null>;
  delete(crashId: string): Promise<void>;
  /** Every stored crash ID, oldest day first (for reindex and reprocess). */
  listCrashIds(): AsyncIterable<string>;
}

/** The durable processing queue the collector feeds and the processor drains. */
export interface WorkQueue {
  enqueue(crashId: string): Promise<void>;
  /** Crash IDs waiting, oldest first, at most `limit`. */
  pending(limit: number): Promise<string[]>;
  /** Removes a crash from the queue (deleted, or never to be processed). */
  done(crashId: string): Promise<void>;
  /**
   * The processor starts on a crash. Queuing it again from now on (a source map uploaded, a
   * reprocess asked for) means it must be processed once more: `finished` then keeps the entry.
   */
  started(crashId: string): void;
  /** Processing begun with `started` ended (or gave up): removes the entry unless the crash was queued again since. */
  finished(crashId: string): Promise<void>;
  /** Whether a crash is still queued (deleting a crash takes it out of the queue too). */
  has?(crashId: string): boolean;
  /**
   * A deletion of the crash begins: its stored copy goes first, then `done` takes the entry. From
   * now on `has` says it is not queued, so processing that finds the crash gone meanwhile takes
   * it for deleted, not for queued and never stored.
   */
  deleting?(crashId: string): void;
}
