/**
 * One-time codes for `/resume` (the deliberate start): HOTP (RFC 4226) and TOTP (RFC 6238) with
 * node:crypto's HMAC, and the base32 (RFC 4648) secrets authenticator apps use. Time is passed in.
 *
 * verifyTotp accepts the current step and `window` steps either side (clock drift between the
 * phone and the server) and returns the step that matched, so the caller can refuse a code used
 * before (RFC 6238 section 5.2: a code must be accepted once).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  /** Seconds per step (X in RFC 6238; default 30). */
  readonly stepSeconds?: number;
  /** Digits of a code (default 6). */
  readonly digits?: number;
  /** The HMAC (default sha1, what authenticator apps use). */
  readonly algorithm?: TotpAlgorithm;
  /** T0, the Unix time the steps count from (default 0). */
  readonly t0Seconds?: number;
}

/** A secret that is not valid base32. */
export class TotpSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TotpSecretError';
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decodes base32 (RFC 4648; case, spaces and '=' padding ignored); throws TotpSecretError. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  if (clean.length === 0) throw new TotpSecretError('the TOTP secret is empty');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new TotpSecretError('the TOTP secret is not base32 (letters A-Z and digits 2-7)');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** Encodes bytes as base32 without padding (for showing a generated secret). */
export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** HOTP (RFC 4226 section 5.3): HMAC of the 8-byte big-endian counter, dynamic truncation, `digits` digits. */
export function hotp(key: Uint8Array, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`counter must be a non-negative safe integer, got ${counter}`);
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new RangeError(`digits must be 6 to 10, got ${digits}`);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The TOTP step of a Unix time in seconds. */
export function totpStep(unixSeconds: number, opts: TotpOptions = {}): number {
  return Math.floor((unixSeconds - (opts.t0Seconds ?? 0)) / (opts.stepSeconds ?? 30));
}

/** The TOTP code at `unixSeconds`. */
export function totp(key: Uint8Array, unixSeconds: number, opts: TotpOptions = {}): string {
  return hotp(key, totpStep(unixSeconds, opts), opts.digits ?? 6, opts.algorithm ?? 'sha1');
}

/**
 * Checks `code` against the steps around `unixSeconds` (±window, default 1) in constant time per
 * step; the step that matched, or undefined. A code of the wrong shape never matches.
 */
export function verifyTotp(key: Uint8Array, code: string, unixSeconds: number, opts: TotpOptions & { window?: number } = {}): number | undefined {
  const digits = opts.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return undefined;
  const step = totpStep(unixSeconds, opts);
  const window = opts.window ?? 1;
  let matched: number | undefined;
  // Every candidate is compared (no early exit), so the time taken says nothing about which matched.
  for (let s = step - window; s <= step + window; s++) {
    if (s < 0) continue;
    const expected = Buffer.from(hotp(key, s, digits, opts.algorithm ?? 'sha1'));
    if (timingSafeEqual(expected, Buffer.from(code)) && matched === undefined) matched = s;
  }
  return matched;
}
