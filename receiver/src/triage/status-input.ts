import { bugUrl, bugUrlProblem, STATUSES, type Status } from './signature-status.ts';

/** Longest note kept with a status. */
export const MAX_NOTE_CHARS = 1_000;
const FIELDS = new Set(['status', 'note', 'in_next_release']);

/** What a person asked for, before the versions seen so far are looked up. */
export interface StatusRequest {
  status: Status;
  note?: string;
  /** Resolved "in the next release": only crashes from versions not seen so far regress it. */
  inNextRelease: boolean;
}

/**
 * Checks a status change from the API (`{"status":"resolved","note":"…","in_next_release":true}`)
 * or the page's form (the same fields as strings), collecting every problem.
 *
 * @example
 *   parseStatusRequest({ status: 'ignored' }) // { request: { status: 'ignored', inNextRelease: false } }
 */
export function parseStatusRequest(body: unknown): { request: StatusRequest } | { problems: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { problems: ['the body must be a JSON object like {"status":"resolved"}'] };
  const fields = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const name of Object.keys(fields)) if (!FIELDS.has(name)) problems.push(`unknown field ${JSON.stringify(name.slice(0, 40))}`);
  const status = fields.status;
  if (!STATUSES.includes(status as Status)) {
    problems.push(`status must be one of ${STATUSES.join(', ')}, got ${status === undefined ? 'nothing' : JSON.stringify(String(status).slice(0, 40))}`);
  }
  const note = fields.note;
  if (note !== undefined && typeof note !== 'string') problems.push('note must be a string');
  else if (typeof note === 'string' && note.length > MAX_NOTE_CHARS) problems.push(`note is longer than ${MAX_NOTE_CHARS} characters`);
  const next = fields.in_next_release;
  const inNextRelease = next === true || next === 'true' || next === '1';
  if (next !== undefined && !inNextRelease && next !== false && next !== 'false' && next !== '0') problems.push('in_next_release must be true or false');
  if (inNextRelease && status !== 'resolved') problems.push('in_next_release only goes with status "resolved"');
  if (problems.length) return { problems };
  const trimmed = typeof note === 'string' ? note.trim() : '';
  return { request: { status: status as Status, ...(trimmed ? { note: trimmed } : {}), inNextRelease } };
}

/** Most bug or issue links one signature keeps. */
export const MAX_BUGS = 20;
/**
 * Checks a signature's bug links from the API (`{"bugs":["https://github.com/…/issues/12"]}`):
 * absolute http(s) URLs (a `javascript:` link on a page would run), each once, collecting every
 * problem.
 *
 * @example
 *   parseBugList({ bugs: ['https://bugzilla.example/show_bug.cgi?id=7'] }) // { bugs: ['https://bugzilla.example/show_bug.cgi?id=7'] }
 */
export function parseBugList(body: unknown): { bugs: string[] } | { problems: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { problems: ['the body must be a JSON object like {"bugs":["https://…"]}'] };
  const problems: string[] = [];
  for (const name of Object.keys(body)) if (name !== 'bugs') problems.push(`unknown field ${JSON.stringify(name.slice(0, 40))}`);
  const list = (body as { bugs?: unknown }).bugs;
  if (!Array.isArray(list)) return { problems: [...problems, 'bugs must be a list of URLs (an empty list removes them all)'] };
  if (list.length > MAX_BUGS) problems.push(`at most ${MAX_BUGS} bugs per signature, got ${list.length}`);
  const bugs: string[] = [];
  list.forEach((item, i) => {
    const problem = bugUrlProblem(item);
    if (problem) problems.push(`bugs[${i}]: ${problem}`);
    else if (!bugs.includes(bugUrl(item as string))) bugs.push(bugUrl(item as string));
  });
  return problems.length ? { problems } : { bugs };
}
