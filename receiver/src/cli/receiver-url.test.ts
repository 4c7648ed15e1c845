import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, startTestReceiver } from '../../../test/helpers/receiver.ts';

const execFileAsync = promisify(execFile);

/** Runs the real CLI; resolves with its exit code and output whether it succeeds or not. */
async function socorrito(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('commands that talk to a receiver', () => {
  it('submit and reprocess refuse a --url without http:// plainly, not with a stack trace', async () => {
    const submit = await socorrito('submit', '--url', '127.0.0.1:8101/submit', '--field', 'ProductName=Shop');
    expect(submit.code).toBe(2);
    expect(submit.stderr).toBe(
      'socorrito: submit: --url must start with http:// or https://, e.g. http://127.0.0.1:8101/submit (got "127.0.0.1:8101/submit")\n',
    );
    const reprocess = await socorrito('reprocess', '--url', '127.0.0.1:8101', '--token', 'x', '--app', 'shop');
    expect(reprocess.code).toBe(2);
    expect(reprocess.stderr).toBe('socorrito: reprocess: --url must start with http:// or https://, e.g. http://127.0.0.1:8101 (got "127.0.0.1:8101")\n');
    const otherScheme = await socorrito('submit', '--url', 'localhost:8101/submit');
    expect(otherScheme.stderr).toMatch(/--url must start with http:\/\/ or https:\/\/, e\.g\. http:\/\/localhost:8101\/submit/);
  });

  it('reprocess answered 401 says where the tokens are', async () => {
    const receiver = await startTestReceiver();
    try {
      const wrong = await socorrito('reprocess', '--url', receiver.url, '--token', 'nope', '--app', 'shop');
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/answered 401/);
      expect(wrong.stderr).toContain('admin token, kept in <data-dir>/admin-token unless set with SOCORRITO_ADMIN_TOKEN, its upload token');
      expect(wrong.stderr).toContain('or an upload token made for this app (POST /api/apps/<guid>/upload-tokens');
    } finally {
      await receiver.stop();
    }
  });
});
