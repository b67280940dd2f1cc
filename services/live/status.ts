/**
 * The hot path's status as one JSON document (the `/status` endpoint) and its health verdict (the
 * `/health` endpoint the container health check calls). Pure: everything comes in as arguments.
 *
 * Conventions of the document: every epoch-ms time `x` has an ISO-8601 twin `xIso`; money and
 * prices are kept as exact decimal strings, and each has a `...Display` twin rounded for a person
 * (money to the quote asset's display precision, prices to the market's tick, quantities to its
 * lot step). The fields older readers use are unchanged.
 *
 * Health has two halves. `live` is the process's liveness (a required stream silent past its
 * bound): the HTTP status follows it (503), so the container health check restarts a task whose
 * feed is dead. `ok` also goes false while trading is halted (the emergency stop, a risk halt), so an
 * operator sees it; a halted task is not restarted for it, since a restart would only run the
 * emergency procedure again.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { MarketInfo } from '../model/orders.js';
import type { RiskStatus } from '../risk/types.js';
import type { FeedStats } from '../venue/types.js';
import type { ClosedTrade } from '../analytics/types.js';
import type { TradingSession } from './tradingSession.js';
import { decimalsOf, moneyDecimals } from './display.js';
import type { SessionTotals } from './tradeLog.js';

/** One profit target of an open position. */
export interface TargetStatus {
  readonly label: string;
  readonly price: string;
  readonly priceDisplay: string;
  /** Base quantity to sell there, and how much of it has filled. */
  readonly quantity: string;
  readonly filled: string;
}

/** What the status document says of one open position. */
export interface PositionStatus {
  readonly id: string;
  readonly symbol: SymbolId;
  readonly state: string;
  /** Average entry price (float, kept for older readers; `entry` is exact). */
  readonly entryPrice: number;
  readonly stop: number;
  readonly openedAt: number;
  readonly expiresAt: number;
  readonly openedAtIso: string;
  /** The time stop. */
  readonly expiresAtIso: string;
  /** Base quantity held (entered minus exited), exact, and rounded to the lot step. */
  readonly quantity: string;
  readonly quantityDisplay: string;
  readonly base: string;
  readonly entry: string;
  readonly entryDisplay: string;
  /** Latest traded price (null before the first one), exact and rounded to the tick. */
  readonly price: string | null;
  readonly priceDisplay: string | null;
  /** Quote value of the held quantity at `price`. */
  readonly valueDisplay: string | null;
  /** (price - entry) x quantity held, in the quote asset; null before the first price. */
  readonly unrealisedPnl: string | null;
  readonly unrealisedPnlDisplay: string | null;
  readonly stopPrice: string;
  readonly stopDisplay: string;
  readonly breakevenMoved: boolean;
  readonly targets: readonly TargetStatus[];
  readonly level: number;
}

/** A closed trade in the document. */
export interface TradeStatus {
  readonly id: string;
  readonly symbol: string;
  readonly entryTime: number;
  readonly exitTime: number;
  readonly entryTimeIso: string;
  readonly exitTimeIso: string;
  readonly entryPrice: string;
  readonly exitPrice: string;
  readonly quantity: string;
  readonly netPnl: string;
  readonly netPnlDisplay: string;
  readonly fees: string;
  readonly returnPct: number;
  readonly exitReason: string;
}

export interface RuntimeStatus {
  readonly mode: 'paper' | 'live';
  readonly venue: string;
  readonly killSwitch: string;
  readonly startedAt: number;
  readonly now: number;
  readonly startedAtIso: string;
  readonly nowIso: string;
  readonly quoteAsset: string;
  readonly health: HealthVerdict;
  /** Per stream: milliseconds since its last event (null: nothing yet). */
  readonly feedLagMs: Readonly<Record<string, number | null>>;
  readonly feed: Pick<FeedStats, 'frames' | 'malformed' | 'duplicates' | 'reconnects' | 'connections'>;
  readonly equity: string;
  readonly equityDisplay: string;
  /** Equity now minus equity at the start of the UTC day (the risk engine's day start). */
  readonly todayPnl: string | null;
  readonly todayPnlDisplay: string | null;
  readonly positions: readonly PositionStatus[];
  /** The last 20 closed trades of this session, newest first. */
  readonly recentTrades: readonly TradeStatus[];
  /** What this session has done: closed trades and their PnL, and equity against its start. */
  readonly sessionPnl: {
    readonly trades: number;
    readonly wins: number;
    readonly losses: number;
    readonly winRatePct: number | null;
    readonly netPnl: string;
    readonly netPnlDisplay: string;
    readonly fees: string;
    /** Equity now minus equity when the session started trading (realised and open PnL). */
    readonly equityChange: string | null;
    readonly equityChangeDisplay: string | null;
  };
  /** Every risk limit with how much of it is used (RiskStatus). */
  readonly risk: RiskStatus;
  readonly session: TradingSession['counters'];
  /** Symbols the market filters keep out of new entries now (24h quote volume, spread), with why and since when. */
  readonly filtered: Readonly<Record<string, { readonly kind: string; readonly reason: string; readonly since: number; readonly sinceIso: string }>>;
}

