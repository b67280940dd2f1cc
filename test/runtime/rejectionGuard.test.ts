import { EventEmitter } from 'node:events';
import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { installRejectionGuard, isTransportRejection } from '../../fargate/rejectionGuard.js';
import { NetworkError, TimeoutError } from '../../services/execution/exchangeErrors.js';

function rig(secrets: string[] = []) {
  const target = new EventEmitter();
  const lines: string[] = [];
  const fatal: string[] = [];
  const guard = installRejectionGuard({ log: (l) => lines.push(l), onFatal: (r) => fatal.push(r), secrets, target: target as unknown as NodeJS.Process });
  return { target, lines, fatal, guard };
}

describe('unhandled rejections in the runtime', () => {
  it('tells the exchange transport from everything else', () => {
    expect(isTransportRejection(new Error('WebSocket is not open: readyState 3 (CLOSED)'))).toBe(true);
    expect(isTransportRejection(new ccxt.NetworkError('connection closed by remote server'))).toBe(true);
    expect(isTransportRejection(new ccxt.RequestTimeout('timed out'))).toBe(true);
    expect(isTransportRejection(new ccxt.ExchangeClosedByUser('closed'))).toBe(true);
    expect(isTransportRejection(new NetworkError('reset'))).toBe(true);
    expect(isTransportRejection(new TimeoutError('timed out'))).toBe(true);
    expect(isTransportRejection(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isTransportRejection(new ccxt.InsufficientFunds('no money'))).toBe(false);
    expect(isTransportRejection('WebSocket is not open: readyState 3 (CLOSED)')).toBe(false);
    expect(isTransportRejection(undefined)).toBe(false);
  });

  it('a closed connection is logged, counted and survived; the log is bounded (five, then every hundredth)', () => {
    const r = rig();
    for (let i = 0; i < 250; i++) r.target.emit('unhandledRejection', new Error('WebSocket is not open: readyState 3 (CLOSED)'));
    expect(r.fatal).toEqual([]);
    expect(r.guard.counts).toEqual({ transport: 250, fatal: 0 });
    expect(r.lines).toHaveLength(7);
    expect(r.lines[0]).toMatch(/^WARN {2}unhandled rejection from the exchange connection \(1 so far\): Error: WebSocket is not open/);
    expect(r.lines[6]).toMatch(/\(200 so far\)/);
  });

  it('anything else stops the runtime gracefully, once, with the reason redacted', () => {
    const r = rig(['s3cr3t-key']);
    r.target.emit('unhandledRejection', new TypeError('bad state with s3cr3t-key at https://x/api?signature=abcdef'));
    r.target.emit('unhandledRejection', new Error('a second one'));
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]).toBe('TypeError: bad state with <redacted> at https://x/api?signature=<redacted>');
    expect(r.guard.counts.fatal).toBe(2);
    expect(r.lines.every((l) => !l.includes('s3cr3t-key') && !l.includes('abcdef'))).toBe(true);
    expect(r.lines[0]).toMatch(/^ERROR unhandled rejection: TypeError: .*stopping gracefully \(exit code 1\)/);
    r.guard.uninstall();
    expect(r.target.listenerCount('unhandledRejection')).toBe(0);
  });
});
