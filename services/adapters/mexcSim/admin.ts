/**
 * The simulator's admin API under `/sim/` (faults, order log, disconnect, stats) and who may call
 * it: by default only a caller on the loopback interface, since it can switch faults and cut every
 * connection. A simulator listening on another interface (`--host 0.0.0.0`) still keeps its admin
 * API to the machine it runs on unless configured otherwise.
 */
import { isLoopbackAddress } from '../../core/net.js';
import type { FaultController, OneShotFault } from './faultController.js';

/**
 * Who may call `/sim/*`: loopback callers (default), anyone, or these exact remote addresses
 * (plus loopback callers unless `loopback: false`).
 */
export type AdminAccess = 'loopback' | 'any' | { readonly allow: readonly string[]; readonly loopback?: boolean };

/** Whether a caller at `address` may use the admin API under `access`. */
export function adminAllowed(access: AdminAccess, address: string | undefined): boolean {
  if (access === 'any') return true;
  if (isLoopbackAddress(address) && (access === 'loopback' || access.loopback !== false)) return true;
  if (access === 'loopback' || address === undefined) return false;
  const bare = unmapped(address);
  return access.allow.some((a) => unmapped(a) === bare);
}

/** An IPv4-mapped IPv6 address (a v4 client of a dual-stack listener) as its IPv4 form. */
function unmapped(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice('::ffff:'.length) : a;
}

/** What the admin API works on. */
export interface AdminContext {
  readonly faults: FaultController;
  readonly orderLog: () => unknown;
  readonly dropConnections: () => number;
  readonly stats: () => unknown;
  readonly log: (line: string) => void;
}

/** One admin request → status and JSON body. Never throws: a bad body is a 400 with MEXC's shape. */
export function handleAdmin(ctx: AdminContext, method: string, path: string, rawBody: string): { status: number; body: unknown } {
  try {
    if (path === '/sim/faults' && method === 'GET') {
      return { status: 200, body: { profile: ctx.faults.profile, pending: ctx.faults.pending(), injected: ctx.faults.injected() } };
    }
    if (path === '/sim/faults' && method === 'POST') {
      // Body: a profile name, a profile JSON, {"profile": name|object}, or {"once": {...}}.
      const text = rawBody.trim();
      let parsed: unknown = text;
      if (text.startsWith('{')) parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && 'once' in parsed) {
        ctx.faults.once((parsed as { once: OneShotFault }).once);
      } else if (typeof parsed === 'object' && parsed !== null && 'profile' in parsed) {
        const p = parsed.profile;
        ctx.faults.set(typeof p === 'string' ? p : JSON.stringify(p));
      } else {
        ctx.faults.set(text);
      }
      ctx.log(`faults: profile ${ctx.faults.profile.name}, ${ctx.faults.pending().length} one-shot(s) queued`);
      return { status: 200, body: { profile: ctx.faults.profile, pending: ctx.faults.pending() } };
    }
    if (path === '/sim/orders' && method === 'GET') return { status: 200, body: ctx.orderLog() };
    if (path === '/sim/disconnect' && method === 'POST') return { status: 200, body: { dropped: ctx.dropConnections() } };
    if (path === '/sim/stats' && method === 'GET') return { status: 200, body: ctx.stats() };
    return { status: 404, body: { code: 404, msg: `Not Found: ${method} ${path}` } };
  } catch (e) {
    return { status: 400, body: { code: 400, msg: (e as Error).message } };
  }
}
