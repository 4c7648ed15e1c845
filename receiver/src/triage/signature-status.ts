import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BROWSER_EXTENSION_MARK } from '../processor/signature.ts';
import type { ProcessedCrash } from '../storage/types.ts';
import { type FsOps, SharedFlush, writeFileDurably } from '../storage/durable.ts';

/** The file, in the data dir, that holds every triaged signature. */
export const STATUS_FILE = 'signature-status.json';
const FILE_FORMAT = 1;

/** What a person can set a signature to. `open` clears it (and any regression mark). */
export const STATUSES = ['open', 'resolved', 'ignored'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * The triage state of one signature. A signature with no entry is open and was never triaged.
 * An entry with status `open` is one that regressed: it was resolved and crashed again.
 */
export interface SignatureStatus {
  status: Status;
  /** When this status was set (ISO); for a regression, when it regressed. */
  at: string;
  /**
   * For "resolved in the next release": the newest version seen when it was resolved. Only
   * crashes from a version not in `seen_versions` regress it then; null: any later crash does.
   */
  by_version?: string | null;
  /** The versions that had crashed with this signature when it was resolved in the next release. */
  seen_versions?: string[];
  note?: string;
  /** When a crash submitted after the resolution reopened it (ISO), and which crash. */
  regressed_at?: string;
  regressed_by?: string;
  /** The resolution a regression undid: when it was resolved. */
  resolved_at?: string;
}

/**
 * Why a signature nobody has triaged starts out ignored, or null when it starts out open. An
 * error thrown entirely by browser extensions' scripts in the page is not the app's, and would
 * crowd its top crashers (Sentry's inbound filters drop the same); "Reopen" lists it like any
 * other signature.
 */
export function ignoredByDefault(signature: string | null | undefined): string | null {
  return signature?.endsWith(BROWSER_EXTENSION_MARK) ? "every script in its stacks is a browser extension's, not the app's" : null;
}

/** Longest bug link kept. */
export const MAX_BUG_URL_CHARS = 500;

/** Why `value` cannot be a bug link, or null when it can. */
export function bugUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'not a string';
  const text = value.trim();
  if (text.length > MAX_BUG_URL_CHARS) return `longer than ${MAX_BUG_URL_CHARS} characters`;
  const url = URL.parse(text);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return `${JSON.stringify(text.slice(0, 60))} is not an http(s) URL`;
  if (url.username || url.password) return `${JSON.stringify(url.host)} is given with a user name or password, which a link on the pages would show`;
  return null;
}

/**
 * A bug link as kept, once bugUrlProblem passed it: as the URL parser writes it, so what the
 * page shows is where the link goes (line breaks dropped, bidi controls and spaces
 * percent-encoded).
 */
export function bugUrl(value: string): string {
  return new URL(value.trim()).href;
}

/**
 * Where a signature's triage state came from when reprocessing regrouped the crashes of a
 * triaged signature under it (see SignatureStatuses.crashRegrouped).
 */
export interface CarriedFrom {
  signature_id: string;
  /** The old signature's text, kept here: it may have no crash left to name it in the index. */
  signature: string;
  /** When it was carried over (ISO). */
  at: string;
}

/** Where reprocessing moved crashes of a signature: the signatures they went to, newest first, at most MAX_MOVED_TO. */
export type MovedTo = CarriedFrom[];

/** Destinations kept per signature: enough to follow a minified signature split into a few. */
export const MAX_MOVED_TO = 10;

/** A change asked for: the status, a note, and for `resolved` the versions seen so far when "in the next release". */
export interface StatusChange {
  status: Status;
  note?: string;
  /** Set for "resolved in the next release": the versions seen so far, newest first. */
  nextReleaseAfter?: string[];
}

/** A status file that cannot be read or understood; the receiver refuses to start rather than lose triage. */
export class StatusFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StatusFileError';
  }
}

export interface SignatureStatusesOptions {
  dataDir: string;
  /** Temp dir on the same filesystem, for the durable write's temp file. */
  tmpDir: string;
  log: (line: string) => void;
  now?: () => Date;
  /** The filesystem the file is written through (tests count or fail its writes). */
  fs?: FsOps;
}

