/**
 * The hot path's status as one JSON document (the `/status` endpoint) and its health verdict (the
 * `/health` endpoint the container health check calls). Pure: everything comes in as arguments.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { RiskStatus } from '../risk/types.js';
import type { FeedStats } from '../venue/types.js';
import type { TradingSession } from './tradingSession.js';

/** What the status document says of one open position. */
export interface PositionStatus {
  readonly id: string;
  readonly symbol: SymbolId;
  readonly state: string;
  readonly entryPrice: number;
  readonly stop: number;
  readonly openedAt: number;
  readonly expiresAt: number;
}

export interface RuntimeStatus {
  readonly mode: 'paper' | 'live';
  readonly venue: string;
  readonly killSwitch: string;
  readonly startedAt: number;
  readonly now: number;
  readonly health: HealthVerdict;
  /** Per stream: milliseconds since its last event (null: nothing yet). */
  readonly feedLagMs: Readonly<Record<string, number | null>>;
  readonly feed: Pick<FeedStats, 'frames' | 'malformed' | 'duplicates' | 'reconnects' | 'connections'>;
  readonly equity: string;
  /** Equity now minus equity at the start of the UTC day (the risk engine's day start). */
  readonly todayPnl: string | null;
  readonly positions: readonly PositionStatus[];
  /** Every risk limit with how much of it is used (RiskStatus). */
  readonly risk: RiskStatus;
  readonly session: TradingSession['counters'];
  /** Symbols the market filters keep out of new entries now (24h quote volume, spread), with why and since when. */
  readonly filtered: Readonly<Record<string, { readonly kind: string; readonly reason: string; readonly since: number; readonly sinceIso: string }>>;
}

export interface HealthVerdict {
  readonly ok: boolean;
  /** Why not, in words an operator understands. */
  readonly reasons: readonly string[];
}

export interface StatusInputs {
  readonly mode: 'paper' | 'live';
  readonly venue: string;
  readonly killSwitch: string;
  readonly startedAt: number;
  readonly now: number;
  readonly symbols: readonly SymbolId[];
  readonly session: TradingSession;
  readonly equity: Dec;
  readonly feed: FeedStats;
  /** Streams that must be live for the process to be healthy, with their silence bound (ms). */
  readonly requiredStreams: Readonly<Record<string, number>>;
  /** Connected streams are expected once this long has passed since the start (ms). */
  readonly startupGraceMs: number;
  /** Other reasons the process is unhealthy (a lease lost to another actor), in words. */
  readonly problems?: readonly string[];
}

/**
 * The health verdict: unhealthy when a required stream has been silent past its bound (after the
 * start-up grace), or the caller names a problem (a lease lost to another actor). A container health
 * check restarts an unhealthy task, so the bounds must be those of a dead feed, not of a quiet market.
 */
export function healthOf(inputs: StatusInputs): HealthVerdict {
  const reasons: string[] = [...(inputs.problems ?? [])];
  const up = inputs.now - inputs.startedAt >= inputs.startupGraceMs;
  for (const [stream, bound] of Object.entries(inputs.requiredStreams)) {
    const last = inputs.feed.lastEventAt[stream];
    if (last === undefined) {
      if (up) reasons.push(`${stream}: no event since the start`);
    } else if (inputs.now - last > bound) {
      reasons.push(`${stream}: silent for ${inputs.now - last} ms (bound ${bound} ms)`);
    }
  }
  return { ok: reasons.length === 0, reasons };
}

/** Builds the `/status` document. */
export function buildStatus(inputs: StatusInputs): RuntimeStatus {
  const { session, now } = inputs;
  const positions: PositionStatus[] = [];
  for (const s of inputs.symbols) {
    const p = session.executor.position(s);
    if (p) positions.push({ id: p.id, symbol: p.symbol, state: p.state, entryPrice: p.entryPrice, stop: p.stop, openedAt: p.openedAt, expiresAt: p.expiresAt });
  }
  const risk = session.risk.status(session.executor.account());
  const dayStart = risk.dailyLoss.dayStartEquity;
  const feedLagMs: Record<string, number | null> = {};
  for (const k of Object.keys(inputs.requiredStreams)) feedLagMs[k] = null;
  for (const [k, t] of Object.entries(inputs.feed.lastEventAt)) feedLagMs[k] = now - t;
  return {
    mode: inputs.mode,
    venue: inputs.venue,
    killSwitch: inputs.killSwitch,
    startedAt: inputs.startedAt,
    now,
    health: healthOf(inputs),
    feedLagMs,
    feed: { frames: inputs.feed.frames, malformed: inputs.feed.malformed, duplicates: inputs.feed.duplicates, reconnects: inputs.feed.reconnects, connections: inputs.feed.connections },
    equity: inputs.equity.toString(),
    todayPnl: dayStart === null ? null : inputs.equity.sub(Dec.from(dayStart)).toString(),
    positions,
    risk,
    session: { ...session.counters },
    filtered: Object.fromEntries([...session.kernel.filtered].map(([sym, f]) => [sym, { kind: f.kind, reason: f.reason, since: f.since, sinceIso: new Date(f.since).toISOString() }])),
  };
}
