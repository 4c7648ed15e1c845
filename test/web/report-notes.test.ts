import { expect, it } from 'vitest';
import { startTestReceiver } from '../helpers/receiver.ts';
import { jsCrashFields, submitCrash } from '../helpers/submit.ts';
import { waitFor } from '../helpers/wait.ts';

it("writes a note the frames of one script share once on the report page, and says when an error came without a stack", async () => {
  const r = await startTestReceiver();
  try {
    const stack = ['a@https://shop.example/app.js:1:10', 'b@https://shop.example/app.js:1:20', 'c@https://shop.example/other.js:1:30'].join('\n');
    const { crashId } = await submitCrash(`${r.url}/submit`, jsCrashFields({ JSStack: stack }), []);
    const auth = { authorization: `Bearer ${r.adminToken}` };
    await waitFor('the crash to be processed', async () => (await fetch(`${r.url}/api/crashes/${crashId}`, { headers: auth }).then((res) => res.json() as Promise<{ processed?: object }>)).processed);
    const html = await (await fetch(`${r.url}/report/${crashId}`, { headers: auth })).text();
    const notes = [...html.matchAll(/<div class="minified">(note: [^<]*)<\/div>/g)].map((m) => m[1]);
    expect(notes).toEqual([
      'note: no source map for ~/app.js in release 1.4.2 of this app (upload it with --release 1.4.2, then run socorrito reprocess)',
      'note: as for frame #0',
      'note: no source map for ~/other.js in release 1.4.2 of this app (upload it with --release 1.4.2, then run socorrito reprocess)',
    ]);
    // An error without a stack says so, rather than that none of it could be read.
    const bare = await submitCrash(`${r.url}/submit`, jsCrashFields({ JSStack: '', JSFilename: '', JSLine: '', JSColumn: '', JSMechanism: 'unhandledrejection', JSErrorMessage: 'NetworkError when attempting to fetch resource.' }), []);
    await waitFor('the stackless crash to be processed', async () => (await fetch(`${r.url}/api/crashes/${bare.crashId}`, { headers: auth }).then((res) => res.json() as Promise<{ processed?: object }>)).processed);
    const page = await (await fetch(`${r.url}/report/${bare.crashId}`, { headers: auth })).text();
    expect(page).toContain('The error came without a stack');
    expect(page).not.toContain('No frames could be read');
  } finally {
    await r.stop();
  }
});

it('folds runs of library frames into one line that opens to show them, keeping the app frames in sight', async () => {
  const r = await startTestReceiver();
  try {
    const lib = (fn: string, n: number) => `${fn}@https://cdn.jsdelivr.net/npm/lodash@4/lodash.min.js:1:${n}`;
    const stack = ['iteratee@https://shop.example/app.js:1:10', lib('a', 1), lib('b', 2), lib('c', 3), lib('d', 4), 'search@https://shop.example/app.js:1:20', lib('e', 5), 'main@https://shop.example/app.js:1:30'].join('\n');
    const { crashId } = await submitCrash(`${r.url}/submit`, jsCrashFields({ JSStack: stack }), []);
    const auth = { authorization: `Bearer ${r.adminToken}` };
    await waitFor('the crash to be processed', async () => (await fetch(`${r.url}/api/crashes/${crashId}`, { headers: auth }).then((res) => res.json() as Promise<{ processed?: object }>)).processed);
    const html = await (await fetch(`${r.url}/report/${crashId}`, { headers: auth })).text();
    expect([...html.matchAll(/<summary>(\d+ \w+ frames, [^<]*)<\/summary>/g)].map((m) => m[1])).toEqual(['4 library frames, #1–#4']);
    // Every frame is still on the page, in order; a lone library frame is not folded.
    const shown = [...html.matchAll(/<span class="muted mono">#(\d+) <\/span>/g)].map((m) => Number(m[1]));
    expect(shown).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(html.indexOf('4 library frames')).toBeLessThan(html.indexOf('>#1 <'));
    expect(html.indexOf('>#4 <')).toBeLessThan(html.indexOf('>#5 <'));
  } finally {
    await r.stop();
  }
});

it('keeps the async boundary line in sight when a run of library frames begins at it', async () => {
  const r = await startTestReceiver();
  try {
    const lib = (fn: string, n: number) => `${fn}@https://cdn.jsdelivr.net/npm/lodash@4/lodash.min.js:1:${n}`;
    // Gecko: the second part of the stack is a promise callback set up inside lodash.
    const stack = ['boom@https://shop.example/app.js:1:10', `promise callback*${lib('a', 1)}`, lib('b', 2), lib('c', 3), lib('d', 4), 'main@https://shop.example/app.js:1:30'].join('\n');
    const { crashId } = await submitCrash(`${r.url}/submit`, jsCrashFields({ JSStack: stack }), []);
    const auth = { authorization: `Bearer ${r.adminToken}` };
    await waitFor('processed', async () => (await fetch(`${r.url}/api/crashes/${crashId}`, { headers: auth }).then((res) => res.json() as Promise<{ processed?: object }>)).processed);
    const html = await (await fetch(`${r.url}/report/${crashId}`, { headers: auth })).text();
    const boundary = html.indexOf('class="async-boundary"');
    expect(boundary).toBeGreaterThan(0);
    const fold = html.indexOf('<li class="frame-run">');
    // The boundary must not be inside the folded <details> (it is, when the fold starts before it
    // and ends after it).
    const foldEnd = fold < 0 ? -1 : html.indexOf('</details>', html.indexOf('</ol>', fold));
    expect(fold < 0 || boundary < fold || boundary > foldEnd, `boundary at ${boundary} inside the fold ${fold}..${foldEnd}`).toBe(true);
    // The library frames after the boundary frame fold all the same.
    expect(html).toContain('<summary>3 library frames, #2–#4</summary>');
  } finally {
    await r.stop();
  }
});
