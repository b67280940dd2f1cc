/**
 * The backtest CLI on bad input, run for real as a child process (`node --import tsx
 * bin/backtest.ts`): a known problem exits non-zero with ONE line on stderr, `error: ...`, that
 * names the problem and shows no stack trace; bad flags print the usage and exit 2; repairable
 * data (bad rows, unsorted rows, off-grid candles) runs and is counted in summary.json.
 *
 * Files are tiny (a few dozen candles) so each run takes well under a second.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HEADER = 'open_time,open,high,low,close,volume';
/** 2025-03-04T00:00:00Z, a whole minute. */
const T0 = Date.UTC(2025, 2, 4);
const MIN = 60_000;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'backtest-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` from the repository root. */
function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/backtest.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes `text` to `name` in the temp dir (creating folders) and returns the full path. */
function file(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

/** A valid 1m candle row at minute `i` after T0: open 100, high 101, low 99, close 100.5, volume 10. */
function row(i: number, t = T0 + i * MIN): string {
  return `${t},100,101,99,100.5,10`;
}

/** `n` valid rows, minutes 0..n-1. */
function rows(n: number): string[] {
  return Array.from({ length: n }, (_, i) => row(i));
}

/** Asserts a clean failure: exit 1, stderr one line `error: ...` matching `what`, no stack trace. */
function expectOneLineError(r: Run, what: RegExp): void {
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(what);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

/** Runs the CLI on `data` into a fresh out folder; expects success and returns summary.json. */
function runOk(data: string, ...extra: string[]): { summary: Record<string, unknown>; quality: Record<string, Record<string, unknown>> } {
  const out = mkdtempSync(join(dir, 'out-'));
  const r = cli('--data', data, '--out', out, '--quiet', ...extra);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.status).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
  return { summary, quality: summary.dataQuality as Record<string, Record<string, unknown>> };
}

describe('backtest CLI: unusable data fails with one clear line', () => {
  it('a missing path', () => {
    const p = join(dir, 'nowhere', 'BTCUSDT-1m.csv');
    expectOneLineError(cli('--data', p, '--out', join(dir, 'o')), /no such file or folder: .*nowhere/);
  });

  it('an empty file', () => {
    expectOneLineError(cli('--data', file('empty/BTCUSDT-1m.csv', ''), '--out', join(dir, 'o')), /BTCUSDT-1m\.csv: no data rows/);
  });

  it('a file with only a header', () => {
    expectOneLineError(cli('--data', file('hdr/BTCUSDT-1m.csv', HEADER + '\n'), '--out', join(dir, 'o')), /no data rows after the header/);
  });

  it('a file whose every row is NaN', () => {
    const p = file('nan/BTCUSDT-1m.csv', [HEADER, `${T0},NaN,101,99,100,1`, `${T0 + MIN},100,NaN,99,100,1`, `${T0 + 2 * MIN},100,101,99,100,NaN`].join('\n'));
    // 3 rows, all dropped as non-numeric
    expectOneLineError(cli('--data', p, '--out', join(dir, 'o')), /no valid candles: all 3 data rows were dropped \(nonNumeric 3\)/);
  });

  it('a file whose every row has high below low', () => {
    const p = file('hl/BTCUSDT-1m.csv', [HEADER, `${T0},100,98,99,100,1`, `${T0 + MIN},100,97,101,100,1`].join('\n'));
    expectOneLineError(cli('--data', p, '--out', join(dir, 'o')), /all 2 data rows were dropped \(highBelowLow 2\)/);
  });

  it('a path with no symbol in it', () => {
    const p = file('plain/candles.csv', [HEADER, ...rows(5)].join('\n'));
    expectOneLineError(cli('--data', p, '--out', join(dir, 'o')), /cannot tell the symbol from path .*candles\.csv/);
  });

  it('a folder with no candle files', () => {
    mkdirSync(join(dir, 'nothing-here'), { recursive: true });
    writeFileSync(join(dir, 'nothing-here', 'notes.txt'), 'x');
    expectOneLineError(cli('--data', join(dir, 'nothing-here'), '--out', join(dir, 'o')), /no \.csv or \.csv\.gz files/);
  });

  it('a .gz name on a file that is not gzip', () => {
    const p = file('gz/BTCUSDT-1m.csv.gz', [HEADER, ...rows(3)].join('\n'));
    expectOneLineError(cli('--data', p, '--out', join(dir, 'o')), /not a gzip file/);
  });

  it('a 1m file whose every candle is off the minute grid', () => {
    const p = file('allgrid/BTCUSDT-1m.csv', [HEADER, row(0, T0 + 30_000), row(1, T0 + MIN + 30_000)].join('\n'));
    expectOneLineError(cli('--data', p, '--out', join(dir, 'o')), /no candle on the 1m grid: all 2 open times/);
  });
});

describe('backtest CLI: repair mode drops and counts bad rows', () => {
  it('counts each kind of malformed row in summary.json dataQuality', () => {
    const bad = [
      `${T0 + 40 * MIN},100,101,99`, // columnCount
      'yesterday,100,101,99,100,1', // badTime
      `${T0 + 41 * MIN},NaN,101,99,100,1`, // nonNumeric
      `${T0 + 42 * MIN},100,101,99,100,abc`, // nonNumeric
      `${T0 + 43 * MIN},100,101,99,100,-1`, // negative
      `${T0 + 44 * MIN},0,101,99,100,1`, // zeroPrice
      `${T0 + 45 * MIN},100,98,99,100,1`, // highBelowLow
      `${T0 + 46 * MIN},100,100.2,99,100.5,1`, // highBelowOpenClose (close 100.5 > high)
      `${T0 + 47 * MIN},100,101,100.2,100.5,1`, // lowAboveOpenClose (open 100 < low)
      `${T0 + 48 * MIN},Infinity,101,99,100,1`, // nonNumeric
    ];
    const p = file('malformed/BTCUSDT-1m.csv', [HEADER, ...rows(30), ...bad].join('\n'));
    const { summary, quality } = runOk(p);
    // 30 good rows + 10 bad rows = 40 rows; 30 candles kept
    expect(quality[`BTCUSDT ${basename(p)}`]).toMatchObject({
      symbol: 'BTCUSDT',
      rows: 40,
      candles: 30,
      'dropped columnCount': 1,
      'dropped badTime': 1,
      'dropped nonNumeric': 3,
      'dropped negative': 1,
      'dropped zeroPrice': 1,
      'dropped highBelowLow': 1,
      'dropped highBelowOpenClose': 1,
      'dropped lowAboveOpenClose': 1,
      offGrid: 0,
      duplicates: 0,
      reordered: 0,
      gaps: 0,
    });
    expect(summary.candles).toBe(30);
  });

  it('sorts unsorted rows and counts them as reordered; drops and counts duplicates', () => {
    // file order: minutes 0..9, 12, 10, 11, 13..29, then minute 5 again.
    // 10 and 11 come after 12 -> reordered 2; the second minute 5 -> duplicate 1 (also after a later time: reordered 3)
    const order = [...Array.from({ length: 10 }, (_, i) => i), 12, 10, 11, ...Array.from({ length: 17 }, (_, i) => 13 + i), 5];
    const p = file('unsorted/BTCUSDT-1m.csv', [HEADER, ...order.map((i) => row(i))].join('\n'));
    const { summary, quality } = runOk(p);
    expect(quality[`BTCUSDT ${basename(p)}`]).toMatchObject({ rows: 31, candles: 30, reordered: 3, duplicates: 1, gaps: 0, missingBars: 0 });
    expect(summary.candles).toBe(30);
    // sorted: the run starts at minute 0's open and ends at minute 29's close (minute 30)
    expect(summary.start).toBe(new Date(T0).toISOString());
    expect(summary.end).toBe(new Date(T0 + 30 * MIN).toISOString());
  });

  it('drops candles off the minute grid (03:00:30 in a 1m file) and counts them as offGrid', () => {
    // minutes 0..29 with minute 10 replaced by 00:10:30 -> 29 candles kept, one missing bar at 00:10
    const lines = rows(30);
    lines[10] = row(10, T0 + 10 * MIN + 30_000);
    const p = file('offgrid/BTCUSDT-1m.csv', [HEADER, ...lines].join('\n'));
    const { summary, quality } = runOk(p);
    expect(quality[`BTCUSDT ${basename(p)}`]).toMatchObject({ rows: 30, candles: 29, offGrid: 1, gaps: 1, missingBars: 1 });
    expect(summary.candles).toBe(29);
  });
});

describe('backtest CLI: bad flags and config', () => {
  const good = (): string => file('good/BTCUSDT-1m.csv', [HEADER, ...rows(20)].join('\n'));

  it('--help prints the usage and exits 0', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run backtest -- --data/);
    expect(r.stdout).toMatch(/--mode +standard/);
    expect(r.stderr).toBe('');
  });

  it('an unknown flag prints the error and the usage, exit 2', () => {
    const r = cli('--data', good(), '--out', join(dir, 'o'), '--bogus');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: .*--bogus/);
    expect(r.stderr).toMatch(/usage: npm run backtest/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a missing --out or --data is a usage error, exit 2', () => {
    const noOut = cli('--data', good());
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/^error: --out is required/);
    const noData = cli('--out', join(dir, 'o'));
    expect(noData.status).toBe(2);
    expect(noData.stderr).toMatch(/^error: --data is required/);
  });

  it('a bad --mode names the field and the valid modes', () => {
    expectOneLineError(cli('--data', good(), '--out', join(dir, 'o'), '--mode', 'turbo'), /mode: .*"standard"\|"hf"/);
  });

  it('a bad --profile names risk.profile', () => {
    expectOneLineError(cli('--data', good(), '--out', join(dir, 'o'), '--profile', 'yolo'), /risk\.profile: .*conservative/);
  });

  it('a config file with a bad field names the field and the file', () => {
    const cfg = file('bad-field.json', JSON.stringify({ backtest: { takerFeePct: 5 } }));
    expectOneLineError(cli('--data', good(), '--out', join(dir, 'o'), '--config', cfg), /bad-field\.json.*backtest\.takerFeePct: .*<=1/);
  });

  it('a config file with a misspelt key names the key', () => {
    const cfg = file('typo.json', JSON.stringify({ entry: { proximty: 0.3 } }));
    expectOneLineError(cli('--data', good(), '--out', join(dir, 'o'), '--config', cfg), /entry\.proximty: unknown key/);
  });

  it('a config file that is not JSON', () => {
    const cfg = file('broken.json', '{ mode: standard');
    expectOneLineError(cli('--data', good(), '--out', join(dir, 'o'), '--config', cfg), /config file .*broken\.json is not valid JSON/);
  });

  it('a config file that is JSON but not an object', () => {
    const cfg = file('array.json', '[1, 2]');
    expectOneLineError(cli('--data', good(), '--out', join(dir, 'o'), '--config', cfg), /array\.json .*expected a JSON object/);
  });

  it('a missing config file', () => {
    expectOneLineError(cli('--data', good(), '--out', join(dir, 'o'), '--config', join(dir, 'absent.json')), /cannot read config file .*absent\.json/);
  });
});
