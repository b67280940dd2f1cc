/**
 * Fault profiles for the exchange simulator, and the pure decisions that apply them.
 *
 * A profile says how often each kind of trouble happens: slow answers, answers that never come,
 * rate limiting, server errors (with and without the order placed), rejected orders, and on the
 * WebSocket side disconnects, silent streams, duplicated and reordered frames. The decision
 * functions take the randomness as an argument (`Rng`), so a seeded generator gives the same faults
 * on every run; the server's FaultController holds the generator, the current profile and the
 * queue of one-shot faults.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: a tiny 32-bit PRNG, good enough to pick faults and fast. The same seed gives the
 * same sequence on every platform (it only uses 32-bit integer arithmetic).
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How often each fault happens. Probabilities are per request (REST) or per pushed frame (WebSocket). */
export interface FaultProfile {
  readonly name: string;
  /** Extra delay before a request is handled: with `probability`, uniform in [minMs, maxMs]. */
  readonly latency: { readonly probability: number; readonly minMs: number; readonly maxMs: number };
  /** The request is processed but never answered: the socket is held until the client gives up. */
  readonly dropResponse: number;
  /** The request is processed and answered only after `delayMs` (past a client's timeout). */
  readonly timeout: { readonly probability: number; readonly delayMs: number };
  /** HTTP 429 with `Retry-After: retryAfterSec`; the request is not processed. */
  readonly rateLimit: { readonly probability: number; readonly retryAfterSec: number };
  /** HTTP 5xx after the request was processed (an order create or cancel really happened). Create/cancel only. */
  readonly serverErrorAfterPlacing: number;
  /** HTTP 5xx before anything was processed. Any request. */
  readonly serverError: number;
  /** An order create refused with this MEXC code and message (HTTP 400), without reaching the engine. */
  readonly rejectOrder: { readonly probability: number; readonly code: number; readonly msg: string };
  /** The server closes the WebSocket connection instead of sending a frame. */
  readonly wsDisconnect: number;
  /** The connection stops pushing for `durationMs` (frames meanwhile are lost); pings still get pongs. */
  readonly silentStream: { readonly probability: number; readonly durationMs: number };
  /** A frame is sent twice. */
  readonly duplicateFrame: number;
  /** A frame is held back and sent after the next one. */
  readonly outOfOrderFrame: number;
}

const NONE: FaultProfile = {
  name: 'none',
  latency: { probability: 0, minMs: 0, maxMs: 0 },
  dropResponse: 0,
  timeout: { probability: 0, delayMs: 30_000 },
  rateLimit: { probability: 0, retryAfterSec: 1 },
  serverErrorAfterPlacing: 0,
  serverError: 0,
  // 30005 "Oversold" is a reject a real exchange gives for reasons a client cannot foresee.
  rejectOrder: { probability: 0, code: 30005, msg: 'Oversold' },
  wsDisconnect: 0,
  silentStream: { probability: 0, durationMs: 20_000 },
  duplicateFrame: 0,
  outOfOrderFrame: 0,
};

/** The named profiles (`--faults <name>`). */
export const FAULT_PROFILES: Readonly<Record<string, FaultProfile>> = {
  none: NONE,
  // Light, realistic trouble: a client that handles it should not notice much.
  flaky: {
    ...NONE,
    name: 'flaky',
    latency: { probability: 0.3, minMs: 20, maxMs: 250 },
    dropResponse: 0.002,
    timeout: { probability: 0.002, delayMs: 15_000 },
    rateLimit: { probability: 0.01, retryAfterSec: 1 },
    serverErrorAfterPlacing: 0.005,
    serverError: 0.005,
    rejectOrder: { ...NONE.rejectOrder, probability: 0.002 },
    wsDisconnect: 0.0005,
    duplicateFrame: 0.005,
    outOfOrderFrame: 0.002,
  },
  // Heavy trouble of every kind, for resilience tests.
  chaos: {
    name: 'chaos',
    latency: { probability: 0.6, minMs: 50, maxMs: 2_000 },
    dropResponse: 0.03,
    timeout: { probability: 0.03, delayMs: 20_000 },
    rateLimit: { probability: 0.08, retryAfterSec: 2 },
    serverErrorAfterPlacing: 0.05,
    serverError: 0.05,
    rejectOrder: { ...NONE.rejectOrder, probability: 0.03 },
    wsDisconnect: 0.005,
    silentStream: { probability: 0.002, durationMs: 20_000 },
    duplicateFrame: 0.03,
    outOfOrderFrame: 0.02,
  },
  'rate-limit-storm': { ...NONE, name: 'rate-limit-storm', rateLimit: { probability: 0.5, retryAfterSec: 2 } },
  disconnects: { ...NONE, name: 'disconnects', wsDisconnect: 0.01 },
  'silent-stream': { ...NONE, name: 'silent-stream', silentStream: { probability: 0.005, durationMs: 30_000 } },
  duplicates: { ...NONE, name: 'duplicates', duplicateFrame: 0.1, outOfOrderFrame: 0.05 },
  'server-errors': { ...NONE, name: 'server-errors', serverErrorAfterPlacing: 0.1, serverError: 0.1, dropResponse: 0.02 },
};

