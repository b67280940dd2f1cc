/**
 * SIGINT and SIGTERM while a long-running command runs (the runtime of `npm start`, `npm run paper`). The first starts the graceful shutdown (no new
 * entries, in-flight work awaited, positions flattened or left, leases released). A second one
 * while it runs must not cut it short: with `process.once` the handler was gone and Node's default
 * action killed the process at once, leases held and the journal unflushed. So the handlers stay
 * until the shutdown is over; the second signal is acknowledged and ignored, and a third forces an
 * immediate exit, saying so (someone at a terminal pressing Ctrl-C three times means it).
 */

/** What the handlers need: the process, or a stand-in in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownSignalOptions {
  /** The first signal: start the graceful shutdown (called once). */
  readonly onShutdown: (signal: NodeJS.Signals) => void;
  /** The third signal: leave now (exit code 130, as a shell reports an interrupt). */
  readonly forceExit: (code: number) => void;
  readonly log: (line: string) => void;
  readonly source?: SignalSource;
  readonly signals?: readonly NodeJS.Signals[];
}

/** Signals it takes before it forces the exit. */
export const FORCE_AFTER_SIGNALS = 3;

/** Installs the handlers; the returned function removes them (call it once the shutdown is over). */
export function installShutdownSignals(opts: ShutdownSignalOptions): () => void {
  const source = opts.source ?? process;
  const signals = opts.signals ?? (['SIGINT', 'SIGTERM'] as const);
  let received = 0;
  const listener = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) {
      opts.onShutdown(signal);
    } else if (received < FORCE_AFTER_SIGNALS) {
      opts.log(`${signal} again: the graceful shutdown is already running and is not cut short (signal ${received} of ${FORCE_AFTER_SIGNALS}: one more forces an immediate exit)`);
    } else {
      opts.log(`${signal} a ${received}rd time: forcing an immediate exit; the graceful shutdown did not finish (leases expire on their own, the restart reconciles)`);
      opts.forceExit(130);
    }
  };
  for (const s of signals) source.on(s, listener);
  return () => {
    for (const s of signals) source.off(s, listener);
  };
}
