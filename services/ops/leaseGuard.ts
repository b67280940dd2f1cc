/**
 * How a job takes a symbol's lease before it trades that symbol (the architecture's rule: exactly
 * one actor places orders for a symbol at a time).
 *
 * Policy (see services/ops/README.md, "Who trades a symbol"):
 * - The lease is taken with the state store's conditional write (`acquireLease`): it succeeds when
 *   the lease is free, expired, or already ours. Two jobs racing for it cannot both win.
 * - A live lease held by someone else (normally the hot path) is RESPECTED, never stolen, also when
 *   the holder's heartbeat looks stale: a stale heartbeat does not prove the holder has stopped
 *   (a slow DynamoDB write, a paused container), and a holder that has stopped loses the lease by
 *   itself within its TTL (60 s for the hot path), because nobody renews it.
 * - `acquireOrWait` polls until the lease is ours, until `settled()` says there is nothing left to
 *   do (the holder flattened the symbol itself: the hot path reacts to EMERGENCY_STOP too), or until
 *   the wait budget is spent (the job reports the symbol as deferred; the next run tries again).
 */
import { LeaseHeldError, type LeaseRecord, type StateStore } from '../state/types.js';

/** Result of one attempt to take a lease. */
export type LeaseAttempt =
  | { readonly kind: 'acquired'; readonly lease: LeaseRecord }
  | { readonly kind: 'held'; readonly holder: string | undefined; readonly expiresAt: number };

/** One conditional attempt; other store errors propagate. */
export async function tryAcquireLease(store: StateStore, symbol: string, owner: string, ttlMs: number, now: number): Promise<LeaseAttempt> {
  try {
    return { kind: 'acquired', lease: await store.acquireLease(symbol, owner, ttlMs, now) };
  } catch (e) {
    if (e instanceof LeaseHeldError) return { kind: 'held', holder: e.holder, expiresAt: e.expiresAt };
    throw e;
  }
}

export interface LeaseWaitOptions {
  readonly ttlMs: number;
  /** Longest wait for a held lease (0: one attempt). */
  readonly waitMs: number;
  /** Between attempts. */
  readonly pollMs: number;
}

export interface LeaseWaitDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Result of `acquireOrWait`. */
export type LeaseWaitResult =
  | { readonly kind: 'acquired'; readonly lease: LeaseRecord; readonly waitedMs: number; readonly attempts: number }
  /** `settled()` returned true while another owner held the lease: nothing left to do. */
  | { readonly kind: 'settled_by_holder'; readonly holder: string | undefined; readonly waitedMs: number; readonly attempts: number }
  /** The wait budget ran out with the lease still held by `holder`. */
  | { readonly kind: 'deferred'; readonly holder: string | undefined; readonly expiresAt: number; readonly waitedMs: number; readonly attempts: number };

/** Bound on attempts whatever the clock does (a clock that does not move must not spin forever). */
const MAX_ATTEMPTS = 1000;

/**
 * Takes the lease, waiting (polling) while someone else holds it; see the file comment.
 * `settled` is asked after each refused attempt; its errors count as "not settled".
 */
export async function acquireOrWait(
  store: StateStore,
  symbol: string,
  owner: string,
  options: LeaseWaitOptions,
  deps: LeaseWaitDeps,
  settled: () => Promise<boolean> = () => Promise.resolve(false),
): Promise<LeaseWaitResult> {
  const start = deps.now();
  const deadline = start + Math.max(0, options.waitMs);
  for (let attempts = 1; ; attempts++) {
    const now = deps.now();
    const a = await tryAcquireLease(store, symbol, owner, options.ttlMs, now);
    if (a.kind === 'acquired') return { kind: 'acquired', lease: a.lease, waitedMs: now - start, attempts };
    if (await settled().catch(() => false)) return { kind: 'settled_by_holder', holder: a.holder, waitedMs: deps.now() - start, attempts };
    const t = deps.now();
    if (t >= deadline || attempts >= MAX_ATTEMPTS) return { kind: 'deferred', holder: a.holder, expiresAt: a.expiresAt, waitedMs: t - start, attempts };
    // Wake at the next poll, or just after the lease expires if that comes first, never past the deadline.
    const untilExpiry = Math.max(1, a.expiresAt - t + 1);
    await deps.sleep(Math.max(1, Math.min(options.pollMs, untilExpiry, deadline - t)));
  }
}
