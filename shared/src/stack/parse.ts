import { parse as parseWithStacktraceParser } from 'stacktrace-parser';

/**
 * One frame of a JavaScript `error.stack`, as the string gives it: the function name (null when
 * the engine printed none), the script URL, and 1-based line and column.
 */
export interface StackFrame {
  function: string | null;
  url: string | null;
  line: number | null;
  column: number | null;
  /**
   * The frame begins an asynchronous part of the stack: it ran after an `await` or as a callback
   * (Gecko's `async*`, `setTimeout handler*`, `promise callback*`…; V8's `at async`).
   */
  async?: boolean;
  /**
   * The asynchronous part began at an `await` (Gecko's `async*`, V8's `at async`), not at a
   * timer, an event or a promise callback: V8 lists such a frame, Gecko goes on past it.
   */
  awaited?: boolean;
  /** The code was `eval`ed or built with `Function`; url/line point at the call that made it. */
  eval?: boolean;
  /** The line was longer than MAX_FRAME_LINE_CHARS and was cut: its end (the position) is lost. */
  cut?: boolean;
  /** The line as it appeared in the stack, trimmed (and cut to MAX_FRAME_LINE_CHARS). */
  raw: string;
}

/**
 * Longest stack line we read. Longer lines are cut there before parsing, as Sentry does: it
 * bounds the work per line whatever a page puts in a stack, and no real frame needs more.
 */
export const MAX_FRAME_LINE_CHARS = 1024;

/** Most frames kept from one stack; engines print 10 to 200, pages can make more. */
export const MAX_FRAMES = 500;

/**
 * Only this much of a stack is read. Real stacks are a few kilobytes (the innermost frames come
 * first); the bound keeps a hostile 1 MB stack from costing seconds of regex work.
 */
export const MAX_STACK_CHARS = 256 * 1024;

const UNKNOWN = '<unknown>';
const V8_FRAME = /^\s*at\s/;

/**
 * Parses a stack from Firefox/Gecko, Chrome/V8 or Safari/JSC into frames, innermost first.
 * Built on `stacktrace-parser`, with fixes for what it gets wrong (V8 message lines read as
 * frames, `(async url)`, `safari-extension:(//…)`, `@` inside Gecko function names, Safari
 * frames without a location, webpack's `(error: url)` lines, ...).
 *
 * @example parseStack('TypeError: x is undefined\n    at total (https://a.example/app.js:1:42)')
 *   // [{ function: 'total', url: 'https://a.example/app.js', line: 1, column: 42, raw: 'at total (…)' }]
 */
export function parseStack(stack: string): StackFrame[] {
  const lines = (stack.length > MAX_STACK_CHARS ? stack.slice(0, MAX_STACK_CHARS) : stack).split(/\r?\n/);
  // V8 starts with the message (which may span lines and contain anything); its frames all
  // start with `at`. Gecko and JSC have no message and every line is a frame.
  const v8 = lines.some((l) => V8_FRAME.test(l));
  const frames: StackFrame[] = [];
  for (const full of lines) {
    if (frames.length >= MAX_FRAMES) break;
    const cut = full.length > MAX_FRAME_LINE_CHARS;
    const line = cut ? full.slice(0, MAX_FRAME_LINE_CHARS) : full;
    const frame = v8 ? parseV8Line(line) : parseGeckoOrJscLine(line);
    if (frame) frames.push(cut ? { ...frame, cut } : frame);
  }
  return frames;
}

// ---------------------------------------------------------------- V8

const WEBPACK_ERROR = /^\s*(?:at\s+)?\(error: \(?(.*?)\)?\)\s*$/;
const SAFARI_EXTENSION_V8 = /^(\s*at\s+)(?:(.*?)@)?((?:safari|safari-web)-extension):\(\/\/(.*)\)\s*$/;

