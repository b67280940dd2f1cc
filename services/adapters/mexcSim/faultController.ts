/**
 * Applies fault profiles to the simulator's requests and frames: holds the current profile (which
 * can be switched while the server runs), a seeded PRNG so a run can be repeated, and a bounded
 * queue of one-shot faults that tests use to make one specific request or frame fail.
 */
import { ConfigError } from '../../core/errors.js';
import {
  decideFrame,
  decideRequest,
  mulberry32,
  NO_FAULTS,
  parseFaultProfile,
  restDecision,
  type FaultProfile,
  type FrameDecision,
  type FrameFault,
  type RequestKind,
  type RestDecision,
  type RestFault,
  type Rng,
} from '../../sim/faults.js';

/** A fault to apply once, to the next request or frame that matches. */
export type OneShotFault =
  /** The next order create (POST /api/v3/order). */
  | { readonly on: 'createOrder'; readonly fault: RestFault; readonly retryAfterSec?: number; readonly delayMs?: number; readonly code?: number; readonly msg?: string }
  /** The next order cancel (DELETE /api/v3/order or /api/v3/openOrders). */
  | { readonly on: 'cancelOrder'; readonly fault: RestFault; readonly retryAfterSec?: number; readonly delayMs?: number }
  /** The next REST request under /api/ (optionally only this path, e.g. "/api/v3/account"). */
  | { readonly on: 'request'; readonly path?: string; readonly fault: RestFault; readonly retryAfterSec?: number; readonly delayMs?: number }
  /** The next pushed frame (optionally only on a channel containing `channel`). */
  | { readonly on: 'frame'; readonly channel?: string; readonly fault: FrameFault; readonly silenceMs?: number };

/** Bound of the one-shot queue: a test that queues more than this has a bug. */
export const MAX_ONE_SHOTS = 1000;

const REST_FAULTS: readonly RestFault[] = ['drop', 'timeout', '429', '5xx-after-placing', '5xx-without-placing', 'reject'];
const FRAME_FAULTS: readonly FrameFault[] = ['disconnect', 'silence', 'duplicate', 'out-of-order'];

/** Counts of injected faults by name. */
export type FaultCounts = Readonly<Record<string, number>>;

/** The per-server fault state. */
export class FaultController {
  private current: FaultProfile;
  private rng: Rng;
  private readonly queue: OneShotFault[] = [];
  private readonly counts = new Map<string, number>();

  constructor(profile: FaultProfile | string = NO_FAULTS, seed = 1) {
    this.current = typeof profile === 'string' ? parseFaultProfile(profile) : profile;
    this.rng = mulberry32(seed);
  }

  /** The profile in force. */
  get profile(): FaultProfile {
    return this.current;
  }

  /** Switches the profile (a name, JSON text or a profile object); takes effect on the next request/frame. */
  set(profile: FaultProfile | string): FaultProfile {
    this.current = typeof profile === 'string' ? parseFaultProfile(profile) : profile;
    return this.current;
  }

  /** Restarts the PRNG, so the following decisions repeat those of an earlier run with the same seed. */
  reseed(seed: number): void {
    this.rng = mulberry32(seed);
  }

  /** Queues a one-shot fault. Throws ConfigError for an unknown fault name or a full queue. */
  once(spec: OneShotFault): void {
    const known: readonly string[] = spec.on === 'frame' ? FRAME_FAULTS : REST_FAULTS;
    if (!known.includes(spec.fault)) throw new ConfigError(`one-shot fault: fault: unknown "${spec.fault}" for on=${spec.on}: expected one of ${known.join(', ')}`);
    if (this.queue.length >= MAX_ONE_SHOTS) throw new ConfigError(`one-shot fault queue is full (${MAX_ONE_SHOTS})`);
    this.queue.push(spec);
  }

  /** One-shot faults not applied yet. */
  pending(): readonly OneShotFault[] {
    return [...this.queue];
  }

  /** Drops the queued one-shot faults. */
  clearOnce(): void {
    this.queue.length = 0;
  }

  /** Faults injected so far, by name (e.g. `{"429": 3, "duplicate": 1}`). */
  injected(): FaultCounts {
    return Object.fromEntries(this.counts);
  }

  /** Decides the faults of one REST request: a matching one-shot first, else the profile. */
  forRequest(kind: RequestKind, path: string): RestDecision {
    const i = this.queue.findIndex((q) => (q.on === 'request' && (q.path === undefined || q.path === path)) || q.on === kind);
    let d: RestDecision;
    if (i >= 0) {
      const q = this.queue.splice(i, 1)[0]!;
      const base = restDecision(this.current, q.fault as RestFault);
      d = {
        ...base,
        ...('retryAfterSec' in q && q.retryAfterSec !== undefined ? { retryAfterSec: q.retryAfterSec } : {}),
        ...('delayMs' in q && q.delayMs !== undefined ? { delayMs: q.delayMs } : {}),
        ...('code' in q && q.code !== undefined ? { code: q.code } : {}),
        ...('msg' in q && q.msg !== undefined ? { msg: q.msg } : {}),
      };
    } else {
      d = decideRequest(this.current, kind, this.rng);
    }
    // "after placing" only means something for a request that changes state.
    if (d.fault === '5xx-after-placing' && kind === 'other') d = { ...d, fault: '5xx-without-placing' };
    if (d.fault === 'reject' && kind !== 'createOrder') d = { latencyMs: d.latencyMs };
    if (d.fault) this.count(d.fault);
    return d;
  }

  /** Decides the fault of one pushed frame on `channel`. */
  forFrame(channel: string): FrameDecision {
    const i = this.queue.findIndex((q) => q.on === 'frame' && (q.channel === undefined || channel.includes(q.channel)));
    let d: FrameDecision;
    if (i >= 0) {
      const q = this.queue.splice(i, 1)[0]! as Extract<OneShotFault, { on: 'frame' }>;
      d = q.fault === 'silence' ? { fault: 'silence', silenceMs: q.silenceMs ?? this.current.silentStream.durationMs } : { fault: q.fault };
    } else {
      d = decideFrame(this.current, this.rng);
    }
    if (d.fault) this.count(d.fault);
    return d;
  }

  private count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }
}
