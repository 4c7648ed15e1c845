import { parseStack, type StackFrame } from '../../../shared/src/stack/parse.ts';
import { Annotation, environmentName, MAX_ENVIRONMENT_CHARS } from '../../../shared/src/protocol.ts';
import type { ProcessedCrash, ProcessedFrame, RawCrash } from '../storage/types.ts';
import type { Symbolicator } from '../symbols/symbolicate.ts';
import { classifyFrame, isNoiseUrl } from './classify.ts';
import { errorName, type Rule, runRules } from './pipeline.ts';
import { generateSignature, signatureId } from './signature.ts';
import type { Tuning } from './tuning.ts';
import { parseUserAgent } from './user-agent.ts';

/** What the processing rules read and write for one crash. */
export interface ProcessContext {
  raw: RawCrash;
  annotations: Readonly<Record<string, string>>;
  /** Frames as parsed from the stack string, innermost first. */
  parsed: StackFrame[];
  /** The processed crash being built; rules fill its fields. */
  processed: ProcessedCrash;
  notes: string[];
  symbolicator: Symbolicator | null;
  tuning: Tuning;
  /** A frame showed that the stack is not from the build uploaded for its release. */
  otherBuild?: boolean;
}

/** Scripts one crash's frames are symbolicated against, at most (the rest stay minified, with a note). */
export const MAX_SCRIPTS_PER_CRASH = 25;

const text = (value: string | undefined): string | null => (value === undefined || value.trim() === '' ? null : value);

/**
 * The processor's rules, in order. Facts from annotations come first (everything else may
 * read them); the stack is parsed before frames are symbolicated, symbolicated before they
 * are classified (a library is often only recognisable by its original path), and classified
 * before the signature (noise never names a crash).
 */
