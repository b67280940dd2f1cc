/**
 * How a 1m candle becomes market data, the one definition the candle replay (paper trading and the
 * simulator, `replay.ts`) and the backtest (`services/backtest/`) share, so both feed the matching
 * engine exactly the same prints and quotes.
 *
 * A candle is walked open -> low -> high -> close at +1 s, +20 s, +40 s and +59.999 s into its
 * minute: the conservative path for a long position (the adverse extreme comes first). At each
 * point the market prints a trade of a quarter of the candle's volume and shows a book one tick (or
 * `spreadBps`, when wider) either side of the price, a quarter of the volume on each side.
 */
import { Dec } from '../core/money.js';
import type { Candle } from '../core/types.js';

/** Offsets of the four path points within the minute. */
export const PATH_OFFSETS = [1_000, 20_000, 40_000, 59_999] as const;

/** The path's prices in order: open, low, high, close. */
export function pathPrice(c: Candle, j: number): number {
  return j === 0 ? c.open : j === 1 ? c.low : j === 2 ? c.high : c.close;
}

const BPS = Dec.from(10_000);

/**
 * The synthetic book around a price: half-spread = max(one tick, price x spreadBps / 10,000), the
 * bid rounded down and the ask up to the tick (the bid never below one tick). `quote(price)` sets
 * `bid` and `ask` (numbers, no allocation on the fast path).
 */
export class SyntheticQuotes {
  bid = 0;
  ask = 0;
  private readonly halfSpread: Dec;
  /** 1 / tick when the tick is a power of ten and the spread is one tick: enables the fast path. */
  private readonly perUnit: number | undefined;

  constructor(
    private readonly tick: Dec,
    spreadBps: number,
  ) {
    if (!Number.isFinite(spreadBps) || spreadBps < 0) throw new RangeError(`spreadBps must be a finite number >= 0, got ${spreadBps}`);
    this.halfSpread = Dec.from(spreadBps).div(BPS);
    const inv = Dec.ONE.div(tick);
    this.perUnit = spreadBps === 0 && inv.floorTo(Dec.ONE).eq(inv) && /^10*$/.test(inv.toString()) ? inv.toNumber() : undefined;
  }

  quote(price: number): void {
    if (this.perUnit !== undefined) {
      // In whole ticks, n / 10^d is the float nearest to the decimal (a quotient of exact integers
      // is correctly rounded), i.e. what parsing the decimal gives.
      const n = Math.round(price * this.perUnit);
      if (n > 1 && n < Number.MAX_SAFE_INTEGER && n / this.perUnit === price) {
        this.bid = (n - 1) / this.perUnit;
        this.ask = (n + 1) / this.perUnit;
        return;
      }
    }
    const p = Dec.from(price);
    const half = Dec.max(this.tick, p.mul(this.halfSpread));
    this.bid = Dec.max(this.tick, p.sub(half).floorTo(this.tick)).toNumber();
    this.ask = p.add(half).ceilTo(this.tick).toNumber();
  }
}
