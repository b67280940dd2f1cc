/**
 * The frame source of the feed benchmark, in its own process so that its CPU is not counted as the
 * client's: a simulator server (manual mode) listing `n` symbols built from a real candle fixture.
 * Over IPC it answers `{ cmd: 'blast', events }` by pushing that many market-data events
 * (trades, book tops and kline updates, round robin over the symbols) as fast as the sockets take
 * them, then replies `{ done: true, framesSent }`.
 *   node --import tsx bench/feedServer.ts <symbols>
 */
import { loadCandleFile } from '../services/adapters/candleFiles.js';
import { startSimServer } from '../services/adapters/mexcSim/server.js';
import { symbolId, type SymbolId } from '../services/core/types.js';
import { simMarketFromCandles } from '../services/sim/replay.js';
import type { MarketDataEvent } from '../services/sim/types.js';

const n = Number(process.argv[2] ?? '10');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
const names = Array.from({ length: n }, (_, i) => symbolId(`B${String.fromCharCode(65 + (i % 26))}${i}USDT`));
const server = await startSimServer({ markets: names.map((s) => simMarketFromCandles(s, candles)), accounts: [] });

function event(i: number, symbol: SymbolId, t: number): MarketDataEvent {
  const c = candles[i % candles.length]!;
  switch (i % 3) {
    case 0:
      return { type: 'trade', symbol, trade: { time: t, price: c.close, quantity: 0.01 + (i % 7) * 0.001, buyerMaker: i % 2 === 0 } };
    case 1:
      return { type: 'book', symbol, book: { time: t, bid: c.close, bidSize: 1.5, ask: c.close + 0.01, askSize: 2 } };
    default:
      // Kline updates of the current minute: the window moves every 60 events per symbol.
      return { type: 'kline', symbol, interval: '1m', candle: { ...c, openTime: t - (t % 60_000) }, closed: false, time: t };
  }
}

process.on('message', (m: { cmd: string; events?: number }) => {
  if (m.cmd === 'stop') {
    void server.close().then(() => process.exit(0));
    return;
  }
  if (m.cmd !== 'blast') return;
  const total = m.events ?? 0;
  const before = server.stats().framesSent;
  let i = 0;
  const t0 = Date.now();
  const batch = (): void => {
    const end = Math.min(total, i + 500);
    for (; i < end; i++) server.pushMarketData(event(i, names[i % n]!, t0 + i));
    if (i < total) setImmediate(batch);
    else process.send?.({ done: true, framesSent: server.stats().framesSent - before });
  };
  batch();
});
process.send?.({ ready: true, restUrl: server.restUrl, wsUrl: server.wsUrl, symbols: names });
