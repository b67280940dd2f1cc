/**
 * Live against replay: the period's archived 1m candles replayed through the backtester
 * (services/backtest/engine.ts, the one kernel) with the live configuration, from the period's
 * first recorded equity, and the replay's trades diffed trade by trade with what was really traded.
 * The kernel guarantees backtest == paper on the same candles (test/live/parity.test.ts), so what
 * differs measures live effects: real fills and latency, restarts and downtime, the kill switch,
 * missed candles, manual actions.
 *
 * Warm-up: the replay starts `warmupMinutes` before the period (as the runtime warms up on history)
 * with entries refused until the period starts, so indicators and levels are formed when it
 * begins. Trade ids are the intent ids (symbol, direction, decision time): the same decision live
 * and in the replay has the same id.
 *
 * Not divergences, and listed apart: a live trade entered before the period (the replay refuses
 * entries there), and a replay position still open at the period's end (closed `end_of_data`).
 */
import type { ClosedTrade } from '../analytics/types.js';
import { runBacktest } from '../backtest/engine.js';
import type { Config } from '../config/schema.js';
import { Dec } from '../core/money.js';
import { MINUTE_MS } from '../core/timeframes.js';
import { symbolId, type Candle, type SymbolId } from '../core/types.js';
import type { CandleArchive } from '../ml/archive.js';
import type { PeriodWindow } from '../reporting/period.js';

/** Most trades listed per list (the counts are complete). */
export const MAX_LISTED = 50;

export interface DivergenceTrade {
  readonly id: string;
  readonly symbol: string;
  readonly entryTime: number;
  readonly exitTime: number;
  readonly entryPrice: string;
  readonly exitPrice: string;
  readonly quantity: string;
  readonly netPnl: string;
  readonly exitReason: string;
  readonly why: string;
}

export interface TradeDiff {
  readonly id: string;
  readonly symbol: string;
  /** live - replay, in basis points of the replay's price. */
  readonly entryPriceDiffBps: number;
  readonly exitPriceDiffBps: number;
  /** live - replay. */
  readonly quantityDiff: string;
  readonly netPnlDiff: string;
  readonly exitTimeDiffMinutes: number;
  readonly exitReasonLive: string;
  readonly exitReasonReplay: string;
}

export interface Divergence {
  readonly status: 'ok' | 'no_candles' | 'failed';
  readonly detail?: string;
  readonly liveTrades: number;
  readonly replayTrades: number;
  /** Same id live and in the replay. */
  readonly matched: number;
  /** Matched and equal in every field (times, prices, quantity, fees, PnL, exit reason). */
  readonly identical: number;
  /** matched / (matched + live-only + replay-only), divergences only; null with nothing to compare. */
  readonly matchRatePct: number | null;
  readonly liveNetPnl: string;
  readonly replayNetPnl: string;
  /** live - replay over the compared trades (carried-in and still-open ones left out). */
  readonly netPnlDiff: string;
  readonly liveOnly: readonly DivergenceTrade[];
  readonly replayOnly: readonly DivergenceTrade[];
  readonly liveOnlyCount: number;
  readonly replayOnlyCount: number;
  readonly carriedIn: readonly DivergenceTrade[];
  readonly stillOpenAtEnd: readonly DivergenceTrade[];
  /** Matched trades that differ, largest |net PnL difference| first. */
  readonly differing: readonly TradeDiff[];
  readonly differingCount: number;
  /** Candles replayed per symbol (in the period) and minutes of the period with no archived candle. */
  readonly candles: Readonly<Record<string, { readonly replayed: number; readonly missingMinutes: number }>>;
}

const r4 = (x: number): number => {
  const v = Number(x.toFixed(4));
  return v === 0 ? 0 : v;
};
const bps = (live: Dec, replay: Dec): number => (replay.isZero() ? 0 : r4(live.sub(replay).div(replay).toNumber() * 10_000));

function listed(t: ClosedTrade, why: string): DivergenceTrade {
  return { id: t.id, symbol: t.symbol, entryTime: t.entryTime, exitTime: t.exitTime, entryPrice: t.entryPrice.toString(), exitPrice: t.exitPrice.toString(), quantity: t.quantity.toString(), netPnl: t.netPnl.toString(), exitReason: t.exitReason, why };
}

function same(a: ClosedTrade, b: ClosedTrade): boolean {
  return a.entryTime === b.entryTime && a.exitTime === b.exitTime && a.entryPrice.eq(b.entryPrice) && a.exitPrice.eq(b.exitPrice) && a.quantity.eq(b.quantity) && a.fees.eq(b.fees) && a.netPnl.eq(b.netPnl) && a.exitReason === b.exitReason;
}

