/**
 * The look-ahead check (`npm run lookahead`): a strategy's decisions up to a moment must not
 * depend on anything after it. The check runs the whole backtest (kernel, risk engine, executor,
 * matching engine) with a recorder around the strategy:
 *
 * 1. on the data, twice: the two runs must decide the same (a strategy that keeps state across
 *    runs, e.g. in module variables, or reads a clock or randomness, fails here);
 * 2. on truncated copies that end at several cut points: every decision before a cut must be the
 *    same as in the full run.
 *
 * A decision is the list of intents the strategy returned for one symbol's 1m candle, compared
 * exactly (JSON of the intents: every price and id). All runs use the tick and lot sizes of the
 * whole data (a shorter copy could infer a coarser tick and change the fills honestly).
 *
 * What it can and cannot see: the strategy port only ever hands a strategy the past (candles one
 * at a time, the position, the book), so a difference means information from later candles
 * reached a decision through the run itself: state kept from an earlier run, or a part of the
 * trading path (kernel, backtester) that uses later data. A module that reads market data on its
 * own (a file, the network) is outside what any truncation test can see.
 */
import type { Config } from '../config/schema.js';
import { DomainError } from '../core/errors.js';
import type { Candle, SymbolId } from '../core/types.js';
import type { Strategy, StrategyFactory } from '../strategy/port.js';
import { inferPrecision } from '../candles/precision.js';
import { runBacktestSync, type SymbolSeries } from './engine.js';

/** One decision: the intents a strategy returned for a symbol's candle (only non-empty ones are kept). */
export interface Decision {
  readonly symbol: SymbolId;
  /** Open time of the 1m candle the decision was made on. */
  readonly time: number;
  readonly intents: string;
}

/** The first decision that differs between two runs. */
export interface DecisionDifference {
  readonly symbol: SymbolId;
  readonly time: number;
  /** The reference run's intents (null: no decision there). */
  readonly expected: string | null;
  /** The other run's intents (null: no decision there). */
  readonly actual: string | null;
}

export interface CutResult {
  /** The truncated copy holds the candles that open before this time. */
  readonly cut: number;
  /** Decisions before the cut in the full run. */
  readonly compared: number;
  readonly difference: DecisionDifference | null;
}

export interface LookaheadReport {
  readonly strategy: string;
  readonly candles: number;
  readonly decisions: number;
  /** The second full run against the first (null: the same). */
  readonly repeat: DecisionDifference | null;
  readonly cuts: readonly CutResult[];
  readonly ok: boolean;
}

export interface LookaheadInput {
  readonly series: readonly SymbolSeries[];
  readonly config: Config;
  readonly factory: StrategyFactory;
  /** Number of cut points, evenly spaced inside the data (default 4). */
  readonly cuts?: number;
  /** Or the cut times themselves (epoch ms). */
  readonly cutTimes?: readonly number[];
}

/** A difference was found; `report` has every run's result, the message the first difference. */
export class LookaheadError extends DomainError {
  override readonly name: string = 'LookaheadError';
  constructor(
    message: string,
    readonly report: LookaheadReport,
  ) {
    super(message);
  }
}

/** The strategy with every non-empty decision written to `out` (all else passes through). */
function recording(inner: Strategy, out: Decision[]): Strategy {
  const wrapped: Strategy = {
    name: inner.name,
    onCandle(symbol, candle, position, ctx) {
      const r = inner.onCandle(symbol, candle, position, ctx);
      if (r.length > 0) out.push({ symbol, time: candle.openTime, intents: JSON.stringify(r) });
      return r;
    },
  };
  return wrapped;
}

/** The first difference between `a` (reference) and `b`, over decisions made on candles opening before `before`. */
export function firstDifference(a: readonly Decision[], b: readonly Decision[], before = Infinity): DecisionDifference | null {
  const key = (d: Decision): string => `${d.time}\u0000${d.symbol}`;
  const left = a.filter((d) => d.time < before);
  const right = b.filter((d) => d.time < before);
  const n = Math.max(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const x = left[i];
    const y = right[i];
    if (x && y && key(x) === key(y) && x.intents === y.intents) continue;
    // Report at the earlier of the two (a decision one run made and the other did not).
    if (!y || (x && (x.time < y.time || (x.time === y.time && x.symbol < y.symbol)))) {
      const other = right.find((d) => key(d) === key(x as Decision));
      return { symbol: (x as Decision).symbol, time: (x as Decision).time, expected: (x as Decision).intents, actual: other?.intents ?? null };
    }
    const other = left.find((d) => key(d) === key(y));
    return { symbol: y.symbol, time: y.time, expected: other?.intents ?? null, actual: y.intents };
  }
  return null;
}

/** Evenly spaced cut times strictly inside [start, end), on minute boundaries. */
export function cutTimesFor(start: number, end: number, count: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= count; k++) {
    const t = start + Math.floor(((end - start) * k) / (count + 1) / 60_000) * 60_000;
    if (t > start && t < end && !out.includes(t)) out.push(t);
  }
  return out;
}

/** Runs the check (see the file comment). Synchronous and deterministic; throws nothing for a difference (see `ok`). */
export function checkLookahead(input: LookaheadInput): LookaheadReport {
  const series = input.series.filter((s) => s.candles.length > 0);
  const precision: Record<string, ReturnType<typeof inferPrecision>> = {};
  for (const s of series) precision[s.symbol] = inferPrecision(s.candles);
  const run = (data: readonly SymbolSeries[]): Decision[] => {
    const out: Decision[] = [];
    runBacktestSync({ series: data, config: input.config, strategy: recording(input.factory(input.config), out), precision });
    return out;
  };
  const full = run(series);
  const again = run(series);
  const repeat = firstDifference(full, again);
  const start = Math.min(...series.map((s) => (s.candles[0] as Candle).openTime));
  const end = Math.max(...series.map((s) => (s.candles[s.candles.length - 1] as Candle).openTime)) + 60_000;
  const times = input.cutTimes ?? cutTimesFor(start, end, input.cuts ?? 4);
  const cuts: CutResult[] = [];
  for (const cut of times) {
    const truncated = series.map((s) => ({ symbol: s.symbol, candles: s.candles.filter((c) => c.openTime < cut) })).filter((s) => s.candles.length > 0);
    const compared = full.filter((d) => d.time < cut).length;
    if (truncated.length === 0) {
      cuts.push({ cut, compared, difference: null });
      continue;
    }
    cuts.push({ cut, compared, difference: firstDifference(full, run(truncated), cut) });
  }
  const strategy = input.factory(input.config).name;
  const ok = repeat === null && cuts.every((c) => c.difference === null);
  return { strategy, candles: series.reduce((n, s) => n + s.candles.length, 0), decisions: full.length, repeat, cuts, ok };
}

function iso(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

/** One paragraph on the first difference of a failed report (null when it passed). */
export function describeFailure(r: LookaheadReport): string | null {
  const show = (d: DecisionDifference, what: string): string =>
    `${what}: the decision on ${d.symbol} at the candle opening ${iso(d.time)} differs.\n  reference run: ${d.expected ?? '(no decision)'}\n  other run:     ${d.actual ?? '(no decision)'}`;
  if (r.repeat) return show(r.repeat, `strategy ${r.strategy} decides differently on the same data run twice (state kept across runs, a clock or randomness)`);
  const bad = r.cuts.find((c) => c.difference !== null);
  if (bad && bad.difference) return show(bad.difference, `LOOK-AHEAD in strategy ${r.strategy}: with the data cut at ${iso(bad.cut)}, a decision before the cut changed`);
  return null;
}
