import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataValidationError } from '../../services/core/errors.js';
import { expandDataPaths, loadCandleFile, loadQuotesFile, loadTradesFile, symbolFromPath } from '../../services/adapters/candleFiles.js';
import { detectGaps, inferIntervalMs } from '../../services/candles/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIX = resolve(ROOT, 'test/fixtures');
const BTC = join(FIX, 'candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz');
const PEPE = join(FIX, 'candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz');
const TRADES = join(FIX, 'ticks/BTCUSDT/trades-2021-01-08.csv.gz');
const QUOTES = join(FIX, 'ticks/BTCUSDT/quotes-2021-01-08.csv.gz');

describe('loadCandleFile on the real fixtures', () => {
  it('finds the real exchange gap in the BTCUSDT 2021 slice', () => {
    const { candles, report } = loadCandleFile(BTC);
    // zcat ... | tr -d '\r' | awk -F, 'NR>2 && $1-p!=60000 {print p, $1} NR>1{p=$1}'
    //   -> one jump: 1618883940000 (2021-04-20 01:59Z) to 1618893000000 (04:30Z):
    //      (1618893000000 - 1618883940000) / 60000 - 1 = 151 - 1 = 150 missing bars.
    expect(report.rows).toBe(3000);
    expect(report.candles).toBe(3000);
    expect(report.gaps).toBe(1);
    expect(report.missingBars).toBe(150);
    expect(report.intervalMs).toBe(60_000);
    expect(report.firstOpenTime).toBe(1618783620000); // 2021-04-18T22:07Z
    expect(report.lastOpenTime).toBe(1618972560000); // 2021-04-21T02:36Z
    expect(report.droppedTotal + report.duplicates + report.reordered + report.zeroVolumeBars).toBe(0);
    expect(detectGaps(candles, 60_000)).toEqual([{ from: 1618884000000, to: 1618893000000, missingBars: 150 }]);
    // The first row as it is in the file: 1618783620000,56378.62,56458.25,56373.1,56377.8,45.942988
    expect(candles[0]).toEqual({ openTime: 1618783620000, open: 56378.62, high: 56458.25, low: 56373.1, close: 56377.8, volume: 45.942988 });
  });

  it('counts the zero-volume bars of the PEPEUSDT slice and keeps its tiny prices', () => {
    const { candles, report } = loadCandleFile(PEPE);
    // zcat ... | tr -d '\r' | awk -F, 'NR>1 && $6==0' | wc -l  -> 168
    expect(report.zeroVolumeBars).toBe(168);
    expect(report.rows).toBe(3000);
    expect(report.gaps).toBe(0);
    // Second row of the file: 1779298080000,0.00000375,0.00000375,0.00000375,0.00000375,0
    expect(candles[1]).toEqual({ openTime: 1779298080000, open: 0.00000375, high: 0.00000375, low: 0.00000375, close: 0.00000375, volume: 0 });
  });

  it('loads the bundled samples', () => {
    const doge = loadCandleFile(join(ROOT, 'data/sample/DOGEUSDT/1m-2026-05-20_2026-06-19.csv.gz'));
    // zcat | wc -l = 43149 lines = header + 43148 rows; MEXC data has no gaps.
    expect([doge.report.candles, doge.report.gaps]).toEqual([43148, 0]);
    const pepe = loadCandleFile(join(ROOT, 'data/sample/PEPEUSDT/1m-2026-05-20_2026-06-19.csv.gz'));
    // zcat | tail -n +2 | wc -l = 43009 rows; first row 1779298020000 (2026-05-20T17:27Z); no gaps.
    expect([pepe.report.candles, pepe.report.gaps, pepe.report.firstOpenTime]).toEqual([43009, 0, 1779298020000]);
  });

  it('loads tick files', () => {
    const { trades, report } = loadTradesFile(TRADES);
    expect(report.rows).toBe(2001);
    // Last line: 1610064046355,553289559,39491.76,0.014596,True
    expect(trades[2000]).toEqual({ time: 1610064046355, price: 39491.76, quantity: 0.014596, buyerMaker: true });
    const { quotes } = loadQuotesFile(QUOTES);
    expect(quotes.length).toBe(451);
    // First line: 1610064001076,39432.99,0.0031,39433.62,0.066851
    expect(quotes[0]).toEqual({ time: 1610064001076, bid: 39432.99, bidSize: 0.0031, ask: 39433.62, askSize: 0.066851 });
  });
});

