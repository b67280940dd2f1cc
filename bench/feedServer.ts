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

// Event times never repeat, across blasts too: the client de-duplicates trades by time, price,
// size and side (MEXC's aggregated trades carry no id), so a repeated synthetic trade would be
// dropped rather than handled, and the benchmark would flatter the client.
let clock = Date.now();
/** Per symbol: the kline window being built and its volume so far (klines grow within a window). */
const windows = new Map<SymbolId, { start: number; volume: number }>();

function event(i: number, symbol: SymbolId): MarketDataEvent {
  const c = candles[i % candles.length]!;
  const t = ++clock;
  switch (i % 3) {
    case 0:
      return { type: 'trade', symbol, trade: { time: t, price: c.close, quantity: 0.01 + (i % 7) * 0.001, buyerMaker: i % 2 === 0 } };
    case 1:
      // The bid moves every event, so no book top repeats the one before it.
      return { type: 'book', symbol, book: { time: t, bid: c.close + (i % 97) * 0.01, bidSize: 1.5, ask: c.close + (i % 97) * 0.01 + 0.01, askSize: 2 } };
    default: {
      const start = t - (t % 60_000);
      const w = windows.get(symbol);
      const volume = w && w.start === start ? w.volume + 0.5 : 0.5;
      windows.set(symbol, { start, volume });
      return { type: 'kline', symbol, interval: '1m', candle: { openTime: start, open: c.open, high: c.high, low: c.low, close: c.close, volume }, closed: false, time: t };
    }
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
  const batch = (): void => {
    const end = Math.min(total, i + 500);
    for (; i < end; i++) server.pushMarketData(event(i, names[i % n]!));
    if (i < total) setImmediate(batch);
    else process.send?.({ done: true, framesSent: server.stats().framesSent - before });
  };
  batch();
});
process.send?.({ ready: true, restUrl: server.restUrl, wsUrl: server.wsUrl, symbols: names });
