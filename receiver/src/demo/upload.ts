import { join } from 'node:path';
import { uploadSourcemapsCommand } from '../cli/upload-sourcemaps.ts';
import { type BuiltDemo, DEMO_GUID } from './build.ts';

/** Uploads the demo's maps with `socorrito upload-sourcemaps`, as a user's build step would. */
export async function uploadDemoSourcemaps(demo: BuiltDemo, receiverUrl: string, token: string, log: (line: string) => void): Promise<void> {
  const lines: string[] = [];
  // The token goes in the environment, as a CI job passes it: on a command line one starting
  // with `-` would read as an option.
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), env: { SOCORRITO_TOKEN: token } };
  const args = ['--url', receiverUrl, '--app', DEMO_GUID, '--release', demo.release, '--url-prefix', '~/demo/assets/', join(demo.dir, 'assets')];
  const code = await uploadSourcemapsCommand(args, io);
  if (code !== 0) throw new Error(`Could not upload the demo's source maps:\n  ${lines.join('\n  ')}`);
  log(`demo: ${lines.at(-1)}`);
}