/** The profile with no faults. */
export const NO_FAULTS: FaultProfile = NONE;

const prob = z.number().min(0).max(1);
const ms = z.number().int().min(0).max(3_600_000);
/** A JSON profile: any subset of the fields, over the named profile in `extends` (default none). */
const profileSchema = z
  .object({
    name: z.string().min(1).max(64).optional(),
    extends: z.string().optional(),
    latency: z.object({ probability: prob.optional(), minMs: ms.optional(), maxMs: ms.optional() }).strict().optional(),
    dropResponse: prob.optional(),
    timeout: z.object({ probability: prob.optional(), delayMs: ms.optional() }).strict().optional(),
    rateLimit: z.object({ probability: prob.optional(), retryAfterSec: z.number().int().min(0).max(86_400).optional() }).strict().optional(),
    serverErrorAfterPlacing: prob.optional(),
    serverError: prob.optional(),
    rejectOrder: z.object({ probability: prob.optional(), code: z.number().int().optional(), msg: z.string().min(1).max(200).optional() }).strict().optional(),
    wsDisconnect: prob.optional(),
    silentStream: z.object({ probability: prob.optional(), durationMs: ms.optional() }).strict().optional(),
    duplicateFrame: prob.optional(),
    outOfOrderFrame: prob.optional(),
  })
  .strict();

/**
 * Parses a profile given by name (`flaky`) or as JSON (`{"extends":"flaky","rateLimit":{"probability":0.2}}`).
 * Throws ConfigError naming the field and what was expected, or listing the known names.
 */
