import { createHash } from 'node:crypto';
import { allFromBrowserExtensions } from '../../../shared/src/stack/extension-urls.ts';
import type { ProcessedFrame } from '../storage/types.ts';
import { type Rule, runRules } from './pipeline.ts';
import type { Tuning } from './tuning.ts';

/** Frames named in a signature after the error type. */
export const MAX_SIGNATURE_FRAMES = 3;
/** A failed fetch's message in every browser's wording, once message-rewrites.txt has made them one. */
const NETWORK_ERROR_MESSAGE = 'Failed to fetch';
/** Socorro's limit: longer signatures are cut and end in `...`. */
export const MAX_SIGNATURE_CHARS = 255;
/** How a signature ends when every script in the stack is a browser extension's (triage ignores these by default). */
export const BROWSER_EXTENSION_MARK = ' | <browser extension>';

/** What the signature rules read and write. */
export interface SignatureContext {
  errorType: string | null;
  message: string | null;
  frames: readonly ProcessedFrame[];
  tuning: Tuning;
  /** Normalised error type, set by the first rule. */
  type: string;
  /** Innermost frames the frames rule passes over: the error class's own constructor frames. */
  skipFrames: number;
  /** Frame names chosen for the signature. */
  frameNames: string[];
  signature: string;
  /** How the signature was made: each rule that changed it, from what. */
  notes: string[];
}

function setSignature(ctx: SignatureContext, rule: string, value: string, describe?: string): void {
  if (value === ctx.signature) return;
  ctx.notes.push(`${rule}: ${JSON.stringify(ctx.signature)} -> ${describe ?? JSON.stringify(value)}`);
  ctx.signature = value;
}

/**
 * The signature generator's rules, in order: the type comes first because every later rule
 * builds on it; frames before the message fallback, which only runs when no frame qualified;
 * the length cap last.
 */
