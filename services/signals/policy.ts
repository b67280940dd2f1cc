/**
 * The risk policy of external signals, per profile, pure:
 *
 * | profile | stop | take-profit | maximum notional |
 * |---|---|---|---|
 * | conservative | entry - 1.5 x ATR | entry + 2 x risk | 100 USDT |
 * | moderate | entry - 2 x ATR | entry + 2.5 x risk | 250 USDT |
 * | aggressive | entry - 2.5 x ATR | entry + 3 x risk | 500 USDT |
 *
 * where risk = entry - stop and ATR is Wilder's average true range of the symbol's 1m candles. A
 * signal's own stop-loss and take-profit are used when they are sane: on the right side of the
 * entry (stop below, target above: spot is long-only) and within the configured distances; an
 * insane one is ignored with a note and the level derived instead. A derived stop closer than the
 * minimum distance (a dead-quiet market) is widened to it; one farther than the maximum stop is
 * narrowed to it, so a wild ATR cannot put a stop where the risk engine would size a tiny order.
 *
 * The notional: the signal's own (or signals.defaultNotional), capped at the profile's maximum and
 * signals.maxNotional; below signals.minNotional the signal is refused. The risk engine sizes the
 * order afterwards with this notional as a cap (CAPPED_REQUESTED_NOTIONAL), so its per-trade risk
 * budget, exposure and balance caps still bind.
 *
 * Levels are computed with exact decimals (services/core/money.ts) and returned as numbers; the
 * executor rounds them to the market's tick.
 */
import type { RiskProfileName, SignalsConfig } from '../config/schema.js';
import { Dec } from '../core/money.js';
import type { SignalLevels } from './types.js';

/** The per-profile numbers of the signal policy. */
export interface SignalProfile {
  /** Stop distance in ATRs. */
  readonly atrMultiple: number;
  /** Take-profit distance in multiples of the stop distance. */
  readonly rewardRisk: number;
  /** Largest notional (quote) of one signal's entry. */
  readonly maxNotional: number;
}

export const SIGNAL_PROFILES: Readonly<Record<RiskProfileName, SignalProfile>> = {
  conservative: { atrMultiple: 1.5, rewardRisk: 2, maxNotional: 100 },
  moderate: { atrMultiple: 2, rewardRisk: 2.5, maxNotional: 250 },
  aggressive: { atrMultiple: 2.5, rewardRisk: 3, maxNotional: 500 },
};

/** The bounds a level must respect (signals.levels), percent of the entry. */
export type LevelBounds = SignalsConfig['levels'];

export interface LevelInputs {
  /** The price the entry is decided at (the book's ask). */
  readonly entry: number;
  /** ATR of the symbol, undefined before enough candles. */
  readonly atr: number | undefined;
  readonly stopLoss?: number | undefined;
  readonly takeProfit?: number | undefined;
}

export type LevelResult = { readonly ok: true; readonly levels: SignalLevels } | { readonly ok: false; readonly reason: 'NO_ATR'; readonly detail: string };

const HUNDRED = Dec.from(100);

/** Distance of `price` from `entry` in percent of the entry (positive either side). */
function distancePct(entry: Dec, price: Dec): Dec {
  return price.sub(entry).abs().mul(HUNDRED).div(entry);
}

