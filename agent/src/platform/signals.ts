/** Process signal wiring lives here (platform is the only OS seam). */
export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/** Calls `handler` on every SIGTERM/SIGINT; returns an unsubscribe function. */
export function onShutdownSignal(handler: (signal: ShutdownSignal, count: number) => void): () => void {
  let count = 0;
  const make = (sig: ShutdownSignal) => () => handler(sig, ++count);
  const term = make('SIGTERM');
  const int = make('SIGINT');
  process.on('SIGTERM', term);
  process.on('SIGINT', int);
  return () => {
    process.off('SIGTERM', term);
    process.off('SIGINT', int);
  };
}
