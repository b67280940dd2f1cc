/** The ccxt price reference against a simulator over loopback: public data only, every failure a kind. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { CcxtPriceReference, priceReferenceSourceProblem } from '../../services/adapters/priceReference/ccxtPriceReference.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { PriceReferenceError } from '../../services/live/priceCheck.js';
import { simMarketFromCandles } from '../../services/sim/replay.js';

const BTC = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;

describe('CcxtPriceReference', () => {
  let server: SimServer;
  beforeAll(async () => {
    server = await startSimServer({ markets: [simMarketFromCandles(BTC, candles)], accounts: [{ apiKey: 'k', apiSecret: 's', deposits: { USDT: Dec.from(1) } }] });
    server.pushMarketData({ type: 'trade', symbol: BTC, trade: { time: 1_700_000_000_000, price: 56_123.45, quantity: 0.1, buyerMaker: false } });
  });
  afterAll(() => server?.close());

  it('gives the venue’s last price for the symbol’s BASE/QUOTE market', async () => {
    const ref = new CcxtPriceReference({ source: server.restUrl, timeoutMs: 2000 });
    try {
      const q = await ref.quote(BTC);
      expect(q.market).toBe('BTC/USDT');
      expect(q.price).toBe(56_123.45);
      expect(ref.name).toBe(`sim ${server.restUrl}`);
    } finally {
      await ref.close();
    }
  });

  it('a symbol the venue does not list is not_listed; a venue that does not answer is unreachable', async () => {
    const ref = new CcxtPriceReference({ source: server.restUrl, timeoutMs: 2000 });
    const err = await ref.quote(symbolId('PEPEUSDT')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PriceReferenceError);
    expect((err as PriceReferenceError).kind).toBe('not_listed');
    expect((err as PriceReferenceError).message).toBe(`sim ${server.restUrl} lists no PEPE/USDT or PEPE/USD`);
    await ref.close();
    const dead = new CcxtPriceReference({ source: 'http://127.0.0.1:9', timeoutMs: 500 });
    const e2 = await dead.quote(BTC).catch((e: unknown) => e);
    expect((e2 as PriceReferenceError).kind).toBe('unreachable');
    expect((e2 as PriceReferenceError).name).toBe('PriceReferenceError');
  });

  it('accepts a ccxt exchange id or a URL, and names anything else', () => {
    expect(priceReferenceSourceProblem('kraken')).toBeUndefined();
    expect(priceReferenceSourceProblem('http://127.0.0.1:1234')).toBeUndefined();
    expect(priceReferenceSourceProblem('krakken')).toBe('"krakken" is neither a ccxt exchange id (such as kraken) nor an http(s) URL of a MEXC-compatible server');
    expect(() => new CcxtPriceReference({ source: 'krakken', timeoutMs: 1000 })).toThrow(PriceReferenceError);
  });
});
