/**
 * One kernel for signals too: the same signals, routed at the same candle closes, make the same
 * trades in the backtest (the kernel on the matching engine, synchronously) and in paper trading
 * (the kernel behind the replay, the paper venue and SafeExchange, asynchronously), to the last
 * decimal, beside the strategy's own trades on the same account.
 */
import { describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { runBacktest } from '../../services/backtest/engine.js';
import { parseConfig } from '../../services/config/schema.js';
import { symbolId } from '../../services/core/types.js';
import type { TradingKernel } from '../../services/kernel/kernel.js';
import { AuditLog } from '../../services/signals/audit.js';
import { SignalRouter } from '../../services/signals/router.js';
import type { SignalResult } from '../../services/signals/types.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import { paperRun } from '../helpers/paperRun.js';

const BTC = symbolId('BTCUSDT');
const btc = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
const exact = (t: ClosedTrade): string =>
  [t.id, t.symbol, t.entryTime, t.exitTime, t.entryPrice.toString(), t.exitPrice.toString(), t.quantity.toString(), t.fees.toString(), t.netPnl.toString(), t.exitReason].join(' ');

/** A buy signal every 150 candles from candle 200, and a sell 30 minutes after each. */
const SCHEDULE = new Map<number, { side: string; id: string }>();
for (let i = 200; i < 2900; i += 150) {
  SCHEDULE.set(btc[i]!.openTime + 60_000, { side: 'buy', id: `b${i}` });
  SCHEDULE.set(btc[i + 30]!.openTime + 60_000, { side: 'sell', id: `s${i}` });
}

function signalsAt(results: SignalResult[]): (kernel: TradingKernel, closeTime: number) => void {
  const config = parseConfig({ signals: { enabled: true, dryRun: false } });
  let router: SignalRouter | undefined;
  return (kernel, closeTime) => {
    router ??= new SignalRouter({ config, kernel, audit: new AuditLog([]), listed: () => true, traded: () => true });
    const s = SCHEDULE.get(closeTime);
    if (s) results.push(router.route({ symbol: 'BTCUSDT', side: s.side, id: s.id, notional: 100, source: 'test' }, 'file', closeTime));
  };
}

describe('signals: backtest = paper trading, exactly', () => {
  it('the same routed entries and exits, and the same strategy trades around them', async () => {
    const config = parseConfig({ signals: { enabled: true, dryRun: false } });
    const btResults: SignalResult[] = [];
    const paperResults: SignalResult[] = [];
    const bt = await runBacktest({ series: [{ symbol: BTC, candles: btc }], config, atClose: signalsAt(btResults) });
    const paper = await paperRun([{ symbol: BTC, candles: btc }], config, { atClose: signalsAt(paperResults) });
    const strip = (r: SignalResult) => [r.status, r.reason ?? '', r.order?.quantity ?? '', r.levels?.stop ?? ''].join(' ');
    expect(paperResults.map(strip)).toEqual(btResults.map(strip));
    // Some went through; the others met a strategy position, a cooldown or a risk halt, alike in both.
    const accepted = btResults.filter((r) => r.status === 'accepted' && r.side === 'buy');
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    expect(paper.trades.map(exact)).toEqual(bt.trades.filter((t) => t.exitReason !== 'end_of_data').map(exact));
    const signalTrades = bt.trades.filter((t) => t.id.startsWith('S'));
    expect(signalTrades.length).toBe(accepted.length);
    expect(paper.mismatches).toEqual([]);
  });
});