describe('files on disk', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'candles-test-'));
    mkdirSync(join(dir, 'a/ETHUSDT'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    mkdirSync(join(dir, 'empty'), { recursive: true });
    const csv = 'open_time,open,high,low,close,volume\n1616727600000,1,2,0.5,1.5,10\n1616727660000,1.5,2,1,1.2,3\n';
    writeFileSync(join(dir, 'a/ETHUSDT/1m.csv'), csv);
    writeFileSync(join(dir, 'a/ETHUSDT/1m-b.CSV.GZ'), gzipSync(csv));
    writeFileSync(join(dir, 'a/ETHUSDT/notes.txt'), 'not data');
    writeFileSync(join(dir, 'b/SOLUSDT.csv'), csv);
    writeFileSync(join(dir, 'b/broken.csv.gz'), 'plain text with a .gz name');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads plain .csv and gzip files alike', () => {
    const plain = loadCandleFile(join(dir, 'a/ETHUSDT/1m.csv'));
    const gz = loadCandleFile(join(dir, 'a/ETHUSDT/1m-b.CSV.GZ'));
    expect(plain.candles).toEqual(gz.candles);
    expect(plain.candles.length).toBe(2);
    expect(plain.report.source).toBe(join(dir, 'a/ETHUSDT/1m.csv'));
  });

  it('streams tick files: chunks of a few bytes cut lines anywhere and give the same rows, line numbers and refusals', () => {
    const whole = loadTradesFile(TRADES);
    const small = loadTradesFile(TRADES, { chunkBytes: 7 });
    expect(small.trades).toEqual(whole.trades);
    expect(small.report).toEqual(whole.report);
    expect(loadQuotesFile(QUOTES, { chunkBytes: 13 }).quotes).toEqual(loadQuotesFile(QUOTES).quotes);
    // A bad row on line 4 (a header, two rows, a blank line, then the bad one on line 5) is named by
    // its physical line even when the chunk boundaries fall inside it.
    const bad = join(dir, 'ticks-bad-trades.csv');
    writeFileSync(bad, 'timestamp_ms,trade_id,price,quantity,buyer_maker\n1610064000000,1,100,1,True\n1610064000001,2,101,1,False\n\n1610064000002,3,-5,1,True\n');
    for (const chunkBytes of [3, 5, 64, 1 << 20]) expect(() => loadTradesFile(bad, { chunkBytes })).toThrow(`${bad}:5: price -5 is not positive (expected a price > 0)`);
    expect(loadTradesFile(bad, { repair: true, chunkBytes: 4 }).report).toMatchObject({ rows: 3, kept: 2, droppedTotal: 1 });
    // No newline for more than a MiB: no CSV, refused without holding the file as one line.
    const long = join(dir, 'ticks-long-quotes.csv');
    writeFileSync(long, 'x'.repeat((1 << 20) + 10));
    expect(() => loadQuotesFile(long)).toThrow(`${long}:1: a line longer than 1048576 characters`);
  });

  it('names the file in errors', () => {
    expect(() => loadCandleFile(join(dir, 'b/broken.csv.gz'))).toThrow(`${join(dir, 'b/broken.csv.gz')}: not a gzip file`);
    expect(() => loadCandleFile(join(dir, 'b/missing.csv'))).toThrow(`no such file or folder: ${join(dir, 'b/missing.csv')}`);
  });

  it('expands folders recursively into sorted .csv/.csv.gz files', () => {
    expect(expandDataPaths([join(dir, 'b'), join(dir, 'a'), join(dir, 'a/ETHUSDT/1m.csv')])).toEqual([
      join(dir, 'a/ETHUSDT/1m-b.CSV.GZ'),
      join(dir, 'a/ETHUSDT/1m.csv'),
      join(dir, 'b/SOLUSDT.csv'),
      join(dir, 'b/broken.csv.gz'),
    ]);
    expect(expandDataPaths([join(FIX, 'ticks/BTCUSDT'), join(FIX, 'candles/PEPEUSDT'), join(FIX, 'candles/BTCUSDT')])).toEqual([BTC, PEPE, QUOTES, TRADES]);
  });

  it('throws for a missing path, a non-data file and a folder without data', () => {
    const missing = join(dir, 'nope');
    expect(() => expandDataPaths([missing])).toThrow(DataValidationError);
    expect(() => expandDataPaths([missing])).toThrow(new DataValidationError(`no such file or folder: ${missing}`));
    expect(() => expandDataPaths([join(dir, 'a/ETHUSDT/notes.txt')])).toThrow('not a data file (expected a .csv or .csv.gz file)');
    expect(() => expandDataPaths([join(dir, 'empty')])).toThrow('no .csv or .csv.gz files in this folder or below');
  });
});

