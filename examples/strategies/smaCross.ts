/**
 * A worked example of a plug-in strategy (services/strategy/README.md walks through it): a moving
 * average crossover on 15-minute closes, long only.
 *
 *   npm run backtest -- --data data/sample --out out/sma --strategy examples/strategies/smaCross.ts
 *   npm run lookahead -- --data data/sample/DOGEUSDT --strategy examples/strategies/smaCross.ts
 *
 * Parameters come from the config's `strategyParams` (e.g. `{ "strategyParams": { "fast": 8 } }`)
 * and are validated by `params` below when the module is loaded.
 */
import { z } from 'zod';
import type { Candle, SymbolId } from '../../services/core/types.js';
import type { Intent } from '../../services/model/intents.js';
import type { PositionView } from '../../services/model/positions.js';
import type { Strategy, StrategyModule } from '../../services/strategy/port.js';

const params = z
  .strictObject({
    /** Closes in the fast and the slow average. */
    fast: z.number().int().min(2).max(200).default(10),
    slow: z.number().int().min(3).max(500).default(30),
    /** Stop this percent below the entry; the target twice as far above it. */
    stopPct: z.number().positive().max(20).default(1.5),
    /** Time stop. */
    holdHours: z.number().int().min(1).max(240).default(24),
  })
  .refine((p) => p.fast < p.slow, { message: 'fast must be shorter than slow', path: ['fast'] });
type Params = z.output<typeof params>;

const SLOW_MS = 15 * 60_000;
const NOTHING: readonly Intent[] = Object.freeze([]);

class SmaCross implements Strategy {
  readonly name = 'sma-cross';
  readonly funnel = { closes: 0, warmup: 0, noCross: 0, signals: 0 };
  /** The last `slow` 15m closes per symbol (state per symbol: one instance trades many). */
  private readonly closes = new Map<SymbolId, number[]>();

  constructor(private readonly p: Params) {}

  onCandle(symbol: SymbolId, candle: Candle, position: PositionView | undefined): readonly Intent[] {
    const closeTime = candle.openTime + 60_000;
    if (closeTime % SLOW_MS !== 0) return NOTHING; // decide on 15m closes only
    let xs = this.closes.get(symbol);
    if (!xs) this.closes.set(symbol, (xs = []));
    const before = cross(xs, this.p);
    xs.push(candle.close);
    if (xs.length > this.p.slow) xs.shift();
    const now = cross(xs, this.p);
    if (position) {
      // Exit on the opposite cross (the stop, target and time stop are the executor's).
      if (position.state === 'open' && before !== null && now !== null && before >= 0 && now < 0) {
        return [{ kind: 'exit', id: `${position.id}-x`, symbol, positionId: position.id, time: closeTime, reason: 'signal', detail: 'fast average crossed below the slow one' }];
      }
      return NOTHING;
    }
    this.funnel.closes++;
    if (before === null || now === null) {
      this.funnel.warmup++;
      return NOTHING;
    }
    if (!(before <= 0 && now > 0)) {
      this.funnel.noCross++;
      return NOTHING;
    }
    this.funnel.signals++;
    const stop = candle.close * (1 - this.p.stopPct / 100);
    return [
      {
        kind: 'enter',
        id: `${symbol}S${closeTime.toString(36)}`,
        symbol,
        direction: 'long',
        time: closeTime,
        price: candle.close,
        stop,
        targets: [{ label: 'primary', price: candle.close * (1 + (2 * this.p.stopPct) / 100), fraction: 1 }],
        level: { price: candle.close, touches: 0, sources: ['sma-cross'] },
        oppositeLevel: null,
        reasons: [`SMA${this.p.fast} crossed above SMA${this.p.slow}`],
        expiresAt: closeTime + this.p.holdHours * 3_600_000,
      },
    ];
  }
}

/** fast average minus slow average of the last closes, or null before `slow` closes. */
function cross(xs: readonly number[], p: Params): number | null {
  if (xs.length < p.slow) return null;
  const mean = (n: number): number => xs.slice(-n).reduce((a, b) => a + b, 0) / n;
  return mean(p.fast) - mean(p.slow);
}

const smaCross: StrategyModule<Params> = {
  name: 'sma-cross',
  description: 'moving average crossover on 15m closes (the plug-in example)',
  params,
  create: (_config, p) => new SmaCross(p),
};
export default smaCross;
