/**
 * Exact decimal arithmetic for booked money (balances, fees, PnL, quantities of filled orders).
 *
 * A `Dec` is an integer count of 10^-18 units held in a bigint, so addition and subtraction are
 * exact and sums over any number of trades never drift. Multiplication and division round half to
 * even at the 18th decimal, which is far below any exchange's precision (MEXC's finest is 10^-10
 * for prices and 10^-8 for quantities) and is deterministic.
 */

export const DEC_SCALE = 18;
const ONE_RAW = 10n ** BigInt(DEC_SCALE);

/** Division of bigints with round half to even. */
function divRound(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new RangeError('division by zero');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  const sign = n < 0n ? -1n : 1n;
  if (twice > d || (twice === d && (q & 1n) !== 0n)) return q + sign;
  return q;
}

/** Largest decimal exponent `Dec.from` accepts (see there). */
const MAX_EXPONENT = 1000;
/** 10^0 .. 10^18 as bigints. */
const POW10: readonly bigint[] = Array.from({ length: 19 }, (_, i) => 10n ** BigInt(i));
const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export class Dec {
  static readonly ZERO = new Dec(0n);
  static readonly ONE = new Dec(ONE_RAW);

  /** `raw` is the value times 10^18. Prefer the static constructors. */
  private constructor(readonly raw: bigint) {}

  /** Builds from raw 10^-18 units. */
  static fromRaw(raw: bigint): Dec {
    return new Dec(raw);
  }

  /**
   * Parses a decimal string ("12.5", "-0.001", "1e-7"). Digits beyond 18 decimals round half to even.
   * Throws a RangeError for anything that is not a finite decimal number.
   */
  static from(value: string | number | bigint | Dec): Dec {
    if (value instanceof Dec) return value;
    if (typeof value === 'bigint') return new Dec(value * ONE_RAW);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
      // String(n) is the shortest decimal that round-trips to n, i.e. the number as a human wrote it.
      const str = String(value);
      // Fast path for the common plain form ("12.5", "-0.001"): no regex, one power of ten from a table.
      if (str.indexOf('e') < 0) {
        const neg = str.charCodeAt(0) === 45;
        const body = neg ? str.slice(1) : str;
        const dot = body.indexOf('.');
        const frac = dot < 0 ? 0 : body.length - dot - 1;
        if (frac <= DEC_SCALE) {
          const digits = BigInt(dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1));
          const raw = digits * (POW10[DEC_SCALE - frac] as bigint);
          return new Dec(neg ? -raw : raw);
        }
      }
      return Dec.from(str);
    }
    const m = DECIMAL_RE.exec(value.trim());
    if (!m) throw new RangeError(`not a decimal number: "${value}"`);
    const [, sign, intPart = '0', fracPart = '', expPart] = m;
    const exp = expPart ? Number(expPart) : 0;
    // Bound the exponent: "1e-999999999" would otherwise build a 10^999999999 bigint and hang the
    // process. No price, quantity or balance is anywhere near 10^±1000 (a double ends at 10^±324).
    if (!(Math.abs(exp) <= MAX_EXPONENT)) throw new RangeError(`exponent out of range in "${value}" (expected at most ${MAX_EXPONENT} in magnitude)`);
    const digits = BigInt(intPart + fracPart);
    // value = digits * 10^(exp - fracLen); we want value * 10^18.
    const shift = exp - fracPart.length + DEC_SCALE;
    let raw: bigint;
    if (shift >= 0) raw = digits * 10n ** BigInt(shift);
    else raw = divRound(digits, 10n ** BigInt(-shift));
    if (sign === '-') raw = -raw;
    return new Dec(raw);
  }

  add(o: Dec): Dec {
    return new Dec(this.raw + o.raw);
  }
  sub(o: Dec): Dec {
    return new Dec(this.raw - o.raw);
  }
  mul(o: Dec): Dec {
    return new Dec(divRound(this.raw * o.raw, ONE_RAW));
  }
  div(o: Dec): Dec {
    if (o.raw === 0n) throw new RangeError('division by zero');
    return new Dec(divRound(this.raw * ONE_RAW, o.raw));
  }
  neg(): Dec {
    return new Dec(-this.raw);
  }
  abs(): Dec {
    return this.raw < 0n ? new Dec(-this.raw) : this;
  }
  cmp(o: Dec): -1 | 0 | 1 {
    return this.raw < o.raw ? -1 : this.raw > o.raw ? 1 : 0;
  }
  eq(o: Dec): boolean {
    return this.raw === o.raw;
  }
  lt(o: Dec): boolean {
    return this.raw < o.raw;
  }
  lte(o: Dec): boolean {
    return this.raw <= o.raw;
  }
  gt(o: Dec): boolean {
    return this.raw > o.raw;
  }
  gte(o: Dec): boolean {
    return this.raw >= o.raw;
  }
  isZero(): boolean {
    return this.raw === 0n;
  }
  isNegative(): boolean {
    return this.raw < 0n;
  }
  isPositive(): boolean {
    return this.raw > 0n;
  }
  static min(a: Dec, b: Dec): Dec {
    return a.raw <= b.raw ? a : b;
  }
  static max(a: Dec, b: Dec): Dec {
    return a.raw >= b.raw ? a : b;
  }
  static sum(values: Iterable<Dec>): Dec {
    let raw = 0n;
    for (const v of values) raw += v.raw;
    return new Dec(raw);
  }

  /**
   * Rounds down (towards zero) to a multiple of `step` (an exchange's tick or lot size).
   * Used for order quantities, which must never exceed what was intended.
   */
  floorTo(step: Dec): Dec {
    if (step.raw <= 0n) throw new RangeError('step must be positive');
    return new Dec((this.raw / step.raw) * step.raw);
  }
  /** Rounds to the nearest multiple of `step` (half away from zero). Used for prices. */
  roundTo(step: Dec): Dec {
    if (step.raw <= 0n) throw new RangeError('step must be positive');
    const q = this.raw / step.raw;
    const r = this.raw % step.raw;
    const twice = (r < 0n ? -r : r) * 2n;
    const adj = twice >= step.raw ? (this.raw < 0n ? -1n : 1n) : 0n;
    return new Dec((q + adj) * step.raw);
  }
  /** Rounds up (away from zero for positives) to a multiple of `step`. */
  ceilTo(step: Dec): Dec {
    if (step.raw <= 0n) throw new RangeError('step must be positive');
    const q = this.raw / step.raw;
    const r = this.raw % step.raw;
    return new Dec((q + (r > 0n ? 1n : 0n)) * step.raw);
  }

  /** Nearest float; for indicators, charts and ratios, never for booking. */
  toNumber(): number {
    // Through a decimal string, so the float is exactly the one a parser would give for the same
    // decimal (590.33 stays 590.33): prices converted here are compared with candle prices. The
    // scientific form "59033e-2" is that decimal, without building the fixed-point string.
    return Number(`${this.raw}e-${DEC_SCALE}`);
  }

  /** Plain decimal string without trailing zeros, e.g. "-12.5". */
  toString(): string {
    const neg = this.raw < 0n;
    const abs = neg ? -this.raw : this.raw;
    const int = abs / ONE_RAW;
    const frac = (abs % ONE_RAW).toString().padStart(DEC_SCALE, '0').replace(/0+$/, '');
    return `${neg ? '-' : ''}${int}${frac ? '.' + frac : ''}`;
  }

  /** Fixed number of decimals (rounded half to even), for display. */
  toFixed(decimals: number): string {
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > DEC_SCALE) throw new RangeError('decimals out of range');
    const unit = 10n ** BigInt(DEC_SCALE - decimals);
    const scaled = divRound(this.raw, unit);
    const neg = scaled < 0n;
    const abs = neg ? -scaled : scaled;
    const p = 10n ** BigInt(decimals);
    const int = abs / p;
    const frac = decimals > 0 ? '.' + (abs % p).toString().padStart(decimals, '0') : '';
    return `${neg && scaled !== 0n ? '-' : ''}${int}${frac}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Shorthand for `Dec.from`. */
export const dec = (v: string | number | bigint | Dec): Dec => Dec.from(v);
