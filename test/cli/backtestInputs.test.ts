/**
 * The backtest's inputs as an adversary sends them (issue 15, defect 7): files too large for one
 * string (streamed: checked on chunk boundaries, not with 512 MB), FIFOs, unreadable folders,
 * `--out` naming a file, rows at 1e308, a 1e-30 balance, a config file with a BOM, and a stray row
 * decades from the rest. Expected values come from the generated data, not from the parser.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../cli/args.js';
import { backtestCommand, runAndWrite } from '../../cli/backtest.js';
import { loadSeries } from '../../cli/loadSeries.js';
import { expandDataPaths, loadCandleFile } from '../../services/adapters/candleFiles.js';
import { CandleCsvParser, MAX_LINE_CHARS } from '../../services/candles/candleCsv.js';
import { parseConfig } from '../../services/config/schema.js';
import { ConfigError, DataValidationError } from '../../services/core/errors.js';
import { REPO_ROOT } from '../../lib/paths.js';

const T0 = Date.UTC(2025, 2, 4);
const MIN = 60_000;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bt-inputs-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** n candles from T0, each a function of its index (so the expected values are known here). */
function rows(n: number, from = T0): { csv: string[]; expected: { openTime: number; close: number }[] } {
  const csv: string[] = [];
  const expected: { openTime: number; close: number }[] = [];
  for (let i = 0; i < n; i++) {
    const base = 100 + (i % 50) / 10;
    const t = from + i * MIN;
    csv.push(`${t},${base},${base + 0.5},${base - 0.5},${base + 0.1},${(i % 7) + 1}`);
    expected.push({ openTime: t, close: Number((base + 0.1).toFixed(10)) });
  }
  return { csv, expected };
}

