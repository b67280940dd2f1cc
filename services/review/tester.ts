/**
 * Testing a recommendation before it is reported: the RecommendationTester port and its first
 * implementation, the kernel backtest over rolling out-of-sample spans of the recent archive.
 *
 * The contract (any implementation):
 * - the live configuration and the candidate run on the SAME spans of data;
 * - every span lies before the period the reviewer was shown (`shownFrom`): data it did not see;
 * - the verdict is "supported" only when the stated rule holds; otherwise "not supported", with the
 *   reasons and the figures; a tester never changes any configuration.
 *
 * KernelRollingOosTester: `spans` consecutive spans of `spanDays[period]` days ending at
 * `shownFrom`, each warmed up on the `warmupMinutes` before it. The recommendation is not
 * re-optimised per span (there is nothing to fit: the change is fixed), so this is a rolling
 * out-of-sample comparison rather than a walk-forward optimisation, plus two Monte Carlo checks on
 * the pooled out-of-sample trades. The rule, all of it must hold:
 *   1. at least 2 spans have candles, and the candidate makes at least `minTrades` trades in them;
 *   2. the candidate's total net PnL over the spans is above the live configuration's;
 *   3. the candidate's net PnL is above live's in at least `minSpanWinShare` of the spans with candles;
 *   4. bootstrap: resampling each side's trades with replacement `samples` times, the candidate's
 *      total (compounded) return beats live's in at least `minProbability` of the draws;
 *   5. Monte Carlo: shuffling each side's trade order `samples` times, the candidate's 95th
 *      percentile max drawdown (percent of the running peak) is at most `maxDrawdownWorsePct`
 *      points above live's.
 *
 * One implementation of folds and Monte Carlo: the spans are planned by the research engine's
 * planFolds (research/folds.ts), the bootstrap and the reshuffle are its montecarlo/bootstrap.ts and
 * montecarlo/reshuffle.ts. Another tester behind the same port plugs in where the review is wired
 * (lambdas/review/handler.ts and cli/review.ts: `tester:`), nothing else changes.
 */
import type { Config } from '../config/schema.js';
import { Dec } from '../core/money.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { CandleArchive } from '../ml/archive.js';
import { planFolds } from '../research/folds.js';
import { bootstrapScenario } from '../research/montecarlo/bootstrap.js';
import { tradeResults } from '../research/montecarlo/monteCarlo.js';
import { summarise, type PathStats, type RiskLimits } from '../research/montecarlo/paths.js';
import { reshuffleScenario, type TradeResult } from '../research/montecarlo/reshuffle.js';
import { mixSeed } from '../research/walkForward.js';
import type { ReportPeriod } from '../reporting/period.js';
import type { ConfigChange, RecommendationTestRecord } from '../state/types.js';
import type { ReviewConfig } from './config.js';
import { loadCandles } from './divergence.js';
import { compareOnSpan, type SpanComparison } from './spanCompare.js';

export interface TestRequest {
  readonly period: ReportPeriod;
  readonly live: Config;
  readonly candidate: Config;
  readonly changes: readonly ConfigChange[];
  /** The start of the period the reviewer was shown: every span tested ends at or before it. */
  readonly shownFrom: number;
}

export interface RecommendationTester {
  readonly name: string;
  test(req: TestRequest): Promise<RecommendationTestRecord>;
}

export type TesterSettings = ReviewConfig['tester'];

/** The rule in words, as the report prints it. */
export function ruleText(s: TesterSettings): string {
  return (
    `supported only if, on ${s.spans} out-of-sample spans before the reviewed period: (1) at least 2 spans have candles and the candidate makes >= ${s.minTrades} trades; ` +
    `(2) its total net PnL beats the live config's; (3) it beats live in >= ${Math.round(s.minSpanWinShare * 100)}% of the spans with candles; ` +
    `(4) a bootstrap of the trades (${s.samples} draws) gives P(candidate total > live total) >= ${s.minProbability}; ` +
    `(5) its Monte Carlo 95th-percentile drawdown is at most ${s.maxDrawdownWorsePct} points worse than live's`
  );
}

/** Path statistics need risk limits; the gate reads only returns and drawdowns, so none is ever reached. */
const NO_LIMITS: RiskLimits = { dailyLossPct: 100, weeklyLossPct: 100, haltDailyDrawdownPct: 100, haltConsecutiveStops: Number.POSITIVE_INFINITY };

/**
 * P(resampled candidate total > resampled live total): each side's trades resampled with replacement
 * by the research bootstrap (montecarlo/bootstrap.ts, blocks of one trade), each side with its own
 * seed, scenario i of both compared; the total is the compounded return.
 */
export function bootstrapProbability(candidate: readonly TradeResult[], live: readonly TradeResult[], samples: number, initial: number, seed: number): number {
  if (candidate.length === 0) return 0;
  const returns = (t: readonly TradeResult[]): number[] => t.map((x) => x.equityReturn);
  const c = returns(candidate);
  const l = returns(live);
  let wins = 0;
  for (let i = 0; i < samples; i++) {
    const cr = bootstrapScenario(c, 1, 0, initial, NO_LIMITS, mixSeed(seed, 1), i).returnPct;
    const lr = l.length ? bootstrapScenario(l, 1, 0, initial, NO_LIMITS, mixSeed(seed, 2), i).returnPct : 0;
    if (cr > lr) wins++;
  }
  return wins / samples;
}

/** 95th percentile of the max drawdown (percent) over `samples` reshuffles of the trades' order (research montecarlo/reshuffle.ts). */
export function shuffledDrawdownP95(trades: readonly TradeResult[], initial: number, samples: number, seed: number): number {
  if (trades.length === 0 || !(initial > 0)) return 0;
  const stats: PathStats[] = [];
  for (let i = 0; i < samples; i++) stats.push(reshuffleScenario(trades, trades[0]!.exitTime, initial, NO_LIMITS, seed, i));
  return summarise(stats).maxDrawdownPct.p95;
}

