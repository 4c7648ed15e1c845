import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkoutCommit } from './version.ts';

const A = 'a'.repeat(40);
const B = '0123456789abcdef0123456789abcdef01234567';

describe('checkoutCommit', () => {
  let git: string;
  beforeEach(async () => {
    git = await mkdtemp(join(tmpdir(), 'socorrito-git-'));
  });
  afterEach(async () => {
    await rm(git, { recursive: true, force: true });
  });

  it('follows HEAD to a loose ref, to a packed ref, or reads a detached HEAD', async () => {
    await mkdir(join(git, 'refs/heads'), { recursive: true });
    await writeFile(join(git, 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(git, 'refs/heads/main'), `${A}\n`);
    expect(checkoutCommit(git)).toBe(A);
    await rm(join(git, 'refs/heads/main'));
    await writeFile(join(git, 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted\n${A} refs/heads/other\n${B} refs/heads/main\n`);
    expect(checkoutCommit(git)).toBe(B);
    await writeFile(join(git, 'HEAD'), `${A}\n`);
    expect(checkoutCommit(git)).toBe(A);
  });

  it('says null for no checkout, a ref it cannot find, or a ref that leaves the git folder', async () => {
    expect(checkoutCommit(join(git, 'missing'))).toBeNull();
    await writeFile(join(git, 'HEAD'), 'ref: refs/heads/gone\n');
    expect(checkoutCommit(git)).toBeNull();
    await writeFile(join(git, 'HEAD'), 'ref: refs/../../etc/passwd\n');
    expect(checkoutCommit(git)).toBeNull();
  });
});