describe('streaming the candle files', () => {
  const { csv, expected } = rows(2000);
  // BOM, CRLF line ends and blank lines: each can fall on a chunk boundary.
  const text = '\ufeffopen_time,open,high,low,close,volume\r\n' + csv.map((l, i) => (i % 97 === 0 ? `${l}\r\n\r\n` : `${l}\r\n`)).join('');

  it.each([1, 2, 3, 7, 64, 4096])('gives the same candles whatever the read size (%i bytes), plain and gzip', (chunkBytes) => {
    const plain = join(dir, `BTCUSDT-${chunkBytes}.csv`);
    writeFileSync(plain, text);
    const gz = join(dir, `BTCUSDT-${chunkBytes}.csv.gz`);
    writeFileSync(gz, gzipSync(Buffer.from(text)));
    for (const f of [plain, gz]) {
      const r = loadCandleFile(f, { repair: false, chunkBytes });
      expect(r.candles.map((c) => ({ openTime: c.openTime, close: Number(c.close.toFixed(10)) }))).toEqual(expected);
      expect(r.report.rows).toBe(2000);
    }
  });

  it('never hands the parser more than one read at a time (no whole-file string)', () => {
    const big = rows(60_000);
    const f = join(dir, 'ETHUSDT-big.csv');
    writeFileSync(f, 'open_time,open,high,low,close,volume\n' + big.csv.join('\n') + '\n');
    const spy = vi.spyOn(CandleCsvParser.prototype, 'push');
    try {
      const r = loadCandleFile(f, { chunkBytes: 64 * 1024 });
      expect(r.candles).toHaveLength(60_000);
      const sizes = spy.mock.calls.map((c) => c[0].length);
      expect(sizes.length).toBeGreaterThan(20);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a line longer than the bound instead of growing a string without end', () => {
    const p = new CandleCsvParser({ source: 'x.csv' });
    p.push('open_time,open,high,low,close,volume\n');
    expect(() => {
      for (let i = 0; i < 20; i++) p.push('9'.repeat(MAX_LINE_CHARS / 16));
    }).toThrow(/a line longer than 1048576 characters/);
  });
});

describe('paths that are not candle files', () => {
  it('a FIFO as --data is refused at once (it used to hang), alone or inside a folder', () => {
    const sub = join(dir, 'fifo', 'DOGEUSDT');
    mkdirSync(sub, { recursive: true });
    const fifo = join(sub, '1m.csv');
    execFileSync('mkfifo', [fifo]);
    expect(() => expandDataPaths([fifo])).toThrow(/a FIFO, not a regular file; refusing to read it/);
    expect(() => loadSeries([join(dir, 'fifo')])).toThrow(DataValidationError);
    expect(() => loadCandleFile(fifo)).toThrow(/a FIFO, not a regular file/);
  });

  it('an unreadable folder gives one error line, not a stack (run as an unprivileged user when root)', () => {
    const locked = join(dir, 'locked');
    mkdirSync(join(locked, 'BTCUSDT'), { recursive: true });
    chmodSync(locked, 0o000);
    try {
      const args = ['--import', 'tsx', 'bin/backtest.ts', '--data', locked, '--out', join(tmpdir(), `bt-out-${process.pid}`), '--quiet'];
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      chmodSync(dir, 0o755);
      const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: '/tmp' }, ...asNobody });
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: .*locked: cannot read this folder \(EACCES\)$/);
    } finally {
      chmodSync(locked, 0o755);
    }
  }, 60_000);

  it('--out naming a file fails before anything is loaded or run', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const err: string[] = [];
    await expect(backtestCommand(['--data', 'test/fixtures/candles/BTCUSDT', '--out', file, '--quiet'], { log: () => undefined, err: (l) => err.push(l) })).rejects.toThrow(
      /--out .*not-a-folder is a file, or lies under one/,
    );
    expect(err.filter((l) => l.startsWith('loaded'))).toEqual([]);
    await expect(backtestCommand(['--data', 'test/fixtures/candles/BTCUSDT', '--out', join(file, 'sub'), '--quiet'], { log: () => undefined, err: () => undefined })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('values and configs', () => {
  const fixture = () => readFileSync('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz');

  it('ten rows at 1e308 are dropped and counted, and the run completes', async () => {
    const plain = execFileSync('gzip', ['-dc'], { input: fixture() }).toString();
    const lines = plain.trimEnd().split('\n');
    const t = Number(lines[lines.length - 1]!.split(',')[0]);
    const extra = Array.from({ length: 10 }, (_, i) => `${t + (i + 1) * MIN},1e308,1e308,1e308,1e308,1`);
    const data = join(dir, 'huge', 'BTCUSDT');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, '1m.csv'), [...lines, ...extra].join('\n') + '\n');
    const run = await runAndWrite({ data: [data], outDir: join(dir, 'huge-out'), config: parseConfig({}), only: [], log: false, quiet: true }, { log: () => undefined, err: () => undefined });
    const q = run.summary.dataQuality as Record<string, Record<string, number>>;
    expect(Object.values(q)[0]!['dropped outOfRange']).toBe(10);
    expect(run.result.candles).toBe(lines.length - 1);
  }, 60_000);

  it('a stray row decades away is quarantined and counted, and changes nothing in the result', async () => {
    const plain = execFileSync('gzip', ['-dc'], { input: fixture() }).toString().trimEnd();
    const clean = join(dir, 'clean', 'BTCUSDT');
    const stray = join(dir, 'stray', 'BTCUSDT');
    mkdirSync(clean, { recursive: true });
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(clean, '1m.csv'), plain + '\n');
    // One row in 1995, a quarter of a century before the rest.
    writeFileSync(join(stray, '1m.csv'), plain + `\n${Date.UTC(1995, 0, 1)},50000,50010,49990,50005,3\n`);
    const io = { log: () => undefined, err: () => undefined };
    const a = await runAndWrite({ data: [clean], outDir: join(dir, 'clean-out'), config: parseConfig({}), only: [], log: false, quiet: true }, io);
    const b = await runAndWrite({ data: [stray], outDir: join(dir, 'stray-out'), config: parseConfig({}), only: [], log: false, quiet: true }, io);
    expect(Object.values(b.summary.dataQuality as Record<string, Record<string, number>>)[0]!['dropped strayTime']).toBe(1);
    expect(b.summary.netPnl).toBe(a.summary.netPnl);
    expect(b.summary.start).toBe(a.summary.start);
    expect(b.result.candles).toBe(a.result.candles);
    // Strict parsing refuses it outright.
    expect(() => loadCandleFile(join(stray, '1m.csv'))).toThrow(/1 row\(s\) lie more than 30 days from the rest of the file, the first at 1995-01-01T00:00:00.000Z/);
  }, 60_000);

  it('an initial balance of 1e-30 (or 1e300) fails validation, naming the field', () => {
    for (const v of [1e-30, 1e300]) {
      let e: unknown;
      try {
        parseConfig({ backtest: { initialBalance: v } });
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain('backtest.initialBalance');
    }
    expect(parseConfig({ backtest: { initialBalance: 10 } }).backtest.initialBalance).toBe(10);
  });

  it('a config file with a UTF-8 byte-order mark is accepted', () => {
    const f = join(dir, 'bom.json');
    writeFileSync(f, '\ufeff{"mode": "hf"}\n');
    expect(loadConfig(f, {}).mode).toBe('hf');
  });
});