/** The stop and take-profit of a long entry (see the file comment). */
export function deriveLevels(input: LevelInputs, profile: SignalProfile, bounds: LevelBounds): LevelResult {
  const entry = Dec.from(input.entry);
  const minD = Dec.from(bounds.minDistancePct);
  const maxStop = Dec.from(bounds.maxStopPct);
  const maxTp = Dec.from(bounds.maxTakeProfitPct);
  const notes: string[] = [];

  let stop: Dec | undefined;
  let stopSource: SignalLevels['stopSource'] = 'atr';
  if (input.stopLoss !== undefined) {
    const sl = Dec.from(input.stopLoss);
    const d = distancePct(entry, sl);
    if (!sl.lt(entry)) notes.push(`stop-loss ${input.stopLoss} is not below the entry ${input.entry}: derived instead`);
    else if (d.lt(minD)) notes.push(`stop-loss ${input.stopLoss} is ${d.toFixed(3)}% from the entry, closer than ${bounds.minDistancePct}%: derived instead`);
    else if (d.gt(maxStop)) notes.push(`stop-loss ${input.stopLoss} is ${d.toFixed(3)}% from the entry, farther than ${bounds.maxStopPct}%: derived instead`);
    else {
      stop = sl;
      stopSource = 'signal';
    }
  }
  let atrUsed: number | null = null;
  if (stop === undefined) {
    if (input.atr === undefined || !(input.atr > 0)) return { ok: false, reason: 'NO_ATR', detail: `no ATR for the stop yet${notes.length ? ` (${notes.join('; ')})` : ''}` };
    atrUsed = input.atr;
    let distance = Dec.from(input.atr).mul(Dec.from(profile.atrMultiple));
    const lo = entry.mul(minD).div(HUNDRED);
    const hi = entry.mul(maxStop).div(HUNDRED);
    if (distance.lt(lo)) {
      notes.push(`${profile.atrMultiple} x ATR ${input.atr} is closer than ${bounds.minDistancePct}% of the entry: widened to it`);
      distance = lo;
    } else if (distance.gt(hi)) {
      notes.push(`${profile.atrMultiple} x ATR ${input.atr} is farther than ${bounds.maxStopPct}% of the entry: narrowed to it`);
      distance = hi;
    }
    stop = entry.sub(distance);
  }

  const risk = entry.sub(stop);
  let takeProfit: Dec | undefined;
  let takeProfitSource: SignalLevels['takeProfitSource'] = 'reward_risk';
  if (input.takeProfit !== undefined) {
    const tp = Dec.from(input.takeProfit);
    const d = distancePct(entry, tp);
    if (!tp.gt(entry)) notes.push(`take-profit ${input.takeProfit} is not above the entry ${input.entry}: derived instead`);
    else if (d.lt(minD)) notes.push(`take-profit ${input.takeProfit} is ${d.toFixed(3)}% from the entry, closer than ${bounds.minDistancePct}%: derived instead`);
    else if (d.gt(maxTp)) notes.push(`take-profit ${input.takeProfit} is ${d.toFixed(3)}% from the entry, farther than ${bounds.maxTakeProfitPct}%: derived instead`);
    else {
      takeProfit = tp;
      takeProfitSource = 'signal';
    }
  }
  takeProfit ??= entry.add(risk.mul(Dec.from(profile.rewardRisk)));
  return {
    ok: true,
    levels: { entry: input.entry, stop: stop.toNumber(), takeProfit: takeProfit.toNumber(), stopSource, takeProfitSource, atr: atrUsed, notes },
  };
}

export type NotionalResult =
  | { readonly ok: true; readonly notional: number; readonly capped: 'profile' | 'config' | null }
  | { readonly ok: false; readonly reason: 'NOTIONAL_TOO_SMALL'; readonly detail: string };

/** The notional of a signal's entry (see the file comment). */
export function signalNotional(requested: number | undefined, cfg: Pick<SignalsConfig, 'defaultNotional' | 'minNotional' | 'maxNotional'>, profile: SignalProfile): NotionalResult {
  const wanted = requested ?? cfg.defaultNotional;
  let notional = wanted;
  let capped: 'profile' | 'config' | null = null;
  if (notional > profile.maxNotional) {
    notional = profile.maxNotional;
    capped = 'profile';
  }
  if (cfg.maxNotional !== undefined && notional > cfg.maxNotional) {
    notional = cfg.maxNotional;
    capped = 'config';
  }
  if (notional < cfg.minNotional) return { ok: false, reason: 'NOTIONAL_TOO_SMALL', detail: `notional ${wanted} is below the minimum ${cfg.minNotional} (signals.minNotional)` };
  return { ok: true, notional, capped };
}
