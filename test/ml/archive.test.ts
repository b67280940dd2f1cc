/**
 * The candle archive and its object stores. One contract suite runs against both stores: the
 * local folder and S3 (the AWS SDK client mocked with aws-sdk-client-mock, backed by a Map, so the
 * adapter's real request/response handling runs, including paging and NoSuchKey).
 * Then the archive on top: keys, idempotent writes, closed candles only, conflicts kept as
 * stored, range reads; and `npm run backfill` twice over the real fixtures (second run writes nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { archiveKey, backfillFromVenue, CandleArchive, utcDay, type ObjectStore } from '../../services/ml/archive.js';
import { backfillCommand } from '../../cli/backfill.js';
import { loadSeries } from '../../cli/loadSeries.js';
import type { Candle, SymbolId } from '../../services/core/types.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ml-archive-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An S3 client whose bucket is a Map; ListObjectsV2 pages 2 keys at a time to exercise paging. */
function mockedS3(): { client: S3Client; objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const mock = mockClient(client);
  mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array }) => {
    objects.set(input.Key, new Uint8Array(input.Body));
    return {};
  });
  mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const b = objects.get(input.Key);
    if (!b) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
    // The SDK's streaming body as the adapter uses it (transformToByteArray).
    return { Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(b)) } as never };
  });
  mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string; ContinuationToken?: string }) => {
    const keys = [...objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
    const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = keys.slice(start, start + 2);
    const more = start + 2 < keys.length;
    return { Contents: page.map((Key) => ({ Key })), IsTruncated: more, ...(more ? { NextContinuationToken: String(start + 2) } : {}) };
  });
  return { client, objects };
}

const stores: [string, () => ObjectStore][] = [
  ['local folder', () => new LocalFolderStore(tmp())],
  ['S3 (mocked client)', () => new S3ObjectStore(mockedS3().client, 'bucket', 'data/')],
];

describe.each(stores)('object store contract: %s', (_name, make) => {
  it('get of a missing key is null; put then get returns the bytes; put replaces', async () => {
    const s = make();
    expect(await s.get('a/b.csv')).toBeNull();
    await s.put('a/b.csv', new TextEncoder().encode('one'));
    expect(new TextDecoder().decode((await s.get('a/b.csv')))).toBe('one');
    await s.put('a/b.csv', new TextEncoder().encode('two'));
    expect(new TextDecoder().decode((await s.get('a/b.csv')))).toBe('two');
  });

  it('list returns the keys under a prefix, sorted, across pages', async () => {
    const s = make();
    for (const k of ['candles/B/2.csv', 'candles/A/1.csv', 'candles/A/2.csv', 'models/x.json', 'candles/A/3.csv']) await s.put(k, new Uint8Array([1]));
    expect(await s.list('candles/A/')).toEqual(['candles/A/1.csv', 'candles/A/2.csv', 'candles/A/3.csv']);
    expect(await s.list('candles/')).toHaveLength(4);
    expect(await s.list('nothing/')).toEqual([]);
  });
});

const T = Date.UTC(2025, 0, 1, 23, 58);
const c = (i: number, close: number): Candle => ({ openTime: T + i * 60_000, open: close, high: close * 1.01, low: close * 0.99, close, volume: 0.123456789 });

describe.each(stores)('candle archive over %s', (_name, make) => {
  it('writes per UTC day under candles/<SYMBOL>/<YYYY-MM-DD>.csv and reads back the exact numbers', async () => {
    const store = make();
    const a = new CandleArchive(store);
    const candles = [c(0, 100.1), c(1, 100.2), c(2, 100.3), c(3, 0.000012345)];
    const r = await a.write('BTCUSDT', candles, T + 10 * 60_000);
    expect(r).toMatchObject({ daysWritten: 2, daysUnchanged: 0, candlesAdded: 4, conflicts: 0, skippedOpen: 0 });
    expect(await store.list('candles/')).toEqual(['candles/BTCUSDT/2025-01-01.csv', 'candles/BTCUSDT/2025-01-02.csv']);
    expect(await a.readDay('BTCUSDT', '2025-01-01')).toEqual(candles.slice(0, 2));
    expect(await a.read('BTCUSDT', T, T + 4 * 60_000)).toEqual(candles);
    expect(await a.read('BTCUSDT', T + 60_000, T + 3 * 60_000)).toEqual(candles.slice(1, 3));
    expect(await a.symbols()).toEqual(['BTCUSDT']);
    expect(await a.days('BTCUSDT')).toEqual(['2025-01-01', '2025-01-02']);
  });

  it('is idempotent, merges new candles, keeps the stored copy on conflict, skips unclosed candles', async () => {
    const a = new CandleArchive(make());
    await a.write('ETHUSDT', [c(0, 1), c(1, 2)], T + 3600_000);
    const again = await a.write('ETHUSDT', [c(1, 2), c(0, 1)], T + 3600_000);
    expect(again).toMatchObject({ daysWritten: 0, daysUnchanged: 1, candlesAdded: 0 });
    const more = await a.write('ETHUSDT', [c(1, 9), c(2, 3), c(3, 4)], T + 3 * 60_000);
    // c(1, 9) conflicts with the stored c(1, 2); c(3) closes at T + 4 min, after now.
    expect(more).toMatchObject({ conflicts: 1, skippedOpen: 1, candlesAdded: 1, daysWritten: 1 });
    expect((await a.read('ETHUSDT', T, T + 86_400_000)).map((x) => x.close)).toEqual([1, 2, 3]);
  });
});

