/**
 * Reading a MEXC REST request: the bounded body, the query and body parameters, strict number
 * formats, and the `{"code","msg"}` failures MEXC answers with (PROTOCOL.md §1).
 *
 * Numbers are read strictly, as MEXC documents them: integers (timestamps, recvWindow, limits) as
 * plain decimal digits, decimals (price, quantity) as plain decimals. `Number()` alone would take
 * `0xEA60`, `1.7e12` or ` 5 ` and the simulator would accept what the exchange refuses.
 */
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../core/money.js';
import type { OrderRef } from '../../sim/types.js';

/** A REST failure with MEXC's body. */
export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** MEXC's "param error" for a missing or malformed parameter (700004). */
export const param = (name: string): RestError => new RestError(400, 700004, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);

/** MEXC's "amount decimal places is too long" (10096), as the matching engine uses it for precision. */
export const precision = (name: string, detail: string): RestError => new RestError(400, 10096, `${name}: too many decimal places (${detail})`);

/** Largest request body read; a larger one is answered 413. */
export const MAX_BODY_BYTES = 1 << 20;
/** Request target (path and query) longer than this is answered 414; MEXC's own limits are lower still. */
export const MAX_URL_BYTES = 8 << 10;
/**
 * After a 413 the rest of the body is read and thrown away, so the client reads the answer instead
 * of a connection reset; past this much the connection is cut.
 */
const MAX_DISCARD_BYTES = 16 << 20;

const INT_RE = /^-?\d{1,16}$/;
const UINT_RE = /^\d{1,16}$/;
const DECIMAL_RE = /^\d{1,30}(\.\d{1,40})?$/;
/** Dec keeps 18 decimals; a longer literal would be rounded, so it is refused instead. */
const MAX_DECIMALS = 18;

/** An optional integer parameter; 700004 when it is not plain digits (with an optional minus). */
export function intParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!INT_RE.test(v)) throw param(name);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw param(name);
  return n;
}

/** A non-negative integer written as plain digits (timestamp, recvWindow); undefined when malformed. */
export function strictUint(v: string | undefined): number | undefined {
  if (v === undefined || !UINT_RE.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Decimal places of a plain decimal literal, trailing zeros not counted ("0.0100" → 2). */
export function decimalPlaces(literal: string): number {
  const i = literal.indexOf('.');
  if (i < 0) return 0;
  return literal.slice(i + 1).replace(/0+$/, '').length;
}

/**
 * An optional decimal parameter: 700004 unless a plain non-negative decimal ("0.001", never
 * "1e-3", "+1", " 1"), 10096 when it has more decimal places than `maxDecimals` (at most 18).
 */
export function decimalParam(v: string | undefined, name: string, maxDecimals = MAX_DECIMALS): Dec | undefined {
  if (v === undefined) return undefined;
  if (!DECIMAL_RE.test(v)) throw param(name);
  const places = decimalPlaces(v);
  const max = Math.min(maxDecimals, MAX_DECIMALS);
  if (places > max) throw precision(name, `${places} given, at most ${max}`);
  return Dec.from(v);
}

/** The order a cancel or lookup means: `orderId`, else `origClientOrderId`. */
export function orderRef(get: (k: string) => string | undefined): OrderRef {
  const id = get('orderId');
  if (id) return { exchangeOrderId: id };
  const cid = get('origClientOrderId');
  if (cid) return { clientOrderId: cid };
  throw param('orderId');
}

/** Query-string and body parameters; a key in both takes the query's value (MEXC's rule). */
export function parseParams(rawQuery: string, rawBody: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = rawBody.trim();
  if (body.startsWith('{')) {
    try {
      const obj = JSON.parse(body) as unknown;
      if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) {
        for (const [k, v] of Object.entries(obj)) {
          if (v === null || v === undefined) continue;
          out.set(k, typeof v === 'string' ? v : JSON.stringify(v));
        }
      }
    } catch {
      // Not JSON after all: nothing to take from it.
    }
  } else if (body) {
    for (const [k, v] of new URLSearchParams(body)) out.set(k, v);
  }
  for (const [k, v] of new URLSearchParams(rawQuery)) out.set(k, v);
  return out;
}

/** A request body, or `tooLarge` when it passed MAX_BODY_BYTES (the rest is then discarded, bounded). */
export type BodyResult = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly reason: 'tooLarge' | 'aborted' };

/**
 * Reads the body up to MAX_BODY_BYTES. A declared or actual larger body resolves `tooLarge` at once
 * (so the caller answers 413 while the client is still sending) and the remainder is read and
 * dropped, up to MAX_DISCARD_BYTES, so the client gets the answer rather than a reset.
 */
export function readBody(req: IncomingMessage): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) finish({ ok: false, reason: 'tooLarge' });
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0;
        finish({ ok: false, reason: 'tooLarge' });
        if (size > MAX_BODY_BYTES + MAX_DISCARD_BYTES) req.destroy();
        return;
      }
      if (!done) chunks.push(c);
    });
    req.on('end', () => finish({ ok: true, body: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', () => finish({ ok: false, reason: 'aborted' }));
    req.on('close', () => finish({ ok: false, reason: 'aborted' }));
  });
}
