import { type Context, Hono } from 'hono';
import type { CrashIndex } from '../index/crash-index.ts';
import { newestVersion } from '../index/versions.ts';
import { bugUrl, bugUrlProblem, type CarriedFrom, ignoredByDefault, type MovedTo, type SignatureStatus, type SignatureStatuses, type Status, type StatusChange } from '../triage/signature-status.ts';
import { MAX_BUGS, MAX_NOTE_CHARS, parseBugList, parseStatusRequest, type StatusRequest } from '../triage/status-input.ts';
import { type AuthVariables, safeNext } from './auth.ts';
import { problemPage } from './layout.tsx';
import { onlyParams } from './params.ts';
import { under } from './links.ts';
import { TRIAGE_SECTION_ID } from './triage-view.tsx';

/** How far back "resolved in the next release" looks for the versions seen so far. */
const SEEN_VERSIONS_DAYS = 365;

/**
 * What the signature API adds: the status, the stored entry behind it (null: never triaged),
 * why a signature nobody triaged is ignored all the same (null: it is not), the signature
 * its state was carried over from when reprocessing regrouped its crashes (null: set on it),
 * and where reprocessing moved crashes of it (newest first).
 */
export function statusFields(
  triage: SignatureStatuses | undefined,
  signatureId: string,
  signature: string | null,
): { status: Status; triage: SignatureStatus | null; ignored_by_default: string | null; bugs: string[]; carried_from: CarriedFrom | null; moved_to: MovedTo } {
  const entry = triage?.get(signatureId) ?? null;
  return {
    status: triage?.statusOf(signatureId, signature) ?? 'open',
    triage: entry,
    ignored_by_default: triage && !entry ? ignoredByDefault(signature) : null,
    bugs: triage?.bugsOf(signatureId) ?? [],
    carried_from: triage?.carriedFrom(signatureId) ?? null,
    moved_to: triage?.movedTo(signatureId) ?? [],
  };
}

/** What each top crashers row carries: its status and, if it reopened, when. */
export function rowStatus(
  triage: SignatureStatuses | undefined,
  row: { signature_id: string; signature: string },
): { status: Status; regressed_at: string | null; bugs: string[] } {
  return {
    status: triage?.statusOf(row.signature_id, row.signature) ?? 'open',
    regressed_at: triage?.get(row.signature_id)?.regressed_at ?? null,
    bugs: triage?.bugsOf(row.signature_id) ?? [],
  };
}

/** For top crashers: the signatures left out unless ignored ones are asked for. */
export function hiddenBy(triage: SignatureStatuses | undefined): ((signatureId: string, signature: string) => boolean) | undefined {
  return triage && ((id, signature) => triage.statusOf(id, signature) === 'ignored');
}

async function apply(deps: TriageDeps, id: string, signature: string, request: StatusRequest, how: string): Promise<SignatureStatus | null> {
  const { index, triage } = deps;
  const change: StatusChange = { status: request.status, ...(request.note ? { note: request.note } : {}) };
  if (request.inNextRelease) {
    // The versions seen so far, the newest release first (the one the next release follows):
    // crashes from any other version regress it.
    const summary = index.signature(id, { days: SEEN_VERSIONS_DAYS });
    const versions = (summary?.facets.version ?? []).map((v) => v.value);
    const newest = newestVersion(versions, summary?.reports.items[0]?.version);
    change.nextReleaseAfter = newest === undefined ? versions : [newest, ...versions.filter((v) => v !== newest)];
  }
  const entry = await triage.set(id, change, signature);
  // Who changed what, for the operator: there are no user accounts, so the way in is named.
  const what = entry?.status === 'resolved' && entry.by_version != null ? `resolved in the next release after ${entry.by_version || '(no version)'}` : request.status;
  deps.log(`triage: signature ${id} ${what}${request.note ? ` (note: ${JSON.stringify(request.note.slice(0, 200))})` : ''}, ${how}`);
  return entry;
}

async function setBugs(deps: TriageDeps, id: string, bugs: string[], how: string): Promise<void> {
  const before = deps.triage.bugsOf(id);
  await deps.triage.setBugs(id, bugs);
  const added = bugs.filter((url) => !before.includes(url));
  const removed = before.filter((url) => !bugs.includes(url));
  if (added.length || removed.length) {
    const list = (urls: string[]) => urls.map((url) => JSON.stringify(url.slice(0, 200))).join(', ');
    deps.log(`triage: signature ${id} bugs${added.length ? ` added ${list(added)}` : ''}${removed.length ? ` removed ${list(removed)}` : ''}, ${how}`);
  }
}

/**
 * After a form: 303 to the page it came from (`next`, with its period and filters), else the
 * signature's page; on the signature's page, at its status section, so a keyboard or screen
 * reader user is where they were rather than at the top.
 */
function backTo(c: Context, next: unknown, id: string): Response {
  const signaturePage = `/signatures/${encodeURIComponent(id)}`;
  const back = typeof next === 'string' ? safeNext(next) : '/';
  const target = back === '/' ? signaturePage : back;
  const [pathAndQuery] = target.split('#', 1) as [string];
  const onSignaturePage = pathAndQuery === signaturePage || pathAndQuery.startsWith(`${signaturePage}?`);
  return c.redirect(under(c, onSignaturePage ? `${pathAndQuery}#${TRIAGE_SECTION_ID}` : target), 303);
}

interface TriageDeps {
  index: CrashIndex;
  triage: SignatureStatuses;
  log: (line: string) => void;
}