describe('keys', () => {
  it('names the UTC day and rejects bad symbols, days, keys and candles', async () => {
    expect(utcDay(Date.UTC(2025, 0, 1, 23, 59, 59, 999))).toBe('2025-01-01');
    expect(utcDay(Date.UTC(2025, 0, 2))).toBe('2025-01-02');
    expect(archiveKey('PEPEUSDT', '2026-05-20')).toBe('candles/PEPEUSDT/2026-05-20.csv');
    expect(() => archiveKey('../x', '2026-05-20')).toThrow(/symbol/);
    expect(() => archiveKey('BTCUSDT', '2026-5-20')).toThrow(/day/);
    await expect(new LocalFolderStore(tmp()).get('../etc/passwd')).rejects.toThrow(/relative/);
    const a = new CandleArchive(new LocalFolderStore(tmp()));
    await expect(a.write('BTCUSDT', [{ ...c(0, 100), low: 101 }], T + 3600_000)).rejects.toThrow(/invalid candle/);
  });
});

describe('npm run backfill', () => {
  const FIXTURES = fileURLToPath(new URL('../fixtures/candles', import.meta.url));
  let out: string;
  beforeAll(() => {
    out = tmp();
  });

  it('fills the archive from the real fixture files, then writes nothing on a second run', async () => {
    const lines: string[] = [];
    const io = { log: (s: string) => lines.push(s), err: () => undefined };
    const first = await backfillCommand(['--from', FIXTURES, '--out', out, '--quiet'], io);
    const src = loadSeries([FIXTURES]).series;
    for (const s of src) {
      expect(first[s.symbol]!.candlesAdded).toBe(s.candles.length);
      const days = new Set(s.candles.map((k) => utcDay(k.openTime)));
      expect(readdirSync(join(out, 'candles', s.symbol)).sort()).toEqual([...days].sort().map((d) => `${d}.csv`));
      // Read back through the loader the backtester and trainer use: the same candles.
      expect(loadSeries([join(out, 'candles', s.symbol)]).series[0]!.candles).toEqual(s.candles);
    }
    const file = join(out, 'candles', 'BTCUSDT', readdirSync(join(out, 'candles', 'BTCUSDT'))[0]!);
    const mtime = statSync(file).mtimeMs;
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('open_time,open,high,low,close,volume');
    const second = await backfillCommand(['--from', FIXTURES, '--out', out, '--quiet'], io);
    for (const s of src) expect(second[s.symbol]).toMatchObject({ daysWritten: 0, candlesAdded: 0, conflicts: 0 });
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(lines.some((l) => l.includes('BTCUSDT: 3000 candles'))).toBe(true);
  });

  it('requires --from and --out', async () => {
    const io = { log: () => undefined, err: () => undefined };
    await expect(backfillCommand(['--out', out], io)).rejects.toThrow(/--from is required/);
    await expect(backfillCommand(['--from', FIXTURES], io)).rejects.toThrow(/--out is required/);
  });
});

describe('backfill from the venue (klines)', () => {
  it('pages through fetchKlines into the archive, skips the forming candle, and is idempotent', async () => {
    const FIXTURES = fileURLToPath(new URL('../fixtures/candles/PEPEUSDT', import.meta.url));
    const real = loadSeries([FIXTURES]).series[0]!;
    const candles = real.candles.slice(0, 1800);
    const calls: number[] = [];
    // A venue like MEXC: klines from `since`, at most `limit`, the last one possibly still forming.
    const venue = {
      fetchKlines: (_s: SymbolId, _i: '1m', since?: number, limit?: number): Promise<Candle[]> => {
        calls.push(since ?? -1);
        return Promise.resolve(candles.filter((c) => c.openTime >= (since ?? 0)).slice(0, limit ?? 1000));
      },
    };
    const last = candles[candles.length - 1]!;
    const now = last.openTime + 30_000; // the last candle is still forming
    const a = new CandleArchive(new LocalFolderStore(tmp()));
    const sym = 'PEPEUSDT' as SymbolId;
    const r = await backfillFromVenue(a, venue, sym, { from: candles[0]!.openTime, now, pageSize: 500 });
    expect(r.candlesAdded).toBe(candles.length - 1);
    expect(r.skippedOpen).toBe(1);
    expect(calls[1]).toBe(candles[499]!.openTime + 60_000);
    expect(await a.read(sym, candles[0]!.openTime, now)).toEqual(candles.slice(0, -1));
    const again = await backfillFromVenue(a, venue, sym, { from: candles[0]!.openTime, now, pageSize: 500 });
    expect(again.candlesAdded).toBe(0);
    expect(again.daysWritten).toBe(0);
  });
});
