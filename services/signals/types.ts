/**
 * The vocabulary of external signals: what a signal is once parsed, where it came in, the reason
 * codes of a refusal, and what the router answers. One place, so the parser, the policy, the
 * router, the audit log, the metrics and the README all use the same codes.
 */
import type { SymbolId } from '../core/types.js';

/** How a signal reached the system (the metrics' and the audit log's `channel`). */
export type SignalChannel = 'webhook' | 'queue' | 'file';

/**
 * What the sender wants. `buy` (or `long`) enters a long; `sell` closes the open long (MEXC spot is
 * long-only: a sell never opens a short); `short` asks for a short and is always refused.
 */
export type SignalSide = 'buy' | 'sell' | 'short';

/** A validated signal. Prices and sizes are plain numbers here; the executor books exact decimals. */
export interface Signal {
  /** De-duplication id: the sender's, or derived from source, symbol, side and time. */
  readonly id: string;
  readonly symbol: SymbolId;
  readonly side: SignalSide;
  /** The sender's confidence in [0, 1], when it states one. */
  readonly confidence?: number;
  /** Quote (USDT) to spend, when the sender asks for a size. */
  readonly notional?: number;
  readonly takeProfit?: number;
  readonly stopLoss?: number;
  /** The sender's reference price (an alert's close), for the audit log only: orders use the venue's book. */
  readonly price?: number;
  /** When the sender decided (epoch ms), when it says. */
  readonly time?: number;
  /** The sender's tag (`tradingview`, `telegram:<channel>`), lower-case, at most 32 characters. */
  readonly source: string;
}

/**
 * Every reason a signal can be refused for before the kernel sees it, with a one-line description
 * (the README's table is built from this list). Refusals by the kernel carry the risk engine's and
 * the executor's own codes (RISK_REASONS, BELOW_EXCHANGE_MIN, EXCHANGE_REJECTED) or ENTRY_GATE.
 */
export const SIGNAL_REASONS = {
  UNAUTHORIZED: 'The shared secret is missing or wrong (webhook only; nothing else of the request is read).',
  MALFORMED: 'The body is not a signal: not JSON, a field of the wrong type or range, or neither an id nor a time.',
  DUPLICATE: 'A signal with this id was handled before (ids are remembered up to signals.dedupCapacity).',
  SIGNALS_DISABLED: 'signals.enabled is false: signals are audited and refused.',
  UNKNOWN_SYMBOL: 'The venue does not list the symbol.',
  SYMBOL_NOT_TRADED: 'The symbol is listed, but this runtime does not trade it (not in its symbols, or its lease is held by another owner).',
  STALE: "The signal's own time is older than signals.maxAgeSeconds (or more than a minute in the future).",
  LOW_CONFIDENCE: 'The effective confidence is below signals.minConfidence.',
  ML_UNAVAILABLE: 'ML scoring is on but the promoted model has no fresh prediction for the symbol.',
  SHORT_NOT_SUPPORTED: 'A short signal: MEXC spot is long-only.',
  NO_POSITION: 'A sell signal with no open long to close (a sell never opens a short on spot).',
  SIGNAL_COOLDOWN: 'An entry signal on this symbol was accepted less than signals.cooldownMinutes ago.',
  NO_PRICE: 'No book or last price for the symbol yet.',
  NO_ATR: 'No ATR yet (too few candles) and no usable stop-loss in the signal.',
  NOTIONAL_TOO_SMALL: 'The requested notional is below signals.minNotional.',
  KILL_SWITCH: 'The kill switch is not RUNNING: no new entries (exits still go through).',
  ENTRY_GATE: "The kernel's entry gate refused the entry (the kill switch, a lost lease).",
  EXIT_UNDER_WAY: 'A sell signal while the position is already being closed.',
  OVERLOADED: 'Too many signals were waiting for a decision; refused at once (send it again later).',
  INTERNAL_ERROR: 'Handling the signal failed unexpectedly; it was logged and nothing was sent.',
} as const satisfies Record<string, string>;

/** A refusal code of the signal layer (see SIGNAL_REASONS). */
export type SignalReason = keyof typeof SIGNAL_REASONS;

/** What the router decided for one signal. */
export type SignalStatus =
  /** The entry was sent to the executor (or the exit started). */
  | 'accepted'
  /** Everything was decided and audited, nothing sent (signals.dryRun). */
  | 'dry_run'
  /** Handed to the signals queue (the AWS Function URL): the hot path decides; the audit log has its decision under the trace id. */
  | 'queued'
  | 'refused';

/** The levels a routed entry gets, and where each came from. */
export interface SignalLevels {
  readonly entry: number;
  readonly stop: number;
  readonly takeProfit: number;
  readonly stopSource: 'signal' | 'atr';
  readonly takeProfitSource: 'signal' | 'reward_risk';
  /** The ATR the stop was derived from (null when the signal's own stop was used). */
  readonly atr: number | null;
  /** Why a level the signal gave was not used, or a derived distance clamped. */
  readonly notes: readonly string[];
}

/** The router's answer: what the webhook returns (as JSON) and the metrics count. */
export interface SignalResult {
  readonly ok: boolean;
  readonly status: SignalStatus;
  readonly traceId: string;
  readonly signalId?: string;
  readonly symbol?: string;
  readonly side?: SignalSide;
  /** A refusal's code: a SIGNAL_REASONS key, or the kernel's (risk engine, executor) code. */
  readonly reason?: string;
  readonly error?: string;
  readonly levels?: SignalLevels;
  /** What was (or, in a dry run, would be) sent. */
  readonly order?: { readonly intentId: string; readonly quantity: string; readonly notional: string; readonly adjustments: readonly string[] };
  readonly confidence?: number;
}
