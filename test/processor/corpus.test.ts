// The parsing target of issue 3: real stacks from Firefox, Chrome and Safari recorded by five
// other projects' test suites (test/fixtures/stacks-corpus.json, see the .md beside it), sent
// through a real receiver and scored on the frames GET /api/crashes/<id> answers.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';
import { submitCrash } from '../helpers/submit.ts';
import { waitProcessed } from './helpers.ts';

interface Expected {
  filename: string | null;
  function: string | null;
  lineno: number | null;
  colno: number | null;
}
interface Entry {
  id: string;
  browser: string;
  stack: string;
  name?: string;
  message?: string;
  expected: Expected[];
  expected_complete: boolean;
  stack_group: string;
}

const CORPUS = `${REPO_ROOT}test/fixtures/stacks-corpus.json`;
const BROWSERS = new Set(['firefox', 'chrome', 'safari']);
/** The unknown-function spellings of the suites: Sentry/TraceKit `?`, stacktrace-parser `<unknown>`, error-stack-parser none. */
const UNKNOWN = new Set(['?', '<unknown>', '', null, undefined]);
const fn = (f: string | null | undefined): string | null | undefined => (UNKNOWN.has(f) ? '?' : f);

function groups(): Map<string, Entry[]> {
  const entries = JSON.parse(readFileSync(CORPUS, 'utf8')) as Entry[];
  const out = new Map<string, Entry[]>();
  for (const e of entries) {
    if (!BROWSERS.has(e.browser) || !e.expected_complete) continue;
    out.set(e.stack_group, [...(out.get(e.stack_group) ?? []), e]);
  }
  return out;
}

function matches(frames: { url: string | null; function: string | null; line: number | null; column: number | null }[], expected: Expected[]): boolean {
  return (
    frames.length === expected.length &&
    expected.every((x, i) => {
      const f = frames[i]!;
      return x.filename === f.url && fn(x.function) === fn(f.function) && (x.lineno ?? null) === f.line && (x.colno ?? null) === f.column;
    })
  );
}

describe('stacks.json corpus through a real receiver', () => {
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await startTestReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('parses at least 58 of the 61 distinct Firefox/Chrome/Safari stacks as one of the suites expects', async () => {
    const all = groups();
    expect(all.size).toBe(61);
    const submitted: { group: string; entries: Entry[]; crashId: string }[] = [];
    for (const [group, entries] of all) {
      const e = entries[0]!;
      const fields: Record<string, string> = { ProductName: 'Corpus', JSStack: e.stack, JSErrorType: e.name ?? 'Error', JSMechanism: 'manual' };
      if (e.message) fields.JSErrorMessage = e.message;
      const res = await submitCrash(`${receiver.url}/submit`, fields, []);
      expect(res.status, res.body).toBe(200);
      submitted.push({ group, entries, crashId: res.crashId! });
    }
    const byBrowser: Record<string, [number, number]> = {};
    const failed: string[] = [];
    let score = 0;
    for (const { group, entries, crashId } of submitted) {
      const processed = await waitProcessed(receiver.url, crashId);
      const ok = entries.some((e) => matches(processed.frames, e.expected));
      const b = (byBrowser[entries[0]!.browser] ??= [0, 0]);
      b[1]++;
      if (ok) {
        score++;
        b[0]++;
      } else failed.push(`${group} (${entries.map((e) => e.id).join(', ')})`);
    }
    console.log(`corpus score: ${score}/61 ${JSON.stringify(byBrowser)}; not matched: ${failed.join('; ')}`);
    expect(score).toBeGreaterThanOrEqual(58);
  });
});