/**
 * `PUT /api/signatures/<id>/bugs` (`{"bugs":["https://…"]}`, the whole list) and the page's bug
 * form, `POST /signatures/<id>/bugs` (`add` or `remove` one URL), checked as the status ones are.
 *
 * `PUT /api/signatures/<id>/status` (JSON `{"status":"resolved"|"ignored"|"open","note"?,
 * "in_next_release"?}`) and the signature page's form, `POST /signatures/<id>/status`, which
 * checks the session's CSRF token (as /logout does) and redirects back with 303. Both behind auth.
 */
export function triageRoutes(deps: TriageDeps): Hono<{ Variables: AuthVariables }> {
  const { index, triage } = deps;
  const routes = new Hono<{ Variables: AuthVariables }>();

  /** The request's JSON body, or undefined when it is not JSON (`like` shows what it should be). */
  const jsonBody = async (c: Context): Promise<unknown> => c.req.json().catch(() => undefined);
  const notJson = (c: Context, like: string) => c.json({ error: 'bad_json', message: `the body must be JSON like ${like}`, problems: ['the body is not JSON'] }, 400);

  routes.put('/api/signatures/:id/status', async (c) => {
    // As every API address: a parameter it does not take (`?status=resolved`) is refused, not ignored.
    onlyParams(c.req.queries(), []);
    const body = await jsonBody(c);
    if (body === undefined) return notJson(c, '{"status":"resolved"}');
    const parsed = parseStatusRequest(body);
    if ('problems' in parsed) return c.json({ error: 'bad_status', message: parsed.problems.join('; '), problems: parsed.problems }, 400);
    const id = c.req.param('id');
    const signature = index.signatureText(id);
    if (signature === null) return c.json({ error: 'not_found', message: 'no crash has this signature ID' }, 404);
    await apply(deps, id, signature, parsed.request, 'by the API');
    return c.json({ signature_id: id, ...statusFields(triage, id, signature) });
  });

  routes.post('/signatures/:id/status', async (c) => {
    const body = await c.req.parseBody();
    const expected = c.get('csrfToken');
    // Bearer clients have no session to ride on; cookie clients must echo the form's token.
    if (expected !== null && body.csrf !== expected) {
      return problemPage(c, 403, 'Status not changed', ['The form is out of date (its security token does not match your session): reload the page and try again.']);
    }
    const id = c.req.param('id');
    // "Save note" (and Enter in the note field): the note changes, the status stays.
    if (body.status === 'keep') {
      const note = typeof body.note === 'string' ? body.note.trim() : '';
      if (note.length > MAX_NOTE_CHARS) return problemPage(c, 400, 'Note not saved', [`The note is longer than ${MAX_NOTE_CHARS} characters.`]);
      const signature = index.signatureText(id);
      if (signature === null) return problemPage(c, 404, 'No such signature', ['The index has no crash with this signature ID.']);
      await triage.setNote(id, note || undefined, signature);
      deps.log(`triage: signature ${id} note ${note ? `set to ${JSON.stringify(note.slice(0, 200))}` : 'removed'}, from the signature page`);
      return backTo(c, body.next, id);
    }
    // One button per choice: "resolve in the next release" is a status button of its own.
    const nextRelease = body.status === 'resolved_next_release';
    const fields: Record<string, unknown> = { status: nextRelease ? 'resolved' : body.status, in_next_release: nextRelease };
    if (typeof body.note === 'string' && body.note !== '') fields.note = body.note;
    const parsed = parseStatusRequest(fields);
    if ('problems' in parsed) return problemPage(c, 400, 'Status not changed', parsed.problems);
    const signature = index.signatureText(id);
    if (signature === null) return problemPage(c, 404, 'No such signature', ['The index has no crash with this signature ID.']);
    await apply(deps, id, signature, parsed.request, 'from the signature page');
    return backTo(c, body.next, id);
  });

  routes.put('/api/signatures/:id/bugs', async (c) => {
    onlyParams(c.req.queries(), []);
    const body = await jsonBody(c);
    if (body === undefined) return notJson(c, '{"bugs":["https://…"]}');
    const parsed = parseBugList(body);
    if ('problems' in parsed) return c.json({ error: 'bad_bugs', message: parsed.problems.join('; '), problems: parsed.problems }, 400);
    const id = c.req.param('id');
    if (index.signatureText(id) === null) return c.json({ error: 'not_found', message: 'no crash has this signature ID' }, 404);
    await setBugs(deps, id, parsed.bugs, 'by the API');
    return c.json({ signature_id: id, bugs: triage.bugsOf(id) });
  });

  // The signature page's bug form: one URL added (`add`), or one removed (`remove`, a button per link).
  routes.post('/signatures/:id/bugs', async (c) => {
    const body = await c.req.parseBody();
    const expected = c.get('csrfToken');
    if (expected !== null && body.csrf !== expected) {
      return problemPage(c, 403, 'Bugs not changed', ['The form is out of date (its security token does not match your session): reload the page and try again.']);
    }
    const id = c.req.param('id');
    if (index.signatureText(id) === null) return problemPage(c, 404, 'No such signature', ['The index has no crash with this signature ID.']);
    let bugs = triage.bugsOf(id);
    if (typeof body.remove === 'string') bugs = bugs.filter((url) => url !== body.remove);
    else if (typeof body.add === 'string' && body.add.trim() !== '') {
      const problem = bugUrlProblem(body.add);
      if (problem) return problemPage(c, 400, 'Bug not added', [`The link ${problem}: paste the address of the bug or issue, starting with https://.`]);
      if (!bugs.includes(bugUrl(body.add))) bugs = [...bugs, bugUrl(body.add)];
      if (bugs.length > MAX_BUGS) return problemPage(c, 400, 'Bug not added', [`A signature keeps at most ${MAX_BUGS} bugs: remove one first.`]);
    }
    await setBugs(deps, id, bugs, 'from the signature page');
    return backTo(c, body.next, id);
  });

  return routes;
}