export const SIGNATURE_RULES: readonly Rule<SignatureContext>[] = [
  {
    // Firefox, Chrome and Safari agree on the type, but for a stack overflow (Firefox's
    // InternalError, the others' RangeError); Chrome's onerror adds "Uncaught ".
    name: 'error-type',
    predicate: () => true,
    action(ctx) {
      const fromMessage = /^(?:Uncaught )?([A-Z][A-Za-z]*(?:Error|Exception|Violation))\b/.exec(ctx.message ?? '')?.[1];
      const given = (ctx.errorType ?? '').replace(/^Uncaught\s+/, '').trim();
      const valid = /^[\w$.-]{1,80}$/.test(given);
      ctx.type = valid ? given : (fromMessage ?? 'Error');
      if (given !== '' && !valid) {
        ctx.notes.push(`error-type: JSErrorType ${JSON.stringify(given.slice(0, 80))} is not a type name (up to 80 letters, digits, _ $ . -); used ${JSON.stringify(ctx.type)}`);
      }
      // Gecko's stack overflow is an InternalError; V8's and JavaScriptCore's a RangeError.
      if (ctx.type === 'InternalError' && /^too much recursion$/i.test((ctx.message ?? '').trim())) {
        ctx.type = 'RangeError';
        ctx.notes.push('error-type: InternalError "too much recursion" is the RangeError other browsers report for a stack overflow');
      }
      setSignature(ctx, 'error-type', ctx.type);
    },
  },
  {
    // Firefox's stack starts inside the constructor of a custom Error subclass (the `super(...)`
    // line); V8's starts at the `new`. Skipping those innermost frames gives the same bug one
    // signature in both. The frames stay on the report; only the signature passes over them.
    name: 'error-constructor-frames',
    predicate: (ctx) => ctx.frames.length > 0,
    action(ctx) {
      const { skip, skipped } = errorConstructorFrames(ctx.frames, ctx.type);
      if (skipped.length === 0) return;
      ctx.skipFrames = skip;
      ctx.notes.push(`error-constructor-frames: skipped ${skipped.map((n) => JSON.stringify(n)).join(', ')} (the error class's constructor, which V8 leaves out)`);
    },
  },
  {
    // The first few meaningful frames: no noise, no plumbing; library frames only where they
    // are the code the app called into, not the framework that called the app. A name the frame
    // before already gave counts once (recursion; Firefox's closure `outer/<` called by `outer`).
    // Frames stop where the stack turns asynchronous, as V8's stop, after the first awaiting
    // function.
    name: 'frames',
    predicate: (ctx) => ctx.frames.length > 0,
    action(ctx) {
      const names: string[] = [];
      // `a | a | a` says no more than `a`; Gecko's closure `outer/<` reads as `outer`, and V8
      // leaves it unnamed.
      const add = (name: string): void => {
        if (names.at(-1) !== name) names.push(name);
      };
      let seenApp = false;
      let pendingLibrary: string | null = null;
      const consider = (frame: ProcessedFrame): void => {
        if (frame.category === 'noise') return;
        const name = signatureFunctionName(frame);
        if (!name || ctx.tuning.irrelevantFrames.some((re) => re.test(name))) return;
        if (frame.category === 'library') {
          if (!seenApp) pendingLibrary = name;
          return;
        }
        if (!seenApp && pendingLibrary) add(pendingLibrary);
        seenApp = true;
        if (names.length < MAX_SIGNATURE_FRAMES) add(name);
      };
      for (const frame of ctx.frames.slice(ctx.skipFrames)) {
        if (names.length >= MAX_SIGNATURE_FRAMES) break;
        // Where the stack turns asynchronous, the browsers part: past a timer, an event or a
        // promise callback V8 lists nothing and Gecko the code that set it up; past an `await`
        // V8 lists the awaiting functions (`at async pay`) while Gecko marks only the first of
        // them and goes on into their synchronous callers, which it does not tell apart.
        if (frame.async && !frame.awaited) break;
        consider(frame);
        if (frame.awaited) break;
      }
      if (!seenApp && pendingLibrary) add(pendingLibrary);
      ctx.frameNames = names;
      if (ctx.frameNames.length) setSignature(ctx, 'frames', `${ctx.type}: ${ctx.frameNames.join(' | ')}`);
    },
  },
  {
    // A fetch that failed on the network rejects with an error the browser makes: Gecko and
    // WebKit give it no stack, V8 the caller's. Grouped by its message in every browser, or the
    // same failure would be one signature per caller in Chrome and one for all in Firefox.
    name: 'network-error',
    predicate: (ctx) => ctx.type === 'TypeError' && normalizeMessage(ctx.message ?? '', ctx.tuning) === NETWORK_ERROR_MESSAGE,
    action(ctx) {
      ctx.frameNames = [];
      setSignature(ctx, 'network-error', `${ctx.type}: ${NETWORK_ERROR_MESSAGE}`, 'error type + the network error, without frames (Firefox and Safari give it none)');
    },
  },
  {
    // webpack's runtime failed to load a chunk (a deploy removed it from under an open tab, or
    // the network): one signature whatever the chunk and whoever asked for it, as for a failed
    // dynamic import, rather than the runtime's minified loader (`ChunkLoadError: e`).
    name: 'chunk-load-error',
    // mini-css-extract-plugin's failure is a plain Error: known by its message.
    predicate: (ctx) => ctx.type === 'ChunkLoadError' || normalizeMessage(ctx.message ?? '', ctx.tuning) === 'Loading CSS chunk failed',
    action(ctx) {
      ctx.frameNames = [];
      setSignature(ctx, 'chunk-load-error', `${ctx.type}: ${normalizeMessage(ctx.message ?? '', ctx.tuning) || 'Loading chunk failed'}`, "error type + the message, without frames (webpack's runtime loads every chunk)");
    },
  },
  {
    // No usable frame: group by the message with its variable parts taken out.
    name: 'message-fallback',
    predicate: (ctx) => ctx.frameNames.length === 0,
    action(ctx) {
      const message = normalizeMessage(ctx.message ?? '', ctx.tuning);
      if (message) setSignature(ctx, 'message-fallback', `${ctx.type}: ${message}`, 'error type + normalised message');
    },
  },
  {
    // A script from another origin loaded without CORS reports only "Script error.": the
    // script's address is all that tells one such error from another, so it joins the signature
    // (without its query) rather than every third-party script sharing one.
    name: 'cross-origin-script',
    predicate: (ctx) => ctx.frameNames.length === 0 && /^(?:Uncaught )?Script error\.?$/i.test((ctx.message ?? '').trim()),
    action(ctx) {
      const url = URL.parse(ctx.frames.find((f) => f.url)?.url ?? '');
      if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
        setSignature(ctx, 'cross-origin-script', `${ctx.signature} | <${url.host}${url.pathname}>`, 'signature + the script\'s address');
      }
    },
  },
  {
    // A message that itself ends like the browser extension mark would pass for an extension's
    // error and start out ignored: its `<` `>` become `(` `)`.
    name: 'false-extension-mark',
    predicate: (ctx) => ctx.signature.endsWith(BROWSER_EXTENSION_MARK) && !allFromBrowserExtensions(ctx.frames.map((f) => f.url)),
    action(ctx) {
      setSignature(ctx, 'false-extension-mark', `${ctx.signature.slice(0, -BROWSER_EXTENSION_MARK.length)} | (browser extension)`, 'the mark in the message made plain');
    },
  },
  {
    // An error thrown entirely by a browser extension's script in the page (every frame with an
    // address is an extension's) is not the app's: it is marked, so it neither joins the app's
    // own errors of the same message nor passes for one, and it starts out ignored (see
    // Resolving and ignoring signatures).
    name: 'browser-extension',
    predicate: (ctx) => allFromBrowserExtensions(ctx.frames.map((f) => f.url)),
    action(ctx) {
      setSignature(ctx, 'browser-extension', `${ctx.signature}${BROWSER_EXTENSION_MARK}`, 'signature + <browser extension>');
    },
  },
  {
    // Signatures are keys in lists and URLs: keep them to a readable length.
    name: 'length-cap',
    predicate: (ctx) => ctx.signature.length > MAX_SIGNATURE_CHARS,
    action(ctx) {
      // The browser extension mark stays at the end, where triage looks for it.
      const mark = ctx.signature.endsWith(BROWSER_EXTENSION_MARK) ? BROWSER_EXTENSION_MARK : '';
      const keep = MAX_SIGNATURE_CHARS - 3 - mark.length;
      setSignature(ctx, 'length-cap', `${ctx.signature.slice(0, keep)}...${mark}`, `first ${keep} characters + ...${mark ? ' + <browser extension>' : ''}`);
    },
  },
];

