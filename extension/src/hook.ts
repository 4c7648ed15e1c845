/**
 * The hook, run in the page's own JavaScript world at document_start (a `"world": "MAIN"`
 * content script), before any script of the page. It listens for uncaught errors and unhandled
 * promise rejections in the capture phase on `window`, so pages that replace `window.onerror`
 * or stop propagation in their own listeners do not hide errors from it, and it never calls
 * preventDefault: the page's own handlers still run and still decide.
 *
 * It costs nothing until an error happens. Then it folds repeats of the same error together
 * and, once per flush delay (see FLUSH_DELAY_MS; at once when the page is left), hands a JSON batch to the
 * isolated content script in a CustomEvent on `document`. Every built-in it needs is taken at
 * start, so a page that later patches `JSON`, `setTimeout` or event getters cannot break it or
 * see what it sends, and every step is inside try/catch so nothing it does can throw into the
 * page. What it builds has no prototype, so what a page adds to `Object.prototype` or
 * `Array.prototype` (a `toJSON`, as Prototype.js defines, or a setter) does not reach it. A thrown
 * value is read as the page's: a getter that throws or a revoked Proxy counts as a missing
 * property, and a value it cannot read at all is still reported, as one that could not be read.
 */
import { MAX_ERRORS_PER_BATCH, MAX_MESSAGE_CHARS, MAX_STACK_CHARS, MAX_TYPE_CHARS, MAX_URL_CHARS, RELAY_EVENT } from './relay.ts';
import type { CaptureMechanism, CapturedError } from './relay.ts';

/**
 * How long repeats are gathered before a batch goes to the content script: FLUSH_DELAY_MS at
 * first, doubled at each batch while the page keeps erroring, up to MAX_FLUSH_DELAY_MS, and back
 * to FLUSH_DELAY_MS once QUIET_MS pass without a batch. The content script passes 60 batches a
 * minute per document and the background 120 per site, and drop the rest with their counts: a
 * loop flushed every 100 ms (600 batches a minute) had most of its repeats dropped. This way a
 * document hands over at most 35 batches in any minute, and every repeat rides in one. Not
 * longer: when a tab is closed, Firefox often ends the hook or the content script before the
 * batch sent at pagehide reaches the background, and what is lost then is at most one delay's
 * worth of repeats.
 */
const FLUSH_DELAY_MS = 100;
const MAX_FLUSH_DELAY_MS = 2_000;
const QUIET_MS = 10_000;
/**
 * Distinct errors one document may report in SEEN_WINDOW_MS; later new ones are counted as
 * dropped until the window is over. Then the distinct ones are forgotten, so a tab open for hours
 * whose messages carry IDs still reports a new bug.
 */
const MAX_DISTINCT_PER_DOCUMENT = 200;
const SEEN_WINDOW_MS = 60_000;
/**
 * Key names of a rejected or thrown non-Error object named in its message (sorted, so the same
 * object reads the same whatever its key order); the rest are counted (see MAX_READ_KEYS). Its values are never
 * read: they are the page's data (a password, a basket), not the error.
 */
const MAX_NAMED_KEYS = 20;
const MAX_KEY_NAME_CHARS = 40;
/**
 * Own keys of such an object looked at, at most: the 20 named are the first of these, sorted.
 * Taking and sorting all keys of an object with a million blocked the page for 90 to 185 ms.
 */
const MAX_READ_KEYS = 2_000;
/**
 * The event by which a hook starting in a page asks, on `document`, whether one is there already:
 * a hook that is cancels it. One brought into a page already open, at install or update, may
 * find the one registered there (the page was loading then) or the old version's, which stays
 * in the page after an update and still hands errors on; a second would report each twice. Only
 * a page with the hook gets an answer, which its listeners give away already.
 */
const HOOK_PRESENT_EVENT = 'socorrito:hook';

