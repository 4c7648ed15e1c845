import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { writeFileDurably } from '../storage/durable.ts';
import { InvalidSymbolsInput, validateAppGuid } from '../symbols/validate.ts';
import type { AuthVariables } from './auth.ts';
import { noQueryParams } from './params.ts';

/** The file, in the data dir, that holds the per-app upload tokens (their hashes only). */
export const APP_TOKENS_FILE = 'upload-tokens.json';
/** Most tokens one app may have (one per build machine or pipeline). */
export const MAX_TOKENS_PER_APP = 20;
const MAX_LABEL_CHARS = 100;

/** One app's upload token as stored: never the token itself, which is shown once when made. */
export interface AppTokenEntry {
  /** A short ID to name it by (list, delete). */
  id: string;
  app: string;
  /** What it is for, e.g. "ci". */
  label: string;
  created_at: string;
  /** SHA-256 of the token, hex. */
  sha256: string;
}

/** An upload tokens file that cannot be read; the receiver refuses to start rather than lock builds out silently. */
export class AppTokensFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppTokensFileError';
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Upload tokens tied to one app: a build machine holding one may upload, list and reprocess
 * that app's source maps and nothing else, so one app's pipeline cannot replace another's maps.
 * Made and revoked by the admin over the API; kept hashed in `<data-dir>/upload-tokens.json`
 * (written durably; the server is its only writer).
 */