export interface HealthVerdict {
  /** Live and trading normally: false when `live` is, and also while halted. */
  readonly ok: boolean;
  /** Why not, in words an operator understands. */
  readonly reasons: readonly string[];
  /** The process and its feed work (the HTTP status of /health follows this). */
  readonly live: boolean;
  /** running, paused (kill switch), halted (a risk halt: no new entries) or emergency_stop (latched until a restart). */
  readonly trading: 'running' | 'paused' | 'halted' | 'emergency_stop';
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
  /** The emergency stop's latch (the runtime's `halted`). */
  readonly emergencyStop?: boolean;
  /** The kill switch holds PAUSED (or a fail-safe PAUSED). */
  readonly paused?: boolean;
  /** The risk engine's status, when known (a halt makes health not ok). */
  readonly risk?: RiskStatus;
  readonly quoteAsset?: string;
  readonly market?: (symbol: SymbolId) => MarketInfo | undefined;
  readonly lastPrice?: (symbol: SymbolId) => number | undefined;
  readonly recentTrades?: readonly ClosedTrade[];
  readonly sessionTotals?: SessionTotals;
  /** Equity when the session started trading (after recovery). */
  readonly sessionStartEquity?: Dec;
}

/**
 * The health verdict: not live when a required stream has been silent past its bound (after the
 * start-up grace) or the caller names a problem (a lease lost to another actor); not ok when not
 * live, or while trading is halted (see the file comment). A container health check restarts a task
 * that is not live, so the bounds must be those of a dead feed, not of a quiet market.
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
  const live = reasons.length === 0;
  let trading: HealthVerdict['trading'] = 'running';
  if (inputs.emergencyStop) {
    trading = 'emergency_stop';
    reasons.push('emergency stop: every order cancelled and every position closed; trading halted until a restart');
  } else if (inputs.risk?.halted) {
    trading = 'halted';
    const until = inputs.risk.haltUntil === null ? '' : ` until ${new Date(inputs.risk.haltUntil).toISOString()}`;
    reasons.push(`risk halt ${inputs.risk.haltReason ?? ''}${until}: no new entries${inputs.risk.haltDetail ? ` (${inputs.risk.haltDetail})` : ''}`);
  } else if (inputs.paused) {
    trading = 'paused';
  }
  // PAUSED is the operator's own choice, not a fault: health stays ok.
  return { ok: live && (trading === 'running' || trading === 'paused'), reasons, live, trading };
}

const iso = (t: number): string => new Date(t).toISOString();

/** Builds the `/status` document. */
export function buildStatus(inputs: StatusInputs): RuntimeStatus {
  const { session, now } = inputs;
  const quote = inputs.quoteAsset ?? 'USDT';
  const md = moneyDecimals(quote);
  const money = (d: Dec): string => d.toFixed(md);
  const positions: PositionStatus[] = [];
  for (const s of inputs.symbols) {
    const p = session.executor.position(s);
    if (!p) continue;
    const snap = session.executor.snapshot(p.id);
    const market = inputs.market?.(s);
    const pd = market ? decimalsOf(market.tickSize) : 8;
    const qd = market ? decimalsOf(market.stepSize) : 8;
    const held = snap ? snap.filledQty.sub(snap.exitQty) : Dec.ZERO;
    const entry = snap && snap.filledQty.isPositive() ? snap.entryCost.div(snap.filledQty) : Dec.from(p.entryPrice);
    const last = inputs.lastPrice?.(s);
    const price = last === undefined ? null : Dec.from(last);
    const pnl = price === null ? null : price.sub(entry).mul(held);
    const targets: TargetStatus[] = [];
    const plans = snap?.intent.targets ?? [];
    // Each plan's order is the unused target order whose (tick-rounded) limit is nearest its price.
    const unused = (snap?.orders ?? []).filter((o) => o.role === 'target' && o.price !== undefined);
    for (const plan of plans) {
      let best = -1;
      for (let i = 0; i < unused.length; i++) {
        if (best < 0 || Math.abs(unused[i]!.price!.toNumber() - plan.price) < Math.abs(unused[best]!.price!.toNumber() - plan.price)) best = i;
      }
      const order = best >= 0 ? unused.splice(best, 1)[0] : undefined;
      const tp = order?.price ?? Dec.from(plan.price);
      targets.push({ label: plan.label, price: tp.toString(), priceDisplay: tp.toFixed(pd), quantity: (order?.quantity ?? Dec.ZERO).toString(), filled: (order?.filled ?? Dec.ZERO).toString() });
    }
    const stop = snap?.stop ?? Dec.from(p.stop);
    positions.push({
      id: p.id,
      symbol: p.symbol,
      state: p.state,
      entryPrice: p.entryPrice,
      stop: p.stop,
      openedAt: p.openedAt,
      expiresAt: p.expiresAt,
      openedAtIso: iso(p.openedAt),
      expiresAtIso: iso(p.expiresAt),
      quantity: held.toString(),
      quantityDisplay: held.toFixed(qd),
      base: market?.base ?? s.replace(new RegExp(`${quote}$`), ''),
      entry: entry.toString(),
      entryDisplay: entry.toFixed(pd),
      price: price?.toString() ?? null,
      priceDisplay: price?.toFixed(pd) ?? null,
      valueDisplay: price === null ? null : money(price.mul(held)),
      unrealisedPnl: pnl?.toString() ?? null,
      unrealisedPnlDisplay: pnl === null ? null : money(pnl),
      stopPrice: stop.toString(),
      stopDisplay: stop.toFixed(pd),
      breakevenMoved: p.breakevenMoved,
      targets,
      level: p.levelPrice,
    });
  }
  const risk = inputs.risk ?? session.risk.status(session.executor.account());
  const dayStart = risk.dailyLoss.dayStartEquity;
  const feedLagMs: Record<string, number | null> = {};
  for (const k of Object.keys(inputs.requiredStreams)) feedLagMs[k] = null;
  for (const [k, t] of Object.entries(inputs.feed.lastEventAt)) feedLagMs[k] = now - t;
  const today = dayStart === null ? null : inputs.equity.sub(Dec.from(dayStart));
  const totals = inputs.sessionTotals;
  const change = inputs.sessionStartEquity === undefined ? null : inputs.equity.sub(inputs.sessionStartEquity);
  return {
    mode: inputs.mode,
    venue: inputs.venue,
    killSwitch: inputs.killSwitch,
    startedAt: inputs.startedAt,
    now,
    startedAtIso: iso(inputs.startedAt),
    nowIso: iso(now),
    quoteAsset: quote,
    health: healthOf({ ...inputs, risk }),
    feedLagMs,
    feed: { frames: inputs.feed.frames, malformed: inputs.feed.malformed, duplicates: inputs.feed.duplicates, reconnects: inputs.feed.reconnects, connections: inputs.feed.connections },
    equity: inputs.equity.toString(),
    equityDisplay: money(inputs.equity),
    todayPnl: today?.toString() ?? null,
    todayPnlDisplay: today === null ? null : money(today),
    positions,
    recentTrades: (inputs.recentTrades ?? []).map((t) => tradeStatus(t, md)),
    sessionPnl: {
      trades: totals?.trades ?? 0,
      wins: totals?.wins ?? 0,
      losses: totals?.losses ?? 0,
      winRatePct: totals?.winRatePct ?? null,
      netPnl: (totals?.netPnl ?? Dec.ZERO).toString(),
      netPnlDisplay: money(totals?.netPnl ?? Dec.ZERO),
      fees: (totals?.fees ?? Dec.ZERO).toString(),
      equityChange: change?.toString() ?? null,
      equityChangeDisplay: change === null ? null : money(change),
    },
    risk,
    session: { ...session.counters },
    filtered: Object.fromEntries([...session.kernel.filtered].map(([sym, f]) => [sym, { kind: f.kind, reason: f.reason, since: f.since, sinceIso: new Date(f.since).toISOString() }])),
  };
}

/** A closed trade as the document shows it. */
export function tradeStatus(t: ClosedTrade, moneyDp: number): TradeStatus {
  return {
    id: t.id,
    symbol: t.symbol,
    entryTime: t.entryTime,
    exitTime: t.exitTime,
    entryTimeIso: iso(t.entryTime),
    exitTimeIso: iso(t.exitTime),
    entryPrice: t.entryPrice.toString(),
    exitPrice: t.exitPrice.toString(),
    quantity: t.quantity.toString(),
    netPnl: t.netPnl.toString(),
    netPnlDisplay: t.netPnl.toFixed(moneyDp),
    fees: t.fees.toString(),
    returnPct: t.returnPct,
    exitReason: t.exitReason,
  };
}
