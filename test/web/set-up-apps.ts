// Apps the operator set up on a running receiver without any crash of theirs: the three ways an
// app becomes known before it crashes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { CLI, type TestReceiver } from '../helpers/receiver.ts';

const run = promisify(execFile);
const BEARER = { authorization: 'Bearer test-admin-token' };

/**
 * Registers `forwarded` with `socorrito apps add` (with `addArgs` after its submit URL), gives
 * `tokened` an upload token and uploads a script for `mapped`, all while `r` runs.
 */
export async function setUpApps(r: TestReceiver, apps: { forwarded: string; tokened: string; mapped: string }, addArgs: string[] = []): Promise<void> {
  await run(process.execPath, [CLI, 'apps', 'add', '--data-dir', r.dataDir, '--guid', apps.forwarded, '--submit-url', 'https://crashes.blog.example', ...addArgs]);
  const token = await fetch(`${r.url}/api/apps/${encodeURIComponent(apps.tokened)}/upload-tokens`, { method: 'POST', headers: BEARER });
  expect(token.status).toBe(201);
  const form = new FormData();
  form.set('app', apps.mapped);
  form.set('release', '1.0');
  form.append('url', '~/static/app.js');
  form.append('file', new Blob(['var x = 1;\n']), 'app.js');
  const upload = await fetch(`${r.url}/api/sourcemaps`, { method: 'POST', headers: BEARER, body: form });
  expect(upload.status).toBe(200);
}
