/**
 * A signal that aborts after `ms` with a `TimeoutError` (as AbortSignal.timeout does) or when
 * `also` aborts, and `clear()` to call once the work is done. Node 20 holds the signals it
 * combines in AbortSignal.any weakly, and AbortSignal.timeout's own signal is held weakly too: a
 * garbage collection can take both while a call waits, and the call then waits without end (a
 * webhook or a private receiver that never answers). The timer here holds the controller, so
 * the deadline cannot be lost.
 */
export function deadline(ms: number, also?: AbortSignal): { signal: AbortSignal; clear: () => void } {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  const either = eitherSignal(also ? [timeout.signal, also] : [timeout.signal]);
  return {
    signal: either.signal,
    clear() {
      clearTimeout(timer);
      either.clear();
    },
  };
}

/**
 * A signal that aborts when any of `signals` does, held by them (so it lives as long as they
 * do), unlike Node 20's AbortSignal.any; `clear()` lets go of them once the work is done.
 */
export function eitherSignal(signals: AbortSignal[]): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const listeners = signals.map((s) => {
    const listener = (): void => controller.abort(s.reason);
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', listener, { once: true });
    return listener;
  });
  return { signal: controller.signal, clear: () => signals.forEach((s, i) => s.removeEventListener('abort', listeners[i]!)) };
}