const r4 = (x: number): number => Number(x.toFixed(4));

/** Applies the rule to span comparisons: the verdict, its reasons and figures. Pure (randomness passed in). */
export function judge(spans: readonly SpanComparison[], s: TesterSettings, initialBalance: number, seed: number, tester: string): RecommendationTestRecord {
  const withData = spans.filter((x) => x.hasData);
  // Each side's trades of all spans in exit order, each return on the balance before it (as the research Monte Carlo takes them).
  const cTrades = tradeResults(withData.flatMap((x) => x.candidate.trades), initialBalance);
  const lTrades = tradeResults(withData.flatMap((x) => x.live.trades), initialBalance);
  const cNet = Dec.sum(withData.map((x) => x.candidate.netPnl));
  const lNet = Dec.sum(withData.map((x) => x.live.netPnl));
  const spanWins = withData.filter((x) => x.candidate.netPnl.gt(x.live.netPnl)).length;
  const prob = bootstrapProbability(cTrades, lTrades, s.samples, initialBalance, seed);
  const cDd = shuffledDrawdownP95(cTrades, initialBalance, s.samples, mixSeed(seed, 3));
  const lDd = shuffledDrawdownP95(lTrades, initialBalance, s.samples, mixSeed(seed, 4));
  const reasons: string[] = [];
  if (withData.length < 2) reasons.push(`(1) only ${withData.length} span(s) with archived candles (need 2)`);
  if (cTrades.length < s.minTrades) reasons.push(`(1) the candidate made ${cTrades.length} trades (need ${s.minTrades})`);
  if (!cNet.gt(lNet)) reasons.push(`(2) candidate net ${cNet.toFixed(4)} does not beat live ${lNet.toFixed(4)}`);
  if (withData.length > 0 && spanWins < Math.ceil(s.minSpanWinShare * withData.length - 1e-9)) reasons.push(`(3) it beat live in ${spanWins} of ${withData.length} spans (need ${Math.ceil(s.minSpanWinShare * withData.length - 1e-9)})`);
  if (prob < s.minProbability) reasons.push(`(4) bootstrap P(candidate > live) = ${r4(prob)} < ${s.minProbability}`);
  if (cDd > lDd + s.maxDrawdownWorsePct) reasons.push(`(5) Monte Carlo p95 drawdown ${r4(cDd)}% vs live ${r4(lDd)}% (more than ${s.maxDrawdownWorsePct} points worse)`);
  return {
    verdict: reasons.length === 0 ? 'supported' : 'not_supported',
    tester,
    rule: ruleText(s),
    reasons: reasons.length ? reasons : ['all five conditions held'],
    figures: {
      spans: spans.length,
      spansWithData: withData.length,
      spanFrom: spans.length ? new Date(Math.min(...spans.map((x) => x.from))).toISOString() : null,
      spanTo: spans.length ? new Date(Math.max(...spans.map((x) => x.to))).toISOString() : null,
      candidateWins: spanWins,
      liveTrades: lTrades.length,
      candidateTrades: cTrades.length,
      liveNetPnl: lNet.toString(),
      candidateNetPnl: cNet.toString(),
      bootstrapProbability: r4(prob),
      liveDrawdownP95Pct: r4(lDd),
      candidateDrawdownP95Pct: r4(cDd),
      perSpan: withData.map((x) => `${new Date(x.from).toISOString().slice(0, 10)}: live ${x.live.netPnl.toFixed(2)} / candidate ${x.candidate.netPnl.toFixed(2)}`).join('; ').slice(0, 128),
    },
  };
}

export interface KernelTesterDeps {
  readonly archive: CandleArchive;
  readonly symbols: readonly string[];
  readonly settings: TesterSettings;
}

/** The kernel backtest over rolling out-of-sample spans (see the file comment). */
export class KernelRollingOosTester implements RecommendationTester {
  readonly name = 'kernel-rolling-oos';
  constructor(private readonly d: KernelTesterDeps) {}

  /**
   * The spans tested for a request: consecutive, oldest first, the last ending at `shownFrom`. They
   * are the test spans of the research engine's rolling walk-forward plan (research/folds.ts) over
   * the data up to `shownFrom`, training spans as long as a test span, no embargo, no hold-out: a
   * fixed change has nothing to fit, so the training spans go unused (the warm-up before each test
   * span is compareOnSpan's).
   */
  spansFor(req: Pick<TestRequest, 'period' | 'shownFrom'>): { from: number; to: number }[] {
    const days = this.d.settings.spanDays[req.period];
    const n = this.d.settings.spans;
    const plan = planFolds({ start: req.shownFrom - (n + 1) * days * DAY_MS, end: req.shownFrom, scheme: { kind: 'rolling' }, trainDays: days, testDays: days, embargoDays: 0, holdoutDays: 0, warmupDays: 0 });
    return plan.folds.map((f) => ({ from: f.test.start, to: f.test.end }));
  }

  async test(req: TestRequest): Promise<RecommendationTestRecord> {
    const spans = this.spansFor(req);
    const s = this.d.settings;
    const candles = await loadCandles(this.d.archive, this.d.symbols, spans[0]!.from - s.warmupMinutes * MINUTE_MS, req.shownFrom);
    const results: SpanComparison[] = [];
    for (const sp of spans) results.push(await compareOnSpan(candles, req.live, req.candidate, sp.from, sp.to, s.warmupMinutes));
    // The same seed for every recommendation: two candidates are judged on the same draws.
    return judge(results, s, req.live.backtest.initialBalance, s.seed, this.name);
  }
}
