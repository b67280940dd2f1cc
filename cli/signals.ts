/**
 * SIGINT and SIGTERM while a long-running command runs (the runtime of `npm start`, `npm run paper`). The first starts the graceful shutdown (no new
 * entries, in-flight work awaited, positions flattened or left, leases released). A second one
 * while it runs must not cut it short: with `process.once` the handler was gone and Node's default
 * action killed the process at once, leases held and the journal unflushed. So the handlers stay
 * until the shutdown is over; the second signal is acknowledged and ignored, and a third forces an
 * immediate exit, saying so (someone at a terminal pressing Ctrl-C three times means it).
 *
 * Once the shutdown is over the handlers are not removed either: the process may still take a
 * moment to exit (sockets and workers closing), and a signal in that moment met Node's default
 * action (killed by the signal, exit code null, as CI saw). After `finished()` a signal exits at once
 * with the code the run ended with, since nothing is left to do. Signal handlers hold no reference
 * on the event loop, so keeping them never delays the exit.
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
  /** After `finished()`: the exit code a late signal leaves with (default: process.exitCode, else 0). */
  readonly finishedExitCode?: () => number;
}

/** Signals it takes before it forces the exit. */
export const FORCE_AFTER_SIGNALS = 3;

interface Session {
  readonly opts: ShutdownSignalOptions;
  received: number;
  finished: boolean;
}

/**
 * One listener per source and signal for the life of the process; each install replaces the session
 * it serves. Commands run in process one after another (tests) so never pile up listeners.
 */
const installed = new WeakMap<SignalSource, { session: Session; signals: Set<NodeJS.Signals>; listener: (signal: NodeJS.Signals) => void }>();

function onSignal(session: Session, signal: NodeJS.Signals): void {
  const opts = session.opts;
  session.received += 1;
  const received = session.received;
  if (session.finished) {
    const code = (opts.finishedExitCode ?? (() => (typeof process.exitCode === 'number' ? process.exitCode : 0)))();
    opts.log(`${signal} after the graceful shutdown had finished: exiting now (code ${code})`);
    opts.forceExit(code);
  } else if (received === 1) {
    opts.onShutdown(signal);
  } else if (received < FORCE_AFTER_SIGNALS) {
    opts.log(`${signal} again: the graceful shutdown is already running and is not cut short (signal ${received} of ${FORCE_AFTER_SIGNALS}: one more forces an immediate exit)`);
  } else {
    opts.log(`${signal} a ${received}rd time: forcing an immediate exit; the graceful shutdown did not finish (leases expire on their own, the restart reconciles)`);
    opts.forceExit(130);
  }
}

/**
 * Installs the handlers; call the returned function once the shutdown is over (a later signal then
 * exits at once with the run's exit code instead of killing the process).
 */
export function installShutdownSignals(opts: ShutdownSignalOptions): () => void {
  const source = opts.source ?? process;
  const signals = opts.signals ?? (['SIGINT', 'SIGTERM'] as const);
  const session: Session = { opts, received: 0, finished: false };
  let entry = installed.get(source);
  if (!entry) {
    const created = { session, signals: new Set<NodeJS.Signals>(), listener: (signal: NodeJS.Signals) => onSignal(created.session, signal) };
    entry = created;
    installed.set(source, created);
  }
  entry.session = session;
  for (const s of signals) {
    if (!entry.signals.has(s)) {
      entry.signals.add(s);
      source.on(s, entry.listener);
    }
  }
  return () => {
    session.finished = true;
  };
}
