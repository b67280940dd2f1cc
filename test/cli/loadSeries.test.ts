/** `--data SYMBOL=path`: an explicit symbol for files whose path does not name one. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSeries } from '../../cli/loadSeries.js';
import { DataValidationError } from '../../services/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'load-series-'));
const file = join(dir, 'candles.csv');
writeFileSync(file, ['open_time,open,high,low,close,volume', '1699999980000,1,2,0.5,1.5,10', '1700000040000,1.5,2,1,1.2,5'].join('\n'));

describe('loadSeries with explicit symbols', () => {
  it('takes the symbol from SYMBOL=path when the path names none', () => {
    expect(() => loadSeries([file])).toThrow(/cannot tell the symbol/);
    const loaded = loadSeries([`dogeusdt=${file}`]);
    expect(loaded.series.map((s) => [s.symbol, s.candles.length])).toEqual([['DOGEUSDT', 2]]);
  });

  it('a SYMBOL=path whose path does not exist names the path', () => {
    expect(() => loadSeries([`DOGEUSDT=${join(dir, 'missing.csv')}`])).toThrow(DataValidationError);
    expect(() => loadSeries([`DOGEUSDT=${join(dir, 'missing.csv')}`])).toThrow(/no such file or folder: .*missing\.csv/);
  });
});