export const PROCESSOR_RULES: readonly Rule<ProcessContext>[] = [
  {
    // The flat fields the index and the report pages read.
    name: 'crash-facts',
    predicate: () => true,
    action({ annotations: a, processed: p, notes }) {
      p.app_guid = text(a[Annotation.WebAppGUID]);
      p.product = text(a[Annotation.ProductName]);
      p.version = text(a[Annotation.Version]);
      p.environment = environmentName(a[Annotation.Environment]);
      if (p.environment === null && text(a[Annotation.Environment])) {
        notes.push(`the Environment annotation is not an environment name (${MAX_ENVIRONMENT_CHARS} characters at most, no / and no control or invisible characters): left out`);
      }
      p.error_type = text(a[Annotation.JSErrorType]);
      p.error_message = text(a[Annotation.JSErrorMessage]);
      p.mechanism = text(a[Annotation.JSMechanism]);
      // The client's clock, seconds since the epoch: when the error happened, if the clock is right.
      const crashTime = Number(a[Annotation.CrashTime]);
      if (a[Annotation.CrashTime] && Number.isFinite(crashTime) && crashTime > 0 && crashTime < 1e11) p.crash_time = new Date(crashTime * 1000).toISOString();
      const url = text(a[Annotation.URL]);
      if (url) {
        try {
          p.url_path = new URL(url).pathname;
        } catch {
          p.url_path = url.replace(/[?#].*$/, '') || null;
        }
      }
    },
  },
  {
    // Browser and OS for the facets, read from the UserAgent annotation.
    name: 'user-agent',
    predicate: ({ annotations }) => Boolean(annotations[Annotation.UserAgent]),
    action({ annotations, processed }) {
      const { browser, os } = parseUserAgent(annotations[Annotation.UserAgent]);
      processed.browser = browser;
      processed.os = os;
    },
  },
  {
    // The stack string, in whichever browser's format it came.
    name: 'parse-stack',
    predicate: ({ annotations }) => Boolean(annotations[Annotation.JSStack]),
    action(ctx) {
      ctx.parsed = parseStack(ctx.annotations[Annotation.JSStack]!);
      if (ctx.parsed.length === 0) ctx.notes.push('the stack has no frames we could read');
    },
  },
  {
    // No stack (a thrown string, a cross-origin "Script error."): the ErrorEvent's position is
    // still one frame.
    name: 'frame-from-error-event',
    predicate: ({ parsed, annotations }) => parsed.length === 0 && Boolean(annotations[Annotation.JSFilename]),
    action(ctx) {
      const a = ctx.annotations;
      const num = (v: string | undefined): number | null => (v && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : null);
      ctx.parsed = [{ function: null, url: a[Annotation.JSFilename]!, line: num(a[Annotation.JSLine]), column: num(a[Annotation.JSColumn]), raw: '' }];
      ctx.notes.push('no stack: the one frame is the error event position');
    },
  },
  {
    // React's production invariant errors throw from a helper; like Sentry, drop that frame
    // so the frame that broke the invariant leads.
    name: 'react-invariant-frame',
    predicate: ({ parsed, annotations }) =>
      parsed.length > 1 && /Minified React error #\d+;/.test(`${annotations[Annotation.JSErrorMessage] ?? ''}\n${(annotations[Annotation.JSStack] ?? '').split('\n')[0]}`),
    action(ctx) {
      ctx.parsed = ctx.parsed.slice(1);
      ctx.notes.push('dropped the innermost frame: React invariant helper');
    },
  },
  {
    // The frames in the contract's shape, the minified position kept as the stack gave it.
    name: 'frames',
    predicate: () => true,
    action(ctx) {
      ctx.processed.frames = ctx.parsed.map((f) => {
        const frame: ProcessedFrame = { function: f.function, url: f.url, line: f.line, column: f.column, category: 'app' };
        if (f.async) frame.async = true;
        if (f.awaited) frame.awaited = true;
        if (f.eval) frame.eval = true;
        return frame;
      });
    },
  },
  {
    // Each frame's original file, line, column, function and context lines.
    name: 'symbolicate',
    predicate: (ctx) => ctx.symbolicator !== null && ctx.processed.frames.length > 0,
    async action(ctx) {
      const { processed, symbolicator, tuning } = ctx;
      const maps = new Set<string>();
      const scripts = new Set<string>();
      let mapped = 0;
      for (const frame of processed.frames) {
        if (isNoiseUrl(frame.url, tuning)) {
          frame.notes = ['not symbolicated: browser, extension or built-in code'];
          continue;
        }
        if (frame.eval) {
          frame.notes = ['not symbolicated: code made by eval or Function has no source map'];
          continue;
        }
        // Each script is looked up (and maybe fetched) once per crash; a stack naming more
        // scripts than a page loads is someone's list of URLs, not worth a lookup each.
        const script = frame.url?.replace(/[?#].*$/s, '') ?? '';
        if (!scripts.has(script) && scripts.size >= MAX_SCRIPTS_PER_CRASH) {
          frame.notes = [`not symbolicated: the stack names over ${MAX_SCRIPTS_PER_CRASH} scripts, and this is one more`];
          continue;
        }
        scripts.add(script);
        let result: Awaited<ReturnType<Symbolicator['symbolicate']>>;
        try {
          result = await symbolicator!.symbolicate(frame, processed.app_guid, processed.version);
        } catch (err) {
          // One bad lookup leaves that frame minified, not the whole stack.
          frame.notes = [`not symbolicated: the lookup failed (${errorName(err)})`];
          continue;
        }
        if (result.original) {
          frame.original = result.original;
          mapped++;
        }
        if (result.map) maps.add(result.map);
        if (result.notes.length) frame.notes = result.notes;
        if (result.otherBuild) ctx.otherBuild = true;
      }
      ctx.notes.push(`symbolicated ${mapped} of ${processed.frames.length} frames${maps.size ? ` with ${[...maps].slice(0, 5).join(', ')}` : ''}`);
      if (ctx.otherBuild) {
        ctx.notes.push(
          `the stack is not from the build uploaded for release ${processed.version ?? '(none)'} (see the frame notes): its original positions may be wrong, and the signature uses the browser's function names`,
        );
      }
    },
  },
  {
    // App, library or noise: the report marks them, and the signature skips noise.
    name: 'classify-frames',
    predicate: (ctx) => ctx.processed.frames.length > 0,
    action({ processed, tuning }) {
      for (const frame of processed.frames) frame.category = classifyFrame(frame, tuning);
    },
  },
  {
    // Last: it reads everything above.
    name: 'signature',
    predicate: () => true,
    async action(ctx) {
      const { processed } = ctx;
      const result = await generateSignature({
        errorType: processed.error_type,
        message: processed.error_message ?? ((ctx.annotations[Annotation.JSStack] ?? '').split('\n')[0] || null),
        // Names mapped through another build's map would make a signature of the wrong functions.
        frames: ctx.otherBuild ? processed.frames.map(({ original: _, ...minified }) => minified) : processed.frames,
        tuning: ctx.tuning,
      });
      processed.signature = result.signature;
      processed.signature_id = result.signature_id;
      processed.signature_notes = result.notes;
      for (const note of result.notes) if (/ failed: /.test(note)) ctx.notes.push(`signature ${note}`);
    },
  },
];

/** The signature of a crash no rule gave one (processing failed): a bucket of unrelated crashes, not a bug. */
export const NO_SIGNATURE = 'EMPTY: no signature';

/** A processed crash with every field at its "unknown" value, for the rules to fill. */
export function emptyProcessedCrash(raw: RawCrash, now: Date): ProcessedCrash {
  return {
    crash_id: raw.crash_id,
    submitted_at: raw.submitted_at,
    processed_at: now.toISOString(),
    signature: NO_SIGNATURE,
    signature_id: '',
    signature_notes: [],
    notes: [],
    frames: [],
    app_guid: null,
    product: null,
    version: null,
    environment: null,
    error_type: null,
    error_message: null,
    mechanism: null,
    browser: null,
    os: null,
    url_path: null,
    crash_time: null,
  };
}

/** Runs the processor rules over one raw crash. */
export async function processCrash(
  raw: RawCrash,
  deps: { symbolicator: Symbolicator | null; tuning: Tuning; now?: () => Date },
): Promise<ProcessedCrash> {
  const processed = emptyProcessedCrash(raw, (deps.now ?? (() => new Date()))());
  const ctx: ProcessContext = {
    raw,
    annotations: raw.annotations ?? {},
    parsed: [],
    processed,
    notes: processed.notes,
    symbolicator: deps.symbolicator,
    tuning: deps.tuning,
  };
  await runRules(PROCESSOR_RULES, ctx);
  if (!processed.signature_id) processed.signature_id = signatureId(processed.signature);
  return processed;
}
