/**
 * A hand-made scenario run through the whole backtest (strategy, risk engine, executor, simulated
 * exchange), with every trade worked out in advance below and checked to the last decimal.
 *
 * MARKET. 1m candles from T0 = 2024-01-01 00:00Z. Minutes 0..480 (and everything not listed
 * below) are a range: a triangle wave with a 40-minute period, bodies between 100.265 and 102.735,
 * one wick per cycle down to exactly 100 (cycle minute 2) and one up to exactly 103 (minute 22),
 * volume 1000.125 per candle. With swing-extrema levels only, the 5m levels are exactly 100 (support)
 * and 103 (resistance); the 5m ADX stays near 8 (range-bound). Prices have at most 3 decimals and
 * volumes 3, so the simulated tick and lot step are both 0.001.
 *
 * CONFIG. Standard mode, extrema-only levels, initial balance 10,010 USDT, conservative profile
 * (1% risk, 10% max position), market entries, slippage 10 bps flat (no volume impact), latency
 * 250 ms, maker fee 0%, taker fee 0.05%.
 *
 * Each minute is walked open (+1 s), low (+20 s), high (+40 s), close (+59.999 s), each point a
 * print and a book one tick (0.001) either side. A market order reaches the matching 250 ms after it
 * is sent and executes, before the next print, against the book in force then.
 *
 * TRADE 1
 * - 481 (trigger): O 100.395 H 100.4 L 100.08 C 100.1, volume 2000 > 1.5 x 1000.125. At its close
 *   (08:02) the strategy enters: level 100, stop 100 x 0.992 = 99.2, risk 0.9 / 100.1 = 0.8991%,
 *   targets 101.9 (100.1 + 2 x 0.9), 102.897 (0.1% before 103), 103.
 *   Size: 1% of 10,010 = 100.1 at risk / 0.9 = 111.2 units = 11,131 USDT, capped at 10% of the
 *   balance = 1001 USDT -> 1001 / 100.1 = 10 units. Targets 3.3 / 3.3 / 3.4 (10 x 0.33 = 3.3 twice,
 *   the rest).
 * - The market buy arrives at 08:02:00.250, before 482's open print, against 481's close book: ask
 *   100.101 x 1.001 = 100.201101, rounded up to the tick: 100.202. Cost 1002.02, fee 0.50101.
 * - 483: O 100.25 H 101.25 L 100.2 C 101.2. The high reaches 100.202 x 1.01 = 101.20402: at the close
 *   the stop moves to 100.202 x 1.001 = 100.302202, rounded to the tick: 100.302.
 * - 484: O 101.2 H 101.95 L 101.1 C 101.5. Trades through 101.9: target 1 fills 3.3 @ 101.9 (maker,
 *   no fee) at 08:04:40.
 * - 485: O 101.5 H 102.95 L 101.4 C 102.5. Through 102.897: target 2 fills 3.3 @ 102.897.
 * - 486: O 102.5 H 102.6 L 100.0 C 100.4. The low print 100.0 crosses the stop 100.302 (08:06:20);
 *   the sell arrives 250 ms later and executes against the low's book, bid 99.999:
 *   99.999 x 0.999 = 99.899001, down to the tick: 99.899; 3.4 sold at 08:06:20.250, fee
 *   339.6566 x 0.05% = 0.1698283. (The low of 100.0, rather than above 100, keeps the 5m swing lows
 *   of these minutes at exactly 100, so the level stays at 100.)
 *   Proceeds 336.27 + 339.5601 + 339.6566 = 1015.4867; gross 1015.4867 - 1002.02 = 13.4667;
 *   fees 0.50101 + 0.1698283 = 0.6708383; net 12.7958617; exit reason breakeven; 3 exit fills.
 * TRADE 2 (the symbol's 15-minute cooldown ended at 08:21:20)
 * - 521 (trigger): O 100.395 H 100.4 L 100.08 C 100.1, volume 2000: the same entry at 08:42.
 *   Size: balance 10,022.7958617 -> cap 1002.27958617 / 100.1 = 10.0127... -> 10.012 units.
 * - Buy at 08:42:00.250 @ 100.202 (as above): cost 1003.222424, fee 0.501611212.
 * - 522: O 100.1 H 100.15 L 99.1 C 99.5. The low print crosses the stop 99.2 at 08:42:20; sold at
 *   the low's bid 99.099 x 0.999 = 98.999901, down to 98.999, at 08:42:20.250: proceeds 991.177988,
 *   fee 0.495588994. Gross -12.044436, fees 0.997200206, net -13.041636206; exit reason stop.
 * After that every candle has the same volume: no further signal.
 *
 * RESULT: 2 trades; final balance 10,010 + 12.7958617 - 13.041636206 = 10,009.754225494;
 * fees 0.6708383 + 0.997200206 = 1.668038506.
 */
import { describe, it, expect } from 'vitest';
import { runBacktest } from '../../services/backtest/engine.js';
import { parseConfig } from '../../services/config/schema.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const SYM = symbolId('TESTUSDT');
const PERIOD = 40;
const VOL = 1000.125;
const at = (minute: number, second = 0): number => T0 + minute * MIN + second * 1000;

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Boundary price between candles k-1 and k of the range: a triangle wave, bottom at k = 2.5. */
function wave(k: number): number {
  const d = (((k - 2.5) % PERIOD) + PERIOD) % PERIOD;
  const tri = Math.min(d, PERIOD - d);
  return r3(100.2 + (2.6 * tri) / (PERIOD / 2));
}

