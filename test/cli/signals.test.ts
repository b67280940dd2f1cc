/**
 * cli/signals.ts with a stand-in for the process: the first signal starts the shutdown, the
 * second is acknowledged and changes nothing, the third forces the exit (130) and says so; and once
 * removed, no handler is left behind.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installShutdownSignals } from '../../cli/signals.js';

function setup() {
  const source = new EventEmitter();
  const calls: string[] = [];
  const remove = installShutdownSignals({
    source,
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

  it('keeps its handlers until removed, then leaves none', () => {
    const { source, remove } = setup();
    source.emit('SIGINT', 'SIGINT');
    expect(source.listenerCount('SIGINT')).toBe(1);
    expect(source.listenerCount('SIGTERM')).toBe(1);
    remove();
    expect(source.listenerCount('SIGINT')).toBe(0);
    expect(source.listenerCount('SIGTERM')).toBe(0);
  });
});