describe('symbolFromPath', () => {
  const cases: Array<[string, string]> = [
    ['test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', 'BTCUSDT'],
    ['/work/shared/data/candles/mexc-spot/PEPEUSDT/1m-2026-05-20_2026-06-19.csv.gz', 'PEPEUSDT'],
    ['data/ethusdt-1m.csv', 'ETHUSDT'], // lower case, in the file name
    ['data/DOGEUSDT/PEPEUSDT_1m.csv.gz', 'PEPEUSDT'], // the file name wins over the folder
    ['C:\\data\\SOLUSDC\\candles.csv', 'SOLUSDC'], // Windows separators
    ['data/ETHBTC.csv', 'ETHBTC'],
    ['data/1000PEPEUSDT/x.csv', '1000PEPEUSDT'],
  ];
  for (const [path, symbol] of cases) {
    it(`${path} -> ${symbol}`, () => expect(symbolFromPath(path)).toBe(symbol));
  }

  it('throws a clear error when no segment is a symbol', () => {
    for (const path of ['data/1m-2021-03-26.csv', 'USDT/x.csv', 'binance-spot/candles.csv.gz']) {
      expect(() => symbolFromPath(path)).toThrow(DataValidationError);
      expect(() => symbolFromPath(path)).toThrow(`cannot tell the symbol from path "${path}"`);
    }
  });
});

describe('detectGaps and inferIntervalMs', () => {
  const c = (minute: number) => ({ openTime: minute * 60_000, open: 1, high: 1, low: 1, close: 1, volume: 1 });
  it('reports each gap as [from, to) with its missing bars', () => {
    // minutes 0 1 2 | 3 4 missing | 5 | 6..9 missing | 10
    const series = [c(0), c(1), c(2), c(5), c(10)];
    expect(detectGaps(series, 60_000)).toEqual([
      { from: 3 * 60_000, to: 5 * 60_000, missingBars: 2 },
      { from: 6 * 60_000, to: 10 * 60_000, missingBars: 4 },
    ]);
    // steps 1, 1, 3, 5 minutes: the most frequent is 1 minute.
    expect(inferIntervalMs(series)).toBe(60_000);
    expect(inferIntervalMs([c(0)])).toBeNull();
    expect(() => detectGaps(series, 0)).toThrow(RangeError);
  });

  it('infers the interval of a 5m series with gaps (ties go to the shorter step)', () => {
    // steps 5, 5, 10, 10 minutes: tie between 5 and 10 -> 5 minutes.
    expect(inferIntervalMs([c(0), c(5), c(10), c(20), c(30)])).toBe(300_000);
  });
});
