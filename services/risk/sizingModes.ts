/**
 * Sizing modes beside fixed risk (risk.sizing.mode). Each mode decides how much of the equity an
 * entry risks; the profile's riskPerTradePct is the most any mode risks, and the notional caps of
 * sizing.ts (maxPositionPct, maxNotional, exposure, free balance) apply afterwards as with fixed
 * risk. Modes, with R = a trade's net PnL / its initial risk:
 *
 * - kelly: from the R multiples of the last `kellyWindow` closed trades, W = wins / trades and
 *   B = mean winning R / mean losing |R|; the Kelly bet f* = W - (1 - W) / B is the fraction of
 *   equity to risk on a bet that loses 1 R or wins B R. Risk = kellyFraction x f* x 100 percent,
 *   kept within [minRiskPct, riskPerTradePct]; with fewer than `kellyMinTrades` trades in the
 *   history (or no win, or no loss), minRiskPct. The floor keeps a strategy whose edge vanished
 *   trading small, so its history can recover; a history of one run only (not persisted).
 * - vol_target: the notional whose expected daily move is volTargetPct of equity: notional =
 *   equity x volTargetPct / sigma_day, where sigma_day is the standard deviation of the symbol's
 *   1m close-to-close returns over the last `volWindowMinutes` closes x sqrt(1440), in percent. The
 *   risk of that notional is then capped at riskPerTradePct. Until the window is full, fixed risk.
 * - confidence: risk = riskPerTradePct x (c - confidenceFloor) / (1 - confidenceFloor) for the
 *   entry's confidence c, at least minRiskPct; refused (SIZING_REFUSED) without a confidence or at
 *   c <= confidenceFloor.
 *
 * Floats are used for the statistics (they are estimates); the resulting percent becomes a Dec
 * once per entry. Nothing here runs per candle unless the mode is vol_target.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { SizingConfig } from '../config/schema.js';
import type { EntryProposal, RiskEngineConfig } from './types.js';

const MINUTES_PER_DAY = 1440;

/** What a mode gives an entry: the percent of equity to risk, and for vol_target the notional. */
export type SizingChoice =
  | { readonly kind: 'size'; readonly riskPct: Dec; readonly notional?: (equity: Dec) => Dec; readonly note: string }
  | { readonly kind: 'refuse'; readonly detail: string };

/** Rolling standard deviation of 1m returns of one symbol: a ring of returns, running sums rebuilt once per window. */
class ReturnWindow {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  private sum = 0;
  private sumSq = 0;
  private last = Number.NaN;

  constructor(private readonly size: number) {
    this.ring = new Float64Array(size);
  }

  push(price: number): void {
    const prev = this.last;
    this.last = price;
    if (!(prev > 0) || !(price > 0)) return;
    const r = price / prev - 1;
    const ring = this.ring;
    if (this.count === this.size) {
      const old = ring[this.head] as number;
      this.sum -= old;
      this.sumSq -= old * old;
    } else this.count++;
    ring[this.head] = r;
    this.sum += r;
    this.sumSq += r * r;
    if (++this.head === this.size) {
      this.head = 0;
      let s = 0;
      let q = 0;
      for (let i = 0; i < this.count; i++) {
        const x = ring[i] as number;
        s += x;
        q += x * x;
      }
      this.sum = s;
      this.sumSq = q;
    }
  }

  /** Sample standard deviation of the window's returns, or null until the window is full. */
  stdev(): number | null {
    const n = this.count;
    if (n < this.size || n < 2) return null;
    const v = (this.sumSq - (this.sum * this.sum) / n) / (n - 1);
    return Math.sqrt(Math.max(0, v));
  }
}

/** The state a sizing mode needs (trade history, volatility windows); one per risk engine. */
export class SizingPolicy {
  private readonly s: SizingConfig;
  private readonly maxPct: number;
  /** Kelly: R multiples of the last kellyWindow trades. */
  private readonly rs: Float64Array;
  private rHead = 0;
  private rCount = 0;
  private readonly vols = new Map<SymbolId, ReturnWindow>();

