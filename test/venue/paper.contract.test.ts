/**
 * The venue contract against the in-process paper venue: the matching engine behind PaperVenue,
 * public data from a replay of the real BTCUSDT fixture (advanced a few minutes so tickers and
 * klines exist), and the contract's own book and trades pushed straight into the engine.
 */
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { SimMatchingEngine, DEFAULT_ENGINE_OPTIONS } from '../../services/sim/matchingEngine.js';
import { PaperVenue } from '../../services/paper/paperVenue.js';
import { ReplayMarketData } from '../../services/paper/publicData.js';
import { CONTRACT_DEPOSITS, CONTRACT_MARKET, CONTRACT_SYMBOL, venueContract } from './contract.js';

const FIXTURE = 'test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
const candles = loadCandleFile(FIXTURE, { repair: true }).candles.slice(0, 30);

venueContract('paper venue (in-process matching engine)', () => {
  const publicData = new ReplayMarketData([{ symbol: CONTRACT_SYMBOL, candles }], {
    markets: { [CONTRACT_SYMBOL]: { ...CONTRACT_MARKET, minQuantity: CONTRACT_MARKET.stepSize } },
  });
  publicData.advanceTo((candles[5]?.openTime ?? 0) + 60_000);
  let clock = publicData.time ?? 0;
  const engine = new SimMatchingEngine(DEFAULT_ENGINE_OPTIONS);
  const venue = new PaperVenue({ publicData, engine, deposits: { USDT: CONTRACT_DEPOSITS.USDT, BTC: CONTRACT_DEPOSITS.BTC }, now: () => clock });
  return Promise.resolve({
    venue,
    now: () => ++clock,
    push: (e) => {
      engine.onMarketData(e);
      return Promise.resolve();
    },
    close: () => venue.close(),
  });
});