export class AppUploadTokens {
  readonly #byHash = new Map<string, AppTokenEntry>();
  #writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    private readonly tmpDir: string,
    entries: AppTokenEntry[],
  ) {
    for (const e of entries) this.#byHash.set(e.sha256, e);
  }

  static async open(dataDir: string, tmpDir: string): Promise<AppUploadTokens> {
    const path = join(dataDir, APP_TOKENS_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new AppUploadTokens(dataDir, tmpDir, []);
      throw new AppTokensFileError(`Could not read ${path}: ${(err as Error).message}`);
    }
    let tokens: unknown;
    try {
      tokens = (JSON.parse(text) as { tokens?: unknown } | null)?.tokens;
    } catch (err) {
      throw new AppTokensFileError(`${path} is not JSON (${(err as Error).message}); fix it, or remove it to revoke every per-app upload token`);
    }
    const valid = (e: Partial<AppTokenEntry> | null): boolean =>
      !!e && [e.id, e.app, e.label, e.created_at].every((f) => typeof f === 'string') && /^[0-9a-f]{64}$/.test(e.sha256 ?? '');
    if (!Array.isArray(tokens) || !tokens.every((e) => valid(e as Partial<AppTokenEntry> | null))) {
      throw new AppTokensFileError(`${path} has no valid "tokens" list; fix it, or remove it to revoke every per-app upload token`);
    }
    return new AppUploadTokens(dataDir, tmpDir, tokens as AppTokenEntry[]);
  }

  /** The app a token uploads for, or null when it is not a per-app upload token. */
  appOf(token: string): string | null {
    return this.#byHash.get(sha256(token))?.app ?? null;
  }

  /** The apps that have at least one token. */
  apps(): string[] {
    return [...new Set([...this.#byHash.values()].map((e) => e.app))];
  }

  /** An app's tokens, oldest first, without their hashes. */
  list(app: string): Omit<AppTokenEntry, 'sha256'>[] {
    return [...this.#byHash.values()].filter((e) => e.app === app).map(({ sha256: _, ...rest }) => rest);
  }

  /** Makes a token for `app` and returns it: the only time it is seen. */
  async add(app: string, label: string): Promise<{ token: string; entry: Omit<AppTokenEntry, 'sha256'> }> {
    // A letter first, so a command line never reads the token as an option.
    const token = `up_${randomBytes(30).toString('base64url')}`;
    const entry: AppTokenEntry = { id: randomBytes(4).toString('hex'), app, label, created_at: new Date().toISOString(), sha256: sha256(token) };
    this.#byHash.set(entry.sha256, entry);
    await this.#save();
    const { sha256: _, ...shown } = entry;
    return { token, entry: shown };
  }

  /** Revokes one of an app's tokens; false when it has none with that ID. */
  async remove(app: string, id: string): Promise<boolean> {
    const found = [...this.#byHash.values()].find((e) => e.app === app && e.id === id);
    if (!found) return false;
    this.#byHash.delete(found.sha256);
    await this.#save();
    return true;
  }

  #save(): Promise<void> {
    const write = this.#writing
      .catch(() => undefined)
      .then(() => {
        const tokens = [...this.#byHash.values()].sort((a, b) => a.app.localeCompare(b.app) || a.created_at.localeCompare(b.created_at));
        return writeFileDurably(join(this.dataDir, APP_TOKENS_FILE), `${JSON.stringify({ format: 1, tokens }, null, 1)}\n`, this.tmpDir);
      });
    this.#writing = write;
    return write;
  }
}

/**
 * The admin's API for per-app upload tokens (the upload and viewer tokens get 403 from auth):
 *
 * - `POST /api/apps/<guid>/upload-tokens` (`{"label": "ci"}`, optional): 201
 *   `{ token, id, app, label, created_at }`; the token is shown this once.
 * - `GET /api/apps/<guid>/upload-tokens`: `{ tokens: [{ id, app, label, created_at }] }`.
 * - `DELETE /api/apps/<guid>/upload-tokens/<id>`: revokes it at once (404 for an unknown ID).
 */
export function appTokenRoutes(deps: { tokens: AppUploadTokens; log: (line: string) => void }): Hono<{ Variables: AuthVariables }> {
  const routes = new Hono<{ Variables: AuthVariables }>();
  routes.onError((err, c) => {
    if (err instanceof InvalidSymbolsInput) return c.json({ error: err.code, message: err.message }, 400);
    throw err;
  });
  routes.use('/api/apps/:guid/upload-tokens', noQueryParams);
  routes.use('/api/apps/:guid/upload-tokens/*', noQueryParams);
  const onlyAdmin = (role: string | undefined): boolean => role === 'admin';

  routes.post('/api/apps/:guid/upload-tokens', async (c) => {
    if (!onlyAdmin(c.get('role'))) return c.json({ error: 'forbidden', message: 'only the admin token makes upload tokens' }, 403);
    const app = validateAppGuid(c.req.param('guid'));
    const text = await c.req.text();
    let label = '';
    if (text.trim() !== '') {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return c.json({ error: 'bad_json', message: 'the body must be JSON like {"label": "ci"}, or empty' }, 400);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return c.json({ error: 'bad_json', message: 'the body must be a JSON object like {"label": "ci"}, or empty' }, 400);
      const unknown = Object.keys(body).filter((k) => k !== 'label');
      if (unknown.length) return c.json({ error: 'bad_field', message: `unknown field ${JSON.stringify(unknown[0]!.slice(0, 40))}; the only one is label` }, 400);
      const given = (body as { label?: unknown }).label;
      if (given !== undefined && (typeof given !== 'string' || given.length > MAX_LABEL_CHARS)) {
        return c.json({ error: 'bad_label', message: `label must be a string of at most ${MAX_LABEL_CHARS} characters` }, 400);
      }
      label = (given ?? '').trim();
    }
    if (deps.tokens.list(app).length >= MAX_TOKENS_PER_APP) {
      return c.json({ error: 'too_many_tokens', message: `an app has at most ${MAX_TOKENS_PER_APP} upload tokens: revoke one first` }, 409);
    }
    const { token, entry } = await deps.tokens.add(app, label);
    deps.log(`upload tokens: made ${entry.id}${label ? ` (${JSON.stringify(label)})` : ''} for app ${app} (admin)`);
    return c.json({ token, ...entry }, 201);
  });

  routes.get('/api/apps/:guid/upload-tokens', (c) => {
    if (!onlyAdmin(c.get('role')) && c.get('role') !== 'viewer') return c.json({ error: 'forbidden', message: 'the upload token cannot list tokens' }, 403);
    return c.json({ tokens: deps.tokens.list(validateAppGuid(c.req.param('guid'))) });
  });

  routes.delete('/api/apps/:guid/upload-tokens/:id', async (c) => {
    if (!onlyAdmin(c.get('role'))) return c.json({ error: 'forbidden', message: 'only the admin token revokes upload tokens' }, 403);
    const app = validateAppGuid(c.req.param('guid'));
    const id = c.req.param('id');
    if (!(await deps.tokens.remove(app, id))) return c.json({ error: 'not_found', message: `app ${app} has no upload token ${JSON.stringify(id.slice(0, 20))}` }, 404);
    deps.log(`upload tokens: revoked ${id} of app ${app} (admin)`);
    return c.json({ revoked: id, app });
  });
  return routes;
}
