/**
 * The runtime's answer to a promise rejection nobody handled.
 *
 * Node ends the process on an unhandled rejection. The soak's fault part found one that does not
 * come from this project's code: ccxt's WebSocket client, when a connection closes while a
 * subscription message is still queued behind its throttle, rejects every pending future of the
 * client with ws's "WebSocket is not open", including futures nobody awaits any more. The process
 * died with a position open and its leases held, for a disconnect the stream manager already
 * handles (it reconnects, resubscribes and backfills, and a stale stream halts entries).
 *
 * So: a rejection from the exchange transport (that ws error, ccxt's network and closed-client
 * errors, the project's own network and timeout errors) is counted and logged (the first five, then
 * every hundredth) and the process goes on. Anything else is a bug whose effects are unknown: it is
 * logged and the runtime is stopped gracefully with exit code 1 (positions per the shutdown policy,
 * leases released, journal flushed), which a restart then reconciles: crash-only, but not abrupt.
 * Messages are redacted of request signatures and the given secrets.
 */
import ccxt from 'ccxt';
import { redactSecrets } from '../services/adapters/mexc/restClient.js';
import { NetworkError, TimeoutError } from '../services/execution/exchangeErrors.js';

export interface RejectionGuardOptions {
  readonly log: (line: string) => void;
  /** Called once, on the first rejection that is not from the transport. */
  readonly onFatal: (reason: string) => void;
  readonly secrets?: readonly (string | undefined)[];
  /** The process to guard (a stand-in in tests). */
  readonly target?: Pick<NodeJS.Process, 'on' | 'off'>;
}

export interface RejectionGuard {
  readonly counts: { transport: number; fatal: number };
  uninstall(): void;
}

/** True for a rejection the feed's own recovery handles: a closed or failed exchange connection. */
export function isTransportRejection(reason: unknown): boolean {
  if (!(reason instanceof Error)) return false;
  if (/^WebSocket is not open: readyState \d/.test(reason.message)) return true;
  return reason instanceof ccxt.NetworkError || reason instanceof ccxt.ExchangeClosedByUser || reason instanceof NetworkError || reason instanceof TimeoutError;
}

export function installRejectionGuard(o: RejectionGuardOptions): RejectionGuard {
  const target = o.target ?? process;
  const counts = { transport: 0, fatal: 0 };
  const describe = (reason: unknown): string => redactSecrets(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason), o.secrets ?? []).slice(0, 500);
  const handler = (reason: unknown): void => {
    if (isTransportRejection(reason)) {
      counts.transport++;
      if (counts.transport <= 5 || counts.transport % 100 === 0) {
        o.log(`WARN  unhandled rejection from the exchange connection (${counts.transport} so far): ${describe(reason)}; the feed's reconnect handles it, trading goes on`);
      }
      return;
    }
    counts.fatal++;
    o.log(`ERROR unhandled rejection: ${describe(reason)}${reason instanceof Error && reason.stack ? ` at ${redactSecrets(reason.stack.split('\n').slice(1, 3).join(' / ').trim(), o.secrets ?? [])}` : ''}; stopping gracefully (exit code 1), a restart recovers`);
    if (counts.fatal === 1) o.onFatal(describe(reason));
  };
  target.on('unhandledRejection', handler);
  return { counts, uninstall: () => void target.off('unhandledRejection', handler) };
}