export function parseFaultProfile(input: string | object): FaultProfile {
  let raw: unknown = input;
  if (typeof input === 'string') {
    const text = input.trim();
    if (!text.startsWith('{')) {
      const named = FAULT_PROFILES[text];
      if (!named) throw new ConfigError(`unknown fault profile "${text}": expected one of ${Object.keys(FAULT_PROFILES).join(', ')}, or a JSON object`);
      return named;
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`fault profile is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  const r = profileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.length ? issue.path.join('.') : '(profile)';
    throw new ConfigError(`fault profile: ${path}: ${issue.message}`);
  }
  const p = r.data;
  const baseName = p.extends ?? 'none';
  const base = FAULT_PROFILES[baseName];
  if (!base) throw new ConfigError(`fault profile: extends: unknown profile "${baseName}": expected one of ${Object.keys(FAULT_PROFILES).join(', ')}`);
  const out: FaultProfile = {
    name: p.name ?? (p.extends ? `${baseName}+custom` : 'custom'),
    latency: { ...base.latency, ...p.latency },
    dropResponse: p.dropResponse ?? base.dropResponse,
    timeout: { ...base.timeout, ...p.timeout },
    rateLimit: { ...base.rateLimit, ...p.rateLimit },
    serverErrorAfterPlacing: p.serverErrorAfterPlacing ?? base.serverErrorAfterPlacing,
    serverError: p.serverError ?? base.serverError,
    rejectOrder: { ...base.rejectOrder, ...p.rejectOrder },
    wsDisconnect: p.wsDisconnect ?? base.wsDisconnect,
    silentStream: { ...base.silentStream, ...p.silentStream },
    duplicateFrame: p.duplicateFrame ?? base.duplicateFrame,
    outOfOrderFrame: p.outOfOrderFrame ?? base.outOfOrderFrame,
  };
  if (out.latency.minMs > out.latency.maxMs) throw new ConfigError(`fault profile: latency.minMs: ${out.latency.minMs} is above latency.maxMs ${out.latency.maxMs}`);
  return out;
}

/** What kind of REST request a decision is for (some faults only make sense for some kinds). */
export type RequestKind = 'createOrder' | 'cancelOrder' | 'other';

/** REST faults, also the names one-shot faults use. */
export type RestFault = 'drop' | 'timeout' | '429' | '5xx-after-placing' | '5xx-without-placing' | 'reject';
/** WebSocket frame faults. */
export type FrameFault = 'disconnect' | 'silence' | 'duplicate' | 'out-of-order';

/** What to do with one REST request. */
export interface RestDecision {
  /** Delay before handling it. */
  readonly latencyMs: number;
  /** The fault, if any. */
  readonly fault?: RestFault;
  /** For `timeout`: how long to wait before answering. */
  readonly delayMs?: number;
  /** For `429`: the Retry-After value. */
  readonly retryAfterSec?: number;
  /** For `reject`: the MEXC code and message. */
  readonly code?: number;
  readonly msg?: string;
}

/** What to do with one pushed frame. */
export interface FrameDecision {
  readonly fault?: FrameFault;
  /** For `silence`: how long the connection stays silent. */
  readonly silenceMs?: number;
}

/**
 * Decides the faults of one REST request. Draws a fixed number of random values (so one decision
 * never shifts the sequence of the next by more than its own draws): the latency, then one draw
 * to pick at most one fault by walking the cumulative probabilities.
 */
export function decideRequest(profile: FaultProfile, kind: RequestKind, rng: Rng): RestDecision {
  const l = profile.latency;
  const latencyMs = rng() < l.probability ? Math.round(l.minMs + rng() * (l.maxMs - l.minMs)) : 0;
  const mutating = kind !== 'other';
  const options: [RestFault, number][] = [
    ['429', profile.rateLimit.probability],
    ['5xx-without-placing', profile.serverError],
    ['5xx-after-placing', mutating ? profile.serverErrorAfterPlacing : 0],
    ['reject', kind === 'createOrder' ? profile.rejectOrder.probability : 0],
    ['drop', profile.dropResponse],
    ['timeout', profile.timeout.probability],
  ];
  const fault = pick(options, rng());
  return fault ? restDecision(profile, fault, latencyMs) : { latencyMs };
}

/** The full decision for a given REST fault, with the profile's parameters. */
export function restDecision(profile: FaultProfile, fault: RestFault, latencyMs = 0): RestDecision {
  switch (fault) {
    case '429':
      return { latencyMs, fault, retryAfterSec: profile.rateLimit.retryAfterSec };
    case 'timeout':
      return { latencyMs, fault, delayMs: profile.timeout.delayMs };
    case 'reject':
      return { latencyMs, fault, code: profile.rejectOrder.code, msg: profile.rejectOrder.msg };
    default:
      return { latencyMs, fault };
  }
}

/** Decides the fault of one pushed frame (one draw). */
export function decideFrame(profile: FaultProfile, rng: Rng): FrameDecision {
  const fault = pick<FrameFault>(
    [
      ['disconnect', profile.wsDisconnect],
      ['silence', profile.silentStream.probability],
      ['duplicate', profile.duplicateFrame],
      ['out-of-order', profile.outOfOrderFrame],
    ],
    rng(),
  );
  if (!fault) return {};
  return fault === 'silence' ? { fault, silenceMs: profile.silentStream.durationMs } : { fault };
}

/** Picks the option whose cumulative-probability slot holds `u`; none when `u` is past them all. */
function pick<T>(options: readonly (readonly [T, number])[], u: number): T | undefined {
  let acc = 0;
  for (const [name, p] of options) {
    acc += p;
    if (p > 0 && u < acc) return name;
  }
  return undefined;
}
