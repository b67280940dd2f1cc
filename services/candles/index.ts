/** The candles module: CSV parsing and validation, gap detection, candle and trade aggregation. */
export * from './candleCsv.js';
export * from './candleAggregator.js';
export * from './gaps.js';
export * from './tickCsv.js';
export * from './tradeAggregator.js';
export { parseTimestamp, parseIsoUtc, strictNumber } from './csvReader.js';