/** The trade-by-trade diff of the period's live trades (exited in it) and the replay's (see the file comment). Pure. */
export function diffTrades(live: readonly ClosedTrade[], replay: readonly ClosedTrade[], window: Pick<PeriodWindow, 'start' | 'end'>, candles: Divergence['candles'] = {}): Divergence {
  const carried = live.filter((t) => t.entryTime < window.start);
  const liveIn = live.filter((t) => t.entryTime >= window.start);
  const open = replay.filter((t) => t.exitReason === 'end_of_data');
  const replayIn = replay.filter((t) => t.exitReason !== 'end_of_data');
  const rById = new Map(replayIn.map((t) => [t.id, t]));
  const lById = new Map(liveIn.map((t) => [t.id, t]));
  const openIds = new Set(open.map((t) => t.id));
  const liveOnly: ClosedTrade[] = [];
  const diffs: { d: TradeDiff; abs: Dec }[] = [];
  let matched = 0;
  let identical = 0;
  let liveSum = Dec.ZERO;
  let replaySum = Dec.ZERO;
  for (const t of liveIn) {
    const r = rById.get(t.id);
    // A live trade the replay still holds at the end: the replay closed it end_of_data; compare neither.
    if (!r && openIds.has(t.id)) continue;
    liveSum = liveSum.add(t.netPnl);
    if (!r) {
      liveOnly.push(t);
      continue;
    }
    matched++;
    replaySum = replaySum.add(r.netPnl);
    if (same(t, r)) {
      identical++;
      continue;
    }
    const pnl = t.netPnl.sub(r.netPnl);
    diffs.push({
      abs: pnl.abs(),
      d: {
        id: t.id,
        symbol: t.symbol,
        entryPriceDiffBps: bps(t.entryPrice, r.entryPrice),
        exitPriceDiffBps: bps(t.exitPrice, r.exitPrice),
        quantityDiff: t.quantity.sub(r.quantity).toString(),
        netPnlDiff: pnl.toString(),
        exitTimeDiffMinutes: r4((t.exitTime - r.exitTime) / MINUTE_MS),
        exitReasonLive: t.exitReason,
        exitReasonReplay: r.exitReason,
      },
    });
  }
  const replayOnly = replayIn.filter((t) => !lById.has(t.id));
  for (const t of replayOnly) replaySum = replaySum.add(t.netPnl);
  diffs.sort((a, b) => b.abs.cmp(a.abs));
  const compared = matched + liveOnly.length + replayOnly.length;
  return {
    status: 'ok',
    liveTrades: live.length,
    replayTrades: replay.length,
    matched,
    identical,
    matchRatePct: compared > 0 ? r4((matched / compared) * 100) : null,
    liveNetPnl: liveSum.toString(),
    replayNetPnl: replaySum.toString(),
    netPnlDiff: liveSum.sub(replaySum).toString(),
    liveOnly: liveOnly.slice(0, MAX_LISTED).map((t) => listed(t, 'not taken by the replay')),
    replayOnly: replayOnly.slice(0, MAX_LISTED).map((t) => listed(t, 'not taken live')),
    liveOnlyCount: liveOnly.length,
    replayOnlyCount: replayOnly.length,
    carriedIn: carried.slice(0, MAX_LISTED).map((t) => listed(t, 'entered before the period')),
    stillOpenAtEnd: open.slice(0, MAX_LISTED).map((t) => listed(t, 'still open at the period end in the replay')),
    differing: diffs.slice(0, MAX_LISTED).map((x) => x.d),
    differingCount: diffs.length,
    candles,
  };
}

/** An empty divergence that says why there is none. */
export function noDivergence(status: 'no_candles' | 'failed', detail: string, liveTrades: number): Divergence {
  return { ...diffTrades([], [], { start: 0, end: 0 }), status, detail, liveTrades };
}

export interface ReplayInput {
  readonly archive: CandleArchive;
  readonly config: Config;
  readonly window: Pick<PeriodWindow, 'start' | 'end'>;
  readonly live: readonly ClosedTrade[];
  /** The period's first recorded equity (the replay's initial balance); default the config's. */
  readonly startEquity?: Dec;
  /** Symbols to replay; default the live trades' symbols and those of the config. */
  readonly symbols?: readonly string[];
  readonly warmupMinutes: number;
}

/** Loads the archived candles of [start - warmup, end) per symbol. */
export async function loadCandles(archive: CandleArchive, symbols: readonly string[], from: number, to: number): Promise<Map<SymbolId, Candle[]>> {
  const out = new Map<SymbolId, Candle[]>();
  for (const s of symbols) {
    const c = await archive.read(s, from, to);
    if (c.length > 0) out.set(symbolId(s), c);
  }
  return out;
}

/** Replays the period and diffs it with the live trades (see the file comment). Never throws: a failure is the divergence's status. */
export async function replayDivergence(input: ReplayInput): Promise<{ divergence: Divergence; candles: Map<SymbolId, Candle[]> }> {
  const { window } = input;
  const symbols = [...new Set([...(input.symbols ?? []), ...input.config.symbols, ...input.live.map((t) => t.symbol)])].sort();
  let candles = new Map<SymbolId, Candle[]>();
  try {
    candles = await loadCandles(input.archive, symbols, window.start - input.warmupMinutes * MINUTE_MS, window.end);
    const inPeriod: Record<string, { replayed: number; missingMinutes: number }> = {};
    for (const s of symbols) {
      const n = (candles.get(symbolId(s)) ?? []).filter((c) => c.openTime >= window.start).length;
      inPeriod[s] = { replayed: n, missingMinutes: Math.max(0, Math.round((window.end - window.start) / MINUTE_MS) - n) };
    }
    if (![...candles.values()].some((c) => c.some((x) => x.openTime >= window.start))) return { divergence: { ...noDivergence('no_candles', `no archived candles for ${symbols.join(', ') || 'any symbol'} in the period`, input.live.length), candles: inPeriod }, candles };
    const cfg: Config = input.startEquity?.isPositive() ? { ...input.config, backtest: { ...input.config.backtest, initialBalance: input.startEquity.toNumber() } } : input.config;
    const bt = await runBacktest({
      series: [...candles.entries()].map(([symbol, c]) => ({ symbol, candles: c })),
      config: cfg,
      entryGate: (intent) => (intent.time < window.start ? 'before the replayed period' : undefined),
    });
    return { divergence: diffTrades(input.live, bt.trades, window, inPeriod), candles };
  } catch (e) {
    return { divergence: noDivergence('failed', e instanceof Error ? `${e.name}: ${e.message}` : String(e), input.live.length), candles };
  }
}
