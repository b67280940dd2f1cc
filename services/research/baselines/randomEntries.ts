/**
 * The random-entry baseline: the strategy's own exits and sizing, with entries at random minutes.
 *
 * If a strategy's entries carry information, its trades should beat the same trades taken at
 * random times. To make that comparison honest, everything except the timing of entries is kept:
 * - the wrapped strategy runs on every candle as usual (its indicators, levels and exit rules: the
 *   time stop, the break exit and the breakeven move work on the random positions exactly as on
 *   its own), and its own entry proposals are dropped;
 * - a random entry is only taken where the strategy could have entered at all: no position, past
 *   its warm-up, and through its market filters (24h volume, spread), read from its entry funnel;
 * - the probability of entering at such a minute starts at the strategy's own signal rate (its
 *   signals over those minutes in the real run) and is then calibrated on pilot runs so that the
 *   random runs end up with about as many trades as the strategy (its signals cluster, e.g. right
 *   after an exit, where the risk engine's cooldown refuses them; random ones do not): more trades
 *   would mean more costs, and a comparison the strategy wins for the wrong reason;
 * - each random entry copies the plan of one of the strategy's real signals, drawn at random, in
 *   relative terms: stop, targets, level and opposite level as the same percent distances from the
 *   entry price, the same time stop. The risk engine sizes it from that stop, as it sized the real one.
 * Randomness comes from the generator passed in (a seed per baseline run).
 */
import type { Candle, SymbolId } from '../../core/types.js';
import { MINUTE_MS } from '../../core/timeframes.js';
import type { EnterIntent, Intent } from '../../model/intents.js';
import type { PositionView } from '../../model/positions.js';
import type { MarketContext, Strategy } from '../../strategy/port.js';

/** A strategy's entry funnel (Strategy.funnel): counters by stage; a stage it does not count reads 0. */
type Funnel = Readonly<Record<string, number>>;

/** A real signal's plan in relative terms (fractions of the entry price). */
export interface PlanTemplate {
  readonly stop: number;
  readonly targets: readonly { readonly label: 'primary' | 'secondary' | 'aggressive'; readonly offset: number; readonly fraction: number }[];
  readonly level: number;
  readonly touches: number;
  readonly opposite: number | null;
  readonly holdMs: number;
}

/** The relative plan of an entry intent. */
export function planTemplate(e: EnterIntent): PlanTemplate {
  return {
    stop: e.stop / e.price - 1,
    targets: e.targets.map((t) => ({ label: t.label, offset: t.price / e.price - 1, fraction: t.fraction })),
    level: e.level.price / e.price - 1,
    touches: e.level.touches,
    opposite: e.oppositeLevel === null ? null : e.oppositeLevel / e.price - 1,
    holdMs: e.expiresAt - e.time,
  };
}

/** Passes a strategy through unchanged and keeps the plans of the entries it proposes. */
export class RecordingStrategy implements Strategy {
  readonly plans: PlanTemplate[] = [];
  signals = 0;
  constructor(private readonly inner: Strategy) {}
  get name(): string {
    return this.inner.name;
  }
  get funnel(): Funnel | undefined {
    return this.inner.funnel;
  }
  onCandle(symbol: SymbolId, candle: Candle, position: PositionView | undefined, ctx: MarketContext): readonly Intent[] {
    const out = this.inner.onCandle(symbol, candle, position, ctx);
    for (const i of out) {
      if (i.kind !== 'enter') continue;
      this.signals++;
      this.plans.push(planTemplate(i));
    }
    return out;
  }
}

/** Minutes at which the strategy could have entered: no position, past warm-up, through the market filters. */
export function eligibleMinutes(f: Funnel): number {
  return (f.evaluated ?? 0) - (f.warmup ?? 0) - (f.quoteVolume ?? 0) - (f.spread ?? 0);
}

export class RandomEntryStrategy implements Strategy {
  readonly name: string;
  private readonly seen = { evaluated: 0, warmup: 0, quoteVolume: 0, spread: 0 };
  /** Eligible minutes without a funnel: from the first candle the strategy returns anything at all. */
  private started = false;

  constructor(
    private readonly inner: Strategy,
    private readonly plans: readonly PlanTemplate[],
    private readonly rate: number,
    private readonly rand: () => number,
  ) {
    this.name = `${inner.name}-random-entries`;
  }

  get funnel(): Funnel | undefined {
    return this.inner.funnel;
  }

  onCandle(symbol: SymbolId, candle: Candle, position: PositionView | undefined, ctx: MarketContext): readonly Intent[] {
    const out = this.inner.onCandle(symbol, candle, position, ctx);
    if (position) return out;
    if (!this.eligible(out)) return [];
    if (this.plans.length === 0 || !(this.rand() < this.rate)) return [];
    const p = this.plans[Math.floor(this.rand() * this.plans.length)] as PlanTemplate;
    const closeTime = candle.openTime + MINUTE_MS;
    const price = candle.close;
    const entry: EnterIntent = {
      kind: 'enter',
      id: `${symbol}L${closeTime.toString(36)}`,
      symbol,
      direction: 'long',
      time: closeTime,
      price,
      stop: price * (1 + p.stop),
      targets: p.targets.map((t) => ({ label: t.label, price: price * (1 + t.offset), fraction: t.fraction })),
      level: { price: price * (1 + p.level), touches: p.touches, sources: ['random'] },
      oppositeLevel: p.opposite === null ? null : price * (1 + p.opposite),
      reasons: ['random entry (baseline)'],
      expiresAt: closeTime + p.holdMs,
    };
    return [entry];
  }

  /** Whether this minute was one where the wrapped strategy could have entered (its funnel moved past the filters). */
  private eligible(out: readonly Intent[]): boolean {
    const f = this.inner.funnel;
    if (f?.evaluated === undefined) {
      if (out.length > 0) this.started = true;
      return this.started;
    }
    const s = this.seen;
    const now = { evaluated: f.evaluated ?? 0, warmup: f.warmup ?? 0, quoteVolume: f.quoteVolume ?? 0, spread: f.spread ?? 0 };
    const evaluated = now.evaluated > s.evaluated;
    const filtered = now.warmup > s.warmup || now.quoteVolume > s.quoteVolume || now.spread > s.spread;
    s.evaluated = now.evaluated;
    s.warmup = now.warmup;
    s.quoteVolume = now.quoteVolume;
    s.spread = now.spread;
    return evaluated && !filtered;
  }
}
