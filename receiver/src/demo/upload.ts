import { join } from 'node:path';
import { uploadSourcemapsCommand } from '../cli/upload-sourcemaps.ts';
import { type BuiltDemo, DEMO_GUID } from './build.ts';

/**
 * Uploads the demo's maps with `socorrito upload-sourcemaps`, as a user's build step would. Behind
 * a proxy at a path its scripts are at `/crashes/demo/assets/`, and at `/demo/assets/` to someone
 * who reaches the receiver directly: the maps go up under both.
 */
export async function uploadDemoSourcemaps(demo: BuiltDemo, receiverUrl: string, token: string, log: (line: string) => void, basePath = ''): Promise<void> {
  const prefixes = basePath ? [`~${basePath}/demo/assets/`, '~/demo/assets/'] : ['~/demo/assets/'];
  for (const [i, prefix] of prefixes.entries()) {
    const lines: string[] = [];
    // The token goes in the environment, as a CI job passes it: on a command line one starting
    // with `-` would read as an option.
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), env: { SOCORRITO_TOKEN: token } };
    // The first upload replaces what an earlier start left; the second adds to it.
    const args = ['--url', receiverUrl, '--app', DEMO_GUID, '--release', demo.release, '--url-prefix', prefix, ...(i === 0 ? ['--replace'] : []), join(demo.dir, 'assets')];
    const code = await uploadSourcemapsCommand(args, io);
    if (code !== 0) throw new Error(`Could not upload the demo's source maps:\n  ${lines.join('\n  ')}`);
    log(`demo: ${lines.at(-1)}`);
  }
}
