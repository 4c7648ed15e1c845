import { randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIN_TOKEN_LENGTH, tokenProblem } from '../config.ts';
import { isNotFound } from '../storage/fs-storage.ts';
import { nodeFsOpsWithMode, writeFileDurably } from '../storage/durable.ts';

/** The kept admin token cannot be read or is unusable: the operator can fix it (the message says how). */
export class AdminTokenFileError extends Error {}

/**
 * The admin token: the configured one, else the one kept in `<data-dir>/admin-token`, else a
 * new random one saved there (readable by the owner only).
 */
export async function ensureAdminToken(
  dataDir: string,
  tmpDir: string,
  configured: string | undefined,
): Promise<{ token: string; source: 'config' | 'file' | 'generated'; path: string }> {
  const path = join(dataDir, 'admin-token');
  if (configured) return { token: configured, source: 'config', path };
  try {
    const stored = (await readFile(path, 'utf8')).trim();
    if (stored) {
      // Written by hand: the same rules as --admin-token, or anyone could guess it (or no client send it).
      const problem = tokenProblem(stored);
      if (problem) {
        throw new AdminTokenFileError(
          `the admin token in ${path} cannot be used (${problem}): ` +
            `write one of ${MIN_TOKEN_LENGTH} characters or more without spaces there, or delete the file and a new one is made at the next start`,
        );
      }
      // Earlier versions made it readable by the group too.
      await chmod(path, 0o600).catch(() => undefined);
      return { token: stored, source: 'file', path };
    }
  } catch (err) {
    if (err instanceof AdminTokenFileError) throw err;
    if (!isNotFound(err)) throw new AdminTokenFileError(`Could not read the admin token ${path}: ${(err as Error).message}`, { cause: err });
  }
  const token = newToken();
  await writeFileDurably(path, `${token}\n`, tmpDir, nodeFsOpsWithMode(0o600));
  return { token, source: 'generated', path };
}

/**
 * A random token (24 bytes, base64url) that starts with a letter or digit: one starting with `-`
 * reads as an option to a command line (`upload-sourcemaps --token -EYE…` is refused).
 */
export function newToken(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const token = random(24).toString('base64url');
    if (/^[A-Za-z0-9]/.test(token)) return token;
  }
}
