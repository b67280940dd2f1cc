/**
 * Candle files (services/candles/candleCsv.ts, the streaming CandleCsvParser): CSV text built from
 * real-looking rows, broken rows and garbage, with and without a header, BOM, CRLF, blank lines,
 * fed in random chunks. Rules: nothing but a DataValidationError is thrown; the same text gives
 * the same result whatever the chunking; what is accepted is a valid series (strictly increasing
 * open times, low <= open, close <= high, finite prices > 0, volume >= 0).
 */
import fc from 'fast-check';
import { CandleCsvParser } from '../../services/candles/candleCsv.js';
import { DataValidationError } from '../../services/core/errors.js';
import type { Candle } from '../../services/core/types.js';
import { FuzzInvariantError, fuzz, nastyString, type FuzzOptions, type FuzzResult, type Tally } from './common.js';

const T0 = Date.UTC(2024, 0, 1);

/** One row: mostly valid candles a minute apart, some broken in one field, some garbage. */
const row = (i: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ o: fc.double({ min: 0.5, max: 2, noNaN: true }), up: fc.double({ min: 0, max: 0.1, noNaN: true }), dn: fc.double({ min: 0, max: 0.1, noNaN: true }), c: fc.double({ min: 0.5, max: 2, noNaN: true }), v: fc.double({ min: 0, max: 1e6, noNaN: true }), jitter: fc.integer({ min: -2, max: 2 }) }).map(({ o, up, dn, c, v, jitter }) => `${T0 + (i + jitter) * 60_000},${o},${Math.max(o, c) + up},${Math.max(1e-9, Math.min(o, c) - dn)},${c},${v}`) },
    { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 5 }), nastyString).map(([k, bad]) => { const f = [String(T0 + i * 60_000), '1', '1.1', '0.9', '1', '10']; f[k] = bad; return f.join(','); }) },
    { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 8 }).map((f) => f.join(',')) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '1970-01-01T00:00:00Z,1,1,1,1,1', '2090-01-01T00:00:00Z,1,2,0.5,1,1', `${T0 + i * 60_000},1e308,1e308,1e308,1e308,1`, `${T0 + i * 60_000 / 1000},1,1,1,1,1`) },
  );

const text: fc.Arbitrary<{ text: string; cuts: number[]; repair: boolean }> = fc
  .record({
    header: fc.constantFrom('', 'open_time,open,high,low,close,volume', 'timestamp,open,high,low,close,volume,trades', 'time,close,open,low,high,volume', 'open_time,open,high,low,close', 'garbage header'),
    bom: fc.boolean(),
    eol: fc.constantFrom('\n', '\r\n'),
    n: fc.integer({ min: 0, max: 40 }),
    repair: fc.boolean(),
  })
  .chain(({ header, bom, eol, n, repair }) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => row(i))).chain((rows) => {
      const body = (bom ? '\ufeff' : '') + [...(header ? [header] : []), ...rows].join(eol) + (rows.length % 2 ? eol : '');
      return fc.array(fc.integer({ min: 0, max: Math.max(0, body.length) }), { maxLength: 6 }).map((cuts) => ({ text: body, cuts: [...new Set(cuts)].sort((a, b) => a - b), repair }));
    }),
  );

type Outcome = { ok: true; candles: readonly Candle[]; dropped: Readonly<Record<string, number>> } | { ok: false; error: string };

function parse(t: string, cuts: readonly number[], repair: boolean): Outcome {
  const p = new CandleCsvParser({ source: 'fuzz.csv', repair });
  try {
    let at = 0;
    for (const c of [...cuts, t.length]) {
      p.push(t.slice(at, c));
      at = c;
    }
    const r = p.end();
    return { ok: true, candles: r.candles, dropped: { ...r.report.dropped, duplicates: r.report.duplicates } };
  } catch (e) {
    if (e instanceof DataValidationError) return { ok: false, error: e.message };
    throw new FuzzInvariantError(`not a DataValidationError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

function check(input: { text: string; cuts: number[]; repair: boolean }, tally: Tally): void {
  const chunked = parse(input.text, input.cuts, input.repair);
  const whole = parse(input.text, [], input.repair);
  if (JSON.stringify(chunked) !== JSON.stringify(whole)) throw new FuzzInvariantError('the chunked parse differs from the whole-text parse');
  if (!whole.ok) {
    tally.count('rejected:DataValidationError');
    return;
  }
  let prev = -Infinity;
  for (const c of whole.candles) {
    const fin = [c.open, c.high, c.low, c.close, c.volume].every(Number.isFinite);
    if (!fin || !(c.openTime > prev) || c.low <= 0 || c.low > Math.min(c.open, c.close) || c.high < Math.max(c.open, c.close) || c.volume < 0) throw new FuzzInvariantError(`accepted an invalid candle ${JSON.stringify(c)}`);
    prev = c.openTime;
  }
  tally.count('accepted');
  // Rows a repair run dropped, by the parser's reason.
  for (const [why, n] of Object.entries(whole.dropped)) if (n > 0) tally.count(`row dropped:${why}`, n);
}

export function fuzzCandleFiles(opts: FuzzOptions): Promise<FuzzResult> {
  return fuzz('candle files (CandleCsvParser)', text, check, opts);
}
