/**
 * Trade-order reshuffling (path risk): the same trades in a random order. Each scenario keeps the
 * trades' exit times and deals their returns out to them in a shuffled order, compounding each
 * trade's return on the equity of the moment (so fixed-fraction sizing scales as it would). The
 * final return is the same in every scenario (a product does not depend on its order); what
 * changes is the path: drawdowns, time under water, losing streaks and whether the risk engine's
 * limits are reached. It ignores that the engine would have stopped trading at a limit.
 */
import { seededRandom, shuffleInPlace } from '../../ml/random.js';
import { mixSeed } from '../walkForward.js';
import { pathStats, type PathStats, type RiskLimits } from './paths.js';

export interface TradeResult {
  readonly exitTime: number;
  /** Net PnL over the equity just before the exit (a fraction). */
  readonly equityReturn: number;
  readonly stop: boolean;
}

/** Scenario i of the reshuffle (seeded by seed and i, so any subset can be recomputed). */
export function reshuffleScenario(trades: readonly TradeResult[], start: number, initial: number, limits: RiskLimits, seed: number, i: number): PathStats {
  const n = trades.length;
  const order = Int32Array.from({ length: n }, (_, k) => k);
  shuffleInPlace(order, seededRandom(mixSeed(seed, 0x5f, i)));
  const times = new Float64Array(n + 1);
  const equity = new Float64Array(n + 1);
  const results = new Float64Array(n);
  const stops: boolean[] = new Array<boolean>(n);
  times[0] = start;
  equity[0] = initial;
  let e = initial;
  for (let k = 0; k < n; k++) {
    const t = trades[order[k] as number] as TradeResult;
    e *= 1 + t.equityReturn;
    times[k + 1] = (trades[k] as TradeResult).exitTime;
    equity[k + 1] = e;
    results[k] = t.equityReturn;
    stops[k] = t.stop;
  }
  return pathStats(times, equity, results, stops, limits);
}
