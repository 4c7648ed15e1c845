/**
 * What the page-world hook hands to the isolated content script, and the checks the content
 * script and the background apply to it. The page can dispatch the same event with anything
 * in it, so everything here is untrusted: strings are cut to their limits, numbers clamped,
 * and entries of the wrong shape are dropped.
 */

/** The CustomEvent type on `document` that carries a JSON batch of captured errors. */
export const RELAY_EVENT = 'socorrito:errors';
/** The message type the content script sends to the background. */
export const ERRORS_MESSAGE = 'socorrito:errors';

export const MAX_ERRORS_PER_BATCH = 20;
export const MAX_TYPE_CHARS = 100;
export const MAX_MESSAGE_CHARS = 2_000;
export const MAX_STACK_CHARS = 16_000;
export const MAX_URL_CHARS = 2_000;
/** A batch is at most this long as JSON text; longer events are ignored unread. */
export const MAX_RELAY_CHARS = MAX_ERRORS_PER_BATCH * (MAX_STACK_CHARS + MAX_MESSAGE_CHARS + 2 * MAX_URL_CHARS + 500);
export const MAX_REPEAT_COUNT = 1_000_000_000;
const MAX_POSITION = 100_000_000;

export type CaptureMechanism = 'onerror' | 'unhandledrejection';

/** One distinct error seen in the page, with how many times it happened in this batch. */
export interface CapturedError {
  mechanism: CaptureMechanism;
  type: string;
  message: string;
  stack: string;
  filename: string;
  line: number;
  column: number;
  count: number;
}

export interface ErrorBatch {
  errors: CapturedError[];
  /** Errors the hook could not keep (too many distinct ones at once). */
  dropped: number;
}

function text(value: unknown, max: number): string | null {
  return typeof value === 'string' ? value.slice(0, max) : null;
}

function whole(value: unknown, min: number, max: number): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/** A checked copy of one captured error, or null when it has the wrong shape. */
export function validateCapturedError(value: unknown): CapturedError | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const mechanism = v.mechanism === 'onerror' || v.mechanism === 'unhandledrejection' ? v.mechanism : null;
  const type = text(v.type, MAX_TYPE_CHARS);
  const message = text(v.message, MAX_MESSAGE_CHARS);
  const stack = text(v.stack, MAX_STACK_CHARS);
  const filename = text(v.filename, MAX_URL_CHARS);
  const line = whole(v.line, 0, MAX_POSITION);
  const column = whole(v.column, 0, MAX_POSITION);
  const count = whole(v.count, 1, MAX_REPEAT_COUNT);
  if (mechanism === null || type === null || message === null || stack === null || filename === null) return null;
  if (line === null || column === null || count === null) return null;
  return { mechanism, type, message, stack, filename, line, column, count };
}

/**
 * Checks a batch (already parsed from JSON, or as the background receives it). Returns null when
 * it is not a batch at all; drops bad entries and keeps at most MAX_ERRORS_PER_BATCH.
 */
export function validateBatch(value: unknown): ErrorBatch | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.errors)) return null;
  const errors: CapturedError[] = [];
  let dropped = whole(v.dropped, 0, MAX_REPEAT_COUNT) ?? 0;
  for (const entry of v.errors.slice(0, MAX_ERRORS_PER_BATCH)) {
    const checked = validateCapturedError(entry);
    if (checked) errors.push(checked);
    else dropped++;
  }
  dropped += Math.max(0, v.errors.length - MAX_ERRORS_PER_BATCH);
  return { errors, dropped: Math.min(dropped, MAX_REPEAT_COUNT) };
}

/** Parses the relay event's detail: a JSON string of bounded length. */
export function parseRelayDetail(detail: unknown): ErrorBatch | null {
  if (typeof detail !== 'string' || detail.length > MAX_RELAY_CHARS) return null;
  try {
    return validateBatch(JSON.parse(detail));
  } catch {
    return null;
  }
}

/** The identity of the error's kind: repeats of the same key are one report. */
export function errorKey(e: Pick<CapturedError, 'mechanism' | 'type' | 'message' | 'filename' | 'line' | 'column' | 'stack'>): string {
  return [e.mechanism, e.type, e.message, e.filename, e.line, e.column, e.stack].join('\u0000');
}
