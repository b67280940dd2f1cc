/**
 * cli/signals.ts with a stand-in for the process: the first signal starts the shutdown, the
 * second is acknowledged and changes nothing, the third forces the exit (130) and says so; and once
 * the shutdown has finished, a late signal exits at once with the run's code (it used to meet Node's
 * default action: killed, exit code null).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installShutdownSignals } from '../../cli/signals.js';

function setup(finishedExitCode?: () => number) {
  const source = new EventEmitter();
  const calls: string[] = [];
  const remove = installShutdownSignals({
    source,
    ...(finishedExitCode ? { finishedExitCode } : {}),
    onShutdown: (s) => calls.push(`shutdown ${s}`),
    forceExit: (c) => calls.push(`exit ${c}`),
    log: (l) => calls.push(l),
  });
  return { source, calls, remove };
}

describe('shutdown signals', () => {
  it('a second SIGTERM or SIGINT does not bypass the graceful shutdown; a third forces the exit and says so', () => {
    const { source, calls } = setup();
    source.emit('SIGTERM', 'SIGTERM');
    expect(calls).toEqual(['shutdown SIGTERM']);
    source.emit('SIGINT', 'SIGINT');
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatch(/^SIGINT again: the graceful shutdown is already running and is not cut short \(signal 2 of 3/);
    expect(calls.filter((c) => c.startsWith('exit'))).toEqual([]);
    source.emit('SIGTERM', 'SIGTERM');
    expect(calls[2]).toMatch(/forcing an immediate exit; the graceful shutdown did not finish/);
    expect(calls[3]).toBe('exit 130');
  });

  it('keeps its handlers after the shutdown has finished: a late signal exits at once with the run\'s code', () => {
    const { source, calls, remove: finished } = setup(() => 1);
    source.emit('SIGINT', 'SIGINT');
    finished();
    expect(source.listenerCount('SIGINT')).toBe(1);
    expect(source.listenerCount('SIGTERM')).toBe(1);
    source.emit('SIGINT', 'SIGINT');
    expect(calls).toEqual(['shutdown SIGINT', 'SIGINT after the graceful shutdown had finished: exiting now (code 1)', 'exit 1']);
  });

  it('a late signal with no code set exits 0', () => {
    const saved = process.exitCode;
    process.exitCode = undefined;
    try {
      const { source, calls, remove: finished } = setup();
      source.emit('SIGTERM', 'SIGTERM');
      finished();
      source.emit('SIGTERM', 'SIGTERM');
      expect(calls.at(-1)).toBe('exit 0');
    } finally {
      process.exitCode = saved;
    }
  });
});

describe('shutdown signals, installed again on the same source', () => {
  it('keeps one listener per signal, and the newest install is the one served', () => {
    const source = new EventEmitter();
    const calls: string[] = [];
    const first = installShutdownSignals({ source, onShutdown: (s) => calls.push(`first ${s}`), forceExit: (c) => calls.push(`exit ${c}`), log: (l) => calls.push(l) });
    first();
    installShutdownSignals({ source, onShutdown: (s) => calls.push(`second ${s}`), forceExit: (c) => calls.push(`exit ${c}`), log: (l) => calls.push(l) });
    expect(source.listenerCount('SIGINT')).toBe(1);
    expect(source.listenerCount('SIGTERM')).toBe(1);
    source.emit('SIGINT', 'SIGINT');
    expect(calls).toEqual(['second SIGINT']);
  });
});
