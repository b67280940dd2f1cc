/**
 * Parsing a signal from whatever a sender posts: a JSON object with a symbol (`BTCUSDT` or
 * `BTC/USDT`, any case), a side, and optionally confidence, notional, take-profit, stop-loss,
 * price, time, id and source. Charting tools fill their alert templates with strings, so numbers
 * may arrive as numeric strings ("0.8"); anything else of the wrong type or range is MALFORMED.
 * Unknown keys are ignored (senders add their own), but a key we know with a bad value is not.
 *
 * Never throws: the answer is the signal or a refusal naming the field.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { symbolId } from '../core/types.js';
import type { Signal, SignalSide } from './types.js';

/** Largest body accepted from any channel (a signal is a few hundred bytes). */
export const MAX_SIGNAL_BYTES = 16 * 1024;

/** A number, or a string that is one ("0.8", " 25 "); NaN, Infinity and empty strings are not. */
const numeric = z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().finite());
const positive = numeric.pipe(z.number().positive());

const SIDES: Readonly<Record<string, SignalSide>> = { buy: 'buy', long: 'buy', sell: 'sell', short: 'short' };

/** Times before 2001 or in seconds rather than ms are taken as seconds (charting tools send both). */
const SECONDS_BELOW = 1e11;

const signalSchema = z.object({
  symbol: z
    .string()
    .trim()
    .min(2)
    .max(40)
    // `BTC/USDT`, `btcusdt`, `MEXC:BTCUSDT` (a charting tool's exchange prefix) all mean BTCUSDT.
    .transform((s) => s.replace(/^[A-Za-z]+:/, '').replace(/[/_-]/g, '').toUpperCase())
    .pipe(z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected a symbol such as BTCUSDT or BTC/USDT')),
  side: z
    .string()
    .trim()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['buy', 'long', 'sell', 'short'], { error: 'expected buy, sell, long or short' })),
  confidence: numeric.pipe(z.number().min(0).max(1)).optional(),
  notional: positive.optional(),
  takeProfit: positive.optional(),
  stopLoss: positive.optional(),
  price: positive.optional(),
  time: numeric.pipe(z.number().positive()).optional(),
  id: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, 'expected printable characters without spaces')
    .optional(),
  source: z
    .string()
    .trim()
    .min(1)
    .max(32)
    .regex(/^[A-Za-z0-9:._-]+$/, 'expected letters, digits and : . _ -')
    .transform((s) => s.toLowerCase())
    .optional(),
});

/** Aliases senders use, mapped to our field names (the first given wins). */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  symbol: ['ticker', 'pair'],
  side: ['action', 'direction'],
  takeProfit: ['tp', 'take_profit'],
  stopLoss: ['sl', 'stop_loss', 'stop'],
  notional: ['notional_usd', 'amount_usd'],
  id: ['signal_id', 'signalId'],
};

export type ParseResult = { readonly ok: true; readonly signal: Signal } | { readonly ok: false; readonly detail: string; readonly id?: string };

/** Parses a JSON body (string) or an already-decoded value; see the file comment. */
export function parseSignal(input: unknown, defaultSource: string): ParseResult {
  let raw: unknown = input;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input, 'utf8') > MAX_SIGNAL_BYTES) return { ok: false, detail: `body is larger than ${MAX_SIGNAL_BYTES} bytes` };
    try {
      raw = JSON.parse(input);
    } catch (e) {
      return { ok: false, detail: `body is not JSON: ${(e as Error).message}` };
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, detail: 'body must be a JSON object' };
  const obj = { ...(raw as Record<string, unknown>) };
  for (const [field, names] of Object.entries(ALIASES)) {
    if (obj[field] !== undefined) continue;
    const alias = names.find((n) => obj[n] !== undefined);
    if (alias !== undefined) obj[field] = obj[alias];
  }
  const r = signalSchema.safeParse(obj);
  const rawId = typeof obj.id === 'string' ? obj.id.slice(0, 128) : undefined;
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, detail, ...(rawId ? { id: rawId } : {}) };
  }
  const v = r.data;
  const time = v.time === undefined ? undefined : v.time < SECONDS_BELOW ? Math.round(v.time * 1000) : Math.round(v.time);
  const symbol = symbolId(v.symbol);
  const side = SIDES[v.side] as SignalSide;
  const source = v.source ?? defaultSource;
  if (v.id === undefined && time === undefined) return { ok: false, detail: 'id: a signal needs an id or a time (for de-duplication)' };
  const id = v.id ?? derivedId(source, symbol, side, time as number);
  return {
    ok: true,
    signal: {
      id,
      symbol,
      side,
      source,
      ...(v.confidence !== undefined ? { confidence: v.confidence } : {}),
      ...(v.notional !== undefined ? { notional: v.notional } : {}),
      ...(v.takeProfit !== undefined ? { takeProfit: v.takeProfit } : {}),
      ...(v.stopLoss !== undefined ? { stopLoss: v.stopLoss } : {}),
      ...(v.price !== undefined ? { price: v.price } : {}),
      ...(time !== undefined ? { time } : {}),
    },
  };
}

/** The id of a signal that brings none: the same alert sent twice maps to the same id. */
function derivedId(source: string, symbol: string, side: string, time: number): string {
  return `${source}:${symbol}:${side}:${time}`;
}

/** The trace id of a signal: the same wherever it is seen (the Function URL, the hot path). */
export function signalTraceId(signal: Pick<Signal, 'source' | 'id'>): string {
  return `t${shortHash(`${signal.source}|${signal.id}`)}`;
}

/** A short, stable hash of a text (hex), for trace and intent ids. */
export function shortHash(text: string, chars = 16): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, chars);
}