  constructor(config: RiskEngineConfig) {
    this.s = config.risk.sizing;
    this.maxPct = config.riskProfile.riskPerTradePct;
    this.rs = new Float64Array(this.s.mode === 'kelly' ? this.s.kellyWindow : 0);
  }

  get mode(): SizingConfig['mode'] {
    return this.s.mode;
  }

  /** A 1m close of a symbol (only vol_target keeps anything). */
  onPrice(symbol: SymbolId, price: number): void {
    if (this.s.mode !== 'vol_target') return;
    let w = this.vols.get(symbol);
    if (!w) this.vols.set(symbol, (w = new ReturnWindow(this.s.volWindowMinutes)));
    w.push(price);
  }

  /** A closed trade's R multiple (only kelly keeps it; a trade without one is left out). */
  onTradeClosed(r: number | null | undefined): void {
    if (this.s.mode !== 'kelly' || r === null || r === undefined || !Number.isFinite(r)) return;
    this.rs[this.rHead] = r;
    this.rHead = (this.rHead + 1) % this.rs.length;
    if (this.rCount < this.rs.length) this.rCount++;
  }

  /** The Kelly bet f* of the history, or null when it cannot be estimated yet. */
  kellyBet(): number | null {
    if (this.rCount < this.s.kellyMinTrades) return null;
    let wins = 0;
    let winSum = 0;
    let losses = 0;
    let lossSum = 0;
    for (let i = 0; i < this.rCount; i++) {
      const r = this.rs[i] as number;
      if (r > 0) {
        wins++;
        winSum += r;
      } else if (r < 0) {
        losses++;
        lossSum -= r;
      }
    }
    if (wins === 0 || losses === 0) return null;
    const w = wins / this.rCount;
    const b = winSum / wins / (lossSum / losses);
    return w - (1 - w) / b;
  }

  /** How the entry is sized (see the file comment). */
  choose(proposal: EntryProposal): SizingChoice {
    const s = this.s;
    const clamp = (pct: number): number => Math.min(this.maxPct, Math.max(s.minRiskPct, pct));
    switch (s.mode) {
      case 'fixed_risk':
        return { kind: 'size', riskPct: Dec.from(this.maxPct), note: 'fixed risk' };
      case 'kelly': {
        const f = this.kellyBet();
        if (f === null) return { kind: 'size', riskPct: Dec.from(s.minRiskPct), note: `kelly: ${this.rCount} trades of history, the floor` };
        const pct = clamp(s.kellyFraction * f * 100);
        return { kind: 'size', riskPct: Dec.from(round6(pct)), note: `kelly f* ${f.toFixed(4)}` };
      }
      case 'vol_target': {
        const sd = this.vols.get(proposal.symbol)?.stdev() ?? null;
        if (sd === null || !(sd > 0)) return { kind: 'size', riskPct: Dec.from(this.maxPct), note: 'vol target: window not full, fixed risk' };
        const dayPct = sd * Math.sqrt(MINUTES_PER_DAY) * 100;
        const ratio = Dec.from(round6(s.volTargetPct / dayPct));
        return { kind: 'size', riskPct: Dec.from(this.maxPct), notional: (equity) => equity.mul(ratio), note: `vol target: daily sigma ${dayPct.toFixed(3)}%` };
      }
      case 'confidence': {
        const c = proposal.confidence;
        if (c === undefined || !Number.isFinite(c)) return { kind: 'refuse', detail: 'sizing by confidence: the entry carries no confidence (no model or strategy gave one)' };
        if (c <= s.confidenceFloor) return { kind: 'refuse', detail: `sizing by confidence: ${c.toFixed(3)} is at or below confidenceFloor ${s.confidenceFloor}` };
        const pct = clamp((this.maxPct * (Math.min(1, c) - s.confidenceFloor)) / (1 - s.confidenceFloor));
        return { kind: 'size', riskPct: Dec.from(round6(pct)), note: `confidence ${c.toFixed(3)}` };
      }
    }
  }
}

/** Six decimals: a percent finer than that means nothing, and it keeps Dec.from on its fast path. */
function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
