/**
 * Baselines: before costs, random entries with the same exits and sizing, buy and hold. The
 * random-entry baseline is tested for honesty (it only enters where the strategy could have, with
 * the plans of its real signals, about as often) and for power: a strategy that peeks at the future
 * must beat it, and a strategy that is itself random entries must not.
 */
import { describe, expect, it } from 'vitest';
import { buyAndHold, computeBaselines, withoutCosts } from '../../services/research/baselines/baselines.js';
import { RandomEntryStrategy, RecordingStrategy, planTemplate, type PlanTemplate } from '../../services/research/baselines/randomEntries.js';
import { parseConfig, type Config } from '../../services/config/schema.js';
import { loadSeries } from '../../cli/loadSeries.js';
import { runBacktestSync } from '../../services/backtest/engine.js';
import { SrStrategy } from '../../services/strategy/srStrategy.js';
import { seededRandom } from '../../services/ml/random.js';
import type { Strategy } from '../../services/strategy/port.js';
import type { Candle, SymbolId } from '../../services/core/types.js';
import type { Intent } from '../../services/model/intents.js';
import type { PositionView } from '../../services/model/positions.js';
import { MINUTE_MS } from '../../services/core/timeframes.js';

const { series } = loadSeries(['test/fixtures/candles/BTCUSDT']);
const candles = series[0]!.candles;
const config = parseConfig({});
const sr = (c: Config): Strategy => new SrStrategy(c);

/** Enters when the next 30 minutes reach its last target without touching its stop: it reads the future (a positive control). */
class Clairvoyant implements Strategy {
  readonly name = 'clairvoyant';
  private readonly index = new Map<number, number>(candles.map((c, i) => [c.openTime, i]));
  onCandle(symbol: SymbolId, c: Candle, position: PositionView | undefined): readonly Intent[] {
    const closeTime = c.openTime + MINUTE_MS;
    if (position) {
      if (position.state === 'open' && closeTime >= position.expiresAt) return [{ kind: 'exit', id: `${position.id}-time`, symbol, positionId: position.id, time: closeTime, reason: 'time', detail: 'time' }];
      return [];
    }
    const i = this.index.get(c.openTime) ?? -1;
    const p = c.close;
    const next = candles.slice(i + 1, i + 31);
    if (i < 100 || next.length < 30 || Math.max(...next.map((x) => x.high)) < p * 1.0045 || Math.min(...next.map((x) => x.low)) < p * 0.995) return [];
    return [
      {
        kind: 'enter', id: `${symbol}L${closeTime.toString(36)}`, symbol, direction: 'long', time: closeTime, price: p, stop: p * 0.994,
        targets: [ { label: 'primary', price: p * 1.002, fraction: 0.33 }, { label: 'secondary', price: p * 1.003, fraction: 0.33 }, { label: 'aggressive', price: p * 1.004, fraction: 0.34 } ],
        level: { price: p * 0.999, touches: 3, sources: ['future'] }, oppositeLevel: null, reasons: ['peeked'], expiresAt: closeTime + 30 * MINUTE_MS,
      },
    ];
  }
}

describe('baselines', () => {
  it('zeroes every cost for the before-costs run, and measures buy and hold on the candles', () => {
    const free = withoutCosts(config);
    expect(free.backtest).toMatchObject({ makerFeePct: 0, takerFeePct: 0, slippageBps: 0, impactBpsPerPctVolume: 0 });
    expect(config.backtest.takerFeePct).toBeGreaterThan(0);
    const bh = buyAndHold(series);
    const first = candles[0]!.open;
    const last = candles[candles.length - 1]!.close;
    expect(bh.returnPct).toBeCloseTo((last / first - 1) * 100, 3);
    let peak = -Infinity;
    let worst = 0;
    for (const c of candles) {
      peak = Math.max(peak, c.high);
      worst = Math.max(worst, (peak - c.low) / peak);
    }
    expect(bh.perSymbol.BTCUSDT?.maxDrawdownPct).toBeCloseTo(worst * 100, 3);
  });

  it('takes random entries only where the strategy could have entered, with its own plans', () => {
    const rec = new RecordingStrategy(sr(config));
    const real = runBacktestSync({ series, config, strategy: rec });
    expect(rec.plans.length).toBeGreaterThan(0);
    const warmup = rec.funnel!.warmup;
    const strat = new RandomEntryStrategy(sr(config), rec.plans, 0.2, seededRandom(3));
    const seen: { intent: Intent; position: boolean; warm: boolean }[] = [];
    const spy: Strategy = {
      name: 'spy',
      get funnel() {
        return strat.funnel;
      },
      onCandle(s, c, p, ctx) {
        const before = strat.funnel?.warmup ?? 0;
        const out = strat.onCandle(s, c, p, ctx);
        for (const i of out) if (i.kind === 'enter') seen.push({ intent: i, position: p !== undefined, warm: (strat.funnel?.warmup ?? 0) > before });
        return out;
      },
    };
    runBacktestSync({ series, config, strategy: spy });
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.every((x) => !x.position && !x.warm)).toBe(true);
    // The first random entry comes after the warm-up the real strategy needed.
    expect(strat.funnel!.warmup).toBe(warmup);
    const stops = new Set(rec.plans.map((p: PlanTemplate) => p.stop.toFixed(9)));
    for (const x of seen) if (x.intent.kind === 'enter') expect(stops.has(planTemplate(x.intent).stop.toFixed(9))).toBe(true);
    expect(real.trades.length).toBeGreaterThan(0);
  });

  it('calibrates the random runs to about the strategy\'s trade count and states the comparison', () => {
    const b = computeBaselines({ series, config, factory: sr, seeds: 8, seed: 1 });
    const r = b.randomEntries!;
    expect(r.returnsPct).toHaveLength(8);
    expect(Math.abs(r.tradesMean - b.strategy.trades) / b.strategy.trades).toBeLessThan(0.3);
    expect(b.beforeCosts.fees).toBe(0);
    expect(b.beforeCosts.costsPct).toBeCloseTo(b.beforeCosts.netReturnPct - b.strategy.netReturnPct, 3);
    expect(r.p5).toBeLessThanOrEqual(r.p50);
    expect(r.edgeInterval).toEqual([Math.round((b.strategy.netReturnPct - r.p95) * 1e4) / 1e4, Math.round((b.strategy.netReturnPct - r.p5) * 1e4) / 1e4]);
    expect(b.sentence).toMatch(/^The strategy (beats|does not beat) random entries: /);
    expect(b.sentence).toContain('before costs');
  });

  it('has the power to see an edge: a strategy that reads the future beats random entries', () => {
    const b = computeBaselines({ series, config, factory: () => new Clairvoyant(), seeds: 8, seed: 2 });
    expect(b.strategy.netReturnPct).toBeGreaterThan(0);
    expect(b.randomEntries!.beats).toBe(true);
    expect(b.sentence).toMatch(/^The strategy beats random entries/);
  });

  it('does not flatter a strategy whose entries are themselves random', () => {
    const recorded = new RecordingStrategy(sr(config));
    runBacktestSync({ series, config, strategy: recorded });
    const randomAsStrategy = (c: Config): Strategy => new RandomEntryStrategy(sr(c), recorded.plans, 0.05, seededRandom(77));
    const b = computeBaselines({ series, config, factory: randomAsStrategy, seeds: 12, seed: 4 });
    expect(b.randomEntries!.beats).toBe(false);
  });
});