/** Candle k of the range: wick to 100 at cycle minute 2, to 103 at minute 22. */
function rangeBar(k: number): Candle {
  const open = wave(k);
  const close = wave(k + 1);
  const m = k % PERIOD;
  return {
    openTime: at(k),
    open,
    high: m === 22 ? 103 : r3(Math.max(open, close) + 0.01),
    low: m === 2 ? 100 : r3(Math.min(open, close) - 0.01),
    close,
    volume: VOL,
  };
}

const bar = (k: number, open: number, high: number, low: number, close: number, volume = VOL): Candle => ({ openTime: at(k), open, high, low, close, volume });

const SPECIAL: Record<number, Candle> = {
  481: bar(481, 100.395, 100.4, 100.08, 100.1, 2000),
  482: bar(482, 100.1, 100.3, 100.05, 100.25),
  483: bar(483, 100.25, 101.25, 100.2, 101.2),
  484: bar(484, 101.2, 101.95, 101.1, 101.5),
  485: bar(485, 101.5, 102.95, 101.4, 102.5),
  486: bar(486, 102.5, 102.6, 100.0, 100.4),
  521: bar(521, 100.395, 100.4, 100.08, 100.1, 2000),
  522: bar(522, 100.1, 100.15, 99.1, 99.5),
};

/** 10 hours of candles: the range with the scenario's minutes in it. */
const candles: Candle[] = Array.from({ length: 600 }, (_, k) => SPECIAL[k] ?? rangeBar(k));

const config = parseConfig({
  levels: { methods: { volumeProfile: false, fibonacci: false, pivots: false } },
  backtest: { initialBalance: 10_010, slippageBps: 10, impactBpsPerPctVolume: 0, latencyMs: 250, makerFeePct: 0, takerFeePct: 0.05 },
});

describe('backtest scenario: two hand-computed trades', () => {
  it('takes exactly the planned trades with the planned fills and PnL', async () => {
    const r = await runBacktest({ series: [{ symbol: SYM, candles }], config });

    expect(r.trades).toHaveLength(2);
    const [t1, t2] = r.trades;

    expect(t1?.entryTime).toBe(at(482) + 250);
    expect(t1?.exitTime).toBe(at(486, 20) + 250);
    expect(t1?.entryPrice.eq(Dec.from('100.202'))).toBe(true);
    expect(t1?.quantity.eq(Dec.from('10'))).toBe(true);
    expect(t1?.exitReason).toBe('breakeven');
    expect(t1?.exits).toBe(3);
    // exit price: volume-weighted 1015.4867 / 10
    expect(t1?.exitPrice.eq(Dec.from('101.54867'))).toBe(true);
    expect(t1?.grossPnl.toString()).toBe('13.4667');
    expect(t1?.fees.toString()).toBe('0.6708383');
    expect(t1?.netPnl.toString()).toBe('12.7958617');

    expect(t2?.entryTime).toBe(at(522) + 250);
    expect(t2?.exitTime).toBe(at(522, 20) + 250);
    expect(t2?.quantity.toString()).toBe('10.012');
    expect(t2?.entryPrice.toString()).toBe('100.202');
    expect(t2?.exitPrice.toString()).toBe('98.999');
    expect(t2?.exitReason).toBe('stop');
    expect(t2?.exits).toBe(1);
    expect(t2?.grossPnl.toString()).toBe('-12.044436');
    expect(t2?.fees.toString()).toBe('0.997200206');
    expect(t2?.netPnl.toString()).toBe('-13.041636206');

    expect(r.finalBalance.toString()).toBe('10009.754225494');
    expect(r.fees.toString()).toBe('1.668038506');
    expect(r.funnel.signals).toBe(2);
    expect(r.rejections).toEqual({});
  });

  it('sends each order once: entry, three targets and one exit per trade', async () => {
    const r = await runBacktest({ series: [{ symbol: SYM, candles }], config });
    const one = ['buy market', 'sell limit', 'sell limit', 'sell limit', 'sell market'];
    expect(r.orderLog.map((o) => `${o.side} ${o.type}`)).toEqual([...one, ...one]);
    // Ids are the intent id (symbol, 'L', decision time) plus E (entry), T1..T3 (targets), X1 (exit).
    expect(r.orderLog.map((o) => o.clientOrderId.replace(/^.*L[0-9a-z]+/, ''))).toEqual(['E', 'T1', 'T2', 'T3', 'X1', 'E', 'T1', 'T2', 'T3', 'X1']);
    // Entries are sent at the signal candles' closes (08:02 and 08:42), targets at the first print after
    // the entry filled (the step its fill came in), exits at the print that crossed the stop.
    expect(r.orderLog.map((o) => o.time)).toEqual([at(482), at(482, 1), at(482, 1), at(482, 1), at(486, 20), at(522), at(522, 1), at(522, 1), at(522, 1), at(522, 20)]);
  });
});
