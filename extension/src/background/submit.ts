/** One delivery attempt of a report to a collector, and what its answer means. */
import { type Annotations, encodeSubmission, parseSubmitResponse } from '../../../shared/src/protocol.ts';
import { parseRetryAfter } from './backoff.ts';

/**
 * How long an attempt may take: a report is a few kB, and Firefox suspends an idle background
 * after 30 s, so an attempt to a receiver that never answers must end well before.
 */
export const SUBMIT_TIMEOUT_MS = 10_000;
/** How much of a rejection's body is kept as the reason shown in the popup. */
const MAX_REASON_CHARS = 200;

export type Outcome =
  | { kind: 'submitted'; crashId: string }
  /** The collector took it but chose not to keep it (its throttle rules): final. */
  | { kind: 'discarded'; reason: string }
  /**
   * Unreachable, 5xx, 429: keep it and try again, after `retryAfterMs` when the server said.
   * `receiverWide`: the receiver, not this report, is the cause (no answer, 429, 503), so its
   * other reports would fare the same now.
   */
  | { kind: 'retry'; reason: string; retryAfterMs?: number; receiverWide?: boolean }
  /** Any other 4xx, or an answer that is not a collector's: final. */
  | { kind: 'failed'; reason: string };

function firstLine(body: string): string {
  return (body.split(/\r?\n/, 1)[0] ?? '').slice(0, MAX_REASON_CHARS);
}

/**
 * POSTs the annotations as multipart/form-data, without cookies, and classifies the answer.
 * Never throws.
 */
export async function submitReport(
  submitUrl: string,
  annotations: Annotations,
  fetchFn: typeof fetch = fetch,
  now: () => number = Date.now,
): Promise<Outcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SUBMIT_TIMEOUT_MS);
  let response: Response;
  let body: string;
  try {
    response = await fetchFn(submitUrl, {
      method: 'POST',
      body: encodeSubmission(annotations),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      // Not followed: a redirect could aim the report (and its POST) anywhere.
      redirect: 'manual',
      signal: controller.signal,
    });
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      return { kind: 'failed', reason: 'the receiver answered with a redirect, which is not followed (declare its final address)' };
    }
    body = await readAtMost(response, MAX_ANSWER_BYTES);
  } catch (err) {
    // fetch() rejects with a TypeError for any network failure; named so, it read like the page's error.
    const name = (err as Error).name;
    const reason = controller.signal.aborted
      ? `no answer in ${SUBMIT_TIMEOUT_MS / 1000} s`
      : `receiver unreachable (${name === 'TypeError' ? 'network error' : name})`;
    return { kind: 'retry', reason, receiverWide: true };
  } finally {
    clearTimeout(timer);
  }
  const status = response.status;
  if (status === 200) {
    const parsed = parseSubmitResponse(body);
    if (parsed) return { kind: 'submitted', crashId: parsed.crashId };
    if (body.startsWith('Discarded=')) return { kind: 'discarded', reason: firstLine(body) };
    return { kind: 'failed', reason: 'the answer has no CrashID (is the submit URL a Socorrito receiver?)' };
  }
  const reason = `HTTP ${status}${body ? `: ${firstLine(body)}` : ''}`;
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
    const receiverWide = status === 429 || status === 503;
    return retryAfterMs === null ? { kind: 'retry', reason, receiverWide } : { kind: 'retry', reason, retryAfterMs, receiverWide };
  }
  return { kind: 'failed', reason };
}

/** The most of a receiver's answer read: its first line is all that is used (a hostile one could send gigabytes). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The first `max` bytes of a response's body as text; the rest is not read. */
async function readAtMost(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.subarray(0, max - size));
    size += Math.min(value.length, max - size);
  }
  await reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Whether a receiver on this machine or a local network takes reports from pages elsewhere: it
 * answers `OPTIONS` on its submit URL with 2xx and `Access-Control-Allow-Origin: *`, as a
 * Socorrito receiver does. A router or a local service does not, so a public page cannot aim
 * the extension's POSTs at it (browsers ask the same of pages: Private Network Access).
 */
export async function acceptsReportsFromAnywhere(submitUrl: string, fetchFn: typeof fetch): Promise<'yes' | 'no' | 'unreachable'> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SUBMIT_TIMEOUT_MS);
  try {
    const response = await fetchFn(submitUrl, { method: 'OPTIONS', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', redirect: 'manual', signal: controller.signal });
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300 && response.headers.get('access-control-allow-origin') === '*' ? 'yes' : 'no';
  } catch {
    // Down, or not there: asked again at the next attempt.
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}