(() => {
  const apply = Reflect.apply;
  const getter = (proto: object, name: string): ((this: unknown) => unknown) | undefined =>
    Object.getOwnPropertyDescriptor(proto, name)?.get as ((this: unknown) => unknown) | undefined;
  const read = (get: ((this: unknown) => unknown) | undefined, target: unknown): unknown => (get ? apply(get, target, []) : undefined);

  const win = window;
  const doc = document;
  const stringify = JSON.stringify;
  const setTimer = win.setTimeout;
  const clock = Date.now;
  const addListener = EventTarget.prototype.addEventListener;
  const dispatch = EventTarget.prototype.dispatchEvent;
  const preventDefault = Event.prototype.preventDefault;
  const CustomEventCtor = CustomEvent;
  const Observer = MutationObserver;
  const toText = String;
  const ownKeys = Reflect.ownKeys;
  const isEnumerable = Object.prototype.propertyIsEnumerable;
  const objectToString = Object.prototype.toString;
  const ErrorCtor = Error;
  const errorIsError = (Error as { isError?: unknown }).isError;
  const setPrototype = Object.setPrototypeOf;
  /** `value` without a prototype: JSON.stringify and dictionaries read nothing the page added to Object or Array. */
  const bare = <T extends object>(value: T): T => setPrototype(value, null) as T;
  const isArray = Array.isArray;
  const arraySort = Array.prototype.sort;
  const stringSlice = String.prototype.slice;
  const regexExec = RegExp.prototype.exec;
  const eventTarget = getter(Event.prototype, 'target');
  const errorMessage = getter(ErrorEvent.prototype, 'message');
  const errorFilename = getter(ErrorEvent.prototype, 'filename');
  const errorLine = getter(ErrorEvent.prototype, 'lineno');
  const errorColumn = getter(ErrorEvent.prototype, 'colno');
  const errorError = getter(ErrorEvent.prototype, 'error');
  const rejectionReason = typeof PromiseRejectionEvent === 'function' ? getter(PromiseRejectionEvent.prototype, 'reason') : undefined;
  const FIRST_FRAME = /(?:@|\(|\bat )((?:[a-z][a-z0-9+.-]*:)[^\s()]*?):(\d+):(\d+)\)?\s*$/im;
  // An error event without its error object (one thrown in a worker) still names its type in
  // the message: `TypeError: x is null`, Chrome's `Uncaught TypeError: …`.
  const TYPED_MESSAGE = /^(?:Uncaught )?([A-Z][\w$]*(?:Error|Exception)): ([\s\S]*)$/;

  try {
    if (!apply(dispatch, doc, [new CustomEventCtor(HOOK_PRESENT_EVENT, bare({ cancelable: true }))])) return;
  } catch {
    // No answer to be had: go on as the only hook.
  }

  // Keys are kept in plain null-prototype objects: nothing there the page can patch.
  let pending: Record<string, CapturedError> = Object.create(null);
  let pendingCount = 0;
  let seen: Record<string, true> = Object.create(null);
  let seenCount = 0;
  let seenSince = clock();
  let dropped = 0;
  let flushScheduled = false;
  let flushDelay = FLUSH_DELAY_MS;
  let lastFlushAt = -Infinity;

  const cut = (value: unknown, max: number): string => (typeof value === 'string' ? (apply(stringSlice, value, [0, max]) as string) : '');
  const num = (value: unknown): number => (typeof value === 'number' && value >= 0 && value < 1e9 ? value : 0);

  // A function too: its text is the page's source.
  const isObject = (value: unknown): value is object => (typeof value === 'object' && value !== null) || typeof value === 'function';

  /**
   * What a non-Error object is, without its values: its constructor's name and what it holds
   * (`with keys: code, password`, `with 2 items`, `with no keys`, or nothing when unreadable).
   */
  function shape(value: object): { name: string; holds: string } {
    let name = 'Object';
    try {
      const ctorName = (value as { constructor?: { name?: unknown } }).constructor?.name;
      if (typeof ctorName === 'string' && ctorName) name = cut(ctorName, MAX_TYPE_CHARS);
    } catch {
      // a throwing getter or a revoked proxy: a plain "Object" it is
    }
    const keys: string[] = bare([]);
    let more = false;
    try {
      // Both throw for a revoked Proxy; a Proxy's traps may throw.
      if (isArray(value)) return { name, holds: 'with ' + num((value as unknown[]).length) + ' items' };
      // Reflect.ownKeys, unlike Object.keys, asks a Proxy nothing per key: only the keys looked
      // at below are checked for being enumerable.
      const own = ownKeys(value);
      const seen = own.length < MAX_READ_KEYS ? own.length : MAX_READ_KEYS;
      more = own.length > seen;
      for (let i = 0; i < seen; i++) {
        const key = own[i];
        if (typeof key === 'string' && apply(isEnumerable, value, [key])) keys[keys.length] = cut(key, MAX_KEY_NAME_CHARS);
      }
      apply(arraySort, keys, []);
    } catch {
      return { name, holds: '' };
    }
    if (!keys.length) return { name, holds: more ? 'with more than ' + MAX_READ_KEYS + ' keys' : 'with no keys' };
    let list = '';
    for (let i = 0; i < keys.length && i < MAX_NAMED_KEYS; i++) list += (i ? ', ' : '') + keys[i];
    // Past MAX_READ_KEYS the rest are not counted: "and more" says only that there are others.
    if (more) list += ' and more';
    else if (keys.length > MAX_NAMED_KEYS) list += ' and ' + (keys.length - MAX_NAMED_KEYS) + ' more';
    return { name, holds: 'with keys: ' + list };
  }

  /**
   * A non-Error object as Sentry words it, without its values:
   * `Object captured as promise rejection with keys: code, password`.
   */
  function outline(value: object, capturedAs: string): string {
    const { name, holds } = shape(value);
    return name + ' captured as ' + capturedAs + (holds ? ' ' + holds : '');
  }

  /** `value[key]`, or undefined when its getter (its own, Error.prototype's, a Proxy's trap) throws. */
  function property(value: object, key: string): unknown {
    try {
      return (value as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  }

  /** Whether `value` is an Error object (any realm's), without running page code that could throw. */
  function isError(value: object): boolean {
    try {
      if (typeof errorIsError === 'function') return apply(errorIsError, ErrorCtor, [value]) === true;
      // Before Error.isError: a page's Symbol.toStringTag getter may run here (and throw).
      return apply(objectToString, value, []) === '[object Error]';
    } catch {
      return false;
    }
  }

  /**
   * An Error's `message` as text, when the page set it to something else: a primitive as String()
   * gives it (which runs no page code), an object outlined as above (its toString is the page's).
   */
  function messageText(message: unknown): string {
    if (typeof message === 'string') return message;
    if (message === undefined) return '';
    if (isObject(message)) {
      const { name, holds } = shape(message);
      return name + (holds ? ' ' + holds : '');
    }
    return toText(message);
  }

  function describe(value: unknown): { type: string; message: string; stack: string } | null {
    if (typeof value !== 'object' || value === null) return null;
    let message: unknown;
    let unreadable = false;
    try {
      message = (value as { message?: unknown }).message;
    } catch {
      unreadable = true;
    }
    // Anything with a string message reads as an error; a real Error keeps its type and stack whatever its message is.
    if (typeof message !== 'string' && !isError(value)) return null;
    const name = property(value, 'name');
    const stack = property(value, 'stack');
    return {
      type: typeof name === 'string' && name ? name : 'Error',
      message: unreadable ? 'A message that could not be read' : messageText(message),
      stack: typeof stack === 'string' ? stack : '',
    };
  }

  function add(error: Omit<CapturedError, 'count'>): void {
    const key = error.mechanism + '\u0000' + error.type + '\u0000' + error.message + '\u0000' + error.filename + '\u0000' + error.line + '\u0000' + error.column + '\u0000' + error.stack;
    const known = pending[key];
    if (known) {
      if (known.count < 1e9) known.count++;
      return;
    }
    if (!seen[key]) {
      if (seenCount >= MAX_DISTINCT_PER_DOCUMENT && clock() - seenSince >= SEEN_WINDOW_MS) {
        seen = Object.create(null);
        seenCount = 0;
        seenSince = clock();
      }
      if (seenCount >= MAX_DISTINCT_PER_DOCUMENT) {
        // Counted, and the count goes out with the next batch.
        dropped++;
        return scheduleFlush();
      }
      seen[key] = true;
      seenCount++;
    }
    if (pendingCount >= MAX_ERRORS_PER_BATCH) {
      dropped++;
      return;
    }
    pending[key] = bare({ ...error, count: 1 });
    pendingCount++;
    scheduleFlush();
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    flushDelay = clock() - lastFlushAt < QUIET_MS ? (flushDelay * 2 < MAX_FLUSH_DELAY_MS ? flushDelay * 2 : MAX_FLUSH_DELAY_MS) : FLUSH_DELAY_MS;
    apply(setTimer, win, [flush, flushDelay]);
  }

  function flush(): void {
    flushScheduled = false;
    const errors: CapturedError[] = bare([]);
    for (const key in pending) errors[errors.length] = pending[key]!;
    if (errors.length === 0 && dropped === 0) return; // sent early, as the page was left
    const batch = bare({ errors, dropped });
    pending = Object.create(null);
    pendingCount = 0;
    dropped = 0;
    lastFlushAt = clock();
    try {
      const detail = stringify(batch);
      apply(dispatch, doc, [new CustomEventCtor(RELAY_EVENT, bare({ detail }))]);
    } catch {
      // A page listener on our event threw, or the document is gone: never the page's problem.
    }
  }

  /** The error's type, message and stack, from a thrown or rejected value of any kind. */
  function explain(mechanism: CaptureMechanism, value: unknown, fallbackMessage: string): { type: string; message: string; stack: string } {
    const described = describe(value);
    if (described) return described;
    if (mechanism === 'unhandledrejection') {
      // A primitive reason is short enough to be the message (cut below); an object is outlined.
      const message = isObject(value)
        ? outline(value, 'promise rejection')
        : 'Non-Error promise rejection captured with value: ' + cut(typeof value === 'string' ? value : toText(value), MAX_MESSAGE_CHARS);
      return { type: 'UnhandledRejection', message, stack: '' };
    }
    if (isObject(value)) return { type: 'Error', message: outline(value, 'exception'), stack: '' };
    const typed = apply(regexExec, TYPED_MESSAGE, [fallbackMessage]) as RegExpExecArray | null;
    return { type: typed ? typed[1]! : 'Error', message: typed ? typed[2]! : fallbackMessage, stack: '' };
  }

  function capture(mechanism: CaptureMechanism, value: unknown, fallback: { message: string; filename: string; line: number; column: number }): void {
    let type: string;
    let message: string;
    let stack = '';
    try {
      ({ type, message, stack } = explain(mechanism, value, fallback.message));
    } catch {
      // Whatever the value does to us, the error is still reported.
      type = mechanism === 'unhandledrejection' ? 'UnhandledRejection' : 'Error';
      message = 'A value that could not be read captured as ' + (mechanism === 'unhandledrejection' ? 'promise rejection' : 'exception');
    }
    let { filename, line, column } = fallback;
    if (!filename && stack) {
      const frame = apply(regexExec, FIRST_FRAME, [cut(stack, MAX_STACK_CHARS)]) as RegExpExecArray | null;
      if (frame) {
        filename = frame[1]!;
        line = +frame[2]!;
        column = +frame[3]!;
      }
    }
    add({
      mechanism,
      type: cut(type, MAX_TYPE_CHARS),
      message: cut(message, MAX_MESSAGE_CHARS),
      stack: cut(stack, MAX_STACK_CHARS),
      filename: cut(filename, MAX_URL_CHARS),
      line: num(line),
      column: num(column),
    });
  }

  function onError(event: Event): void {
    try {
      // Resource load failures (img, script 404) are also `error` events seen in the capture
      // phase; only those whose target is the window are uncaught exceptions.
      if (read(eventTarget, event) !== win) return;
      capture('onerror', read(errorError, event), {
        message: cut(read(errorMessage, event), MAX_MESSAGE_CHARS),
        filename: cut(read(errorFilename, event), MAX_URL_CHARS),
        line: num(read(errorLine, event)),
        column: num(read(errorColumn, event)),
      });
    } catch {
      // never into the page
    }
  }

  function onRejection(event: Event): void {
    try {
      capture('unhandledrejection', read(rejectionReason, event), { message: '', filename: '', line: 0, column: 0 });
    } catch {
      // never into the page
    }
  }

  /** The page is being left (a link, a form, a reload): what waits for the timer goes now. */
  function onLeave(): void {
    try {
      flush();
    } catch {
      // never into the page
    }
  }

  /** Tells a hook starting later in this page that this one is here. */
  function onAsked(event: Event): void {
    try {
      apply(preventDefault, event, []);
    } catch {
      // never into the page
    }
  }

  /** Adds the hook's listeners; adding one that is already there does nothing. */
  function listen(): void {
    try {
      apply(addListener, win, ['error', onError, true]);
      apply(addListener, win, ['unhandledrejection', onRejection, true]);
      apply(addListener, win, ['pagehide', onLeave, true]);
      apply(addListener, doc, [HOOK_PRESENT_EVENT, onAsked, true]);
    } catch {
      // a document without a window (should not happen): nothing to hook
    }
  }

  listen();
  // document.open() (a page's own call, or the one a document.write() after load implies) erases
  // every listener of the window and the document, the hook's too, and keeps both (HTML's
  // document open steps, as Firefox does them): the page would go unwatched for good. It also
  // empties the document, which a mutation observer, not being a listener, still sees, at the
  // next microtask: the listeners go back then. The parser adding <html> costs a no-op.
  try {
    new Observer(listen).observe(doc, { childList: true });
  } catch {
    // no observer: errors after a document.open() go unseen, as before
  }
})();
