/**
 * The venue contract against the ccxt MEXC adapter talking to the simulator over loopback: real
 * ccxt, real HTTP with HMAC signatures, real protobuf WebSocket frames. The simulator lists the
 * contract's market (see contract.ts) and its engine receives the pushed book and trades.
 */
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { startSimServer } from '../../services/adapters/mexcSim/server.js';
import { simMarketFromCandles } from '../../services/sim/replay.js';
import { CONTRACT_DEPOSITS, CONTRACT_MARKET, CONTRACT_SYMBOL, venueContract } from './contract.js';

const FIXTURE = 'test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
const candles = loadCandleFile(FIXTURE, { repair: true }).candles.slice(0, 30);

venueContract('ccxt MEXC adapter -> simulator over loopback', async () => {
  const server = await startSimServer({
    markets: [simMarketFromCandles(CONTRACT_SYMBOL, candles, { ...CONTRACT_MARKET, minQuantity: CONTRACT_MARKET.stepSize })],
    accounts: [{ apiKey: 'contract-key', apiSecret: 'contract-secret', deposits: { USDT: CONTRACT_DEPOSITS.USDT, BTC: CONTRACT_DEPOSITS.BTC } }],
  });
  const venue = new CcxtMexcVenue({
    apiKey: 'contract-key',
    secret: 'contract-secret',
    restUrl: server.restUrl,
    wsUrl: server.wsUrl,
    timeoutMs: 3000,
    // ccxt's client-side throttle only slows a loopback test down; SafeExchange does the pacing.
    enableRateLimit: false,
  });
  let clock = Date.now();
  return {
    venue,
    now: () => ++clock,
    push: (e) => {
      server.pushMarketData(e);
      return Promise.resolve();
    },
    close: async () => {
      await venue.close();
      await server.close();
    },
  };
});