/** Runs the signature rules; failures are recorded in `notes` and the rest still run. */
export async function generateSignature(input: {
  errorType: string | null;
  message: string | null;
  frames: readonly ProcessedFrame[];
  tuning: Tuning;
}): Promise<{ signature: string; signature_id: string; notes: string[] }> {
  const ctx: SignatureContext = { ...input, type: 'Error', skipFrames: 0, frameNames: [], signature: '', notes: [] };
  await runRules(SIGNATURE_RULES, ctx);
  if (!ctx.signature) ctx.signature = ctx.type;
  return { signature: ctx.signature, signature_id: signatureId(ctx.signature), notes: ctx.notes };
}

/**
 * A stable, URL-safe short ID of a signature's text: the first 16 characters of the base64url
 * SHA-256. The same text always gives the same ID, on any receiver.
 */
export function signatureId(signature: string): string {
  return createHash('sha256').update(signature, 'utf8').digest('base64url').slice(0, 16);
}

/** Whether `text` has the shape of a signature ID (16 base64url characters). */
export function isSignatureId(text: string): boolean {
  return /^[A-Za-z0-9_-]{16}$/.test(text);
}

/**
 * A frame's function name as a signature shows it: the original name when symbolicated, with
 * the parts browsers add and that differ between them removed (`async `, `new `, `[as x]`,
 * `Object.`, `HTMLButtonElement.`, Gecko's `/<`, older Gecko's `[2]</` and `.prototype`).
 */
export function signatureFunctionName(frame: ProcessedFrame): string | null {
  // Known to be anonymous: whatever the browser called it is its own invention.
  if (frame.original?.anonymous) return null;
  let name = frame.original?.function ?? frame.function;
  if (!name) return null;
  name = name
    .replace(/^async\s+/, '')
    .replace(/^new\s+/, '')
    .replace(/\s*\[as [^\]]*\]$/, '')
    .replace(/^(?:Object|Module|Window|Document|HTML\w*Element|Element|Node|EventTarget|XMLHttpRequest)\./, '')
    .replace(/(?:\/<)+$/, '')
    // Older Gecko: `[2]</Bar.prototype._baz` (a function in the 3rd of an array of modules) and
    // `App.prototype.foo`, which V8 calls `App.foo`.
    .replace(/^\[\d+\]<\//, '')
    // Gecko in a webpack 5 bundle: `151/<`, `151/search/e<`, a function in the module factory
    // keyed 151 (the key is a hash of the module's path, so it changes when the file moves).
    .replace(/^\d+(?:\/|$)/, '')
    .replace(/\.prototype\./, '.')
    .replace(/^\*/, '')
    .replace(/[/<]+$/, '')
    .trim();
  if (!name || name === '<anonymous>' || name === 'anonymous' || name === '?') return null;
  return name.length > 120 ? `${name.slice(0, 117)}...` : name;
}