/**
 * Which signatures are resolved or ignored, and the bugs filed for them, kept in memory and
 * written whole to one file on every change (temp file, fsync, rename): a few hundred bytes per
 * triaged signature. The index
 * is a cache rebuilt from stored crashes; this is not, so it lives beside it, not in it.
 *
 *     <data-dir>/
 *       signature-status.json   {"format":1,"signatures":{"<signature_id>":{"status":"resolved","at":"…",…}},
 *                                "bugs":{"<signature_id>":["https://github.com/…/issues/12"]},
 *                                "carried":{"<signature_id>":{"signature_id":"<old id>","signature":"…","at":"…"}},
 *                                "moved":{"<signature_id>":[{"signature_id":"<new id>","signature":"…","at":"…"}]}}
 *
 * Regression rule: a crash whose signature is resolved and that was *submitted* after the
 * resolution reopens it (reprocessing an older crash does not). Resolved "in the next release"
 * (`by_version` set), only such a crash from a version not seen before the resolution does.
 * Ignored signatures stay ignored whatever comes in.
 *
 * Changes made while a write is under way go out together in the next one, so a burst of them
 * (reprocessing regrouping many signatures at once) costs a few writes, not one each.
 */
export class SignatureStatuses {
  readonly #entries: Map<string, SignatureStatus>;
  /** Bug or issue URLs per signature, kept apart from its status: filing a bug is not triage. */
  readonly #bugs: Map<string, string[]>;
  /** Signatures whose state was carried over from another one, until a person changes their status or note. */
  readonly #carried: Map<string, CarriedFrom>;
  /**
   * Where reprocessing moved crashes of each signature, so the page of one it emptied (a
   * minified signature whose maps came late, which a "new signature" alert may link to) says
   * where they went. Not triage, but not in the index either: the index is a cache.
   */
  readonly #moved: Map<string, MovedTo>;
  readonly #options: SignatureStatusesOptions;
  /** Writes the whole state, one write at a time; changes made during one go out together in the next. */
  readonly #writes = new SharedFlush(() => {
    const sorted = <T,>(map: Map<string, T>) => Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));
    const state = { format: FILE_FORMAT, signatures: sorted(this.#entries), bugs: sorted(this.#bugs), carried: sorted(this.#carried), moved: sorted(this.#moved) };
    const text = `${JSON.stringify(state, null, 1)}\n`;
    return writeFileDurably(join(this.#options.dataDir, STATUS_FILE), text, this.#options.tmpDir, this.#options.fs);
  });

  private constructor(
    options: SignatureStatusesOptions,
    entries: Map<string, SignatureStatus>,
    bugs: Map<string, string[]>,
    carried: Map<string, CarriedFrom>,
    moved: Map<string, MovedTo>,
  ) {
    this.#options = options;
    this.#entries = entries;
    this.#bugs = bugs;
    this.#carried = carried;
    this.#moved = moved;
  }

  /** Reads the file (absent: nothing triaged yet). */
  static async open(options: SignatureStatusesOptions): Promise<SignatureStatuses> {
    const path = join(options.dataDir, STATUS_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new SignatureStatuses(options, new Map(), new Map(), new Map(), new Map());
      throw new StatusFileError(`Could not read ${path}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new StatusFileError(`${path} is not JSON (${(err as Error).message}); fix it, or remove it to start with every signature open and no bug links`, { cause: err });
    }
    const signatures = (parsed as { signatures?: unknown } | null)?.signatures;
    if (typeof signatures !== 'object' || signatures === null || Array.isArray(signatures)) {
      throw new StatusFileError(`${path} has no "signatures" object; fix it, or remove it to start with every signature open and no bug links`);
    }
    const entries = new Map<string, SignatureStatus>();
    for (const [id, entry] of Object.entries(signatures)) {
      const e = entry as Partial<SignatureStatus> | null;
      if (!e || !STATUSES.includes(e.status as Status) || typeof e.at !== 'string') {
        throw new StatusFileError(`${path}: signature ${JSON.stringify(id)} has no valid status and time; ${START_AFRESH}`);
      }
      entries.set(id, e as SignatureStatus);
    }
    // Files written before bug links have none.
    const bugs = new Map<string, string[]>();
    for (const [id, urls] of objectField(parsed, 'bugs', path)) {
      // A link the page would make of a hand-edited `javascript:` one could run in it.
      if (!Array.isArray(urls) || !urls.every((u) => bugUrlProblem(u) === null)) {
        throw new StatusFileError(`${path}: the bugs of signature ${JSON.stringify(id)} are not a list of http(s) URLs; ${START_AFRESH}`);
      }
      if (urls.length) bugs.set(id, urls as string[]);
    }
    // Files written before states were carried over, or moves kept, have none.
    const carried = new Map<string, CarriedFrom>();
    for (const [id, value] of objectField(parsed, 'carried', path)) {
      const from = signatureRef(value);
      if (!from) throw new StatusFileError(`${path}: where the state of signature ${JSON.stringify(id)} was carried over from is not a signature ID, text and time; ${START_AFRESH}`);
      carried.set(id, from);
    }
    const moved = new Map<string, MovedTo>();
    for (const [id, value] of objectField(parsed, 'moved', path)) {
      const to = Array.isArray(value) ? value.map(signatureRef) : [null];
      if (!to.every((t) => t !== null)) throw new StatusFileError(`${path}: where crashes of signature ${JSON.stringify(id)} were moved is not a list of signature IDs, texts and times; ${START_AFRESH}`);
      if (to.length) moved.set(id, to.slice(0, MAX_MOVED_TO));
    }
    return new SignatureStatuses(options, entries, bugs, carried, moved);
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** The signature's entry, or null when it is open and was never triaged. */
  get(signatureId: string): SignatureStatus | null {
    return this.#entries.get(signatureId) ?? null;
  }

  /** The signature's status: its entry's, else the one it starts out with (see ignoredByDefault). */
  statusOf(signatureId: string, signature: string | null | undefined): Status {
    return this.#entries.get(signatureId)?.status ?? (ignoredByDefault(signature) ? 'ignored' : 'open');
  }

  /**
   * Sets a signature's status and resolves once the file holding it is on disk. `signature` is
   * its text, which says whether open is the status it starts out with.
   */
  async set(signatureId: string, change: StatusChange, signature: string | null): Promise<SignatureStatus | null> {
    const at = this.#now().toISOString();
    let entry: SignatureStatus | null = null;
    // A person's decision now, not the one carried over.
    this.#carried.delete(signatureId);
    // Open needs no entry where it is the default, unless it comes with a note (why it was reopened).
    if (change.status === 'open' && !change.note && !ignoredByDefault(signature)) this.#entries.delete(signatureId);
    else {
      entry = { status: change.status, at };
      if (change.status === 'resolved') {
        entry.by_version = change.nextReleaseAfter ? (change.nextReleaseAfter[0] ?? '') : null;
        if (change.nextReleaseAfter) entry.seen_versions = change.nextReleaseAfter;
      }
      if (change.note) entry.note = change.note;
      this.#entries.set(signatureId, entry);
    }
    await this.#save();
    return entry;
  }

  /**
   * Keeps a note with a signature's status, or removes it (`note` undefined), leaving the status
   * as it is; resolves once the file holding it is on disk.
   */
  async setNote(signatureId: string, note: string | undefined, signature: string | null): Promise<SignatureStatus | null> {
    const old = this.#entries.get(signatureId);
    this.#carried.delete(signatureId);
    const entry: SignatureStatus | null = old ? { ...old } : note ? { status: this.statusOf(signatureId, signature), at: this.#now().toISOString() } : null;
    if (entry) {
      if (note) entry.note = note;
      else delete entry.note;
      // An open signature with nothing to say about it needs no entry, where open is its default.
      const nothingLeft = entry.status === 'open' && !entry.note && !entry.regressed_at && !ignoredByDefault(signature);
      if (nothingLeft) this.#entries.delete(signatureId);
      else this.#entries.set(signatureId, entry);
    }
    await this.#save();
    return entry && this.#entries.get(signatureId) ? entry : null;
  }

  /**
   * Called for every processed crash: when it regresses a resolved signature, reopens it (in
   * memory at once, so one burst regresses it once; on disk soon after) and returns the new
   * entry; otherwise null.
   */
  crashProcessed(crash: ProcessedCrash): SignatureStatus | null {
    const entry = this.#entries.get(crash.signature_id);
    if (entry?.status !== 'resolved' || crash.processing_error) return null;
    if (!(Date.parse(crash.submitted_at) > Date.parse(entry.at))) return null;
    if (entry.by_version != null && (entry.seen_versions ?? [entry.by_version]).includes(crash.version ?? '')) return null;
    const regressed: SignatureStatus = {
      status: 'open',
      at: this.#now().toISOString(),
      regressed_at: this.#now().toISOString(),
      regressed_by: crash.crash_id,
      resolved_at: entry.at,
      ...(entry.note ? { note: entry.note } : {}),
    };
    this.#entries.set(crash.signature_id, regressed);
    this.#save().catch((err: Error) => this.#options.log(`triage: could not record the regression of ${crash.signature_id}: ${err.message}`));
    return regressed;
  }

  /** Where the signature's state was carried over from, or null when it was set on it (or it has none). */
  carriedFrom(signatureId: string): CarriedFrom | null {
    return this.#carried.get(signatureId) ?? null;
  }

  /** Where reprocessing moved crashes of the signature, newest first; empty when it never did. */
  movedTo(signatureId: string): MovedTo {
    return this.#moved.get(signatureId) ?? [];
  }

  /**
   * Called when processing a crash again moved it from one signature to another: the old
   * signature's page then says where. Written soon after, with whatever else changed meanwhile;
   * a move already recorded costs nothing (reprocessing moves crashes in bulk).
   */
  crashMoved(fromSignatureId: string, to: { signature_id: string; signature: string }): void {
    const before = this.#moved.get(fromSignatureId) ?? [];
    if (before.some((m) => m.signature_id === to.signature_id)) return;
    const entry = { signature_id: to.signature_id, signature: to.signature, at: this.#now().toISOString() };
    this.#moved.set(fromSignatureId, [entry, ...before].slice(0, MAX_MOVED_TO));
    this.#saveSoon();
  }

  /** Whether anything was said about the signature: a status entry (which a note needs) or bug links. */
  #triaged(signatureId: string): boolean {
    return this.#entries.has(signatureId) || this.#bugs.has(signatureId);
  }

  /**
   * Called when processing a crash again moved it from one signature to another (a release that
   * makes signatures differently, source maps uploaded late). When the old one was triaged and
   * the new one never was, the new one takes a copy of the old one's status (its time and "next
   * release" versions too), note and bug links, as the same bug under its new name; it is
   * recorded where it came from (see carriedFrom). A signature with a state of its own keeps it,
   * and the old one keeps its state (older clients may still crash with it). Returns whether it
   * carried anything; the state is in memory at once (the crashes after it see it) and on disk
   * soon after, together with whatever else changed meanwhile.
   */
  crashRegrouped(from: { signature_id: string; signature: string }, toSignatureId: string): boolean {
    if (from.signature_id === toSignatureId || !this.#triaged(from.signature_id) || this.#triaged(toSignatureId)) return false;
    const entry = this.#entries.get(from.signature_id);
    if (entry) this.#entries.set(toSignatureId, { ...entry, ...(entry.seen_versions ? { seen_versions: [...entry.seen_versions] } : {}) });
    const bugs = this.#bugs.get(from.signature_id);
    if (bugs) this.#bugs.set(toSignatureId, [...bugs]);
    this.#carried.set(toSignatureId, { signature_id: from.signature_id, signature: from.signature, at: this.#now().toISOString() });
    this.#saveSoon();
    return true;
  }

  /** The bug or issue URLs filed for a signature, in the order they were added. */
  bugsOf(signatureId: string): string[] {
    return this.#bugs.get(signatureId) ?? [];
  }

  /** Replaces a signature's bug URLs (checked by parseBugList) and resolves once they are on disk. */
  async setBugs(signatureId: string, urls: string[]): Promise<void> {
    if (urls.length) this.#bugs.set(signatureId, urls);
    else this.#bugs.delete(signatureId);
    await this.#save();
  }

  /** Resolves once every change made so far is on disk. */
  async flushed(): Promise<void> {
    await this.#soon;
    return this.#writes.settled();
  }

  /** The write #saveSoon will start after this turn, if one is asked for. */
  #soon: Promise<void> | null = null;

  /**
   * Saves after this turn of the event loop, for changes nobody waits on (reprocessing's): the
   * ones made together (a crash's carried state and its move) go in one write.
   */
  #saveSoon(): void {
    this.#soon ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#soon = null;
        this.#save()
          .catch((err: Error) => this.#options.log(`triage: could not write ${STATUS_FILE} after reprocessing regrouped crashes (${err.message}); it is written again at the next change`))
          .finally(resolve);
      }),
    );
  }

  /**
   * Writes one at a time, each the whole current state, so the file never goes back in time.
   * Resolves once a write that began after this call is on disk: while one is under way, every
   * change joins the single write queued behind it, so a burst costs two writes, not one each.
   */
  #save(): Promise<void> {
    return this.#writes.flush();
  }
}

/** What every complaint about the status file ends with. */
const START_AFRESH = 'fix it, or remove the file to start with every signature open and no bug links';

/** An optional object field of the status file, as entries ({} when absent). */
function objectField(parsed: unknown, name: string, path: string): [string, unknown][] {
  const field = (parsed as Record<string, unknown>)[name] ?? {};
  if (typeof field !== 'object' || field === null || Array.isArray(field)) throw new StatusFileError(`${path}: "${name}" is not an object; ${START_AFRESH}`);
  return Object.entries(field);
}

/** A signature named in the file (ID, text, time), or null when it is not one. */
function signatureRef(value: unknown): CarriedFrom | null {
  const f = value as Partial<CarriedFrom> | null;
  if (!f || typeof f.signature_id !== 'string' || typeof f.signature !== 'string' || typeof f.at !== 'string') return null;
  return { signature_id: f.signature_id, signature: f.signature, at: f.at };
}