function parseV8Line(line: string): StackFrame | null {
  const raw = line.trim();
  // webpack's ChunkLoadError puts the chunk URL on lines of its own: `(error: https://…)`.
  const webpack = WEBPACK_ERROR.exec(line);
  if (webpack) return { function: null, url: webpack[1]!, line: null, column: null, raw };
  if (!V8_FRAME.test(line) || !plausibleV8Line(line)) return null;

  let text = line;
  // Some tools print `at fn @ url:l:c`.
  const atSign = text.indexOf(' @ ');
  if (atSign > 0 && !text.includes('(')) text = `${text.slice(0, atSign).trimEnd()} (${text.slice(atSign + 3).trim()})`;
  // Safari extension URLs in V8 form: `at fn@safari-extension:(//id/file.js:1:2)`.
  const safari = SAFARI_EXTENSION_V8.exec(text);
  if (safari) text = `${safari[1]}${safari[2] ? `${safari[2]} ` : ''}(${safari[3]}://${safari[4]})`;

  let async = false;
  // `at async fn (url)` and `at async url`: the async marker is not part of the name.
  const asyncMatch = /^(\s*at\s+)async\s+(.*)$/.exec(text);
  if (asyncMatch) {
    async = true;
    text = `${asyncMatch[1]}${asyncMatch[2]}`;
  }
  // `at fn (async url)`, as older Chrome printed it.
  text = text.replace(/\(async\s+/, () => {
    async = true;
    return '(';
  });

  const isEval = /\(eval at /.test(text);
  const native = /\((?:native|\[native code\])\)\s*$/.exec(text);
  const parsed = parseWithStacktraceParser(text)[0];
  // V8 always prints a location; a bare `at words` line is part of a multi-line message.
  if (!parsed) return null;
  let name = parsed.methodName === UNKNOWN ? null : parsed.methodName;
  let url = parsed.file;
  if (native) url = 'native';
  if (async && name === null && url === null) return null;
  if (name && asyncMatch) name = `async ${name}`;
  const frame: StackFrame = { function: name, url, line: parsed.lineNumber, column: parsed.column, raw };
  hideDataUrl(frame);
  if (async) {
    frame.async = true;
    frame.awaited = true; // V8 lists only awaits
  }
  if (isEval) frame.eval = true;
  return frame;
}

/**
 * A `data:` script's URL is the whole script: page data, often kilobytes, and no file anyone
 * can look up. Like Sentry, name it by its media type; its line and column point into a
 * script we do not have, so they go too.
 */
function hideDataUrl(frame: StackFrame): void {
  if (!frame.url?.startsWith('data:')) return;
  const type = /^data:([\w.+-]+\/[\w.+-]+)?/.exec(frame.url)?.[1] ?? 'text/plain';
  frame.url = `<data:${type}>`;
  frame.line = null;
  frame.column = null;
}

/**
 * stacktrace-parser's V8 regexes backtrack badly on lines no engine prints (hundreds of `(`,
 * hundreds of spaces or colons): a few milliseconds a line. Such lines are no frames anyway.
 */
function plausibleV8Line(line: string): boolean {
  let parens = 0;
  let colons = 0;
  let spaces = 0;
  // Leading indentation is not part of the frame.
  for (let i = line.search(/\S/); i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 40) parens++;
    else if (c === 58) colons++;
    else if (c === 32 || c === 9) spaces++;
    if (parens > 32 || colons > 64 || spaces > 48) return false;
  }
  return true;
}

// ---------------------------------------------------------------- Gecko and JSC

const LOCATION = /^(.*?)(?::(\d+))?(?::(\d+))?$/;
const GECKO_ASYNC_CAUSE = /^@?([A-Za-z][\w .]*)\*(.*)$/;
// One way to read each ` > Function line N` (alternatives that overlap make backtracking exponential).
const GECKO_EVAL = /^(.*?) line (\d+)(?: > (?:eval|Function)(?: line \d+)*)*? > (?:eval|Function)$/;

function parseGeckoOrJscLine(line: string): StackFrame | null {
  const raw = line.trim();
  if (raw === '') return null;

  let text = raw;
  let async: AsyncCause = null;
  // Gecko starts each asynchronous part of a stack with its cause: `async*` after an await
  // (older: `@async*`), `setTimeout handler*`, `promise callback*`, `EventListener.handleEvent*`,
  // `requestAnimationFrame handler*`… The cause is not part of the function's name.
  const asyncCause = GECKO_ASYNC_CAUSE.exec(text);
  if (asyncCause) {
    async = asyncCause[1] === 'async' ? 'await' : 'callback';
    text = asyncCause[2]!;
  }

  const at = splitAtSign(text);
  if (at === null) {
    // JSC prints anonymous frames as the bare location. A line with no location at all (JSC's
    // `eval code`, a message line) is no frame anyone can use.
    if (/:\d+$/.test(text) || /^[a-z][\w+.-]*:\/\//i.test(text)) return locationOnly(text, raw, async);
    return null;
  }
  const name = stripGeckoArguments(at.name);
  const location = at.location;
  if (location === '[native code]') return withFlags({ function: name, url: '[native code]', line: null, column: null, raw }, async, false);

  const evalMatch = / > (?:eval|Function)/.test(location) ? GECKO_EVAL.exec(location.replace(/:\d+:\d+$/, '')) : null;
  if (evalMatch) {
    return withFlags({ function: name ?? 'eval', url: evalMatch[1]!, line: Number(evalMatch[2]), column: null, raw }, async, true);
  }
  const loc = LOCATION.exec(location)!;
  return withFlags(
    { function: name, url: loc[1] || null, line: loc[2] ? Number(loc[2]) : null, column: loc[3] ? Number(loc[3]) : null, raw },
    async,
    false,
  );
}

/** What began a Gecko frame's asynchronous part: an await, or a timer, event or promise callback. */
type AsyncCause = 'await' | 'callback' | null;

function locationOnly(text: string, raw: string, async: AsyncCause): StackFrame {
  const loc = LOCATION.exec(text)!;
  return withFlags({ function: null, url: loc[1] || null, line: loc[2] ? Number(loc[2]) : null, column: loc[3] ? Number(loc[3]) : null, raw }, async, false);
}

function withFlags(frame: StackFrame, async: AsyncCause, isEval: boolean): StackFrame {
  hideDataUrl(frame);
  if (async) frame.async = true;
  if (async === 'await') frame.awaited = true;
  if (isEval) frame.eval = true;
  return frame;
}

/**
 * Splits `name@location` at the first `@` outside brackets and quotes: Gecko names such as
 * `obj["@fn"]` contain `@`, URLs (`https://user@host/`) may too, after it.
 */
function splitAtSign(text: string): { name: string; location: string } | null {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === '@' && depth === 0) return { name: text.slice(0, i), location: text.slice(i + 1) };
  }
  return null;
}

/** Old Gecko printed arguments: `fn("a", 1)@url`, `()@url`, `(null)@url`. Keep the name only. */
function stripGeckoArguments(name: string): string | null {
  const m = /^([^(]*?)\((.*)\)$/.exec(name);
  const bare = m && !/[[\]"']/.test(m[1]!) ? m[1]! : name;
  return bare === '' ? null : bare;
}
