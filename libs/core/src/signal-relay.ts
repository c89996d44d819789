import { setMaxListeners } from 'node:events';

/** A signal that follows another and takes any number of listeners; `release()` stops following it. */
export interface SignalRelay {
  signal: AbortSignal;
  release(): void;
}

/**
 * Work that listens on a signal many times at once (every name of a target, every message of a spool) listens on a
 * relay instead: one listener on `outer` however many the work adds, so Node's leak warning stays off the caller's.
 */
export function relayOf(outer: AbortSignal): SignalRelay {
  const scope = new AbortController();
  setMaxListeners(0, scope.signal);
  const relay = () => scope.abort(outer.reason);
  if (outer.aborted) relay();
  else outer.addEventListener('abort', relay, { once: true });
  return { signal: scope.signal, release: () => outer.removeEventListener('abort', relay) };
}