/** An error class name as code spells it: `PaymentDeclinedError`, `QuotaExceededException`. */
const ERROR_CLASS_NAME = /^[A-Z][\w$]*(?:Error|Exception)$/;

/**
 * Whether a frame is the constructor of the thrown error's own class, which Gecko and
 * JavaScriptCore put on the stack and V8 leaves out. Only the innermost frames are asked.
 * It is, when its function (normalised, `new X` -> `X`) is `X` or `X.constructor` and either
 * X is the crash's error type or is named like an error class, or X's constructor is at a
 * `super(` line of a `class X extends ...Error` seen in the frame's original source lines.
 * A class that is not an error (`new Cart()` throwing a TypeError) never matches.
 */
const JS_IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** `class Name` in a line of source, and the name. */
const CLASS_DECLARATION = /\bclass\s+([A-Za-z_$][\w$]*)/;

/**
 * The frames at the top of a stack that are the error class's constructor (Firefox starts a
 * custom error's stack at its `super(...)`), with the noise among them: `skip` frames in all,
 * `skipped` naming the constructors. The signature passes over them, and the report page opens
 * the frame after them, where the error was thrown.
 */
export function errorConstructorFrames(frames: readonly ProcessedFrame[], errorType: string): { skip: number; skipped: string[] } {
  let skip = 0;
  const skipped: string[] = [];
  for (const frame of frames) {
    if (frame.category !== 'noise') {
      if (!isErrorConstructorFrame(frame, errorType)) break;
      skipped.push(signatureFunctionName(frame)!);
    }
    skip++;
  }
  return skipped.length ? { skip, skipped } : { skip: 0, skipped };
}

export function isErrorConstructorFrame(frame: ProcessedFrame, errorType: string): boolean {
  const name = signatureFunctionName(frame);
  if (!name) return false;
  const isConstructor = name.endsWith('.constructor');
  const cls = name.replace(/\.constructor$/, '');
  if (cls.includes('.')) return false;
  if (cls === errorType || ERROR_CLASS_NAME.test(cls)) return true;
  const context = frame.original?.context;
  if (!isConstructor || !context || !/\bsuper\s*\(/.test(context.line)) return false;
  // The name comes from the submitted stack when the map has none: compared as an identifier,
  // never made into a regular expression (a name like `(a|a)*b` would backtrack for hours).
  if (!JS_IDENTIFIER.test(cls)) return false;
  const declaration = [...context.pre].reverse().find((l) => CLASS_DECLARATION.exec(l)?.[1] === cls);
  return declaration !== undefined && /\bextends\s+[\w$.]*(?:Error|Exception)\b/.test(declaration);
}

/**
 * A message with each browser's wording made one (message-rewrites.txt) and its variable
 * parts replaced: URLs, UUIDs, hex numbers, quoted strings, numbers.
 *
 * @example normalizeMessage(`can't access property "total", cart is undefined`, tuning)
 *   // 'Cannot read properties of undefined (reading total)'
 * @example normalizeMessage('Request 42 to https://x.example/a failed', tuning) // 'Request <n> to <url> failed'
 */
export function normalizeMessage(message: string, tuning: Tuning): string {
  // The first line, and no more of it than a signature could show: bounds the regex work.
  let text = message.slice(0, 2000).split('\n')[0]!.trim();
  for (const { pattern, replacement } of tuning.messageRewrites) text = text.replace(pattern, replacement);
  text = text
    .replace(/\b[a-z][\w+.-]*:\/\/[^\s'"`)]+/gi, '<url>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '<str>')
    .replace(/\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, '<hex>')
    // A number is variable wherever it starts a word: `42`, `1.5s`, `500ms` (not `handler0`).
    .replace(/(?<![\w$.<])-?\d+(?:\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
